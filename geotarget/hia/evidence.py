"""What a screening is made of: the rules behind its flags, its evidence record, and a shared vocabulary.

The vocabulary (buffers, walking bands, IoD indicators, national deciles) is shared by the screening,
its topics and reports.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from geotarget.core.domains import BY_KEY, DOMAINS, IMD
from geotarget.core.errors import SchemaError
from geotarget.core.vintages import Vintage
from geotarget.io.sites import Site

#: Default buffers (metres): a 10-minute walk and 2 km.
DEFAULT_BUFFERS = (800.0, 2000.0)


#: Walking-distance bands (metres): 5-, 10- and 20-minute walks.
WALK_BANDS = (400.0, 800.0, 1600.0)


#: Asset categories every report covers (others are added when the data has them).
ACCESS_CATEGORIES = ("gp", "pharmacy", "school", "library", "park")


#: Buffers larger than this are not a screening catchment.
MAX_BUFFER_M = 10_000.0


#: IoD File 8 indicators: key -> (label, higher is worse, decimals, HUDU topic key).
INDICATORS: dict[str, tuple[str, bool, int, str]] = {
    "years_of_potential_life_lost_indicator": ("Years of potential life lost (premature death)", True, 1, "health"),
    "comparative_illness_and_disability_ratio_indicator": (
        "Comparative illness and disability ratio (work-limiting illness)", True, 1, "health"),
    "acute_morbidity_indicator": ("Acute morbidity (emergency hospital admissions)", True, 1, "health"),
    "mental_health_indicator": ("Mental health indicator", True, 2, "health"),
    "mood_and_anxiety_disorders_indicator": ("Mood and anxiety disorders", True, 2, "health"),
    "patient_to_gp_ratio": ("Patients per GP (full-time equivalent)", True, 0, "access_health"),
    "road_distance_to_a_gp_surgery_indicator_km": ("Road distance to a GP surgery (km)", True, 2, "access_health"),
    "road_distance_to_a_primary_school_indicator_km": ("Road distance to a primary school (km)", True, 2,
                                                       "access_health"),
    "household_overcrowding_indicator_bedrooms": ("Overcrowded households (bedrooms; share)", True, 3, "housing"),
    "household_overcrowding_indicator": ("Overcrowded households (share)", True, 3, "housing"),
    "homelessness_indicator_rate_per_1_000_households": ("Homelessness per 1,000 households", True, 2, "housing"),
    "homelessness_indicator_rate_per_1000_households": ("Homelessness per 1,000 households", True, 2, "housing"),
    "housing_affordability_indicator": ("Housing affordability (higher = less affordable)", True, 2, "housing"),
    "housing_in_poor_condition_indicator": ("Housing in poor condition (share)", True, 3, "housing"),
    "houses_without_central_heating_indicator": ("Houses without central heating (share)", True, 3, "housing"),
    "air_quality_indicator": ("Air quality (NO2, benzene, SO2, particulates)", True, 2, "air_quality"),
    "connectivity_score": ("Connectivity to services by public transport and walking (higher = better)", False, 1,
                           "active_travel"),
    "road_traffic_accidents_indicator": ("Road traffic casualties (pedestrians and cyclists)", True, 2,
                                         "active_travel"),
    "violence_with_injury_rate_per_1_000_at_risk_population": ("Violence with injury per 1,000", True, 1, "crime"),
    "burglary_rate_per_1_000_at_risk_properties": ("Burglary per 1,000 properties", True, 1, "crime"),
    "anti_social_behaviour_rate_per_1_000_at_risk_population": ("Anti-social behaviour per 1,000", True, 1, "crime"),
    "road_distance_to_general_store_or_supermarket_indicator_km": (
        "Road distance to a general store or supermarket (km)", True, 2, "healthy_food"),
    "adult_skills_and_english_language_proficiency_indicator": (
        "Adults with low or no qualifications or English (share)", True, 3, "work"),
}


#: The four IoD health indicators of the issue, in report order (the vintage has one of the last two).
HEALTH_INDICATORS = ("years_of_potential_life_lost_indicator", "comparative_illness_and_disability_ratio_indicator",
                     "acute_morbidity_indicator", "mental_health_indicator", "mood_and_anxiety_disorders_indicator")


#: IoD indices profiled: the IMD and its seven domains.
PROFILE_INDICES = (IMD, *DOMAINS)




@dataclass(frozen=True)
class ScreeningRules:
    """The stated rules behind the flags.

    Attributes
    ----------
    flag_indices, flag_max_decile
        "Most severe health inequalities": an affected LSOA in national decile
        ``<= flag_max_decile`` of any of ``flag_indices`` (default IMD or Health, 1-2).
    flag_scope
        Which LSOAs are affected: ``"buffer"`` (default: on the site or with residents within
        the first buffer) or ``"site"`` (only those the site lies in).
    topic_max_decile, topic_share
        A topic flag is raised when at least ``topic_share`` of the residents within the first
        buffer live in LSOAs in England's worst ``topic_max_decile`` deciles of a measure.
    walk_m
        Access flags: no asset of a category within this distance of the site, in an area that
        meets the health-inequalities rule.
    """

    flag_indices: tuple[str, ...] = ("imd", "health")
    flag_max_decile: int = 2
    flag_scope: str = "buffer"
    topic_max_decile: int = 2
    topic_share: float = 0.5
    walk_m: float = 800.0

    def __post_init__(self):
        bad = [k for k in self.flag_indices if k not in BY_KEY]
        if bad or not self.flag_indices:
            raise SchemaError(f"flag indices {list(self.flag_indices)}: expected keys from "
                              f"{', '.join(d.key for d in PROFILE_INDICES)} (and sub-domains); unknown: {bad}")
        for name in ("flag_max_decile", "topic_max_decile"):
            v = getattr(self, name)
            if not 1 <= int(v) <= 10:
                raise SchemaError(f"{name} was {v!r} but is expected to be a decile from 1 to 10")
        if self.flag_scope not in ("buffer", "site"):
            raise SchemaError(f"flag_scope was {self.flag_scope!r} but is expected to be one of ['buffer', 'site']")
        if not 0 < self.topic_share <= 1:
            raise SchemaError(f"topic_share was {self.topic_share!r} but is expected to be in (0, 1]")

    def describe(self, first_buffer: float) -> str:
        """Describe the flag rule in words, with ``first_buffer`` (metres) as the nearest zone."""
        names = " or ".join(BY_KEY[k].short if k != "health" else "Health" for k in self.flag_indices)
        where = ("the LSOAs the site lies in" if self.flag_scope == "site"
                 else f"the LSOAs the site lies in or with residents within {first_buffer:,.0f} m")
        return (f"any of {where} in national {names} decile 1–{self.flag_max_decile} "
                f"(1 = most deprived 10% of LSOAs in England)")


def records(frame: pd.DataFrame) -> list[dict]:
    """Return ``frame.to_dict("records")`` read from one object array (pandas' row iteration costs ~5 ms a table)."""
    columns = [str(c) if not isinstance(c, str) else c for c in frame.columns]
    return [dict(zip(columns, row, strict=True)) for row in frame.to_numpy(dtype=object).tolist()]


@dataclass
class Screening:
    """The evidence for one site: frames for tables and maps, and lists for flags and topics."""

    site: Site
    vintage: Vintage
    place: str
    place_name: str
    buffers: tuple[float, ...]
    rules: ScreeningRules
    council: tuple[str, str]
    lsoas: gpd.GeoDataFrame  #: affected LSOAs with per-zone shares and populations
    wards: pd.DataFrame
    profile: pd.DataFrame  #: rows: zones, council, England
    indicators: pd.DataFrame  #: rows: indicators; zone averages and England comparators
    cni: dict | None
    access: pd.DataFrame  #: one row per asset category
    nearby_assets: gpd.GeoDataFrame
    nearby_parks: gpd.GeoDataFrame | None
    rule_lsoas: list[str]
    flags: list[dict]
    council_lsoas: gpd.GeoDataFrame  #: every LSOA of the site's council (comparator), enriched like ``lsoas``
    reference: pd.Series  #: England comparators, index (measure, statistic)
    topics: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    generated: str = ""
    sources: list[str] = field(default_factory=list)
    #: the councils of the site and of the residents within the first buffer, indexed by ``lad_code``:
    #: ``lad_name``, ``site_share`` (of the site's area; 1 for the council a point lies in) and
    #: ``residents_share`` (of the residents within the first buffer, apportioned by postcode points)
    councils: pd.DataFrame | None = None
    _rows: dict = field(default_factory=dict, repr=False, compare=False)

    def row(self, table: str, key) -> dict:
        """Return row ``key`` of the small table ``table`` (``"indicators"`` or ``"access"``) as a dict.

        The rows are read once per screening: ``.loc`` on a row of mixed types builds a Series each time, and
        the topics read the same rows many times.
        """
        if table not in self._rows:
            frame = getattr(self, table)
            self._rows[table] = dict(zip(frame.index, records(frame), strict=True))
        return self._rows[table][key]

    @property
    def severe(self) -> bool:
        """True when the "most severe health inequalities" rule is met."""
        return any(f["code"] == "severe_health_inequalities" for f in self.flags)

    def zone(self, d: float) -> str:
        """Return the column suffix of buffer ``d`` (see :func:`zone_key`)."""
        return zone_key(d)


def percent_shares(shares: Sequence[float]) -> list[int]:
    """Whole percentages of ``shares`` (fractions of one whole) that add up to 100: largest remainders.

    >>> percent_shares([0.515, 0.485])
    [52, 48]
    >>> percent_shares([1 / 3, 1 / 3, 1 / 3])
    [34, 33, 33]
    """
    raw = np.asarray(shares, dtype=float)
    if not len(raw) or raw.sum() <= 0:
        return [0] * len(raw)
    raw = raw / raw.sum() * 100
    out = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - out), kind="stable")[: 100 - int(out.sum())]:
        out[i] += 1
    return out.tolist()


