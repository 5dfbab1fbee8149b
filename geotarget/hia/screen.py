"""Health Impact Assessment screening: the local evidence around a development site.

:func:`screen_site` gathers, for a :class:`~geotarget.io.sites.Site` and each buffer around it
(default 800 m, about a 10-minute walk, and 2 km):

* the LSOAs and wards the site lies in or whose residents live within the buffer, with their
  population -- **apportioned** by residential postcodes (each LSOA's population split by the
  share of its residential postcodes inside the buffer; by area where an LSOA has none), with
  the **best-fit** figure (whole LSOAs whose population-weighted centroid is inside) beside it;
* national IMD and domain deciles and deciles *within the council*, and the population-weighted
  profile of each buffer against the council and England;
* the "most severe health inequalities" flag (:class:`ScreeningRules`: by default any affected
  LSOA -- on the site or with residents within the first buffer -- in national IMD or Health
  decile 1-2);
* IoD health indicators (years of potential life lost, comparative illness and disability
  ratio, acute morbidity, mental health / mood and anxiety) and the Community Needs Index;
* straight-line distance from the site (its edge, 0 inside) to the nearest GP, pharmacy,
  school, library and green space, in walking bands (400/800/1,600 m);
* the 11 HUDU Rapid HIA topics pre-filled with this evidence (:mod:`geotarget.hia.topics`) and
  evidence-driven flags.

Rendering is separate (:mod:`geotarget.hia.report`): compute, then render.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotarget.core.errors import AreaNotFoundError, ParameterError, SchemaError
from geotarget.core.licences import CNI_ATTRIBUTION, OGL, OS_LICENCE, POSTCODE_LICENCE
from geotarget.core.places import get_place, sample_path
from geotarget.core.vintages import Vintage
from geotarget.data.study_data import StudyData
from geotarget.hia.evidence import (
    ACCESS_CATEGORIES,
    DEFAULT_BUFFERS,
    HEALTH_INDICATORS,
    INDICATORS,
    MAX_BUFFER_M,
    PROFILE_INDICES,
    WALK_BANDS,
    Screening,
    ScreeningRules,
    council_text,
    indicator_cuts,
    indicator_decile,
    reference_value,
    shares_text,
    walk_band,
    zone_key,
    zone_label,
)
from geotarget.hia.screen_index import ScreenIndex
from geotarget.io.sites import Site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HiaData:
    """Everything a screening reads, loaded once (for a batch of sites)."""

    sample: StudyData  #: the study's data (:func:`geotarget.data.load`)
    place_name: str
    points: gpd.GeoDataFrame  #: residential postcode points with ``lsoa_code``
    points_note: str
    indicators: pd.DataFrame  #: IoD File 8 indicators by ``lsoa_code``
    cni: pd.DataFrame | None  #: CNI 2023 by ``lsoa_code`` (IoD2025 only)
    reference: pd.DataFrame  #: England comparators: index (measure, statistic) -> value
    local: pd.DataFrame  #: deciles within the council, ``<index>_local_decile``
    targets: gpd.GeoDataFrame  #: what access is measured to: category, asset_id, name, geometry
    parks: gpd.GeoDataFrame | None  #: green space sites (polygons) counted as parks, for the map
    asset_source: str
    coverage: shapely.Geometry
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lock", threading.RLock())  # made with the data, so every thread sees one lock

    @property
    def lock(self) -> threading.RLock:
        """The lock screenings of this data take: one at a time, as the web service runs them.

        The shared indexes and GEOS geometries behind them are not safe for concurrent use from
        threads (a native crash was seen once in four threads); the interpreter lock lets only one run
        at a time anyway, so serialising costs nothing.
        """
        return self._lock

    @cached_property
    def index(self) -> ScreenIndex:
        """Spatial indexes and per-LSOA tables every screening of this data looks up (built once, on first use)."""
        s = self.sample
        lsoas = s.lsoas
        joined = [self.local, self.indicators] + ([self.cni] if self.cni is not None else [])
        # a subset of the whole enriched table equals the subset enriched when every LSOA has a row in each table
        # (a missing row would turn an integer or boolean column into floats or objects for some subsets only)
        whole = all(t.index.is_unique and lsoas.index.isin(t.index).all() for t in joined)
        return ScreenIndex(lsoas, enrich(lsoas, self) if whole else None, s.centroids, s.wards, self.points,
                           self.targets, self.parks)


def hia_data(data: StudyData, *, assets=None, assets_source: str | None = None) -> HiaData:
    """Gather what a screening reads, from the study's data: LSOAs, postcodes, indicators, CNI, comparators, assets.

    Parameters
    ----------
    data
        The study (:func:`geotarget.data.load`). Screening needs LSOA, council and ward
        polygons, population points (centroids), residential postcodes, the IoD File 8
        indicators and England comparators: the bundled places have them all; data from files
        or the cache has them with ``indicators`` (and ``cni``), England-wide IoD files and
        postcodes (:mod:`geotarget.data.hia_inputs`); the error names what is missing.
    assets
        Extra assets (an :class:`~geotarget.io.assets.AssetRead` or a GeoDataFrame with
        ``category``), e.g. schools or parks the bundled layers lack; their categories replace
        the bundled ones of the same category.
    """
    from geotarget.analysis.access import DEFAULT_PARK_TYPES, park_sites, park_targets

    data.require("lsoas geometry", "lads", "centroids", "postcodes", "hia_indicators", "hia_reference",
                 what="HIA screening")
    sample = data
    notes = []
    if data.cni is None:
        notes.append("Community Needs Index: published for LSOA 2021 only (CNI 2023); not shown with IoD2019."
                     if data.vintage.year == 2019 else "Community Needs Index: not in the data.")
    located, parks_raw, access_points = _study_assets(data)
    parks = None
    targets = located
    if parks_raw is not None:
        pt = park_targets(parks_raw, access_points)
        targets = pd.concat([located[located["category"] != "park"], pt], ignore_index=True)
        parks = park_sites(parks_raw)
        notes.append(f"Green space: OS Open Greenspace sites of type {', '.join(DEFAULT_PARK_TYPES)}; distance to the "
                     "nearest access point, or to the site edge where a site has none.")
    if data.place_key == "tees_valley":
        notes.append("The bundled Tees Valley GP list holds main surgeries only (no branch surgeries), so GP "
                     "distances are upper bounds.")
    source = f"bundled {data.place} assets" if data.bundled else "assets of the study"
    if assets is not None:
        extra = getattr(assets, "assets", assets)
        if "category" not in extra:
            raise SchemaError("assets have no 'category' column; read them with geotarget.io.assets.read_assets")
        cats = set(extra["category"])
        targets = pd.concat([targets[~targets["category"].isin(cats)], extra.to_crs(sample.lsoas.crs)],
                            ignore_index=True)
        if "park" in cats:
            parks = extra[(extra["category"] == "park") & extra.geom_type.isin(["Polygon", "MultiPolygon"])]
        source += f" + {assets_source or 'user assets'} ({', '.join(sorted(cats))})"
    targets = gpd.GeoDataFrame(targets, geometry="geometry", crs=sample.lsoas.crs)
    coverage = shapely.union_all(sample.lads.geometry.to_numpy())
    shapely.prepare(coverage)
    out = HiaData(sample, data.place, data.postcodes, data.postcodes_note, data.hia_indicators, data.cni,
                  data.hia_reference, local_deciles(sample.lsoas), targets, parks, source, coverage, tuple(notes))
    out.index  # noqa: B018 -- built now, so the first screening is as fast as the others
    return out


def _study_assets(data: StudyData):
    """Return the study's assets in the standard categories, and its green space where it has it.

    Assets are read as :func:`geotarget.jobs.access.sample_assets` reads them; green space is the
    sites and their access points. Hospitals (no standard category, not one of the services a screening
    measures) are left out rather than filed under "other" with a warning on every run.
    """
    from geotarget.io.assets import assets_from_frame

    union = data.assets
    if union is None or "asset_type" not in union.columns or union.empty:
        empty = gpd.GeoDataFrame({"category": [], "asset_id": [], "name": []}, geometry=[], crs=data.lsoas.crs)
        return empty, data.parks, data.park_access_points
    union = union[union["asset_type"] != "hospital"]
    has = lambda c: c if c in union.columns else None  # noqa: E731
    read = assets_from_frame(union, source=f"{'bundled ' if data.bundled else ''}{data.place} assets",
                             category_column="asset_type", name_column=has("name"), id_column=has("asset_id"),
                             postcode_column=has("postcode"))
    return read.assets, data.parks, data.park_access_points


def local_deciles(lsoas: pd.DataFrame) -> pd.DataFrame:
    """Deciles of the IMD and each domain *within each council*: 1 = the council's most deprived 10%.

    The LSOAs of a council are ordered by their national rank and cut into ten groups of
    (nearly) equal size: ``local_decile = ceil(10 * local_rank / n)``.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"lad_code": ["A"] * 20, "imd_rank": range(100, 2100, 100)})
    >>> local_deciles(t)["imd_local_decile"].tolist()[:4]
    [1, 1, 2, 2]
    """
    out = pd.DataFrame(index=lsoas.index)
    g = lsoas.groupby("lad_code")
    n = g["lad_code"].transform("size")
    for ix in PROFILE_INDICES:
        c = f"{ix.key}_rank"
        if c in lsoas.columns:
            r = g[c].rank(method="first")
            out[f"{ix.key}_local_decile"] = np.ceil(10 * r / n).astype(int)
    return out


# -- the screening -------------------------------------------------------------------------------


def parse_buffers(text: str | Sequence[float]) -> tuple[float, ...]:
    """Buffer distances from ``"800,2000"`` or a sequence: positive, sorted, unique, at most 10 km.

    >>> parse_buffers("2000, 800")
    (800.0, 2000.0)
    """
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    out = []
    for t in items:
        try:
            d = float(t)
        except (TypeError, ValueError):
            raise ParameterError(f"buffers was {text!r} but is expected to be distances in metres, e.g. (800, 2000); "
                                 f"{t!r} is not a number", parameter="buffers") from None
        if not 0 < d <= MAX_BUFFER_M or math.isnan(d):
            raise ParameterError(f"buffers was {text!r} but is expected to be distances in metres more than 0 and "
                                 f"at most {MAX_BUFFER_M:,.0f}, e.g. (800, 2000); {t!r} is not", parameter="buffers")
        out.append(d)
    if not out:
        raise ParameterError(f"buffers was {text!r} but is expected to be distances in metres, e.g. (800, 2000)",
                             parameter="buffers")
    return tuple(sorted(set(out)))


def check_coverage(site: Site, data: HiaData) -> list[str]:
    """Refuse a site outside the data; note a site or buffer that crosses its edge."""
    from geotarget.io.assets import in_england

    lads = data.sample.lads
    if not shapely.intersects(data.coverage, site.geometry):
        covers = ", ".join(lads["lad_name"].tolist()[:12]) + (f" and {len(lads) - 12} more" if len(lads) > 12 else "")
        x0, y0, x1, y1 = (round(v, -3) for v in data.coverage.bounds)
        c = site.centre
        hint = ""
        if site.kind == "point" and shapely.intersects(data.coverage, shapely.Point(c.y, c.x)):
            hint = f" Easting and northing look swapped: try {c.y:.0f},{c.x:.0f}."
        elif not in_england([site.geometry])[0]:
            hint = (" It lies outside England: the Indices of Deprivation, and so HIA screening, cover England only "
                    "(Wales, Scotland and Northern Ireland publish their own indices).")
        elif data.sample.bundled:
            for key, other in _other_places(data.sample.place_key):
                if other.intersects(site.geometry):
                    hint = f" The site is in the bundled {get_place(key).name} sample: set `place` to {key!r}."
        else:
            hint = (" Load the council(s) the site is in (`councils`), or leave them out and let `geotarget hia` "
                    "choose them from the site (geotarget.hia.place.site_councils).")
        what = f"the bundled {data.place_name} sample" if data.sample.bundled else f"the data ({data.place_name})"
        raise AreaNotFoundError(
            f"site {site.name!r} ({site.source}, at easting {c.x:,.0f}, northing {c.y:,.0f}) is outside the data's "
            f"coverage: {what} covers {covers} (easting {x0:,.0f}–{x1:,.0f}, northing "
            f"{y0:,.0f}–{y1:,.0f}).{hint}").naming("place")
    notes = []
    if site.kind == "polygon" and not data.coverage.contains(site.geometry):
        inside = shapely.intersection(data.coverage, site.geometry).area / site.geometry.area
        if inside < 0.999:
            notes.append(f"{1 - inside:.0%} of the site lies outside {data.place_name}; evidence covers the part "
                         "inside only.")
    return notes


def _other_places(current: str):
    from geotarget.core.places import PLACES
    from geotarget.io.boundaries import read_boundaries

    for key, pl in PLACES.items():
        if key != current:
            lads = read_boundaries(sample_path(pl.boundaries), layer="lad2025")
            yield key, shapely.union_all(lads.geometry.to_numpy())


def screen_site(site: Site, data: HiaData, *, buffers: Sequence[float] = DEFAULT_BUFFERS,
                rules: ScreeningRules | None = None, generated: str | None = None) -> Screening:
    """Gather the HIA screening evidence for one site (see the module docstring).

    Raises :class:`~geotarget.AreaNotFoundError` for a site outside the data's coverage.
    """
    with data.lock:
        return _screen_site(site, data, buffers=buffers, rules=rules, generated=generated)


def _screen_site(site: Site, data: HiaData, *, buffers, rules, generated) -> Screening:
    from geotarget.hia import topics as hia_topics

    rules = rules or ScreeningRules()
    buffers = parse_buffers(buffers)
    notes = list(site.notes) + check_coverage(site, data)
    s = data.sample
    first = buffers[0]
    zones = {zone_key(d): site.geometry.buffer(d, quad_segs=32) for d in buffers}
    lsoas, empty = _affected_lsoas(site, data, zones)
    if empty:
        notes.append(f"{empty} LSOA(s) touch the {buffers[-1]:,.0f} m buffer without any residential postcode "
                     "inside it; they are not counted.")
    reach = zones[zone_key(buffers[-1])]
    # a buffer the data covers has nothing outside (the intersection would only cost time: the coverage is large)
    outside = 0.0 if data.coverage.contains(reach) else 1 - shapely.intersection(data.coverage, reach).area / reach.area
    if outside > 0.01:
        notes.append(f"{outside:.0%} of the {buffers[-1]:,.0f} m buffer lies outside {data.place_name}: residents and "
                     "assets beyond it are not in the data, so counts there are low and distances may be overstated.")
    zk = zone_key(first)
    councils = council_shares(site, s.lads, lsoas, zk)
    council = (str(councils.index[0]), str(councils["lad_name"].iloc[0]))
    scope = lsoas["on_site"] if rules.flag_scope == "site" else lsoas["on_site"] | lsoas[f"in_{zk}"]
    meets = pd.Series(False, index=lsoas.index)
    for k in rules.flag_indices:
        c = f"{k}_decile"
        if c in lsoas:
            meets |= lsoas[c].le(rules.flag_max_decile)
    lsoas["meets_rule"] = meets
    rule_lsoas = sorted(lsoas.index[scope & meets])
    cols = _Columns(lsoas)
    profile = _profile(cols, data, buffers, council[0], rules)
    indicators = _indicator_table(cols, data, buffers, council[0])
    cni = _cni_summary(lsoas, cols, data, buffers, rules) if data.cni is not None else None
    access, nearby, parks = _access(site, data, max(buffers[-1], WALK_BANDS[-1]))
    wards = _ward_table(site, cols, data, buffers)
    if (councils["site_share"] > 0).sum() > 1:
        notes.append(f"The site straddles council boundaries ({council_text_of(councils)} of its area); the "
                     f"council comparator is {council[1]}, which holds the largest part.")
    elif len(set(lsoas.loc[lsoas[f"in_{zk}"], "lad_code"])) > 1:
        names = sorted(set(lsoas.loc[lsoas[f"in_{zk}"], "lad_name"]))
        notes.append(f"The {first:,.0f} m buffer crosses council boundaries ({', '.join(names)}); the council "
                     f"comparator is {council[1]}, where the site lies.")
    params = {
        "place": data.place_name, "vintage": s.vintage.label, "buffers": ", ".join(f"{d:,.0f} m" for d in buffers),
        "health-inequalities rule": rules.describe(first),
        "topic flags": (f"at least {rules.topic_share:.0%} of residents within {first:,.0f} m in England's worst "
                        f"{10 * rules.topic_max_decile}% of LSOAs on a measure"),
        "walking bands": ", ".join(f"{b:,.0f} m" for b in WALK_BANDS) + " (straight line)",
        "population": "apportioned by residential postcodes (best fit by population-weighted centroid also shown)",
        "assets": data.asset_source,
    }
    sc = Screening(site, s.vintage, s.place_key or s.place, data.place_name, buffers, rules, council, lsoas, wards,
                   profile, indicators, cni, access, nearby, parks, rule_lsoas, [],
                   _council(data, council[0]), data.reference,
                   notes=notes + list(data.notes),
                   parameters=params, generated=generated or _dt.date.today().isoformat(),
                   sources=_sources(s.vintage, data), councils=councils)
    sc.flags = hia_topics.flags(sc)
    sc.topics = hia_topics.topics(sc)
    return sc


def council_shares(site: Site, lads: gpd.GeoDataFrame, lsoas: pd.DataFrame, zone: str) -> pd.DataFrame:
    """Return the councils of a site and of the residents around it, with their shares; the site's main council first.

    ``site_share`` is each council's share of the site's area inside the councils (a point: 1 for the council it
    lies in, else the nearest); ``residents_share`` its share of the residents within ``zone`` (the LSOAs'
    ``pop_<zone>``: populations apportioned by postcode points; LSOAs nest in councils). Rows: every council
    with a share, ordered by ``site_share`` then ``residents_share``, largest first.
    """
    geoms = lads.geometry.to_numpy()
    if site.kind == "point":
        hit = lads.index[shapely.intersects(geoms, site.centre)]
        if hit.empty:
            hit = lads.index[[int(np.argmin(shapely.distance(geoms, site.centre)))]]
        site_share = pd.Series(1.0, index=hit[:1])
    else:
        near = lads.sindex.query(site.geometry, predicate="intersects")  # tree order, as the shares were summed
        area = pd.Series(shapely.area(shapely.intersection(geoms[near], site.geometry)), index=lads.index[near])
        area = area[area > 0]
        if area.empty:
            near = [int(np.argmin(shapely.distance(geoms, site.geometry)))]
            area = pd.Series(1.0, index=lads.index[near])
        site_share = area / area.sum()
    pop = lsoas[f"pop_{zone}"].groupby(lsoas["lad_code"]).sum()
    residents = pop / pop.sum() if pop.sum() > 0 else pop * 0.0
    codes = site_share.index.union(residents.index[residents > 0])
    out = pd.DataFrame({"lad_name": lads["lad_name"].reindex(codes),
                        "site_share": site_share.reindex(codes, fill_value=0.0).astype(float),
                        "residents_share": residents.reindex(codes, fill_value=0.0).astype(float)})
    out.index.name = "lad_code"
    return out.sort_values(["site_share", "residents_share"], ascending=False, kind="stable")


def council_text_of(councils: pd.DataFrame) -> str:
    """``"Stockton-on-Tees 52%, Middlesbrough 48%"``: the councils' shares of the site (see :func:`council_shares`)."""
    on = councils[councils["site_share"] > 0]
    return shares_text(on["lad_name"].tolist(), on["site_share"].tolist())


