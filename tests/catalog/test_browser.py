"""A manager works the catalog review queue and a catalog's page by keyboard in Chromium (the worker build:
test_worker.py)."""

import pytest

from catalog.models import Catalog, CatalogMembership, CategoryRules, Offer, PairDecision, Shop
from catalog.services.runs import catalog_run_inline
from core import roles
from tests.factories import SmallCategoryFactory, user_with_role
from tests.training.test_browser import shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLES = {
    "abt": ["Sony Turntable PSLX350H belt drive", "Bose Acoustimass 5 speaker system AM53BK"],
    "buy": ["Sony PS-LX350H belt-drive turntable", "Bose Acoustimass 5 Series III speakers AM53BK"],
    "gmarket": ["[무료배송] SONY 턴테이블 PS-LX350H belt drive", "【특가】 BOSE Acoustimass 5 스피커 AM53BK"],
}


def test_split_approve_retitle_move_and_merge_by_keyboard(page):
    user_with_role(roles.MANAGER, username="manager", password="correct horse battery staple")
    category = SmallCategoryFactory(name="audio", parent__name="electronics")
    CategoryRules.objects.create(category=category, publish_threshold=1.0)  # everything goes to review
    for shop_name, titles in TITLES.items():
        shop = Shop.objects.create(name=shop_name)
        for number, title in enumerate(titles):
            Offer.objects.create(
                shop=shop,
                external_id=f"{shop_name}-{number}",
                title=title,
                category=category,
                price=100 + number,
            )
    page.goto("/login/")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    run = catalog_run_inline(user=None)
    assert run.status == "succeeded" and run.figures[str(category.id)]["groups"] == 2
    page.goto(f"/catalog/runs/{run.id}/")
    assert page.locator("[data-testid=job-status]").inner_text() == "succeeded"
    page.goto("/catalog/review/")
    assert "2 catalogs waiting" in page.locator("[data-testid=waiting]").inner_text()
    shoot(page, "catalog-review.png")
    catalog = Catalog.objects.get(
        pk=int(page.locator("[data-testid=review-item]").get_attribute("data-catalog"))
    )
    page.keyboard.press("3")  # tick the third offer ...
    page.keyboard.press("s")  # ... and split it off
    page.wait_for_selector("text=split done", timeout=60_000)
    assert PairDecision.objects.filter(kind="split").count() == 2
    assert CatalogMembership.objects.filter(catalog=catalog).count() == 2
    page.keyboard.press("a")  # the next catalog in the queue: approve it
    page.wait_for_selector("text=approve done", timeout=60_000)
    assert Catalog.objects.filter(status="published", reviewed_by__username="manager").count() == 2
    other = Catalog.objects.exclude(pk=catalog.id).get()

    # on a catalog's page: retitle (T), move a ticked offer (1, V), merge a catalog in (M), all by keyboard
    page.goto(f"/catalog/{catalog.id}/")
    assert page.locator("[data-testid=offer]").count() == 2
    assert "V move" in page.locator("[data-testid=keys]").inner_text()
    page.keyboard.press("t")
    title = f"{catalog.title} (reviewed)"
    page.keyboard.type(title)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=title done", timeout=60_000)
    shoot(page, "catalog-page.png")
    moved = int(page.locator("[data-testid=offer] input[type=checkbox]").first.get_attribute("value"))
    page.keyboard.press("1")
    page.keyboard.press("v")
    page.keyboard.type(str(other.id))
    page.keyboard.press("Enter")
    page.wait_for_selector("text=move done", timeout=60_000)
    assert CatalogMembership.objects.get(offer_id=moved).catalog_id == other.id
    assert page.locator("[data-testid=offer]").count() == 1
    page.keyboard.press("m")
    page.keyboard.type(str(other.id))
    page.keyboard.press("Enter")
    page.wait_for_selector("text=merge done", timeout=60_000)
    assert CatalogMembership.objects.filter(catalog=catalog).count() == 5  # 1 left + 3 + the moved one
    assert Catalog.objects.get(pk=other.id).status == "rejected"
    assert Catalog.objects.get(pk=catalog.id).title == title
    reasons = set(CatalogMembership.history.values_list("history_change_reason", flat=True))
    assert {"reviewer: move", "reviewer: merge"} <= reasons
    assert Catalog.history.filter(id=catalog.id, history_change_reason="reviewer: title").exists()
