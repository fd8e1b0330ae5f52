"""Drift between the database and the index: counts per id range, dataset and category, a sampled document
comparison, and the automatic repair that re-syncs the ranges that differ (with backoff when it fails)."""

import logging
import random
from collections import Counter
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from indexing.documents import DEFINITIONS
from indexing.models import DocVersion, IndexState
from indexing.services.engine import engine_get, search_alias
from indexing.services.sync import documents_write

logger = logging.getLogger(__name__)

ID_RANGE = 10_000  # ids per range compared by count
SAMPLE = 200


def _engine_ids(index: str, query: dict | None = None) -> list[int]:
    """Every document id in the index (matching `query`), in id order, through search_after pages."""
    engine = engine_get()
    ids: list[int] = []
    after = None
    while True:
        body = {"size": 5000, "_source": False, "sort": [{"id": "asc"}], "query": query or {"match_all": {}}}
        if after is not None:
            body["search_after"] = [after]
        hits = engine.search(index, body)["hits"]["hits"]
        if not hits:
            return ids
        ids += [int(hit["_id"]) for hit in hits]
        after = hits[-1]["sort"][0]


def index_compare(*, name: str = "contents", ids: list[int] | None = None) -> dict[str, list[int]]:
    """Document by document: ids missing from the index, ids whose document differs from the one the database
    gives now, ids in the index that the database no longer has. All of the index when `ids` is None."""
    definition = DEFINITIONS[name]
    engine = engine_get()
    alias = search_alias(name)
    engine.refresh(alias)
    if ids is None:
        db_ids = list(definition.model.objects.order_by("id").values_list("id", flat=True))
        extra = sorted(set(_engine_ids(alias)) - set(db_ids))
    else:
        db_ids, extra = ids, []
    missing, stale = [], []
    for start in range(0, len(db_ids), 1000):
        chunk = db_ids[start : start + 1000]
        expected = definition.build(chunk)
        found = engine.get_many(alias, chunk)
        for pk in chunk:
            if pk not in expected:
                if pk in found:
                    extra.append(pk)
            elif pk not in found:
                missing.append(pk)
            elif {k: v for k, v in found[pk].items() if k != "_version"} != expected[pk][1]:
                stale.append(pk)
    return {"missing": missing, "stale": stale, "extra": sorted(extra)}


