"""A full build through the real Celery worker: one task per category, the run row closes itself."""

import time

import pytest

from catalog.models import Catalog, Offer, Shop
from catalog.services.runs import catalog_run_enqueue
from tests.factories import SmallCategoryFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_full_build_runs_on_the_worker_one_task_per_category(live_worker):
    user = UserFactory()
    for name in ("audio", "cameras"):
        category = SmallCategoryFactory(name=name)
        for shop_name in ("abt", "buy"):
            shop, _ = Shop.objects.get_or_create(name=shop_name)
            title = f"Sony {name} XR-{len(name)}00"
            Offer.objects.create(shop=shop, external_id=f"{name}-{shop_name}", title=title, category=category)
    run = catalog_run_enqueue(user=user, mode="full")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status not in ("queued", "running"):
            break
        time.sleep(0.5)
    assert run.status == "succeeded", (run.status, run.message)
    assert run.progress == 1.0 and len(run.figures) == 2
    assert Catalog.objects.count() == 2
    assert set(Catalog.history.values_list("history_user", flat=True)) == {user.id}
