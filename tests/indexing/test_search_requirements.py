"""Search requirements, the seed's way: database fixtures -> index -> query -> expected hits (real node)."""

import pytest

from indexing.selectors import content_ids_matching, examples_search_engine
from labeling.models import Example
from tests.factories import (
    DatasetFactory,
    ExampleFactory,
    LargeCategoryFactory,
    SmallCategoryFactory,
)
from tests.indexing.conftest import assert_index_equals_database, drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(search):
    dataset = DatasetFactory()
    society = LargeCategoryFactory(taxonomy=dataset.taxonomy, name="사회")
    economy = LargeCategoryFactory(taxonomy=dataset.taxonomy, name="경제")
    aging, kids = (SmallCategoryFactory(parent=society, name=n) for n in ("저출산/고령화대책", "육아/교육"))
    jobs = SmallCategoryFactory(parent=economy, name="일자리")
    make = lambda title, body, category, **kw: ExampleFactory(  # noqa: E731
        dataset=dataset, category=category, content__title=title, content__body=body, **kw
    )
    examples = {
        "aging": make("저출산고령화대책 마련을 촉구합니다", "인구 절벽", aging),
        "kids": make("어린이집 보육료 지원", "맞벌이 부부의 육아 부담", kids),
        "jobs": make("청년일자리 창출", "Youth employment programs are running", jobs),
        "space": make("Space programs and budgets", "The shuttle launches were delayed", jobs),
        "review": make("국민연금 개혁", "노후 대비", aging, status=Example.Status.NEEDS_REVIEW),
    }
    other = ExampleFactory(content__title="저출산 다른 데이터셋")  # another dataset, same word
    drain(search)
    return dataset, {"society": society, "aging": aging, "kids": kids, "jobs": jobs}, examples, other


def found(dataset, text="", **filters) -> list[str]:
    page = examples_search_engine(dataset_id=dataset.id, text=text, **filters)
    return sorted(hit["example"].content.title for hit in page.hits)


def test_korean_word_inside_a_compound(world):
    dataset, _, _, _ = world
    assert found(dataset, "고령화") == ["저출산고령화대책 마련을 촉구합니다"]
    assert found(dataset, "일자리") == ["청년일자리 창출"]


def test_korean_word_with_its_particle_through_the_morphological_analyzer(world, search):
    """Bigrams alone need every pair of the query in the text (대책을 -> 대책, 책을: no match); the node's
    nori subfield of the title cuts the particle off (대책을 -> 대책) and finds it."""
    dataset, _, _, _ = world
    live = search.engine_get().indices_of(search.search_alias("contents"))[0]
    mapping = search.engine_get().client.indices.get_mapping(index=live)[live]["mappings"]
    assert mapping["properties"]["title"]["fields"]["ko"] == {"type": "text", "analyzer": "korean"}
    assert found(dataset, "대책을") == ["저출산고령화대책 마련을 촉구합니다"]
    assert found(dataset, "보육료를 지원") == ["어린이집 보육료 지원"]
    assert "ko" not in mapping["properties"]["body"]["fields"]  # bodies: bigrams only (nori's cost)


def test_korean_word_inside_a_compound_in_the_body(world):
    dataset, _, _, _ = world
    assert found(dataset, "맞벌이") == ["어린이집 보육료 지원"]


def test_english_words_and_stems(world):
    dataset, _, _, _ = world
    assert found(dataset, "shuttle") == ["Space programs and budgets"]
    assert found(dataset, "program") == ["Space programs and budgets", "청년일자리 창출"]  # stem: programs
    assert found(dataset, "SPACE budgets") == ["Space programs and budgets"]


def test_all_words_must_match(world):
    dataset, _, _, _ = world
    assert found(dataset, "space 고령화") == []


def test_external_id_exact(world):
    dataset, _, examples, _ = world
    assert found(dataset, examples["kids"].content.external_id) == ["어린이집 보육료 지원"]


def test_dataset_filter_keeps_other_datasets_out(world):
    dataset, _, _, other = world
    assert found(dataset, "저출산") == ["저출산고령화대책 마련을 촉구합니다"]
    assert found(other.dataset, "저출산") == ["저출산 다른 데이터셋"]


def test_small_and_large_category_filters(world):
    dataset, categories, _, _ = world
    assert found(dataset, category=categories["kids"]) == ["어린이집 보육료 지원"]
    assert len(found(dataset, category=categories["society"])) == 3


def test_status_filter(world):
    dataset, _, _, _ = world
    assert found(dataset, status=Example.Status.NEEDS_REVIEW) == ["국민연금 개혁"]


