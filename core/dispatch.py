"""Enqueueing Celery tasks by name, once the surrounding transaction commits.

Services enqueue through here instead of importing their app's `tasks` module, so imports run one way:
tasks import services, never the reverse. The name is the task's dotted path (`labeling.tasks.job_run_task`);
the task module is imported only when the task is sent.
"""

from django.db import transaction
from django.utils.module_loading import import_string


class Send:
    """An on-commit callback that sends one task (tests read `task_name`, `args` and `kwargs`)."""

    def __init__(self, task_name: str, args: tuple, kwargs: dict) -> None:
        self.task_name, self.args, self.kwargs = task_name, args, kwargs

    def __call__(self) -> None:
        import_string(self.task_name).apply_async(self.args, self.kwargs)

    def __repr__(self) -> str:
        return f"Send({self.task_name}, {self.args}, {self.kwargs})"


def enqueue(task_name: str, *args, robust: bool = False, **kwargs) -> None:
    """Send task `task_name` with these arguments (ids and plain values) after the current transaction
    commits (at once outside one); `robust`: a broker error is logged, not raised to the caller."""
    transaction.on_commit(Send(task_name, args, kwargs), robust=robust)
