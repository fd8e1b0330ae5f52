"""The catalogs index on the real node, the seed's way: database fixtures -> index -> query -> expected hits;
reviewers' decisions and catalog builds reflected (real time and batch), index equal to the database."""

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Catalog, CatalogMembership, Offer, Shop
from catalog.selectors import catalog_search
from catalog.services.build import category_build
from catalog.services.review import catalog_merge, catalog_reject, catalog_split, offer_move
from core import roles
from indexing.models import IndexEvent
from tests.factories import SmallCategoryFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogs(search):
    search.index_create(name="catalogs")
    return search


def _catalog(title, category, offers, status=Catalog.Status.PUBLISHED) -> Catalog:
    catalog = Catalog.objects.create(title=title, category=category, status=status, quality_score=0.8)
    for shop_name, offer_title, brand, price in offers:
        shop, _ = Shop.objects.get_or_create(name=shop_name)
        offer = Offer.objects.create(
            shop=shop, external_id=f"{shop_name}-{Offer.objects.count()}", title=offer_title, brand=brand,
            price=price, category=category,
        )  # fmt: skip
        CatalogMembership.objects.create(catalog=catalog, offer=offer)
    return catalog


def drain(services) -> None:
    services.outbox_drain()
    services.engine_get().refresh(services.search_alias("catalogs"))


def assert_index_equals_database(services) -> None:
    services.engine_get().refresh(services.search_alias("catalogs"))
    assert services.index_compare(name="catalogs") == {"missing": [], "stale": [], "extra": []}


@pytest.fixture
def world(catalogs):
    phones, audio = SmallCategoryFactory(name="휴대폰"), SmallCategoryFactory(name="오디오")
    galaxy = _catalog(
        "삼성갤럭시울트라 자급제",
        phones,
        [
            ("11번가", "삼성전자 갤럭시 S21 Ultra SM-G998N 256GB", "삼성전자", 1_200_000),
            ("쿠팡", "갤럭시S21 울트라 SM-G998N 자급제", "삼성전자", 1_150_000),
            ("옥션", "갤럭시 S21 울트라 케이스 포함 SM-G998N", "", None),
        ],
    )
    turntable = _catalog(
        "Sony Turntable PSLX350H",
        audio,
        [
            ("abt", "Sony PS-LX350H belt drive turntable", "Sony", 150),
            ("buy", "Sony turntables PSLX350H black", "Sony", 140),
        ],
    )
    speaker = _catalog(
        "보스 블루투스스피커 사운드링크",
        audio,
        [
            ("abt", "Bose SoundLink Flex bluetooth speaker", "Bose", 199),
            ("쿠팡", "보스 사운드링크 플렉스", "Bose", 189),
        ],
    )
    empty = Catalog.objects.create(title="빈 카탈로그 울트라", category=phones)
    drain(catalogs)
    return {"phones": phones, "audio": audio, "galaxy": galaxy, "turntable": turntable, "speaker": speaker,
            "empty": empty}  # fmt: skip


def found(q, category=None, status="") -> list[str]:
    rows = catalog_search(category_id=category.id if category else None, q=q, status=status)
    return sorted(row.title for row in rows)


def test_korean_word_inside_a_compound_title(world):
    assert found("울트라") == ["삼성갤럭시울트라 자급제"]  # the empty catalog is no document
    assert found("블루투스") == ["보스 블루투스스피커 사운드링크"]
    assert found("사운드") == ["보스 블루투스스피커 사운드링크"]


def test_korean_words_with_particles_through_the_morphological_analyzer(world):
    assert found("갤럭시를") == ["삼성갤럭시울트라 자급제"]  # nori (.ko subfields) drops the particle
    assert found("스피커가") == ["보스 블루투스스피커 사운드링크"]


def test_english_words_model_numbers_brands_and_shops(world):
    assert found("SM-G998N") == ["삼성갤럭시울트라 자급제"]  # only in the offers' titles
    assert found("PSLX350H") == ["Sony Turntable PSLX350H"]
    assert found("belt drive") == ["Sony Turntable PSLX350H"]
    assert found("turntable") == ["Sony Turntable PSLX350H"]
    assert found("bose 쿠팡") == ["보스 블루투스스피커 사운드링크"]  # a brand and a shop, in different fields
    assert found("sony bose") == []  # every word must match


def test_category_filter(world):
    assert found("abt", category=world["audio"]) == [
        "Sony Turntable PSLX350H",
        "보스 블루투스스피커 사운드링크",
    ]
    assert found("쿠팡", category=world["phones"]) == ["삼성갤럭시울트라 자급제"]
    assert found("sony", category=world["phones"]) == []


def test_documents_carry_the_offers_figures(world, catalogs):
    document = catalogs.engine_get().get_many(catalogs.search_alias("catalogs"), [world["galaxy"].id])
    galaxy = document[world["galaxy"].id]
    assert galaxy["lowest_price"] == 1_150_000 and galaxy["offer_count"] == 3
    assert galaxy["shops"] == ["11번가", "옥션", "쿠팡"] and galaxy["brands"] == ["삼성전자"]
    assert_index_equals_database(catalogs)


