"""Rules and the ensemble decision (pure Python and numpy, no Django).

Models vote with their probabilities times their weight, rules that fire add their weight times the ensemble's
rule weight; the highest score wins. When at least `min_models` models all rank the same category first, that
category wins whatever the rules say ("unanimous models beat rules"). Every decision explains itself.
"""

from dataclasses import dataclass

import numpy as np
import re2

KINDS = ("keywords", "regex", "source")
MAX_PATTERN = 2000
LEADING = 10  # the leading scores an explanation shows


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
class Decisions:
    """A batch's decisions, a row per text: the summed scores of the categories voted for (columns), their
    ranking with the winner first, and what explains each (`explanations()`)."""

    ids: np.ndarray  # the category id of each column
    scores: np.ndarray  # texts x columns: weighted model votes plus fired rules' weights
    present: np.ndarray  # texts x columns: a model voted for the category or a rule named it
    ranked: np.ndarray  # texts x columns: columns by rank, winner first, the ones voted for before the rest
    ordered: np.ndarray  # texts x columns: columns by score alone (the winner is first unless unanimity won)
    unanimous: np.ndarray  # texts: every model ranked the winner first, which overrode the rules
    members: list[MemberScores]
    tops: list[np.ndarray]  # per model: its first category for each text
    top_probabilities: list[np.ndarray]
    fired: list[list[Rule]]
    rule_weight: float

    def __len__(self) -> int:
        return len(self.fired)

    @property
    def counts(self) -> np.ndarray:
        """How many categories each text's vote holds."""
        return self.present.sum(axis=1)

    @property
    def totals(self) -> np.ndarray:
        totals = self.scores.sum(axis=1)
        totals[totals == 0] = 1.0
        return totals

    @property
    def winners(self) -> np.ndarray:
        return self.ids[self.ranked[:, 0]]

    def ranking(self, number: int) -> list[tuple[int, float]]:
        """One text's categories and their shares of its total score, winner first."""
        columns = self.ranked[number, : self.present[number].sum()]  # this text's row only
        shares = self.scores[number, columns] / (self.scores[number].sum() or 1.0)
        return list(zip(self.ids[columns].tolist(), shares.tolist(), strict=True))

    def explanations(self) -> list[dict]:
        """Why each text's winner won: the models' votes, the rules that fired, the leading scores."""
        rows = np.arange(len(self))
        counts, scores = self.counts.tolist(), np.round(self.scores, 4)
        leading = self.ordered[:, :LEADING]
        keys = np.array([str(category) for category in self.ids.tolist()], dtype=object)  # a str per column
        leading_ids = keys[leading].tolist()
        leading_scores = scores[rows[:, np.newaxis], leading].tolist()
        models_of = self._votes()
        explanations = []
        winners, unanimity, reasons = self.winners.tolist(), self.unanimous.tolist(), self.reasons()
        for number, (winner, unanimous, why) in enumerate(zip(winners, unanimity, reasons, strict=True)):
            shown = min(counts[number], LEADING)
            explanations.append(
                {
                    "winner": winner,
                    "why": why,
                    "unanimous": unanimous,
                    "models": list(models_of[number]),
                    "rules": self.rules_explained(number) if self.fired[number] else [],
                    "scores": dict(
                        zip(leading_ids[number][:shown], leading_scores[number][:shown], strict=True)
                    ),
                }
            )
        return explanations

    def reasons(self) -> list[str]:
        """Per text, why its winner won, in words (its explanation's `why`)."""
        rows = np.arange(len(self))
        winner_scores = self.scores[rows, self.ranked[:, 0]].tolist()
        second = self.ranked[:, 1] if self.ids.size > 1 else self.ranked[:, 0]
        next_scores = np.where(self.counts > 1, self.scores[rows, second], 0.0).tolist()
        all_first = f"all {len(self.members)} models rank it first: unanimous models override the rules"
        return [
            all_first if unanimous else f"highest weighted score {score:.3f} (next {following:.3f})"
            for unanimous, score, following in zip(
                self.unanimous.tolist(), winner_scores, next_scores, strict=True
            )
        ]

    def _votes(self) -> list[tuple[dict, ...]]:
        """Per text, each model's first category and its probability."""
        votes = [
            [
                {"name": member.name, "weight": member.weight, "top": top, "probability": probability}
                for top, probability in zip(tops.tolist(), np.round(chances, 4).tolist(), strict=True)
            ]
            for member, tops, chances in zip(self.members, self.tops, self.top_probabilities, strict=True)
        ]
        return list(zip(*votes, strict=True)) if votes else [()] * len(self)

    def rules_explained(self, number: int) -> list[dict]:
        """The rules that fired for one text, as its explanation shows them."""
        return [
            {
                "name": rule.name,
                "category": rule.category,
                "contribution": round(self.rule_weight * rule.weight, 4),
            }
            for rule in sorted(self.fired[number], key=lambda r: -r.priority)
        ]


