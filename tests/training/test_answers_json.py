"""The API's batch answers written from the decision's arrays (`classify_json`) are the bytes orjson writes
for `classify()`'s answers, and log the same rows: with rules (one naming a category no model knows), two
models (unanimous or not), k beyond the number of categories, and sampled logging."""

import random
import re

import orjson
import pytest

from labeling.models import Category
from tests.training.conftest import newsgroups_posts
from tests.training.test_runs import second_model, train
from training.models import PredictionLog, RuleMapping
from training.services.classify import JSON_FROM, TextToClassify, classify, classify_json

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_serving")]

PREDICTION = re.compile(rb'"prediction_id":(\d+|null)')
LOGGED = ("input_hash", "excerpt", "category_id", "score", "explanation", "champion_run_id")


def _items(count: int) -> list[TextToClassify]:
    posts = newsgroups_posts(per_group=60)[::2]
    items = [
        TextToClassify(p["body"][:600], p["title"] if n % 3 else "", "wire/ap" if n % 4 == 0 else "")
        for n, p in enumerate(posts)
    ]
    items.append(TextToClassify("", "only a title: the moon and an orbit"))
    items.append(TextToClassify('tab\there, a \\ backslash and a "quote" near the moon', ""))
    return items[:count]


def _both(dataset, items, k) -> tuple[tuple, tuple]:
    """(JSON with the prediction ids blanked, the ids, the logged rows) of classify_json and of classify."""
    results = []
    for write in (
        lambda: classify_json(dataset=dataset, items=items, k=k, user=None),
        lambda: orjson.dumps({"results": classify(dataset=dataset, items=items, k=k, user=None)}),
    ):
        random.seed(7)  # the same answers sampled out of the log both times
        content = write()
        ids = [None if i == b"null" else int(i) for i in PREDICTION.findall(content)]
        logged = PredictionLog.objects.in_bulk([i for i in ids if i is not None])
        rows = [None if i is None else tuple(getattr(logged[i], f) for f in LOGGED) for i in ids]
        results.append((PREDICTION.sub(b'"prediction_id":0', content), ids, rows))
    return results[0], results[1]


def test_batch_json_is_the_answers_json_to_the_byte(news, settings):
    champion = train(news, folds=0)
    dataset = champion.dataset
    guns = Category.objects.get(taxonomy=dataset.taxonomy, name="talk.politics.guns")
    space = Category.objects.get(taxonomy=dataset.taxonomy, name="sci.space")
    unknown = Category.objects.create(
        taxonomy=dataset.taxonomy, level=2, parent=space.parent, name="sci.moon"
    )
    for name, kind, pattern, category, weight, priority in [
        ("moon means guns", "keywords", "moon, orbit", guns, 5, 1),
        ("engines", "regex", r"engines?\b", space, 0.5, 3),
        ("wire", "source", "wire/", unknown, 0.7, 2),
        ("moon", "keywords", "moon", unknown, 1, 0),
    ]:
        RuleMapping.objects.create(
            dataset=dataset,
            name=name,
            kind=kind,
            pattern=pattern,
            category=category,
            weight=weight,
            priority=priority,
        )
    items = _items(40)
    assert len(items) >= JSON_FROM
    for k in (1, 2, 20):
        fast, plain = _both(dataset, items, k)
        assert fast[0] == plain[0]
        assert fast[2] == plain[2] and None not in fast[1]
    answers = orjson.loads(fast[0])["results"]
    fired = [bool(a["explanation"]["rules"]) for a in answers]
    assert any(fired) and not all(fired)
    assert any(c["id"] == unknown.id for a in answers for c in a["top"])

    second_model(dataset, champion)
    settings.PREDICTION_LOG_SAMPLE = 0.5
    fast, plain = _both(dataset, items, 3)
    assert fast[0] == plain[0]
    assert fast[2] == plain[2] and None in fast[1] and any(i is not None for i in fast[1])
    answers = orjson.loads(fast[0])["results"]
    assert all(len(a["explanation"]["models"]) == 2 for a in answers)
    assert any(a["explanation"]["unanimous"] for a in answers)
