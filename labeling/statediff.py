"""Differences between two states of a dataset. Pure: plain dicts in, plain data out.

A state maps content id -> (category id, status, text hash) for every example in the dataset.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

State = dict[int, tuple[int, str, str]]

ADDED, REMOVED, RELABELLED, STATUS, TEXT = "added", "removed", "relabelled", "status", "text"
KINDS = (ADDED, REMOVED, RELABELLED, STATUS, TEXT)


class Change(NamedTuple):  # a tuple: tens of thousands are built per diff
    content_id: int
    kinds: tuple[str, ...]
    before: tuple[int, str, str] | None
    after: tuple[int, str, str] | None


@dataclass
class CategoryDelta:
    before: int = 0
    after: int = 0
    added: int = 0
    removed: int = 0
    moved_in: int = 0
    moved_out: int = 0
    status: int = 0
    text: int = 0

    @property
    def changes(self) -> int:
        return self.added + self.removed + self.moved_in + self.moved_out + self.status + self.text


@dataclass
class StateDiff:
    changes: list[Change]
    per_category: dict[int, CategoryDelta] = field(default_factory=dict)
    moves: Counter = field(default_factory=Counter)  # (from category, to category) -> examples

    def __len__(self) -> int:
        return len(self.changes)

    def count(self, kind: str) -> int:
        return sum(kind in change.kinds for change in self.changes)

    @property
    def totals(self) -> dict[str, int]:
        return {kind: self.count(kind) for kind in KINDS}


def _kinds(before, after) -> tuple[str, ...]:
    if before is None:
        return (ADDED,)
    if after is None:
        return (REMOVED,)
    kinds = []
    if before[0] != after[0]:
        kinds.append(RELABELLED)
    if before[1] != after[1]:
        kinds.append(STATUS)
    if before[2] != after[2]:
        kinds.append(TEXT)
    return tuple(kinds)


def _tally(diff: StateDiff, change: Change) -> None:
    per = diff.per_category
    before, after = change.before, change.after
    if ADDED in change.kinds:
        per.setdefault(after[0], CategoryDelta()).added += 1
    if REMOVED in change.kinds:
        per.setdefault(before[0], CategoryDelta()).removed += 1
    if RELABELLED in change.kinds:
        per.setdefault(before[0], CategoryDelta()).moved_out += 1
        per.setdefault(after[0], CategoryDelta()).moved_in += 1
        diff.moves[(before[0], after[0])] += 1
    for kind in (STATUS, TEXT):
        if kind in change.kinds:
            delta = per.setdefault(after[0], CategoryDelta())
            setattr(delta, kind, getattr(delta, kind) + 1)


def training_counts(state: State) -> Counter:
    """Examples per category that a model trains on (everything but excluded)."""
    return Counter(value[0] for value in state.values() if value[1] != "excluded")


def diff_from_pairs(pairs: Iterable[tuple], before_counts: dict, after_counts: dict) -> StateDiff:
    """Build a diff from (content id, before, after) for the examples that differ, in content order."""
    diff = StateDiff(changes=[])
    for content_id, old, new in sorted(pairs, key=lambda pair: pair[0]):
        kinds = _kinds(old, new)
        if kinds:
            change = Change(content_id, kinds, old, new)
            diff.changes.append(change)
            _tally(diff, change)
    for counts, attr in ((before_counts, "before"), (after_counts, "after")):
        for category_id, count in counts.items():
            setattr(diff.per_category.setdefault(category_id, CategoryDelta()), attr, count)
    return diff


def state_diff(before: State, after: State) -> StateDiff:
    """What changed from `before` to `after`, per example, per category and as from -> to moves."""
    pairs = (
        (content_id, before.get(content_id), after.get(content_id))
        for content_id in before.keys() | after.keys()
        if before.get(content_id) != after.get(content_id)
    )
    return diff_from_pairs(pairs, training_counts(before), training_counts(after))
