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

#: A split is accepted when its smallest part has at least this share of the mean part.
MIN_SHARE = 0.6
#: Random spanning trees tried per bisection, beside the shortest-links tree.
N_TREES = 16
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
    if not best[0][0]:  # no k up to k0 + EXTRA_PARTS fits (a long, branching group): split what is over again
        parts = [q for p in parts for q in _refit(p, adj, pop, xy, ceiling, min_share, seed)]
    return sorted((np.sort(p) for p in parts), key=lambda p: int(p[0]))


def _refit(part: np.ndarray, adj, pop, xy, ceiling: float, min_share: float, seed: int) -> list[np.ndarray]:
    """Return ``part`` as it is if it is within the ceiling (or one LSOA), else split on its own."""
    if len(part) <= 1 or pop[part].sum() <= ceiling:
        return [part]
    sub = split_contiguous(adj[part][:, part], pop[part], np.asarray(xy, float)[part], ceiling,
                           min_share=min_share, seed=seed)
    return [part] if len(sub) == 1 else [part[q] for q in sub]


def _partition(nodes: np.ndarray, k: int, adj, pop, xy, ceiling: float, seed: int) -> list[np.ndarray]:
    """Split ``nodes`` into ``k`` contiguous parts by recursive bisection."""
    if k <= 1 or len(nodes) <= 1:
        return [nodes]
    k1 = k // 2
    a, b = _bisect(nodes, k1, k - k1, adj, pop, xy, ceiling, seed)
    return _partition(a, k1, adj, pop, xy, ceiling, seed) + _partition(b, k - k1, adj, pop, xy, ceiling, seed)


def _bisect(nodes: np.ndarray, k1: int, k2: int, adj, pop, xy, ceiling: float,
            seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``nodes`` in two connected sides for ``k1`` and ``k2`` parts.

    The sides' populations come near ``k1 : k2``, each within its parts' ceilings where a cut allows.
    """
    sub = adj[nodes][:, nodes].tocsr()
    coo = sub.tocoo()
    n = len(nodes)
    p = pop[nodes]
    total = p.sum()
    target, cap1, cap2 = total * k1 / (k1 + k2), k1 * ceiling, k2 * ceiling
    upper = coo.row < coo.col
    r, c = coo.row[upper], coo.col[upper]
    dist = np.hypot(*(xy[nodes][r] - xy[nodes][c]).T) + 1e-6
    rng = np.random.default_rng(seed + n)
    weights = [dist] + [rng.random(len(r)) + 1e-6 for _ in range(N_TREES if n <= 60 else max(4, N_TREES // 4))]
    cands = []
    rl, cl = r.tolist(), c.tolist()
    for w in weights:
        order, parent = _spanning_tree(n, rl, cl, np.argsort(w, kind="stable").tolist())
        below = p.copy()
        size = np.ones(n, int)
        for v in order[:0:-1]:  # children before parents
            below[parent[v]] += below[v]
            size[parent[v]] += size[v]
        # cut above v: v's subtree is one side; it takes k1 parts (flip=False) or k2 (flip=True)
        rest = total - below
        e1 = np.abs(below - target) + np.where((below > cap1) | (rest > cap2), total, 0.0)
        e2 = np.abs(rest - target) + np.where((rest > cap1) | (below > cap2), total, 0.0)
        err = np.minimum(e1, e2)
        err[order[0]] = np.inf
        pos = np.empty(n, int)
        pos[order] = np.arange(n)
        cands.append((err, e2 < e1, np.asarray(order), pos, size))
    best_err = min(float(e.min()) for e, *_ in cands)
    tol = max(best_err, 0.05 * total / (k1 + k2))  # near-best balance; among those the most compact cut wins
    near = sorted((float(e[v]), t, int(v)) for t, (e, *_) in enumerate(cands) for v in np.flatnonzero(e <= tol))
    options = []
    for _, t, v in near[:MAX_OPTIONS]:
        e, flip, order, pos, size = cands[t]
        side = np.zeros(n, bool)
        side[order[pos[v]:pos[v] + size[v]]] = True
        if flip[v]:
            side = ~side
        options.append((int(np.count_nonzero(side[r] != side[c])), float(e[v]), side.tobytes(), side))
    options.sort(key=lambda o: o[:3])
    side = _refine(options[0][3], sub, p, target, (cap1, cap2))
    return nodes[side], nodes[~side]


def _spanning_tree(n: int, r: list[int], c: list[int], by_weight: list[int]) -> tuple[list[int], list[int]]:
    """Return the preorder (a subtree is a run of it) and parents of the minimum spanning tree (Kruskal).

    ``r``, ``c``: the edges' ends; ``by_weight``: the edges, lightest first. The group is connected.
    """
    root = list(range(n))

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    nbrs: list[list[int]] = [[] for _ in range(n)]
    for e in by_weight:
        a, b = find(r[e]), find(c[e])
        if a != b:
            root[a] = b
            nbrs[r[e]].append(c[e])
            nbrs[c[e]].append(r[e])
    order, parent, seen, stack = [], [-1] * n, [False] * n, [0]
    seen[0] = True
    while stack:
        v = stack.pop()
        order.append(v)
        for u in nbrs[v]:
            if not seen[u]:
                seen[u] = True
                parent[u] = v
                stack.append(u)
    return order, parent


def _connected(nbrs: list[np.ndarray], mask: np.ndarray) -> bool:
    """Return whether the positions in ``mask`` form one connected piece (``nbrs``: neighbour lists)."""
    idx = np.flatnonzero(mask)
    if len(idx) <= 1:
        return len(idx) == 1
    seen = {int(idx[0])}
    stack = [int(idx[0])]
    while stack:
        for u in nbrs[stack.pop()]:
            if mask[u] and u not in seen:
                seen.add(int(u))
                stack.append(int(u))
    return len(seen) == len(idx)


def _refine(side: np.ndarray, adj: sparse.csr_matrix, p: np.ndarray, target: float,
            caps: tuple[float, float], max_moves: int = 12) -> np.ndarray:
    """Move boundary LSOAs across while that brings ``side`` nearer ``target``.

    Both sides stay contiguous and within their ``caps``.
    """
    side = side.copy()
    nbrs = [adj.indices[adj.indptr[v]:adj.indptr[v + 1]] for v in range(len(p))]
    rows = np.repeat(np.arange(len(p)), np.diff(adj.indptr))
    total = p.sum()
    for _ in range(max_moves):
        a = p[side].sum()
        err = abs(a - target)
        boundary = np.unique(rows[side[rows] != side[adj.indices]])
        new_a = np.where(side[boundary], a - p[boundary], a + p[boundary])
        new_err = np.abs(new_a - target)
        fits = (new_a <= caps[0]) & (total - new_a <= caps[1])
        moved = False
        for j in np.argsort(new_err, kind="stable"):
            if new_err[j] >= err - 1e-9:
                break
            if not fits[j]:
                continue
            trial = side.copy()
            trial[boundary[j]] = not side[boundary[j]]
            if _connected(nbrs, trial) and _connected(nbrs, ~trial):
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