def _affected_lsoas(site: Site, data: HiaData, zones: dict[str, shapely.Geometry]) -> tuple[gpd.GeoDataFrame, int]:
    """LSOAs on the site or with residents in a buffer, with shares, populations and best-fit flags.

    Looked up in :attr:`HiaData.index`: LSOAs and postcode points by spatial tree, populations and centroids
    from arrays; each buffer's share of an LSOA is the share of its residential postcodes strictly inside the
    buffer, or of its area where it has none.
    """
    ix = data.index
    outer = list(zones.values())[-1]
    near = ix.lsoas_near(outer)
    geoms = ix.geoms[near]
    on_site = shapely.intersects(geoms, site.geometry)
    total = ix.point_total[near]
    pop = ix.pop_total[near]
    pwc = ix.pwc[near]
    none = total == 0
    cols: dict[str, np.ndarray] = {"on_site": on_site}
    keep = on_site.copy()
    for zk, geom in zones.items():
        inside = ix.points_inside(geom)[near]
        share = np.empty(len(near))
        share[~none] = inside[~none] / total[~none]
        share[none] = shapely.area(shapely.intersection(geoms[none], geom)) / ix.area[near][none]
        cols[f"share_{zk}"] = share
        cols[f"pop_{zk}"] = pop * share
        cols[f"pwc_in_{zk}"] = shapely.within(pwc, geom)
        cols[f"in_{zk}"] = on_site | (share > 0) | cols[f"pwc_in_{zk}"]
        keep |= cols[f"in_{zk}"]
    cols["distance_m"] = np.round(shapely.distance(geoms, site.geometry), 0)
    rows = near[keep]
    order = pd.DataFrame({"d": cols["distance_m"][keep], "r": ix.lsoas["imd_rank"].to_numpy()[rows]}) \
        .sort_values(["d", "r"]).index.to_numpy()
    rows = rows[order]
    out = ix.enriched.iloc[rows] if ix.enriched is not None else enrich(ix.lsoas.iloc[rows], data)
    picked = np.flatnonzero(keep)[order]
    out = pd.concat([out, pd.DataFrame({c: v[picked] for c, v in cols.items()}, index=out.index)], axis=1)
    return out, int((~keep).sum())


