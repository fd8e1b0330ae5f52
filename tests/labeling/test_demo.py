import pytest
from django.apps import apps
from django.core.management import call_command

from labeling.models import Category, Content, Dataset, Example
from labeling.services.demo import demo_rows, demo_specs, unlabelled_row
from labeling.services.queue import QueueChoice, queue_contents
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_app_config("labeling").get_models()}


def test_load_demo_builds_both_datasets_from_the_committed_files():
    admin = UserFactory(username="admin")
    call_command("load_demo", user="admin")

    for spec in demo_specs():
        rows = list(demo_rows(spec["file"]))
        dataset = Dataset.objects.get(name=spec["dataset"])
        examples = Example.objects.filter(dataset=dataset)
        assert examples.count() == len(rows)
        larges = Category.objects.filter(taxonomy=dataset.taxonomy, level=1)
        assert larges.count() == len(spec["categories"])
        expected_small = {child["name"] for large in spec["categories"] for child in large["children"]}
        assert set(examples.values_list("category__name", flat=True)) == expected_small
        sample = rows[len(rows) // 2]
        example = examples.select_related("content", "category").get(
            content__external_id=sample["external_id"]
        )
        assert (example.category.name, example.content.title) == (sample["category"], sample["title"])
        assert example.history.get().history_user == admin
        (version,) = dataset.versions.all()
        assert (version.number, version.example_count) == (1, len(rows))

    newsgroups = Dataset.objects.get(name="newsgroups")
    pool = [unlabelled_row(row) for row in demo_rows("newsgroups-unlabelled.jsonl.gz")]
    waiting = queue_contents(newsgroups, QueueChoice("unlabelled"), admin)
    assert sorted(waiting.values_list("external_id", flat=True)) == sorted(r["external_id"] for r in pool)
    # Nothing an annotator sees of a waiting post names its group: the queue would give the label away.
    groups = {
        child["name"] for spec in demo_specs() for large in spec["categories"] for child in large["children"]
    }
    shown = [f"{c.external_id} {c.source}" for c in waiting]
    assert len(shown) == len(pool) and not [text for text in shown if any(g in text for g in groups)]

    petitions = Dataset.objects.get(name="petitions")
    assert not queue_contents(petitions, QueueChoice("unlabelled"), admin).exists()
    assert Category.objects.filter(taxonomy=petitions.taxonomy, level=2).count() == 17
    assert Example.objects.filter(dataset=petitions, category__name="육아/교육").exists()


def test_load_demo_twice_changes_nothing():
    call_command("load_demo")
    before = row_counts()
    assert before["labeling.HistoricalExample"] == before["labeling.Example"] > 0
    call_command("load_demo")
    assert row_counts() == before
    assert before["labeling.DatasetVersion"] == 2
    assert Content.objects.count() == before["labeling.Content"]
