"""Who may open what, for every URL the site resolves (pages and API), under every role and anonymously.

The list of URLs comes from the URL resolver, so a new page is covered the day it is added. Each URL's lowest
role is pinned in LOWEST below; a URL missing there is held to the role its view declares (role_required,
or a DRF view's HasRole permission), and a view that declares none fails unless it is in PUBLIC.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from core import roles
from core.models import Job
from labeling.models import Category, Changeset, DatasetVersion, Example, ExampleImport
from tests.factories import UserFactory, user_with_role
from tests.training.conftest import make_dataset
from tests.training.test_runs import train
from training.models import PredictionLog, RuleMapping, TrainingRun
from training.services.bulk import bulk_job_files
from training.services.prediction_log import prediction_log_write

pytestmark = pytest.mark.django_db

ANNOTATOR, MANAGER, ADMIN = roles.ANNOTATOR, roles.MANAGER, roles.ADMIN
ANONYMOUS, NO_ROLE = "anonymous", "no role"
WHO = (ANONYMOUS, NO_ROLE, ANNOTATOR, MANAGER, ADMIN)
# the root redirect, the favicon, signing in and out, the API schema and its docs page
PUBLIC = {None, "login", "logout", "api-schema", "api-docs"}
SKIPPED_PREFIXES = ("admin/",)  # Django's admin: staff only, its own tests

# URL name -> the lowest role it lets in (GET pages and API reads answer it 200; every role below gets 403)
LOWEST = {
    "core:job": MANAGER,
    "labeling:dashboard": ANNOTATOR,
    "labeling:dataset": ANNOTATOR,
    "labeling:history": ANNOTATOR,
    "labeling:diff": ANNOTATOR,
    "labeling:queue": ANNOTATOR,
    "labeling:browse": ANNOTATOR,
    "labeling:example_history": ANNOTATOR,
    "labeling:changeset": ANNOTATOR,
    "labeling:commit": MANAGER,
    "labeling:taxonomy": MANAGER,
    "labeling:import_upload": MANAGER,
    "labeling:import": MANAGER,
    "labeling:import_apply": MANAGER,
    "labeling:export": MANAGER,
    "labeling:rollback": ADMIN,
    "labeling:revert": ADMIN,
    "training:runs": ANNOTATOR,
    "training:run": ANNOTATOR,
    "training:requirements": ANNOTATOR,
    "training:health": ANNOTATOR,
    "training:confusion": ANNOTATOR,
    "training:doubted": ANNOTATOR,
    "training:review": ANNOTATOR,
    "training:fixes": ANNOTATOR,  # managers see the merge / exclude buttons
    "training:rules": ANNOTATOR,
    "training:predictions": ANNOTATOR,
    "training:feedback": ANNOTATOR,
    "training:start": MANAGER,
    "training:cancel": MANAGER,
    "training:promote": MANAGER,
    "training:demote": MANAGER,
    "training:merge": MANAGER,
    "training:exclude": MANAGER,
    "training:retrain": MANAGER,
    "training:rule": MANAGER,
    "training:ensemble": MANAGER,
    "training:schedule": ADMIN,
    "training:bulk": ANNOTATOR,  # managers start a bulk classification (its own tests)
    "training:bulk-result": ANNOTATOR,
    "training:bulk-download": ANNOTATOR,
    "api-example": ANNOTATOR,
    "api-versions": ANNOTATOR,
    "api-datasets": ANNOTATOR,
    "api-dataset": ANNOTATOR,
    "api-categories": ANNOTATOR,
    "api-runs": ANNOTATOR,
    "api-run": ANNOTATOR,
    "api-champion": ANNOTATOR,
    "api-classify": ANNOTATOR,
    "api-feedback": ANNOTATOR,
    "api-rollback": ADMIN,
    "api-search": ANNOTATOR,
    "api-indexing-status": ADMIN,
    "api-indexing-retry": ADMIN,
    "indexing:status": ADMIN,
    "indexing:action": ADMIN,
}
# what a page needs to show itself ({dataset_id} and the like: the ids of `objects`)
QUERIES = {"labeling:rollback": {"to": "1"}, "api-search": {"dataset": "{dataset_id}"}}


def _urls(patterns=None, prefix="", namespace=None):
    """(name, route, view) of every URL the site resolves."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            yield from _urls(pattern.url_patterns, route, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, route, pattern.callback


def _declared_role(view) -> str | None:
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return getattr(view, "required_role", None)
    found = [p.role for p in view_class.permission_classes if issubclass(p, roles.HasRole)]
    return max(found, key=roles.RANKS.__getitem__, default=None)