def _range_counts(name: str) -> tuple[Counter, Counter]:
    db = Counter(
        dict(
            DEFINITIONS[name]
            .rows()
            .annotate(bucket=F("id") / ID_RANGE)
            .values_list("bucket")
            .annotate(n=Count("id"))
            .values_list("bucket", "n")
            .order_by()
        )
    )
    body = {"size": 0, "aggs": {"ranges": {"histogram": {"field": "id", "interval": ID_RANGE}}}}
    buckets = engine_get().search(search_alias(name), body)["aggregations"]["ranges"]["buckets"]
    index = Counter({int(b["key"]) // ID_RANGE: b["doc_count"] for b in buckets if b["doc_count"]})
    return db, index


def _group_counts(name: str) -> list[dict]:
    """Documents per group (contents: dataset and small category; catalogs: category), database and index."""
    definition = DEFINITIONS[name]
    db = definition.group_counts()
    terms = {"field": definition.group_field, "size": 65000}
    if definition.group_include:
        terms["include"] = definition.group_include
    body = {"size": 0, "aggs": {"groups": {"terms": terms}}}
    buckets = engine_get().search(search_alias(name), body)["aggregations"]["groups"]["buckets"]
    index = Counter({bucket["key"]: bucket["doc_count"] for bucket in buckets})
    return [{"group": key, "database": db[key], "index": index[key]} for key in sorted(set(db) | set(index))]


def _sample_ids(name: str, size: int) -> list[int]:
    model = DEFINITIONS[name].model
    top = model.objects.order_by("-id").values_list("id", flat=True).first() or 0
    if top <= size * 2:
        return list(model.objects.values_list("id", flat=True))
    picks = random.sample(range(1, top + 1), size * 2)
    return list(model.objects.filter(id__in=picks).values_list("id", flat=True)[:size])


def drift_check(*, name: str = "contents", sample: int = SAMPLE) -> dict:
    """Counts per id range and per dataset/category, database against index, and a sampled comparison."""
    engine_get().refresh(search_alias(name))
    db_ranges, index_ranges = _range_counts(name)
    ranges = sorted(r for r in set(db_ranges) | set(index_ranges) if db_ranges[r] != index_ranges[r])
    categories = _group_counts(name)
    compared = index_compare(name=name, ids=_sample_ids(name, sample))
    return {
        "checked_at": timezone.now().isoformat(),
        "database": sum(db_ranges.values()),
        "index": sum(index_ranges.values()),
        "ranges": [[r * ID_RANGE, (r + 1) * ID_RANGE] for r in ranges],
        "categories": categories,
        "categories_off": [row for row in categories if row["database"] != row["index"]],
        "sampled": sample,
        "sample_off": sorted(set(compared["missing"]) | set(compared["stale"]) | set(compared["extra"])),
    }


def _ids_to_resync(name: str, drift: dict) -> list[int]:
    definition = DEFINITIONS[name]
    ids = set(drift["sample_off"])
    for low, high in drift["ranges"]:
        ids |= set(definition.model.objects.filter(id__gte=low, id__lt=high).values_list("id", flat=True))
        ids |= set(_engine_ids(search_alias(name), {"range": {"id": {"gte": low, "lt": high}}}))
    for row in drift["categories_off"]:
        ids |= set(definition.group_ids(row["group"]))
        ids |= set(_engine_ids(search_alias(name), {"term": {definition.group_field: row["group"]}}))
    return sorted(ids)


def _versions_raise(name: str, ids: list[int]) -> None:
    """Raise the versions of documents about to be re-synced: a document deleted or overwritten in the index
    outside the pipeline (its version moved on there) is then written again all the same."""
    now = timezone.now()
    with transaction.atomic():
        known = set(DocVersion.objects.filter(target=name, doc_id__in=ids).values_list("doc_id", flat=True))
        DocVersion.objects.filter(target=name, doc_id__in=known).update(
            version=F("version") + 1, changed_at=now
        )
        DocVersion.objects.bulk_create(
            [DocVersion(target=name, doc_id=pk, version=1, changed_at=now) for pk in ids if pk not in known],
            ignore_conflicts=True,
        )


def drift_repair(*, name: str = "contents", force: bool = False) -> dict:
    """Find drift and re-sync what differs. A failure backs off (1, 2, 4 ... minutes, at most 6 hours) and
    leaves an alert for the monitoring page; a success clears it."""
    state = IndexState.objects.filter(name=name).first()
    if state is None or not state.live:
        return {}
    now = timezone.now()
    if not force and state.repair_next_at and state.repair_next_at > now:
        return {"skipped_until": state.repair_next_at.isoformat()}
    try:
        drift = drift_check(name=name)
        ids = _ids_to_resync(name, drift)
        _versions_raise(name, ids)
        result = documents_write(name=name, ids=ids)
        drift["repaired"] = len(ids)
        drift["repair_errors"] = len(result.errors)
        if result.errors:
            raise RuntimeError(f"{len(result.errors)} documents refused while repairing")
    except Exception as error:  # noqa: BLE001 - any failure is recorded, backed off and shown
        failures = state.repair_failures + 1
        delay = timedelta(minutes=min(2 ** (failures - 1), 360))
        IndexState.objects.filter(pk=state.pk).update(
            repair_failures=failures,
            repair_next_at=now + delay,
            repair_alert=f"{now:%Y-%m-%d %H:%M} repair failed {failures} time(s): {error}"[:2000],
        )
        logger.exception("indexing %s: drift repair failed", name)
        return {"error": str(error), "retry_in_seconds": delay.total_seconds()}
    IndexState.objects.filter(pk=state.pk).update(
        repair_failures=0, repair_next_at=None, repair_alert="", last_drift=drift
    )
    return drift
