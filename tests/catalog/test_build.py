"""Builds against the database: stable catalog ids across reruns, reviewers' decisions, incremental attach."""

import pytest

from catalog.models import Catalog, CatalogEdge, CatalogMembership, Offer, PairDecision, Shop
from catalog.services.attach import category_attach
from catalog.services.build import EDGE_COLUMNS, category_build
from catalog.services.review import catalog_approve, catalog_split
from catalog.services.runs import catalog_run_inline
from core.inserts import copy_lines, copy_text
from tests.factories import SmallCategoryFactory, UserFactory

pytestmark = pytest.mark.django_db

PRODUCTS = [
    "Sony Turntable PSLX350H belt drive",
    "Bose Acoustimass 5 speaker system AM53BK",
    "Canon EOS 40D digital camera body",
    "Garmin Nuvi 260W GPS navigator",
    "Samsung 46 inch LCD TV LN46A650",
]


def _offers(category, shops=("abt", "buy"), products=PRODUCTS):
    made = []
    for shop_name in shops:
        shop, _ = Shop.objects.get_or_create(name=shop_name)
        for number, title in enumerate(products):
            made.append(
                Offer.objects.create(
                    shop=shop, external_id=f"{shop_name}-{number}", title=f"{title} {shop_name}", price=100,
                    category=category,
                )
            )  # fmt: skip
    return made


def _catalog_of(offer):
    return CatalogMembership.objects.get(offer=offer).catalog_id


def test_build_groups_each_product_and_keeps_ids_on_rerun():
    category, user = SmallCategoryFactory(), UserFactory()
    offers = _offers(category)
    first = category_build(category_id=category.id, user=user)
    assert first.groups == len(PRODUCTS) and first.new_catalogs == len(PRODUCTS)
    ids = {offer.id: _catalog_of(offer) for offer in offers}
    assert ids[offers[0].id] == ids[offers[len(PRODUCTS)].id]  # the same turntable in both shops
    assert Catalog.history.filter(history_type="+").count() == len(PRODUCTS)
    assert CatalogMembership.history.count() == len(offers)
    again = category_build(category_id=category.id, user=user)
    assert again.new_catalogs == 0 and again.kept_catalogs == len(PRODUCTS)
    assert {offer.id: _catalog_of(offer) for offer in offers} == ids


def test_build_writes_the_edges_of_each_catalog_for_its_page():
    category, user = SmallCategoryFactory(), UserFactory()
    offers = _offers(category)
    category_build(category_id=category.id, user=user)
    turntable = _catalog_of(offers[0])
    edge = CatalogEdge.objects.get(catalog_id=turntable, offer_a=offers[0], offer_b=offers[len(PRODUCTS)])
    assert edge.matched and edge.cut == "" and edge.similarity > 0.5
    assert set(edge.parts) == {"char", "words", "model"} and edge.parts["model"] is True
    figures = Catalog.objects.get(id=turntable).attributes  # the review page shows the weakest edge
    assert figures["size"] == 2 and figures["min_similarity"] == pytest.approx(edge.similarity, abs=1e-6)


def test_deleting_an_offer_deletes_its_edges():
    # the edges' keys are not checked by the database (derived rows): the ORM's cascade removes them
    category, user = SmallCategoryFactory(), UserFactory()
    offers = _offers(category)
    category_build(category_id=category.id, user=user)
    touching = CatalogEdge.objects.filter(offer_a=offers[0]) | CatalogEdge.objects.filter(offer_b=offers[0])
    assert touching.exists()
    offers[0].delete()
    assert not touching.exists() and CatalogEdge.objects.exists()


def test_edges_copied_as_text_keep_tabs_backslashes_and_line_ends():
    category, user = SmallCategoryFactory(), UserFactory()
    offers = _offers(category)
    category_build(category_id=category.id, user=user)
    catalog, awkward = _catalog_of(offers[0]), "a\tb\\c\nd\re"
    line = f"{catalog}\t{offers[0].id}\t{offers[1].id}\t0.5\t{{}}\t{copy_text(awkward)}\tf\n"
    copy_lines(CatalogEdge._meta.db_table, EDGE_COLUMNS, [line])
    assert CatalogEdge.objects.get(catalog_id=catalog, cut=awkward).similarity == 0.5


def test_rebuild_deletes_memberships_that_changed_with_history_rows():
    category, user = SmallCategoryFactory(), UserFactory()
    offers = _offers(category)
    category_build(category_id=category.id, user=user)
    turntable = _catalog_of(offers[0])
    # the abt turntable moves to another category: the buy turntable is left alone
    Offer.objects.filter(pk=offers[0].pk).update(category=SmallCategoryFactory())
    category_build(category_id=category.id, user=user)
    assert not CatalogMembership.objects.filter(offer__in=[offers[0], offers[len(PRODUCTS)]]).exists()
    gone = CatalogMembership.history.filter(history_type="-", catalog_id=turntable)
    assert sorted(gone.values_list("offer_id", flat=True)) == sorted([offers[0].id, offers[len(PRODUCTS)].id])
    assert {row.history_user for row in gone} == {user}
    assert Catalog.objects.get(pk=turntable).status == Catalog.Status.DRAFT


def test_reviewer_split_survives_the_next_run():
    category, user = SmallCategoryFactory(), UserFactory()
    offers = _offers(category)
    category_build(category_id=category.id, user=user)
    catalog = Catalog.objects.get(pk=_catalog_of(offers[0]))
    catalog_split(catalog=catalog, offer_ids=[offers[len(PRODUCTS)].id], user=user)
    assert PairDecision.objects.filter(kind="split").count() == 1
    category_build(category_id=category.id, user=user)
    assert not CatalogMembership.objects.filter(offer=offers[len(PRODUCTS)], catalog=catalog).exists()
    assert _catalog_of(offers[0]) == catalog.id
    catalog.refresh_from_db()
    assert catalog.status == Catalog.Status.PUBLISHED and catalog.reviewed_by == user


def test_approved_catalog_keeps_its_status_and_edited_title():
    category, user = SmallCategoryFactory(), UserFactory()
    offers = _offers(category)
    category_build(category_id=category.id, user=user)
    catalog = Catalog.objects.get(pk=_catalog_of(offers[1]))
    catalog_approve(catalog=catalog, user=user)
    category_build(category_id=category.id, user=user)
    catalog.refresh_from_db()
    assert catalog.status == Catalog.Status.PUBLISHED


def test_incremental_attach_joins_a_new_shops_offer_without_a_rebuild():
    category, user = SmallCategoryFactory(), UserFactory()
    offers = _offers(category)
    category_build(category_id=category.id, user=user)
    before = set(Catalog.objects.values_list("id", flat=True))
    shop = Shop.objects.create(name="gmarket")
    new = Offer.objects.create(
        shop=shop, external_id="g1", title="Canon EOS 40D digital camera body", category=category
    )
    result = category_attach(category_id=category.id, user=user)
    assert result.attached == 1
    assert _catalog_of(new) == _catalog_of(offers[2])
    assert set(Catalog.objects.values_list("id", flat=True)) == before


def test_inline_run_records_figures_per_category():
    category, user = SmallCategoryFactory(), UserFactory()
    _offers(category)
    run = catalog_run_inline(user=user)
    assert run.status == "succeeded" and run.progress == 1.0
    assert run.figures[str(category.id)]["groups"] == len(PRODUCTS)
