"""The error type services raise for people (and API clients) to read.

An `ApplicationError` means "refused, nothing was changed": pages and commands show its message as is, the
API renders it with its HTTP status and its stable `code` (clients branch on the code, never on the text).
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
