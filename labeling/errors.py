"""Errors of the labeling app (on top of core.errors.ApplicationError)."""

from core.errors import ApplicationError


class StaleExampleError(ApplicationError):
    """The example changed since the caller read it (optimistic locking)."""

    status = 409
    code = "stale_example"

    def __init__(self, *, example_id: int, changed_by: str, changed_at) -> None:
        self.example_id = example_id
        self.changed_by = changed_by
        self.changed_at = changed_at
        super().__init__(
            f"This example was changed by {changed_by} at {changed_at:%Y-%m-%d %H:%M:%S %Z}; "
            "reload it and try again.",
            details={"example": example_id, "changed_by": changed_by, "changed_at": changed_at.isoformat()},
        )
