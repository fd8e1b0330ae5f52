"""The database refuses what must never happen, even for writes that bypass the services."""

import pytest
from django.db import IntegrityError, transaction

from labeling.models import Category, Example
from tests.factories import (
    ContentFactory,
    DatasetFactory,
    ExampleFactory,
    LargeCategoryFactory,
    SmallCategoryFactory,
    TaxonomyFactory,
)

pytestmark = pytest.mark.django_db


def refused(write, match: str):
    with pytest.raises(IntegrityError, match=match), transaction.atomic():
        write()


def test_example_category_from_another_taxonomy_is_refused():
    dataset = DatasetFactory()
    foreign = SmallCategoryFactory()  # its own taxonomy
    refused(
        lambda: Example.objects.create(dataset=dataset, content=ContentFactory(), category=foreign),
        "small category of its dataset's taxonomy",
    )
    assert not Example.objects.exists()


def test_example_on_a_large_category_is_refused():
    dataset = DatasetFactory()
    large = LargeCategoryFactory(taxonomy=dataset.taxonomy)
    refused(
        lambda: Example.objects.create(dataset=dataset, content=ContentFactory(), category=large),
        "small category",
    )


def test_relabel_into_another_taxonomy_is_refused():
    example = ExampleFactory()
    example.category = SmallCategoryFactory()
    refused(example.save, "small category of its dataset's taxonomy")
    example.refresh_from_db()
    assert example.category.taxonomy_id == example.dataset.taxonomy_id


def test_duplicate_example_is_refused():
    example = ExampleFactory()
    refused(
        lambda: Example.objects.create(
            dataset=example.dataset, content=example.content, category=example.category
        ),
        "one_example_per_content",
    )


def test_third_level_category_is_refused():
    small = SmallCategoryFactory()
    refused(
        lambda: Category.objects.create(
            taxonomy=small.taxonomy, parent=small, level=Category.Level.SMALL, name="too deep"
        ),
        "parent must be a large category",
    )


def test_parent_from_another_taxonomy_is_refused():
    large = LargeCategoryFactory()
    refused(
        lambda: Category.objects.create(
            taxonomy=TaxonomyFactory(), parent=large, level=Category.Level.SMALL, name="x"
        ),
        "same taxonomy",
    )


def test_level_must_match_parent():
    large = LargeCategoryFactory()
    refused(
        lambda: Category.objects.create(taxonomy=large.taxonomy, level=Category.Level.SMALL, name="x"),
        "category_level_matches_parent",
    )
    refused(
        lambda: Category.objects.create(
            taxonomy=large.taxonomy, parent=large, level=Category.Level.LARGE, name="y"
        ),
        "category_level_matches_parent",
    )


def test_large_category_with_children_cannot_become_small():
    small = SmallCategoryFactory()
    other_large = LargeCategoryFactory(taxonomy=small.taxonomy)
    large = small.parent
    large.parent, large.level = other_large, Category.Level.SMALL
    refused(large.save, "must stay a large category")


def test_dataset_with_examples_keeps_its_taxonomy():
    example = ExampleFactory()
    dataset = example.dataset
    dataset.taxonomy = TaxonomyFactory()
    refused(dataset.save, "cannot change its taxonomy")


def test_merge_target_must_be_same_taxonomy_and_level():
    small = SmallCategoryFactory()
    small.status, small.merged_into = Category.Status.MERGED, small.parent
    refused(small.save, "same taxonomy and level")
    small.merged_into = None
    refused(small.save, "category_merged_has_target")


def test_duplicate_small_name_under_one_parent_is_refused():
    small = SmallCategoryFactory()
    refused(lambda: SmallCategoryFactory(parent=small.parent, name=small.name), "small_category_name_unique")
