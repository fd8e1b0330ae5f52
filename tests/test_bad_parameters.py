"""Bad values in every page's query parameters and every form never answer 5xx.

The pages come from the URL resolver; the parameter names each page reads are recorded while it answers (a
first sweep), then Hypothesis sends mixes of those names with bad values (digits `int()` refuses, numbers past
2^63, impossible dates, nan, NUL, random text) and real ids to every page, as GET and as POST.
"""

import html

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import roles
from core.models import Job
from labeling.models import Category, Changeset, Content, DatasetVersion, ExampleImport
from tests.factories import user_with_role
from tests.training.conftest import make_dataset
from tests.training.test_runs import train
from training.models import PredictionLog, RuleMapping

pytestmark = pytest.mark.django_db

BAD = [
    "²",
    "abc",
    "",
    " ",
    "-1",
    "1.5",
    "99999999999999999999999",
    "9223372036854775808",
    "2026-13-45",
    "2026-13-45T10:00",
    "nan",
    "inf",
    "a\x00b",
    "x" * 300,
]
ACTIONS = [
    "create",
    "update",
    "move",
    "retire",
    "relabel",
    "review",
    "skip",
    "undo",
    "try",
    "keep",
    "exclude",
]
SKIPPED = ("admin/", "api/", "login/", "logout/")  # Django's own admin; the API has its own fuzz test


def _patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern) and not route.startswith(SKIPPED):
            yield route, entry


def _urls(ids: dict[str, int]) -> list[str]:
    urls = []
    for route, entry in _patterns(get_resolver()):
        names = entry.pattern.converters.keys()
        url = route
        for name in names:
            url = url.replace(f"<int:{name}>", str(ids.get(name, 0)))  # 0: names nothing (a 404)
        urls.append("/" + url)
    return urls


@pytest.fixture
def site(db):
    """One dataset with a trained champion and one of everything a page can name."""
    news = make_dataset(per_group=20)
    run = train(news)
    admin = user_with_role(roles.ADMIN, username="fuzz-admin")
    category = Category.objects.filter(taxonomy=news.taxonomy, level=2).first()
    log = PredictionLog.objects.create(
        dataset=news, input_hash="h", excerpt="t", category=category, score=0.5, champion_run=run
    )
    rule = RuleMapping.objects.create(
        dataset=news, name="r", kind="keywords", pattern="car", category=category
    )
    ids = {
        "dataset_id": news.id,
        "run_id": run.id,
        "example_id": news.examples.first().id,
        "changeset_id": Changeset.objects.create(dataset=news, kind="relabel", reason="r", user=admin).id,
        "import_id": ExampleImport.objects.create(
            dataset=news, file_name="a.csv", data=b"x", status="previewed"
        ).id,
        "job_id": Job.objects.create(kind="rollback", dataset=news, created_by=admin).id,
        "rule_id": rule.id,
        "prediction_id": log.id,
    }
    real = {
        "content": str(Content.objects.filter(examples__dataset=news).first().id),
        "category": str(category.id),
        "run": str(run.id),
        "version": str(DatasetVersion.objects.filter(dataset=news).first().number),
    }
    return admin, ids, real


@pytest.fixture
def read_names(monkeypatch):
    """Every key a view reads from a query or form dict while this fixture is active."""
    names: set[str] = set()
    get, getitem, getlist = MultiValueDict.get, MultiValueDict.__getitem__, MultiValueDict.getlist

    def record(original):
        def recording(self, key, *args, **kwargs):
            if isinstance(key, str):
                names.add(key)
            return original(self, key, *args, **kwargs)

        return recording

    monkeypatch.setattr(MultiValueDict, "get", record(get))
    monkeypatch.setattr(MultiValueDict, "__getitem__", record(getitem))
    monkeypatch.setattr(MultiValueDict, "getlist", record(getlist))
    yield names
    monkeypatch.undo()


def _answer(client, method: str, url: str, data: dict) -> int:
    if method == "GET":
        return client.get(url, data).status_code
    return client.post(url, data).status_code


def test_no_page_or_form_answers_5xx_to_bad_values(client, site, read_names):
    admin, ids, real = site
    client.force_login(admin)
    urls = _urls(ids)
    assert len(urls) >= 30  # the resolver walk found the site's pages
    for url in urls:  # the first sweep: which names the pages read
        _answer(client, "GET", url, {})
        for action in [None, *ACTIONS]:
            _answer(client, "POST", url, {} if action is None else {"action": action, "decision": action})
    names = sorted(read_names - {"HTTP_ACCEPT", "csrfmiddlewaretoken"})
    assert {"from", "to_time", "content", "category", "parent", "right_category", "params"} <= set(names)

    def value(name: str):
        choices = BAD + (ACTIONS if name in ("action", "decision") else []) + [real.get(name, "1")]
        return st.one_of(st.sampled_from(choices), st.text(max_size=6))

    values = st.fixed_dictionaries({}, optional={name: value(name) for name in names})

    for url in urls:
        _no_5xx_at(client, url, values)


def _no_5xx_at(client, url: str, values) -> None:
    @settings(
        max_examples=10,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(method=st.sampled_from(["GET", "POST"]), data=values)
    def no_5xx(method, data):
        status = _answer(client, method, url, data)
        assert status < 500, (method, url, data)

    no_5xx()


@pytest.mark.parametrize(
    ("path", "query", "reason"),
    [
        ("labeling:diff", {"from": "²"}, "from: '²' is not a whole number"),
        ("labeling:rollback", {"to_time": "2026-13-45T10:00"}, "to_time: '2026-13-45T10:00' is not a time"),
        ("labeling:browse", {"category": "99999999999999999999999"}, "category: '9999"),
        ("labeling:export", {"version": "abc"}, "version: 'abc' is not a whole number"),
    ],
)
def test_a_bad_value_is_a_400_that_says_what_was_wrong(client, path, query, reason):
    from django.urls import reverse

    from tests.factories import DatasetFactory

    client.force_login(user_with_role(roles.ADMIN, username="reader"))
    response = client.get(reverse(path, args=[DatasetFactory().id]), query)
    assert response.status_code == 400
    assert reason in html.unescape(response.content.decode())


def test_queue_post_without_a_content_changes_nothing(client):
    from django.urls import reverse

    from labeling.models import Example
    from tests.factories import ExampleFactory

    example = ExampleFactory()
    client.force_login(user_with_role(roles.ANNOTATOR, username="labeller"))
    url = reverse("labeling:queue", args=[example.dataset_id])
    for content in ("abc", "", "²"):
        response = client.post(url, {"content": content, "category": example.category_id})
        assert response.status_code == 400 and "content:" in response.content.decode()
    assert list(Example.objects.values_list("id", "version")) == [(example.id, example.version)]


def test_a_training_parameter_must_be_a_finite_number():
    from training.algorithms import ParameterError, algorithm_class

    with pytest.raises(ParameterError, match="finite"):
        algorithm_class("tfidf-svm").parse_params({"C": "nan"})
