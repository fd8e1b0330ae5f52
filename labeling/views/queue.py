"""The labeling queue page: one item at a time, driven by the keyboard."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from core import roles
from core.errors import ApplicationError
from core.paging import COUNT_CAP, capped_count
from core.params import number_param
from labeling.models import Category, Content, Dataset, Example
from labeling.selectors import dataset_or_404
from labeling.services.claims import claim_release
from labeling.services.queue import QUEUES, QueueChoice, queue_contents, queue_label, queue_next, queue_undo

__all__ = ["labeling_queue"]
SKIPPED_KEPT = 200


def _choice(request) -> QueueChoice:
    name = request.GET.get("queue", "unlabelled")
    return QueueChoice(name if name in QUEUES else "unlabelled", number_param(request.GET, "category"))


def _skipped(request, choice: QueueChoice) -> list[int]:
    return request.session.get("queue_skipped", {}).get(choice.key, [])


def _skip(request, dataset: Dataset, choice: QueueChoice, content_id: int) -> None:
    """Skipped items stay out of this person's queue for the session, and their claim goes to others."""
    skipped = request.session.setdefault("queue_skipped", {})
    skipped[choice.key] = (skipped.get(choice.key, []) + [content_id])[-SKIPPED_KEPT:]
    request.session.modified = True
    claim_release(dataset=dataset, content_id=content_id, user=request.user)


def _handle_post(request, dataset: Dataset, choice: QueueChoice) -> None:
    action = request.POST.get("action")
    if action == "undo":
        example = queue_undo(dataset=dataset, user=request.user, queue=choice.key)
        messages.info(request, f"Undone: {example.content.title[:60]}")
        return
    content = get_object_or_404(Content, pk=number_param(request.POST, "content", required=True))
    if action == "skip":
        _skip(request, dataset, choice, content.id)
        return
    category = get_object_or_404(Category, pk=number_param(request.POST, "category", required=True))
    queue_label(
        dataset=dataset,
        content=content,
        category=category,
        user=request.user,
        note=request.POST.get("note", ""),
        expected_version=number_param(request.POST, "version"),
    )


@roles.role_required(roles.ANNOTATOR)
def labeling_queue(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    choice = _choice(request)
    if request.method == "POST":
        try:
            _handle_post(request, dataset, choice)
        except ApplicationError as error:
            messages.error(request, str(error))
        return redirect(request.get_full_path())
    content = queue_next(dataset=dataset, choice=choice, user=request.user, skipped=_skipped(request, choice))
    example = Example.objects.filter(dataset=dataset, content=content).first() if content else None
    larges = (
        Category.objects.filter(taxonomy=dataset.taxonomy, level=1, status="active")
        .prefetch_related("children")
        .order_by("name")
    )
    tree = [(large, [c for c in large.children.all() if c.status == "active"]) for large in larges]
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    # Examples this user's labels stand on now: an undone save no longer counts (nor does the undo).
    done_today = (
        Example.objects.filter(dataset=dataset, labeled_by=request.user, labeled_at__gte=today)
        .exclude(status=Example.Status.REMOVED)
        .count()
    )
    return render(
        request,
        "labeling/queue.html",
        {
            "dataset": dataset,
            "choice": choice,
            "queues": QUEUES,
            "content": content,
            "example": example,
            "tree": tree,
            "done_today": done_today,
            "url": reverse("labeling:queue", args=[dataset.id]),
            "left": capped_count(queue_contents(dataset, choice, request.user)),
            "count_cap": COUNT_CAP,
        },
    )
