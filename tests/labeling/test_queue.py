"""The labeling queue: claims, skipping, saving, undo; and an annotator labelling with the keyboard only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core import roles
from core.errors import ApplicationError
from labeling.errors import StaleExampleError
from labeling.models import Category, Example, QueueClaim
from labeling.services import example_label
from labeling.services.queue import QueueChoice, queue_label, queue_next, queue_undo
from tests.factories import ContentFactory, DatasetFactory, SmallCategoryFactory, user_with_role

UNLABELLED = QueueChoice("unlabelled")


@pytest.fixture
def setup(db):
    dataset = DatasetFactory()
    categories = SmallCategoryFactory.create_batch(3, parent__taxonomy=dataset.taxonomy)
    contents = ContentFactory.create_batch(4)
    ana, bo = (user_with_role(roles.ANNOTATOR, username=name) for name in ("ana", "bo"))
    return dataset, categories, contents, ana, bo


def test_two_annotators_never_hold_the_same_item(setup):
    dataset, categories, contents, ana, bo = setup
    first = queue_next(dataset=dataset, choice=UNLABELLED, user=ana, skipped=[])
    second = queue_next(dataset=dataset, choice=UNLABELLED, user=bo, skipped=[])
    assert first != second
    assert queue_next(dataset=dataset, choice=UNLABELLED, user=ana, skipped=[]) == first  # a reload
    QueueClaim.objects.filter(user=ana).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert queue_next(dataset=dataset, choice=UNLABELLED, user=bo, skipped=[second.id]) == first


def test_saving_labels_frees_the_claim_and_moves_on(setup):
    dataset, (a, b, c), contents, ana, bo = setup
    item = queue_next(dataset=dataset, choice=UNLABELLED, user=ana, skipped=[])
    queue_label(dataset=dataset, content=item, category=a, user=ana, note="clear case", expected_version=0)
    assert not QueueClaim.objects.exists()
    assert Example.objects.get(content=item).note == "clear case"
    assert queue_next(dataset=dataset, choice=UNLABELLED, user=ana, skipped=[]) != item


def test_undo_puts_the_example_back_and_refuses_after_someone_else(setup):
    dataset, (a, b, c), contents, ana, bo = setup
    example_label(dataset=dataset, content=contents[0], category=a, user=bo)
    queue_label(dataset=dataset, content=contents[0], category=b, user=ana, note="", expected_version=1)
    queue_undo(dataset=dataset, user=ana)
    example = Example.objects.get(content=contents[0])
    assert (example.category, example.version) == (a, 3)
    queue_label(dataset=dataset, content=contents[1], category=c, user=ana, note="", expected_version=0)
    assert queue_undo(dataset=dataset, user=ana).status == Example.Status.REMOVED

    queue_label(dataset=dataset, content=contents[2], category=c, user=ana, note="", expected_version=0)
    example_label(dataset=dataset, content=contents[2], category=a, user=bo)
    with pytest.raises(ApplicationError, match="changed again"):
        queue_undo(dataset=dataset, user=ana)


def test_a_stale_save_in_the_queue_is_refused(setup):
    dataset, (a, b, c), contents, ana, bo = setup
    example_label(dataset=dataset, content=contents[0], category=a, user=bo)
    example_label(dataset=dataset, content=contents[0], category=b, user=bo, expected_version=1)
    with pytest.raises(StaleExampleError, match="changed by bo"):
        queue_label(dataset=dataset, content=contents[0], category=c, user=ana, note="", expected_version=1)


PASSWORD = "correct horse battery staple"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_annotator_labels_three_items_with_the_keyboard(page):
    annotator = user_with_role(roles.ANNOTATOR, username="annotator-kim", password=PASSWORD)
    dataset = DatasetFactory(name="petitions")
    first, second = SmallCategoryFactory.create_batch(2, parent__taxonomy=dataset.taxonomy)
    for n in range(4):
        ContentFactory(title=f"청원 {n} <b>굵게</b>", external_id=f"p-{n}")

    page.goto("/login/")
    page.fill("input[name=username]", "annotator-kim")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/labeling/")
    page.goto(f"/labeling/datasets/{dataset.id}/queue/")
    seen = []
    for key in ("1", "2", "1"):
        page.wait_for_selector("[data-testid=item]")
        title = page.locator("[data-testid=item-title]").inner_text()
        assert "<b>굵게</b>" in title  # shown as text, never as markup
        seen.append(title)
        page.keyboard.press(key)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    with page.expect_navigation():
        page.keyboard.press("s")  # skip the fourth
    page.wait_for_selector("[data-testid=queue-empty]")
    assert "3 done today" in page.locator("[data-testid=progress]").inner_text()

    examples = Example.objects.filter(dataset=dataset).select_related("content", "category")
    assert sorted(e.content.title for e in examples) == sorted(seen)
    assert (
        Example.history.filter(history_user=annotator, history_change_reason="labelled in the queue").count()
        == 3
    )
    assert [e.category for e in examples.order_by("content__external_id")] == [first, second, first]
    refused = page.goto(f"/labeling/datasets/{dataset.id}/import/")
    assert refused.status == 403  # annotators do not import
    assert "category manager" in page.locator("[data-testid=forbidden]").inner_text()


def test_unlabelled_queue_serves_only_the_dataset_pool(setup):
    dataset, categories, contents, ana, bo = setup
    dataset.content_sources = ["korean-petitions/"]
    dataset.save()
    mine = ContentFactory(source="korean-petitions/2019-08")
    assert queue_next(dataset=dataset, choice=UNLABELLED, user=ana, skipped=[]) == mine
    assert queue_next(dataset=dataset, choice=UNLABELLED, user=bo, skipped=[]) is None


def test_a_removed_label_puts_an_old_content_back_at_the_front(setup):
    dataset, (a, b, c), contents, ana, bo = setup
    for content in contents[:2]:
        example_label(dataset=dataset, content=content, category=a, user=bo, reason="done", note="")
    assert queue_next(dataset=dataset, choice=UNLABELLED, user=ana, skipped=[]) == contents[2]
    queue_undo(dataset=dataset, user=bo)  # bo's last label (contents[1]) is removed
    assert queue_next(dataset=dataset, choice=UNLABELLED, user=bo, skipped=[]) == contents[1]


def test_undo_in_the_queue_is_not_work_done_and_offers_the_item_again(setup, client):
    dataset, (a, b, c), contents, ana, bo = setup
    url = reverse("labeling:queue", args=[dataset.id])
    client.force_login(ana)
    first = client.get(url).context["content"]
    client.post(url, {"action": "save", "content": first.id, "category": a.id, "version": "0"})
    page = client.get(url)
    assert page.context["done_today"] == 1 and page.context["content"] != first

    client.post(url, {"action": "undo"})
    page = client.get(url)
    assert page.context["done_today"] == 0
    assert page.context["content"] == first  # to label again, before anything new


@pytest.mark.django_db(transaction=True)
def test_past_nine_categories_two_digits_pick_one_without_the_mouse(page):
    user_with_role(roles.ANNOTATOR, username="annotator-lee", password=PASSWORD)
    dataset = DatasetFactory(name="many")
    large = SmallCategoryFactory(parent__taxonomy=dataset.taxonomy).parent
    Category.objects.filter(parent=large).delete()
    twelve = [
        Category.objects.create(taxonomy=dataset.taxonomy, level=2, parent=large, name=f"c{n:02}")
        for n in range(1, 13)
    ]
    ContentFactory(title="one post", external_id="p-1")

    page.goto("/login/")
    page.fill("input[name=username]", "annotator-lee")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/labeling/")
    page.goto(f"/labeling/datasets/{dataset.id}/queue/")
    page.wait_for_selector("[data-testid=item]")
    assert page.locator("#categories li.small .key").last.inner_text() == "12"
    page.keyboard.press("1")
    page.keyboard.press("2")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert Example.objects.get(dataset=dataset).category == twelve[-1]


def test_the_queue_refuses_content_outside_the_pool_and_a_missing_version(setup, client):
    dataset, (a, b, c), contents, ana, bo = setup
    dataset.content_sources = ["news/"]
    dataset.save()
    contents[0].source = "news/world"
    contents[0].save()
    client.force_login(ana)
    url = reverse("labeling:queue", args=[dataset.id])
    outside = {"action": "label", "content": contents[1].id, "category": a.id, "version": 0}
    response = client.post(url, outside, follow=True)
    assert "is not in the pool of dataset" in response.content.decode()
    no_version = {"action": "label", "content": contents[0].id, "category": a.id}
    response = client.post(url, no_version, follow=True)
    assert "did not say which version" in response.content.decode()
    assert not Example.objects.exists()
    client.post(url, {**no_version, "version": 0})
    assert Example.objects.get().content == contents[0]


def test_a_skip_lets_the_item_go_at_once(setup, client):
    dataset, categories, contents, ana, bo = setup
    client.force_login(ana)
    url = reverse("labeling:queue", args=[dataset.id])
    client.get(url)
    held = QueueClaim.objects.get(user=ana).content
    client.post(url, {"action": "skip", "content": held.id})
    assert not QueueClaim.objects.filter(content=held).exists()
    assert queue_next(dataset=dataset, choice=UNLABELLED, user=bo, skipped=[]) == held
