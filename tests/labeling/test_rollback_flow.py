"""An admin rolls a dataset back in Chromium; the rollback runs on the real Celery worker."""

import pytest

from core import roles
from labeling.models import Changeset, DatasetVersion, Example
from labeling.selectors.versions import version_state, working_state
from labeling.services import example_label
from labeling.services.versions import dataset_commit
from tests.factories import DatasetFactory, ExampleFactory, SmallCategoryFactory, user_with_role

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


def test_admin_rolls_back_through_the_pages(page, live_worker):
    admin = user_with_role(roles.ADMIN, username="admin-kim", password=PASSWORD)
    dataset = DatasetFactory(name="petitions")
    a, b = SmallCategoryFactory.create_batch(2, parent__taxonomy=dataset.taxonomy, name="반려동물")
    ExampleFactory.create_batch(4, dataset=dataset, category=a)
    v1 = dataset_commit(dataset=dataset, user=admin, message="검수 완료")
    for example in Example.objects.filter(dataset=dataset)[:2]:
        example_label(dataset=dataset, content=example.content, category=b, user=admin)

    page.goto("/login/")
    page.fill("input[name=username]", "admin-kim")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"/labeling/datasets/{dataset.id}/")
    assert page.locator("[data-testid=dirty]").inner_text().startswith("2 changes since v1")
    page.click("text=History & versions")
    page.click("[data-testid=rollback-1]")
    assert page.locator("[data-testid=diff-total]").inner_text().startswith("2 changes")
    page.fill("input[name=reason]", "잘못된 일괄 수정")
    page.click("[data-testid=confirm-rollback]")
    page.wait_for_selector("[data-testid=job-changeset]", timeout=60000)
    assert page.locator("[data-testid=job-status]").inner_text() == "succeeded"
    page.click("[data-testid=job-changeset]")
    assert "2 relabelled" in page.locator("[data-testid=changeset-counts]").inner_text()

    assert working_state(dataset) == version_state(v1)
    changeset = Changeset.objects.get(kind=Changeset.Kind.ROLLBACK)
    assert changeset.user == admin and "잘못된 일괄 수정" in changeset.reason
    assert Example.history.filter(changeset=changeset, history_user=admin).count() == 2
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 2  # v2 = the state before
