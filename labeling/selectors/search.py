"""Finding examples by text, category, status, labeller and date (server-side, paginated)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from labeling.models import Dataset, Example


@dataclass
class ExampleFilter:
    text: str = ""
    in_body: bool = False
    category_id: int | None = None
    status: str = ""
    labeller_id: int | None = None
    since: date | None = None
    until: date | None = None


def examples_search(dataset: Dataset, wanted: ExampleFilter) -> QuerySet:
    """Examples matching every given filter, newest label first. Text matches the title (a trigram index
    serves it on PostgreSQL) or the exact external id, and the body when asked (a scan)."""
    found = Example.objects.filter(dataset=dataset).exclude(status=Example.Status.REMOVED)
    if wanted.text:
        matches = Q(content__title__icontains=wanted.text) | Q(content__external_id=wanted.text)
        if wanted.in_body:
            matches |= Q(content__body__icontains=wanted.text)
        found = found.filter(matches)
    if wanted.category_id:
        found = found.filter(Q(category_id=wanted.category_id) | Q(category__parent_id=wanted.category_id))
    if wanted.status:
        found = found.filter(status=wanted.status)
    if wanted.labeller_id:
        found = found.filter(labeled_by_id=wanted.labeller_id)
    if wanted.since:
        found = found.filter(labeled_at__date__gte=wanted.since)
    if wanted.until:
        found = found.filter(labeled_at__date__lte=wanted.until)
    return found.select_related("content", "category__parent", "labeled_by").order_by("-labeled_at", "-id")