def test_category_filter_after_a_relabel(world):
    dataset, categories, examples, _ = world
    example = examples["aging"]
    example.category = categories["kids"]
    example.save()
    drain(world_search(world))
    assert "저출산고령화대책 마련을 촉구합니다" in found(dataset, category=categories["kids"])
    assert "저출산고령화대책 마련을 촉구합니다" not in found(dataset, category=categories["aging"])


def world_search(world):
    from indexing import services

    return services


def test_relabel_not_yet_indexed_is_skipped_not_shown_wrong(world):
    dataset, categories, examples, _ = world
    Example.objects.filter(pk=examples["kids"].pk).update(category=categories["aging"])  # not drained
    page = examples_search_engine(dataset_id=dataset.id, category=categories["kids"])
    assert page.hits == [] and page.total_is_estimate  # the index says 1, the database none: "about"


def test_removed_example_gone(world):
    dataset, _, examples, _ = world
    Example.objects.filter(pk=examples["jobs"].pk).update(status=Example.Status.REMOVED)
    drain(world_search(world))
    assert found(dataset, "일자리") == []


def test_deleted_content_gone(world):
    dataset, _, examples, _ = world
    content = examples["space"].content
    examples["space"].delete()
    content.delete()
    drain(world_search(world))
    assert found(dataset, "shuttle") == []
    assert_index_equals_database(world_search(world))


def test_title_edit_found_by_the_new_words(world):
    dataset, _, examples, _ = world
    content = examples["kids"].content
    content.title = "유치원 무상급식"
    content.save()
    drain(world_search(world))
    assert found(dataset, "무상급식") == ["유치원 무상급식"]
    assert found(dataset, "보육료") == []


def test_category_rename_reaches_the_documents(world):
    dataset, categories, examples, _ = world
    categories["society"].name = "사회문화"
    categories["society"].save()
    drain(world_search(world))
    labels = _doc(world, examples["kids"].content_id)["labels"]
    assert labels[0]["path"] == "사회문화 › 육아/교육"


def _doc(world, content_id):
    services = world_search(world)
    return services.engine_get().get_many(services.search_alias("contents"), [content_id])[content_id]


def test_highlights_are_escaped(search):
    dataset = DatasetFactory()
    ExampleFactory(dataset=dataset, content__title="<script>alert(1)</script> 고령화", content__body="")
    drain(search)
    hit = examples_search_engine(dataset_id=dataset.id, text="고령화").hits[0]
    assert "<script>" not in hit["title"] and "&lt;script&gt;" in hit["title"]
    assert "<mark>" in hit["title"]


def test_pagination(search):
    dataset = DatasetFactory()
    for n in range(45):
        ExampleFactory(dataset=dataset, content__title=f"페이지 시험 {n}", content__body="")
    drain(search)
    pages = [
        examples_search_engine(dataset_id=dataset.id, text="시험", page=p, per_page=20) for p in (1, 2, 3)
    ]
    assert [len(p.hits) for p in pages] == [20, 20, 5]
    assert pages[0].total == 45 and not pages[0].total_is_estimate
    ids = [hit["example"].id for p in pages for hit in p.hits]
    assert len(set(ids)) == 45


def test_import_of_1000_rows_all_searchable_after_one_sync(search):
    """Through the COPY path imports use (core.inserts): the statement triggers see the copied rows."""
    from django.utils import timezone

    from core.inserts import insert_with_history
    from labeling.models import Content, text_hash

    dataset = DatasetFactory()
    category = SmallCategoryFactory(parent__taxonomy=dataset.taxonomy)
    now = timezone.now()
    rows = [
        {
            "external_id": f"import-{n}",
            "title": "대량가져오기 문서",
            "body": "",
            "source": "csv",
            "text_hash": text_hash("대량가져오기 문서", str(n)),
            "created_at": now,
            "modified_at": now,
        }
        for n in range(1000)
    ]
    content_ids = insert_with_history(Content, rows, user=None, reason="import")
    examples = [
        {
            "dataset_id": dataset.id,
            "content_id": pk,
            "category_id": category.id,
            "status": "active",
            "version": 1,
            "note": "",
            "created_at": now,
            "updated_at": now,
        }
        for pk in content_ids
    ]
    insert_with_history(Example, examples, user=None, reason="import")
    drain(search)
    assert examples_search_engine(dataset_id=dataset.id, text="가져오기").total == 1000
    assert_index_equals_database(search)


def test_page_matcher_gives_ids_from_the_engine(world):
    dataset, _, examples, _ = world
    assert content_ids_matching(dataset.id, "고령화", True) == [examples["aging"].content_id]


def test_page_matcher_falls_back_without_engine(world, settings):
    settings.SEARCH_URL = ""
    assert content_ids_matching(world[0].id, "고령화", True) is None
