"""The catalog's refused writes: the same error type the labeling pages and API show as is."""

from labeling.errors import LabelingError


class CatalogError(LabelingError):
    """A refused catalog write: the message says why, and nothing was changed."""
