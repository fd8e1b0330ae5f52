"""Search and browse examples, and act on a selection as one changeset."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.utils.functional import cached_property

from labeling import roles
from labeling.errors import LabelingError
from labeling.models import Category, Dataset, Example
from labeling.selectors import COUNT_CAP, dataset_or_404
from labeling.selectors.search import ExampleFilter, category_choices, examples_search
from labeling.services.versions import examples_mark_for_review_bulk, examples_relabel_bulk
from labeling.views.params import number_param

__all__ = ["examples_browse"]


class CappedPaginator(Paginator):
    """Reads the ids of at most COUNT_CAP + 1 results, in order, with one query: how many there are is the
    count (past the cap the page says "10,000+" and asks to narrow down), a page is a slice of them.

    A count and a page each of their own ran a text search twice. Only the page's rows are then read with
    their joins: an OFFSET over the joined query would join every row it skips, 10,000 on the last page."""

    @cached_property
    def ids(self) -> list[int]:
        return list(self.object_list.values_list("id", flat=True)[: COUNT_CAP + 1])

    @cached_property
    def count(self) -> int:
        return len(self.ids)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.ids[bottom:top]
        rows = self.object_list.model.objects.filter(id__in=ids)
        # the joins and columns of the search, without its filters again
        rows.query.select_related = self.object_list.query.select_related
        rows.query.deferred_loading = self.object_list.query.deferred_loading
        position = {pk: index for index, pk in enumerate(ids)}
        return self._get_page(sorted(rows, key=lambda row: position[row.pk]), number, self)


PER_PAGE = 50


def _date(value: str):
    if not value:
        return None
    parsed = parse_date(value)  # None for another format, ValueError for an impossible date
    if parsed is None:
        raise ValueError(value)
    return parsed


def _filter(params) -> ExampleFilter:
    status = params.get("status", "")
    return ExampleFilter(
        text=params.get("q", "").strip()[:200],
        in_body=params.get("in_body") == "1",
        category_id=number_param(params.get("category", "")),
        labeller_id=number_param(params.get("labeller", "")),
        status=status if status in Example.Status.values else "",
        since=_date(params.get("since", "")),
        until=_date(params.get("until", "")),
    )


def _bulk(request, dataset: Dataset) -> str:
    ids = [int(v) for v in request.POST.getlist("example") if v.isdigit()]
    reason = request.POST.get("reason", "").strip() or "bulk action from search"
    if request.POST.get("action") == "relabel":
        category = get_object_or_404(Category, pk=number_param(request.POST.get("category", "")) or 0)
        changeset = examples_relabel_bulk(
            dataset=dataset, example_ids=ids, category=category, user=request.user, reason=reason
        )
    else:
        changeset = examples_mark_for_review_bulk(
            dataset=dataset, example_ids=ids, user=request.user, reason=reason
        )
    return f"Changeset #{changeset.id}: {changeset.total} examples changed."


@roles.role_required(roles.ANNOTATOR)
def examples_browse(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    if request.method == "POST":
        try:
            messages.success(request, _bulk(request, dataset))
        except LabelingError as error:
            messages.error(request, str(error))
        return redirect(request.get_full_path())
    try:
        wanted = _filter(request.GET)
    except ValueError:
        messages.error(request, "Dates are written YYYY-MM-DD.")
        wanted = ExampleFilter()
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
