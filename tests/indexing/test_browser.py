"""An admin opens the indexing page in Chromium: the status, the Plotly chart drawn from local assets, and the
search page finding a Korean word inside a compound through the engine."""

import os
from pathlib import Path

import pytest

from core import roles
from indexing import services
from indexing.models import SyncMinute
from tests.factories import DatasetFactory, ExampleFactory, user_with_role
from tests.indexing.conftest import drain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("BUNRYU_SCREENSHOTS")


def test_an_admin_reads_the_indexing_page_and_searches(page, search):
    user_with_role(roles.ADMIN, username="boss", password="correct horse battery staple")
    dataset = DatasetFactory()
    ExampleFactory(dataset=dataset, content__title="저출산고령화대책 <i>촉구</i>", content__body="")
    drain(services)
    assert SyncMinute.objects.exists()  # the drain was counted for the chart
    page.goto("/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.goto("/indexing/")
    page.wait_for_selector("[data-testid=figure] .main-svg")  # Plotly drew the chart
    assert "0 events pending" in page.locator("[data-testid=lag]").inner_text()
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "indexing-status.png"), full_page=True)
    page.goto(f"/labeling/datasets/{dataset.id}/examples/?q=고령화")
    assert "저출산고령화대책 <i>촉구</i>" in page.content().replace("&lt;", "<").replace("&gt;", ">")
    assert page.locator("i", has_text="촉구").count() == 0  # the title is escaped, not markup
