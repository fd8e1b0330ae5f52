"""The ensemble decision (numpy, a batch at once) decides each text as the rule reads, text by text:
weighted votes of each model's top categories plus fired rules, ties to the rule of highest priority then the
lowest id, and unanimous models over any rule; explanations included."""

import random
from types import SimpleNamespace

import numpy as np
import pytest

from training.ensemble import MemberScores, Rule, RuleError, decide
from training.services.classify import _answers

VOTE_CLASSES = 3


def _reference(votes: list[tuple[str, float, dict]], fired: list[Rule], rule_weight, unanimity) -> dict:
    """One text decided from the rule's words: `votes` are (model, weight, {category: probability})."""
    scores: dict[int, float] = {}
    tops = []
    for _, weight, probabilities in votes:
        best = sorted(probabilities, key=lambda c: (-probabilities[c], c))[:VOTE_CLASSES]
        tops.append((best[0], probabilities[best[0]]))
        for category in best:
            scores[category] = scores.get(category, 0.0) + weight * probabilities[category]
    priority = {}
    for rule in sorted(fired, key=lambda r: r.priority):
        scores[rule.category] = scores.get(rule.category, 0.0) + rule_weight * rule.weight
        priority[rule.category] = rule.priority
    ordered = sorted(scores, key=lambda c: (-scores[c], -priority.get(c, -(10**9)), c))
    unanimous = unanimity and len(votes) >= 2 and len({top for top, _ in tops}) == 1
    winner = tops[0][0] if unanimous else ordered[0]
    total = sum(scores.values()) or 1.0
    ranking = [(winner, scores[winner] / total)] + [(c, scores[c] / total) for c in ordered if c != winner]
    best_other = max((s for c, s in scores.items() if c != winner), default=0.0)
    why = (
        f"all {len(votes)} models rank it first: unanimous models override the rules"
        if unanimous
        else f"highest weighted score {scores[winner]:.3f} (next {best_other:.3f})"
    )
    models = [
        {"name": name, "weight": weight, "top": top, "probability": round(p, 4)}
        for (name, weight, _), (top, p) in zip(votes, tops, strict=True)
    ]
    rules = [
        {"name": r.name, "category": r.category, "contribution": round(rule_weight * r.weight, 4)}
        for r in sorted(fired, key=lambda r: -r.priority)
    ]
    explanation = {
        "winner": winner,
        "why": why,
        "unanimous": unanimous,
        "models": models,
        "rules": rules,
        "scores": {str(c): round(scores[c], 4) for c in ordered[:10]},
    }
    return {"winner": winner, "ranking": ranking, "unanimous": unanimous, "explanation": explanation}


def _case(randomness: random.Random, texts: int, models: int, categories: list[int]):
    """Random probabilities (with ties: values on a coarse grid) and rules with weights and priorities."""
    members = []
    for number in range(models):
        known = sorted(randomness.sample(categories, randomness.randint(2, len(categories))))
        grid = np.array([[randomness.randint(0, 4) for _ in known] for _ in range(texts)], dtype=np.float32)
        grid[grid.sum(axis=1) == 0, 0] = 1.0
        probabilities = grid / grid.sum(axis=1, keepdims=True)
        members.append(
            MemberScores(
                f"model {number}", randomness.choice([0.5, 1.0, 2.0]), np.array(known), probabilities
            )
        )
    fired = [
        [
            Rule(
                f"rule {n}",
                "keywords",
                "x",
                randomness.choice(categories),
                randomness.choice([0.5, 1.0, 3.0]),
                randomness.randint(0, 2),
            )
            for n in range(randomness.choice([0, 0, 1, 2]))
        ]
        for _ in range(texts)
    ]
    return members, fired


@pytest.mark.parametrize("seed", range(12))
def test_the_batch_decides_each_text_as_the_rule_reads(seed):
    randomness = random.Random(seed)
    categories = [3, 7, 8, 15, 40, 41]
    members, fired = _case(randomness, texts=40, models=randomness.randint(1, 3), categories=categories)
    rule_weight, unanimity = randomness.choice([0.5, 1.0, 4.0]), randomness.random() < 0.8
    decisions = decide(
        members, fired, rule_weight=rule_weight, unanimous_models_win=unanimity, vote_classes=VOTE_CLASSES
    )
    explanations = decisions.explanations()
    for number in range(40):
        votes = [
            (
                m.name,
                m.weight,
                dict(zip(m.categories.tolist(), m.probabilities[number].tolist(), strict=True)),
            )
            for m in members
        ]
        expected = _reference(votes, fired[number], rule_weight, unanimity)
        assert decisions.winners[number] == expected["winner"]
        assert bool(decisions.unanimous[number]) == expected["unanimous"]
        got = decisions.ranking(number)
        assert [c for c, _ in got] == [c for c, _ in expected["ranking"]]
        assert np.allclose([s for _, s in got], [s for _, s in expected["ranking"]])
        assert explanations[number] == expected["explanation"]
    one = decide(members[:1], fired[:1], rule_weight=rule_weight, vote_classes=VOTE_CLASSES)
    assert (
        one.winners.tolist()
        == decide(
            [MemberScores(m.name, m.weight, m.categories, m.probabilities[:1]) for m in members[:1]],
            fired[:1],
            rule_weight=rule_weight,
            vote_classes=VOTE_CLASSES,
        ).winners.tolist()
    )


