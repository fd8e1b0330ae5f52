"""Writes through the services validate with clear messages and record history naming the user."""

import pytest

from core.errors import ApplicationError
from labeling import services
from labeling.errors import StaleExampleError
from labeling.models import Category, Content, Example
from tests.factories import (
    ContentFactory,
    DatasetFactory,
    LargeCategoryFactory,
    SmallCategoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(username="alice")


def last_history(instance):
    return instance.history.order_by("-history_id").first()


def test_category_create_and_update_record_who_and_why(alice):
    taxonomy = DatasetFactory().taxonomy
    large = services.category_create(taxonomy=taxonomy, name="사회", user=alice, reason="new branch")
    small = services.category_create(taxonomy=taxonomy, name="육아/교육", parent=large, user=alice)
    services.category_update(category=small, guideline="학교, 보육", user=alice, reason="clarify")

    assert small.level == Category.Level.SMALL and small.path == "사회 › 육아/교육"
    created, updated = small.history.order_by("history_id")
    assert (created.history_type, created.history_user, created.history_change_reason) == (
        "+",
        alice,
        "created",
    )
    assert (updated.history_type, updated.history_user, updated.history_change_reason) == (
        "~",
        alice,
        "clarify",
    )
    assert updated.guideline == "학교, 보육"
    assert last_history(large).history_change_reason == "new branch"


def test_category_create_refuses_a_small_parent(alice):
    small = SmallCategoryFactory()
    with pytest.raises(ApplicationError, match="cannot hold small categories"):
        services.category_create(taxonomy=small.taxonomy, name="deep", parent=small, user=alice)
    assert not Category.objects.filter(name="deep").exists()


def test_content_upsert_records_only_real_changes(alice):
    content, changed = services.content_upsert(
        external_id="p-1", title=" 제목 ", body="본문", user=alice, reason="import"
    )
    assert changed and content.title == "제목"
    _, changed_again = services.content_upsert(
        external_id="p-1", title="제목", body="본문", user=alice, reason="import"
    )
    assert not changed_again
    old_hash = content.text_hash
    content, changed = services.content_upsert(
        external_id="p-1", title="제목", body="고친 본문", user=alice, reason="fix typo"
    )
    assert changed and content.text_hash != old_hash
    assert [h.history_change_reason for h in content.history.order_by("history_id")] == ["import", "fix typo"]
    assert {h.history_user for h in content.history.all()} == {alice}


def test_content_without_text_is_refused(alice):
    with pytest.raises(ApplicationError, match="has no text"):
        services.content_upsert(external_id="empty", title=" ", body="", user=alice, reason="x")
    assert not Content.objects.exists()


def test_example_label_creates_then_relabels_with_history(alice):
    dataset = DatasetFactory()
    first, second = SmallCategoryFactory.create_batch(2, parent__taxonomy=dataset.taxonomy)
    content = ContentFactory()
    bob = UserFactory(username="bob")

    example = services.example_label(dataset=dataset, content=content, category=first, user=alice)
    example = services.example_label(
        dataset=dataset,
        content=content,
        category=second,
        user=bob,
        reason="boundary",
        expected_version=example.version,
    )

    assert (example.category, example.version, example.labeled_by) == (second, 2, bob)
    rows = list(example.history.order_by("history_id"))
    assert [(r.history_user, r.category_id, r.history_change_reason) for r in rows] == [
        (alice, first.id, "labelled"),
        (bob, second.id, "boundary"),
    ]


def test_stale_save_is_refused_and_names_who_changed_it(alice):
    dataset = DatasetFactory()
    first, second = SmallCategoryFactory.create_batch(2, parent__taxonomy=dataset.taxonomy)
    content = ContentFactory()
    seen = services.example_label(dataset=dataset, content=content, category=first, user=alice)
    bob = UserFactory(username="bob")
    services.example_label(
        dataset=dataset, content=content, category=second, user=bob, expected_version=seen.version
    )

    with pytest.raises(StaleExampleError, match="changed by bob"):
        services.example_label(
            dataset=dataset, content=content, category=first, user=alice, expected_version=seen.version
        )
    example = Example.objects.get()
    assert (example.category, example.version, example.history.count()) == (second, 2, 2)


def test_label_with_foreign_or_inactive_category_is_refused(alice):
    dataset = DatasetFactory()
    content = ContentFactory()
    with pytest.raises(ApplicationError, match="is not a category of dataset"):
        services.example_label(dataset=dataset, content=content, category=SmallCategoryFactory(), user=alice)
    large = LargeCategoryFactory(taxonomy=dataset.taxonomy)
    with pytest.raises(ApplicationError, match="large category"):
        services.example_label(dataset=dataset, content=content, category=large, user=alice)
    excluded = SmallCategoryFactory(parent=large, status=Category.Status.EXCLUDED)
    with pytest.raises(ApplicationError, match="is excluded"):
        services.example_label(dataset=dataset, content=content, category=excluded, user=alice)
    assert not Example.objects.exists()