def enrich(lsoas: gpd.GeoDataFrame, data: HiaData) -> gpd.GeoDataFrame:
    """LSOAs with their deciles within the council, IoD indicators and (IoD2025) CNI columns."""
    out = lsoas.join(data.local).join(data.indicators, how="left")
    if data.cni is not None:
        out = out.join(data.cni.add_prefix("cni_").rename(columns={"cni_cni_score": "cni_score",
                                                                    "cni_cni_rank": "cni_rank"}), how="left")
        n = float(data.reference.get(("cni_rank", "count"), 33755))
        out["cni_decile"] = np.ceil(10 * out["cni_rank"] / n).astype("Int64")
    return out


def _weighted(values: pd.Series, w: pd.Series) -> float | None:
    v, w = np.asarray(values, dtype=float), np.asarray(w, dtype=float)
    ok = ~np.isnan(v) & ~np.isnan(w) & (w > 0)
    if not ok.any():
        return None
    return float((v[ok] * w[ok]).sum() / w[ok].sum())


def _sum(a: np.ndarray):
    """Return the sum of ``a`` skipping NaN, as ``pandas.Series.sum`` computes it (NaN as 0, pairwise)."""
    return np.nansum(a) if a.dtype.kind == "f" else a.sum()


def _plain(frame) -> pd.DataFrame:
    """Return the attributes of a GeoDataFrame as a DataFrame (faster for many small selections)."""
    return pd.DataFrame(frame.drop(columns=frame.geometry.name)) if isinstance(frame, gpd.GeoDataFrame) else frame


