"""A manager trains a model in Chromium: the run page follows the worker live, then shows the figures."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core import roles
from tests.factories import user_with_role
from tests.training.conftest import make_dataset
from training.models import TrainingRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("BUNRYU_SCREENSHOTS")  # a folder: save the pages for docs/screenshots


def shoot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def test_a_manager_trains_and_follows_the_run(page, live_worker):
    user_with_role(roles.MANAGER, username="manager", password="correct horse battery staple")
    news = make_dataset("newsgroups", important="sci.space")
    page.goto("/login/")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.goto(f"/training/datasets/{news.id}/models/")
    assert "No champion yet" in page.locator("[data-testid=champion]").inner_text()
    page.select_option("select[name=algorithm]", "tfidf-svm")
    page.fill("textarea[name=params]", "C=1")
    page.fill("input[name=folds]", "3")
    page.click("[data-testid=train-form] button[type=submit]")
    # The run page polls the worker and reloads itself when the run ends.
    page.wait_for_selector("[data-testid=figures]", timeout=120_000)
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.SUCCEEDED and run.params["C"] == 1.0
    assert page.locator("[data-testid=job-status]").inner_text() == "succeeded"
    assert "★ champion" in page.locator("h1").inner_text()
    rows = page.locator("[data-testid=per-category] tbody tr")
    assert rows.count() == 3 and "important" in page.locator("[data-testid=per-category]").inner_text()
    shoot(page, "training-run.png")
    # Stricter requirements: the next run fails one and stays a challenger.
    page.goto(f"/training/datasets/{news.id}/models/requirements/")
    page.fill("input[name=min_accuracy]", "0.999")
    page.fill("input[name=min_important_recall]", "0.8")
    page.click("[data-testid=requirements] button[type=submit]")
    page.goto(f"/training/datasets/{news.id}/models/")
    page.select_option("select[name=algorithm]", "fasttext")
    page.fill("textarea[name=params]", "epoch=60\nwordNgrams=1")
    page.click("[data-testid=train-form] button[type=submit]")
    page.wait_for_selector("[data-testid=figures]", timeout=120_000)
    assert "fail · accuracy" in page.locator("p.fail").first.inner_text()
    page.click("text=Models")
    table = page.locator("[data-testid=runs]")
    assert table.locator("tr.champion").inner_text().startswith(f"#{run.id}")
    assert table.locator("td.fail").count() >= 1
    shoot(page, "training-runs.png")


def test_a_manager_finds_a_wrong_label_from_the_health_page_and_fixes_it(page):
    from labeling.models import Category, Example
    from tests.training.test_runs import train
    from training.models import LabelReview

    user_with_role(roles.MANAGER, username="manager", password="correct horse battery staple")
    news = make_dataset("newsgroups")
    autos, space = (Category.objects.get(taxonomy=news.taxonomy, name=n) for n in ("rec.autos", "sci.space"))
    flipped = list(Example.objects.filter(dataset=news, category=autos).order_by("id")[:6])
    Example.objects.filter(id__in=[e.id for e in flipped]).update(category=space)
    run = train(news, folds=5)
    refused = []  # what the Content-Security-Policy blocked: nothing on these pages
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/login/")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    page.goto(f"/training/datasets/{news.id}/health/")
    page.wait_for_selector("[data-testid=health-figure] .main-svg")  # Plotly drew the chart
    shoot(page, "verification-health.png")
    page.set_viewport_size({"width": 1440, "height": 900})  # a laptop: the table fits its card, no scrolling
    fits = "t => t.scrollWidth <= t.parentElement.clientWidth"
    assert page.locator("[data-testid=health]").evaluate(fits)
    worst = page.locator("[data-testid=health] tbody tr").first
    worst_name = worst.get_attribute("data-category")
    worst.locator("a").click()
    assert "/doubted/" in page.url
    page.locator("[data-testid=review-link]").first.click()
    item_title = page.locator("[data-testid=item] h2").inner_text()
    item_content = page.locator("[data-testid=item]").get_attribute("data-content")
    given = page.locator("[data-testid=given]").inner_text()
    predicted = page.locator("[data-testid=predicted]").inner_text()
    assert given == worst_name and predicted != given
    shoot(page, "verification-review.png")
    page.wait_for_load_state("load")  # the page's keys are listened to once its script ran
    page.keyboard.press("s")  # skip: the next doubted example comes (a new page: wait for it, don't race it)
    expect(page.locator("[data-testid=item]")).not_to_have_attribute("data-content", item_content)
    page.go_back()  # the example asked for by its link is served even after a skip
    page.reload()
    assert page.locator("[data-testid=item]").get_attribute("data-content") == item_content
    page.keyboard.press("1")  # relabel as the model's first choice
    page.wait_for_selector(".message.success")
    review = LabelReview.objects.get()
    example = Example.objects.get(dataset=news, content=review.content)
    assert review.content.title == item_title and review.decision == "relabel" and review.run == run
    assert example.category.path == predicted and example.history.first().history_user.username == "manager"
    page.goto(f"/training/datasets/{news.id}/confusion/")
    page.wait_for_selector("[data-testid=confusion-figure] .main-svg")
    shoot(page, "verification-confusion.png")
    assert refused == []
