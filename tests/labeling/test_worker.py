"""Round trips through the real Celery worker process on Redis, against the test database."""

import pytest
from django.db.models import Count

from labeling.models import Example
from labeling.paths import category_path
from labeling.tasks import dataset_category_counts_task
from tests.factories import DatasetFactory, ExampleFactory, SmallCategoryFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_computes_counts_from_the_committed_database(live_worker):
    dataset = DatasetFactory()
    first, second = SmallCategoryFactory.create_batch(2, parent__taxonomy=dataset.taxonomy)
    ExampleFactory.create_batch(3, dataset=dataset, category=first)
    ExampleFactory(dataset=dataset, category=second)

    result = dataset_category_counts_task.delay(dataset.id)
    counts = result.get(timeout=60)

    expected = {
        category_path(c["category__name"], c["category__parent__name"]): c["n"]
        for c in Example.objects.filter(dataset=dataset)
        .values("category__parent__name", "category__name")
        .annotate(n=Count("id"))
    }
    assert counts == expected == {first.path: 3, second.path: 1}
    assert result.status == "SUCCESS"


def test_dirty_check_task_through_the_worker(live_worker):
    from labeling.services import dataset_commit, example_label
    from labeling.tasks import dataset_changes_since_task

    dataset = DatasetFactory(min_examples_per_category=2)
    first, second = SmallCategoryFactory.create_batch(2, parent__taxonomy=dataset.taxonomy)
    examples = ExampleFactory.create_batch(3, dataset=dataset, category=first)
    dataset_commit(dataset=dataset, user=None, message="v1")
    example_label(dataset=dataset, content=examples[0].content, category=second, user=None)

    answer = dataset_changes_since_task.delay(dataset.id).get(timeout=60)
    assert (answer["since"], answer["changes"], answer["relabelled"], answer["below_minimum"]) == (1, 1, 1, 1)
