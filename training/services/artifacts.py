"""Model files on disk: where a run's model lives, its checksum, pruning old ones."""

import hashlib
import shutil
from pathlib import Path

from django.conf import settings

from training.models import ChampionChange, TrainingRun


def run_folder(run: TrainingRun) -> Path:
    return Path(settings.MODEL_DIR) / f"dataset-{run.dataset_id}" / f"run-{run.id}"


def folder_checksum(folder: Path) -> tuple[str, int]:
    """SHA-256 over the folder's files (names and bytes, in name order) and their total size."""
    digest, size = hashlib.sha256(), 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as data:
            for block in iter(lambda: data.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    return digest.hexdigest(), size


def artifact_verified(run: TrainingRun) -> bool:
    """The run's model files are there and unchanged since the run wrote them."""
    folder = Path(run.artifact_path) if run.artifact_path else None
    return bool(folder and folder.is_dir() and folder_checksum(folder)[0] == run.artifact_sha256)


def models_prune(*, keep_latest: int = 3, dry_run: bool = False) -> list[TrainingRun]:
    """Delete the model files of runs that never were champion, except each dataset's `keep_latest` newest."""
    ever_champion = set(ChampionChange.objects.exclude(run=None).values_list("run_id", flat=True))
    pruned = []
    runs = (
        TrainingRun.objects.exclude(artifact_path="")
        .exclude(id__in=ever_champion)
        .order_by("dataset_id", "-created_at")
    )
    seen: dict[int, int] = {}
    for run in runs:
        seen[run.dataset_id] = seen.get(run.dataset_id, 0) + 1
        if seen[run.dataset_id] <= keep_latest or not run.is_finished:
            continue
        pruned.append(run)
        if not dry_run:
            shutil.rmtree(run.artifact_path, ignore_errors=True)
            TrainingRun.objects.filter(pk=run.pk).update(artifact_path="")
    return pruned
