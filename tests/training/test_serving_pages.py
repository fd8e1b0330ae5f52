"""Rules, ensemble and prediction-log pages: the rule test box, refusals with reasons, versions, feedback."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core import roles
from labeling.models import Category, Content
from tests.factories import user_with_role
from tests.training.test_api import SPACE_TEXT, champion  # noqa: F401 - fixture
from training.models import EnsembleConfig, PredictionLog, RuleMapping
from training.services.classify import TextToClassify, classify
from training.services.prediction_log import prediction_log_write
from training.serving import forget_all

pytestmark = pytest.mark.django_db


def rule_data(dataset, **changes):
    space = Category.objects.get(taxonomy=dataset.taxonomy, name="sci.space")
    return {
        "name": "orbit",
        "kind": "regex",
        "pattern": r"(?i)\borbit",
        "category": space.id,
        "weight": 2,
        "priority": 0,
        "enabled": "on",
    } | changes


def test_try_a_rule_on_texts_and_recent_contents_then_save_it(client, news):
    client.force_login(user_with_role(roles.MANAGER, username="manager"))
    url = reverse("training:rules", args=[news.id])
    data = rule_data(news) | {"action": "try", "texts": "Into ORBIT we go\n---\nbrakes and tyres"}
    page = client.post(url, data).content.decode()
    assert "fires · Into ORBIT we go" in page and "does not fire · brakes and tyres" in page
    expected = sum(bool(re.search(r"(?i)\borbit", f"{c.title}\n{c.body}")) for c in Content.objects.all())
    assert expected > 0 and f'<strong data-testid="trial-count">{expected}</strong> of the 120 newest' in page
    assert not RuleMapping.objects.exists()
    assert client.post(url, rule_data(news) | {"action": "save"}).status_code == 302
    rule = RuleMapping.objects.get()
    assert rule.history.first().history_user.username == "manager"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pattern": r"(?<=x)y"}, "no look-arounds or back-references"),
        ({"pattern": r"(a"}, "Invalid regular expression"),
        ({"kind": "keywords", "pattern": " , "}, "at least one keyword"),
    ],
)
def test_bad_rules_are_refused_with_a_reason(client, news, changes, message):
    client.force_login(user_with_role(roles.MANAGER, username="manager"))
    page = client.post(
        reverse("training:rules", args=[news.id]), rule_data(news, **changes) | {"action": "save"}
    )
    assert message in page.content.decode()
    assert not RuleMapping.objects.exists()


def test_annotators_try_rules_but_cannot_save_or_change_the_ensemble(client, news):
    client.force_login(user_with_role(roles.ANNOTATOR, username="annotator"))
    url = reverse("training:rules", args=[news.id])
    assert client.post(url, rule_data(news) | {"action": "try", "texts": "orbit"}).status_code == 200
    assert client.post(url, rule_data(news) | {"action": "save"}).status_code == 403
    assert client.get(reverse("training:ensemble", args=[news.id])).status_code == 403
    assert not RuleMapping.objects.exists()


def test_the_ensemble_page_versions_each_change(client, champion):  # noqa: F811
    client.force_login(user_with_role(roles.MANAGER, username="manager"))
    url = reverse("training:ensemble", args=[champion.dataset_id])
    client.get(url)
    data = {
        "include_champion": "on",
        "champion_weight": 1,
        "run_weight": 1,
        "rule_weight": 3,
        "unanimous_models_win": "on",
        "min_models_for_unanimity": 1,
    }
    assert client.post(url, data).status_code == 302
    config = EnsembleConfig.objects.get(dataset=champion.dataset)
    assert config.version == 2 and config.rule_weight == 3 and config.history.count() == 2
    page = client.post(url, data | {"include_champion": ""}).content.decode()
    assert "Choose at least one model" in page
    assert EnsembleConfig.objects.get(dataset=champion.dataset).version == 2


def test_prediction_log_filters_and_feedback_through_the_page(client, champion):  # noqa: F811
    forget_all()
    dataset = champion.dataset
    classify(dataset=dataset, items=[TextToClassify(SPACE_TEXT), TextToClassify("my car needs new brakes")])
    client.force_login(user_with_role(roles.ANNOTATOR, username="reviewer"))
    url = reverse("training:predictions", args=[dataset.id])
    assert client.get(url).content.decode().count("data-prediction=") == 2
    space = Category.objects.get(taxonomy=dataset.taxonomy, name="sci.space")
    assert client.get(url, {"category": space.id}).content.decode().count("data-prediction=") == 1
    first = PredictionLog.objects.get(category=space)
    client.post(
        reverse("training:feedback", args=[first.id]), {"correct": "1", "next": "https://evil.example/"}
    )
    first.refresh_from_db()
    assert first.correct is True and first.reviewed_by.username == "reviewer"
    assert client.get(url, {"reviewed": "no"}).content.decode().count("data-prediction=") == 1


def test_a_long_prediction_log_is_paged_without_counting_it_all(client, news, settings):
    """Past 10,000 answers the page says "10,000+" (it reads at most 10,001 ids), shows the newest 50, and
    lists the small categories once per filter and per review form."""
    settings.PREDICTION_LOG_BUFFER_SECONDS = 0  # written by this call
    space = Category.objects.get(taxonomy=news.taxonomy, name="sci.space")
    row = (news.id, timezone.now(), "0" * 40, "an answer", space.id, 0.9, {"why": "a test"}, None, 1, None)
    prediction_log_write([row] * 10_001)
    client.force_login(user_with_role(roles.ANNOTATOR, username="reviewer"))
    url = reverse("training:predictions", args=[news.id])
    page = client.get(url, {"category": space.id}).content.decode()
    assert "10,000+ answers" in page and page.count("data-prediction=") == 50
    smalls = Category.objects.filter(taxonomy=news.taxonomy, parent__isnull=False).count()
    assert len(re.findall(r'<option value="\d+"', page)) == (1 + 50) * smalls  # the filter, each review form
    assert f'<option value="{space.id}" selected>sci › sci.space</option>' in page
    last = client.get(url, {"page": 201}).content.decode()
    assert last.count("data-prediction=") == 1  # 10,001 ids read: 200 full pages and one


def test_the_rule_test_box_splits_texts_on_a_dashes_line_as_browsers_send_it(client, news):
    client.force_login(user_with_role(roles.ANNOTATOR, username="annotator"))
    texts = "Into ORBIT we go\r\n---\r\nbrakes and tyres"  # a textarea's line breaks arrive as CRLF
    page = client.post(
        reverse("training:rules", args=[news.id]), rule_data(news) | {"action": "try", "texts": texts}
    )
    assert "fires · Into ORBIT we go" in page.content.decode()
    assert "does not fire · brakes and tyres" in page.content.decode()


def test_an_invalid_regex_is_reported_once(client, news):
    client.force_login(user_with_role(roles.MANAGER, username="manager"))
    url = reverse("training:rules", args=[news.id])
    for action in ("try", "save"):
        page = client.post(
            url, rule_data(news, pattern="(a") | {"action": action, "texts": "a"}
        ).content.decode()
        assert page.count("Invalid regular expression") == 1, action


def test_viewing_the_ensemble_creates_no_version_and_offers_no_champion_as_another_run(client, champion):  # noqa: F811
    client.force_login(user_with_role(roles.MANAGER, username="manager"))
    page = client.get(reverse("training:ensemble", args=[champion.dataset_id])).content.decode()
    assert not EnsembleConfig.objects.exists() and not EnsembleConfig.history.exists()
    assert f'value="{champion.id}"' not in page
