"""Load the demo datasets committed in labeling/demo_data (see its PROVENANCE.md).

Idempotent: taxonomies, categories, contents and examples that already exist are left alone, so a
second run writes nothing, and work done on the demo since the first run is never overwritten.
"""

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from labeling.models import Category, Content, Dataset, DatasetVersion, Example, Taxonomy
from labeling.services.contents import content_build
from labeling.services.datasets import dataset_create
from labeling.services.taxonomy import category_create, taxonomy_create
from labeling.services.versions import dataset_commit

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo_data"
BATCH = 2000


@dataclass
class DemoLoadResult:
    dataset: str
    categories_created: int = 0
    contents_created: int = 0
    examples_created: int = 0


def demo_specs() -> list[dict]:
    return json.loads((DEMO_DIR / "taxonomies.json").read_text(encoding="utf-8"))


def demo_rows(file_name: str):
    with gzip.open(DEMO_DIR / file_name, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _ensure_categories(taxonomy: Taxonomy, spec: dict, *, user, reason: str) -> tuple[dict, int]:
    """Small categories by name, creating what is missing. Returns (by_name, created)."""
    created = 0
    small_by_name = {}
    for large_spec in spec["categories"]:
        large = Category.objects.filter(taxonomy=taxonomy, level=1, name=large_spec["name"]).first()
        if large is None:
            large = category_create(
                taxonomy=taxonomy,
                name=large_spec["name"],
                guideline=large_spec["guideline"],
                user=user,
                reason=reason,
            )
            created += 1
        for small_spec in large_spec["children"]:
            small = Category.objects.filter(parent=large, name=small_spec["name"]).first()
            if small is None:
                small = category_create(
                    taxonomy=taxonomy,
                    parent=large,
                    name=small_spec["name"],
                    guideline=small_spec["guideline"],
                    is_important=small_spec["is_important"],
                    user=user,
                    reason=reason,
                )
                created += 1
            small_by_name[small.name] = small
    return small_by_name, created


def _create_contents(rows: list[dict], *, user, reason: str) -> int:
    existing = set(
        Content.objects.filter(external_id__in=[r["external_id"] for r in rows]).values_list(
            "external_id", flat=True
        )
    )
    fresh = [
        content_build(
            external_id=r["external_id"],
            title=r["title"],
            body=r["body"],
            source=r["source"],
            modified_at=datetime.fromisoformat(r["modified_at"]) if r.get("modified_at") else None,
        )
        for r in rows
        if r["external_id"] not in existing
    ]
    bulk_create_with_history(
        fresh, Content, batch_size=BATCH, default_user=user, default_change_reason=reason
    )
    return len(fresh)


def _create_examples(dataset: Dataset, rows: list[dict], small_by_name: dict, *, user, reason) -> int:
    content_ids = dict(
        Content.objects.filter(external_id__in=[r["external_id"] for r in rows]).values_list(
            "external_id", "id"
        )
    )
    now = timezone.now()
    labelled = set(Example.objects.filter(dataset=dataset).values_list("content_id", flat=True))
    fresh = [
        Example(
            dataset=dataset,
            content_id=content_ids[r["external_id"]],
            category=small_by_name[r["category"]],
            labeled_by=user,
            labeled_at=now,
        )
        for r in rows
        if content_ids[r["external_id"]] not in labelled
    ]
    bulk_create_with_history(
        fresh, Example, batch_size=BATCH, default_user=user, default_change_reason=reason
    )
    return len(fresh)


def unlabelled_row(row: dict) -> dict:
    """A pool row without its answer: the newsgroup named in its source (`20news-bydate-test/sci.space`)
    and external id (`20ng-test-sci.space-61234`) would tell an annotator the label."""
    source, _, group = row["source"].rpartition("/")
    if not source:
        return row
    # The same message id may sit in several groups (cross-posts): a digest of the whole id keeps it unique.
    digest = hashlib.sha1(row["external_id"].encode()).hexdigest()[:12]
    return row | {"source": source, "external_id": f"20ng-test-{digest}"}


@transaction.atomic
def demo_dataset_load(spec: dict, *, user) -> DemoLoadResult:
    """Create one demo taxonomy, its dataset, contents and examples (only what is missing)."""
    reason = f"demo data ({spec['file']})"
    result = DemoLoadResult(dataset=spec["dataset"])
    taxonomy = Taxonomy.objects.filter(name=spec["taxonomy"]).first() or taxonomy_create(
        name=spec["taxonomy"], description=spec["taxonomy_description"]
    )
    small_by_name, result.categories_created = _ensure_categories(taxonomy, spec, user=user, reason=reason)
    dataset = Dataset.objects.filter(name=spec["dataset"]).first() or dataset_create(
        name=spec["dataset"],
        taxonomy=taxonomy,
        description=spec["dataset_description"],
        min_examples_per_category=spec["min_examples_per_category"],
        content_sources=spec.get("content_sources", []),
        user=user,
    )
    rows = list(demo_rows(spec["file"]))
    result.contents_created = _create_contents(rows, user=user, reason=reason)
    if spec.get("unlabelled_file"):  # contents only: the pool the "unlabelled" queue serves
        pool = [unlabelled_row(row) for row in demo_rows(spec["unlabelled_file"])]
        result.contents_created += _create_contents(
            pool, user=user, reason=f"demo data ({spec['unlabelled_file']})"
        )
    result.examples_created = _create_examples(dataset, rows, small_by_name, user=user, reason=reason)
    if result.examples_created:
        dataset_commit(
            dataset=dataset,
            user=user,
            message=f"{reason}: {result.examples_created} examples",
            kind=DatasetVersion.Kind.AUTOMATIC,
        )
    return result


def demo_load(*, user=None) -> list[DemoLoadResult]:
    """Load every demo dataset; see the module docstring."""
    return [demo_dataset_load(spec, user=user) for spec in demo_specs()]
