"""Targeted action areas: contiguous priority neighbourhoods chosen by a stated, repeatable rule.

The steps, each one a sentence in the method note written with the result:

1. **Qualify** LSOAs by a :class:`Rule`: national decile <= k on the IMD or any domain
   (``imd-decile``); a weighted **composite** of domain gaps (default: the six Fairer
   Stockton-on-Tees gaps), in decile <= k of the composite among the LSOAs supplied; or the most
   deprived p% of LSOAs within the chosen councils (``local-percentile``). An optional extra
   condition (e.g. significant hot spots) can be required as well.
2. **Merge** qualifying LSOAs that are neighbours (:mod:`geotarget.analysis.contiguity`: queen contiguity
   with a 5 m snapping tolerance by default) into candidate areas, never across a council
   boundary. Optionally **bridge**: a non-qualifying LSOA that touches two or more separate
   candidate areas joins them (off by default); where several could, the most deprived is used
   and no more bridges are added than needed to join the groups.
3. **Constrain**: candidates under the population floor are set aside (and reported); a candidate
   over the ceiling is split into ``ceil(population / ceiling)`` contiguous parts of similar
   population (:func:`geotarget.analysis.split.split_contiguous`: no leftover fragments).
4. **Rank** within each council by deprived population (the population of the qualifying LSOAs,
   the default), by population-weighted IMD score, or by extent (MHCLG's extent measure), with
   ties broken by score, then population, then the lowest LSOA code; keep the top ``n``.
5. **Name** each area from the wards holding most of its population ("Newtown and Parkfield";
   "Mandale & Victoria; Village" when a ward's own name has "&" or "and"); areas of a council whose
   names share a ward get a locational qualifier ("Billingham East (north)").
6. **Explain** each area: members, population, IMD score and rank, domain profile against its
   council and England, and the **stability** of the choice: the share of the area's population
   still selected when the rule is varied (a neighbouring decile, population floors, bridging).

Ranks and deciles are the national ones published by MHCLG (rank 1 = most deprived), except the
composite's deciles, which are among the LSOAs supplied (national when the England file is given).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from geotarget.analysis.aggregate import extent_weight
from geotarget.analysis.contiguity import SNAP, Contiguity, contiguity
from geotarget.analysis.split import locational_qualifiers, split_contiguous
from geotarget.core import domains as D
from geotarget.core.councils import resolve_councils
from geotarget.core.errors import SchemaError
from geotarget.core.vintages import Vintage, get_vintage

log = logging.getLogger(__name__)

#: Default population ceiling per area: about a large ward, or 9-10 LSOAs -- a neighbourhood a
#: programme can work in. Bigger groups are split into contiguous parts; ``None`` for no ceiling.
MAX_POPULATION = 15_000

RULES = ("imd-decile", "composite", "local-percentile")
RANK_BY = ("deprived-population", "score", "extent")

#: The six gaps of the Fairer Stockton-on-Tees framework as IoD domains. ``access`` uses the
#: Barriers domain's Geographical Barriers sub-domain where the data has it, else the domain.
FAIRER_STOCKTON: dict[str, tuple[str, ...]] = {
    "jobs": ("income", "employment"),
    "learning": ("education",),
    "housing_environment": ("barriers", "living_env"),
    "health": ("health",),
    "crime": ("crime",),
    "access": ("geog_barriers",),
}
_FALLBACK = {"geog_barriers": "barriers", "wider_barriers": "barriers", "indoors": "living_env",
             "outdoors": "living_env", "cyp": "education", "adult_skills": "education"}
#: The indices shown in each area's profile.
PROFILE = ("imd", *(d.key for d in D.DOMAINS))


@dataclass(frozen=True)
class Rule:
    """Which LSOAs qualify. See the module docstring; :meth:`describe` says it in words."""

    kind: str = "imd-decile"
    index: str = "imd"  #: imd-decile / local-percentile: the IMD or a domain/sub-domain key
    max_decile: int = 1  #: imd-decile and composite: decile <= this qualifies
    percentile: float = 10.0  #: local-percentile: the most deprived p% within the councils
    gaps: Mapping[str, tuple[str, ...]] | None = None  #: composite: gap -> domains (default Fairer Stockton)
    weights: Mapping[str, float] | None = None  #: composite: weight per gap (default equal)

    def check(self) -> Rule:
        """Return the rule itself if it is valid.

        Raises
        ------
        SchemaError
            For an unknown kind or index, a max decile or percentile out of range, or composite gaps and
            weights that name unknown domains or gaps, are negative, or are all zero.
        """
        if self.kind not in RULES:
            raise SchemaError(f"rule {self.kind!r} is not known; expected one of {', '.join(RULES)}")
        if isinstance(self.max_decile, bool) or int(self.max_decile) != self.max_decile \
                or not 1 <= self.max_decile <= 10:
            raise SchemaError(f"max decile was {self.max_decile!r}; expected a whole number from 1 to 10 "
                              "(1 = the most deprived 10% of LSOAs in England)")
        if not (0 < float(self.percentile) <= 100):
            raise SchemaError(f"percentile was {self.percentile!r}; expected a share in (0, 100], e.g. 10 for "
                              "the most deprived 10% of LSOAs in the chosen councils")
        if self.kind != "composite" and self.index not in D.BY_KEY:
            raise SchemaError(f"index {self.index!r} is not an IoD index; expected one of "
                              f"{', '.join(D.BY_KEY)}")
        if self.kind == "composite":
            gaps = self.composite_gaps()
            for gap, keys in gaps.items():
                bad = [k for k in keys if k not in D.BY_KEY]
                if bad or not keys:
                    raise SchemaError(f"composite gap {gap!r} names {', '.join(bad) or 'no domains'}; expected "
                                      f"IoD domains among {', '.join(D.BY_KEY)}")
            for gap, w in self.composite_weights().items():
                if gap not in gaps:
                    raise SchemaError(f"weight given for {gap!r}, which is not a gap; gaps: {', '.join(gaps)}")
                if not (np.isfinite(w) and w >= 0):
                    raise SchemaError(f"weight of {gap!r} was {w!r}; expected a number >= 0")
            if sum(self.composite_weights().values()) <= 0:
                raise SchemaError("composite weights are all zero; give at least one gap a positive weight")
        return self

    def composite_gaps(self) -> dict[str, tuple[str, ...]]:
        """Return the composite's gaps (gap -> domain keys): ``gaps``, else :data:`FAIRER_STOCKTON`."""
        return dict(self.gaps or FAIRER_STOCKTON)

    def composite_weights(self) -> dict[str, float]:
        """Return the weight of each composite gap: ``weights`` where given, else 1."""
        gaps = self.composite_gaps()
        w = {g: 1.0 for g in gaps}
        w.update({g: float(v) for g, v in (self.weights or {}).items()})
        return w

    def describe(self) -> str:
        """Describe in words which LSOAs qualify under the rule."""
        if self.kind == "imd-decile":
            name = D.BY_KEY[self.index].label
            which = "decile 1" if self.max_decile == 1 else f"deciles 1-{self.max_decile}"
            return f"LSOAs in national {which} of the {name}: the most deprived {10 * self.max_decile}% in England"
        if self.kind == "local-percentile":
            return (f"the most deprived {self.percentile:g}% of LSOAs in the chosen councils on the "
                    f"{D.BY_KEY[self.index].label} (by national rank)")
        w = self.composite_weights()
        parts = ", ".join(f"{g.replace('_', ' ')} ({'+'.join(self.composite_gaps()[g])}, weight {w[g]:g})"
                          for g in self.composite_gaps())
        which = "decile 1" if self.max_decile == 1 else f"deciles 1-{self.max_decile}"
        return (f"LSOAs in {which} of a composite of domain gaps: {parts}; each domain's national rank "
                "exponentially transformed as in the IMD")

    def short(self) -> str:
        """Return a short label for the rule, e.g. ``IMD decile 1-2`` or ``most deprived 10% locally (imd)``."""
        if self.kind == "local-percentile":
            return f"most deprived {self.percentile:g}% locally ({self.index})"
        name = "composite" if self.kind == "composite" else self.index.upper() if self.index == "imd" else self.index
        return f"{name} decile {'1' if self.max_decile == 1 else f'1-{self.max_decile}'}"


