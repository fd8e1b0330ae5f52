"""A vocabulary's words counted in ASCII texts, compiled (numba).

What scikit-learn's default word analyzer (lower case, tokens of two or more word characters) and a count
vectorizer do, for a batch of ASCII texts, in one pass over their bytes: a 256-byte table gives each word
byte in lower case and 0 for every other byte; each token's first 16 bytes, read as two integers, are
its key in an open-addressing table of the vocabulary's terms that holds the terms' keys and lengths
(exact: no two words share an entry; the rare longer tokens are compared with the term's bytes); each
text's distinct terms are then written out in column order with their counts; most of the time goes
to probing the table (figures against scikit-learn's analyzer: bench/results/api.md). The helpers are
inlined into the kernels: called, each call counted references to its array arguments, which doubled the
time per token. The kernels are compiled on first use, cached next to this file (or under NUMBA_CACHE_DIR
when that folder is read-only; then they are loaded at model load), and run without the GIL, so a
worker's other threads go on meanwhile.
"""

import numba
import numpy as np

# ASCII word characters (what \w matches below 128) to themselves in lower case, every other byte to 0
WORD_BYTES = np.array(
    [(c + 32 if 65 <= c <= 90 else c) if chr(c).isalnum() and c < 128 or c == 95 else 0 for c in range(256)],
    dtype=np.uint8,
)
KEY_BYTES = 16  # a token's first 16 bytes are its key: two 64-bit integers, zero-padded
MIX_LOW, MIX_HIGH = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)  # odd multipliers
EMPTY = np.uint64(0)


@numba.njit(cache=True, nogil=True, inline="always")
def _key(data, start, end, words):
    """The token data[start:end] in lower case: its first 16 bytes as two little-endian integers."""
    low, high = np.uint64(0), np.uint64(0)
    for position in range(start, min(end, start + 8)):
        low |= np.uint64(words[data[position]]) << np.uint64(8 * (position - start))
    for position in range(start + 8, min(end, start + KEY_BYTES)):
        high |= np.uint64(words[data[position]]) << np.uint64(8 * (position - start - 8))
    return low, high


@numba.njit(cache=True, nogil=True, inline="always")
def _slot(low, high, shift):
    return np.intp(((low * MIX_LOW) ^ (high * MIX_HIGH)) >> shift)


@numba.njit(cache=True)
def _build(term_bytes, term_starts, term_ends, term_columns, words, bits):
    """The open-addressing table (at most half full): per slot a term's key (two integers) and its column
    + 1 with its length in the upper 32 bits, all in one row (one cache line read per probe)."""
    entries = np.zeros((1 << bits, 3), dtype=np.uint64)
    mask, shift = (1 << bits) - 1, np.uint64(64 - bits)
    for term in range(len(term_starts)):
        start, end = term_starts[term], term_ends[term]
        low, high = _key(term_bytes, start, end, words)
        slot = _slot(low, high, shift)
        while entries[slot, 2] != EMPTY:
            slot = (slot + 1) & mask
        entries[slot, 0], entries[slot, 1] = low, high
        entries[slot, 2] = np.uint64(term_columns[term] + 1) | (np.uint64(end - start) << np.uint64(32))
    return entries


@numba.njit(cache=True, nogil=True, inline="always")
def _find(data, start, end, words, entries, term_bytes, long_starts, mask, shift):
    """The column of the term data[start:end] is (in lower case), or -1. Tokens longer than 16 bytes whose
    key and length match are compared with the term's bytes."""
    low, high = _key(data, start, end, words)
    length = np.uint64(end - start)
    slot = _slot(low, high, shift)
    while True:
        meta = entries[slot, 2]
        if meta == EMPTY:
            return -1
        if entries[slot, 0] == low and entries[slot, 1] == high and meta >> np.uint64(32) == length:
            column = np.intp(meta & np.uint64(0xFFFFFFFF)) - 1
            if end - start <= KEY_BYTES:
                return column
            offset, same = long_starts[column], True
            for position in range(KEY_BYTES, end - start):
                if words[data[start + position]] != term_bytes[offset + position]:
                    same = False
                    break
            if same:
                return column
        slot = (slot + 1) & mask


@numba.njit(cache=True, nogil=True)
def _count(data, text_ends, words, entries, term_bytes, long_starts, bits, size):
    """CSR parts of the texts' term counts: indptr, columns (ascending per row), counts."""
    texts = len(text_ends)
    indptr = np.zeros(texts + 1, dtype=np.int32)
    capacity = len(data) // 3 + texts  # tokens have 2+ bytes and a separator between them
    columns = np.empty(capacity, dtype=np.int32)
    counts = np.empty(capacity, dtype=np.int32)
    seen = np.zeros(size, dtype=np.int32)  # the current text's count per column
    found = np.empty(capacity, dtype=np.int32)  # its columns, in the order first seen
    mask, shift = (1 << bits) - 1, np.uint64(64 - bits)
    position, written = 0, 0
    for text in range(texts):
        end, distinct = text_ends[text], 0
        while position < end:
            if words[data[position]] == 0:
                position += 1
                continue
            start = position
            while position < end and words[data[position]] != 0:
                position += 1
            if position - start < 2:
                continue
            column = _find(data, start, position, words, entries, term_bytes, long_starts, mask, shift)
            if column >= 0:
                if seen[column] == 0:
                    found[distinct] = column
                    distinct += 1
                seen[column] += 1
        for column in np.sort(found[:distinct]):
            columns[written], counts[written] = column, seen[column]
            seen[column] = 0
            written += 1
        indptr[text + 1] = written
    return indptr, columns[:written], counts[:written]


class WordTable:
    """A fitted vocabulary (term -> column) ready to count the terms of ASCII texts."""

    def __init__(self, vocabulary: dict[str, int]):
        self.size = len(vocabulary)
        terms = [term for term in vocabulary if term.isascii()]  # others never match an ASCII text
        self.bits = max(8, int(np.ceil(np.log2(2 * max(len(terms), 1)))))  # at most half full
        term_bytes = "".join(terms).encode("ascii")
        lengths = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
        ends = np.cumsum(lengths)
        columns = np.fromiter(map(vocabulary.__getitem__, terms), dtype=np.int64, count=len(terms))
        self.term_bytes = np.frombuffer(term_bytes, dtype=np.uint8)
        self.entries = _build(self.term_bytes, ends - lengths, ends, columns, WORD_BYTES, self.bits)
        self.long_starts = np.full(self.size, -1, dtype=np.int64)  # where a long term's bytes start
        long = lengths > KEY_BYTES
        self.long_starts[columns[long]] = (ends - lengths)[long]
        self.counts([])  # the counting kernel loaded now, with the model, not by the first request

    def counts(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The term counts of ASCII `texts` as CSR parts (indptr, columns sorted per row, counts)."""
        data = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)
        text_ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
        return _count(
            data, text_ends, WORD_BYTES, self.entries, self.term_bytes, self.long_starts, self.bits, self.size
        )
