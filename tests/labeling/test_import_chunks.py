"""Imports are read, checked and written in chunks of rows (settings.IMPORT_CHUNK_ROWS), in one transaction:
the result is the one of a single chunk, and a problem in the last chunk leaves nothing applied."""

import pytest

from core.errors import ApplicationError
from labeling.models import Changeset, Content, DatasetVersion, Example, ExampleImport
from labeling.services.imports import import_apply, import_preview
from labeling.services.uploads import upload_stream
from tests.factories import ContentFactory, ExampleFactory, UserFactory
from tests.labeling.test_import import petitions  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

CATEGORIES = ("육아/교육", "보건복지")


def rows_csv(count: int, *, last: str = "", encoding: str = "utf-8-sig") -> bytes:
    """`count` rows of two lines each (a quoted body with a CRLF in it), CRLF line ends, then `last`."""
    lines = ["external_id,title,body,category"]
    lines += [f'c-{i},제목 {i},"본문 {i}\r\n여러 줄",{CATEGORIES[i % 2]}' for i in range(count)]
    lines += [last] if last else []
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def state(dataset) -> list[tuple]:
    examples = Example.objects.filter(dataset=dataset).order_by("content__external_id")
    return list(examples.values_list("content__external_id", "content__body", "category__name", "status"))


def test_several_chunks_give_the_result_of_one(petitions, settings):  # noqa: F811
    user = UserFactory()
    ExampleFactory(
        dataset=petitions,
        category=petitions.taxonomy.categories.get(name="보건복지"),
        content=ContentFactory(external_id="c-4"),
    )
    data = rows_csv(23, last="c-3,dup,again,육아/교육")  # 24 rows: a duplicate id in the last chunk
    previews = {}
    for size in (5, 10_000):
        settings.IMPORT_CHUNK_ROWS = size
        previews[size] = import_preview(dataset=petitions, data=data).as_dict()
    assert previews[5] == previews[10_000]
    assert (previews[5]["new"], previews[5]["changed"], previews[5]["errors"]) == (22, 1, 1)
    assert previews[5]["error_rows"][0]["line"] == 48  # each row is two lines long

    settings.IMPORT_CHUNK_ROWS = 5
    changeset = import_apply(dataset=petitions, data=data, user=user, file_name="a.csv", skip_invalid=True)
    assert (changeset.added, changeset.relabelled, changeset.details["rejected"]) == (22, 1, 1)
    assert len(state(petitions)) == 23
    assert ("c-3", "본문 3\n여러 줄", "보건복지", "active") in state(petitions)
    assert Example.history.filter(changeset_id=changeset.id).count() == 23


@pytest.mark.parametrize(
    "last, message",
    [
        ("c-x,제목,본문,반려동물", "1 rows were rejected .first on line 42: unknown category"),
        ("c-x,제목,본문", "1 rows were rejected .first on line 42: expected 4 fields"),
    ],
)
def test_a_bad_row_in_the_last_chunk_leaves_nothing_applied(petitions, settings, last, message):  # noqa: F811
    settings.IMPORT_CHUNK_ROWS = 4
    before = (Content.objects.count(), Changeset.objects.count(), DatasetVersion.objects.count())
    with pytest.raises(ApplicationError, match=message):
        import_apply(dataset=petitions, data=rows_csv(20, last=last), user=UserFactory(), file_name="b.csv")
    assert (Content.objects.count(), Changeset.objects.count(), DatasetVersion.objects.count()) == before
    assert state(petitions) == [] and Content.history.count() == 0


def test_too_many_rows_found_late_leaves_nothing_applied(petitions, settings):  # noqa: F811
    settings.IMPORT_CHUNK_ROWS, settings.IMPORT_MAX_ROWS = 4, 18
    data = rows_csv(20)
    with pytest.raises(ApplicationError, match="more than 18 rows: split the file"):
        import_apply(dataset=petitions, data=data, user=UserFactory(), file_name="c.csv")
    assert state(petitions) == [] and Content.objects.count() == 0
    preview = import_preview(dataset=petitions, data=data)
    assert preview.file_errors == ["more than 18 rows: split the file"] and preview.accepted == 0


def test_an_upload_is_read_a_slice_at_a_time_as_the_same_bytes(petitions, monkeypatch):  # noqa: F811
    from labeling.services import uploads

    data = rows_csv(300, encoding="cp949")
    upload = ExampleImport.objects.create(dataset=petitions, file_name="d.csv", data=data)
    monkeypatch.setattr(uploads, "SLICE", 1000)  # many slices; reads straddle them
    with upload_stream(upload) as stream:
        pieces = []
        while piece := stream.read(777):
            pieces.append(piece)
        assert b"".join(pieces) == data
        stream.seek(0)
        preview = import_preview(dataset=petitions, data=stream)
    assert (preview.encoding, preview.new, preview.errors) == ("cp949", 300, 0)