class _Columns(dict):
    """The columns of a frame as arrays, each read on first use (many small selections are fast on arrays)."""

    def __init__(self, frame: pd.DataFrame):
        super().__init__()
        self.frame = frame

    def __missing__(self, column: str) -> np.ndarray:
        self[column] = out = self.frame[column].to_numpy()
        return out

    def __contains__(self, column) -> bool:
        return column in self.frame.columns


def _zone_weights(cols: _Columns, buffers) -> dict[str, np.ndarray]:
    """Return the population weights of each zone: the site's LSOAs whole, each buffer apportioned."""
    zw = {"site": np.where(cols["on_site"], cols["pop_total"], 0)}
    for d in buffers:
        zw[zone_key(d)] = cols[f"pop_{zone_key(d)}"]
    return zw


def _council(data: HiaData, lad: str) -> gpd.GeoDataFrame:
    """Return every LSOA of council ``lad``, enriched like a screening's LSOAs (built once per council)."""
    ix = data.index
    if ix.enriched is None:
        return enrich(ix.lsoas[ix.lsoas["lad_code"] == lad], data)
    return ix.cached(("council", lad), lambda: ix.enriched[ix.enriched["lad_code"] == lad]).copy(deep=False)


def _profile_row(z: str, label: str, f: _Columns, w: np.ndarray, k: int) -> dict:
    row = {"zone": z, "label": label, "residents": float(_sum(w)), "lsoas": int((w > 0).sum())}
    if z.endswith("m"):
        row["residents_best_fit"] = float(_sum(f["pop_total"][f[f"pwc_in_{z}"]]))
    for ix in PROFILE_INDICES:
        sc, dc = f"{ix.key}_score", f"{ix.key}_decile"
        row[f"{ix.key}_average_score"] = _weighted(f[sc], w) if sc in f and pd.notna(f[sc]).any() else None
        if dc in f:
            tot = _sum(w)
            row[f"{ix.key}_pct_decile1"] = float(_sum(w[f[dc] == 1]) / tot * 100) if tot else None
            row[f"{ix.key}_pct_decile1_{k}"] = float(_sum(w[f[dc] <= k]) / tot * 100) if tot else None
    return row