NO_PRIORITY = -(10**9)  # the priority of a category no fired rule names


def decide(
    members: list[MemberScores],
    fired: list[list[Rule]],
    *,
    rule_weight: float = 1.0,
    unanimous_models_win: bool = True,
    min_models: int = 2,
    vote_classes: int = 10,
) -> Decisions:
    """Combine each text's model votes (the `vote_classes` most probable categories of each model) and fired
    rules into one decision per text: the highest summed score wins (ties: the category of the rule with
    the highest priority, then the lowest id) unless the models are unanimous. All texts at once (numpy)."""
    count = len(fired)
    if not members and not all(fired):
        raise RuleError("Nothing to decide with: no model and no rule.")
    ruled = np.array([rule.category for rules in fired for rule in rules], dtype=np.int64)
    ids = np.unique(np.concatenate([*(m.categories.astype(np.int64) for m in members), ruled]))
    scores = np.zeros((count, len(ids)))
    present = np.zeros((count, len(ids)), dtype=bool)
    tops, top_probabilities = _add_votes(members, ids, scores, present, vote_classes)
    priority = _add_rules(fired, ids, scores, present, rule_weight)
    by_score = np.where(present, -scores, np.inf)
    if any(fired):
        by_id = np.broadcast_to(np.arange(len(ids)), scores.shape)
        ordered = np.lexsort((by_id, -priority, by_score), axis=1)
    else:  # every priority equal: a stable sort breaks ties by column, i.e. by id, as the lexsort would
        ordered = np.argsort(by_score, axis=1, kind="stable")
    unanimous = np.zeros(count, dtype=bool)
    if unanimous_models_win and len(members) >= max(1, min_models):
        unanimous = np.logical_and.reduce([top == tops[0] for top in tops])
    ranked = _winner_first(ordered, np.searchsorted(ids, tops[0]) if members else None, unanimous)
    return Decisions(
        ids=ids,
        scores=scores,
        present=present,
        ranked=ranked,
        ordered=ordered,
        unanimous=unanimous,
        members=members,
        tops=tops,
        top_probabilities=top_probabilities,
        fired=fired,
        rule_weight=rule_weight,
    )


def _add_votes(members, ids, scores, present, vote_classes: int) -> tuple[list, list]:
    """Each model's `vote_classes` most probable categories, times its weight, added to the texts' scores;
    returns each model's first category and its probability, per text."""
    rows = np.arange(len(scores))[:, np.newaxis]
    tops, top_probabilities = [], []
    for member in members:
        best = np.argsort(-member.probabilities, axis=1, kind="stable")[:, :vote_classes]
        columns = np.searchsorted(ids, member.categories)[best]
        chosen = member.probabilities[rows, best].astype(np.float64)
        scores[rows, columns] += member.weight * chosen
        present[rows, columns] = True
        tops.append(ids[columns[:, 0]])
        top_probabilities.append(chosen[:, 0])
    return tops, top_probabilities


def _add_rules(fired: list[list[Rule]], ids, scores, present, rule_weight: float) -> np.ndarray:
    """Fired rules' weights added to the texts' scores; returns the priority of the rule naming each
    category (the highest when several do), NO_PRIORITY where none does."""
    priority = np.full(scores.shape, NO_PRIORITY)
    if not any(fired):  # no rule fired for any text (or there are none): nothing to add
        return priority
    for number, rules in enumerate(fired):
        for rule in sorted(rules, key=lambda r: r.priority):  # the highest priority is kept
            column = int(np.searchsorted(ids, rule.category))
            scores[number, column] += rule_weight * rule.weight
            present[number, column] = True
            priority[number, column] = rule.priority
    return priority


def _winner_first(ordered: np.ndarray, agreed: np.ndarray | None, unanimous: np.ndarray) -> np.ndarray:
    """The ranking: the ordered columns, except that unanimous models' category moves to the front."""
    overridden = np.flatnonzero(unanimous & (ordered[:, 0] != agreed)) if agreed is not None else []
    if not len(overridden):
        return ordered
    ranked = ordered.copy()
    for number in overridden.tolist():
        row = ordered[number]
        ranked[number] = np.concatenate([[agreed[number]], row[row != agreed[number]]])
    return ranked
