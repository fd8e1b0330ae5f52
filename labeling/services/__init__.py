"""Every write to the training set goes through these functions; each records history naming the user."""

from labeling.services.contents import content_upsert
from labeling.services.datasets import dataset_create
from labeling.services.examples import example_label, example_note_set
from labeling.services.taxonomy import category_create, category_update, taxonomy_create
from labeling.services.versions import (
    changeset_open,
    changeset_revert,
    dataset_commit,
    examples_relabel_bulk,
    version_rollback,
)

__all__ = [
    "category_create",
    "category_update",
    "changeset_open",
    "changeset_revert",
    "dataset_commit",
    "content_upsert",
    "dataset_create",
    "example_label",
    "example_note_set",
    "examples_relabel_bulk",
    "taxonomy_create",
    "version_rollback",
]
