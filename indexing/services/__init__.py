"""The indexing pipeline's services: write documents, drain the outbox, batch windows, rebuild, drift."""

from indexing.services.drift import drift_check, drift_repair, index_compare
from indexing.services.engine import engine_get, indexing_enabled, physical_name, search_alias
from indexing.services.rebuild import index_create, index_rebuild, previous_drop
from indexing.services.sync import (
    batch_sync,
    created_indexes,
    dead_letters_retry,
    documents_write,
    outbox_drain,
    sync_since,
)

__all__ = [
    "batch_sync",
    "created_indexes",
    "dead_letters_retry",
    "documents_write",
    "drift_check",
    "drift_repair",
    "engine_get",
    "index_compare",
    "index_create",
    "index_rebuild",
    "indexing_enabled",
    "outbox_drain",
    "physical_name",
    "previous_drop",
    "search_alias",
    "sync_since",
]