def shares_text(names: Sequence[str], shares: Sequence[float]) -> str:
    """``"Stockton-on-Tees 52%, Middlesbrough 48%"`` (one name alone when it has everything).

    >>> shares_text(["Stockton-on-Tees", "Middlesbrough"], [0.515, 0.485])
    'Stockton-on-Tees 52%, Middlesbrough 48%'
    """
    pairs = [(n, p) for n, p in zip(names, percent_shares(shares), strict=True) if p > 0]
    if len(pairs) == 1:
        return pairs[0][0]
    return ", ".join(f"{n} {p}%" for n, p in pairs)


def council_text(sc: Screening) -> str:
    """Return the council(s) the site lies in, with their shares of its area when it straddles a boundary."""
    c = sc.councils
    if c is None or not len(c):
        return sc.council[1]
    on = c[c["site_share"] > 0]
    return shares_text(on["lad_name"].tolist(), on["site_share"].tolist())  # ordered largest first


def residents_council_text(sc: Screening) -> str | None:
    """Return the councils of the residents within the first buffer with their shares, when there are several."""
    c = sc.councils
    if c is None or (c["residents_share"] > 0).sum() < 2:
        return None
    c = c.sort_values("residents_share", ascending=False, kind="stable")
    c = c[c["residents_share"] > 0]
    return shares_text(c["lad_name"].tolist(), c["residents_share"].tolist())


