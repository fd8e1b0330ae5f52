"""Precision of the automatic grouping measured on reviewed catalogs, from hand-made builds and reviews."""

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import Catalog, CatalogMembership, Offer, Shop
from catalog.selectors import reviewed_precision
from catalog.services import review
from core import roles
from core.history import save_with_history
from core.inserts import insert_with_history
from tests.factories import SmallCategoryFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db


def built(category, name: str, size: int) -> tuple[Catalog, list[Offer]]:
    """A catalog of `size` offers (one per shop) as the build writes it: history rows, automatic members."""
    catalog = Catalog(title=name, category=category, status=Catalog.Status.IN_REVIEW)
    save_with_history(catalog, user=None, reason="catalog build")
    offers = []
    for number in range(size):
        shop, _ = Shop.objects.get_or_create(name=f"shop-{number}")
        offer = Offer(shop=shop, external_id=f"{name}-{number}", title=f"{name} {number}", category=category)
        offer.save()
        offers.append(offer)
    rows = [{"catalog_id": catalog.id, "offer_id": o.id, "score": 0.9, "source": "auto"} for o in offers]
    insert_with_history(CatalogMembership, rows, user=None, reason="catalog build")
    return catalog, offers


def test_precision_counts_the_automatic_pairs_reviewers_kept_together():
    user = UserFactory()
    audio, video = SmallCategoryFactory(name="audio"), SmallCategoryFactory(name="video")
    a, a_offers = built(audio, "a", 3)
    review.catalog_split(catalog=a, offer_ids=[a_offers[2].id], user=user)  # 1 of 3 pairs kept
    b, _ = built(audio, "b", 2)
    review.catalog_approve(catalog=b, user=user)  # 1 of 1
    c, _ = built(audio, "c", 2)
    review.catalog_reject(catalog=c, user=user)  # 0 of 1
    retitled, _ = built(audio, "t", 2)
    review.catalog_title_set(catalog=retitled, title="no verdict yet", user=user)  # not reviewed: not counted

    d, d_offers = built(video, "d", 3)
    e, _ = built(video, "e", 2)  # takes an offer moved out of d, never reviewed itself: not counted
    review.offer_move(offer=d_offers[0], target=e, user=user)
    review.catalog_approve(catalog=d, user=user)  # 1 of 3 (the moved offer's two pairs are wrong)
    f, _ = built(video, "f", 2)
    g, _ = built(video, "g", 2)
    review.catalog_merge(target=g, source=f, user=user)  # f's pair stays together in g: 1 of 1
    review.catalog_approve(catalog=g, user=user)  # g's own pair, from before the merge: 1 of 1
    # a later build adds an offer to g automatically: not a pair the build had made before the review
    late = Offer.objects.create(
        shop=Shop.objects.create(name="late"), external_id="x", title="x", category=video
    )
    row = {"catalog_id": g.id, "offer_id": late.id, "score": 0.5, "source": "auto"}
    insert_with_history(CatalogMembership, [row], user=None, reason="catalog build")

    rows, total = reviewed_precision()
    found = {row.category.name: (row.catalogs, row.pairs, row.kept) for row in rows}
    assert found == {"audio": (3, 5, 2), "video": (3, 5, 3)}
    assert (total.catalogs, total.pairs, total.kept) == (6, 10, 5) and total.precision == 0.5

    client = Client()
    client.force_login(user_with_role(roles.MANAGER))
    page = client.get(reverse("catalog:figures")).content.decode()
    assert "0.500" in page and "0.400" in page and "0.600" in page


def test_no_review_no_figure():
    built(SmallCategoryFactory(), "a", 3)
    rows, total = reviewed_precision()
    assert rows == [] and total.precision is None and total.catalogs == 0
