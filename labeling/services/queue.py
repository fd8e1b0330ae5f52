"""The labeling queue: which content an annotator sees next, held by a claim that expires."""

from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.errors import ApplicationError
from core.history import save_with_history
from labeling.models import Category, Content, Dataset, Example
from labeling.services.claims import (
    claim_check,
    claim_held,
    claim_next,
    claim_release,
    claim_take,
    claimed_by_others,
    claims_expire,
)
from labeling.services.examples import example_label
from labeling.services.locks import dataset_lock_shared

REMEMBER_START = timedelta(minutes=10)
QUEUES = {
    "unlabelled": "unlabelled contents",
    "review": "examples needing review",
    "category": "one category",
    "mine": "my recent work",
}


@dataclass(frozen=True)
class QueueChoice:
    name: str
    category_id: int | None = None

    @property
    def key(self) -> str:
        return f"{self.name}:{self.category_id or ''}"


def dataset_pool(dataset: Dataset) -> QuerySet:
    """The contents a dataset labels: those from its sources (all contents when it names none)."""
    if not dataset.content_sources:
        return Content.objects.all()
    from_sources = Q()
    for prefix in dataset.content_sources:
        from_sources |= Q(source__startswith=prefix)
    return Content.objects.filter(from_sources)


def _unlabelled(dataset: Dataset, start: int = 0) -> QuerySet:
    # `start` bounds both sides: PostgreSQL merges the contents with the examples in content id order,
    # and an examples side without it would be read from the first content on.
    labelled = Example.objects.filter(dataset=dataset, content=OuterRef("pk"), content_id__gte=start).exclude(
        status=Example.Status.REMOVED
    )
    return dataset_pool(dataset).filter(id__gte=start).filter(~Exists(labelled)).order_by("id")


def unlabelled_from(dataset: Dataset) -> int:
    """A content id below which every content of the pool is labelled (the queue starts its scan there).

    Labelled contents pile up at the low ids, where the queue serves first: walking them on every request
    cost most of the page. The id is remembered per process and rechecked each time: new contents get
    higher ids, and a content below it can only become unlabelled again through a removed example, which
    the check finds (then it is computed again). A hard delete of an example (admin, psql) is not seen by
    the check: the id is computed again after REMEMBER_START at the latest."""
    key = f"queue-unlabelled-from:{dataset.id}:{dataset.created_at.timestamp()}:{dataset.content_sources}"
    start = cache.get(key)
    stale = start is None or (
        Example.objects.filter(dataset=dataset, status=Example.Status.REMOVED, content_id__lt=start).exists()
    )
    if stale:
        start = _unlabelled(dataset).values_list("id", flat=True).first()
        if start is None:  # all labelled: not remembered, contents being imported may get lower ids
            return 0
        cache.set(key, start, timeout=REMEMBER_START.total_seconds())
    return start


def queue_contents(dataset: Dataset, choice: QueueChoice, user) -> QuerySet:
    """The contents of a queue, in the order they are served."""
    in_dataset = Example.objects.filter(dataset=dataset, content=OuterRef("pk"))
    if choice.name == "unlabelled":
        return _unlabelled(dataset, unlabelled_from(dataset))
    if choice.name == "review":
        return Content.objects.filter(Exists(in_dataset.filter(status=Example.Status.NEEDS_REVIEW))).order_by(
            "id"
        )
    if choice.name == "category":
        return Content.objects.filter(
            Exists(in_dataset.filter(category_id=choice.category_id, status=Example.Status.ACTIVE))
        ).order_by("id")
    if choice.name == "mine":
        mine = Example.objects.filter(dataset=dataset, labeled_by=user).order_by("-labeled_at")
        return Content.objects.filter(id__in=mine.values("content_id")[:200]).order_by("-id")
    raise ApplicationError(f"Unknown queue {choice.name!r}.")


def queue_next(*, dataset: Dataset, choice: QueueChoice, user, skipped: list[int]) -> Content | None:
    """The content this user holds in this queue, or claim the next free one (None: the queue is empty)."""
    claims_expire()
    held = claim_held(dataset=dataset, user=user, queue=choice.key).exclude(content_id__in=skipped)
    held = held.select_related("content").first()
    if held and claim_take(dataset=dataset, content_id=held.content_id, user=user, queue=choice.key):
        return held.content
    queue = queue_contents(dataset, choice, user)
    candidates = queue.exclude(claimed_by_others(dataset.id, user)).exclude(id__in=skipped)
    claimed = claim_next(
        dataset=dataset,
        user=user,
        queue=choice.key,
        candidates=candidates.values_list("id", flat=True)[:20],
        still_queued=lambda content_id: queue.filter(pk=content_id).exists(),  # a query of its own, now
    )
    return Content.objects.get(pk=claimed) if claimed else None


def _check_in_dataset(dataset: Dataset, content: Content) -> None:
    """The content must be one the dataset labels: from its pool, or already one of its examples."""
    if dataset_pool(dataset).filter(pk=content.pk).exists():
        return
    if Example.objects.filter(dataset=dataset, content=content).exists():
        return
    raise ApplicationError(f"Content #{content.id} is not in the pool of dataset {dataset.name!r}.")


@transaction.atomic
def queue_label(
    *, dataset: Dataset, content: Content, category: Category, user, note: str, expected_version: int
) -> Example:
    """Save the annotator's label and free the claim; refused when someone else holds the item or saved it
    since the annotator read it (`expected_version`: 0 for an item nobody labelled yet)."""
    if expected_version is None:
        raise ApplicationError("The form did not say which version of the item you saw; reload the page.")
    _check_in_dataset(dataset, content)
    claim_check(dataset=dataset, content_id=content.id, user=user)
    example = example_label(
        dataset=dataset,
        content=content,
        category=category,
        user=user,
        reason="labelled in the queue",
        note=note,
        expected_version=expected_version,
    )
    claim_release(dataset=dataset, content_id=content.id, user=user)
    return example


@transaction.atomic
def queue_undo(*, dataset: Dataset, user, queue: str | None = None) -> Example:
    """Undo this user's last save in the dataset: the example goes back to its state before it, and (given the
    queue the user works in) its content is the user's next item there, to label again."""
    last = Example.history.filter(dataset_id=dataset.id, history_user=user).order_by("-history_id").first()
    if last is None:
        raise ApplicationError("Nothing to undo.")
    dataset_lock_shared(dataset.id)
    example = Example.objects.select_for_update().get(pk=last.id)
    if example.version != last.version:
        raise ApplicationError("That example was changed again since your save; open its history instead.")
    before = (
        Example.history.filter(id=last.id, history_id__lt=last.history_id).order_by("-history_id").first()
    )
    if before is None:
        example.status = Example.Status.REMOVED
    else:
        example.category_id, example.status, example.note = before.category_id, before.status, before.note
        example.labeled_by_id, example.labeled_at = before.labeled_by_id, before.labeled_at
    example.version += 1
    save_with_history(example, user=user, reason="undo in the queue")
    if queue is not None:  # what the user held there waits for later; the undone item comes first
        claim_held(dataset=dataset, user=user, queue=queue).delete()
        claim_take(dataset=dataset, content_id=example.content_id, user=user, queue=queue)
    return example
