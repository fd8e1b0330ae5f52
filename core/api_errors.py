"""How the API renders every error (DRF's EXCEPTION_HANDLER): `core.errors.ApplicationError` with its status
and code, DRF's own errors in the same shape."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from core.errors import ApplicationError, error_body


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
