"""A batch's answers written as JSON straight from its arrays (numpy and orjson, no Django).

The bytes are those orjson writes for `classify()`'s answers (training/services/classify.py), to the byte
(tests/training/test_answers_json.py compares them), without building the answers as dicts first: a batch of
1,000 texts is ~15,000 small dicts and lists, which cost more CPU than the JSON itself. Each row's JSON is a
row of pieces (an object array per position: a piece per text, or one piece for all), joined once.
"""

import numpy as np
import orjson

from training.ensemble import LEADING, Decisions


def dumped(values: list) -> list[bytes]:
    """Each value (numbers, booleans, None) as orjson writes it."""
    return orjson.dumps(values)[1:-1].split(b",") if values else []


def objects(values: list, shape: tuple | None = None) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array if shape is None else array.reshape(shape)


def floats(values: np.ndarray) -> np.ndarray:
    """Values rounded to 4 places, each as orjson writes it (same shape)."""
    return objects(dumped(np.round(values, 4).ravel().tolist()), values.shape)


def category_heads(labels: dict, ids: list[int]) -> np.ndarray:
    """Per category id: its answer entry's JSON up to the score, `{"id":..,"name":..,"path":..,"score":`
    (empty for an id the taxonomy lacks: never shown)."""
    return objects(
        [
            orjson.dumps({"id": c, "name": labels[c][0], "path": labels[c][1], "score": 0})[:-2]
            if c in labels
            else b""
            for c in ids
        ]
    )


class Rows:
    """Each row's JSON as pieces, position by position, joined at the end."""

    def __init__(self, count: int) -> None:
        self.count, self.pieces = count, []

    def add(self, piece) -> None:
        """One piece for every row (bytes) or one per row (an object array)."""
        self.pieces.append(piece)

    def joined(self) -> list[bytes]:
        matrix = np.empty((self.count, len(self.pieces)), dtype=object)
        for position, piece in enumerate(self.pieces):
            matrix[:, position] = piece
        return [b"".join(row) for row in matrix.tolist()]


def explanations_json(decisions: Decisions, keys: np.ndarray, rules: list[bytes]) -> list[bytes]:
    """Each text's explanation (`Decisions.explanations()`, with `rules` as the answers show them), as JSON.
    `keys[column]`: the column's category id as a JSON value."""
    rows = np.arange(len(decisions))
    counts = decisions.counts
    out = Rows(len(decisions))
    out.add(b'{"winner":')
    out.add(keys[decisions.ranked[:, 0]])
    out.add(b',"why":')
    out.add(objects(list(map(orjson.dumps, decisions.reasons()))))
    out.add(b',"unanimous":')
    out.add(objects([b"false", b"true"])[decisions.unanimous.astype(np.intp)])
    out.add(b',"models":[')
    for number, (member, tops, chances) in enumerate(
        zip(decisions.members, decisions.tops, decisions.top_probabilities, strict=True)
    ):
        head = orjson.dumps({"name": member.name, "weight": member.weight, "top": 0})[:-2]
        out.add(b"," + head if number else head)
        out.add(objects(dumped(tops.tolist())))
        out.add(b',"probability":')
        out.add(floats(chances))
        out.add(b"}")
    out.add(b'],"rules":')
    out.add(objects(rules))
    out.add(b',"scores":{')
    leading = decisions.ordered[:, :LEADING]
    names = objects([b'"' + key + b'":' for key in keys.tolist()])  # `"id":` then the score
    scores = floats(decisions.scores[rows[:, np.newaxis], leading])
    _listed(out, names, leading, scores, np.minimum(counts, LEADING))
    out.add(b"}}")
    return out.joined()


def _listed(out: Rows, heads: np.ndarray, chosen: np.ndarray, values: np.ndarray, counts, end=b"") -> None:
    """Per row, the first `counts` of `chosen` (texts x k indexes into `heads`), each its head, its value
    and `end`, comma-separated."""
    entries = objects([b"," + head for head in heads.tolist()])[chosen]
    entries[:, 0] = heads[chosen[:, 0]]
    entries += values
    if end:
        entries += end
    entries[np.arange(chosen.shape[1]) >= np.asarray(counts)[:, np.newaxis]] = b""
    for place in range(chosen.shape[1]):
        out.add(entries[:, place])


def _entries(out: Rows, heads: np.ndarray, chosen: np.ndarray, scores: np.ndarray, counts) -> None:
    """A list of categories: `chosen` (texts x k indexes into `heads`), the first `counts` of each row."""
    out.add(b"[")
    _listed(out, heads, chosen, scores, counts, b"}")
    out.add(b"]")


def answers_json(
    *,
    heads: np.ndarray,
    small: np.ndarray,
    small_scores: np.ndarray,
    small_counts: list[int],
    large_heads: np.ndarray,
    large: np.ndarray,
    large_scores: np.ndarray,
    large_counts: list[int],
    explanations: list[bytes],
    prediction_ids: list,
) -> bytes:
    """`{"results": [...]}` as the API answers it: per text its category, top-k small and large categories
    (`small`/`large`: texts x k indexes into `heads`/`large_heads`, scores as `floats` writes them), its
    explanation's JSON and its prediction id (None: not logged)."""
    out = Rows(len(explanations))
    out.add(b'{"category":')
    out.add(heads[small[:, 0]])
    out.add(small_scores[:, 0])
    out.add(b'},"top":')
    _entries(out, heads, small, small_scores, small_counts)
    out.add(b',"large":')
    _entries(out, large_heads, large, large_scores, large_counts)
    out.add(b',"explanation":')
    out.add(objects(explanations))
    out.add(b',"prediction_id":')
    out.add(objects(dumped(prediction_ids)))
    out.add(b"}")
    return b'{"results":[' + b",".join(out.joined()) + b"]}"
