import pytest
from django.db.models import Count
from django.urls import reverse

from core import roles
from labeling.models import Example
from tests.factories import (
    DatasetFactory,
    ExampleFactory,
    LargeCategoryFactory,
    SmallCategoryFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset_with_examples():
    dataset = DatasetFactory(min_examples_per_category=3)
    large = LargeCategoryFactory(taxonomy=dataset.taxonomy, name="사회")
    full, thin, empty = (
        SmallCategoryFactory(parent=large, name=n) for n in ("육아/교육", "반려동물", "미래")
    )
    ExampleFactory.create_batch(4, dataset=dataset, category=full)
    ExampleFactory(dataset=dataset, category=full, status=Example.Status.EXCLUDED)
    ExampleFactory.create_batch(2, dataset=dataset, category=thin, status=Example.Status.NEEDS_REVIEW)
    other = DatasetFactory(taxonomy=dataset.taxonomy)
    ExampleFactory.create_batch(5, dataset=other, category=full)
    return dataset


def test_dashboard_counts_match_the_database(client, dataset_with_examples):
    dataset = dataset_with_examples
    client.force_login(user_with_role(roles.ANNOTATOR))
    response = client.get(reverse("labeling:dataset", args=[dataset.id]))
    assert response.status_code == 200

    expected = dict(
        Example.objects.filter(dataset=dataset)
        .exclude(status=Example.Status.EXCLUDED)
        .values_list("category__name")
        .annotate(n=Count("id"))
    )
    shown = {row.category.name: row.examples for row in response.context["summary"].small_categories}
    assert shown == {"육아/교육": expected["육아/교육"], "반려동물": expected["반려동물"], "미래": 0}
    below = {row.category.name for row in response.context["summary"].small_categories if row.below_minimum}
    assert below == {"반려동물", "미래"}
    html = response.content.decode()
    assert html.count('class="small below-minimum"') == 2
    assert "2 below minimum" in html


def test_dataset_list_shows_each_dataset_with_its_count(client, dataset_with_examples):
    client.force_login(user_with_role(roles.ANNOTATOR))
    response = client.get(reverse("labeling:dashboard"))
    row = next(d for d in response.context["datasets"] if d.pk == dataset_with_examples.pk)
    assert row.n_examples == 6


def test_anonymous_users_are_sent_to_login(client, dataset_with_examples):
    for url in (reverse("labeling:dashboard"), reverse("labeling:dataset", args=[dataset_with_examples.id])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_untrusted_text_is_escaped(client):
    dataset = DatasetFactory()
    large = LargeCategoryFactory(taxonomy=dataset.taxonomy, guideline="<script>alert(1)</script>")
    SmallCategoryFactory(parent=large, name="<b>bold</b>")
    client.force_login(user_with_role(roles.ANNOTATOR))
    html = client.get(reverse("labeling:dataset", args=[dataset.id])).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html
