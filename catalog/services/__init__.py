"""Catalog services: offer import, builds (full and incremental), review decisions, the demo."""