@pytest.fixture
def objects() -> dict[str, int]:
    """One of everything a URL can name (a URL argument not listed here gets an id that names nothing)."""
    dataset = make_dataset("matrix", per_group=6)
    run = train(dataset, folds=3)
    admin = user_with_role(ADMIN, username="owner")
    example = Example.objects.filter(dataset=dataset).first()
    category = Category.objects.filter(taxonomy=dataset.taxonomy, level=Category.Level.SMALL).first()
    prediction_log_write(
        [(dataset.id, run.created_at, "0" * 40, "a text", category.id, 0.9, {}, run.id, 1, None)]
    )
    return {
        "dataset_id": dataset.id,
        "run_id": run.id,
        "example_id": example.id,
        "changeset_id": Changeset.objects.create(dataset=dataset, kind="relabel", reason="r", user=admin).id,
        "import_id": ExampleImport.objects.create(
            dataset=dataset, file_name="a.csv", data=b"x", status="previewed"
        ).id,
        "job_id": _classified(dataset, admin).id,
        "rule_id": RuleMapping.objects.create(
            dataset=dataset, category=category, kind="keyword", pattern="car", weight=1.0
        ).id,
        "prediction_id": PredictionLog.objects.get().id,
    }


def _classified(dataset, user) -> Job:
    """A finished bulk classification with its answers file (any job opens the job page)."""
    job = Job.objects.create(
        kind="classify", dataset=dataset, created_by=user, status=Job.Status.SUCCEEDED, result={"rows": 0}
    )
    _, output = bulk_job_files(job.id)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("external_id,predicted_category,score,second_category,second_score\n")
    return job


def _state() -> tuple:
    """What a refused write must leave as it was."""
    models = (Job, DatasetVersion, Changeset, TrainingRun, RuleMapping, Category, Example, PredictionLog)
    return tuple(model.objects.count() for model in models) + (
        tuple(Example.objects.order_by("id").values_list("category_id", "status")),
        tuple(PredictionLog.objects.values_list("correct", flat=True)),
    )


def _clients(who: str):
    page, api = APIClient(), APIClient()
    if who != ANONYMOUS:
        user = UserFactory(username=f"m-{who}".replace(" ", "-")) if who == NO_ROLE else None
        user = user or user_with_role(who, username=f"m-{who}".replace(" ", "-"))
        page.force_login(user)
        api.force_authenticate(user)
    return page, api


def _methods(view) -> list[str]:
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]
    return ["get", "post"]


def test_every_url_has_a_role(objects):
    undeclared = [
        route
        for name, route, view in _urls()
        if name not in PUBLIC and not (LOWEST.get(name) or _declared_role(view))
    ]
    assert not undeclared, f"URLs whose view names no role (role_required / HasRole): {undeclared}"
    pinned_but_gone = set(LOWEST) - {name for name, _, _ in _urls()}
    assert not pinned_but_gone, f"LOWEST names URLs the site no longer has: {pinned_but_gone}"
    for name, route, view in _urls():
        if name in LOWEST and _declared_role(view):
            assert _declared_role(view) == LOWEST[name], f"{name} ({route}) declares {_declared_role(view)}"


def test_role_matrix(objects):
    """Anonymous: sent to log in (pages) or 401 (API). Below the URL's role (a user with no role included):
    403, and a write changes nothing. At or above it: pages and API reads answer 200."""
    urls = [(name, route, view) for name, route, view in _urls() if name not in PUBLIC]
    clients = {who: _clients(who) for who in WHO}
    before = _state()
    failures = []
    for name, route, view in urls:
        lowest = LOWEST.get(name) or _declared_role(view)
        kwargs = {key: objects.get(key, 0) for key in view_kwargs(route)}
        url = reverse(name, kwargs=kwargs)
        query = {key: value.format(**objects) for key, value in QUERIES.get(name, {}).items()}
        is_api = hasattr(view, "view_class")
        for who in WHO:
            for method in _methods(view):
                status = _answer(clients[who], who, lowest, query, url, view, method)
                if status is not None and not _expected(
                    status, who, lowest, method, is_api, missing=0 in kwargs.values()
                ):
                    failures.append(f"{method.upper()} {url} as {who}: {status} (lowest role: {lowest})")
    assert _state() == before, "a refused request changed something"
    assert not failures, "\n".join(failures)


def _allowed(who: str, lowest: str) -> bool:
    return who not in (ANONYMOUS, NO_ROLE) and roles.RANKS[who] >= roles.RANKS[lowest]


def _answer(clients, who, lowest, query, url, view, method) -> int | str | None:
    """The status `who` gets (with "login" for a redirect to the login page); None: not tried (a write by
    a role allowed to make it is the apps' own tests' business)."""
    page, api = clients
    is_api = hasattr(view, "view_class")
    if method != "get" and _allowed(who, lowest):
        return None
    if method == "get":
        response = (api if is_api else page).get(url, query)
    elif is_api:
        response = getattr(api, method)(url, {}, format="json")
    else:
        response = page.post(url, {})
    if response.status_code == 302 and response.url.startswith("/login/"):
        return "login"
    return response.status_code


def _expected(status, who, lowest, method, is_api, *, missing: bool) -> bool:
    if who == ANONYMOUS:  # 405: a POST-only page refuses a GET before asking who it is
        return status in (401, 403) if is_api else status in ("login", 405)
    if not _allowed(who, lowest):
        return status == 403 or (status == 405 and method == "get")
    return status == 200 or (status == 405 and not is_api) or (status == 404 and missing)


def view_kwargs(route: str) -> list[str]:
    """The names of a route's arguments: 'runs/<int:run_id>/' -> ['run_id']."""
    return [part.split(">")[0].split(":")[-1] for part in route.split("<")[1:]]
