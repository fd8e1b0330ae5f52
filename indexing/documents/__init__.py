"""Index definitions in code: what a logical index holds, its mapping, and how its documents are built from
the database (the "join" the seed moved out of SQL).

Two logical indexes: `contents` (documents/contents.py: every dataset's example category path and status go
into the content's document) and `catalogs` (documents/catalogs.py: a catalog with its offers' titles,
brands, shops and lowest price). A definition says which table's ids are its documents, which rows are
documents at all, how to build them, which rows changed in a time window (batch path) and how to count them
per group (drift); indexing/capture.py holds the triggers that capture changes of the tables they are built
from. Indexing sits above the apps it reads (pyproject.toml's layers; docs/indexing.md says why).
"""

import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from indexing.models import DocVersion

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
# Where the engine has Lucene's Korean morphological analyzer (nori: our node's NoriAnalysisPlugin, or
# OpenSearch's / Elasticsearch's analysis-nori plugin, same names), the short text fields a definition names
# (titles, brands, shops; not a content's body: nori costs several times the bigrams' indexing time per
# character, bench/results/indexing.md) also get a `.ko` subfield: words cut at morpheme boundaries, particles
# and endings dropped (대책을 -> 대책), which bigrams alone cannot match.
KOREAN_TOKENIZER = "nori_tokenizer"
KOREAN_ANALYSIS = {
    "tokenizer": {"korean_discard": {"type": KOREAN_TOKENIZER, "decompound_mode": "discard"}},
    "analyzer": {
        "korean": {"tokenizer": "korean_discard", "filter": ["nori_part_of_speech", "cjk_width", "lowercase"]}
    },
}
TEXT = {
    "type": "text",
    "analyzer": "text_index",
    "search_analyzer": "text_search",
    "fields": {"en": {"type": "text", "analyzer": "english"}},
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
    model: type  # the table whose ids are the documents' ids (rebuild chunks, drift ranges)
    # ids -> {id: document}; an id missing from the answer is a document to delete
    documents: Callable[[list[int]], dict[int, dict]]
    # the rows of `model` that are documents (drift counts them)
    rows: Callable[[], QuerySet]
    # ids of the documents changed since a moment, most recent first (a rebuild writes these first)
    recent: Callable[[datetime], list[int]]
    # ids of the documents that may have changed in [since, until), from every table they are built from
    changed: Callable[[datetime, datetime], set[int]]
    # drift by group: the index field aggregated (with an optional include pattern), the database's counts
    # per group key, and the database ids of one group's documents
    group_field: str
    group_include: str | None
    group_counts: Callable[[], Counter]
    group_ids: Callable[[object], list[int]]
    # text fields that also get the Korean morphological `.ko` subfield where the engine has nori
    korean_fields: tuple[str, ...] = ()

    def body(self, *, korean: bool = False) -> dict:
        """Settings and mappings of a new physical index; `korean`: with the `.ko` subfields (nori)."""
        index = {
            "number_of_shards": 1,
            "number_of_replicas": settings.SEARCH_INDEX_REPLICAS,
            "refresh_interval": "1s",
            # tombstones of deletes live this long: a delayed write of an older version stays refused
            "gc_deletes": "1h",
        }
        if not korean:
            return {"settings": {"index": index, "analysis": ANALYSIS}, "mappings": self.mapping}
        analysis = {
            **ANALYSIS,
            **KOREAN_ANALYSIS,
            "analyzer": ANALYSIS["analyzer"] | KOREAN_ANALYSIS["analyzer"],
        }
        mapping = _with_korean(self.mapping, self.korean_fields)
        return {"settings": {"index": index, "analysis": analysis}, "mappings": mapping}

    def build(self, ids: list[int]) -> dict[int, tuple[int, dict]]:
        """The current documents with their versions, all read in one snapshot (REPEATABLE READ on
        PostgreSQL), so a document never carries a version newer than its state."""
        with snapshot():
            versions = dict(
                DocVersion.objects.filter(target=self.name, doc_id__in=ids).values_list("doc_id", "version")
            )
            documents = self.documents(ids)
        return {pk: (versions.get(pk, 0), document) for pk, document in documents.items()}


def _with_korean(mapping: dict, fields: tuple[str, ...]) -> dict:
    """The mapping with a `.ko` subfield on these fields."""
    properties = {}
    for name, field in mapping["properties"].items():
        if name in fields:
            field = {**field, "fields": field["fields"] | {"ko": {"type": "text", "analyzer": "korean"}}}
        properties[name] = field
    return {**mapping, "properties": properties}


def _definitions() -> dict[str, IndexDefinition]:
    from indexing.documents.catalogs import CATALOGS
    from indexing.documents.contents import CONTENTS

    return {CONTENTS.name: CONTENTS, CATALOGS.name: CATALOGS}


DEFINITIONS: dict[str, IndexDefinition] = _definitions()
CONTENTS = DEFINITIONS["contents"]
