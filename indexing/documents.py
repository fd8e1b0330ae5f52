"""Index definitions in code: what a logical index holds, its mapping, and how its documents are built from
the database (the "join" the seed moved out of SQL: every dataset's example category path and status go into
the content's document).

A definition is registered in DEFINITIONS by its logical name; the catalog app adds its own (catalogs) the
same way, with the triggers that capture its tables' changes (see indexing/capture.py and docs/indexing.md).
"""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from indexing.models import DocVersion
from labeling.models import Category, Content, Example, category_path

BODY_EXCERPT = 2000  # characters of the body the engine keeps; the full text stays in the database

# Korean writes compounds without spaces (저출산고령화대책): the standard tokenizer keeps such a run as one
# token, and cjk_bigram cuts it into overlapping pairs, so a word inside it (고령화 -> 고령 령화) is found.
# Single syllables are indexed too (output_unigrams) so a one-syllable query finds something. English words
# go through the same tokenizer, lowercased, and through the english analyzer (stems) in a subfield.
ANALYSIS = {
    "filter": {"cjk_pairs_and_single": {"type": "cjk_bigram", "output_unigrams": True}},
    "analyzer": {
        "text_index": {"tokenizer": "standard", "filter": ["cjk_width", "lowercase", "cjk_pairs_and_single"]},
        "text_search": {"tokenizer": "standard", "filter": ["cjk_width", "lowercase", "cjk_bigram"]},
    },
}
_TEXT = {
    "type": "text",
    "analyzer": "text_index",
    "search_analyzer": "text_search",
    "fields": {"en": {"type": "text", "analyzer": "english"}},
}
CONTENTS_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "long"},
        "external_id": {"type": "keyword"},
        "title": _TEXT,
        "body": _TEXT,
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


@contextlib.contextmanager
def snapshot():
    """A transaction whose reads all see one snapshot (REPEATABLE READ on PostgreSQL). Inside a transaction
    already begun, its caller is responsible (see outbox_drain_once)."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


@dataclass(frozen=True)
class IndexDefinition:
    name: str
    mapping: dict
    # ids -> {id: (version, document)}; an id missing from the answer is a document to delete
    build: Callable[[list[int]], dict[int, tuple[int, dict]]]
    model: type  # the table whose ids are the documents' ids (rebuild chunks, drift)

    def body(self) -> dict:
        index = {
            "number_of_shards": 1,
            "number_of_replicas": settings.SEARCH_INDEX_REPLICAS,
            "refresh_interval": "1s",
            # tombstones of deletes live this long: a delayed write of an older version stays refused
            "gc_deletes": "1h",
        }
        return {"settings": {"index": index, "analysis": ANALYSIS}, "mappings": self.mapping}


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


def contents_build(ids: list[int]) -> dict[int, tuple[int, dict]]:
    """The current documents of these contents with their versions, all read in one snapshot (REPEATABLE
    READ on PostgreSQL), so a document never carries a version newer than its state."""
    with snapshot():
        versions = dict(
            DocVersion.objects.filter(target="contents", doc_id__in=ids).values_list("doc_id", "version")
        )
        contents = list(
            Content.objects.filter(id__in=ids)
            .order_by()
            .values_list("id", "external_id", "title", "body", "source", "modified_at")
        )
        labels = _labels([row[0] for row in contents])
    return {
        row[0]: (versions.get(row[0], 0), content_document(row, labels.get(row[0], []))) for row in contents
    }


CONTENTS = IndexDefinition(name="contents", mapping=CONTENTS_MAPPING, build=contents_build, model=Content)
DEFINITIONS: dict[str, IndexDefinition] = {CONTENTS.name: CONTENTS}
