"""Importing labelled examples: preview, apply as one changeset, all-or-nothing, revert, command line."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.errors import ApplicationError
from labeling.models import Changeset, Content, DatasetVersion, Example
from labeling.selectors.versions import version_state, working_state
from labeling.services.imports import import_apply, import_preview
from labeling.services.versions import changeset_revert, dataset_commit
from tests.factories import (
    ContentFactory,
    DatasetFactory,
    ExampleFactory,
    LargeCategoryFactory,
    SmallCategoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def petitions():
    dataset = DatasetFactory(name="petitions")
    society = LargeCategoryFactory(taxonomy=dataset.taxonomy, name="사회/복지")
    SmallCategoryFactory(parent=society, name="육아/교육")
    SmallCategoryFactory(parent=society, name="보건복지")
    return dataset


def korean_csv(*rows: str, encoding="cp949") -> bytes:
    return ("external_id,title,body,category\n" + "\n".join(rows) + "\n").encode(encoding)


GOOD = [
    "p-1,어린이집 확충,보육 시설이 부족합니다,육아/교육",
    'p-2,병원비 지원,"의료비가, 너무 비쌉니다",보건복지',
]
BAD = "p-3,반려견 등록,동물 등록제,반려동물"


def test_preview_reports_each_kind_and_changes_nothing(petitions):
    existing = ExampleFactory(
        dataset=petitions,
        category=petitions.taxonomy.categories.get(name="보건복지"),
        content=ContentFactory(external_id="p-1"),
    )
    preview = import_preview(dataset=petitions, data=korean_csv(*GOOD, BAD))
    assert (preview.encoding, preview.new, preview.changed, preview.errors) == ("cp949", 1, 1, 1)
    assert preview.error_rows == [{"line": 4, "external_id": "p-3", "error": "unknown category '반려동물'"}]
    assert preview.changed_rows[0]["before"] == "사회/복지 › 보건복지"
    existing.refresh_from_db()
    assert existing.category.name == "보건복지" and Example.objects.count() == 1


def test_file_with_rejected_rows_is_not_applied_unless_asked(petitions):
    user = UserFactory()
    with pytest.raises(ApplicationError, match="1 rows were rejected .first on line 4"):
        import_apply(dataset=petitions, data=korean_csv(*GOOD, BAD), user=user, file_name="x.csv")
    assert not Example.objects.exists() and not Content.objects.exists()
    assert not Changeset.objects.exists() and not DatasetVersion.objects.exists()

    changeset = import_apply(
        dataset=petitions, data=korean_csv(*GOOD, BAD), user=user, file_name="x.csv", skip_invalid=True
    )
    assert (changeset.kind, changeset.added, changeset.details["rejected"]) == ("import", 2, 1)
    example = Example.objects.get(content__external_id="p-2")
    assert example.content.body == "의료비가, 너무 비쌉니다" and example.category.name == "보건복지"
    assert Example.history.filter(changeset=changeset, history_user=user).count() == 2
    assert Content.history.filter(changeset=changeset).count() == 2


def test_import_changes_labels_and_text_and_reverts_cleanly(petitions):
    user = UserFactory()
    first = import_apply(
        dataset=petitions, data=korean_csv(*GOOD, encoding="utf-8-sig"), user=user, file_name="a.csv"
    )
    v_after_first = dataset_commit(dataset=petitions, user=user, message="after first import")
    second = import_apply(
        dataset=petitions,
        user=user,
        file_name="b.csv",
        data=korean_csv(
            "p-1,어린이집 확충,보육 시설이 많이 부족합니다,보건복지", "p-9,새 청원,내용,육아/교육"
        ),
    )
    assert (second.added, second.relabelled, second.version_before) == (1, 1, v_after_first)
    assert Content.objects.get(external_id="p-1").body == "보육 시설이 많이 부족합니다"

    changeset_revert(changeset=second, user=user, reason="wrong file")
    state = working_state(petitions)
    assert state.keys() == version_state(v_after_first).keys()
    assert {k: v[:2] for k, v in state.items()} == {k: v[:2] for k, v in version_state(v_after_first).items()}
    assert first.added == 2


def test_empty_and_undecodable_files_change_nothing(petitions):
    assert import_preview(dataset=petitions, data=b"").file_errors == ["the file is empty"]
    with pytest.raises(ApplicationError, match="cannot be imported"):
        import_apply(dataset=petitions, data=b"\xff\xfe\x00garbage", user=None, file_name="x.csv")
    assert not Changeset.objects.exists()


def test_import_command(petitions, tmp_path, capsys):
    path = tmp_path / "petitions.csv"
    path.write_bytes(korean_csv(*GOOD, BAD))
    with pytest.raises(CommandError, match="1 rows rejected; nothing changed"):
        call_command("import_examples", str(path), "--dataset", "petitions")
    out = capsys.readouterr().out
    assert "new 2\tchanged 0\tunchanged 0\trejected 1" in out and "line 4\tp-3\tunknown category" in out
    with pytest.raises(CommandError, match="rows were rejected"):
        call_command("import_examples", str(path), "--dataset", "petitions", "--apply")
    assert not Example.objects.exists()
    with pytest.raises(CommandError, match="1 rows rejected"):
        call_command("import_examples", str(path), "--dataset", "petitions", "--apply", "--skip-invalid")
    assert Example.objects.count() == 2
    path.write_bytes(korean_csv(*GOOD))
    call_command("import_examples", str(path), "--dataset", "petitions", "--apply")
    assert "new 0\tchanged 0\tunchanged 2" in capsys.readouterr().out


def test_import_command_creates_a_dataset_from_the_file(tmp_path, capsys):
    path = tmp_path / "news.csv"
    path.write_text(
        "external_id,title,body,category\n"
        "n-1,GPU prices,cards are expensive,comp/graphics\n"
        "n-2,Hockey,playoffs tonight,rec/hockey\n"
        "n-3,Orphan,no large category given,misc\n",
        encoding="utf-8",
    )
    call_command("import_examples", str(path), "--dataset", "news", "--create")
    assert "dataset news: created with 6 categories" in capsys.readouterr().out
    assert not DatasetVersion.objects.exists() and not Example.objects.exists()
    from labeling.models import Dataset

    assert not Dataset.objects.filter(name="news").exists()  # a preview changes nothing
    call_command("import_examples", str(path), "--dataset", "news", "--create", "--apply")
    dataset = Dataset.objects.get(name="news")
    paths = sorted(
        Example.objects.filter(dataset=dataset).values_list("category__parent__name", "category__name")
    )
    assert paths == [("comp", "graphics"), ("general", "misc"), ("rec", "hockey")]
    with pytest.raises(CommandError, match="add --create"):
        call_command("import_examples", str(path), "--dataset", "other")
