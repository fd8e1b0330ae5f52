"""Reviewers' decisions on catalogs: split, merge, move an offer, approve, reject, edit the title.

Every decision writes history rows (who, why), and the pairs it implies become constraints for later runs:
offers a person split are never joined again, offers a person joined or approved together stay together.
"""

from __future__ import annotations

from django.db import transaction

from catalog.errors import CatalogError
from catalog.models import Catalog, CatalogMembership, Offer, PairDecision
from core.history import save_with_history


def _decide(a: int, b: int, kind: str, user) -> None:
    low, high = sorted((a, b))
    decision = PairDecision.objects.filter(offer_a_id=low, offer_b_id=high).first()
    decision = decision or PairDecision(offer_a_id=low, offer_b_id=high)
    if decision.pk and decision.kind == kind:
        return
    decision.kind, decision.decided_by = kind, user
    save_with_history(decision, user=user, reason=f"reviewer: {kind}")


def _join_all(offer_ids: list[int], user) -> None:
    for other in offer_ids[1:]:
        _decide(offer_ids[0], other, PairDecision.Kind.JOIN, user)


def _member_ids(catalog: Catalog) -> list[int]:
    return sorted(catalog.memberships.values_list("offer_id", flat=True))


def _leave(offer_ids: list[int], user, reason: str) -> None:
    for membership in CatalogMembership.objects.filter(offer_id__in=offer_ids):
        membership._change_reason = reason
        membership.delete()


def _enter(catalog: Catalog, offer_ids: list[int], user, reason: str) -> None:
    for offer_id in offer_ids:
        membership = CatalogMembership(catalog=catalog, offer_id=offer_id, score=1.0, source="manual")
        save_with_history(membership, user=user, reason=reason)


def _review(catalog: Catalog, status: str, user, reason: str) -> None:
    catalog.status, catalog.reviewed_by = status, user
    save_with_history(catalog, user=user, reason=reason)


@transaction.atomic
def catalog_split(*, catalog: Catalog, offer_ids: list[int], user) -> Catalog | None:
    """The chosen offers leave the catalog (as a new catalog when two or more), apart from the rest."""
    members = _member_ids(catalog)
    leaving = sorted(set(offer_ids))
    if not leaving or not set(leaving) <= set(members):
        raise CatalogError("Choose offers of this catalog to split off.")
    staying = [m for m in members if m not in leaving]
    if not staying:
        raise CatalogError("Leave at least one offer in the catalog (reject it instead).")
    for a in leaving:
        for b in staying:
            _decide(a, b, PairDecision.Kind.SPLIT, user)
    _leave(leaving, user, "reviewer: split")
    _join_all(leaving, user)
    _join_all(staying, user)
    _review(catalog, Catalog.Status.PUBLISHED, user, "reviewer: split")
    if len(leaving) < 2:
        return None
    new = Catalog(title=catalog.title, category=catalog.category, status=Catalog.Status.IN_REVIEW)
    save_with_history(new, user=user, reason="reviewer: split")
    _enter(new, leaving, user, "reviewer: split")
    return new


@transaction.atomic
def catalog_merge(*, target: Catalog, source: Catalog, user) -> Catalog:
    """Every offer of `source` joins `target`; `source` is rejected (kept, empty, for its history)."""
    if target.pk == source.pk:
        raise CatalogError("Choose two different catalogs to merge.")
    moving = _member_ids(source)
    _leave(moving, user, "reviewer: merge")
    _enter(target, moving, user, "reviewer: merge")
    _join_all(_member_ids(target), user)
    _review(source, Catalog.Status.REJECTED, user, f"reviewer: merged into #{target.pk}")
    return target


@transaction.atomic
def offer_move(*, offer: Offer, target: Catalog, user) -> None:
    """One offer leaves its catalog (kept apart from it from now on) and joins `target`."""
    old = CatalogMembership.objects.filter(offer=offer).select_related("catalog").first()
    if old and old.catalog_id == target.pk:
        raise CatalogError("The offer is in that catalog already.")
    if old:
        for other in _member_ids(old.catalog):
            if other != offer.pk:
                _decide(offer.pk, other, PairDecision.Kind.SPLIT, user)
        _leave([offer.pk], user, "reviewer: move")
    _enter(target, [offer.pk], user, "reviewer: move")
    _join_all(_member_ids(target), user)


@transaction.atomic
def offers_move(*, catalog: Catalog, offer_ids: list[int], target: Catalog, user) -> None:
    """The chosen offers of `catalog` move to `target`, one decision each (as `offer_move`)."""
    moving = sorted(set(offer_ids))
    if not moving or not set(moving) <= set(_member_ids(catalog)):
        raise CatalogError("Tick offers of this catalog to move.")
    for offer in Offer.objects.filter(pk__in=moving):
        offer_move(offer=offer, target=target, user=user)


@transaction.atomic
def catalog_approve(*, catalog: Catalog, user) -> None:
    """Published by a person: its offers stay together in later runs."""
    _join_all(_member_ids(catalog), user)
    _review(catalog, Catalog.Status.PUBLISHED, user, "reviewer: approve")


@transaction.atomic
def catalog_reject(*, catalog: Catalog, user) -> None:
    _review(catalog, Catalog.Status.REJECTED, user, "reviewer: reject")


@transaction.atomic
def catalog_title_set(*, catalog: Catalog, title: str, user) -> None:
    title = " ".join((title or "").split())
    if not title or len(title) > 200:
        raise CatalogError("A catalog title has 1 to 200 characters.")
    catalog.title, catalog.title_edited = title, True
    save_with_history(catalog, user=user, reason="reviewer: title")
