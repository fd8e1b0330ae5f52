"""The grouping pipeline on hand-made offers and graphs: each rule cuts an edge; communities; quality."""

import numpy as np
import pandas as pd
import pytest

from catalog.grouping.build import GroupingParams, offers_group
from catalog.grouping.communities import (
    communities_find,
    constrained_merge,
    group_quality,
    size_penalty,
)


def _frame(rows):
    frame = pd.DataFrame(rows, columns=["shop", "title", "price"])
    frame["offer_id"] = np.arange(100, 100 + len(frame))
    return frame


def _cut_reason(rows, **rules):
    grouping = offers_group(
        _frame(rows), GroupingParams.from_dict({"threshold": 0.3, "k": 10, "rules": rules})
    )
    edge = grouping.edges[(grouping.edges["a"] == 0) & (grouping.edges["b"] == 1)]
    return edge["cut"].iloc[0], grouping.labels


@pytest.mark.parametrize(
    ("left", "right", "reason"),
    [
        (("a", "제주 삼다수 2L 12개입", 9000), ("b", "제주 삼다수 2L 6개입", 9000), "pack size"),
        (("a", "Sony Turntable PSLX350H", 100), ("b", "Sony Turntable PSLX250H", 100), "model number"),
        (("a", "Kensington wall mount black", 50), ("b", "Kensington wall mount white", 50), "option"),
        (("a", "Photoshop Elements 8 Mac", 90), ("b", "Photoshop Elements 8 Windows", 90), "option"),
        (("a", "Canon EOS camera body", 500), ("b", "Canon EOS camera body", 50), "price ratio"),
        (("a", "Canon EOS camera body", 500), ("a", "Canon EOS camera body", 500), "same shop"),
    ],
)
def test_each_rule_cuts_an_edge(left, right, reason):
    cut, labels = _cut_reason([left, right])
    assert cut == reason
    assert labels[0] != labels[1]


def test_without_the_rule_the_pair_joins():
    cut, labels = _cut_reason(
        [("a", "Canon EOS camera body", 500), ("b", "Canon EOS camera body", 50)], price_ratio=0
    )
    assert cut == ""
    assert labels[0] == labels[1]


def test_each_offer_matched_at_most_once_per_other_shop():
    rows = [("a", "Bose Acoustimass 5 speaker AM53", 1), ("b", "Bose Acoustimass 5 speaker AM53", 1),
            ("b", "Bose Acoustimass 5 speakers AM53", 1)]  # fmt: skip
    grouping = offers_group(_frame(rows), GroupingParams.from_dict({"threshold": 0.3, "k": 10}))
    assert grouping.labels[0] == grouping.labels[1] != grouping.labels[2]
    assert grouping.edges["matched"].sum() == 1


def test_reviewer_split_and_join_are_constraints():
    rows = [
        ("a", "Bose Acoustimass 5 speaker", 1),
        ("b", "Bose Acoustimass 5 speaker", 1),
        ("c", "Nikon lens", 1),
    ]
    frame = _frame(rows)
    params = GroupingParams.from_dict({"threshold": 0.3, "k": 10})
    assert offers_group(frame, params, split=[(100, 101)]).labels.tolist().count(0) <= 1
    joined = offers_group(frame, params, joined=[(100, 102)]).labels
    assert joined[0] == joined[2]


def test_label_propagation_finds_two_cliques_joined_by_one_weak_edge():
    clique = [(0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5)]
    edges = np.asarray([*clique, (2, 3)])
    weights = np.asarray([0.9] * 6 + [0.1])
    for method in ("label_propagation", "leiden"):
        labels = communities_find(6, edges, weights, method=method)
        assert len(set(labels[:3])) == 1 and len(set(labels[3:])) == 1 and labels[0] != labels[3]