def zone_key(d: float) -> str:
    """Column suffix of a buffer, e.g. ``"800m"``."""
    return f"{d:g}m"


def zone_label(d: float) -> str:
    """Return the display label of a buffer, e.g. ``"Within 800 m"``."""
    return f"Within {d:,.0f} m"


def reference_value(ref: pd.Series, measure: str, stat: str) -> float | None:
    """Return the England comparator ``(measure, stat)`` as a float, or None when missing."""
    table = _lookup_table(ref)
    v = table.get((measure, stat)) if table is not None else ref.get((measure, stat))
    return None if v is None or pd.isna(v) else float(v)


#: id(comparators) -> (weak reference to them, dict of their values): a screening reads a hundred comparators,
#: and a dict look-up costs a fraction of a MultiIndex one. The comparators are read-only once loaded.
_TABLES: dict[int, tuple[weakref.ref, dict]] = {}
_TABLES_LOCK = threading.Lock()


def _lookup_table(ref) -> dict | None:
    """Return ``ref`` (a Series indexed by unique ``(measure, statistic)``) as a dict, built once per Series."""
    hit = _TABLES.get(id(ref))
    if hit is not None and hit[0]() is ref:
        return hit[1]
    if not isinstance(ref, pd.Series) or not ref.index.is_unique:
        return None
    table = dict(zip(ref.index, ref.to_numpy(), strict=True))  # values as numpy scalars, as ``ref.get`` gives
    with _TABLES_LOCK:
        for key in [k for k, (w, _) in _TABLES.items() if w() is None]:
            del _TABLES[key]
        _TABLES[id(ref)] = (weakref.ref(ref), table)
    return table


def indicator_decile(values, cuts: Sequence[float], *, higher_is_worse: bool) -> np.ndarray:
    """National decile of values against England's LSOA percentiles p10..p90: 1 = worst 10%.

    >>> indicator_decile([5, 95], list(range(10, 100, 10)), higher_is_worse=True).tolist()
    [10, 1]
    """
    v = np.asarray(values, dtype=float)
    k = np.searchsorted(np.asarray(cuts, dtype=float), v, side="right")  # cuts <= value
    d = 10 - k if higher_is_worse else k + 1
    return np.where(np.isnan(v), 0, d).astype(int)


def indicator_cuts(ref: pd.Series, key: str) -> list[float] | None:
    """Return England's p10..p90 of indicator ``key``, or None when any percentile is missing."""
    cuts = [reference_value(ref, key, f"p{q}") for q in range(10, 100, 10)]
    return None if any(c is None for c in cuts) else cuts


def walk_band(d: float) -> str:
    """Return the walking band of a straight-line distance.

    >>> walk_band(0), walk_band(400), walk_band(401), walk_band(2000)
    ('within 400 m (5-minute walk)', 'within 400 m (5-minute walk)', '400–800 m (10-minute walk)', 'over 1,600 m')
    """
    minutes = {400.0: 5, 800.0: 10, 1600.0: 20}
    lo = 0.0
    for b in WALK_BANDS:
        if d <= b:
            name = f"within {b:,.0f} m" if lo == 0 else f"{lo:,.0f}–{b:,.0f} m"
            return f"{name} ({minutes.get(b, round(b / 80))}-minute walk)"
        lo = b
    return f"over {WALK_BANDS[-1]:,.0f} m"


__all__ = ["ACCESS_CATEGORIES", "DEFAULT_BUFFERS", "HEALTH_INDICATORS", "INDICATORS", "MAX_BUFFER_M",
           "PROFILE_INDICES", "Screening", "ScreeningRules", "WALK_BANDS", "indicator_cuts", "indicator_decile",
           "council_text", "percent_shares", "records", "reference_value", "residents_council_text", "shares_text",
           "walk_band", "zone_key", "zone_label"]
