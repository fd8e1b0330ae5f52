"""Every write to the training set goes through these functions; each records history naming the user."""

from labeling.services.contents import content_upsert
from labeling.services.datasets import dataset_create
from labeling.services.examples import example_label
from labeling.services.taxonomy import category_create, category_update, taxonomy_create

__all__ = [
    "category_create",
    "category_update",
    "content_upsert",
    "dataset_create",
    "example_label",
    "taxonomy_create",
]
