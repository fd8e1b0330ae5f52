"""Set-based writes of many examples at once, each one with its history row and its changeset."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from core.history import CHUNK, chunked, history_insert_select
from core.inserts import insert_with_history
from labeling.models import Changeset, Example

# content id -> (category id, status); None removes the example (soft)
Target = dict[int, tuple[int, str] | None]


@dataclass
class ApplyCounts:
    added: int = 0
    relabelled: int = 0
    status_changed: int = 0
    removed: int = 0
    restored: int = 0


def _plan(dataset, targets: Target, counts: ApplyCounts):
    """Group the needed updates by their new (category, status); list the examples to create."""
    updates: dict[tuple[int, str], list[int]] = defaultdict(list)
    existing = Example.objects.filter(dataset=dataset)
    if len(targets) <= CHUNK:  # a few examples: look them up; many: one scan beats a 100k-id IN list
        existing = existing.filter(content_id__in=list(targets))
    existing = existing.values_list("content_id", "id", "category_id", "status")
    seen = set()
    for content_id, example_id, category_id, status in existing.iterator(chunk_size=5000):
        if content_id not in targets:
            continue
        seen.add(content_id)
        target = targets[content_id]
        if target is None:
            if status != Example.Status.REMOVED:
                updates[(category_id, Example.Status.REMOVED)].append(example_id)
                counts.removed += 1
            continue
        if target == (category_id, status):
            continue
        updates[target].append(example_id)
        if status == Example.Status.REMOVED:
            counts.restored += 1
            continue
        # Counted as the diff counts them (a preview's figures): an example relabelled and given another
        # status is one relabel and one status change.
        counts.relabelled += target[0] != category_id
        counts.status_changed += target[1] != status
    missing = {c: t for c, t in targets.items() if c not in seen and t is not None}
    return updates, missing


def examples_apply(*, dataset, targets: Target, changeset: Changeset, user, reason: str) -> ApplyCounts:
    """Make each targeted example have the given category and status (or be removed).

    Examples already in that state are left alone; every example changed gets one history row
    naming the user, the reason and the changeset. Call inside a transaction.
    """
    counts = ApplyCounts()
    updates, missing = _plan(dataset, targets, counts)
    now = timezone.now()
    for (category_id, status), example_ids in updates.items():
        for chunk in chunked(example_ids):
            Example.objects.filter(id__in=chunk).update(
                category_id=category_id, status=status, version=F("version") + 1, updated_at=now
            )
            history_insert_select(Example, chunk, user=user, reason=reason, changeset=changeset)
    # Field values, not Example instances: building 10k model instances costs more than copying them.
    fresh = [
        {
            "dataset_id": dataset.id,
            "content_id": content_id,
            "category_id": category_id,
            "status": status,
            "labeled_by_id": user.pk if user else None,
            "labeled_at": now,
        }
        for content_id, (category_id, status) in missing.items()
    ]
    insert_with_history(Example, fresh, user=user, reason=reason, changeset=changeset)
    counts.added = len(fresh)
    return counts
