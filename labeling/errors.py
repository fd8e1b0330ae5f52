"""Errors that services raise for people to read; views and commands show the message as is."""


class LabelingError(Exception):
    """A refused write: the message says why, and nothing was changed."""


class StaleExampleError(LabelingError):
    """The example changed since the caller read it (optimistic locking)."""

    def __init__(self, *, example_id: int, changed_by: str, changed_at) -> None:
        self.example_id = example_id
        self.changed_by = changed_by
        self.changed_at = changed_at
        super().__init__(
            f"This example was changed by {changed_by} at {changed_at:%Y-%m-%d %H:%M:%S %Z}; "
            "reload it and try again."
        )