@dataclass(frozen=True)
class Settings:
    """Everything besides the rule that shapes the areas."""

    min_population: float = 0
    max_population: float | None = MAX_POPULATION
    n: int | None = 3
    rank_by: str = "deprived-population"
    bridging: bool = False

    def check(self) -> Settings:
        """Return the settings themselves if they are valid.

        Raises
        ------
        SchemaError
            For a negative or non-finite floor, a non-positive ceiling or one below the floor, an ``n`` that is
            not a whole number >= 1, or an unknown ``rank_by``.
        """
        if self.min_population < 0 or not np.isfinite(self.min_population):
            raise SchemaError(f"minimum population was {self.min_population!r}; expected a number >= 0")
        if self.max_population is not None and not self.max_population > 0:
            raise SchemaError(f"maximum population was {self.max_population!r}; expected a number > 0")
        if self.max_population is not None and self.max_population < self.min_population:
            raise SchemaError(f"maximum population {self.max_population:,.0f} is below the minimum "
                              f"{self.min_population:,.0f}")
        if self.n is not None and (isinstance(self.n, bool) or int(self.n) != self.n or self.n < 1):
            raise SchemaError(f"n was {self.n!r}; expected a whole number of areas >= 1 (per council)")
        if self.rank_by not in RANK_BY:
            raise SchemaError(f"rank by {self.rank_by!r} is not known; expected one of {', '.join(RANK_BY)}")
        return self


@dataclass(frozen=True)
class Targeting:
    """The result of :func:`target_areas`."""

    areas: gpd.GeoDataFrame  #: one row per chosen area, indexed by area_id, EPSG:27700
    members: gpd.GeoDataFrame  #: one row per member LSOA (area_id, lsoa_code, qualifying, bridge, ...)
    profiles: pd.DataFrame  #: per area and index: area vs council vs England percentiles
    sensitivity: pd.DataFrame  #: per area and alternative rule: share of population still selected
    set_aside: pd.DataFrame  #: candidate areas not chosen, with the reason
    rule: Rule
    settings: Settings
    vintage: Vintage
    councils: pd.Series  #: lad_code -> lad_name of the study
    contiguity_note: str
    notes: list[str] = field(default_factory=list)
    qualifying: int = 0  #: number of qualifying LSOAs in the study


# ---------------------------------------------------------------------------------------------
# Qualification


def _exp_transform(rank: np.ndarray, n: int) -> np.ndarray:
    """Apply the IMD's exponential transformation to national ranks (1 = most deprived) to 0-100."""
    r = (n + 1 - np.asarray(rank, float)) / n  # 1 for the most deprived, 1/N for the least
    return -23 * np.log(1 - r * (1 - np.exp(-100 / 23)))


def composite_score(lsoas: pd.DataFrame, rule: Rule, n_national: int) -> tuple[pd.Series, list[str]]:
    """Return the composite of domain gaps for each LSOA (0-100, higher = more deprived) and notes."""
    notes = []
    gaps = rule.composite_gaps()
    weights = rule.composite_weights()
    total = pd.Series(0.0, index=lsoas.index)
    for gap, keys in gaps.items():
        parts = []
        for k in keys:
            col = f"{k}_rank"
            if col not in lsoas.columns and k in _FALLBACK and f"{_FALLBACK[k]}_rank" in lsoas.columns:
                notes.append(f"{gap.replace('_', ' ')}: no {D.BY_KEY[k].label} in the data; "
                             f"used the {D.BY_KEY[_FALLBACK[k]].label} domain")
                col = f"{_FALLBACK[k]}_rank"
            if col not in lsoas.columns:
                raise SchemaError(f"the composite needs {col} (national ranks of {D.BY_KEY[k].label}) for the "
                                  f"{gap!r} gap; the data has no such column")
            parts.append(_exp_transform(pd.to_numeric(lsoas[col]).to_numpy(), n_national))
        total += weights[gap] * np.mean(parts, axis=0)
    return total / sum(weights.values()), notes


