"""Reads behind the labeling pages."""

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404

from labeling.models import IN_TRAINING_SET, Category, Dataset, Example


@dataclass
class CategoryCount:
    category: Category
    examples: int
    needs_review: int
    below_minimum: bool


@dataclass
class LargeCategoryCount:
    category: Category
    examples: int = 0
    children: list[CategoryCount] = field(default_factory=list)

    @property
    def below_minimum(self) -> int:
        return sum(child.below_minimum for child in self.children)


@dataclass
class DatasetSummary:
    dataset: Dataset
    large_categories: list[LargeCategoryCount]

    @property
    def small_categories(self) -> list[CategoryCount]:
        return [child for large in self.large_categories for child in large.children]

    @property
    def examples(self) -> int:
        return sum(large.examples for large in self.large_categories)

    @property
    def below_minimum(self) -> int:
        return sum(large.below_minimum for large in self.large_categories)


def dataset_summary(*, dataset: Dataset) -> DatasetSummary:
    """Example counts per small category, grouped by large category, with below-minimum flags.

    Counts are of examples in the training set (active or needing review, not excluded);
    merged and excluded categories are left out unless they still hold examples.
    """
    in_dataset = Q(examples__dataset=dataset)
    small = (
        Category.objects.filter(taxonomy_id=dataset.taxonomy_id, level=Category.Level.SMALL)
        .annotate(
            n_examples=Count("examples", filter=in_dataset & Q(examples__status__in=IN_TRAINING_SET)),
            n_review=Count("examples", filter=in_dataset & Q(examples__status=Example.Status.NEEDS_REVIEW)),
        )
        .order_by("parent__name", "name")
    )
    larges = {
        large.id: LargeCategoryCount(category=large)
        for large in Category.objects.filter(
            taxonomy_id=dataset.taxonomy_id, level=Category.Level.LARGE
        ).order_by("name")
    }
    for category in small:
        if category.status != Category.Status.ACTIVE and not category.n_examples:
            continue
        large = larges[category.parent_id]
        large.examples += category.n_examples
        large.children.append(
            CategoryCount(
                category=category,
                examples=category.n_examples,
                needs_review=category.n_review,
                below_minimum=category.n_examples < dataset.min_examples_per_category,
            )
        )
    return DatasetSummary(dataset=dataset, large_categories=list(larges.values()))


def dataset_or_404(dataset_id: int) -> Dataset:
    """The dataset of a page or API URL, with its taxonomy (404 when there is none by that id)."""
    return get_object_or_404(Dataset.objects.select_related("taxonomy"), pk=dataset_id)


def dataset_list_with_counts():
    return Dataset.objects.select_related("taxonomy").annotate(
        n_examples=Count("examples", filter=Q(examples__status__in=IN_TRAINING_SET))
    )
