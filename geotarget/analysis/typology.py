"""Area typologies: group areas that share the same *kind* of disadvantage, from their outcome gaps.

Input is a table of gaps (areas x indicators, from :func:`geotarget.analysis.gaps.outcome_gaps`: positive =
worse than the reference, in England standard deviations). The gaps are clustered as they are: they
already share one scale, so an indicator that barely varies across the study contributes little, as
it should.

Methods
-------
``kmeans`` (default)
    scikit-learn k-means, 10 seeded starts.
``ward``
    Ward's hierarchical clustering (scikit-learn ``ward_tree``); exact, no randomness. Needs the full
    distance structure, so it is limited to 15,000 areas.
``spatial``
    Contiguous regions: Ward's clustering constrained by contiguity (scikit-learn's connectivity-
    constrained ``ward_tree`` on the queen neighbours of :func:`geotarget.analysis.contiguity.contiguity`), then a
    **population floor**: while a region has fewer people than ``min_population``, the smallest such
    region is merged into the neighbouring region that raises the within-region sum of squares least
    (Ward's criterion), so every region stays contiguous. Chosen over spopt's max-p (stochastic, slow
    beyond a few hundred areas, and it picks the number of regions itself) and SKATER (its floor counts
    areas, not people, and its tree cuts scale poorly): the constrained Ward tree is deterministic, fast
    on all of England's LSOAs and nests the solutions for every k. Islands and separate groups of
    areas (e.g. the Isle of Wight) are linked to their nearest area so that every region can be formed;
    the links are reported.

Choosing k
----------
``k="auto"`` tries k = 3..8 and reports, for each, the silhouette (on up to 5,000 areas, seeded) and
the Calinski–Harabasz index; the k with the best sum of the two ranks wins (ties: higher silhouette,
then smaller k). Areas are sorted by code before anything else, so results depend only on the data
and the seed, not on row order. Clusters are numbered 1..k from the widest average gap to the
narrowest.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geotarget.analysis.layers import area_layer
from geotarget.core.errors import SchemaError

log = logging.getLogger(__name__)

METHODS = ("kmeans", "ward", "spatial")
K_RANGE = (3, 8)
WARD_MAX = 15_000
SILHOUETTE_SAMPLE = 5_000
#: Label thresholds, in England standard deviations.
LARGE, GAP, NEAR, BETTER = 1.0, 0.5, 0.25, -0.5


@dataclass(frozen=True)
class Typology:
    """Result of :func:`cluster_areas`."""

    clusters: pd.DataFrame  #: per area (index ``area_code``): ``cluster``, ``label``, ``population``, gaps
    profiles: pd.DataFrame  #: per cluster: label, areas, population, population-weighted mean gaps (and values)
    scores: pd.DataFrame  #: per k tried: silhouette, Calinski–Harabasz, chosen
    k: int
    method: str
    labels: dict[str, str]  #: indicator -> label
    notes: list[str] = field(default_factory=list)


def _validate(gaps: pd.DataFrame, population: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    if gaps.index.has_duplicates:
        twice = gaps.index[gaps.index.duplicated()][:5]
        raise SchemaError(f"areas are listed more than once: {', '.join(map(str, twice))}")
    miss = gaps.isna().any(axis=1)
    if miss.any():
        raise SchemaError(f"{int(miss.sum())} area(s) have missing gaps, e.g. "
                          f"{', '.join(map(str, gaps.index[miss][:5]))}; leave them out explicitly "
                          "(geotarget.analysis.gaps.complete_rows) — values are never imputed")
    flat = [c for c in gaps.columns if gaps[c].nunique() <= 1]
    if flat:
        raise SchemaError(f"indicator(s) {', '.join(flat)} are constant across the {len(gaps):,} areas: they cannot "
                          "separate areas; remove them")
    pop = population.reindex(gaps.index)
    if pop.isna().any() or (pop < 0).any():
        raise SchemaError(f"population missing or negative for {int((pop.isna() | (pop < 0)).sum())} area(s)")
    order = np.argsort(gaps.index.to_numpy(dtype=str), kind="stable")
    return gaps.iloc[order], pop.iloc[order].astype(float)


def _cut(children: np.ndarray, n: int, k: int) -> np.ndarray:
    """Cluster labels from a merge tree (scikit-learn ``children_``) cut into ``k`` clusters."""
    parent = np.arange(2 * n - 1)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for step, (a, b) in enumerate(children[: n - k]):
        parent[find(a)] = n + step
        parent[find(b)] = n + step
    roots = np.array([find(i) for i in range(n)])
    _, labels = np.unique(roots, return_inverse=True)
    return labels


def _connectivity(areas, ids: pd.Index):
    """Queen contiguity of ``areas`` (ordered as ``ids``) with islands and separate groups linked."""
    import shapely
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    from geotarget.analysis.contiguity import contiguity
    from geotarget.core.crs import to_bng

    g = to_bng(areas).reindex(ids)
    if g.geometry.isna().any():
        raise SchemaError(f"no geometry for {int(g.geometry.isna().sum())} area(s), e.g. "
                          f"{', '.join(map(str, ids[g.geometry.isna().to_numpy()][:5]))}")
    c = contiguity(g, connect_islands=True)
    a = c.matrix().tolil().astype(np.int8)
    geoms = g.geometry.values
    notes = [c.report()]
    links = []
    ncomp, comp = connected_components(a.tocsr(), directed=False)
    while ncomp > 1:
        sizes = np.bincount(comp)
        small = int(np.argmin(sizes))  # smallest group (lowest label on ties)
        members = np.flatnonzero(comp == small)
        others = np.flatnonzero(comp != small)
        tree = shapely.STRtree(geoms[others])
        (src, dst), dist = tree.query_nearest(geoms[members], return_distance=True)
        best = np.lexsort((dst, src, dist))[0]
        i, j = int(members[src[best]]), int(others[dst[best]])
        a[i, j] = a[j, i] = 1
        links.append((ids[i], ids[j], float(dist[best]), int(len(members))))
        ncomp, comp = connected_components(a.tocsr(), directed=False)
    if links:
        notes.append(f"{len(links)} separate group(s) of areas linked to their nearest area so regions can form: "
                     + "; ".join(f"{n} area(s) via {x}–{y} ({d:,.0f} m)" for x, y, d, n in links[:5]))
    return sparse.csr_matrix(a), notes


def _enforce_floor(labels: np.ndarray, x: np.ndarray, pop: np.ndarray, adj, floor: float) -> np.ndarray:
    """Merge regions under ``floor`` people into the adjacent region with the least Ward cost."""
    labels = labels.copy()
    while True:
        ids = np.unique(labels)
        if len(ids) == 1:
            return labels
        p = pd.Series(pop).groupby(labels).sum()
        small = p[p < floor]
        if small.empty:
            return labels
        worst = int(small.sort_values(kind="stable").index[0])
        members = labels == worst
        nb = np.unique(labels[adj[np.flatnonzero(members)].indices])
        nb = nb[nb != worst]
        n_a, mu_a = members.sum(), x[members].mean(axis=0)
        costs = []
        for b in nb:
            mb = labels == b
            n_b, mu_b = mb.sum(), x[mb].mean(axis=0)
            costs.append((n_a * n_b / (n_a + n_b) * float(((mu_a - mu_b) ** 2).sum()), int(b)))
        labels[members] = min(costs)[1]


def _kmeans_fits(x: np.ndarray, ks: list[int], seed: int) -> dict[int, np.ndarray]:
    """K-means labels for each k in ``ks`` (10 seeded starts each), the fits run side by side on the cores.

    Each fit is the same ``KMeans(n_clusters=k, n_init=10, random_state=seed)`` whatever runs beside it,
    so the labels do not depend on the number of workers. Every native thread pool (OpenMP, BLAS) is
    held to one thread for the duration: measured 10x faster on a busy 2-core machine than letting
    OpenMP spread one fit over the cores (33,755 areas: 0.8 s vs 7.9 s per fit), identical results,
    and the fits for different k run in parallel instead (scikit-learn releases the GIL in them).
    """
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    def fit(kk: int) -> np.ndarray:
        return KMeans(n_clusters=kk, n_init=10, random_state=seed).fit_predict(x)

    workers = max(1, min(len(ks), os.cpu_count() or 1))
    with threadpool_limits(1):
        if workers == 1 or len(x) < 2_000:  # small problems: threads cost more than they save
            return {kk: fit(kk) for kk in ks}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return dict(zip(ks, pool.map(fit, ks), strict=True))


def _silhouette_distances(x: np.ndarray, seed: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Return the rows and the distances that ``silhouette_score(x, labels, sample_size=..., random_state=seed)`` uses.

    scikit-learn draws the silhouette sample from ``seed`` alone (not from the labels), so every k
    tried is scored on the same areas: their distances are computed once here, chunk by chunk exactly
    as ``silhouette_samples`` computes them, and reused for every k (identical scores, one distance
    computation instead of one per k).
    """
    from sklearn.metrics import pairwise_distances_chunked
    from sklearn.utils import check_random_state

    idx = None
    if len(x) > SILHOUETTE_SAMPLE:
        idx = check_random_state(seed).permutation(x.shape[0])[:SILHOUETTE_SAMPLE]
    xs = x if idx is None else x[idx]
    chunks = list(pairwise_distances_chunked(xs, metric="euclidean"))
    return idx, chunks[0] if len(chunks) == 1 else np.vstack(chunks)