def test_a_community_never_holds_two_offers_of_a_shop_or_a_pair_a_rule_cut():
    # one community; offers 0 and 2 come from one shop, and a rule cut the edge 1-3
    edges = np.asarray([(0, 1), (3, 4), (1, 4), (1, 2)])
    weights, shops = np.asarray([0.9, 0.85, 0.8, 0.7]), np.asarray(list("abacd"))
    labels = constrained_merge(np.zeros(5, int), edges, weights, shops, np.asarray([(1, 3)]))
    assert labels[0] == labels[1] and labels[3] == labels[4]
    assert len({labels[0], labels[2], labels[3]}) == 3


def test_quality_rises_with_connectedness():
    shops = np.asarray(["a", "b", "c"])
    full = group_quality(np.arange(3), np.asarray([0.9, 0.9, 0.9]), 0.0, shops)
    sparse = group_quality(np.arange(3), np.asarray([0.9, 0.9]), 0.0, shops)
    leaky = group_quality(np.arange(3), np.asarray([0.9, 0.9, 0.9]), 3.0, shops)
    assert full.edge_proportion == 1.0 and sparse.edge_proportion == pytest.approx(2 / 3, abs=1e-3)
    assert full.score > sparse.score and full.score > leaky.score
    assert leaky.conductance > 0


def test_title_extraction_keeps_consensus_brand_model_and_unit():
    rows = [("a", "[무료배송] 제주 삼다수 2L 12개입", 1), ("b", "제주 삼다수 2L x 12병", 1)]
    grouping = offers_group(_frame(rows), GroupingParams.from_dict({"threshold": 0.2, "k": 10}))
    assert len(grouping.groups) == 1
    title = grouping.groups["title"].iloc[0]
    assert title.startswith("제주 삼다수") and "무료배송" not in title


def test_quality_follows_the_weakest_edge_and_falls_with_size():
    shops = np.asarray(list("abcdefgh"))
    tight = group_quality(np.arange(3), np.asarray([0.9, 0.9, 0.9]), 0.0, shops)
    one_loose = group_quality(np.arange(3), np.asarray([0.95, 0.95, 0.5]), 0.0, shops)
    # the mean is nearly the same (0.80 vs 0.90); the loose join is what makes a group wrong
    assert one_loose.min_similarity == 0.5 and one_loose.score < 0.6 * tight.score
    pair = group_quality(np.arange(2), np.asarray([0.9]), 0.0, shops)
    eight = group_quality(np.arange(8), np.full(28, 0.9), 0.0, shops)
    assert pair.score == pytest.approx(0.9) and eight.score == pytest.approx(0.3)
    assert size_penalty(2) == 1.0 and size_penalty(4) == 2.0


def _reference_cuts(edges, titles, models, shops, prices, rules):
    """The rules one edge at a time, first match wins (the loop the vectorised rule_cuts replaced)."""
    from catalog.grouping.graph import _models_agree, _options_differ

    def conflict(x, y, keys):
        return any(key in x and key in y and x[key] != y[key] for key in keys)

    reasons = []
    for a, b in zip(edges["a"], edges["b"], strict=True):
        ta, tb = titles[a], titles[b]
        if rules.one_offer_per_shop and shops[a] == shops[b]:
            reasons.append("same shop")
        elif rules.pack_size and conflict(ta.attributes, tb.attributes, ("count", "volume_ml", "weight_g")):
            reasons.append("pack size")
        elif rules.pack_size and conflict(ta.attributes, tb.attributes, ("storage_gb",)):
            reasons.append("capacity")
        elif rules.model_numbers and models[a] and models[b] and not _models_agree(models[a], models[b]):
            reasons.append("model number")
        elif rules.options and _options_differ(ta.options, tb.options):
            reasons.append("option")
        elif (
            rules.price_ratio
            and prices[a] > 0
            and prices[b] > 0
            and max(prices[a], prices[b]) / min(prices[a], prices[b]) > rules.price_ratio
        ):
            reasons.append("price ratio")
        else:
            reasons.append("")
    return reasons


