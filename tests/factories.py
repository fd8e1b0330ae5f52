import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from labeling.models import Category, Content, Dataset, Example, Taxonomy, text_hash


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery staple")


class TaxonomyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Taxonomy

    name = factory.Sequence(lambda n: f"taxonomy {n}")


class LargeCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    taxonomy = factory.SubFactory(TaxonomyFactory)
    level = Category.Level.LARGE
    name = factory.Sequence(lambda n: f"large {n}")


class SmallCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    parent = factory.SubFactory(LargeCategoryFactory)
    taxonomy = factory.SelfAttribute("parent.taxonomy")
    level = Category.Level.SMALL
    name = factory.Sequence(lambda n: f"small {n}")


class ContentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Content

    external_id = factory.Sequence(lambda n: f"content-{n}")
    title = factory.Faker("sentence")
    body = factory.Faker("paragraph")
    text_hash = factory.LazyAttribute(lambda c: text_hash(c.title, c.body))
    modified_at = factory.LazyFunction(timezone.now)


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    name = factory.Sequence(lambda n: f"dataset-{n}")
    taxonomy = factory.SubFactory(TaxonomyFactory)
    min_examples_per_category = 3


class ExampleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Example

    dataset = factory.SubFactory(DatasetFactory)
    content = factory.SubFactory(ContentFactory)
    category = factory.SubFactory(
        SmallCategoryFactory, parent__taxonomy=factory.SelfAttribute("...dataset.taxonomy")
    )


def user_with_role(role: str, **kwargs):
    """A user in the role's group."""
    from django.contrib.auth.models import Group

    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get_or_create(name=role)[0])  # transactional tests flush the groups
    return user
