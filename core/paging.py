"""Paging over lists that can grow past what is worth counting exactly."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


def capped_count(queryset, cap: int = COUNT_CAP) -> int:
    """Count up to cap + 1 rows: exact counts of 100k+ rows cost more than the page they describe."""
    return queryset[: cap + 1].count()


class CappedPaginator(Paginator):
    """Reads the ids of at most COUNT_CAP + 1 results, in order, with one query: how many there are is the
    count (past the cap a page says "10,000+"; the `capped` filter), a page is a slice of them.

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
