"""A vocabulary's words and word pairs counted in ASCII texts, compiled (numba).

What scikit-learn's default word analyzer (lower case, tokens of two or more word characters, n-grams 1 or
1-2) and a count vectorizer do, for a batch of ASCII texts, in one pass over their bytes: a 256-byte table
gives each word byte in lower case and 0 for every other byte; each token's first 16 bytes, read as two
integers, are its key in an open-addressing table of the vocabulary's tokens (its words, and the words of
its bigrams "w1 w2", which need not be terms themselves when min_df/max_df/max_features dropped them) that
holds the tokens' keys and lengths (exact: no two words share an entry; the rare longer tokens are compared
with the token's bytes). A token's number gives its column as a word; two consecutive tokens' numbers are the
key of a second table, of the bigrams' columns (scikit-learn pairs every two consecutive tokens, known or
not; a pair with an unknown token is no term). Each
text's distinct terms are then written out in column order with their counts; most of the time goes
to probing the table (figures against scikit-learn's analyzer: bench/results/api.md). The helpers are
inlined into the kernels: called, each call counted references to its array arguments, which doubled the
time per token. The kernels are compiled on first use, cached next to this file (or under NUMBA_CACHE_DIR
when that folder is read-only; then they are loaded at model load), and run without the GIL, so a
worker's other threads go on meanwhile.
"""

from dataclasses import dataclass

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
def _build(term_bytes, term_starts, term_ends, words, bits):
    """The open-addressing table of tokens (at most half full): per slot a token's key (two integers) and
    its number + 1 with its length in the upper 32 bits, all in one row (one cache line read per probe)."""
    entries = np.zeros((1 << bits, 3), dtype=np.uint64)
    mask, shift = (1 << bits) - 1, np.uint64(64 - bits)
    for term in range(len(term_starts)):
        start, end = term_starts[term], term_ends[term]
        low, high = _key(term_bytes, start, end, words)
        slot = _slot(low, high, shift)
        while entries[slot, 2] != EMPTY:
            slot = (slot + 1) & mask
        entries[slot, 0], entries[slot, 1] = low, high
        entries[slot, 2] = np.uint64(term + 1) | (np.uint64(end - start) << np.uint64(32))
    return entries


@numba.njit(cache=True, nogil=True, inline="always")
def _pair_key(first, second, tokens):
    return np.uint64(first) * np.uint64(tokens) + np.uint64(second) + np.uint64(1)  # 0: an empty slot


@numba.njit(cache=True)
def _build_pairs(firsts, seconds, columns, tokens, bits):
    """The open-addressing table of bigrams (at most half full): per slot the pair's key and its column."""
    pairs = np.zeros((1 << bits, 2), dtype=np.uint64)
    mask, shift = (1 << bits) - 1, np.uint64(64 - bits)
    for pair in range(len(firsts)):
        key = _pair_key(firsts[pair], seconds[pair], tokens)
        slot = np.intp((key * MIX_LOW) >> shift)
        while pairs[slot, 0] != EMPTY:
            slot = (slot + 1) & mask
        pairs[slot, 0], pairs[slot, 1] = key, np.uint64(columns[pair])
    return pairs


@numba.njit(cache=True, nogil=True, inline="always")
def _find(data, start, end, words, entries, term_bytes, long_starts, mask, shift):
    """The number of the token data[start:end] is (in lower case), or -1. Tokens longer than 16 bytes whose
    key and length match are compared with the token's bytes."""
    low, high = _key(data, start, end, words)
    length = np.uint64(end - start)
    slot = _slot(low, high, shift)
    while True:
        meta = entries[slot, 2]
        if meta == EMPTY:
            return -1
        if entries[slot, 0] == low and entries[slot, 1] == high and meta >> np.uint64(32) == length:
            token = np.intp(meta & np.uint64(0xFFFFFFFF)) - 1
            if end - start <= KEY_BYTES:
                return token
            offset, same = long_starts[token], True
            for position in range(KEY_BYTES, end - start):
                if words[data[start + position]] != term_bytes[offset + position]:
                    same = False
                    break
            if same:
                return token
        slot = (slot + 1) & mask


@numba.njit(cache=True, nogil=True, inline="always")
def _find_pair(first, second, tokens, pairs, pair_mask, pair_shift):
    """The column of the bigram of tokens `first` and `second`, or -1."""
    key = _pair_key(first, second, tokens)
    slot = np.intp((key * MIX_LOW) >> pair_shift)
    while True:
        if pairs[slot, 0] == EMPTY:
            return -1
        if pairs[slot, 0] == key:
            return np.intp(pairs[slot, 1])
        slot = (slot + 1) & pair_mask


@numba.njit(cache=True, nogil=True)
def _gather(data, bounds):
    """The texts of `bounds` (texts x 4: title start, end, body start, end in `data`) one after the other,
    a space between title and body, and each text's end: what `_count` reads."""
    lengths = (bounds[:, 1] - bounds[:, 0]) + (bounds[:, 3] - bounds[:, 2]) + 1
    text_ends = np.cumsum(lengths)
    texts = np.empty(text_ends[-1] if len(text_ends) else 0, dtype=np.uint8)
    for text in range(len(bounds)):
        title_start, title_end = bounds[text, 0], bounds[text, 1]
        body_start, body_end = bounds[text, 2], bounds[text, 3]
        position = text_ends[text] - lengths[text]
        texts[position : position + title_end - title_start] = data[title_start:title_end]
        position += title_end - title_start
        texts[position] = 32  # a separator, as `document` puts one between title and body
        texts[position + 1 : text_ends[text]] = data[body_start:body_end]
    return texts, text_ends


