"""The grouping's per-edge loops, compiled (numba): dot products of sparse rows for candidate pairs,
the constrained union-find inside communities, and running counts per key (ranks within groups).

They were numpy, scipy or plain-Python loops over millions of pairs per category; compiled, they give the
same groups and the same numbers (up to the last bit of a float32 sum). Imported when first needed
(numba's import is not free, and the web process never groups); compiled once, cached next to this file.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core import types
from numba.typed import Dict


@numba.njit(cache=True, nogil=True)
def row_dots(indptr, indices, data, left, right):
    """Per pair, the dot product of two rows of a CSR matrix with sorted column indices: a float32 sum in
    column order (scipy's `m[left].multiply(m[right]).sum(axis=1)` sums pairwise: the last bit may differ)."""
    out = np.zeros(len(left), np.float32)
    for pair in range(len(left)):
        i, i_end = indptr[left[pair]], indptr[left[pair] + 1]
        j, j_end = indptr[right[pair]], indptr[right[pair] + 1]
        total = np.float32(0.0)
        while i < i_end and j < j_end:
            column_i, column_j = indices[i], indices[j]
            if column_i == column_j:
                total += data[i] * data[j]
                i += 1
                j += 1
            elif column_i < column_j:
                i += 1
            else:
                j += 1
        out[pair] = total
    return out


@numba.njit(cache=True, nogil=True)
def running_count(codes, count):
    """Per element, how many elements before it carry the same code (codes 0 .. count - 1)."""
    seen = np.zeros(count, np.int64)
    rank = np.empty(len(codes), np.int64)
    for position in range(len(codes)):
        rank[position] = seen[codes[position]]
        seen[codes[position]] += 1
    return rank


@numba.njit(cache=True, nogil=True, inline="always")
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(cache=True, nogil=True)
def _shops_clash(small, big, shop, shop_count, following, held):
    """Some offer of component `small` has a shop that component `big` already holds."""
    member = small
    while member != -1:
        if big * shop_count + shop[member] in held:
            return True
        member = following[member]
    return False


@numba.njit(cache=True, nogil=True)
def _enemies_inside(mine, other, parent, following, enemy_start, enemy):
    """Some offer of component `mine` was kept apart by a rule from an offer of component `other`."""
    member = mine
    while member != -1:
        for position in range(enemy_start[member], enemy_start[member + 1]):
            if _find(parent, enemy[position]) == other:
                return True
        member = following[member]
    return False


@numba.njit(cache=True, nogil=True)
def merge_along(left, right, shop, shop_count, enemy_start, enemy):
    """Union-find over the edges (left[i], right[i]) in the order given: a join is refused when the two
    components share a shop or hold two offers kept apart (`enemy[enemy_start[x]:enemy_start[x + 1]]` are
    offer x's). The larger component's root absorbs the smaller's (ties: the first end's). Returns each
    offer's root."""
    n = len(shop)
    parent = np.arange(n)
    size = np.ones(n, np.int64)
    enemies = (enemy_start[1:] - enemy_start[:-1]).astype(np.int64)
    following = np.full(n, -1, np.int64)  # members of a component as a linked list from its root
    last = np.arange(n)
    held = Dict.empty(key_type=types.int64, value_type=types.boolean)  # root * shop_count + shop
    for x in range(n):
        held[x * shop_count + shop[x]] = True
    for edge in range(len(left)):
        root_a, root_b = _find(parent, left[edge]), _find(parent, right[edge])
        if root_a == root_b:
            continue
        small, big = (root_a, root_b) if size[root_a] <= size[root_b] else (root_b, root_a)
        if _shops_clash(small, big, shop, shop_count, following, held):
            continue
        # enemies are symmetric: checking the side with fewer of them is enough
        mine, other = (root_a, root_b) if enemies[root_a] <= enemies[root_b] else (root_b, root_a)
        if _enemies_inside(mine, other, parent, following, enemy_start, enemy):
            continue
        if size[root_a] < size[root_b]:
            root_a, root_b = root_b, root_a
        parent[root_b] = root_a
        member = root_b
        while member != -1:
            held[root_a * shop_count + shop[member]] = True
            member = following[member]
        following[last[root_a]] = root_b
        last[root_a] = last[root_b]
        size[root_a] += size[root_b]
        enemies[root_a] += enemies[root_b]
    roots = np.empty(n, np.int64)
    for x in range(n):
        roots[x] = _find(parent, x)
    return roots
