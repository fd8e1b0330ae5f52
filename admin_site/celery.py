"""The Celery app: one for the whole site; tasks live in each app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "admin_site.settings")

app = Celery("bunryu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
