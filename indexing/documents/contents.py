"""The contents index: a content with, for every dataset that labels it, the example's category path and
status (the join the seed moved out of SQL)."""

from collections import Counter
from datetime import datetime

from django.db.models import Count

from indexing.documents import TEXT, IndexDefinition
from labeling.models import Category, Content, Example, category_path

BODY_EXCERPT = 2000  # characters of the body the engine keeps; the full text stays in the database

CONTENTS_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "long"},
        "external_id": {"type": "keyword"},
        "title": TEXT,
        "body": TEXT,
        "source": {"type": "keyword"},
        "modified_at": {"type": "date"},
        # per dataset: the example's category and status, for display ...
        "labels": {
            "type": "object",
            "properties": {
                "dataset": {"type": "long"},
                "category": {"type": "long"},
                "large": {"type": "long"},
                "path": {"type": "keyword"},
                "status": {"type": "keyword"},
            },
        },
        # ... and as exact tokens for filters: d<dataset>, d<dataset>:c<small>, d<dataset>:l<large>,
        # d<dataset>:s:<status> (one token each, so dataset + category filters match the same example)
        "tags": {"type": "keyword"},
    },
}


def _labels(content_ids: list[int]) -> dict[int, list[dict]]:
    rows = (
        Example.objects.filter(content_id__in=content_ids)
        .exclude(status=Example.Status.REMOVED)
        .values_list(
            "content_id", "dataset_id", "category_id", "category__name", "category__parent_id", "status"
        )
        .order_by("content_id", "dataset_id")
    )
    large_names = dict(Category.objects.filter(level=Category.Level.LARGE).values_list("id", "name"))
    labels: dict[int, list[dict]] = {}
    for content_id, dataset_id, category_id, name, parent_id, status in rows:
        path = category_path(name, large_names.get(parent_id))
        label = {
            "dataset": dataset_id,
            "category": category_id,
            "large": parent_id,
            "path": path,
            "status": status,
        }
        labels.setdefault(content_id, []).append(label)
    return labels


def label_tags(labels: list[dict]) -> list[str]:
    tags = []
    for label in labels:
        dataset = f"d{label['dataset']}"
        tags += [dataset, f"{dataset}:c{label['category']}", f"{dataset}:s:{label['status']}"]
        if label["large"]:
            tags.append(f"{dataset}:l{label['large']}")
    return tags


def content_document(content: tuple, labels: list[dict]) -> dict:
    pk, external_id, title, body, source, modified_at = content
    return {
        "id": pk,
        "external_id": external_id,
        "title": title,
        "body": body[:BODY_EXCERPT],
        "source": source,
        "modified_at": modified_at.isoformat(),
        "labels": labels,
        "tags": label_tags(labels),
    }


def contents_documents(ids: list[int]) -> dict[int, dict]:
    contents = list(
        Content.objects.filter(id__in=ids)
        .order_by()
        .values_list("id", "external_id", "title", "body", "source", "modified_at")
    )
    labels = _labels([row[0] for row in contents])
    return {row[0]: content_document(row, labels.get(row[0], [])) for row in contents}


def contents_recent(since: datetime) -> list[int]:
    recent = Content.objects.filter(modified_at__gte=since).order_by("-modified_at")
    return list(recent.values_list("id", flat=True)[:50000])


def contents_changed(since: datetime, until: datetime) -> set[int]:
    """Contents whose document may have changed in [since, until): their own row, one of their examples, or
    the category (or large category) of one of their examples."""
    ids = set(
        Content.objects.filter(modified_at__gte=since, modified_at__lt=until).values_list("id", flat=True)
    )
    ids |= set(
        Example.objects.filter(updated_at__gte=since, updated_at__lt=until).values_list(
            "content_id", flat=True
        )
    )
    categories = Category.objects.filter(updated_at__gte=since, updated_at__lt=until).values_list(
        "id", flat=True
    )
    if categories:
        family = Category.objects.filter(id__in=categories) | Category.objects.filter(
            parent_id__in=categories
        )
        ids |= set(
            Example.objects.filter(category_id__in=family.values("id")).values_list("content_id", flat=True)
        )
    return ids


def contents_group_counts() -> Counter:
    """Labelled contents per dataset and small category, keyed like the index's tags (d<dataset>:c<small>)."""
    rows = (
        Example.objects.exclude(status=Example.Status.REMOVED)
        .values_list("dataset_id", "category_id")
        .annotate(n=Count("id"))
        .values_list("dataset_id", "category_id", "n")
        .order_by()
    )
    return Counter({f"d{d}:c{c}": n for d, c, n in rows})


def contents_group_ids(key: str) -> list[int]:
    dataset, category = key.split(":c")
    examples = Example.objects.filter(dataset_id=int(dataset[1:]), category_id=int(category))
    return list(examples.values_list("content_id", flat=True))


CONTENTS = IndexDefinition(
    name="contents",
    mapping=CONTENTS_MAPPING,
    model=Content,
    documents=contents_documents,
    rows=Content.objects.all,
    recent=contents_recent,
    changed=contents_changed,
    group_field="tags",
    group_include="d[0-9]+:c[0-9]+",
    group_counts=contents_group_counts,
    group_ids=contents_group_ids,
    korean_fields=("title",),
)
