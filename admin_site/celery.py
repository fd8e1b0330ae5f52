"""The Celery app: one for the whole site; tasks live in each app's tasks.py."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "admin_site.settings")

app = Celery("bunryu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _fail_jobs_left_running(**kwargs) -> None:
    """The embedded default runs one worker on SQLite (no row locks to tell a live job from a dead one):
    whatever is RUNNING when it starts was left by the worker before it (core/reaping.py)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        from core.reaping import jobs_fail_left_running

        jobs_fail_left_running()
