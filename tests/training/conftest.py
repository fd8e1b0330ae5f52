"""Small real datasets (from the demo's 20 Newsgroups posts) for training tests."""

import pytest
from django.core.cache import cache
from django.utils import timezone

from labeling.models import Category, Content, Dataset, Example, Taxonomy, text_hash
from labeling.services.demo import demo_rows
from training.serving import forget_all

GROUPS = ("rec.autos", "sci.space", "talk.politics.guns")


def newsgroups_posts(groups=GROUPS, per_group: int = 40) -> list[dict]:
    """The first `per_group` demo posts of each group."""
    wanted = {group: [] for group in groups}
    for row in demo_rows("newsgroups.jsonl.gz"):
        bucket = wanted.get(row["category"])
        if bucket is not None and len(bucket) < per_group:
            bucket.append(row)
        if all(len(rows) == per_group for rows in wanted.values()):
            break
    return [row for rows in wanted.values() for row in rows]


def make_dataset(
    name: str = "news", groups=GROUPS, per_group: int = 40, *, important: str | None = None
) -> Dataset:
    taxonomy = Taxonomy.objects.create(name=f"{name} taxonomy")
    dataset = Dataset.objects.create(name=name, taxonomy=taxonomy, min_examples_per_category=10)
    small = {}
    for group in groups:
        large = Category.objects.get_or_create(taxonomy=taxonomy, level=1, name=group.split(".")[0])[0]
        small[group] = Category.objects.create(
            taxonomy=taxonomy, level=2, parent=large, name=group, is_important=group == important
        )
    for row in newsgroups_posts(groups, per_group):
        content = Content.objects.create(
            external_id=f"{name}-{row['external_id']}",
            title=row["title"],
            body=row["body"],
            text_hash=text_hash(row["title"], row["body"]),
            modified_at=timezone.now(),
        )
        Example.objects.create(dataset=dataset, content=content, category=small[row["category"]])
    return dataset


@pytest.fixture
def news(db) -> Dataset:
    return make_dataset()


FAST = {"word_ngrams": "1"}


@pytest.fixture
def fresh_serving():
    """No ensemble loaded and an empty cache (throttle counts) before and after the test."""
    forget_all()
    cache.clear()
    yield
    forget_all()
