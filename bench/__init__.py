"""Benchmarks of bunryu on real services and real text (see bench/README.md)."""
