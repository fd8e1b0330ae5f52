"""Managers shape the taxonomy through its page; every change is in the category's history."""

import pytest
from django.urls import reverse

from core import roles
from labeling.models import Category
from tests.factories import (
    DatasetFactory,
    ExampleFactory,
    LargeCategoryFactory,
    SmallCategoryFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def taxonomy():
    dataset = DatasetFactory()
    society = LargeCategoryFactory(taxonomy=dataset.taxonomy, name="사회")
    life = LargeCategoryFactory(taxonomy=dataset.taxonomy, name="생활")
    pets = SmallCategoryFactory(parent=society, name="반려동물")
    return dataset, society, life, pets


def post(client, dataset, **data):
    return client.post(reverse("labeling:taxonomy", args=[dataset.id]), data, follow=True)


def test_manager_creates_renames_moves_and_retires(client, taxonomy):
    dataset, society, life, pets = taxonomy
    manager = user_with_role(roles.MANAGER, username="manager")
    client.force_login(manager)
    post(client, dataset, action="create", name="미래", parent=society.id, guideline="4차 산업혁명")
    future = Category.objects.get(name="미래")
    assert (future.parent, future.level, future.guideline) == (society, 2, "4차 산업혁명")
    post(
        client,
        dataset,
        action="update",
        category=pets.id,
        name="반려동물/동물복지",
        guideline="동물 학대",
        reason="boundary with 안전",
    )
    post(client, dataset, action="move", category=pets.id, parent=life.id)
    pets.refresh_from_db()
    assert (pets.name, pets.parent) == ("반려동물/동물복지", life)
    response = post(client, dataset, action="retire", category=future.id)
    assert "Retired" in response.content.decode()
    future.refresh_from_db()
    assert future.status == Category.Status.EXCLUDED
    reasons = list(pets.history.order_by("history_id").values_list("history_change_reason", "history_user"))
    assert reasons[1:] == [("boundary with 안전", manager.id), ("moved", manager.id)]


def test_refusals_are_shown_and_change_nothing(client, taxonomy):
    dataset, society, life, pets = taxonomy
    ExampleFactory(dataset=dataset, category=pets)
    client.force_login(user_with_role(roles.MANAGER, username="manager"))
    html = post(client, dataset, action="retire", category=pets.id).content.decode()
    assert "1 examples still use" in html
    html = post(client, dataset, action="move", category=pets.id, parent=pets.id).content.decode()
    assert "is not a large category" in html
    pets.refresh_from_db()
    assert (pets.status, pets.parent) == ("active", society)


def test_annotators_cannot_touch_the_taxonomy(client, taxonomy):
    dataset, society, life, pets = taxonomy
    client.force_login(user_with_role(roles.ANNOTATOR, username="annotator"))
    url = reverse("labeling:taxonomy", args=[dataset.id])
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "create", "name": "x"}).status_code == 403
    assert not Category.objects.filter(name="x").exists()


def test_guidelines_are_edited_in_multi_line_fields_and_keep_their_lines(client, taxonomy):
    dataset, society, life, pets = taxonomy
    client.force_login(user_with_role(roles.MANAGER, username="manager"))
    page = client.get(reverse("labeling:taxonomy", args=[dataset.id])).content.decode()
    assert (
        page.count('<textarea name="guideline"')
        == 1 + Category.objects.filter(taxonomy=dataset.taxonomy).count()
    )
    guideline = "포함: 유기견 입양\r\n제외: 동물 학대 (안전으로)"
    post(client, dataset, action="update", category=pets.id, name=pets.name, guideline=guideline, reason="r")
    pets.refresh_from_db()
    assert pets.guideline.splitlines() == ["포함: 유기견 입양", "제외: 동물 학대 (안전으로)"]


def test_a_category_name_cannot_hold_the_path_separator(client, taxonomy):
    dataset, society, life, pets = taxonomy
    client.force_login(user_with_role(roles.MANAGER, username="manager"))
    page = post(client, dataset, action="create", name="사회 › 복지", parent=society.id).content.decode()
    assert "cannot contain" in page and not Category.objects.filter(name="사회 › 복지").exists()
