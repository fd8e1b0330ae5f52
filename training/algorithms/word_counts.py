"""A vocabulary's words counted in many ASCII texts at once, in numpy.

What scikit-learn's default word analyzer (lower case, tokens of two or more word characters) and a count
vectorizer do, for a whole batch of ASCII texts: the texts are joined into one byte string, one table keeps
word bytes (in lower case) and turns every other byte into a space, token bounds are where the spaces stop
and start, and each token of up to 16 bytes is read as two 64-bit integers (its bytes, zero-padded) and looked
up in an open-addressing hash table holding the vocabulary's terms the same way. The table holds the terms'
own bytes, so the lookup is exact: no two words can share an entry. The rare longer tokens go through the
vocabulary dict. A batch of 1,000 20 Newsgroups posts is counted in ~40 ms instead of ~150 ms.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

# ASCII word characters (what \w matches below 128) to themselves in lower case, every other byte to a space
ASCII_WORDS = bytes(
    (c + 32 if 65 <= c <= 90 else c) if chr(c).isalnum() and c < 128 or c == 95 else 32 for c in range(256)
)
SPACE = 32
# Below this many characters in a batch the analyzer + dict is faster (numpy's calls cost ~0.3 ms a batch)
TABLE_MIN_CHARS = 5_000
KEY_BYTES = 16  # tokens up to this long are looked up in the table, longer ones in the vocabulary dict
# Masks keeping the first n bytes of a token: of its first 8 bytes (LOW) and of its next 8 (HIGH)
LOW = np.array([(1 << (8 * min(n, 8))) - 1 for n in range(KEY_BYTES + 1)], dtype=np.uint64)
HIGH = np.array([(1 << (8 * max(n - 8, 0))) - 1 for n in range(KEY_BYTES + 1)], dtype=np.uint64)
MIX_LOW, MIX_HIGH = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)  # odd multipliers


def _token_bounds(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets and lengths of the runs of 2+ non-space bytes."""
    word = np.zeros(len(data) + 2, dtype=np.bool_)
    np.not_equal(data, SPACE, out=word[1:-1])
    before, here, after = word[:-2], word[1:-1], word[2:]
    starts = np.flatnonzero(here & after & ~before)  # contiguous arrays all along: strided ones cost 4x
    ends = np.flatnonzero(here & before & ~after) + 1
    return starts, ends - starts


def _keys(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each token's first 16 bytes as two little-endian integers, the bytes past its end zeroed."""
    padded = np.concatenate([data, np.zeros(KEY_BYTES, dtype=np.uint8)])
    windows = as_strided(padded, shape=(len(data), KEY_BYTES), strides=(1, 1), writeable=False)
    pairs = windows[starts].view(np.uint64)  # a copy: 16 bytes per token
    lengths = np.minimum(lengths, KEY_BYTES)
    return pairs[:, 0] & LOW[lengths], pairs[:, 1] & HIGH[lengths]


class WordTable:
    """A fitted vocabulary (term -> column) ready to count the terms of ASCII texts."""

    def __init__(self, vocabulary: dict[str, int]):
        self.size = len(vocabulary)
        terms = [term for term in vocabulary if term.isascii() and len(term) <= KEY_BYTES]
        self.long_terms = {t: c for t, c in vocabulary.items() if t.isascii() and len(t) > KEY_BYTES}
        self.bits = max(8, int(np.ceil(np.log2(2 * max(len(terms), 1)))))  # at most half full
        self.mask = (1 << self.bits) - 1
        self.low = np.zeros(1 << self.bits, dtype=np.uint64)
        self.high = np.zeros(1 << self.bits, dtype=np.uint64)
        self.column = np.full(1 << self.bits, -1, dtype=np.int64)
        if terms:
            data = np.frombuffer(" ".join(terms).encode("ascii"), dtype=np.uint8)
            lengths = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
            starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
            columns = np.fromiter(map(vocabulary.__getitem__, terms), dtype=np.int64, count=len(terms))
            self._insert(*_keys(data, starts, lengths), columns)

    def _slots(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        mixed = low * MIX_LOW
        mixed ^= high * MIX_HIGH
        return (mixed >> np.uint64(64 - self.bits)).astype(np.intp)

    def _insert(self, low: np.ndarray, high: np.ndarray, columns: np.ndarray) -> None:
        """Linear probing, all terms at once: each round, the first term wanting a free slot takes it and
        every other moves one slot on."""
        slots, waiting = self._slots(low, high), np.arange(len(columns))
        while len(waiting):
            free = waiting[self.column[slots[waiting]] < 0]
            taken, first = np.unique(slots[free], return_index=True)
            placed = free[first]
            self.low[taken], self.high[taken], self.column[taken] = low[placed], high[placed], columns[placed]
            left = np.ones(len(columns), dtype=np.bool_)
            left[placed] = False
            waiting = waiting[left[waiting]]
            slots[waiting] = (slots[waiting] + 1) & self.mask

    def _columns(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """The column of each key, -1 when it is not a term."""
        slots = self._slots(low, high)
        found = self.column.take(slots)  # take: a third faster than indexing
        match = (self.low.take(slots) == low) & (self.high.take(slots) == high)
        result = np.where(match, found, -1)
        probing = np.flatnonzero(~match & (found >= 0))  # a different term sits there: look further on
        while len(probing):
            slots[probing] = at = (slots[probing] + 1) & self.mask
            found = self.column[at]
            match = (found >= 0) & (self.low[at] == low[probing]) & (self.high[at] == high[probing])
            result[probing[match]] = found[match]
            probing = probing[(found >= 0) & ~match]
        return result

    def counts(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The term counts of ASCII `texts` as CSR parts (indptr, columns sorted per row, counts)."""
        joined = " ".join(texts).encode("ascii").translate(ASCII_WORDS)
        data = np.frombuffer(joined, dtype=np.uint8)
        starts, lengths = _token_bounds(data)
        columns = self._columns(*_keys(data, starts, lengths))
        for token in np.flatnonzero(lengths > KEY_BYTES).tolist():
            start = int(starts[token])
            word = joined[start : start + int(lengths[token])].decode("ascii")
            columns[token] = self.long_terms.get(word, -1)
        known = columns >= 0
        text_starts = np.cumsum([0, *(len(text) + 1 for text in texts[:-1])])
        rows = np.searchsorted(text_starts, starts[known], side="right") - 1
        cells, counts = np.unique(rows * self.size + columns[known], return_counts=True)
        rows, columns = np.divmod(cells, self.size)
        indptr = np.zeros(len(texts) + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        return indptr, columns.astype(np.int32), counts
