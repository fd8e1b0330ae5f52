"""The embedded default (`make run`): SQLite, no services. The same commands must work there too."""

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def manage(var_dir, *args: str) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
    }
    env["BUNRYU_VAR_DIR"] = str(var_dir)
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.integration
def test_versions_on_sqlite(tmp_path):
    manage(tmp_path, "migrate", "--noinput")
    manage(tmp_path, "ensure_admin")
    assert "3691 examples created" in manage(tmp_path, "load_demo", "--user", "admin")
    assert (tmp_path / "bunryu.sqlite3").exists()
    assert manage(tmp_path, "versions", "--dataset", "petitions", "dirty").strip().endswith("0 changes")
    manage(
        tmp_path,
        "shell",
        "-c",
        (
            "from labeling.models import Category, Dataset, Example\n"
            "from labeling.services import example_label\n"
            "d = Dataset.objects.get(name='petitions')\n"
            "other = Category.objects.get(taxonomy=d.taxonomy, name='기타')\n"
            "for e in Example.objects.filter(dataset=d).exclude(category=other)[:3]:\n"
            "    example_label(dataset=d, content=e.content, category=other, user=None)\n"
        ),
    )
    assert manage(tmp_path, "versions", "--dataset", "petitions", "commit", "-m", "three moved").startswith(
        "2\t"
    )
    assert (
        manage(tmp_path, "versions", "--dataset", "petitions", "diff", "1", "2").strip().endswith("3 changes")
    )
    manage(
        tmp_path, "versions", "--dataset", "petitions", "rollback", "--to", "1", "--user", "admin", "--yes"
    )
    assert (
        manage(tmp_path, "versions", "--dataset", "petitions", "dirty", "--since", "1")
        .strip()
        .endswith("0 changes")
    )
    lines = manage(tmp_path, "export_examples", "--dataset", "petitions", "--format", "fasttext").splitlines()
    assert len(lines) == 3691 and all(line.startswith("__label__") for line in lines)
    # Training runs in process on SQLite too, and the demo's first run becomes its champion.
    summary = json.loads(
        manage(
            tmp_path, "train", "--dataset", "petitions", "--inline", "--folds", "2", "--json"
        ).splitlines()[-1]
    )
    assert summary["status"] == "succeeded" and summary["champion"] and summary["example_count"] == 3691
    assert 0.3 < summary["accuracy"] < 1 and (tmp_path / "models").is_dir()


@pytest.mark.integration
def test_the_catalog_demo_loads_on_sqlite_as_make_run_loads_it(tmp_path):
    manage(tmp_path, "migrate", "--noinput")
    said = manage(tmp_path, "load_catalog_demo").strip().splitlines()[-1]
    shape = r"catalog demo: 1117 offers, (\d+) catalogs \((\d+) published, (\d+) in review\)"
    found = re.fullmatch(shape, said)
    assert found, said
    catalogs, published, in_review = map(int, found.groups())
    assert published > 0 and in_review > 0 and published + in_review <= catalogs  # a review queue to show
    assert manage(tmp_path, "load_catalog_demo").strip().endswith("offers exist already, nothing loaded")


@pytest.mark.integration
def test_an_offer_file_on_sqlite_counts_only_its_own_shop_and_id_pairs(tmp_path):
    manage(tmp_path, "migrate", "--noinput")
    said = manage(
        tmp_path,
        "shell",
        "-c",
        (
            "from catalog.models import Offer, Shop\n"
            "from catalog.services.offers import offers_preview\n"
            "a, b = Shop.objects.create(name='A'), Shop.objects.create(name='B')\n"
            "for shop, external in [(a, '1'), (b, '2'), (a, '2')]:\n"
            "    Offer.objects.create(shop=shop, external_id=external, title='t ' + external)\n"
            "p = offers_preview(data=b'shop,external_id,title\\nA,1,t 1\\nB,2,t 2\\n', file_name='f.csv')\n"
            "print('file offers', sorted(external for _, external in p.existing), len(p.existing))\n"
        ),
    )
    # offer A/2 shares a shop with one line and an id with another: it is not the file's (no classify_with)
    assert "file offers ['1', '2'] 2" in said