def _profile(cols: _Columns, data: HiaData, buffers, lad: str, rules: ScreeningRules) -> pd.DataFrame:
    """Population-weighted profile of each zone, the council and England."""
    k = rules.flag_max_decile
    ix = data.index
    labels = {"site": "Site (the LSOAs it lies in, whole)"}
    labels.update({zone_key(d): f"{zone_label(d)} (apportioned)" for d in buffers})
    rows = [_profile_row(z, labels[z], cols, w, k) for z, w in _zone_weights(cols, buffers).items()]

    def council_row():
        c = _Columns(_council(data, lad))
        return _profile_row("council", f"{c['lad_name'][0]} (council)", c, c["pop_total"], k)

    rows.append(dict(ix.cached(("profile council", lad, k), council_row)))
    rows.append(dict(ix.cached(("profile england", k), lambda: _england_profile(data.reference, k))))
    return pd.DataFrame(rows).set_index("zone")


def _england_profile(ref: pd.Series, k: int) -> dict:
    eng = {"zone": "england", "label": "England", "residents": float(ref.get(("population", "total"), np.nan)),
           "lsoas": int(ref.get(("lsoas", "count"), 0))}
    for ix in PROFILE_INDICES:
        eng[f"{ix.key}_average_score"] = reference_value(ref, f"{ix.key}_score", "pop_weighted_mean")
        shares = [reference_value(ref, f"{ix.key}_decile", f"pop_share_decile_{d}") for d in range(1, k + 1)]
        eng[f"{ix.key}_pct_decile1"] = shares[0] * 100 if shares[0] is not None else None
        eng[f"{ix.key}_pct_decile1_{k}"] = sum(shares) * 100 if all(x is not None for x in shares) else None
    return eng


