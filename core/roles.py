"""Roles are Django groups; each role includes the ones below it (admin > category manager > annotator)."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from rest_framework.permissions import BasePermission

ANNOTATOR, MANAGER, ADMIN = "annotator", "category manager", "admin"
RANKS = {ANNOTATOR: 1, MANAGER: 2, ADMIN: 3}


def rank_of(user) -> int:
    """The user's highest role rank (0: none), read once per user object (one request)."""
    if not user.is_authenticated:
        return 0
    if user.is_superuser:
        return RANKS[ADMIN]
    if not hasattr(user, "_bunryu_rank"):
        names = set(user.groups.values_list("name", flat=True))
        user._bunryu_rank = max((RANKS[name] for name in names if name in RANKS), default=0)
    return user._bunryu_rank


def has_role(user, role: str) -> bool:
    return rank_of(user) >= RANKS[role]


def request_rank(request) -> int:
    """Inside a request: the rank on the page's dataset (set by role_required), else the user's own."""
    rank = getattr(request, "dataset_rank", None)
    return rank_of(request.user) if rank is None else rank


def request_has_role(request, role: str) -> bool:
    return request_rank(request) >= RANKS[role]


# --- datasets limited to their members (core.models.DatasetMember) ------------------------------------------
# URL argument -> the id of the dataset the named object belongs to (None: no such object); each app registers
# the arguments of its URLs in its AppConfig.ready, so every page and API call is checked by its dataset.
_DATASET_OF: dict[str, Callable[[int], int | None]] = {"dataset_id": lambda pk: pk}


def dataset_lookup_register(argument: str, lookup: Callable[[int], int | None]) -> None:
    _DATASET_OF[argument] = lookup


def dataset_of(kwargs: dict) -> int | None:
    """The dataset a view's URL arguments name, if any."""
    for name, value in kwargs.items():
        if name in _DATASET_OF:
            return _DATASET_OF[name](value)
    return None


def rank_on(user, dataset_id: int | None) -> int:
    """The user's rank on a dataset: their role where the dataset is open (no members), their member role
    where it is limited (0 for a non-member); admins everywhere."""
    from core.models import DatasetMember

    rank = rank_of(user)
    if dataset_id is None or rank >= RANKS[ADMIN] or not user.is_authenticated:
        return rank
    # A user kept by the API token cache carries its ranks per dataset: a member change moves the tokens'
    # generation (core/tokens.py), which drops the kept user, so they are as fresh as its groups.
    kept = getattr(user, "_bunryu_dataset_ranks", None)
    if kept is not None and dataset_id in kept:
        return kept[dataset_id]
    members = DatasetMember.objects.filter(dataset_id=dataset_id)
    if members.exists():
        rank = RANKS.get(members.filter(user_id=user.id).values_list("role", flat=True).first(), 0)
    if kept is not None:
        kept[dataset_id] = rank
    return rank


def datasets_visible(datasets, user):
    """The datasets of a queryset this user may see: the open ones and theirs (admins: all)."""
    from core.models import DatasetMember

    if rank_of(user) >= RANKS[ADMIN]:
        return datasets
    limited = DatasetMember.objects.filter(dataset=OuterRef("pk"))
    return datasets.filter(~Exists(limited) | Exists(limited.filter(user_id=user.id)))


def dataset_role_required(user, dataset_id: int, role: str) -> None:
    """For a dataset named in a query or body rather than the URL: PermissionDenied below the role there."""
    if rank_on(user, dataset_id) < RANKS[role]:
        raise _refused(role)


def _refused(role: str) -> PermissionDenied:
    return PermissionDenied(f"This page is for the {role} role (on this dataset, for its members).")


def role_required(role: str):
    """View decorator: log in first; a user without the role (on the URL's dataset) gets 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            request.dataset_rank = rank_on(request.user, dataset_of(kwargs))
            if request.dataset_rank < RANKS[role]:
                raise _refused(role)
            return view(request, *args, **kwargs)

        wrapped.required_role = role  # read by the role matrix test (kept by outer decorators' wraps)
        return wrapped

    return decorator


class HasRole(BasePermission):
    """DRF permission: subclass with `role = ...`."""

    role = ANNOTATOR

    def has_permission(self, request, view) -> bool:
        return rank_on(request.user, dataset_of(getattr(view, "kwargs", None) or {})) >= RANKS[self.role]


class IsAnnotator(HasRole):
    role = ANNOTATOR


class IsManager(HasRole):
    role = MANAGER


class IsAdmin(HasRole):
    role = ADMIN


class SchemaReader(BasePermission):
    """The API schema: signed-in users and token holders, or anyone with API_SCHEMA_PUBLIC set."""

    def has_permission(self, request, view) -> bool:
        return settings.API_SCHEMA_PUBLIC or bool(request.user and request.user.is_authenticated)


def role_context(request) -> dict:
    """Template context processor: what the signed-in user may do, so pages hide what would 403."""
    rank = request_rank(request) if hasattr(request, "user") else 0  # on a dataset's page: the role there
    return {
        "is_annotator": rank >= RANKS[ANNOTATOR],
        "is_manager": rank >= RANKS[MANAGER],
        "is_admin": rank >= RANKS[ADMIN],
    }