def _decile_of_composite(score: pd.Series) -> pd.Series:
    order = (-score).rank(method="first")  # 1 = highest composite; ties in index order
    return np.ceil(10 * order / len(score)).astype(int)


def qualify(lsoas: pd.DataFrame, study: pd.Index, rule: Rule, n_national: int,
            also: pd.Series | None = None) -> tuple[pd.Series, pd.Series, list[str]]:
    """(qualifying mask over the study LSOAs, deprivation order (lower = more deprived), notes)."""
    notes: list[str] = []
    if rule.kind == "composite":
        score, notes = composite_score(lsoas, rule, n_national)
        decile = _decile_of_composite(score)
        mask = decile.loc[study] <= rule.max_decile
        order = (-score).rank(method="first").loc[study]
        scope = "England" if len(lsoas) == n_national else f"the {len(lsoas):,} LSOAs supplied"
        notes.append(f"Composite deciles are among {scope}.")
    else:
        col = f"{rule.index}_rank"
        if col not in lsoas.columns:
            raise SchemaError(f"the data has no {col} column (national ranks of the "
                              f"{D.BY_KEY[rule.index].label})")
        rank = pd.to_numeric(lsoas.loc[study, col])
        order = rank.rank(method="first")
        if rule.kind == "imd-decile":
            dcol = f"{rule.index}_decile"
            decile = pd.to_numeric(lsoas.loc[study, dcol]) if dcol in lsoas.columns \
                else np.ceil(10 * rank / n_national)
            mask = decile <= rule.max_decile
        else:
            cut = math.ceil(rule.percentile / 100 * len(study) - 1e-9)
            mask = order <= cut
    if also is not None:
        extra = also.reindex(study).fillna(False).astype(bool)
        notes.append(f"Also required: {also.name or 'an extra condition'} ({int(extra.sum()):,} study LSOAs).")
        mask = mask & extra
    return mask.astype(bool), order.astype(float), notes


def _nearest_threshold(lsoas: pd.DataFrame, study: pd.Index, rule: Rule, n_national: int, also) -> str:
    if rule.kind == "local-percentile":
        return "no LSOA qualifies under the extra condition" if also is not None else ""
    for k in range(rule.max_decile + 1, 11):
        m, _, _ = qualify(lsoas, study, replace(rule, max_decile=k), n_national, also)
        if m.any():
            return f"setting `max_decile` to {k} would select {int(m.sum()):,} LSOA(s)"
    return "no decile up to 10 selects any LSOA" + (" under the extra condition" if also is not None else "")


# ---------------------------------------------------------------------------------------------
# Grouping


def _groups(adj: sparse.csr_matrix, chosen: np.ndarray) -> np.ndarray:
    """Component label per position for the chosen positions (-1 elsewhere)."""
    idx = np.flatnonzero(chosen)
    labels = np.full(adj.shape[0], -1)
    if len(idx):
        _, lab = connected_components(adj[idx][:, idx], directed=False)
        labels[idx] = lab
    return labels


