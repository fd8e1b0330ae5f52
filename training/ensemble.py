"""Rules and the ensemble decision (pure Python, no Django).

Models vote with their probabilities times their weight, rules that fire add their weight times the ensemble's
rule weight; the highest score wins. When at least `min_models` models all rank the same category first, that
category wins whatever the rules say ("unanimous models beat rules"). Every decision explains itself.
"""

from collections import defaultdict
from dataclasses import dataclass, field

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
class ModelVote:
    name: str
    weight: float
    probabilities: dict[int, float]  # category id -> probability

    @property
    def top(self) -> int:
        return max(self.probabilities, key=self.probabilities.get)


@dataclass
class Decision:
    winner: int
    ranking: list[tuple[int, float]]  # category id, share of the total score; winner first
    unanimous: bool
    explanation: dict = field(default_factory=dict)


def decide(
    votes: list[ModelVote],
    fired: list[Rule],
    *,
    rule_weight: float = 1.0,
    unanimous_models_win: bool = True,
    min_models: int = 2,
) -> Decision:
    """Combine model votes and fired rules into one decision with its explanation."""
    if not votes and not fired:
        raise RuleError("Nothing to decide with: no model and no rule.")
    scores: dict[int, float] = defaultdict(float)
    for vote in votes:
        for category, probability in vote.probabilities.items():
            scores[category] += vote.weight * probability
    for rule in fired:
        scores[rule.category] += rule_weight * rule.weight
    priority = {rule.category: rule.priority for rule in sorted(fired, key=lambda r: r.priority)}
    tops = {vote.top for vote in votes}
    unanimous = unanimous_models_win and len(votes) >= max(1, min_models) and len(tops) == 1
    ordered = sorted(scores, key=lambda c: (-scores[c], -priority.get(c, -(10**9)), c))
    winner = next(iter(tops)) if unanimous else ordered[0]
    total = sum(scores.values()) or 1.0
    ranking = [(winner, scores[winner] / total)] + [(c, scores[c] / total) for c in ordered if c != winner]
    return Decision(
        winner, ranking, unanimous, _explain(votes, fired, scores, winner, unanimous, rule_weight)
    )


def _explain(votes, fired, scores, winner, unanimous, rule_weight) -> dict:
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
            {
                "name": vote.name,
                "weight": vote.weight,
                "top": vote.top,
                "probability": round(vote.probabilities[vote.top], 4),
            }
            for vote in votes
        ],
        "rules": [
            {
                "name": rule.name,
                "category": rule.category,
                "contribution": round(rule_weight * rule.weight, 4),
            }
            for rule in sorted(fired, key=lambda r: -r.priority)
        ],
        "scores": {str(c): round(s, 4) for c, s in sorted(scores.items(), key=lambda kv: -kv[1])[:10]},
    }
