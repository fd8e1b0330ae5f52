"""Services that enqueue work hand it to the broker only once their transaction commits: nothing before,
exactly one task after, none when the service raises (core.dispatch). Callbacks are captured, not run."""

import pytest
from django.utils.module_loading import import_string

from core.dispatch import Send
from core.errors import ApplicationError
from core.jobs import job_enqueue
from core.models import Job
from labeling.errors import StaleExampleError
from labeling.services import content_upsert, example_label
from tests.factories import ContentFactory, DatasetFactory, ExampleFactory, SmallCategoryFactory, UserFactory
from tests.training.conftest import FAST, make_dataset
from training.errors import TrainingError
from training.models import TrainingRun
from training.services.runs import run_start

pytestmark = pytest.mark.django_db


def _sent(callbacks) -> list[tuple[str, tuple]]:
    sends = [callback for callback in callbacks if isinstance(callback, Send)]
    assert len(sends) == len(callbacks), callbacks  # every on-commit callback of these services is a task
    for send in sends:  # the name is a real task of the worker, by the name the worker knows it
        assert import_string(send.task_name).name == send.task_name
    return [(send.task_name, send.args) for send in sends]


def test_job_enqueue_queues_its_run_after_commit(django_capture_on_commit_callbacks):
    dataset = DatasetFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        job = job_enqueue(kind="rollback", dataset=dataset, params={"to_version": 1}, user=None)
        assert callbacks == []  # nothing before the commit
    assert _sent(callbacks) == [("core.tasks.job_run_task", (job.id,))]

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ApplicationError, match="Unknown"):
        job_enqueue(kind="no such kind", dataset=dataset, params={}, user=None)
    assert callbacks == [] and Job.objects.count() == 1


def test_run_start_queues_the_run_after_commit(django_capture_on_commit_callbacks):
    news = make_dataset(per_group=3)
    with django_capture_on_commit_callbacks() as callbacks:
        run = run_start(dataset=news, user=None, algorithm="tfidf-svm", params=FAST)
    assert _sent(callbacks) == [("training.tasks.training_run_task", (run.id,))]

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(TrainingError, match="no parameter"),
    ):
        run_start(dataset=news, user=None, algorithm="tfidf-svm", params={"nonsense": "1"})
    assert callbacks == [] and TrainingRun.objects.count() == 1


def test_run_start_without_enqueue_queues_nothing(django_capture_on_commit_callbacks):
    news = make_dataset(per_group=3)
    with django_capture_on_commit_callbacks() as callbacks:
        run_start(dataset=news, user=None, algorithm="tfidf-svm", params=FAST, enqueue=False)
    assert callbacks == []


def test_writes_that_change_a_body_queue_one_word_index(django_capture_on_commit_callbacks):
    user = UserFactory()
    content = ContentFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        content_upsert(external_id=content.external_id, title="new", body="new body", user=user, reason="t")
    assert _sent(callbacks) == [("labeling.tasks.content_words_index_task", ())]

    with django_capture_on_commit_callbacks() as callbacks:  # unchanged: nothing to index
        content_upsert(external_id=content.external_id, title="new", body="new body", user=user, reason="t")
    assert callbacks == []

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ApplicationError, match="no text"):
        content_upsert(external_id="empty", title="", body="", user=user, reason="t")
    assert callbacks == []


def test_labelling_a_new_example_queues_one_word_index(django_capture_on_commit_callbacks):
    example = ExampleFactory()
    user, other = UserFactory(), SmallCategoryFactory(parent=example.category.parent)
    fresh = ContentFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        example_label(dataset=example.dataset, content=fresh, category=other, user=user)
    assert _sent(callbacks) == [("labeling.tasks.content_words_index_task", ())]

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(StaleExampleError):
        example_label(
            dataset=example.dataset, content=example.content, category=other, user=user, expected_version=99
        )
    assert callbacks == []