@numba.njit(cache=True, nogil=True)
def _count(
    data, text_ends, words, entries, term_bytes, long_starts, bits, token_columns, pairs, pair_bits, size
):
    """CSR parts of the texts' term counts: indptr, columns (ascending per row), counts."""
    texts = len(text_ends)
    indptr = np.zeros(texts + 1, dtype=np.int32)
    tokens = len(token_columns)
    with_pairs = pair_bits > 0
    # tokens have 2+ bytes and a separator between them; as many pairs as tokens
    capacity = (len(data) // 3 + texts) * (2 if with_pairs else 1)
    columns = np.empty(capacity, dtype=np.int32)
    counts = np.empty(capacity, dtype=np.int32)
    seen = np.zeros(size, dtype=np.int32)  # the current text's count per column
    found = np.empty(capacity, dtype=np.int32)  # its columns, in the order first seen
    mask, shift = (1 << bits) - 1, np.uint64(64 - bits)
    pair_mask, pair_shift = (1 << pair_bits) - 1, np.uint64(64 - max(pair_bits, 1))
    position, written = 0, 0
    for text in range(texts):
        end, distinct, previous = text_ends[text], 0, -1
        while position < end:
            if words[data[position]] == 0:
                position += 1
                continue
            start = position
            while position < end and words[data[position]] != 0:
                position += 1
            if position - start < 2:
                continue
            token = _find(data, start, position, words, entries, term_bytes, long_starts, mask, shift)
            column = token_columns[token] if token >= 0 else -1
            if column >= 0:
                if seen[column] == 0:
                    found[distinct] = column
                    distinct += 1
                seen[column] += 1
            if with_pairs and token >= 0 and previous >= 0:
                column = _find_pair(previous, token, tokens, pairs, pair_mask, pair_shift)
                if column >= 0:
                    if seen[column] == 0:
                        found[distinct] = column
                        distinct += 1
                    seen[column] += 1
            previous = token
        for column in np.sort(found[:distinct]):
            columns[written], counts[written] = column, seen[column]
            seen[column] = 0
            written += 1
        indptr[text + 1] = written
    return indptr, columns[:written], counts[:written]


@dataclass(frozen=True)
class TextSpans:
    """Texts given as bytes of one buffer instead of strings (a file's cells, not decoded): per text the
    span of its title and of its body, (start, end) each; a text whose title starts at -1 is given as a
    string instead (`given`). Only ASCII bytes whose words are the text's words (quotes, delimiters, line
    ends between and around them are no word bytes)."""

    data: np.ndarray  # uint8
    bounds: np.ndarray  # texts x 4: title start, title end, body start, body end

    @property
    def given(self) -> np.ndarray:
        return self.bounds[:, 0] >= 0

    def rows(self, start: int, end: int) -> "TextSpans":
        return TextSpans(self.data, self.bounds[start:end])

    def take(self, rows: np.ndarray) -> "TextSpans":
        return TextSpans(self.data, self.bounds[rows])


class WordTable:
    """A fitted vocabulary (term -> column: words, and bigrams "w1 w2") ready to count the terms of ASCII
    texts."""

    def __init__(self, vocabulary: dict[str, int]):
        self.size = len(vocabulary)
        terms = [term for term in vocabulary if term.isascii()]  # others never match an ASCII text
        bigrams = [term.split(" ") for term in terms if " " in term]
        if any(len(pair) != 2 for pair in bigrams):
            raise ValueError("only words and word bigrams can be counted")
        number: dict[str, int] = {term: n for n, term in enumerate(t for t in terms if " " not in t)}
        for pair in bigrams:  # a bigram's words that are no terms themselves are tokens all the same
            for word in pair:
                number.setdefault(word, len(number))
        tokens = list(number)  # in the order of their numbers
        self.token_columns = np.fromiter(
            map(vocabulary.get, tokens, [-1] * len(tokens)), np.int64, len(tokens)
        )
        self.bits = max(8, int(np.ceil(np.log2(2 * max(len(tokens), 1)))))  # at most half full
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        ends = np.cumsum(lengths)
        self.term_bytes = np.frombuffer("".join(tokens).encode("ascii"), dtype=np.uint8)
        self.entries = _build(self.term_bytes, ends - lengths, ends, WORD_BYTES, self.bits)
        self.long_starts = np.where(
            lengths > KEY_BYTES, ends - lengths, -1
        )  # where a long token's bytes start
        self.pair_bits = max(8, int(np.ceil(np.log2(2 * len(bigrams))))) if bigrams else 0
        firsts = np.array([number[first] for first, _ in bigrams], dtype=np.int64)
        seconds = np.array([number[second] for _, second in bigrams], dtype=np.int64)
        columns = np.array([vocabulary[" ".join(pair)] for pair in bigrams], dtype=np.int64)
        self.pairs = _build_pairs(firsts, seconds, columns, len(tokens), max(self.pair_bits, 1))
        self.counts([])  # the counting kernel loaded now, with the model, not by the first request

    def counts(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The term counts of ASCII `texts` as CSR parts (indptr, columns sorted per row, counts)."""
        data = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)
        text_ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
        return self._counted(data, text_ends)

    def span_counts(self, spans: TextSpans) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The term counts of texts given as spans (every one of them `given`), as `counts` gives them
        (each text's bytes gathered first, a space between title and body: the same words)."""
        return self._counted(*_gather(spans.data, np.ascontiguousarray(spans.bounds, dtype=np.int64)))

    def _counted(self, data: np.ndarray, text_ends: np.ndarray) -> tuple:
        return _count(
            data,
            text_ends,
            WORD_BYTES,
            self.entries,
            self.term_bytes,
            self.long_starts,
            self.bits,
            self.token_columns,
            self.pairs,
            self.pair_bits,
            self.size,
        )
