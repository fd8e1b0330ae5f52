"""The queue under concurrent annotators, on PostgreSQL with real threads (a pause widens each window)."""

import threading

import pytest
from django.test import Client
from django.urls import reverse

from core import roles
from core.errors import ApplicationError
from core.pauses import pausing
from labeling.errors import StaleExampleError
from labeling.models import Example, QueueClaim
from labeling.services import example_label
from labeling.services.queue import QueueChoice, queue_label, queue_next
from tests.factories import ContentFactory, DatasetFactory, SmallCategoryFactory, user_with_role
from tests.races import Gate, Racer, race

UNLABELLED = QueueChoice("unlabelled")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup():
    dataset = DatasetFactory()
    categories = SmallCategoryFactory.create_batch(2, parent__taxonomy=dataset.taxonomy)
    contents = ContentFactory.create_batch(3)
    ana, bo = (user_with_role(roles.ANNOTATOR, username=name) for name in ("ana", "bo"))
    return dataset, categories, contents, ana, bo


def test_a_live_claim_is_never_handed_over(setup):
    """bo picks the candidates, ana claims the first of them, then bo claims: bo gets another item."""
    dataset, _, contents, ana, bo = setup
    gate = Gate("bo")
    with pausing("claim-take", gate):
        bo_next = Racer("bo", lambda: queue_next(dataset=dataset, choice=UNLABELLED, user=bo, skipped=[]))
        bo_next.start()
        gate.wait_reached()
        ana_item = queue_next(dataset=dataset, choice=UNLABELLED, user=ana, skipped=[])
        gate.open()
        bo_item = bo_next.finish()
    assert ana_item != bo_item
    holders = dict(QueueClaim.objects.values_list("content_id", "user__username"))
    assert holders == {ana_item.id: "ana", bo_item.id: "bo"}


def test_an_item_claimed_and_saved_after_the_candidates_were_read_is_not_shown(setup):
    """bo reads the candidates; ana claims and labels the first of them; bo then gets another item."""
    dataset, (a, _), contents, ana, bo = setup
    gate = Gate("bo")
    with pausing("claim-take", gate):
        bo_next = Racer("bo", lambda: queue_next(dataset=dataset, choice=UNLABELLED, user=bo, skipped=[]))
        bo_next.start()
        gate.wait_reached()
        ana_item = queue_next(dataset=dataset, choice=UNLABELLED, user=ana, skipped=[])
        queue_label(dataset=dataset, content=ana_item, category=a, user=ana, note="", expected_version=0)
        gate.open()
        bo_item = bo_next.finish()
    assert bo_item != ana_item
    assert list(QueueClaim.objects.values_list("content_id", "user__username")) == [(bo_item.id, "bo")]


def test_a_save_of_an_item_someone_else_holds_is_refused(setup):
    dataset, (a, _), contents, ana, bo = setup
    item = queue_next(dataset=dataset, choice=UNLABELLED, user=ana, skipped=[])
    with pytest.raises(ApplicationError, match="ana is working on this item"):
        queue_label(dataset=dataset, content=item, category=a, user=bo, note="", expected_version=0)
    assert not Example.objects.exists()


def test_simultaneous_first_saves_give_one_label_and_a_message(setup):
    """Both saves find no example, then both insert at once: one label stands, the other is told who."""
    dataset, (a, b), contents, ana, bo = setup
    both_read = threading.Barrier(2, timeout=10)
    results = {}

    def save(user, category):
        def work():
            try:
                example_label(
                    dataset=dataset, content=contents[0], category=category, user=user, expected_version=0
                )
                results[user.username] = "saved"
            except StaleExampleError as error:
                results[user.username] = str(error)

        return work

    with pausing("example-first-insert", both_read.wait):
        race(Racer("ana", save(ana, a)), Racer("bo", save(bo, b)))
    example = Example.objects.get(content=contents[0])
    winner = example.labeled_by.username
    loser = "bo" if winner == "ana" else "ana"
    assert results[winner] == "saved"
    assert results[loser].startswith(f"This example was changed by {winner}")
    assert example.history.count() == 1


def test_simultaneous_first_saves_through_the_page_never_answer_500(setup):
    dataset, (a, b), contents, ana, bo = setup
    both_read = threading.Barrier(2, timeout=10)
    url = reverse("labeling:queue", args=[dataset.id])
    answers = {}

    def post(user, category):
        def work():
            client = Client()
            client.force_login(user)
            form = {"action": "label", "content": contents[1].id, "category": category.id, "version": 0}
            response = client.post(url, form, follow=True)
            answers[user.username] = (response.status_code, response.content.decode())

        return work

    with pausing("example-first-insert", both_read.wait):
        race(Racer("ana", post(ana, a)), Racer("bo", post(bo, b)))
    assert [code for code, _ in answers.values()] == [200, 200]
    assert Example.objects.filter(content=contents[1]).count() == 1
    told = [page for _, page in answers.values() if "This example was changed by" in page]
    assert len(told) == 1