def _bridges(adj: sparse.csr_matrix, qualifying: np.ndarray, labels: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Return the non-qualifying positions that join two or more separate qualifying groups, fewest needed.

    Candidates are taken most deprived first, and one is added only if it connects groups that
    are not yet connected (so two groups are joined by one bridge, not by every LSOA between them).
    """
    coo = adj.tocoo()
    touch = pd.DataFrame({"lsoa": coo.row, "group": labels[coo.col]})
    touch = touch[(~qualifying[touch["lsoa"].to_numpy()]) & (touch["group"] >= 0)].drop_duplicates()
    groups_of = touch.groupby("lsoa")["group"].apply(lambda s: sorted(set(s)))
    groups_of = groups_of[groups_of.map(len) >= 2]
    parent = {}

    def find(g):
        while parent.get(g, g) != g:
            g = parent[g]
        return g

    out = np.zeros(len(qualifying), bool)
    for lsoa in sorted(groups_of.index, key=lambda i: (order[i], i)):
        roots = sorted({find(g) for g in groups_of[lsoa]})
        if len(roots) >= 2:
            out[lsoa] = True
            for r in roots[1:]:
                parent[r] = roots[0]
    return out


def _merge_small(parts: list[list[int]], adj: sparse.csr_matrix, pop: np.ndarray, floor: float,
                 ceiling: float) -> list[list[int]]:
    """Join parts under the floor to the smallest adjacent part they fit with (under the ceiling)."""
    parts = [list(p) for p in parts]
    changed = True
    while changed:
        changed = False
        where = {i: k for k, p in enumerate(parts) for i in p}
        for k, p in enumerate(parts):
            if not p or pop[p].sum() >= floor:
                continue
            near = {where[j] for i in p for j in adj.indices[adj.indptr[i]:adj.indptr[i + 1]]
                    if j in where and where[j] != k and parts[where[j]]}
            fits = sorted((pop[parts[q]].sum(), q) for q in near if pop[parts[q]].sum() + pop[p].sum() <= ceiling)
            if fits:
                q = fits[0][1]
                parts[q] = sorted(parts[q] + p)
                parts[k] = []
                changed = True
                break
    return [p for p in parts if p]


@dataclass
class _Study:
    """What every alternative rule shares: the study LSOAs, adjacency, populations."""

    lsoas: pd.DataFrame  #: study LSOAs (positions = adjacency order)
    adj: sparse.csr_matrix  #: within-council adjacency
    pop: np.ndarray
    lad: np.ndarray
    xy: np.ndarray  #: LSOA centroids (x, y), metres
    splits: dict = field(default_factory=dict)  #: (members, ceiling) -> parts: the alternative rules share groups


def _candidates(study: _Study, mask: pd.Series, order: pd.Series, s: Settings):
    """Candidate areas: list of (lad, members positions, qualifying positions) + set-aside rows."""
    q = mask.reindex(study.lsoas.index).to_numpy(bool)
    ordv = order.reindex(study.lsoas.index).to_numpy(float)
    labels = _groups(study.adj, q)
    bridge = np.zeros(len(q), bool)
    if s.bridging:
        bridge = _bridges(study.adj, q, labels, ordv)
        labels = _groups(study.adj, q | bridge)
        # a bridge only counts if it ended up joining qualifying LSOAs (always true by construction)
    cands, aside, groups = [], [], []
    for g in np.unique(labels[labels >= 0]):
        members = np.flatnonzero(labels == g)
        total = study.pop[members].sum()
        parts = [members.tolist()]
        if s.max_population is not None and total > s.max_population:
            key = (members.tobytes(), s.max_population)
            if key not in study.splits:
                study.splits[key] = split_contiguous(study.adj[members][:, members], study.pop[members],
                                                     study.xy[members], s.max_population)
            local = study.splits[key]
            parts = _merge_small([members[p].tolist() for p in local], study.adj, study.pop, s.min_population,
                                 s.max_population)
        kept = []
        for p in parts:
            p = np.array(sorted(p))
            # a part left with only bridges is not an area
            if not q[p].any():
                continue
            ptotal = study.pop[p].sum()
            if ptotal < s.min_population:
                aside.append((p, f"population {ptotal:,.0f} below the floor of {s.min_population:,.0f}"))
                continue
            if s.max_population is not None and ptotal > s.max_population:
                log.warning("an LSOA alone exceeds the population ceiling (%s, %.0f)",
                            study.lsoas.index[p[0]], ptotal)
            kept.append(p)
        # parts of one split group: (group members, number of parts) -- named together, told apart by place
        group = (members, len(kept)) if len(kept) > 1 else (kept[0], 1) if kept else None
        cands += kept
        groups += [group] * len(kept)
    return cands, aside, q, bridge, groups


def _metrics(study: _Study, cands: list[np.ndarray], q: np.ndarray, n_national: int, groups: list) -> pd.DataFrame:
    lsoas = study.lsoas
    pop = study.pop
    score = pd.to_numeric(lsoas["imd_score"], errors="coerce").to_numpy(float) if "imd_score" in lsoas \
        else np.full(len(lsoas), np.nan)
    rank = pd.to_numeric(lsoas["imd_rank"]).to_numpy(float)
    w_ext = extent_weight(np.ceil(100 * rank / n_national))
    codes = lsoas.index.to_numpy(dtype=object)  # min() of a slice of these = Index.min(), without its overhead
    rows = []
    for k, p in enumerate(cands):
        pp = pop[p]
        tot = pp.sum()
        rows.append({
            "cand": k,
            "lad_code": study.lad[p[0]],
            "population": tot,
            "deprived_population": pp[q[p]].sum(),
            "n_lsoas": len(p),
            "imd_average_score": float(np.sum(pp * score[p]) / tot) if tot else np.nan,
            "imd_average_national_rank": float(np.sum(pp * rank[p]) / tot) if tot else np.nan,
            "extent": float(np.sum(pp * w_ext[p]) / tot) if tot else np.nan,
            "first_code": min(codes[p]),
            "group_id": min(codes[groups[k][0]]),
            "group_population": pop[groups[k][0]].sum(),
            "group_parts": groups[k][1],
        })
    return pd.DataFrame(rows, columns=["cand", "lad_code", "population", "deprived_population", "n_lsoas",
                                       "imd_average_score", "imd_average_national_rank", "extent", "first_code",
                                       "group_id", "group_population", "group_parts"])


def _rank(m: pd.DataFrame, s: Settings) -> pd.DataFrame:
    key = {"deprived-population": "deprived_population", "score": "imd_average_score", "extent": "extent"}[s.rank_by]
    m = m.assign(_k=m[key].fillna(-np.inf), _s=m["imd_average_score"].fillna(-np.inf),
                 _r=-m["imd_average_national_rank"])
    m = m.sort_values(["lad_code", "_k", "_s", "_r", "population", "first_code"],
                      ascending=[True, False, False, False, False, True], kind="mergesort")
    m["rank"] = m.groupby("lad_code").cumcount() + 1
    return m.drop(columns=["_k", "_s", "_r"])


def _select(study: _Study, lsoas_all: pd.DataFrame, rule: Rule, s: Settings, n_national: int, also):
    mask, order, notes = qualify(lsoas_all, study.lsoas.index, rule, n_national, also)
    cands, aside, q, bridge, groups = _candidates(study, mask, order, s)
    m = _rank(_metrics(study, cands, q, n_national, groups), s)
    chosen = m if s.n is None else m[m["rank"] <= s.n]
    return chosen, m, cands, aside, q, bridge, notes, groups


# ---------------------------------------------------------------------------------------------
# Naming and profiles


_OWN_JOINER = re.compile(r"&|,|;|\band\b", re.IGNORECASE)


def join_ward_names(names: Sequence[str]) -> str:
    """Join ward names so that each reads whole.

    "A, B and C" when no name has a joining word of its own; "A; B; C" when one has "&", "and", a comma
    or a semicolon, so that "Mandale & Victoria" and "Village" read as two wards, not three.

    >>> join_ward_names(["Stockton Town Centre", "Ropner", "Newtown"])
    'Stockton Town Centre, Ropner and Newtown'
    >>> join_ward_names(["Mandale & Victoria", "Village"])
    'Mandale & Victoria; Village'
    """
    names = [str(n) for n in names]
    if len(names) <= 1:
        return names[0] if names else ""
    if any(_OWN_JOINER.search(n) for n in names):
        return "; ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _ward_list(members: pd.DataFrame) -> list[str]:
    """Return the wards an area is named after, largest first.

    The largest, then the next largest until the names cover 60% of the area's population, and any ward
    with a quarter of it (at most 3 names); wards under 10% are not named.
    """
    col = "ward_name" if "ward_name" in members.columns and members["ward_name"].notna().any() else None
    if col is None:
        col = "msoa_name" if "msoa_name" in members.columns and members["msoa_name"].notna().any() else None
    if col is None:
        return [str(min(members.index))]
    keys, pops = _ward_totals(members[col], members["pop_total"])
    share = pops / pops.sum()
    before = np.concatenate([[0.0], np.cumsum(share)[:-1]])  # share covered by the larger wards
    take = ((before < 0.6) & ((share >= 0.10) | (before == 0))) | (share >= 0.25)
    return [str(k) for k, t in zip(keys, take, strict=True) if t][:3]


def _names(study: _Study, ranked: pd.DataFrame, cands: list[np.ndarray]) -> dict[int, str]:
    """Name every candidate area of each council (``cand`` -> name), so that councillors can tell them apart.

    An area is named after its own wards (:func:`join_ward_names`). Areas of one council whose names share a
    ward (often the parts of a split group) are told apart by a locational qualifier, "(north)", from their
    population-weighted centres relative to each other
    (:func:`geotarget.analysis.split.locational_qualifiers`). Names are given over all the candidates of a
    council, so an area's name does not depend on how many areas are kept.
    """
    naming = pd.DataFrame(study.lsoas[[c for c in ("ward_name", "msoa_name", "pop_total") if c in study.lsoas]])
    base = {k: _ward_list(naming.iloc[cands[k]]) for k in ranked["cand"].astype(int)}
    names: dict[int, str] = {}
    for _, sub in ranked.groupby("lad_code", sort=True):
        for comp in _sharing(sorted(sub["cand"].astype(int)), base):
            if len(comp) == 1:
                names[comp[0]] = join_ward_names(base[comp[0]])
                continue
            pts = np.array([np.average(study.xy[cands[k]], axis=0, weights=np.maximum(study.pop[cands[k]], 1e-9))
                            for k in comp])
            for k, q in zip(comp, locational_qualifiers(pts), strict=True):
                names[k] = f"{join_ward_names(base[k])} ({q})"
    return names


def _sharing(ks: list[int], words: dict[int, list[str]]) -> list[list[int]]:
    """Group ``ks`` into sets linked, directly or through others, by a shared entry of ``words``."""
    parent = {k: k for k in ks}

    def find(k: int) -> int:
        while parent[k] != k:
            k = parent[k]
        return k

    first: dict[str, int] = {}
    for k in ks:
        for w in words[k]:
            if w in first:
                parent[find(k)] = find(first[w])
            else:
                first[w] = k
    comps: dict[int, list[int]] = {}
    for k in ks:
        comps.setdefault(find(k), []).append(k)
    return list(comps.values())


def _ward_totals(names: pd.Series, pop: pd.Series) -> tuple[list, np.ndarray]:
    """Return the names and their populations (missing names dropped), largest first, ties by name.

    As pandas' groupby-sum then sort. Populations are counts (whole numbers), whose sums are exact in
    any order: then a plain loop gives the same totals as pandas without its per-call overhead (this
    runs once per action area). Anything else goes through pandas.
    """
    values = pop.to_numpy(float)
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)) and np.abs(values).sum() < 2.0 ** 53:
        totals: dict = {}
        for k, v in zip(names.tolist(), values.tolist(), strict=True):
            if k is None or (isinstance(k, float) and np.isnan(k)):
                continue  # groupby drops missing keys
            totals[k] = totals.get(k, 0.0) + v
        if all(isinstance(k, str) for k in totals):
            ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
            return [k for k, _ in ranked], np.array([v for _, v in ranked], dtype=float)
    col = names.name if names.name is not None else "name"
    frame = pd.DataFrame({col: names.to_numpy(), "pop_total": pop.to_numpy()})
    by = frame.groupby(col, sort=False)["pop_total"].sum().reset_index()
    by = by.sort_values(["pop_total", col], ascending=[False, True], kind="mergesort")
    return by[col].tolist(), by["pop_total"].to_numpy(float)


class _PercentileArrays:
    """Population-weighted mean national percentile rank and share of population in national decile 1.

    For one index, over any subset of ``frame``'s rows (:meth:`at`); percentile 0 = most deprived.
    The percentile ranks and decile-1 flags are computed once as arrays, so each area and council costs
    a few array reductions, not a frame copy and a dozen pandas operations.
    """

    def __init__(self, frame: pd.DataFrame, keys, n_national: int):
        self.pop = frame["pop_total"].astype(float).to_numpy()
        self.by_key: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key in keys:
            if f"{key}_rank" not in frame.columns:
                continue
            rank = pd.to_numeric(frame[f"{key}_rank"], errors="coerce").to_numpy(float)
            dec = pd.to_numeric(frame[f"{key}_decile"], errors="coerce").to_numpy(float) if f"{key}_decile" in frame \
                else np.ceil(10 * rank / n_national)
            self.by_key[key] = (100 * rank / n_national, dec == 1)

    def at(self, key: str, pos: np.ndarray) -> tuple[float, float]:
        if key not in self.by_key:
            return np.nan, np.nan
        pct, d1 = self.by_key[key]
        pct = pct[pos]
        if np.isnan(pct).all():
            return np.nan, np.nan
        pop = self.pop[pos]
        return float(np.nansum(pop * pct) / pop.sum()), float(100 * pop[d1[pos]].sum() / pop.sum())


# ---------------------------------------------------------------------------------------------
# Public API


def alternatives(rule: Rule, settings: Settings) -> list[tuple[str, Rule, Settings]]:
    """Return the variations used for the stability score.

    These are the neighbouring thresholds, population floors, bridging switched, and (for a composite or
    local rule) the plain IMD decile rule, each as ``(label, rule, settings)``.
    """
    alts: list[tuple[str, Rule, Settings]] = []
    if rule.kind in ("imd-decile", "composite"):
        if rule.max_decile > 1:
            alts.append((f"decile 1-{rule.max_decile - 1}" if rule.max_decile > 2 else "decile 1",
                         replace(rule, max_decile=rule.max_decile - 1), settings))
        if rule.max_decile < 10:
            alts.append((f"decile 1-{rule.max_decile + 1}", replace(rule, max_decile=rule.max_decile + 1), settings))
    else:
        alts.append((f"{rule.percentile / 2:g}% locally", replace(rule, percentile=rule.percentile / 2), settings))
        if rule.percentile * 2 <= 100:
            alts.append((f"{rule.percentile * 2:g}% locally", replace(rule, percentile=rule.percentile * 2), settings))
    if rule.kind != "imd-decile" or rule.index != "imd":
        alts.append(("IMD decile 1-2", Rule("imd-decile", "imd", 2), settings))
    if settings.min_population > 0:
        alts.append(("no population floor", rule, replace(settings, min_population=0)))
        floor2 = 2 * settings.min_population
        if settings.max_population is None or floor2 <= settings.max_population:
            alts.append((f"floor {floor2:,.0f}", rule, replace(settings, min_population=floor2)))
    else:
        floor = 5000 if settings.max_population is None else min(5000, settings.max_population)
        alts.append((f"floor {floor:,.0f}", rule, replace(settings, min_population=floor)))
    alts.append(("with bridging" if not settings.bridging else "without bridging", rule,
                 replace(settings, bridging=not settings.bridging)))
    return alts


_AREA_COLUMNS = ["area_id", "rank", "name", "la_code", "la_name", "population", "deprived_population", "n_lsoas",
                 "imd_average_score", "imd_average_national_rank", "extent", "stability", "lsoa_codes"]


def _check_lsoas(lsoas) -> None:
    """Check that ``lsoas`` is a GeoDataFrame with national IMD ranks, valid populations and councils.

    Raises
    ------
    SchemaError
        If it is not a GeoDataFrame, lacks ``pop_total``, ``lad_code`` or ``imd_rank``, or has a missing or
        negative population.
    """
    if not isinstance(lsoas, gpd.GeoDataFrame):
        raise SchemaError("targeting needs LSOA boundaries: pass a GeoDataFrame (IoD joined to boundaries)")
    for col in ("pop_total", "lad_code", "imd_rank"):
        if col not in lsoas.columns:
            raise SchemaError(f"the LSOA data has no {col} column; targeting needs national IMD ranks, "
                              "population (pop_total) and the council of each LSOA (lad_code)")
    bad = lsoas["pop_total"].isna() | (pd.to_numeric(lsoas["pop_total"], errors="coerce") < 0)
    if bad.any():
        raise SchemaError(f"{int(bad.sum()):,} LSOA(s) have no valid population, e.g. "
                          f"{', '.join(map(str, lsoas.index[bad][:5]))}")


def _study_of(study_lsoas: gpd.GeoDataFrame, snap: float, point_contacts: bool) -> tuple[_Study, Contiguity, int]:
    """Build the :class:`_Study` (adjacency within councils only) and its contiguity.

    Returns the study, the contiguity and the number of neighbour pairs that cross a council boundary.
    """
    con: Contiguity = contiguity(study_lsoas, snap=snap, point_contacts=point_contacts)
    lad = study_lsoas["lad_code"].to_numpy()
    same = lad[con.focal] == lad[con.neighbour]
    n_cross = int((~same).sum() // 2)
    adj = sparse.csr_matrix((np.ones(int(same.sum()), np.int8), (con.focal[same], con.neighbour[same])),
                            shape=(con.n, con.n))
    cent = shapely.centroid(study_lsoas.geometry.values)
    xy = np.c_[shapely.get_x(cent), shapely.get_y(cent)]
    return _Study(study_lsoas, adj, study_lsoas["pop_total"].astype(float).to_numpy(), lad, xy), con, n_cross


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count:,} {singular if count == 1 else plural}"


def _contiguity_words(con: Contiguity) -> str:
    """Say what the neighbour search found, in a committee paper's words (neighbourhoods, never "areas")."""
    parts = [f"{_plural(con.n, 'neighbourhood (LSOA)', 'neighbourhoods (LSOAs)')} with "
             f"{_plural(len(con.focal) // 2, 'pair', 'pairs')} of neighbours "
             f"({'queen' if con.point_contacts else 'rook'} contiguity, boundaries within {con.snap:g} m touching)"]
    if len(con.gaps):
        parts.append(f"{_plural(len(con.gaps), 'pair', 'pairs')} joined across gaps of up to "
                     f"{con.gaps['gap_m'].max():.1f} m")
    if len(con.overlaps):
        parts.append(f"{_plural(len(con.overlaps), 'overlapping pair', 'overlapping pairs')} (largest "
                     f"{con.overlaps['overlap_m2'].max():,.0f} m²)")
    if con.islands:
        parts.append(f"{_plural(len(con.islands), 'neighbourhood', 'neighbourhoods')} with no neighbour")
    return "; ".join(parts) + "."


def _contiguity_note(con: Contiguity, n_cross: int, q: np.ndarray, study_lsoas: pd.DataFrame, snap: float,
                     notes: list[str]) -> str:
    """Return the contiguity report; add notes on qualifying islands and boundary faults to ``notes``."""
    con_note = _contiguity_words(con)
    if n_cross:
        con_note += f" {n_cross:,} neighbour pairs cross a council boundary and are not merged across it."
    isl = [c for c in con.islands if q[study_lsoas.index.get_loc(c)]]
    if isl:
        notes.append(f"{_plural(len(isl), 'qualifying LSOA has', 'qualifying LSOAs have')} no neighbour within "
                     f"{snap:g} m and stand{'s' if len(isl) == 1 else ''} alone: " + ", ".join(isl[:10]))
    if len(con.overlaps) or len(con.gaps):
        notes.append(f"Boundary faults: {_plural(len(con.gaps), 'gap', 'gaps')} bridged by snapping, "
                     f"{_plural(len(con.overlaps), 'overlap', 'overlaps')}; adjacency uses the snapped boundaries.")
    return con_note


def _area_frames(study: _Study, chosen: pd.DataFrame, ranked: pd.DataFrame, cands: list[np.ndarray],
                 q: np.ndarray, bridge: np.ndarray, names: pd.Series, area_names: dict[int, str],
                 snap: float) -> tuple[list[dict], gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Turn the chosen candidates into area rows (with member positions ``_pos``), areas and members.

    Returns the area rows, the areas (named by ``area_names``, not yet indexed) and the member LSOAs.
    """
    study_lsoas = study.lsoas
    codes_idx = study_lsoas.index
    area_rows, member_rows = [], []
    for _, r in chosen.iterrows():
        p = cands[int(r["cand"])]
        area_id = f"{r['lad_code']}-{int(r['rank']):02d}"
        area_rows.append({"area_id": area_id, **{k: r[k] for k in ranked.columns if k not in ("cand", "first_code")},
                          "name": area_names[int(r["cand"])], "la_name": names.get(r["lad_code"], r["lad_code"]),
                          "lsoa_codes": ";".join(codes_idx[p]), "_pos": p})
        for i in p:
            member_rows.append({"area_id": area_id, "lsoa_code": codes_idx[i], "qualifying": bool(q[i]),
                                "bridge": bool(bridge[i])})
    if area_rows:
        geoms = [_dissolve(study_lsoas.geometry.values[a["_pos"]], snap) for a in area_rows]
        areas = gpd.GeoDataFrame(pd.DataFrame(area_rows).drop(columns="_pos").rename(columns={"lad_code": "la_code"}),
                                 geometry=geoms, crs=study_lsoas.crs)
    else:
        areas = gpd.GeoDataFrame(columns=[*_AREA_COLUMNS, "geometry"], geometry="geometry", crs=study_lsoas.crs)
    members = pd.DataFrame(member_rows, columns=["area_id", "lsoa_code", "qualifying", "bridge"])
    keep_cols = [c for c in ("lsoa_name", "ward_name", "lad_code", "pop_total", "imd_score", "imd_rank",
                             "imd_decile") if c in study_lsoas.columns]
    members = gpd.GeoDataFrame(members.join(study_lsoas[keep_cols], on="lsoa_code"),
                               geometry=study_lsoas.geometry.reindex(members["lsoa_code"]).values,
                               crs=study_lsoas.crs)
    return area_rows, areas, members


def _set_aside(study: _Study, ranked: pd.DataFrame, cands: list[np.ndarray], aside: list, q: np.ndarray,
               settings: Settings) -> pd.DataFrame:
    """Return the candidate areas not chosen: ranked beyond ``n`` in their council, or under the floor."""
    codes_idx = study.lsoas.index
    aside_rows = []
    beyond = ranked.iloc[:0] if settings.n is None else ranked[ranked["rank"] > settings.n]
    for _, r in beyond.iterrows():
        p = cands[int(r["cand"])]
        aside_rows.append({"la_code": r["lad_code"], "lsoa_codes": ";".join(codes_idx[p]),
                           "population": r["population"], "deprived_population": r["deprived_population"],
                           "reason": f"ranked {int(r['rank'])} in its council; only the top {settings.n} kept"})
    for p, why in aside:
        aside_rows.append({"la_code": study.lad[p[0]], "lsoa_codes": ";".join(codes_idx[p]),
                           "population": study.pop[p].sum(), "deprived_population": study.pop[p][q[p]].sum(),
                           "reason": why})
    return pd.DataFrame(aside_rows, columns=["la_code", "lsoa_codes", "population", "deprived_population", "reason"])


def _profiles(study: _Study, area_rows: list[dict], n_national: int) -> pd.DataFrame:
    """Return each area's profile per index in :data:`PROFILE`: area vs council vs England percentiles."""
    prof_rows = []
    pct_arrays = _PercentileArrays(study.lsoas, PROFILE, n_national)
    council_pos: dict[str, np.ndarray] = {}
    for a in area_rows:
        if a["lad_code"] not in council_pos:
            council_pos[a["lad_code"]] = np.flatnonzero(study.lad == a["lad_code"])
        for key in PROFILE:
            ap, ad = pct_arrays.at(key, a["_pos"])
            cp, cd = pct_arrays.at(key, council_pos[a["lad_code"]])
            if np.isnan(ap):
                continue
            prof_rows.append({"area_id": a["area_id"], "index": key, "label": D.BY_KEY[key].label,
                              "area_avg_percentile": ap, "council_avg_percentile": cp, "england_avg_percentile": 50.0,
                              "area_pct_pop_decile1": ad, "council_pct_pop_decile1": cd})
    return pd.DataFrame(prof_rows, columns=["area_id", "index", "label", "area_avg_percentile",
                                            "council_avg_percentile", "england_avg_percentile",
                                            "area_pct_pop_decile1", "council_pct_pop_decile1"])


def _sensitivity(study: _Study, lsoas: pd.DataFrame, area_rows: list[dict], rule: Rule, settings: Settings,
                 n_national: int, also) -> pd.DataFrame:
    """Return, per area and :func:`alternatives` variation, the share of its population still selected."""
    sens_rows = []
    pos_of = {a["area_id"]: a["_pos"] for a in area_rows}
    for label, alt_rule, alt_settings in alternatives(rule, settings):
        try:
            alt_chosen, _, alt_cands, *_ = _select(study, lsoas, alt_rule, alt_settings, n_national, also)
        except SchemaError:
            alt_chosen, alt_cands = pd.DataFrame(columns=["cand"]), []
        selected = np.zeros(len(study.lsoas), bool)
        for c in alt_chosen["cand"]:
            selected[alt_cands[int(c)]] = True
        for area_id, p in pos_of.items():
            pp = study.pop[p]
            sens_rows.append({"area_id": area_id, "alternative": label,
                              "share_selected": float(pp[selected[p]].sum() / pp.sum())})
    return pd.DataFrame(sens_rows, columns=["area_id", "alternative", "share_selected"])


def target_areas(
    lsoas: gpd.GeoDataFrame,
    *,
    councils: Sequence[str] | None = None,
    rule: Rule | None = None,
    min_population: float = 0,
    max_population: float | None = MAX_POPULATION,
    n: int | None = 3,
    rank_by: str = "deprived-population",
    bridging: bool = False,
    snap: float = SNAP,
    point_contacts: bool = True,
    also: pd.Series | None = None,
    sensitivity: bool = True,
    vintage: Vintage | int | None = None,
) -> Targeting:
    """Choose, merge, rank, name and explain targeted action areas for each council.

    ``lsoas`` is a GeoDataFrame of LSOAs (EPSG:27700, indexed by ``lsoa_code``) with the IoD
    columns, ``pop_total``, ``lad_code``/``lad_name`` and, for names, ``ward_name``: the
    bundled sample, or an England-wide file joined to boundaries. ``councils`` (codes or names)
    chooses the study; the areas never cross a council boundary and ``n`` is per council.
    ``also`` is an optional boolean Series by LSOA code (e.g. significant hot spots) that a
    qualifying LSOA must also satisfy.
    """
    rule = (rule or Rule()).check()
    settings = Settings(min_population, max_population, n, rank_by, bridging).check()
    _check_lsoas(lsoas)
    if vintage is None:
        raise SchemaError("vintage was not given: pass vintage=2019 or 2025 (the IoD release fixes N, the number of "
                          "LSOAs nationally; read_imd returns it beside the frame, geotarget.load as data.vintage)")
    v = get_vintage(vintage)
    n_national = v.n_lsoas
    names = lsoas.groupby("lad_code")["lad_name"].first() if "lad_name" in lsoas.columns \
        else pd.Series(lsoas["lad_code"].unique(), index=lsoas["lad_code"].unique())
    codes = resolve_councils(councils, names) if councils else sorted(names.index)
    study_lsoas = lsoas[lsoas["lad_code"].isin(codes)]
    study_lsoas = study_lsoas.sort_index()
    if study_lsoas.crs is None or not study_lsoas.crs.is_projected:
        raise SchemaError(f"LSOA boundaries must be in a projected CRS in metres (EPSG:27700); got {study_lsoas.crs}")

    study, con, n_cross = _study_of(study_lsoas, snap, point_contacts)

    chosen, ranked, cands, aside, q, bridge, notes, groups = _select(study, lsoas, rule, settings, n_national, also)
    if not q.any():
        hint = _nearest_threshold(lsoas, study_lsoas.index, rule, n_national, also)
        where = ", ".join(names.get(c, c) for c in codes)
        raise SchemaError(f"no LSOA in {where} qualifies under the rule: {rule.describe()}"
                          + (f"; {hint}" if hint else "")).naming("max_decile")
    con_note = _contiguity_note(con, n_cross, q, study_lsoas, snap, notes)

    area_names = _names(study, ranked, cands)
    area_rows, areas, members = _area_frames(study, chosen, ranked, cands, q, bridge, names, area_names, snap)
    set_aside = _set_aside(study, ranked, cands, aside, q, settings)

    # profiles: area vs council vs England
    profiles = _profiles(study, area_rows, n_national)
    for key in PROFILE:
        sub = profiles[profiles["index"] == key].set_index("area_id")["area_avg_percentile"]
        if len(sub) and len(areas):
            areas[f"{key}_avg_percentile"] = areas["area_id"].map(sub)

    if sensitivity and area_rows:
        sens = _sensitivity(study, lsoas, area_rows, rule, settings, n_national, also)
    else:
        sens = pd.DataFrame([], columns=["area_id", "alternative", "share_selected"])
    if len(areas):
        areas["stability"] = areas["area_id"].map(sens.groupby("area_id")["share_selected"].mean()) \
            if len(sens) else np.nan
        cols = _AREA_COLUMNS
        areas = areas[[*cols, *(c for c in areas.columns if c not in cols and c != "geometry"), "geometry"]]
    areas = areas.set_index("area_id")
    log.info("%d action area(s) in %d council(s) from %d qualifying LSOAs", len(areas), len(codes), int(q.sum()))
    return Targeting(areas, members, profiles, sens, set_aside, rule, settings, v,
                     names[names.index.isin(codes)].sort_index(), con_note, notes, int(q.sum()))


def _dissolve(geoms: np.ndarray, snap: float):
    """One outline per area; snapping gaps between members closed by a buffer out and in."""
    if snap > 0:
        return shapely.buffer(shapely.union_all(shapely.buffer(geoms, snap / 2, join_style="mitre")),
                              -snap / 2, join_style="mitre")
    return shapely.union_all(geoms)


__all__ = ["FAIRER_STOCKTON", "MAX_POPULATION", "RANK_BY", "RULES", "Rule", "Settings", "Targeting", "alternatives",
           "composite_score", "join_ward_names", "qualify", "target_areas"]
