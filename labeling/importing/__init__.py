"""Importing labelled examples from uploaded files; `parser` is pure Python (no Django)."""

from labeling.importing.parser import (
    CategoryRef,
    ExamplesReader,
    ImportFileError,
    ParsedFile,
    ParsedRow,
    parse_examples_file,
)

__all__ = [
    "CategoryRef",
    "ExamplesReader",
    "ImportFileError",
    "ParsedFile",
    "ParsedRow",
    "parse_examples_file",
]
