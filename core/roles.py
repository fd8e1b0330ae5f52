"""Roles are Django groups; each role includes the ones below it (admin > category manager > annotator)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
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


def role_required(role: str):
    """View decorator: log in first; a user without the role gets 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, role):
                raise PermissionDenied(f"This page is for the {role} role.")
            return view(request, *args, **kwargs)

        wrapped.required_role = role  # read by the role matrix test (kept by outer decorators' wraps)
        return wrapped

    return decorator


class HasRole(BasePermission):
    """DRF permission: subclass with `role = ...`."""

    role = ANNOTATOR

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, self.role)


class IsAnnotator(HasRole):
    role = ANNOTATOR


class IsManager(HasRole):
    role = MANAGER


class IsAdmin(HasRole):
    role = ADMIN


def role_context(request) -> dict:
    """Template context processor: what the signed-in user may do, so pages hide what would 403."""
    rank = rank_of(request.user) if hasattr(request, "user") else 0
    return {
        "is_annotator": rank >= RANKS[ANNOTATOR],
        "is_manager": rank >= RANKS[MANAGER],
        "is_admin": rank >= RANKS[ADMIN],
    }
