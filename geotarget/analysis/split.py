"""Splitting a contiguous group of neighbourhoods into contiguous parts of comparable population.

The rule, as the method note states it: a group over the population ceiling is split into
``k = ceil(population / ceiling)`` contiguous parts by recursive bisection. Each bisection cuts one
edge of a spanning tree of the group's neighbour graph (both sides of a tree edge are connected, so
every part is contiguous); many spanning trees are tried (the shortest-links tree between LSOA
centroids and seeded random ones), and the cut kept is the most compact of those whose sides come
closest to the target shares (half and half for two parts; 1:2 for three ...), after boundary LSOAs
are moved across where that improves the balance and keeps both sides contiguous. A split is
accepted when every part is within the ceiling and the smallest part has at least
:data:`MIN_SHARE` (60%) of the mean part (``population / k``); otherwise ``k + 1`` parts are tried
(up to three more), and the best split found is kept. The split is deterministic: the random trees
use a fixed seed and positions come in a fixed order.

>>> import numpy as np
>>> from scipy import sparse
>>> strip = sparse.diags([1, 1], [-1, 1], shape=(6, 6), format="csr")   # six LSOAs in a row
>>> [p.tolist() for p in split_contiguous(strip, np.full(6, 1000.0), np.c_[np.arange(6), np.zeros(6)], 2500)]
[[0, 1], [2, 3], [4, 5]]
>>> locational_qualifiers(np.array([[0.0, 10.0], [0.0, 0.0]]))
['north', 'south']
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree

#: A split is accepted when its smallest part has at least this share of the mean part.
MIN_SHARE = 0.6
#: Random spanning trees tried per bisection, beside the shortest-links tree.
N_TREES = 24
#: Near-balanced cuts compared for compactness per bisection.
MAX_OPTIONS = 80
#: Extra parts tried beyond ``ceil(population / ceiling)`` when no split of that many is balanced.
EXTRA_PARTS = 3

__all__ = ["EXTRA_PARTS", "MIN_SHARE", "balance", "locational_qualifiers", "split_contiguous"]


def balance(parts: list[np.ndarray], pop: np.ndarray) -> float:
    """Return the smallest part's population as a share of the mean part's (1 = perfectly even)."""
    sizes = np.array([pop[p].sum() for p in parts], float)
    return float(sizes.min() / sizes.mean()) if len(sizes) and sizes.mean() > 0 else 1.0


def split_contiguous(adj: sparse.csr_matrix, pop: np.ndarray, xy: np.ndarray, ceiling: float, *,
                     min_share: float = MIN_SHARE, seed: int = 0) -> list[np.ndarray]:
    """Split one contiguous group into contiguous parts of comparable population, each within ``ceiling``.

    Parameters
    ----------
    adj : scipy.sparse.csr_matrix
        Symmetric neighbour matrix of the group's LSOAs (positions ``0 .. n-1``); the group must be connected.
    pop : numpy.ndarray
        Residents per LSOA.
    xy : numpy.ndarray
        ``(n, 2)`` centroids in metres (they shape the shortest-links tree, so parts come out compact).
    ceiling : float
        Population ceiling per part.
    min_share : float
        Smallest part as a share of the mean part for a split to be accepted (see the module docstring).
    seed : int
        Seed of the random spanning trees (fixed, so the split is repeatable).

    Returns
    -------
    list of numpy.ndarray
        The parts as sorted position arrays, ordered by their lowest position; one part (the whole group)
        when it is within the ceiling or is a single LSOA.
    """
    pop = np.asarray(pop, float)
    n = len(pop)
    total = float(pop.sum())
    if n <= 1 or total <= ceiling:
        return [np.arange(n)]
    adj = sparse.csr_matrix(adj, dtype=float)
    k0 = math.ceil(total / ceiling)
    best: tuple | None = None
    for k in range(k0, min(n, k0 + EXTRA_PARTS) + 1):
        parts = _partition(np.arange(n), k, adj, pop, np.asarray(xy, float), ceiling, seed)
        fits = all(pop[p].sum() <= ceiling or len(p) == 1 for p in parts)
        score = (fits, balance(parts, pop))
        if best is None or score > best[0]:
            best = (score, parts)
        if fits and score[1] >= min_share:
            break
    parts = best[1] if best is not None else [np.arange(n)]
    return sorted((np.sort(p) for p in parts), key=lambda p: int(p[0]))


def _partition(nodes: np.ndarray, k: int, adj, pop, xy, ceiling: float, seed: int) -> list[np.ndarray]:
    """Split ``nodes`` into ``k`` contiguous parts by recursive bisection."""
    if k <= 1 or len(nodes) <= 1:
        return [nodes]
    k1 = k // 2
    a, b = _bisect(nodes, k1 / k, adj, pop, xy, seed)
    # the side nearer its share of k1 parts takes k1 of them
    pa = pop[a].sum()
    total = pa + pop[b].sum()
    if abs(pa / total - k1 / k) > abs(pa / total - (k - k1) / k):
        a, b = b, a
    return _partition(a, k1, adj, pop, xy, ceiling, seed) + _partition(b, k - k1, adj, pop, xy, ceiling, seed)


def _bisect(nodes: np.ndarray, share: float, adj, pop, xy, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``nodes`` in two connected sides, one with about ``share`` of their population."""
    sub = adj[nodes][:, nodes].tocoo()
    n = len(nodes)
    p = pop[nodes]
    total = p.sum()
    targets = (share * total, (1 - share) * total)
    upper = sub.row < sub.col
    r, c = sub.row[upper], sub.col[upper]
    dist = np.hypot(*(xy[nodes][r] - xy[nodes][c]).T) + 1e-6
    rng = np.random.default_rng(seed + n)
    weights = [dist] + [rng.random(len(r)) + 1e-6 for _ in range(N_TREES)]
    cands = []  # (error, cut edges, tree, node)
    for w in weights:
        tree = minimum_spanning_tree(sparse.csr_matrix((w, (r, c)), shape=(n, n)))
        tree = (tree + tree.T).tocsr()
        order, parent = breadth_first_order(tree, 0, directed=False)
        below = p.copy()
        for v in order[:0:-1]:  # children before parents
            below[parent[v]] += below[v]
        # subtree of v = the nodes whose path to the root passes v: mark by walking the BFS order
        err = np.minimum(np.abs(below - targets[0]), np.abs(below - targets[1]))
        err[order[0]] = np.inf
        cands.append((err, order, parent))
    best_err = min(float(e.min()) for e, _, _ in cands)
    tol = max(best_err, 0.05 * total)  # near-best balance; among those the most compact cut wins
    near = sorted((float(e[v]), t, int(v)) for t, (e, _, _) in enumerate(cands) for v in np.flatnonzero(e <= tol))
    options = []
    for _, t, v in near[:MAX_OPTIONS]:
        e, order, parent = cands[t]
        side = _subtree(v, order, parent, n)
        options.append((int(np.count_nonzero(side[r] != side[c])), float(e[v]), side.tobytes(), side))
    options.sort(key=lambda o: o[:3])
    side = _refine(options[0][3], sub.tocsr(), p, targets)
    return nodes[side], nodes[~side]


