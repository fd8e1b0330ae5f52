"""The errors services raise for people (and API clients) to read, and how the API renders every error.

An `ApplicationError` means "refused, nothing was changed": pages and commands show its message as is; the
API answers with its HTTP `status` and a body `{"detail": message, "code": code, ...details}`. Clients branch
on `code` (stable, documented in docs/api.md), never on the English text. DRF's own errors (validation, 401,
403, 404, 405, 406, 415, 429) get the same shape from `core.api_errors.api_exception_handler` (kept apart:
this module is imported by every service, and DRF is not for every command's start-up).
"""


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
