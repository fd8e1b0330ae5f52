"""Rules and the ensemble decision (pure Python and numpy, no Django).

Models vote with their probabilities times their weight, rules that fire add their weight times the ensemble's
rule weight; the highest score wins. When at least `min_models` models all rank the same category first, that
category wins whatever the rules say ("unanimous models beat rules"). Every decision explains itself.
"""

from dataclasses import dataclass, field

import numpy as np
import re2

KINDS = ("keywords", "regex", "source")
MAX_PATTERN = 2000


class RuleError(ValueError):
    """A rule that cannot be used as written (the message says why)."""


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    pattern: str
    category: int
    weight: float = 1.0
    priority: int = 0


def _regex_options() -> "re2.Options":
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 8 << 20  # a pathological pattern fails to compile instead of eating memory
    return options


@dataclass
class CompiledRule:
    rule: Rule
    keywords: tuple[str, ...] = ()
    regex: object = None

    def fires(self, text: str, source: str = "") -> bool:
        if self.rule.kind == "keywords":
            lowered = text.lower()
            return any(keyword in lowered for keyword in self.keywords)
        if self.rule.kind == "regex":
            return self.regex.search(text) is not None
        return bool(source) and source.lower().startswith(self.rule.pattern.strip().lower())


def rule_compile(rule: Rule) -> CompiledRule:
    """Check and prepare a rule. Regular expressions use RE2 (linear time: no pattern can hang a worker), so
    look-arounds and back-references are refused."""
    pattern = rule.pattern.strip()
    if rule.kind not in KINDS:
        raise RuleError(f"A rule is one of {', '.join(KINDS)}, not {rule.kind!r}.")
    if not pattern:
        raise RuleError("The rule's pattern is empty.")
    if len(pattern) > MAX_PATTERN:
        raise RuleError(f"The pattern is longer than {MAX_PATTERN} characters.")
    if rule.kind == "keywords":
        keywords = tuple(word.strip().lower() for word in pattern.split(",") if word.strip())
        if not keywords:
            raise RuleError("Give at least one keyword (comma-separated).")
        return CompiledRule(rule, keywords=keywords)
    if rule.kind == "regex":
        try:
            return CompiledRule(rule, regex=re2.compile(pattern, _regex_options()))
        except re2.error as error:
            message = (
                error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
            )
            raise RuleError(
                f"Invalid regular expression: {message} (RE2 syntax: no look-arounds or back-references)."
            ) from None
    return CompiledRule(rule)


@dataclass
class MemberScores:
    """One model's probabilities for a batch of texts: a column per category it knows."""

    name: str
    weight: float
    categories: np.ndarray  # the category id of each column
    probabilities: np.ndarray  # texts x columns


@dataclass
class Decision:
    winner: int
    ranking: list[tuple[int, float]]  # category id, share of the total score; winner first
    unanimous: bool
    explanation: dict = field(default_factory=dict)


def decide(
    members: list[MemberScores],
    fired: list[list[Rule]],
    *,
    rule_weight: float = 1.0,
    unanimous_models_win: bool = True,
    min_models: int = 2,
    vote_classes: int = 10,
) -> list[Decision]:
    """Combine each text's model votes (the `vote_classes` most probable categories of each model) and fired
    rules into one decision per text, explained. The scores are summed for all texts at once (numpy)."""
    count = len(fired)
    if not members and not all(fired):
        raise RuleError("Nothing to decide with: no model and no rule.")
    ruled = np.array([rule.category for rules in fired for rule in rules], dtype=np.int64)
    ids = np.unique(np.concatenate([*(m.categories.astype(np.int64) for m in members), ruled]))
    scores = np.zeros((count, len(ids)))
    present = np.zeros((count, len(ids)), dtype=bool)
    rows = np.arange(count)[:, np.newaxis]
    tops, top_probabilities = [], []
    for member in members:
        best = np.argsort(-member.probabilities, axis=1)[:, :vote_classes]
        columns = np.searchsorted(ids, member.categories)[best]
        chosen = member.probabilities[rows, best].astype(np.float64)
        scores[rows, columns] += member.weight * chosen
        present[rows, columns] = True
        tops.append(ids[columns[:, 0]].tolist())
        top_probabilities.append(chosen[:, 0].tolist())
    for number, rules in enumerate(fired):
        for rule in rules:
            column = int(np.searchsorted(ids, rule.category))
            scores[number, column] += rule_weight * rule.weight
            present[number, column] = True
    text_of, column_of = np.nonzero(present)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(text_of, minlength=count))]).tolist()
    categories, values = ids[column_of].tolist(), scores[text_of, column_of].tolist()
    unanimity = unanimous_models_win and len(members) >= max(1, min_models)
    decisions = []
    for number in range(count):
        start, end = bounds[number], bounds[number + 1]
        text_scores = dict(zip(categories[start:end], values[start:end], strict=True))
        votes = [
            (member.name, member.weight, top[number], probability[number])
            for member, top, probability in zip(members, tops, top_probabilities, strict=True)
        ]
        decisions.append(_decision(text_scores, votes, fired[number], unanimity, rule_weight))
    return decisions


def _decision(scores: dict[int, float], votes: list[tuple], fired: list[Rule], unanimity, rule_weight):
    """One text's decision from its summed scores, its models' top categories and its fired rules."""
    priority = {rule.category: rule.priority for rule in sorted(fired, key=lambda r: r.priority)}
    tops = {top for _, _, top, _ in votes}
    unanimous = unanimity and len(tops) == 1
    if priority:
        ordered = sorted(scores, key=lambda c: (-scores[c], -priority.get(c, -(10**9)), c))
    else:
        ordered = sorted(scores, key=lambda c: (-scores[c], c))
    winner = next(iter(tops)) if unanimous else ordered[0]
    total = sum(scores.values()) or 1.0
    ranking = [(winner, scores[winner] / total)] + [(c, scores[c] / total) for c in ordered if c != winner]
    explanation = _explain(votes, fired, scores, ordered, winner, unanimous, rule_weight)
    return Decision(winner, ranking, unanimous, explanation)


def _explain(votes, fired, scores, ordered, winner, unanimous, rule_weight) -> dict:
    best_other = max((s for c, s in scores.items() if c != winner), default=0.0)
    if unanimous:
        why = f"all {len(votes)} models rank it first: unanimous models override the rules"
    else:
        why = f"highest weighted score {scores[winner]:.3f} (next {best_other:.3f})"
    return {
        "winner": winner,
        "why": why,
        "unanimous": unanimous,
        "models": [
            {"name": name, "weight": weight, "top": top, "probability": round(probability, 4)}
            for name, weight, top, probability in votes
        ],
        "rules": [
            {
                "name": rule.name,
                "category": rule.category,
                "contribution": round(rule_weight * rule.weight, 4),
            }
            for rule in sorted(fired, key=lambda r: -r.priority)
        ],
        "scores": {str(c): round(scores[c], 4) for c in ordered[:10]},
    }
