"""A person logs in with Chromium and reads a dataset's dashboard."""

import pytest

from core import roles
from labeling.models import Example
from tests.factories import (
    DatasetFactory,
    ExampleFactory,
    LargeCategoryFactory,
    SmallCategoryFactory,
    user_with_role,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_and_read_the_dashboard(page):
    user_with_role(roles.ANNOTATOR, username="annotator", password="correct horse battery staple")
    dataset = DatasetFactory(name="petitions", min_examples_per_category=2)
    large = LargeCategoryFactory(taxonomy=dataset.taxonomy, name="사회/복지")
    pets = SmallCategoryFactory(parent=large, name="반려동물")
    health = SmallCategoryFactory(parent=large, name="보건복지", is_important=True)
    ExampleFactory.create_batch(3, dataset=dataset, category=health)
    ExampleFactory(dataset=dataset, category=pets)

    page.goto("/")
    assert "/login/" in page.url
    page.fill("input[name=username]", "annotator")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.click("text=petitions")

    assert page.locator("h1").inner_text().startswith("petitions")
    pets_row = page.locator("tr[data-category='사회/복지 › 반려동물']")
    assert pets_row.get_attribute("class") == "small below-minimum"
    assert pets_row.locator("[data-testid=count]").inner_text() == "1"
    health_row = page.locator("tr[data-category='사회/복지 › 보건복지']")
    assert health_row.locator("[data-testid=count]").inner_text() == str(
        Example.objects.filter(category=health).count()
    )
    assert "important" in health_row.inner_text()
    assert page.locator("[data-testid=below-minimum]").inner_text() == "1 below minimum"