def test_vectorised_rule_cuts_match_the_rules_one_edge_at_a_time():
    from catalog.grouping.features import Features
    from catalog.grouping.graph import Rules, rule_cuts
    from catalog.normalize import NormalizedTitle

    # offer: (shop, attributes, model numbers, options, price)
    offers = [
        ("s1", {"count": 12, "volume_ml": 2000}, {"PSLX350H"}, {"colour": "black"}, 10.0),  # 0
        ("s2", {"count": 6, "volume_ml": 2000}, {"PSLX250H"}, {"colour": "white"}, 100.0),  # 1
        ("s3", {"storage_gb": 64}, {"PSLX350HK"}, {"colour": "black|white"}, 10.0),  # 2
        ("s4", {"storage_gb": 128}, set(), {"colour": "red"}, 40.0),  # 3
        ("s1", {"count": 12}, {"FDB130WH"}, {"platform": "mac"}, 0.0),  # 4
        ("s5", {"count": 12.0}, {"FDB130RGS"}, {"platform": "windows"}, 31.0),  # 5
        ("s6", {}, {"AB12", "CD34"}, {"colour": "black", "platform": "mac"}, 5.0),  # 6
        ("s7", {}, {"AB12"}, {"colour": "black"}, 15.1),  # 7
        ("s8", {"weight_g": 500}, {"XY99"}, {}, 16.0),  # 8
        ("s9", {"weight_g": 500.0}, {"XY98"}, {}, 160.0),  # 9
    ]
    titles = [
        NormalizedTitle(text=f"t{i}", tokens=[], model_numbers=sorted(m), attributes=attrs, options=opts)
        for i, (_, attrs, m, opts, _) in enumerate(offers)
    ]
    models = [frozenset(m) for _, _, m, _, _ in offers]
    shops = np.asarray([shop for shop, *_ in offers])
    prices = np.asarray([offer[-1] for offer in offers])
    pairs = [(a, b) for a in range(len(offers)) for b in range(a + 1, len(offers))]
    edges = pd.DataFrame(pairs, columns=["a", "b"])
    features = Features(titles=titles, char=None, words=None, image=None, models=models)
    variants = [Rules(), Rules(one_offer_per_shop=False), Rules(pack_size=False), Rules(model_numbers=False),
                Rules(options=False), Rules(price_ratio=0), Rules(price_ratio=1.5)]  # fmt: skip
    seen = set()
    for rules in variants:
        expected = _reference_cuts(edges, titles, models, shops, prices, rules)
        got = rule_cuts(edges, features, shops, prices, rules)
        assert got.dtype == object
        assert got.tolist() == expected, rules
        seen |= set(expected)
    assert seen == {"", "same shop", "pack size", "capacity", "model number", "option", "price ratio"}
    # the order of the rules: the pair 0-1 breaks several, the first one names the cut
    assert rule_cuts(edges.iloc[[0]], features, shops, prices, Rules()).tolist() == ["pack size"]


def test_cross_shop_best_in_rounds_is_the_one_by_one_greedy():
    from catalog.grouping import graph

    def greedy(edges, shops):
        keep, taken = np.zeros(len(edges), bool), set()
        order = np.argsort(-edges["similarity"].to_numpy(), kind="stable")
        for position in order:
            a, b = edges["a"].iloc[position], edges["b"].iloc[position]
            if (a, shops[b]) in taken or (b, shops[a]) in taken:
                continue
            taken |= {(a, shops[b]), (b, shops[a])}
            keep[position] = True
        return keep

    rng = np.random.default_rng(3)
    for rounds in (0, 1, 20):  # all by the loop, one round then the loop, rounds only
        graph.GREEDY_ROUNDS, saved = rounds, graph.GREEDY_ROUNDS
        try:
            for _ in range(5):
                pairs = np.unique(np.sort(rng.integers(0, 60, (400, 2)), axis=1), axis=0)
                pairs = pairs[pairs[:, 0] != pairs[:, 1]]
                edges = pd.DataFrame({"a": pairs[:, 0], "b": pairs[:, 1]})
                edges["similarity"] = rng.choice([0.5, 0.6, 0.7, 0.8], len(edges))  # ties: edge order decides
                shops = np.asarray([f"s{i}" for i in rng.integers(0, 6, 60)])
                assert graph.cross_shop_best(edges, shops).tolist() == greedy(edges, shops).tolist()
        finally:
            graph.GREEDY_ROUNDS = saved


