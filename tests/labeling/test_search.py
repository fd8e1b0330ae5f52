"""Search and browse examples; bulk actions on a selection are one changeset each."""

import pytest
from django.urls import reverse

from core import roles
from labeling.models import Changeset, Example
from tests.factories import (
    DatasetFactory,
    ExampleFactory,
    LargeCategoryFactory,
    SmallCategoryFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    dataset = DatasetFactory()
    society = LargeCategoryFactory(taxonomy=dataset.taxonomy, name="사회")
    kids, health = (SmallCategoryFactory(parent=society, name=n) for n in ("육아/교육", "보건복지"))
    ana = user_with_role(roles.ANNOTATOR, username="ana")
    # Bodies written out: the factory's random Latin ones hold words such as "space" that body searches find
    ExampleFactory(
        dataset=dataset,
        category=kids,
        content__title="어린이집 <script>x</script>",
        content__body="보육 시설 확충",
        labeled_by=ana,
    )
    ExampleFactory(
        dataset=dataset,
        category=kids,
        content__title="유치원 비리",
        content__body="감사를 요구합니다",
        status="needs_review",
    )
    ExampleFactory(dataset=dataset, category=health, content__title="병원비", content__body="어린이집 감염")
    ExampleFactory(content__title="어린이집 다른 데이터셋")  # another dataset
    return dataset, kids, health, ana


def search(client, dataset, **params):
    return client.get(reverse("labeling:browse", args=[dataset.id]), params)


def titles(response):
    return sorted(example.content.title for example in response.context["page"])


def test_filters_combine(client, world):
    dataset, kids, health, ana = world
    client.force_login(ana)
    assert titles(search(client, dataset, q="어린이집")) == ["어린이집 <script>x</script>"]
    assert len(titles(search(client, dataset, q="어린이집", in_body="1"))) == 2
    assert titles(search(client, dataset, status="needs_review")) == ["유치원 비리"]
    assert len(titles(search(client, dataset, category=kids.parent_id))) == 3
    assert titles(search(client, dataset, category=health.id)) == ["병원비"]
    assert titles(search(client, dataset, labeller=ana.id)) == ["어린이집 <script>x</script>"]
    html = search(client, dataset, q="어린이집").content.decode()
    assert "<script>x</script>" not in html
    response = search(client, dataset, since="2026-13-45")
    assert response.status_code == 400 and "is not a date written YYYY-MM-DD" in response.content.decode()


def test_bulk_relabel_and_review_are_changesets(client, world):
    dataset, kids, health, ana = world
    client.force_login(ana)
    chosen = list(Example.objects.filter(dataset=dataset, category=kids).values_list("id", flat=True))
    url = reverse("labeling:browse", args=[dataset.id])
    client.post(url, {"example": chosen, "action": "relabel", "category": health.id, "reason": "경계 정리"})
    assert set(Example.objects.filter(id__in=chosen).values_list("category", flat=True)) == {health.id}
    active = Example.objects.filter(id__in=chosen, status=Example.Status.ACTIVE).values_list("id", flat=True)
    client.post(url, {"example": list(active), "action": "review"})
    kinds = list(Changeset.objects.order_by("id").values_list("kind", "relabelled", "status_changed"))
    assert kinds == [("relabel", 2, 0), ("review", 0, 1)]
    response = client.post(url, {"example": [], "action": "review"}, follow=True)
    assert "Choose examples of this dataset" in response.content.decode()
    assert Changeset.objects.count() == 2


def test_counts_stop_at_the_cap(world):
    from core.paging import capped_count

    dataset = world[0]
    assert capped_count(Example.objects.filter(dataset=dataset), cap=1) == 2  # "1+": more than the cap
    assert capped_count(Example.objects.filter(dataset=dataset), cap=10) == 3


def test_body_search_before_and_after_the_words_are_indexed(client, world):
    from labeling.services.words import content_words_index

    dataset, kids, health, ana = world
    client.force_login(ana)
    ExampleFactory(
        dataset=dataset, category=health, content__title="감기", content__body="Spaces and spacecraft"
    )
    for _ in range(2):  # pending: the body is read; indexed: its words are
        assert titles(search(client, dataset, q="어린이집", in_body="1")) == [
            "병원비",
            "어린이집 <script>x</script>",
        ]
        assert titles(search(client, dataset, q="space", in_body="1")) == ["감기"]
        content_words_index()
    example = Example.objects.get(content__title="감기")
    example.content.body = "no longer"
    example.content.save()  # a changed body waits for the job again, and is read meanwhile
    assert titles(search(client, dataset, q="space", in_body="1")) == []


def test_pages_past_the_first_show_the_next_examples(client, world):
    dataset, kids, health, ana = world
    client.force_login(ana)
    ExampleFactory.create_batch(60, dataset=dataset, category=kids)
    newest_first = list(
        Example.objects.filter(dataset=dataset).order_by("-labeled_at", "-id").values_list("id", flat=True)
    )
    first, second = (search(client, dataset, page=n).context["page"] for n in (1, 2))
    assert [e.id for e in first] == newest_first[:50]
    assert (second.number, [e.id for e in second]) == (2, newest_first[50:])
    assert all(e.category.parent_id == kids.parent_id for e in second)  # joined rows come with the page


def test_past_the_cap_the_page_says_so_and_pages_through_what_it_read(client, world, monkeypatch):
    monkeypatch.setattr("labeling.views.search.COUNT_CAP", 2)
    dataset, kids, health, ana = world
    client.force_login(ana)
    newest_first = list(
        Example.objects.filter(dataset=dataset).order_by("-labeled_at", "-id").values_list("id", flat=True)
    )
    response = search(client, dataset)
    assert "2+ examples: narrow the search" in response.content.decode()
    page = response.context["page"]
    assert (page.paginator.count, [e.id for e in page]) == (3, newest_first)
    assert titles(search(client, dataset, q="어린이집", in_body="1")) == [
        "병원비",
        "어린이집 <script>x</script>",
    ]


def test_category_lists_name_paths_and_keep_the_choice(client, world):
    dataset, kids, health, ana = world
    LargeCategoryFactory(taxonomy=dataset.taxonomy, name="<b>경제</b>")
    client.force_login(ana)
    html = search(client, dataset, category=health.id).content.decode()
    search_form, relabel_form = html.split('name="category"')[1:3]
    assert f'<option value="{health.id}" selected>사회 › 보건복지</option>' in search_form
    assert f'<option value="{kids.id}">사회 › 육아/교육</option>' in search_form
    assert "&lt;b&gt;경제&lt;/b&gt;</option>" in search_form and "<b>" not in html
    assert f'<option value="{kids.parent_id}">' not in relabel_form  # large categories label nothing
    assert f'<option value="{health.id}">사회 › 보건복지</option>' in relabel_form