def _scores(x: np.ndarray, labels: np.ndarray, sil: tuple[np.ndarray | None, np.ndarray]) -> tuple[float, float]:
    """Silhouette (on the sample of :func:`_silhouette_distances`) and Calinski–Harabasz of ``labels``."""
    from sklearn.metrics import calinski_harabasz_score, silhouette_samples

    if len(np.unique(labels)) < 2:
        return float("nan"), float("nan")
    idx, dist = sil
    lab = labels if idx is None else labels[idx]
    return (float(np.mean(silhouette_samples(dist, lab, metric="precomputed"))),
            float(calinski_harabasz_score(x, labels)))


def cluster_areas(gaps: pd.DataFrame, population: pd.Series, *, method: str = "kmeans", k="auto", seed: int = 0,
                  k_range: tuple[int, int] = K_RANGE, areas=None, min_population: float | None = None,
                  values: pd.DataFrame | None = None, labels: dict | None = None) -> Typology:
    """Cluster areas on their gaps.

    Parameters
    ----------
    gaps
        Areas x indicators (index = area codes), no missing values.
    population
        People in each area (for the floor and the population-weighted profiles).
    method
        ``"kmeans"``, ``"ward"`` or ``"spatial"`` (contiguous regions; needs ``areas``).
    k
        ``"auto"`` (choose from ``k_range`` by silhouette and Calinski–Harabasz) or a number of clusters.
    areas
        Polygons of the areas (GeoDataFrame indexed by the same codes), for ``method="spatial"``.
    min_population
        Population floor per region (``spatial`` only).
    values
        The raw indicator values, to add their population-weighted means to the profiles.
    """
    from sklearn.cluster import ward_tree

    if method not in METHODS:
        raise SchemaError(f"method was {method!r} but is expected to be one of {list(METHODS)}")
    gaps, pop = _validate(gaps, population)
    n = len(gaps)
    x = gaps.to_numpy(float)
    notes: list[str] = []
    if k == "auto" or k is None:
        lo, hi = k_range
        ks = [kk for kk in range(lo, hi + 1) if kk < n]
        if not ks:
            raise SchemaError(f"only {n} areas: too few to choose k between {lo} and {hi}; pass a k below {n}")
    else:
        kk = int(k)
        if kk < 2 or kk > n:
            raise SchemaError(f"k was {k} but there are {n:,} areas; expected 2 <= k <= {n:,}")
        ks = [kk]
    if min_population is not None and method != "spatial":
        raise SchemaError("a population floor (min_population) needs method='spatial'")
    children = adj = None
    if method == "ward":
        if n > WARD_MAX:
            raise SchemaError(f"Ward's clustering of {n:,} areas needs the full distance structure (over "
                              f"{WARD_MAX:,} areas would take too much memory); use method='kmeans' or 'spatial'")
        children = ward_tree(x)[0]
    elif method == "spatial":
        if areas is None:
            raise SchemaError("method='spatial' needs the area polygons (areas=...)")
        adj, cnotes = _connectivity(areas, gaps.index)
        notes += cnotes
        children = ward_tree(x, connectivity=adj)[0]
        if min_population is not None:
            if min_population > pop.sum():
                raise SchemaError(f"min_population {min_population:,.0f} exceeds the study's whole population "
                                  f"({pop.sum():,.0f})")
    rows, found = [], {}
    fitted = _kmeans_fits(x, ks, seed) if method == "kmeans" else {}
    sil_dist = _silhouette_distances(x, seed)
    for kk in ks:
        if method == "kmeans":
            lab = fitted[kk]
        else:
            lab = _cut(children, n, kk)
            if method == "spatial" and min_population is not None:
                lab = _enforce_floor(lab, x, pop.to_numpy(), adj, float(min_population))
        got = len(np.unique(lab))
        sil, ch = _scores(x, lab, sil_dist)
        rows.append({"k": kk, "clusters": got, "silhouette": sil, "calinski_harabasz": ch})
        found[kk] = lab
    scores = pd.DataFrame(rows)
    valid = scores[scores["clusters"] >= 2]
    if len(ks) == 1 or valid.empty:
        best = ks[0]
    else:
        r = valid["silhouette"].rank(ascending=False) + valid["calinski_harabasz"].rank(ascending=False)
        order = pd.DataFrame({"r": r, "s": -valid["silhouette"], "k": valid["k"]}).sort_values(["r", "s", "k"])
        best = int(order["k"].iloc[0])
    scores["chosen"] = scores["k"] == best
    lab = found[best]
    if method == "spatial" and min_population is not None:
        got = len(np.unique(lab))
        notes.append(f"Population floor {min_population:,.0f}: {got} contiguous regions"
                     + (f" (from k = {best}: {best - got} merged to reach the floor)" if got < best else "") + ".")
    clusters, profiles, label_of = _finish(gaps, pop, lab, values, labels)
    if len(ks) > 1:
        ch = scores.loc[scores["chosen"]].iloc[0]
        notes.append(f"k = {best} chosen from {ks[0]}–{ks[-1]} (silhouette {ch.silhouette:.3f}, Calinski–Harabasz "
                     f"{ch.calinski_harabasz:,.1f}; best sum of the two ranks).")
    log.info("typology: %s, k=%d, %d areas", method, profiles.shape[0], n)
    return Typology(clusters, profiles, scores, int(profiles.shape[0]), method, label_of, notes)


