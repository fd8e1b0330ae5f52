"""Reading query and form values: a value a user can type never reaches `int()`, a date parser or a
primary-key lookup unchecked.

Each reader takes the request's QueryDict (GET or POST) and the parameter's name. A missing or empty value is
None; a value that is there but wrong raises BadParameter, which Django answers with a 400 that says what was
wrong (`bad_request`, the site's handler400; JSON under /api/).
"""

import math
import re
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from core.text import text_problem

ID_MAX = 2**63 - 1  # the largest primary key either database stores (SQLite refuses larger integers)
# ASCII digits only: str.isdigit() also accepts '²' and other digits that int() refuses.
_DIGITS = re.compile(r"[0-9]{1,19}")
SHOWN = 40  # characters of a wrong value quoted back


class BadParameter(BadRequest):
    """A query or form value that is there but wrong; the message names it and says what it should be."""


def _value(data, name: str) -> str | None:
    value = data.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _bad(name: str, value: str, expected: str) -> BadParameter:
    return BadParameter(f"{name}: {value[:SHOWN]!r} is not {expected}.")


def text_param(data, name: str, *, max_length: int = 200) -> str:
    """Free text (search words), stripped and cut to `max_length` characters ("" when missing); a text no
    database can compare with (a NUL character, a lone surrogate) is refused."""
    value = (data.get(name) or "").strip()[:max_length]
    if problem := text_problem(value):
        raise BadParameter(f"{name}: the text {problem}.")
    return value


def number_param(data, name: str, *, maximum: int = ID_MAX, required: bool = False) -> int | None:
    """A whole number from 0 to `maximum` (ids, version numbers, pages)."""
    value = _value(data, name)
    if value is None:
        if required:
            raise BadParameter(f"{name}: a whole number is required.")
        return None
    if not _DIGITS.fullmatch(value) or int(value) > maximum:
        raise _bad(name, value, f"a whole number from 0 to {maximum}")
    return int(value)


def numbers_param(data, name: str) -> list[int]:
    """Every value of a repeated parameter (`?example=1&example=2`), each a whole number."""
    return [number_param({name: value}, name) for value in data.getlist(name) if value.strip()]


def decimal_param(data, name: str) -> float | None:
    """A finite decimal number (no nan, no inf)."""
    value = _value(data, name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise _bad(name, value, "a finite number")
    return number


def date_param(data, name: str) -> date | None:
    """A calendar date written YYYY-MM-DD."""
    return _parsed(data, name, parse_date, "a date written YYYY-MM-DD")


def datetime_param(data, name: str) -> datetime | None:
    """A moment written YYYY-MM-DDTHH:MM (the site's time zone unless it names one)."""
    parsed = _parsed(data, name, parse_datetime, "a time written YYYY-MM-DDTHH:MM")
    return timezone.make_aware(parsed) if parsed and timezone.is_naive(parsed) else parsed


def _parsed(data, name: str, parse, wanted: str):
    """The parameter read by Django's parse_date / parse_datetime (None when absent); BadParameter when the
    text is not one, or is well formed but impossible, such as 2026-13-45."""
    value = _value(data, name)
    if value is None:
        return None
    try:
        parsed = parse(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise _bad(name, value, wanted)
    return parsed


def body_too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {"detail": f"The request body is larger than the limit of {limit:,} bytes.", "limit_bytes": limit},
        status=413,
    )


def bad_request(request, exception=None):
    """The site's handler400: says what was wrong (JSON under /api/), not a bare "Bad Request (400)"."""
    if isinstance(exception, RequestDataTooBig):  # a body too large to read (forms, or an API body sent
        return body_too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)  # without its length)
    reason = str(exception) if isinstance(exception, BadRequest) else ""
    reason = reason or "The request is malformed."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": reason}, status=400)
    return render(request, "400.html", {"reason": reason}, status=400)