def _indicator_table(cols: _Columns, data: HiaData, buffers, lad: str) -> pd.DataFrame:
    """Zone, council and England values of each IoD indicator, and the national decile of each average."""
    ix = data.index
    zw = _zone_weights(cols, buffers)
    z1 = zone_key(buffers[0])

    def council_values():
        council = _plain(ix.lsoas[ix.lsoas["lad_code"] == lad]).join(data.indicators, how="left")
        return {key: _weighted(council[key], council["pop_total"]) for key in data.indicators.columns
                if key in INDICATORS}

    def england(key):
        return reference_value(data.reference, key, "pop_weighted_mean"), indicator_cuts(data.reference, key)

    council = ix.cached(("indicators council", lad), council_values)
    rows = []
    for key in data.indicators.columns:
        if key not in INDICATORS:
            continue
        label, worse, dp, topic = INDICATORS[key]
        row = {"indicator": key, "label": label, "higher_is_worse": worse, "decimals": dp, "topic": topic}
        for z, w in zw.items():
            row[z] = _weighted(cols[key], w)
        row["council"] = council[key]
        row["england"], cuts = ix.cached(("indicator england", key), lambda key=key: england(key))
        row["england_decile_" + z1] = (int(indicator_decile([row[z1]], cuts, higher_is_worse=worse)[0])
                                       if cuts and row[z1] is not None else None)
        rows.append(row)
    return pd.DataFrame(rows).set_index("indicator")


