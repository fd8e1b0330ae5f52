"""Counts that stop at a cap (core.paging.capped_count, core.paging.CappedPaginator)."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def capped(count: int, cap: int) -> str:
    """'10,000+' past the cap, else the count with thousands separators."""
    return f"{intcomma(cap)}+" if count > cap else intcomma(count)
