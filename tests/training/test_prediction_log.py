"""The buffered prediction log: answers carry their row ids at once, their rows follow soon after."""

import time

import pytest

from core import roles
from core.inserts import reserve_ids
from labeling.models import Category, Content
from tests.factories import user_with_role
from tests.training.conftest import make_dataset
from training.models import PredictionLog, RuleMapping
from training.services.classify import TextToClassify, classify
from training.services.prediction_log import prediction_log_flush, prediction_log_stop
from training.serving import forget_all

pytestmark = pytest.mark.django_db(transaction=True)  # the writer thread reads committed rows only


@pytest.fixture
def ruled(settings):
    """A dataset answered by one rule (no model to train), its log buffered for 0.1 s."""
    settings.PREDICTION_LOG_BUFFER_SECONDS = 0.1
    forget_all()
    dataset = make_dataset(per_group=1)
    space = Category.objects.get(taxonomy=dataset.taxonomy, name="sci.space")
    RuleMapping.objects.create(
        dataset=dataset, name="space", kind="keywords", pattern="orbit", category=space
    )
    yield dataset
    prediction_log_stop()
    forget_all()


def test_every_answer_is_logged_under_its_id_shortly_after(ruled):
    user = user_with_role(roles.ANNOTATOR, username="caller")
    items = [TextToClassify(f"orbit number {number}", f"title {number}") for number in range(5)]
    answers = classify(dataset=ruled, items=items, user=user)
    answers += classify(dataset=ruled, items=[TextToClassify("one more orbit")], user=user)
    ids = [answer["prediction_id"] for answer in answers]
    assert len(set(ids)) == 6 and None not in ids
    deadline = time.monotonic() + 5
    while PredictionLog.objects.filter(pk__in=ids).count() < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    rows = PredictionLog.objects.in_bulk(ids)
    assert len(rows) == 6
    for item, answer in zip([*items, TextToClassify("one more orbit")], answers, strict=True):
        row = rows[answer["prediction_id"]]
        assert row.excerpt == (f"{item.title}\n{item.text}" if item.title else item.text)
        assert (row.category_id, row.score, row.explanation) == (
            answer["category"]["id"],
            answer["category"]["score"],
            answer["explanation"],
        )
        assert row.requested_by == user and row.dataset == ruled


def test_flush_writes_what_is_waiting(ruled, settings):
    settings.PREDICTION_LOG_BUFFER_SECONDS = 30  # the thread would wait long: flush writes now
    answers = classify(dataset=ruled, items=[TextToClassify("orbit")] * 3)
    prediction_log_flush()
    assert PredictionLog.objects.filter(pk__in=[a["prediction_id"] for a in answers]).count() == 3


def test_ids_come_in_blocks_no_other_writer_is_given(ruled):
    """The log's sequence hands out blocks of 1,000 (migration 0005): 1,500 ids take two calls; a row
    inserted by the ORM meanwhile (one nextval) gets an id outside every block."""
    first = reserve_ids(PredictionLog, 1500)
    space = Category.objects.get(taxonomy=ruled.taxonomy, name="sci.space")
    inserted = PredictionLog.objects.create(dataset=ruled, input_hash="x", category=space, score=1.0)
    second = reserve_ids(PredictionLog, 10)
    assert first == list(range(first[0], first[0] + 1500))
    assert second == list(range(second[0], second[0] + 10))
    taken = {*first, *second}
    assert len(taken) == 1510 and inserted.pk not in taken
    assert (inserted.pk, second[0]) == (first[0] + 2000, first[0] + 3000)  # blocks 3 and 4
    contents = reserve_ids(Content, 3)  # a sequence without blocks: consecutive ids, one call each
    assert contents == list(range(contents[0], contents[0] + 3))
    assert reserve_ids(Content, 1) == [contents[-1] + 1]