def test_reviewers_split_merge_and_move_reflected_in_real_time(world, catalogs):
    user = UserFactory()
    galaxy, turntable, speaker = world["galaxy"], world["turntable"], world["speaker"]
    case = Offer.objects.get(title__contains="케이스")
    split_off = catalog_split(catalog=galaxy, offer_ids=[case.id], user=user)
    assert split_off is None  # one offer leaves: it is in no catalog now
    drain(catalogs)
    assert found("케이스") == []
    offer_move(offer=case, target=speaker, user=user)
    drain(catalogs)
    assert found("케이스") == ["보스 블루투스스피커 사운드링크"]
    catalog_merge(target=turntable, source=speaker, user=user)
    drain(catalogs)
    assert found("bose") == ["Sony Turntable PSLX350H"]  # the merged offers now find the target
    assert found("블루투스스피커") == []  # the source: rejected and empty, gone from the index
    assert_index_equals_database(catalogs)


def test_offer_and_shop_changes_reach_their_catalog(world, catalogs):
    offer = Offer.objects.get(title="Sony turntables PSLX350H black")
    offer.title, offer.price = "Sony turntable PSLX350H silver edition", 99
    offer.save()
    Shop.objects.filter(name="abt").update(name="에이비티")  # set-based, like any bulk write
    drain(catalogs)
    assert found("silver") == ["Sony Turntable PSLX350H"]
    assert found("에이비티") == ["Sony Turntable PSLX350H", "보스 블루투스스피커 사운드링크"]
    assert found("abt") == []
    document = catalogs.engine_get().get_many(catalogs.search_alias("catalogs"), [world["turntable"].id])
    assert document[world["turntable"].id]["lowest_price"] == 99
    assert_index_equals_database(catalogs)


def test_batch_window_catches_what_the_outbox_lost(world, catalogs):
    start = timezone.now()
    user = UserFactory()
    catalog_merge(target=world["galaxy"], source=world["turntable"], user=user)
    Catalog.objects.filter(pk=world["speaker"].pk).update(title="보스 휴대용스피커")
    IndexEvent.objects.all().delete()  # events lost: only the batch path can find these changes
    catalogs.sync_since(name="catalogs", since=start)
    catalogs.engine_get().refresh(catalogs.search_alias("catalogs"))
    assert found("PSLX350H") == ["삼성갤럭시울트라 자급제"]
    assert found("휴대용") == []  # a set-based UPDATE leaves no history row: the batch path cannot see it
    assert catalogs.index_compare(name="catalogs")["stale"] == [world["speaker"].id]
    assert catalogs.drift_repair(name="catalogs", force=True)["sample_off"] == [world["speaker"].id]
    catalogs.engine_get().refresh(catalogs.search_alias("catalogs"))
    assert found("휴대용") == ["보스 휴대용스피커"]
    assert_index_equals_database(catalogs)


def test_a_rejected_catalog_stays_findable_by_managers_only(world, catalogs, client):
    catalog_reject(catalog=world["speaker"], user=UserFactory())
    drain(catalogs)
    assert found("bose", status=Catalog.Status.REJECTED) == ["보스 블루투스스피커 사운드링크"]
    client.force_login(user_with_role(roles.ANNOTATOR))
    answer = client.get("/api/v1/catalogs", {"q": "bose"}).json()
    assert answer["results"] == []  # other services never get a rejected catalog
    assert (
        client.get("/api/v1/catalogs", {"q": "PSLX350H"}).json()["results"][0]["id"] == world["turntable"].id
    )


def test_api_and_list_page_read_ids_from_the_engine_and_fall_back(world, client, settings):
    client.force_login(user_with_role(roles.MANAGER))
    api = lambda **params: [r["title"] for r in client.get("/api/v1/catalogs", params).json()["results"]]  # noqa: E731
    assert api(q="SM-G998N", category=world["phones"].id) == ["삼성갤럭시울트라 자급제"]
    page = client.get(reverse("catalog:list"), {"q": "SM-G998N"}).content.decode()
    assert "삼성갤럭시울트라 자급제" in page
    settings.SEARCH_URL = ""  # no engine: the database answers, from the titles only
    assert api(q="SM-G998N") == [] and api(q="울트라") == ["삼성갤럭시울트라 자급제"]


def test_index_equals_database_after_a_catalog_build_and_a_rebuild(catalogs):
    category, user = SmallCategoryFactory(), UserFactory()
    products = [
        "Sony Turntable PSLX350H belt drive",
        "Garmin Nuvi 260W GPS navigator",
        "Canon EOS 40D camera",
    ]
    for shop_name in ("abt", "buy"):
        shop = Shop.objects.create(name=shop_name)
        for number, title in enumerate(products):
            Offer.objects.create(
                shop=shop, external_id=f"{number}", title=f"{title} {shop_name}", price=100 + number,
                category=category,
            )  # fmt: skip
    category_build(category_id=category.id, user=user)
    drain(catalogs)
    assert_index_equals_database(catalogs)
    assert len(found("garmin")) == 1 and len(found("buy")) == 3
    Catalog.objects.filter(category=category).update(
        quality_score=0.0
    )  # the next build's bulk_update resets it
    category_build(category_id=category.id, user=user)
    drain(catalogs)
    assert_index_equals_database(catalogs)
    catalogs.index_rebuild(name="catalogs")
    assert_index_equals_database(catalogs)
    assert len(found("garmin")) == 1


def test_status_api_per_index(world, client):
    client.force_login(user_with_role(roles.ADMIN))
    status = client.get("/api/v1/indexing/status", {"index": "catalogs"}).json()
    assert (
        status["index"] == "catalogs" and status["created"] and status["indexes"] == ["catalogs", "contents"]
    )
    assert client.get("/api/v1/indexing/status", {"index": "nope"}).status_code == 400
    page = client.get(reverse("indexing:status"), {"index": "catalogs"}).content.decode()
    assert "Search indexing: catalogs" in page
