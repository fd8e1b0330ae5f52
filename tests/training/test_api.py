"""The classification API: answers, explanations, batches, rules against unanimous models, auth, throttling,
bad input, feedback into the real-prediction accuracy."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import roles
from labeling.models import Category
from tests.factories import UserFactory, user_with_role
from tests.training.conftest import newsgroups_posts
from tests.training.test_runs import second_model, train
from training.models import PredictionLog, RuleMapping
from training.selectors.verification import category_health

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_serving")]

SPACE_TEXT = "NASA launched the shuttle into orbit; the rocket engines and the moon mission schedule."
GUNS_TEXT = "The second amendment, gun control laws and the right to bear arms, firearms and the NRA."


@pytest.fixture
def champion(news):
    return train(news, folds=0)


@pytest.fixture
def api(db):
    client = APIClient()
    user = user_with_role(roles.ANNOTATOR, username="caller")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def classify(api, dataset, **body):
    return api.post(reverse("api-classify", args=[dataset.id]), body, format="json")


def test_one_text_gets_small_and_large_categories_explained_and_logged(api, champion):
    response = classify(api, champion.dataset, text=SPACE_TEXT, k=2)
    assert response.status_code == 200, response.content
    answer = response.json()["results"][0]
    assert answer["category"]["path"] == "sci › sci.space"
    assert [c["path"] for c in answer["top"]][0] == "sci › sci.space" and len(answer["top"]) == 2
    assert answer["large"][0]["path"] == "sci"
    explanation = answer["explanation"]
    assert explanation["models"][0]["name"] == f"run #{champion.id} (champion)" and explanation["rules"] == []
    assert "weighted score" in explanation["why"]
    logged = PredictionLog.objects.get(pk=answer["prediction_id"])
    assert (
        logged.category.name == "sci.space"
        and logged.champion_run == champion
        and len(logged.input_hash) == 40
    )


def test_batch_answers_equal_single_answers(api, champion):
    posts = newsgroups_posts(per_group=45)[40::5][:6]
    items = [{"title": p["title"], "text": p["body"]} for p in posts]
    batch = classify(api, champion.dataset, items=items).json()["results"]
    for item, answer in zip(items, batch, strict=True):
        single = classify(api, champion.dataset, **item).json()["results"][0]
        for key in ("category", "top", "large", "explanation"):
            assert single[key] == answer[key]


def test_unanimous_models_beat_a_heavier_rule_split_ones_do_not(api, champion):
    dataset = champion.dataset
    guns = Category.objects.get(taxonomy=dataset.taxonomy, name="talk.politics.guns")
    RuleMapping.objects.create(
        dataset=dataset,
        name="moon means guns",
        kind="keywords",
        pattern="moon, orbit",
        category=guns,
        weight=5,
    )
    # One model only: no unanimity (two models needed), the heavy rule wins the weighted vote.
    answer = classify(api, dataset, text=SPACE_TEXT).json()["results"][0]
    assert answer["category"]["name"] == "talk.politics.guns"
    assert (
        answer["explanation"]["rules"][0]["name"] == "moon means guns"
        and not answer["explanation"]["unanimous"]
    )
    # A second model that agrees: the two are unanimous and override the rule.
    other = second_model(dataset, champion)
    answer = classify(api, dataset, text=SPACE_TEXT).json()["results"][0]
    assert answer["category"]["name"] == "sci.space"
    assert answer["explanation"]["unanimous"] and "unanimous models override" in answer["explanation"]["why"]
    assert [m["name"] for m in answer["explanation"]["models"]] == [
        f"run #{champion.id} (champion)",
        f"run #{other.id}",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": ""}, "blank"),
        ({"text": "   "}, "blank"),
        ({"items": [{"text": ""}]}, "Text 1 is empty"),
        ({"text": "x" * 100_001}, "no more than 100000"),
        ({"items": [{"text": "a"}] * 1001}, "1 to 1000"),
        ({"items": []}, "1 to 1000"),
        ({}, "either `text` or `items`"),
        ({"text": "a", "k": 0}, "greater than or equal to 1"),
    ],
)
def test_bad_input_is_a_clear_400(api, champion, body, message):
    response = classify(api, champion.dataset, **body)
    assert response.status_code == 400
    assert message in str(response.json())
    assert response.json()["code"] in ("invalid", "refused")  # the serializer's check, or the service's
    assert not PredictionLog.objects.exists()


def test_unknown_dataset_and_no_model(api, news):
    response = api.post(reverse("api-classify", args=[999999]), {"text": "a"}, format="json")
    assert response.status_code == 400 and "Unknown dataset" in response.json()["detail"]
    assert response.json()["code"] == "unknown_dataset"
    response = classify(api, news, text="a")
    assert response.status_code == 409 and "no champion and no rules" in response.json()["detail"]
    assert response.json()["code"] == "training_conflict"


def test_auth_roles_and_throttling(champion, settings):
    anonymous = APIClient()
    assert classify(anonymous, champion.dataset, text="a").status_code == 401
    nobody = APIClient()
    nobody.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory(username='x')).key}")
    assert classify(nobody, champion.dataset, text="a").status_code == 403
    settings.CLASSIFY_RATE = "3/hour"
    caller = APIClient()
    caller.force_authenticate(user_with_role(roles.ANNOTATOR, username="busy"))
    codes = [classify(caller, champion.dataset, text=SPACE_TEXT).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("accept", "query", "status", "pretty"),
    [
        (None, "", 200, False),
        ("*/*", "", 200, False),
        ("application/json", "", 200, False),
        ("application/json; indent=2", "", 200, True),
        ("text/html, application/json;q=0.9", "", 200, False),
        ("text/html", "", 406, False),
        ("", "", 406, False),
        (None, "?format=json", 200, False),
        (None, "?format=xml", 404, False),
    ],
)
def test_answers_are_json_for_any_client_that_takes_json(api, champion, accept, query, status, pretty):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    url = reverse("api-classify", args=[champion.dataset.id]) + query
    response = api.post(url, {"text": SPACE_TEXT}, format="json", **headers)
    assert response.status_code == status and response.headers["Content-Type"] == "application/json"
    assert ("\n  " in response.content.decode()) is pretty
    if status == 200:
        assert response.json()["results"][0]["category"]["path"] == "sci › sci.space"
        assert response.headers["Allow"] == "POST, OPTIONS"


def test_read_endpoints(api, champion):
    dataset = champion.dataset
    assert api.get(reverse("api-datasets")).json()[0]["champion_run"] == champion.id
    assert api.get(reverse("api-dataset", args=[dataset.id])).json()["name"] == "news"
    categories = api.get(reverse("api-categories", args=[dataset.id])).json()
    assert {c["path"] for c in categories} >= {"sci", "sci › sci.space"}
    assert api.get(reverse("api-champion", args=[dataset.id])).json()["id"] == champion.id
    runs = api.get(reverse("api-runs", args=[dataset.id])).json()
    assert runs[0]["accuracy"] == champion.accuracy and runs[0]["champion"]
    assert api.get(reverse("api-run", args=[champion.id])).json()["algorithm"] == "tfidf-svm"


def test_feedback_flows_into_real_prediction_accuracy(api, champion):
    dataset = champion.dataset
    space = Category.objects.get(taxonomy=dataset.taxonomy, name="sci.space")
    autos = Category.objects.get(taxonomy=dataset.taxonomy, name="rec.autos")
    ids = [classify(api, dataset, text=SPACE_TEXT).json()["results"][0]["prediction_id"] for _ in range(4)]
    url = lambda i: reverse("api-feedback", args=[i])  # noqa: E731
    assert api.post(url(ids[0]), {"correct": True}, format="json").status_code == 200
    assert api.post(url(ids[1]), {"right_category": space.id}, format="json").json()["correct"] is True
    assert api.post(url(ids[2]), {"right_category": autos.id}, format="json").json()["correct"] is False
    bad = api.post(url(ids[3]), {"correct": False}, format="json")
    assert bad.status_code == 400 and "which category was right" in bad.json()["detail"]
    row = next(r for r in category_health(champion) if r.category == space)
    assert row.real_reviews == 3 and row.real_accuracy == pytest.approx(2 / 3)