def _cni_summary(lsoas, cols: _Columns, data: HiaData, buffers, rules: ScreeningRules) -> dict:
    zk = zone_key(buffers[0])
    w = cols[f"pop_{zk}"]
    lb = cols[f"in_{zk}"] & lsoas["cni_left_behind_area"].fillna(False).astype(bool).to_numpy()
    k = rules.topic_max_decile
    high = lsoas["cni_decile"].le(k).fillna(False).astype(bool).to_numpy()
    return {
        "zone": zk,
        "left_behind_lsoas": sorted(lsoas.index[lb]),
        "residents_left_behind": float(_sum(w[lb])),
        "pct_residents_cni_decile1_k": float(_sum(w[high]) / _sum(w) * 100) if _sum(w) else None,
        "max_decile": k,
        "average_cni_score": _weighted(cols["cni_score"], w),
        "england_left_behind": int(data.reference.get(("left_behind_area", "count"), 0)),
        "england_lsoas": int(data.reference.get(("cni_rank", "count"), 0)),
    }


def _access(site: Site, data: HiaData, reach: float):
    """Nearest asset of each category from the site (edge; 0 inside), band, counts within each walk band."""
    from geotarget.io.assets import CATEGORIES, CATEGORY_LABELS

    ix = data.index
    present = [c for c in CATEGORIES if c in ix.by_category and c not in ACCESS_CATEGORIES and c != "other"]
    rows = []
    geom = site.geometry
    dist = shapely.distance(geom, ix.target_geoms)
    for c in (*ACCESS_CATEGORIES, *present):
        found = ix.by_category.get(c)
        row = {"category": c, "label": CATEGORY_LABELS.get(c, c), "available": found is not None}
        if found is not None:
            at, sub, key = found
            d = dist[at]
            i = int(np.argmin(d))
            row.update(nearest_m=float(round(d[i])), nearest_name=str(sub["name"].iloc[i] or sub["asset_id"].iloc[i]),
                       band=walk_band(d[i]))
            for b in WALK_BANDS:
                row[f"n_{b:g}m"] = int(len(set(key[d <= b])))
        rows.append(row)
    access = pd.DataFrame(rows).set_index("category")
    near = ix.targets[(dist <= reach) & ix.target_is_point]
    parks = None
    if ix.parks is not None and len(ix.parks):
        parks = ix.parks[shapely.distance(geom, ix.park_geoms) <= reach]
    return access, near, parks


def _ward_table(site: Site, cols: _Columns, data: HiaData, buffers) -> pd.DataFrame:
    """Wards the site lies in or whose (best-fit) LSOAs have residents within a buffer."""
    ix = data.index
    wards = ix.wards
    on = set(wards.index[ix.ward_tree.query(site.geometry, predicate="intersects")])
    codes = sorted(set(cols["ward_code"]) | on)
    names = ix.ward_names
    rows = []
    for w in codes:
        part = cols["ward_code"] == w
        row = {"ward_code": w, "ward_name": names.get(w, ""),
               "lad_name": cols["lad_name"][part][0] if part.any() else "", "site_in_ward": w in on,
               "ward_population": float(ix.ward_pop.get(w, 0.0))}
        for d in buffers:
            zk = zone_key(d)
            row[f"residents_{zk}"] = float(_sum(cols[f"pop_{zk}"][part]))
            row[f"imd_average_score_{zk}"] = _weighted(cols["imd_score"][part], cols[f"pop_{zk}"][part]) \
                if "imd_score" in cols else None
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.sort_values([f"residents_{zone_key(buffers[0])}", "ward_code"], ascending=[False, True]) \
        .reset_index(drop=True) if len(out) else out


