"""Training runs against annotators' saves, on PostgreSQL with real threads, paused in the narrow window."""

import pytest

from core import roles
from core.pauses import pausing
from labeling.models import Content, Example, text_hash
from labeling.selectors.versions import version_state
from labeling.services import example_label
from tests.factories import user_with_role
from tests.labeling.test_version_races import counts_of, relabel
from tests.races import Gate, Racer
from tests.training.conftest import FAST
from training.models import TrainingRun
from training.services.runs import run_execute, run_start

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_save_just_before_a_runs_version_is_in_both_its_entries_and_counts_or_neither(news):
    ana = user_with_role(roles.ANNOTATOR, username="ana")
    example = Example.objects.filter(dataset=news).select_related("content").first()
    other = Example.objects.filter(dataset=news).exclude(category=example.category).first().category
    gate = Gate("admin")
    with pausing("version-entries-written", gate):
        start = Racer(
            "admin", lambda: run_start(dataset=news, user=None, algorithm="tfidf-svm", enqueue=False)
        )
        start.start()
        gate.wait_reached()
        save = Racer("ana", relabel(news, example.content, other, ana))
        save.start()
        save.done.wait(0.5)
        gate.open()
        run = start.finish()
        save.finish()
    version = run.version
    assert version.category_counts == counts_of(version_state(version))
    assert run.example_count == sum(counts_of(version_state(version)).values())


def test_storing_a_runs_results_does_not_hold_annotators_saves(news):
    ana = user_with_role(roles.ANNOTATOR, username="ana")
    category = Example.objects.filter(dataset=news).first().category
    fresh = Content.objects.create(
        external_id="fresh", title="t", body="b", text_hash=text_hash("t", "b"), modified_at=news.created_at
    )
    run = run_start(dataset=news, user=None, algorithm="tfidf-svm", params=FAST, folds=0, enqueue=False)
    gate = Gate("worker")
    with pausing("run-results-locked", gate):
        worker = Racer("worker", lambda: run_execute(run.id))
        worker.start()
        gate.wait_reached()  # the run's row is locked, its results not yet committed
        save = Racer("ana", lambda: example_label(dataset=news, content=fresh, category=category, user=ana))
        save.start()
        saved_meanwhile = save.done.wait(15)  # not blocked: well under that, even on a busy machine
        gate.open()
        worker.finish(60)
        save.finish()
    assert saved_meanwhile
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED
