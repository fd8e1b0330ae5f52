from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core import roles
from core.errors import ApplicationError
from core.jobs import job_enqueue
from core.params import datetime_param, number_param
from labeling import selectors
from labeling.models import Category, Changeset, Content, Dataset, DatasetVersion, Example
from labeling.selectors import dataset_or_404
from labeling.selectors import versions as version_reads
from labeling.selectors.export import FORMATS, export_lines
from labeling.services.versions import dataset_commit

__all__ = [
    "changeset_detail",
    "changeset_revert_view",
    "dataset_commit_view",
    "dataset_dashboard",
    "dataset_diff",
    "dataset_export",
    "dataset_history",
    "dataset_list",
    "dataset_rollback",
    "example_history",
]

ROWS_SHOWN = 200


@roles.role_required(roles.ANNOTATOR)
def dataset_list(request):
    datasets = roles.datasets_visible(selectors.dataset_list_with_counts(), request.user)
    return render(request, "labeling/dataset_list.html", {"datasets": datasets})


@roles.role_required(roles.ANNOTATOR)
def dataset_dashboard(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    summary = selectors.dataset_summary(dataset=dataset)
    dirty = version_reads.dataset_dirty_shown(dataset)
    return render(
        request, "labeling/dashboard.html", {"dataset": dataset, "summary": summary, "dirty": dirty}
    )


@roles.role_required(roles.ANNOTATOR)
def dataset_history(request, dataset_id: int):
    """Timeline of versions and changesets, filterable by user and kind."""
    dataset = dataset_or_404(dataset_id)
    user_id = request.GET.get("user") or None
    kind = request.GET.get("kind", "")
    events = version_reads.dataset_timeline(dataset, user_id=number_param(request.GET, "user"), kind=kind)
    context = {
        "dataset": dataset,
        "events": events[:500],
        "kind": kind,
        "user_id": user_id,
        "kinds": [("version", "versions")] + list(Changeset.Kind.choices),
        "users": get_user_model().objects.order_by("username"),
        "can_commit": roles.request_has_role(request, roles.MANAGER),
        "can_rollback": roles.request_has_role(request, roles.ADMIN),
    }
    return render(request, "labeling/history.html", context)


@require_POST
@roles.role_required(roles.MANAGER)
def dataset_commit_view(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    try:
        version = dataset_commit(dataset=dataset, user=request.user, message=request.POST.get("message", ""))
        messages.success(request, f"Committed v{version.number} ({version.entries_written} changes).")
    except ApplicationError as error:
        messages.error(request, str(error))
    return redirect("labeling:history", dataset.id)


def _side(dataset: Dataset, params, name: str, default: str) -> DatasetVersion | None:
    """A diff side from the query string: a version number, or 'working' (None, the current state)."""
    value = params.get(name, "").strip() or default
    if value == "working":
        return None
    number = number_param({name: value}, name)
    return get_object_or_404(DatasetVersion, dataset=dataset, number=number)


def _diff_context(dataset: Dataset, diff) -> dict:
    per_category = version_reads.diff_by_category(diff, dataset)
    names = {category.id: category for category, _ in per_category}
    moves = [(names[a], names[b], n) for (a, b), n in diff.moves.most_common()]
    changes = diff.changes[:ROWS_SHOWN]
    contents = Content.objects.in_bulk([c.content_id for c in changes])
    rows = [
        (
            contents.get(c.content_id),
            c,
            names.get((c.before or c.after)[0]),
            names.get(c.after[0]) if c.after else None,
        )
        for c in changes
    ]
    return {
        "diff": diff,
        "per_category": per_category,
        "moves": moves,
        "rows": rows,
        "rows_shown": ROWS_SHOWN,
    }


@roles.role_required(roles.ANNOTATOR)
def dataset_diff(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    latest = version_reads.latest_version(dataset)
    older = _side(dataset, request.GET, "from", str(latest.number) if latest else "working")
    newer = _side(dataset, request.GET, "to", "working")
    context = {
        "dataset": dataset,
        "older": older or "working",
        "newer": newer or "working",
        **_diff_context(dataset, version_reads.states_diff(dataset, older, newer)),
    }
    return render(request, "labeling/diff.html", context)


def _rollback_target(request, dataset: Dataset):
    source = request.POST if request.method == "POST" else request.GET
    moment = datetime_param(source, "to_time")
    if moment is not None:
        return {"to_time": moment.isoformat()}, {"moment": moment}
    version = get_object_or_404(
        DatasetVersion, dataset=dataset, number=number_param(source, "to", required=True)
    )
    return {"to_version": version.number}, {"version": version}


@roles.role_required(roles.ADMIN)
def dataset_rollback(request, dataset_id: int):
    """GET shows what a rollback would change; POST (with a reason) runs it as a job."""
    dataset = dataset_or_404(dataset_id)
    target, preview_of = _rollback_target(request, dataset)
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()
        if reason:
            job = job_enqueue(
                kind="rollback", dataset=dataset, params={**target, "reason": reason}, user=request.user
            )
            return redirect("core:job", job.id)
        messages.error(request, "Say why you roll back: the reason goes into every history row.")
    diff = version_reads.rollback_preview(dataset, **preview_of)
    return render(
        request,
        "labeling/rollback.html",
        {"dataset": dataset, "target": target, **_diff_context(dataset, diff)},
    )


@roles.role_required(roles.ANNOTATOR)
def changeset_detail(request, changeset_id: int):
    changeset = get_object_or_404(
        Changeset.objects.select_related("dataset", "user", "reverts"), pk=changeset_id
    )
    history = Example.history.filter(changeset=changeset).select_related("content", "category")[:ROWS_SHOWN]
    return render(
        request,
        "labeling/changeset.html",
        {
            "changeset": changeset,
            "dataset": changeset.dataset,
            "history": history,
            "reverted_by": changeset.reverted_by.first(),
            "can_revert": roles.request_has_role(request, roles.ADMIN),
        },
    )


@require_POST
@roles.role_required(roles.ADMIN)
def changeset_revert_view(request, changeset_id: int):
    changeset = get_object_or_404(Changeset, pk=changeset_id)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, "Say why you revert this changeset.")
        return redirect("labeling:changeset", changeset.id)
    job = job_enqueue(
        kind="revert",
        dataset=changeset.dataset,
        params={"changeset": changeset.id, "reason": reason},
        user=request.user,
    )
    return redirect("core:job", job.id)


@roles.role_required(roles.ANNOTATOR)
def example_history(request, example_id: int):
    """Every change of one example: who, when, why, and which fields changed."""
    example = get_object_or_404(Example.objects.select_related("dataset", "content"), pk=example_id)
    records = list(
        example.history.select_related("history_user", "category", "changeset").order_by("-history_id")
    )
    entries = []
    for record, older in zip(records, records[1:] + [None], strict=True):
        changes = record.diff_against(older).changes if older else []
        entries.append((record, [c for c in changes if c.field != "version"]))
    entries = _changes_named(entries)
    return render(
        request,
        "labeling/example_history.html",
        {"example": example, "dataset": example.dataset, "entries": entries},
    )


class Change(NamedTuple):
    field: str
    old: object
    new: object


def _changes_named(entries: list) -> list:
    """History changes with categories shown by path and labellers by name, not by id."""
    ids = {"category": set(), "labeled_by": set()}
    for _, changes in entries:
        for c in changes:
            if c.field in ids:
                ids[c.field] |= {c.old, c.new} - {None}
    categories = Category.objects.filter(pk__in=ids["category"]).select_related("parent")
    users = get_user_model().objects.filter(pk__in=ids["labeled_by"])
    names = {
        "category": {category.id: category.path for category in categories},
        "labeled_by": dict(users.values_list("pk", "username")),
    }

    def named(field: str, value):
        return names.get(field, {}).get(value, value)

    return [
        (record, [Change(c.field, named(c.field, c.old), named(c.field, c.new)) for c in changes])
        for record, changes in entries
    ]


@roles.role_required(roles.MANAGER)
def dataset_export(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        raise Http404("Unknown export format.")
    number = number_param(request.GET, "version")
    version = None if number is None else get_object_or_404(DatasetVersion, dataset=dataset, number=number)
    extension = {"csv": "csv", "jsonl": "jsonl", "fasttext": "txt"}[fmt]
    name = f"{dataset.name}-{'v' + str(version.number) if version else 'working'}.{extension}"
    response = StreamingHttpResponse(
        export_lines(dataset=dataset, fmt=fmt, version=version), content_type=f"{FORMATS[fmt]}; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
