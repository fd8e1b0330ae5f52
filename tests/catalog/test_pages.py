"""Catalog pages, API and commands: roles everywhere, review decisions, bad input refused whole, export."""

import csv

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.errors import CatalogError
from catalog.models import Catalog, CatalogMembership, CatalogRun, CategoryRules, Offer, PairDecision, Shop
from catalog.services.build import category_build
from catalog.services.offers import offers_apply, offers_preview
from core import roles
from tests.factories import SmallCategoryFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db
ANONYMOUS = "anonymous"


@pytest.fixture
def built():
    category = SmallCategoryFactory(name="audio", parent__name="electronics")
    rows = ["shop,external_id,title,price,brand,category"]
    for shop, price in (("abt", "99.00"), ("buy", "89.50")):
        rows += [
            f"{shop},{shop}-1,Sony Turntable PSLX350H belt drive,{price},Sony,electronics/audio",
            f"{shop},{shop}-2,Bose Acoustimass 5 speaker AM53BK,{price},Bose,electronics/audio",
            f"{shop},{shop}-3,<script>alert(1)</script> Garmin Nuvi 260W GPS,{price},,electronics/audio",
        ]
    offers_apply(data="\n".join(rows).encode(), user=None, file_name="offers.csv")
    category_build(category_id=category.id, user=None)
    catalog = Catalog.objects.get(memberships__offer__external_id="abt-1")
    return {"category": category, "catalog": catalog, "offer": Offer.objects.get(external_id="abt-1")}


PAGES = [
    ("catalog:list", []),
    ("catalog:review", []),
    ("catalog:figures", []),
    ("catalog:import", []),
    ("catalog:catalog", ["catalog"]),
    ("catalog:rules", ["category"]),
]


def _client(who):
    client = APIClient()
    if who != ANONYMOUS:
        client.force_login(user_with_role(who))
    return client


@pytest.mark.parametrize("who", [ANONYMOUS, roles.ANNOTATOR, roles.MANAGER])
def test_every_page_is_for_managers(built, who):
    client = _client(who)
    for name, args in PAGES:
        response = client.get(reverse(name, args=[built[a].id for a in args]))
        expected = {ANONYMOUS: 302, roles.ANNOTATOR: 403, roles.MANAGER: 200}[who]
        assert response.status_code == expected, name
    decide = client.post(reverse("catalog:decide", args=[built["catalog"].id]), {"action": "approve"})
    assert decide.status_code == {ANONYMOUS: 302, roles.ANNOTATOR: 403, roles.MANAGER: 302}[who]
    reviewed = Catalog.objects.get(pk=built["catalog"].id).reviewed_by_id is not None
    assert reviewed == (who == roles.MANAGER)


@pytest.mark.parametrize("who", [ANONYMOUS, roles.ANNOTATOR])
def test_api_needs_a_role(built, who):
    client = _client(who)
    urls = [
        "/api/v1/catalogs?q=turntable",
        f"/api/v1/catalogs/{built['catalog'].id}",
        f"/api/v1/offers/{built['offer'].id}",
    ]
    for url in urls:
        assert client.get(url).status_code == (200 if who == roles.ANNOTATOR else 401), url


def test_api_answers_catalogs_with_offers_and_prices(built):
    client = _client(roles.ANNOTATOR)
    found = client.get("/api/v1/catalogs", {"q": "turntable", "category": built["category"].id}).json()
    assert [row["id"] for row in found["results"]] == [built["catalog"].id]
    detail = client.get(f"/api/v1/catalogs/{built['catalog'].id}").json()
    assert sorted(offer["shop"] for offer in detail["offers"]) == ["abt", "buy"]
    assert detail["lowest_price"] == "89.50"
    assert client.get(f"/api/v1/offers/{built['offer'].id}").json()["catalog"] == built["catalog"].id
    assert client.get("/api/v1/catalogs", {"category": "x'; drop"}).status_code == 400


