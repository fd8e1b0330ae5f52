"""The errors services raise for people (and API clients) to read, and how the API renders every error.

An `ApplicationError` means "refused, nothing was changed": pages and commands show its message as is; the
API answers with its HTTP `status` and a body `{"detail": message, "code": code, ...details}`. Clients branch
on `code` (stable, documented in docs/api.md), never on the English text. DRF's own errors (validation, 401,
403, 404, 405, 406, 415, 429) get the same shape from `api_exception_handler`.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A refused write: the message says why, and nothing was changed."""

    status = 400
    code = "refused"

    def __init__(self, message: str = "", *, code: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


def error_body(error: ApplicationError) -> dict:
    """What the API answers for `error` (with `error.status`): the shortcut and the handler both use it."""
    return {"detail": error.message, "code": error.code, **error.details}


def _first_message(errors) -> str:
    """The first validation message, prefixed by its field: 'category: This field is required.'"""
    if isinstance(errors, dict):
        name, value = next(iter(errors.items()), ("", ""))
        inner = _first_message(value)
        return inner if name in ("", api_settings.NON_FIELD_ERRORS_KEY) else f"{name}: {inner}"
    if isinstance(errors, list):
        return _first_message(errors[0]) if errors else ""
    return str(errors)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: ApplicationError with its status and code; DRF's errors with their code
    (`invalid` with the field `errors` for validation); anything else stays a 500."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": _first_message(exc.detail), "code": "invalid", "errors": response.data}
    elif isinstance(exc, exceptions.APIException) and isinstance(response.data, dict):
        codes = exc.get_codes()
        response.data["code"] = codes if isinstance(codes, str) else exc.default_code
    return response