def _finish(gaps, pop, lab, values, labels):
    """Assign cluster numbers from the widest gap down, label the clusters, and build the profile table."""
    lab_s = pd.Series(lab, index=gaps.index)
    w = pop.to_numpy()
    prof = {}
    for c in np.unique(lab):
        m = lab == c
        ww = w[m] if w[m].sum() > 0 else np.ones(m.sum())
        prof[c] = np.average(gaps.to_numpy()[m], axis=0, weights=ww)
    mean_gap = pd.DataFrame(prof, index=gaps.columns).T
    first = lab_s.groupby(lab).apply(lambda s: s.index.min())
    order = pd.DataFrame({"g": -mean_gap.mean(axis=1), "first": first}).sort_values(["g", "first"]).index
    renumber = {old: i + 1 for i, old in enumerate(order)}
    lab_s = lab_s.map(renumber)
    mean_gap = mean_gap.rename(index=renumber).sort_index()
    label_of = dict(labels or {c: c.replace("_", " ") for c in gaps.columns})
    names = {c: cluster_label(mean_gap.loc[c], label_of) for c in mean_gap.index}
    seen: dict[str, int] = {}
    for c in names:  # two clusters with the same wording get told apart
        seen[names[c]] = seen.get(names[c], 0) + 1
    for c in names:
        if seen[names[c]] > 1:
            names[c] = f"{names[c]} (type {c})"
    clusters = pd.DataFrame({"cluster": lab_s, "label": lab_s.map(names), "population": pop})
    clusters = clusters.join(gaps.add_prefix("gap_"))
    clusters.index.name = "area_code"
    profiles = pd.DataFrame({
        "cluster": mean_gap.index, "label": [names[c] for c in mean_gap.index],
        "areas": clusters.groupby("cluster").size().reindex(mean_gap.index).to_numpy(),
        "population": clusters.groupby("cluster")["population"].sum().reindex(mean_gap.index).to_numpy(),
    })
    profiles["population_share"] = profiles["population"] / profiles["population"].sum()
    for col in gaps.columns:
        profiles[f"gap_{col}"] = mean_gap[col].to_numpy()
    if values is not None:
        v = values.reindex(gaps.index)
        for col in v.columns:
            num = (v[col] * pop).groupby(lab_s).sum()
            profiles[f"mean_{col}"] = (num / pop.groupby(lab_s).sum()).reindex(mean_gap.index).to_numpy()
    return clusters, profiles, label_of


