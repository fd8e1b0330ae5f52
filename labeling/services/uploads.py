"""An uploaded examples file (ExampleImportBytes) read as a stream, a slice at a time, never loaded whole.

PostgreSQL: `substring(data from .. for ..)` per slice (the column is stored uncompressed, migration 0019, so
a slice is fetched without decompressing what comes before it). SQLite: the blob's incremental I/O
(`sqlite3.Connection.blobopen`). Either way the reader is an ordinary binary file object for the parser.
"""

import io
from contextlib import contextmanager

from django.db import connection

from labeling.models import ExampleImport, ExampleImportBytes

SLICE = 4 << 20  # bytes fetched per query
TABLE = ExampleImportBytes._meta.db_table


class _SliceReader(io.RawIOBase):
    """A seekable raw stream over `size` bytes that `fetch(start, count)` returns slice by slice."""

    def __init__(self, size: int, fetch) -> None:
        self.size, self.fetch, self.position = size, fetch, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self.position)
        if count <= 0:
            return 0
        piece = self.fetch(self.position, count)
        buffer[: len(piece)] = piece
        self.position += len(piece)
        return len(piece)


def _postgresql_reader(pk: int) -> _SliceReader:
    def fetch(start: int, count: int) -> bytes:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT substring(data from %s for %s) FROM {TABLE} WHERE upload_id = %s",
                [start + 1, count, pk],
            )
            return bytes(cursor.fetchone()[0])

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT octet_length(data) FROM {TABLE} WHERE upload_id = %s", [pk])
        return _SliceReader(cursor.fetchone()[0], fetch)


@contextmanager
def upload_stream(upload: ExampleImport):
    """The upload's bytes as a buffered binary file object, read a slice at a time."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        blob = connection.connection.blobopen(TABLE, "data", upload.pk, readonly=True)

        def fetch(start: int, count: int) -> bytes:
            blob.seek(start)
            return blob.read(count)

        raw, close = _SliceReader(len(blob), fetch), blob.close
    elif connection.vendor == "postgresql":
        raw, close = _postgresql_reader(upload.pk), None
    else:  # another database: the whole value, as before
        raw, close = io.BytesIO(upload.data), None
    try:
        yield io.BufferedReader(raw, buffer_size=SLICE) if isinstance(raw, _SliceReader) else raw
    finally:
        if close:
            close()
