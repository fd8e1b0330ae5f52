"""One rule for the text every entry point stores (pages, forms, the API, imports, commands), the same on both
databases: no NUL character (PostgreSQL cannot store one, SQLite would), no lone surrogate (not UTF-8), and
no more characters than the column holds (PostgreSQL refuses them, SQLite would keep them all)."""

from django.db import models

from core.errors import ApplicationError

PROJECT_APPS = ("core", "labeling", "training", "catalog", "indexing")


def text_problem(value: str, *, max_length: int | None = None) -> str | None:
    """What keeps `value` from being stored the same on both databases, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    if max_length is not None and len(value) > max_length:
        return f"is longer than {max_length:,} characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a character that is not UTF-8 (a lone surrogate)"
    return None


def text_check(value: str, *, name: str, max_length: int | None = None) -> str:
    """`value` unchanged, or an ApplicationError that names the field and the problem."""
    problem = text_problem(value, max_length=max_length)
    if problem:
        raise ApplicationError(f"The {name} {problem}.", code="bad_text", details={"field": name})
    return value


def model_texts_check(sender, instance, **kwargs) -> None:
    """pre_save receiver: every text field of a project model obeys the rule before it is written."""
    if sender._meta.app_label not in PROJECT_APPS:
        return
    for field in sender._meta.concrete_fields:
        if isinstance(field, models.CharField | models.TextField):
            value = getattr(instance, field.attname)
            if isinstance(value, str):
                text_check(value, name=str(field.verbose_name), max_length=field.max_length)
