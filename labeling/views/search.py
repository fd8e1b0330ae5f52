"""Search and browse examples, and act on a selection as one changeset."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render

from core import roles
from core.errors import ApplicationError
from core.paging import COUNT_CAP, CappedPaginator
from core.params import date_param, number_param, numbers_param, text_param
from labeling.models import Category, Dataset, Example
from labeling.selectors import dataset_or_404
from labeling.selectors.search import ExampleFilter, category_choices, examples_search
from labeling.services.versions import examples_mark_for_review_bulk, examples_relabel_bulk

__all__ = ["examples_browse"]


PER_PAGE = 50


def _filter(params) -> ExampleFilter:
    status = params.get("status", "")
    return ExampleFilter(
        text=text_param(params, "q"),
        in_body=params.get("in_body") == "1",
        category_id=number_param(params, "category"),
        labeller_id=number_param(params, "labeller"),
        status=status if status in Example.Status.values else "",
        since=date_param(params, "since"),
        until=date_param(params, "until"),
    )


def _bulk(request, dataset: Dataset) -> str:
    ids = numbers_param(request.POST, "example")
    reason = request.POST.get("reason", "").strip() or "bulk action from search"
    if request.POST.get("action") == "relabel":
        category = get_object_or_404(Category, pk=number_param(request.POST, "category", required=True))
        changeset = examples_relabel_bulk(
            dataset=dataset, example_ids=ids, category=category, user=request.user, reason=reason
        )
    else:
        changeset = examples_mark_for_review_bulk(
            dataset=dataset, example_ids=ids, user=request.user, reason=reason
        )
    return f"Changeset #{changeset.id}: {changeset.total} changes."


@roles.role_required(roles.ANNOTATOR)
def examples_browse(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    if request.method == "POST":
        try:
            messages.success(request, _bulk(request, dataset))
        except ApplicationError as error:
            messages.error(request, str(error))
        return redirect(request.get_full_path())
    wanted = _filter(request.GET)
    page = CappedPaginator(examples_search(dataset, wanted), PER_PAGE).get_page(request.GET.get("page"))
    labellers = get_user_model().objects.filter(is_active=True).only("username").order_by("username")
    return render(
        request,
        "labeling/browse.html",
        {
            "dataset": dataset,
            "page": page,
            "wanted": wanted,
            "statuses": Example.Status.choices,
            "categories": category_choices(dataset.taxonomy_id),
            "query": request.GET.urlencode(),
            "count_cap": COUNT_CAP,
            "labellers": labellers,
        },
    )