def _join(words: list[str], most: int = 3) -> str:
    if len(words) > most:
        return ", ".join(words[:most]) + f" and {len(words) - most} more"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def cluster_label(mean_gaps: pd.Series, labels: dict[str, str], *, most: int = 3) -> str:
    """Plain-English label from a cluster's mean gaps (England SDs; positive = worse than the reference).

    >>> cluster_label(pd.Series({"income": 1.4, "employment": 1.1, "health": 0.7, "crime": 0.1}),
    ...               {"income": "income", "employment": "employment", "health": "health", "crime": "crime"})
    'Large income and employment gaps; health gap; crime near average'
    """
    g = mean_gaps.sort_values(ascending=False, kind="stable")
    large = [labels[i] for i, v in g.items() if v >= LARGE]
    gap = [labels[i] for i, v in g.items() if GAP <= v < LARGE]
    near = [labels[i] for i, v in g.items() if abs(v) < NEAR]
    better = [labels[i] for i, v in g.sort_values(kind="stable").items() if v <= BETTER]
    parts = []
    if large:
        parts.append(f"large {_join(large, most)} gap{'s' if len(large) > 1 else ''}")
    if gap:
        parts.append(f"{_join(gap, most)} gap{'s' if len(gap) > 1 else ''}")
    if better:
        parts.append(f"better than average on {_join(better, most)}")
    if near and parts and len(parts) < 3:
        parts.append(f"{_join(near, most)} near average")
    if not parts:
        parts.append("close to average on every indicator" if len(near) == len(g) else "small gaps only")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def cluster_layer(areas, typology: Typology):
    """Return the areas with ``cluster`` and ``label`` (and gaps) to draw: a GeoDataFrame indexed by ``area_code``."""
    return area_layer(areas, typology.clusters)


__all__ = ["METHODS", "Typology", "cluster_areas", "cluster_label", "cluster_layer"]