def test_unanimous_models_beat_a_heavier_rule_and_split_models_do_not():
    space, guns = 10, 20
    agree = [
        MemberScores("a", 1.0, np.array([space, guns]), np.array([[0.9, 0.1]])),
        MemberScores("b", 1.0, np.array([space, guns]), np.array([[0.6, 0.4]])),
    ]
    heavy = [[Rule("moon means guns", "keywords", "moon", guns, weight=5.0)]]
    decided = decide(agree, heavy)
    assert decided.winners.tolist() == [space] and decided.unanimous.tolist() == [True]
    assert decided.explanations()[0]["rules"][0]["name"] == "moon means guns"

    split = [agree[0], MemberScores("b", 1.0, np.array([space, guns]), np.array([[0.3, 0.7]]))]
    decided = decide(split, heavy)
    assert decided.winners.tolist() == [guns] and decided.unanimous.tolist() == [False]
    assert decided.explanations()[0]["why"] == "highest weighted score 5.800 (next 1.200)"


def test_rules_alone_decide_and_nothing_at_all_is_refused():
    rules = [[Rule("a", "keywords", "x", 5, 1.0, priority=0), Rule("b", "keywords", "y", 6, 1.0, priority=3)]]
    decided = decide([], rules)
    assert decided.winners.tolist() == [6]  # a tie: the rule of higher priority
    assert decided.ranking(0) == [(6, 0.5), (5, 0.5)]
    with pytest.raises(RuleError):
        decide([], [[]])


LABELS = {  # category id: name, path, large category id
    c: (f"c{c}", f"L{parent}/c{c}", parent)
    for c, parent in ((3, 1), (7, 1), (8, 2), (15, 2), (40, 4), (41, 5))
} | {parent: (f"L{parent}", f"L{parent}", parent) for parent in (1, 2, 4, 5)}


def _reference_answer(ranking: list[tuple[int, float]], k: int) -> tuple[list, list]:
    """Top-k small categories of the taxonomy (the ranking's order) and top-k large ones: the shares of
    their small categories summed, the winner's first, then by share (ties: the lower id)."""
    small = [(c, s) for c, s in ranking if c in LABELS]
    large: dict[int, float] = {}
    for category, share in small:
        large[LABELS[category][2]] = large.get(LABELS[category][2], 0.0) + share
    winner_large = LABELS[small[0][0]][2]
    ordered = sorted(large, key=lambda c: (c != winner_large, -large[c], c))
    return (
        [(c, round(s, 4)) for c, s in small[:k]],
        [(c, round(large[c], 4)) for c in ordered[:k]],
    )


@pytest.mark.parametrize("seed", range(6))
def test_answers_hold_the_top_small_and_large_categories(seed):
    randomness = random.Random(seed)
    members, fired = _case(randomness, texts=30, models=2, categories=[*LABELS.keys() - {1, 2, 4, 5}, 99])
    decisions = decide(members, fired, vote_classes=VOTE_CLASSES)
    k = randomness.randint(1, 4)
    answers = _answers(SimpleNamespace(labels=LABELS, layouts={}), decisions, k)
    for number, answer in enumerate(answers):
        small, large = _reference_answer(decisions.ranking(number), k)
        if not small:
            continue
        assert [(c["id"], c["score"]) for c in answer["top"]] == small
        assert answer["category"] == answer["top"][0]
        assert [c["id"] for c in answer["large"]] == [c for c, _ in large]
        assert np.allclose([c["score"] for c in answer["large"]], [s for _, s in large])
        explanation = decisions.explanations()[number]
        explanation["rules"] = [
            r | {"category_path": LABELS.get(r["category"], ("", "", 0))[1]} for r in explanation["rules"]
        ]
        assert answer["explanation"] == explanation
