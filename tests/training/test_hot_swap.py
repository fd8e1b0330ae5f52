"""Promoting another champion while requests are being answered: no request fails, answers move to it."""

import gc
import threading
import weakref

import pytest
from django.db import connection

from tests.conftest import wait_until
from tests.training.conftest import make_dataset
from tests.training.test_api import SPACE_TEXT
from tests.training.test_runs import train
from training.services.champion import champion_promote
from training.services.classify import TextToClassify, classify
from training.services.requirements import requirement_update
from training.serving import ensemble_for, forget_all

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_runs():
    """A dataset whose champion is its first run, and a second run (not promoted), nothing loaded."""
    forget_all()
    news = make_dataset("swap-news")
    first = train(news, folds=0)
    requirement_update(dataset=news, user=None, values={"auto_promote": False})
    second = train(news, folds=0, algorithm="tfidf-logreg", params={"C": "5"})
    yield news, first, second
    forget_all()


def test_a_champion_swaps_in_while_requests_run(two_runs):
    news, first, second = two_runs
    errors, answered_by = [], []
    stop = threading.Event()

    def client():
        try:
            while not stop.is_set():
                answer = classify(dataset=news, items=[TextToClassify(SPACE_TEXT)])[0]
                answered_by.append(answer["explanation"]["models"][0]["name"])
        except Exception as error:  # noqa: BLE001 - any failure is what this test looks for
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    new_name = f"run #{second.id} (champion)"
    try:
        wait_until(
            lambda: len(answered_by) > 10 or errors, timeout=60, what="answers from the first champion"
        )
        champion_promote(run=second, user=None, reason="swap under load")
        promoted_at = len(answered_by)
        # the key is checked at most once a second per process: the new champion answers soon after
        wait_until(lambda: new_name in answered_by[promoted_at:] or errors, timeout=30, what=new_name)
        answered = len(answered_by)
        wait_until(lambda: len(answered_by) > answered + 10 or errors, timeout=30, what="more answers")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert answered_by[0] == f"run #{first.id} (champion)"
    assert answered_by[-1] == new_name
    assert len(answered_by) > 20


def test_a_loaded_model_stays_out_of_full_collections_and_a_replaced_one_is_freed(two_runs):
    news, first, second = two_runs
    loaded = ensemble_for(news)
    assert loaded.members[0].run == first
    collected = {id(obj) for obj in gc.get_objects()}  # every object a collection walks (frozen ones: no)
    assert id(loaded.members[0].model) not in collected and id(loaded) not in collected
    replaced = weakref.ref(loaded.members[0].model)
    del loaded, collected
    champion_promote(run=second, user=None, reason="swap")
    # the key is checked at most once a second
    wait_until(lambda: ensemble_for(news).members[0].run == second, timeout=10, what="the swap")
    assert replaced() is None
