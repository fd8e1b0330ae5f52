"""The search form's category options, built in one pass: the page lists 200 and more categories twice,
and a template loop cost several nodes per option (a fifth of the page's time)."""

from django import template
from django.utils.html import format_html_join

register = template.Library()


@register.simple_tag
def category_options(choices, selected=None, *, small_only: bool = False):
    """`<option>`s of the categories (labeling.selectors.search.CategoryChoice), escaped; `selected` is
    the chosen id."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (choice.id, " selected" if choice.id == selected else "", choice.path)
            for choice in choices
            if choice.parent_id or not small_only
        ),
    )
