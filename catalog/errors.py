"""The catalog's refused writes: the same error type the labeling pages and API show as is."""

from core.errors import ApplicationError


class CatalogError(ApplicationError):
    """A refused catalog write: the message says why, and nothing was changed."""