def test_api_refuses_search_words_no_database_can_compare(built):
    client = _client(roles.ANNOTATOR)
    refused = client.get("/api/v1/catalogs", {"q": "turn\x00table", "category": built["category"].id})
    assert refused.status_code == 400
    assert "q: the text contains a NUL character" in refused.json()["detail"]
    found = client.get("/api/v1/catalogs", {"q": "  turntable  "}).json()["results"]
    assert [row["id"] for row in found] == [built["catalog"].id]


def test_catalog_page_shows_prices_by_shop_and_escapes_titles(built):
    client = _client(roles.MANAGER)
    page = client.get(reverse("catalog:catalog", args=[built["catalog"].id])).content.decode()
    assert "89.50" in page and "lowest" in page
    garmin = Catalog.objects.get(memberships__offer__external_id="abt-3")
    page = client.get(reverse("catalog:catalog", args=[garmin.id])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_split_from_the_page_records_a_constraint(built):
    client = _client(roles.MANAGER)
    buy = Offer.objects.get(external_id="buy-1")
    client.post(reverse("catalog:decide", args=[built["catalog"].id]), {"action": "split", "offer": [buy.id]})
    assert PairDecision.objects.get().kind == "split"
    assert not CatalogMembership.objects.filter(offer=buy).exists()
    assert Catalog.history.filter(id=built["catalog"].id, history_change_reason="reviewer: split").exists()


def test_rules_page_saves_with_history(built):
    client = _client(roles.MANAGER)
    url = reverse("catalog:rules", args=[built["category"].id])
    form = {"threshold": 0.5, "publish_threshold": 0.4, "k": 50, "community": "leiden", "price_ratio": 2,
            "pack_size": "on"}  # fmt: skip
    assert client.post(url, form).status_code == 302
    rules = built["category"].catalog_rules
    assert rules.community == "leiden" and rules.rules["model_numbers"] is False
    assert rules.history.count() == 1
    assert client.post(url, {**form, "threshold": "NaN"}).status_code == 200  # refused, form shown again


BAD_FILES = [
    (b"shop,external_id,title\nabt,1,\n", "no title"),
    (b"shop,external_id,title\nabt,1," + b"x" * 10_000 + b"\n", "10,000 characters"),
    (b"shop,external_id,title\nabt,1,a\nabt,1,b\n", "same shop and external id as line 2"),
    (b"shop,external_id,title,category\nabt,1,a,nowhere/none\n", "unknown category"),
    (b"shop,external_id,title,price\nabt,1,a,NaN\n", "not a number"),
    (b"shop,external_id,title\n,1,a\n", "no shop"),
    (b"", "the file is empty"),
    (b"title\nabc\n", "missing column"),
]


@pytest.mark.parametrize(("data", "message"), BAD_FILES)
def test_bad_files_are_refused_whole(data, message):
    good = b"\nbuy,9,A good offer\n" if data.count(b"\n") > 1 else b""
    preview = offers_preview(data=data + good)
    problems = preview.parsed.file_errors + [row.error for row in preview.parsed.errors]
    assert any(message in problem for problem in problems), problems
    with pytest.raises(CatalogError, match="Nothing imported"):
        offers_apply(data=data + good, user=None)
    assert not Offer.objects.exists() and not Shop.objects.exists()


def test_reimport_updates_by_shop_and_external_id_and_cp949():
    offers_apply(
        data="shop,external_id,title,price\n쿠팡,1,삼다수 2L 12개입,9000\n".encode("cp949"), user=None
    )
    offers_apply(data=b"shop,external_id,title,price\n\xec\xbf\xa0\xed\x8c\xa1,1,new title,8000\n", user=None)
    offer = Offer.objects.get()
    assert (offer.shop.name, offer.title, str(offer.price)) == ("쿠팡", "new title", "8000.00")
    assert offer.history.count() == 2


def test_commands_import_build_and_export(tmp_path, capsys):
    category = SmallCategoryFactory(name="tv", parent__name="video")
    source = tmp_path / "offers.csv"
    source.write_text(
        "shop,external_id,title,price,brand,category\n"
        "abt,1,Samsung 46 inch LCD TV LN46A650,999,Samsung,video/tv\n"
        "buy,2,Samsung LN46A650 46in LCD HDTV,949,,video/tv\n"
        "buy,3,Canon PowerShot camera,,,\n"
    )
    call_command("import_offers", str(source))
    assert not Offer.objects.exists()  # preview only
    call_command("import_offers", str(source), "--apply")
    call_command("catalog_build", "--full", "--inline", "--category", category.path)
    assert "groups 1" in capsys.readouterr().out
    target = tmp_path / "catalogs.csv"
    call_command("export_catalogs", "--output", str(target))
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [row["catalog_id"] != "" for row in rows] == [True, True, False]
    assert CatalogRun.objects.get().status == "succeeded"
    with pytest.raises(CommandError, match="refused"):
        bad = tmp_path / "bad.csv"
        bad.write_text("shop,external_id,title,price\nabt,1,x,abc\n")
        call_command("import_offers", str(bad), "--apply")


def test_a_second_run_is_refused_while_one_is_going():
    SmallCategoryFactory()
    user = UserFactory()
    category = SmallCategoryFactory()
    Offer.objects.create(shop=Shop.objects.create(name="s"), external_id="1", title="t", category=category)
    CatalogRun.objects.create(status="running", categories=[category.id])
    from catalog.services.runs import catalog_run_create

    with pytest.raises(CatalogError, match="still going"):
        catalog_run_create(user=user)


def test_move_takes_only_offers_of_the_catalog_and_an_existing_target(built):
    client = _client(roles.MANAGER)
    url = reverse("catalog:decide", args=[built["catalog"].id])
    garmin = Catalog.objects.get(memberships__offer__external_id="abt-3")
    outsider = Offer.objects.get(external_id="buy-3")
    for form, message in (
        ({"action": "move", "offer": [outsider.id], "target": garmin.id}, "Tick offers of this catalog"),
        ({"action": "move", "offer": [built["offer"].id], "target": 999999}, "No catalog with that number"),
    ):
        response = client.post(url, form, follow=True)
        assert message in response.content.decode()
    assert not CatalogMembership.objects.filter(source="manual").exists()
    client.post(url, {"action": "move", "offer": [built["offer"].id], "target": garmin.id})
    assert CatalogMembership.objects.get(offer=built["offer"]).catalog == garmin


def test_the_image_weight_is_set_on_the_rules_page_and_joins_offers_by_their_image():
    category = SmallCategoryFactory(name="lamps")
    for shop, title, image in (("abt", "Aurora desk lamp brushed steel", [1, 0, 0]),
                               ("buy", "Nordic reading light for bedside", [1, 0, 0]),
                               ("abt", "Garden hose reel cart", [0, 1, 0])):  # fmt: skip
        Offer.objects.create(shop=Shop.objects.get_or_create(name=shop)[0], external_id=title, title=title,
                             category=category, image_vector=image)  # fmt: skip
    category_build(category_id=category.id, user=None)
    assert not Catalog.objects.filter(category=category).exists()  # by their names, no two offers are alike

    client = _client(roles.MANAGER)
    url = reverse("catalog:rules", args=[category.id])
    assert "3 of 3 offers" in client.get(url).content.decode()
    form = {"threshold": 0.4, "publish_threshold": 0.3, "k": 100, "community": "label_propagation",
            "price_ratio": 3, "one_offer_per_shop": "on", "image_weight": 1.0}  # fmt: skip
    for bad in ("-0.1", "1.5", "NaN", "heavy"):
        assert client.post(url, {**form, "image_weight": bad}).status_code == 200  # form shown again
    assert not CategoryRules.objects.filter(category=category).exists()
    assert client.post(url, form).status_code == 302
    rules = CategoryRules.objects.get(category=category)
    assert rules.image_weight == 1.0 and rules.history.get().image_weight == 1.0
    assert "image weight 1.0" in client.get(url).content.decode()

    category_build(category_id=category.id, user=None)
    lamp = Catalog.objects.get(memberships__offer__external_id="Aurora desk lamp brushed steel")
    assert sorted(lamp.memberships.values_list("offer__shop__name", flat=True)) == ["abt", "buy"]
