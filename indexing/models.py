"""Index definitions and sync jobs arrive with the indexing issue."""
