"""The job page names the job in words."""

import pytest
from django.urls import reverse

from core import roles
from core.models import Job
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


def test_the_job_page_title_reads_as_words(client):
    user = user_with_role(roles.MANAGER)
    job = Job.objects.create(kind="import_preview", created_by=user)
    client.force_login(user)
    page = client.get(reverse("core:job", args=[job.id])).content.decode()
    assert f"<h1>Import preview #{job.id}" in page and "Import_preview" not in page