def _sources(v: Vintage, data: HiaData) -> list[str]:
    out = [
        f"English Indices of Deprivation {v.year} (MHCLG), {v.label}: IMD, domains, sub-domains and File 8 "
        f"indicators; population denominators {v.population}. {OGL}",
        f"Boundaries: ONS LSOA {v.lsoa_year}, wards and councils (May 2025), generalised clipped; population-weighted "
        f"centroids (ONS). {OGL} {OS_LICENCE}",
        f"Postcodes: OS Code-Point Open 2025 and the ONS postcode lookup. {POSTCODE_LICENCE}",
        f"Assets: {data.asset_source} (GP practices and pharmacies: NHS England ODS, OGL v3.0; libraries: Arts "
        "Council England; see data/PROVENANCE.md).",
        "England comparators: computed from the England-wide IoD files (population weights: ONS mid-2022 estimates "
        "for IoD2025, IoD denominators for IoD2019).",
    ]
    if data.cni is not None:
        out.append(f"{CNI_ATTRIBUTION} Free to reuse with attribution.")
    if not data.sample.bundled:
        out.append("Files read: " + "; ".join(f"{src.role}: {src.path.name}" + (f" ({src.vintage})" if src.vintage
                                                                                 else "")
                                            for src in data.sample.sources) + ".")
    return out


# -- comparison ----------------------------------------------------------------------------------
RANKING_RULE = (
    "Sites are ranked by health-equity concern, most first: (1) sites meeting the most-severe-health-inequalities "
    "rule before the others; (2) more residents within the first buffer living in LSOAs that meet the rule "
    "(national IMD or Health decile 1–2 by default); (3) higher population-weighted Health Deprivation and "
    "Disability score within the first buffer; (4) more evidence flags; (5) site name."
)


def compare_sites(screenings: Sequence[Screening], *, reports: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per site, ranked by :data:`RANKING_RULE` (rank 1 = greatest health-equity concern).

    ``reports`` (one per screening, e.g. the report file names) is carried into a ``report`` column.
    """
    rows = []
    for i, sc in enumerate(screenings):
        zk = zone_key(sc.buffers[0])
        L = sc.lsoas
        prof = sc.profile.loc[zk]
        k = sc.rules.flag_max_decile
        rows.append({
            "site_name": sc.site.name,
            "council": council_text(sc),
            "ward": ", ".join(sc.wards.loc[sc.wards["site_in_ward"], "ward_name"]) if len(sc.wards) else "",
            "severe_health_inequalities": sc.severe,
            f"residents_{zk}": round(float(prof["residents"])),
            f"residents_{zk}_meeting_rule": round(float(L.loc[L["meets_rule"], f"pop_{zk}"].sum())),
            f"health_average_score_{zk}": _round(prof.get("health_average_score"), 3),
            f"imd_average_score_{zk}": _round(prof.get("imd_average_score"), 3),
            f"pct_residents_imd_decile_1_{k}_{zk}": _round(prof.get(f"imd_pct_decile1_{k}"), 1),
            "min_imd_decile": int(L.loc[L[f"in_{zk}"], "imd_decile"].min()),
            "min_health_decile": int(L.loc[L[f"in_{zk}"], "health_decile"].min()),
            "n_flags": len(sc.flags),
            "flags": "; ".join(f["code"] for f in sc.flags),
            **{f"nearest_{c}_m": (sc.access.loc[c, "nearest_m"] if sc.access.loc[c, "available"] else None)
               for c in ACCESS_CATEGORIES},
            **({"report": reports[i]} if reports is not None else {}),
        })
    t = pd.DataFrame(rows)
    if t.empty:
        return t
    zk = zone_key(screenings[0].buffers[0])
    health = t[f"health_average_score_{zk}"].fillna(-np.inf)
    order = np.lexsort((t["site_name"].str.lower().to_numpy(), -t["n_flags"].to_numpy(), -health.to_numpy(),
                        -t[f"residents_{zk}_meeting_rule"].to_numpy(), ~t["severe_health_inequalities"].to_numpy()))
    t = t.iloc[order].reset_index(drop=True)
    t.insert(0, "rank", range(1, len(t) + 1))
    return t


def _round(v, n):
    return None if v is None or pd.isna(v) else round(float(v), n)


__all__ = ["ACCESS_CATEGORIES", "DEFAULT_BUFFERS", "HEALTH_INDICATORS", "INDICATORS", "HiaData", "RANKING_RULE",
           "hia_data", "Screening", "ScreeningRules", "WALK_BANDS", "check_coverage", "compare_sites", "council_shares",
           "council_text", "council_text_of", "enrich",
           "indicator_decile", "local_deciles", "parse_buffers", "screen_site", "walk_band", "zone_key"]