def _subtree(v: int, order: np.ndarray, parent: np.ndarray, n: int) -> np.ndarray:
    """Return a mask of ``v`` and its descendants in the BFS tree (``order`` lists parents before children)."""
    side = np.zeros(n, bool)
    side[v] = True
    pos = int(np.flatnonzero(order == v)[0])
    for u in order[pos + 1:]:
        if parent[u] >= 0 and side[parent[u]]:
            side[u] = True
    return side


def _connected(adj: sparse.csr_matrix, mask: np.ndarray) -> bool:
    idx = np.flatnonzero(mask)
    if len(idx) <= 1:
        return len(idx) == 1
    return connected_components(adj[idx][:, idx], directed=False)[0] == 1


def _refine(side: np.ndarray, adj: sparse.csr_matrix, p: np.ndarray, targets: tuple[float, float]) -> np.ndarray:
    """Move boundary LSOAs across while that brings the sides nearer their targets and keeps both contiguous."""
    side = side.copy()
    crossing = np.repeat(np.arange(len(p)), np.diff(adj.indptr)), adj.indices
    for _ in range(len(p)):
        a = p[side].sum()
        t = targets[0] if abs(a - targets[0]) <= abs(a - targets[1]) else targets[1]
        err = abs(a - t)
        boundary = np.unique(crossing[0][side[crossing[0]] != side[crossing[1]]])
        new_err = np.abs(np.where(side[boundary], a - p[boundary], a + p[boundary]) - t)
        moved = False
        for j in np.argsort(new_err, kind="stable"):
            if new_err[j] >= err - 1e-9:
                break
            trial = side.copy()
            trial[boundary[j]] = not side[boundary[j]]
            if _connected(adj, trial) and _connected(adj, ~trial):
                side, moved = trial, True
                break
        if not moved:
            break
    return side


_COMPASS8 = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")
_COMPASS4 = ("north", "east", "south", "west")


def locational_qualifiers(xy: np.ndarray, *, central: float = 0.25) -> list[str]:
    """Return a distinct locational word for each point, from where it lies relative to the others.

    Two points: ``north``/``south`` or ``east``/``west``, along the direction they differ most. More: a
    point within ``central`` of the largest distance from their mean is ``central``; the others get a
    compass direction from the mean, four-point where those are all distinct, else eight-point; points
    that still share a word are numbered outwards from the mean ("north 2").

    Parameters
    ----------
    xy : numpy.ndarray
        ``(m, 2)`` points in metres, x east and y north (e.g. population-weighted centroids).
    central : float
        Share of the largest distance from the mean within which a point is ``central``.

    Returns
    -------
    list of str
        One word per point, all distinct.
    """
    xy = np.asarray(xy, float)
    m = len(xy)
    if m == 0:
        return []
    if m == 1:
        return [""]
    d = xy - xy.mean(axis=0)
    if m == 2:
        dx, dy = xy[0] - xy[1]
        if abs(dy) >= abs(dx):
            return ["north", "south"] if dy >= 0 else ["south", "north"]
        return ["east", "west"] if dx >= 0 else ["west", "east"]
    r = np.hypot(d[:, 0], d[:, 1])
    angle = np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 360  # clockwise from north
    mid = r < central * r.max()
    words: list[str] = []
    for compass in (_COMPASS4, _COMPASS8):
        step = 360 / len(compass)
        words = ["central" if mid[i] else compass[int((angle[i] + step / 2) // step) % len(compass)]
                 for i in range(m)]
        if len(set(words)) == m:
            return words
    out = list(words)
    for w in set(words):
        same = [i for i in range(m) if words[i] == w]
        for j, i in enumerate(sorted(same, key=lambda i: (r[i], i))):
            out[i] = w if j == 0 else f"{w} {j + 1}"
    return out
