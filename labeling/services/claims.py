"""Queue claims, one service for the labeling queue and the review queue.

A claim is taken atomically (an INSERT the unique constraint decides) and never handed over while it is
live; an expired claim is removed by whoever next wants that content. A save checks it: a content someone
else holds is not saved over.
"""

from collections.abc import Callable, Iterable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from core.errors import ApplicationError
from core.pauses import pause_point
from labeling.models import Dataset, QueueClaim

CLAIM_FOR = timedelta(minutes=10)


def claims_expire() -> int:
    """Remove every expired claim (the queue pages call it; a claim attempt also removes its own)."""
    return QueueClaim.objects.filter(expires_at__lt=timezone.now()).delete()[0]


def claimed_by_others(dataset_id: int, user, content_ref: str = "pk") -> Exists:
    """A condition for a contents queryset: someone else holds a live claim on the content."""
    live = QueueClaim.objects.filter(
        dataset_id=dataset_id, content_id=OuterRef(content_ref), expires_at__gte=timezone.now()
    )
    return Exists(live.exclude(user=user))


def claim_held(*, dataset: Dataset, user, queue: str) -> QuerySet:
    """The claims this user holds in this queue (expired ones too: nobody else took them yet)."""
    return QueueClaim.objects.filter(dataset=dataset, user=user, queue=queue)


def claim_take(*, dataset: Dataset, content_id: int, user, queue: str) -> bool:
    """Claim a content for this user; False when someone else holds a live claim on it."""
    now = timezone.now()
    pause_point("claim-take")
    with transaction.atomic():
        QueueClaim.objects.filter(dataset=dataset, content_id=content_id, expires_at__lt=now).delete()
        try:
            with transaction.atomic():
                QueueClaim.objects.create(
                    dataset=dataset, content_id=content_id, user=user, queue=queue, expires_at=now + CLAIM_FOR
                )
            return True
        except IntegrityError:  # held: by this user (renewed below) or by someone else (left alone)
            return bool(
                QueueClaim.objects.filter(dataset=dataset, content_id=content_id, user=user).update(
                    queue=queue, expires_at=now + CLAIM_FOR
                )
            )


def claim_next(
    *, dataset: Dataset, user, queue: str, candidates: Iterable[int], still_queued: Callable[[int], bool]
) -> int | None:
    """Claim the first candidate content that nobody else holds and that is still in the queue once claimed.

    The candidates were read before the claim: someone may have claimed, saved and let go of one in between
    (a save frees its claim as it commits), so each is read again once this user holds it."""
    for content_id in candidates:
        if not claim_take(dataset=dataset, content_id=content_id, user=user, queue=queue):
            continue
        if still_queued(content_id):
            return content_id
        claim_release(dataset=dataset, content_id=content_id, user=user)
    return None


def claim_check(*, dataset: Dataset, content_id: int, user) -> None:
    """Refuse a save of a content that someone else holds (their claim is live)."""
    other = (
        QueueClaim.objects.filter(dataset=dataset, content_id=content_id, expires_at__gte=timezone.now())
        .exclude(user=user)
        .select_related("user")
        .first()
    )
    if other is not None:
        raise ApplicationError(
            f"{other.user.get_username()} is working on this item now; your label was not saved. "
            "Take the next one."
        )


def claim_release(*, dataset: Dataset, content_id: int, user=None) -> None:
    """Let a claim go (a save, a skip); without a user, whoever held it (a review decision)."""
    claims = QueueClaim.objects.filter(dataset=dataset, content_id=content_id)
    if user is not None:
        claims = claims.filter(user=user)
    claims.delete()
