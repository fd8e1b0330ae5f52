"""Real text for benchmarks: 20 Newsgroups (train + test) and Korean national petitions.

Both come from /work/shared/datasets (read-only). The tar is read once, sequentially: random access into
a gzip stream is slow.
"""

import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATASETS = Path("/work/shared/datasets")
NEWSGROUPS_TAR = DATASETS / "20newsgroups" / "20news-bydate.tar.gz"
PETITIONS_DIR = DATASETS / "korean-petitions"
NEWSGROUPS = (
    "alt.atheism",
    "comp.graphics",
    "comp.os.ms-windows.misc",
    "comp.sys.ibm.pc.hardware",
    "comp.sys.mac.hardware",
    "comp.windows.x",
    "misc.forsale",
    "rec.autos",
    "rec.motorcycles",
    "rec.sport.baseball",
    "rec.sport.hockey",
    "sci.crypt",
    "sci.electronics",
    "sci.med",
    "sci.space",
    "soc.religion.christian",
    "talk.politics.guns",
    "talk.politics.mideast",
    "talk.politics.misc",
    "talk.religion.misc",
)


@dataclass(frozen=True)
class Text:
    key: str  # stable and unique: becomes the base of a content's external id
    title: str
    body: str
    source: str
    group: str  # newsgroup, or the petition's own category


def _clean(text: str) -> str:
    return text.replace("\x00", "")  # PostgreSQL text cannot hold NUL


def _newsgroup_post(raw: bytes) -> tuple[str, str]:
    """(subject, body) of one post; the files are Latin-1 with mail headers, a blank line, the body."""
    text = raw.decode("latin-1")
    headers, _, body = text.partition("\n\n")
    subject = ""
    for line in headers.splitlines():
        if line.lower().startswith("subject:"):
            subject = line[len("subject:") :].strip()
            break
    return _clean(subject), _clean(body.strip())


def newsgroups() -> Iterator[Text]:
    with tarfile.open(NEWSGROUPS_TAR, "r|gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            parts = member.name.split("/")  # 20news-bydate/20news-bydate-train/<group>/<id>
            if len(parts) != 4:
                continue
            split, group, post_id = parts[1].rsplit("-", 1)[-1], parts[2], parts[3]
            subject, body = _newsgroup_post(tar.extractfile(member).read())
            if subject or body:
                yield Text(f"20news/{split}/{group}/{post_id}", subject, body, "20newsgroups", group)


def petitions() -> Iterator[Text]:
    seen: set[str] = set()
    for path in sorted(PETITIONS_DIR.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                if not line.strip():
                    continue
                post = json.loads(line)
                key = f"petition/{post.get('petition_idx') or f'{path.stem}-{number}'}"
                if key in seen:
                    key = f"{key}-{path.stem}-{number}"
                seen.add(key)
                title, body = _clean(post.get("title") or ""), _clean(post.get("content") or "")
                if title.strip() or body.strip():
                    yield Text(key, title, body, "korean-petitions", post.get("category") or "")


def real_texts() -> list[Text]:
    """Every usable post of both corpora (about 22,500), newsgroups first."""
    return [*newsgroups(), *petitions()]


def newsgroups_taxonomy(user):
    """The 20 groups as small categories under their prefixes (alt, comp, misc, rec, sci, soc, talk), as the
    benchmarks import them (needs Django set up)."""
    from labeling.services.taxonomy import category_create, taxonomy_create

    taxonomy = taxonomy_create(name="20newsgroups", description="20 Newsgroups: prefix > group")
    larges = {}
    for group in NEWSGROUPS:
        prefix = group.split(".")[0]
        if prefix not in larges:
            larges[prefix] = category_create(taxonomy=taxonomy, name=prefix, user=user)
        category_create(taxonomy=taxonomy, name=group, parent=larges[prefix], user=user)
    return taxonomy