def test_best_per_shop_keeps_each_offers_strongest_three_per_other_shop():
    from catalog.grouping.graph import best_per_shop

    rng = np.random.default_rng(5)
    pairs = np.unique(np.sort(rng.integers(0, 40, (600, 2)), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    edges = pd.DataFrame(
        {"a": pairs[:, 0], "b": pairs[:, 1], "similarity": rng.choice([0.5, 0.6, 0.7], len(pairs))}
    )
    shops = np.asarray([f"s{i}" for i in rng.integers(0, 4, 40)])
    both = pd.DataFrame(
        {"edge": np.r_[edges.index, edges.index], "me": np.r_[edges["a"], edges["b"]],
         "other_shop": shops[np.r_[edges["b"], edges["a"]]],
         "s": np.r_[edges["similarity"], edges["similarity"]]}
    ).sort_values("s", ascending=False, kind="stable")  # fmt: skip
    expected = np.sort(both[both.groupby(["me", "other_shop"], sort=False).cumcount() < 3]["edge"].unique())
    pd.testing.assert_frame_equal(best_per_shop(edges, shops), edges.loc[expected].reset_index(drop=True))


def _merge_one_join_at_a_time(labels, edges, weights, shops, conflicts):
    """The constrained merge as first written: sets of members, every pair of members checked."""
    parent, members = list(range(len(labels))), {x: {x} for x in range(len(labels))}
    apart = {frozenset(pair) for pair in conflicts.tolist()}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for position in np.argsort(-weights, kind="stable"):
        a, b = edges[position]
        root_a, root_b = find(a), find(b)
        if labels[a] != labels[b] or root_a == root_b:
            continue
        if {shops[m] for m in members[root_a]} & {shops[m] for m in members[root_b]}:
            continue
        if any(frozenset((x, y)) in apart for x in members[root_a] for y in members[root_b]):
            continue
        if len(members[root_a]) < len(members[root_b]):
            root_a, root_b = root_b, root_a
        parent[root_b] = root_a
        members[root_a] |= members.pop(root_b)
    return [find(x) for x in range(len(labels))]


def test_compiled_constrained_merge_is_the_one_join_at_a_time_merge():
    rng = np.random.default_rng(11)
    for _ in range(20):
        n = 80
        labels = rng.integers(0, 4, n)  # four communities
        edges = rng.integers(0, n, (300, 2))
        edges = edges[edges[:, 0] != edges[:, 1]]
        weights = rng.choice([0.5, 0.6, 0.7, 0.9], len(edges))  # ties: edge order decides
        shops = np.asarray([f"s{i}" for i in rng.integers(0, 12, n)])
        conflicts = rng.integers(0, n, (60, 2))
        merged = constrained_merge(labels, edges, weights, shops, conflicts)
        assert merged.tolist() == _merge_one_join_at_a_time(labels, edges, weights, shops, conflicts)


def test_compiled_char_products_are_scipys_row_products():
    from scipy import sparse

    from catalog.grouping.graph import _row_dots

    rng = np.random.default_rng(2)
    matrix = sparse.random(300, 500, density=0.05, format="csr", dtype=np.float32, random_state=4)
    left, right = rng.integers(0, 300, 2000), rng.integers(0, 300, 2000)
    expected = np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1)).ravel()
    np.testing.assert_allclose(_row_dots(matrix, left, right), expected, rtol=1e-6)
    shuffled = matrix.copy()  # column indices out of order within rows: sorted first
    for row in range(shuffled.shape[0]):
        start, end = shuffled.indptr[row], shuffled.indptr[row + 1]
        flip = np.arange(start, end)[::-1]
        shuffled.indices[start:end], shuffled.data[start:end] = shuffled.indices[flip], shuffled.data[flip]
    shuffled.has_sorted_indices = False
    np.testing.assert_allclose(_row_dots(shuffled, left, right), expected, rtol=1e-6)
