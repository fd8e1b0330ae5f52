"""Bulk classification (`manage.py classify`): files with and without categories, stored contents, the API's
answers row for row, bad input refused before anything is written."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import roles
from core.jobs import job_run
from core.models import Job
from labeling.models import Content, text_hash
from tests.factories import user_with_role
from tests.training.conftest import make_dataset, newsgroups_posts
from tests.training.test_runs import train

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_serving")]

HEADER = ["external_id", "predicted_category", "score", "second_category", "second_score"]


@pytest.fixture
def champion(news):
    return train(news, folds=0)


@pytest.fixture
def posts() -> list[dict]:
    """Posts the dataset never saw (after its first 40 of each group), 6 of each group."""
    rows = newsgroups_posts(per_group=46)
    return [row for number, row in enumerate(rows) if number % 46 >= 40]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    return path


def run_classify(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("classify", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def read_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_a_file_with_categories_agrees_with_the_api_row_for_row(champion, posts, tmp_path):
    rows = [["id", "title", "body", "category"]]
    rows += [[f"x{n}", p["title"], p["body"], p["category"]] for n, p in enumerate(posts)]
    output = tmp_path / "out.csv"
    report, _ = run_classify(
        "--dataset", "news", write_csv(tmp_path / "in.csv", rows), "--output", output, "--workers", 2
    )
    answers = read_rows(output)
    assert list(answers[0]) == [*HEADER, "given_category"]
    assert [a["external_id"] for a in answers] == [f"x{n}" for n in range(len(posts))]
    assert {a["given_category"] for a in answers} == {
        "rec › rec.autos",
        "sci › sci.space",
        "talk › talk.politics.guns",
    }
    assert "2 workers (threads)" in report
    right = sum(a["predicted_category"] == a["given_category"] for a in answers)
    assert f"accuracy {right / len(posts):.4f} on {len(posts)} texts with a category" in report
    assert right >= 0.7 * len(posts)

    api = APIClient()
    user = user_with_role(roles.ANNOTATOR, username="caller")
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    body = {"items": [{"title": p["title"], "text": p["body"]} for p in posts], "k": 2}
    response = api.post(reverse("api-classify", args=[champion.dataset.id]), body, format="json")
    assert response.status_code == 200, response.content
    for answer, mine in zip(response.json()["results"], answers, strict=True):
        top = answer["top"]
        assert (top[0]["path"], f"{top[0]['score']:.4f}") == (mine["predicted_category"], mine["score"])
        assert (top[1]["path"], f"{top[1]['score']:.4f}") == (mine["second_category"], mine["second_score"])

    # One worker gives the same file.
    again = tmp_path / "again.csv"
    run_classify("--dataset", "news", tmp_path / "in.csv", "--output", again, "--workers", 1)
    assert again.read_text() == output.read_text()


def test_a_file_without_categories_and_stored_contents(champion, posts, tmp_path, capsys):
    rows = [["title", "text"], *([p["title"], p["body"]] for p in posts[:5])]
    out, err = run_classify("--dataset", "news", write_csv(tmp_path / "in.tsv", rows), "--k", 3)
    answers = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(answers[0]) == ["external_id", *HEADER[1:], "category_3", "score_3"]
    assert len(answers) == 5 and all(a["external_id"].startswith("sha1:") for a in answers)
    assert "accuracy" not in err and "5 texts" in err

    for number, post in enumerate(posts[:4]):
        Content.objects.create(
            external_id=f"pool-{number}",
            title=post["title"],
            body=post["body"],
            source="crawler" if number < 3 else "other",
            text_hash=text_hash(post["title"], post["body"]),
            modified_at=timezone.now(),
        )
    output = tmp_path / "pool.csv"
    report, _ = run_classify("--dataset", "news", "--contents", "--source", "crawler", "--output", output)
    pool = read_rows(output)
    assert [a["external_id"] for a in pool] == ["pool-0", "pool-1", "pool-2"]
    assert list(pool[0]) == HEADER  # none of them is an example of the dataset
    assert "3 texts" in report

    # Every stored content: the dataset's own examples bring their categories, so accuracy is reported.
    report, _ = run_classify("--dataset", "news", "--contents", "--output", output, "--json")
    assert '"rows": 124' in report and '"compared": 120' in report


def test_bad_input_is_refused_with_a_clear_message(champion, posts, tmp_path):
    good = write_csv(tmp_path / "good.csv", [["title", "body"], ["a title", "a body"]])
    output = tmp_path / "out.csv"
    cases = [
        (["--dataset", "nope", good], "No dataset named 'nope'"),
        (["--dataset", "news"], "Give either a FILE or --contents"),
        (["--dataset", "news", good, "--k", 0], "k must be between 1 and 10"),
        (["--dataset", "news", tmp_path / "missing.csv"], "Cannot read"),
        (["--dataset", "news", write_csv(tmp_path / "empty.csv", [])], "the file is empty"),
        (
            [
                "--dataset",
                "news",
                write_csv(tmp_path / "big.csv", [["title", "body"], ["t", "x" * 1_000_000]]),
            ],
            "line 2: body is longer than 100000 characters",
        ),
        (
            [
                "--dataset",
                "news",
                write_csv(tmp_path / "cat.csv", [["title", "category"], ["t", "sci/nope"]]),
            ],
            "line 2:",
        ),
        (["--dataset", "news", "--contents", "--source", "nowhere"], "No contents from nowhere"),
        (  # read in parts by 2 workers: the whole file's line numbers, duplicates across the parts
            [
                "--dataset",
                "news",
                write_csv(
                    tmp_path / "dup.csv",
                    [
                        ["id", "title", "body"],
                        *([f"p{n}", p["title"], p["body"]] for n, p in enumerate(posts)),
                        ["p0", "again", "the first id again"],
                        ["p1", "", ""],
                    ],
                ),
                "--workers",
                2,
            ],
            "2 rows cannot be classified: line {}: duplicate external id 'p0' (first on line 2); "
            "line {}: empty text; duplicate external id 'p1' (first on line {})",
        ),
    ]
    starts = [2]  # the line each record of the dup file starts on (bodies hold line ends)
    for post in posts:
        starts.append(starts[-1] + 1 + post["body"].count("\n") + post["title"].count("\n"))
    cases[-1] = (cases[-1][0], cases[-1][1].format(starts[-1], starts[-1] + 1, starts[1]))
    for args, message in cases:
        with pytest.raises(CommandError, match=re.escape(message)):
            run_classify(*args, "--output", output)
        assert not output.exists()

    make_dataset("empty", per_group=10)
    with pytest.raises(CommandError, match="has no champion"):
        run_classify("--dataset", "empty", good, "--output", output)
    assert not output.exists()


def test_the_job_from_the_dataset_page_gives_the_commands_answers(champion, posts, tmp_path, settings):
    settings.MODEL_DIR = tmp_path / "models"
    rows = [["title", "body", "category"], *([p["title"], p["body"], p["category"]] for p in posts)]
    path = write_csv(tmp_path / "in.csv", rows)
    expected = tmp_path / "expected.csv"
    run_classify("--dataset", "news", path, "--output", expected, "--workers", 1)

    url = reverse("training:bulk", args=[champion.dataset.id])
    reader = Client()
    reader.force_login(user_with_role(roles.ANNOTATOR, username="reader"))
    assert reader.get(url).status_code == 200
    assert (
        reader.post(url, {"file": SimpleUploadedFile("in.csv", path.read_bytes()), "k": 2}).status_code == 403
    )
    manager = Client()
    manager.force_login(user_with_role(roles.MANAGER, username="boss"))
    response = manager.post(url, {"k": 2})
    assert "Upload a file or choose the content pool" in response.content.decode()
    response = manager.post(url, {"file": SimpleUploadedFile("in.csv", path.read_bytes()), "k": 2})
    job = Job.objects.get(kind="classify")
    assert response.url == reverse("core:job", args=[job.id])
    job_run(job.id)  # what the worker does with the queued job
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.progress == 1.0, job.message
    page = manager.get(reverse("training:bulk-result", args=[job.id])).content.decode()
    assert f"Accuracy against the given categories: <strong>{job.result['accuracy']:.4f}</strong>" in page
    download = manager.get(reverse("training:bulk-download", args=[job.id]))
    assert b"".join(download.streaming_content).decode() == expected.read_text()

    # Bad input fails the job with the command's message.
    manager.post(url, {"file": SimpleUploadedFile("bad.csv", b"title,category\nt,sci/nope\n"), "k": 2})
    bad = Job.objects.filter(kind="classify").exclude(pk=job.pk).get()
    job_run(bad.id)
    bad.refresh_from_db()
    assert bad.status == Job.Status.FAILED and "line 2:" in bad.message


def test_the_output_rows_are_what_the_csv_writer_writes():
    """The rows are put together without the csv writer: ids and paths that need quoting are quoted as it
    quotes them, missing pairs and given categories left empty."""
    from collections import Counter

    from training.services.bulk import BulkInput, _csv_cell, _lay_out, _Part, _Work

    paths = {1: "a › b", 2: 'c, "d"', 3: "e\nf"}
    ids = ["plain", "with,comma", 'with "quote"', "line\nend", "cr\rhere", "", "é/x:1"]
    answers = ([([1, 2], [0.9, 0.1]), ([3], [1.0]), ([2, 3], [0.5, 0.5])] * 3)[: len(ids)]
    given = [1, None, 3, 2, None, 1, 3]
    work = _Work(None, None, 3, paths, {c: _csv_cell(p) for c, p in paths.items()}, True)
    part = _Part()
    _lay_out(work, part, BulkInput([None] * len(ids), ids, given), answers)
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    for external_id, category, (top, scores) in zip(ids, given, answers, strict=True):
        row = [external_id]
        for number in range(3):
            row += [paths[top[number]], f"{scores[number]:.4f}"] if number < len(top) else ["", ""]
        writer.writerow([*row, paths[category] if category else ""])
    assert part.output == expected.getvalue()
    assert (part.compared, part.hits) == (5, 1)
    assert part.confusions == Counter(
        {("e\nf", 'c, "d"'): 1, ('c, "d"', "a › b"): 1, ("a › b", 'c, "d"'): 1, ("e\nf", "a › b"): 1}
    )


def random_posts_file(rng, posts: list[dict]) -> bytes:
    """The posts (1 or 4 times over) in a random file: columns in any order, a spare column at times, CR LF or
    LF, texts with quotes and commas, non-ASCII words, texts longer than the models read, empty titles,
    empty ids."""
    header = rng.sample(["id", "title", "body", "category", *(["note"] if rng.random() < 0.5 else [])], k=4)
    rows = [header]
    for number, post in enumerate(posts * rng.choice([1, 4])):
        cells = {"id": f"p{number}", "note": 'a "note", here', **post}
        change = rng.random()
        if change < 0.15:
            cells["body"] = cells["body"].replace(" ", ' "quoted", ', 5)
        elif change < 0.25:
            cells["body"] += " café naïve"
        elif change < 0.3:
            cells["body"] = (cells["body"] + "\n") * (25_000 // (len(cells["body"]) + 1) + 1)
        elif change < 0.4:
            cells["title"] = ""
        elif change < 0.45 and number < len(posts):  # a derived id (the copies would repeat it)
            cells["id"] = ""
        rows.append([cells[name] for name in header])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=rng.choice(["\n", "\r\n"])).writerows(rows)
    return buffer.getvalue().encode()


def test_texts_counted_in_the_files_bytes_answer_as_the_texts_read(news, champion, posts):
    """A file whose plain ASCII texts are counted in its bytes writes, byte for byte, the output of the same
    rows read as text (`BulkInput`): random files (quotes, CR LF, non-ASCII, over-long texts, empty titles
    and ids, columns in any order)."""
    import random

    from labeling.importing import parse_examples_file
    from labeling.services.imports import category_refs
    from training.services.bulk import BulkInput, bulk_classify, bulk_input_from_file
    from training.services.classify import TextToClassify

    rng = random.Random(7)
    for _ in range(4):
        data = random_posts_file(rng, posts)
        in_bytes = bulk_classify(dataset=news, bulk=bulk_input_from_file(news, data), k=3, workers=2)
        parsed = parse_examples_file(data, categories=category_refs(news), category_required=False)
        rows = BulkInput(
            [TextToClassify(text=row.body, title=row.title) for row in parsed.rows],
            [row.external_id for row in parsed.rows],
            [row.category_id for row in parsed.rows],
        )
        as_text = bulk_classify(dataset=news, bulk=rows, k=3, workers=1)
        assert in_bytes.csv_text() == as_text.csv_text()
        assert in_bytes.rows == len(parsed.rows) and in_bytes.accuracy == as_text.accuracy
