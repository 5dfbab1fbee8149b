"""Population points for any study in England: live residential postcodes placed in the study's LSOAs.

:func:`population_points` turns the national OS Code-Point Open file and an ONS postcode lookup
into what the bundled places ship ready-made: one point per live residential (small-user)
postcode, with the LSOA it lies in, for apportioning LSOA populations between custom areas and
buffers; a search index of every postcode of the study area; and (:func:`postcode_centres`) a
population point per LSOA where no official population-weighted centroids are given.

How postcodes are placed, and said so in the note:

* the LSOA code the lookup gives for the study's LSOA year (``lsoa11cd`` in the ONS May 2022
  lookup; ``lsoa21`` in recent ONSPD/NSPL files) where it has one;
* else the LSOA polygon the Code-Point grid reference falls in (point in polygon, vectorised);
  a postcode of a study council just outside every polygon (on the coast, or outside a
  generalised boundary) goes to the nearest LSOA within ``max_distance`` metres;
* LSOAs without a postcode get the official population-weighted centroid (when given), else a
  point inside the polygon (``representative_point``); ``point_source`` says which, per point.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geotarget.core.crs import BNG, to_bng
from geotarget.core.errors import ParameterError
from geotarget.io.postcodes import read_codepoint, read_postcode_lookup

log = logging.getLogger(__name__)

#: ``point_source`` values of :func:`population_points`.
POINT_SOURCES = ("postcode", "official_centroid", "interior_point")
_EXAMPLES = 5


@dataclass(frozen=True, eq=False)
class PopulationPoints:
    """What :func:`population_points` returns.

    Attributes
    ----------
    points
        Population points (EPSG:27700): ``postcode`` (None for a stand-in), ``lsoa_code``,
        ``weight`` (1 each), ``point_source`` (one of :data:`POINT_SOURCES`). Every study LSOA has
        at least one.
    index
        Every postcode of the study area (residential or not) with its ``lsoa_code``: a map's search box.
    note
        One sentence for the manifest: counts, sources and how postcodes were placed.
    unplaced
        The live residential postcodes of the study councils that could not be placed, indexed by
        postcode, with ``reason`` ("no Code-Point location", "outside every LSOA").
    locations
        The Code-Point table read (all of it; :func:`geotarget.io.postcodes.read_codepoint`), for
        locating asset and site postcodes anywhere in England.
    counts
        ``postcodes``, ``nearest`` (placed in the nearest LSOA), ``official_centroid``,
        ``interior_point``, ``no_location``, ``outside``.
    """

    points: gpd.GeoDataFrame
    index: gpd.GeoDataFrame
    note: str
    unplaced: pd.DataFrame
    locations: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)


def _name(frame: pd.DataFrame, given) -> str:
    src = frame.attrs.get("source") if isinstance(given, pd.DataFrame) else os.fspath(given)
    return Path(src).name if src else "given table"


def _examples(values) -> str:
    vals = list(values)[:_EXAMPLES]
    return f" (e.g. {', '.join(vals)})" if vals else ""


def _text(values) -> pa.ChunkedArray:
    """Text values as Arrow (no copy for pandas' Arrow-backed strings)."""
    arr = pd.Index(values).array
    a = arr.__arrow_array__() if hasattr(arr, "__arrow_array__") else \
        pa.array(np.asarray(arr, dtype=object), type=pa.large_string(), from_pandas=True)
    return (pa.chunked_array([a]) if isinstance(a, pa.Array) else a).cast(pa.large_string())


def _isin(values: pd.Index, among: pd.Index) -> np.ndarray:
    """``values.isin(among)`` by Arrow's hash lookup, fast for millions of ``values`` and a few ``among``.

    (pandas' ``isin`` and ``reindex`` of Arrow-backed text build a Python hash table of the whole index: seconds
    for the national postcode files.)
    """
    if not len(values) or not len(among):
        return np.zeros(len(values), bool)
    return np.asarray(pc.is_in(_text(values), value_set=_text(among).combine_chunks()).to_numpy(), dtype=bool)


def _align(lk: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """``lk.reindex(index)`` for a large ``lk`` and a small ``index`` (unique), by Arrow (see :func:`_isin`)."""
    pos = pc.index_in(_text(lk.index), value_set=_text(index).combine_chunks())
    pos = np.asarray(pos.fill_null(-1).to_numpy(), dtype=np.int64)
    rows = np.flatnonzero(pos >= 0)
    taken = lk.iloc[rows]
    taken.index = index[pos[rows]]
    return taken.reindex(index)


def _place(located: pd.DataFrame, lsoas: gpd.GeoDataFrame, *, may_be_near: np.ndarray, max_distance: float
           ) -> tuple[pd.Series, np.ndarray]:
    """Each located postcode's LSOA by point in polygon; the nearest within ``max_distance`` where ``may_be_near``.

    Returns the LSOA codes (``None`` where not placed) and the mask of those placed by nearest.
    """
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(located["easting"], located["northing"]), crs=BNG)
    right = gpd.GeoDataFrame({"lsoa_code": lsoas.index.to_numpy()}, geometry=lsoas.geometry.to_numpy(), crs=BNG)
    hit = gpd.sjoin(pts, right, how="inner", predicate="intersects")  # a point on a shared edge: the first code
    hit = hit.sort_values("lsoa_code", kind="stable")
    hit = hit[~hit.index.duplicated(keep="first")]
    code = np.full(len(pts), None, dtype=object)
    code[hit.index.to_numpy()] = hit["lsoa_code"].to_numpy(object)
    near = np.zeros(len(pts), bool)
    todo = np.flatnonzero(pd.isna(code) & may_be_near)
    if len(todo) and max_distance > 0:
        j = gpd.sjoin_nearest(pts.iloc[todo], right, how="inner", max_distance=max_distance)
        j = j.sort_values("lsoa_code", kind="stable")
        j = j[~j.index.duplicated(keep="first")]
        code[j.index.to_numpy()] = j["lsoa_code"].to_numpy(object)
        near[j.index.to_numpy()] = True
    return pd.Series(code, index=located.index), near


def population_points(lsoas: gpd.GeoDataFrame, *, codepoint, postcode_lookup, centroids: gpd.GeoDataFrame | None = None,
                      lsoa_year: int, max_distance: float = 200.0) -> PopulationPoints:
    """Live residential postcodes of a study as population points, one LSOA each; every LSOA gets one.

    Parameters
    ----------
    lsoas
        The study LSOAs (EPSG:27700 polygons indexed by ``lsoa_code``, of ``lsoa_year``), with
        ``lad_code`` (the study councils) where known.
    codepoint
        OS Code-Point Open (a path in any layout :func:`~geotarget.io.postcodes.read_codepoint`
        reads, or its frame): where each postcode is.
    postcode_lookup
        An ONS postcode lookup (a path :func:`~geotarget.io.postcodes.read_postcode_lookup` reads, or
        its frame): which postcodes are live (no termination date) and residential (user type 0),
        and their LSOA where it gives one for ``lsoa_year``.
    centroids
        Official population-weighted centroids indexed by ``lsoa_code`` (optional): the stand-in
        point of an LSOA without a residential postcode; else a point inside its polygon.
    lsoa_year
        2021 or 2011: the LSOAs' year.
    max_distance
        Metres: a study council's postcode outside every LSOA polygon (generalised boundaries,
        coast) goes to the nearest LSOA within this distance; beyond, it is counted as not placed.

    Returns
    -------
    PopulationPoints
        The points (``postcode, lsoa_code, weight, point_source``), the search index, the note
        (e.g. "12,345 live residential postcodes ...; 2 LSOAs by official centroid; 0 by interior
        point; 17 postcodes could not be placed ..."), the postcodes not placed, the Code-Point
        table and the counts.

    Notes
    -----
    Postcodes are weighted equally (1 each): a stand-in for addresses, as the bundled places use.
    A postcode whose location lies in a study LSOA counts even if its council (in Code-Point) is a
    neighbour's: the LSOA polygon decides, as for the bundled places.
    """
    if lsoa_year not in (2011, 2021):
        raise ParameterError(f"lsoa_year was {lsoa_year!r} but is expected to be 2011 or 2021", parameter="lsoa_year")
    lsoas = to_bng(lsoas, source="lsoas")
    if centroids is not None:
        centroids = to_bng(centroids, source="centroids")
    cp = codepoint if isinstance(codepoint, pd.DataFrame) else read_codepoint(codepoint)
    lk = postcode_lookup if isinstance(postcode_lookup, pd.DataFrame) else read_postcode_lookup(postcode_lookup)
    code_col = f"lsoa{lsoa_year % 100}_code"
    study = lsoas.index
    councils = set(lsoas["lad_code"]) if "lad_code" in lsoas.columns else set()

    # the Code-Point postcodes near the study (its extent and a margin), placed in LSOAs
    x0, y0, x1, y1 = lsoas.total_bounds
    m = max_distance + 1000.0
    e, n = cp["easting"].to_numpy(), cp["northing"].to_numpy()
    near = cp[(e >= x0 - m) & (e <= x1 + m) & (n >= y0 - m) & (n <= y1 + m)]
    info = _align(lk, near.index)
    by_code = info[code_col] if code_col in info.columns else pd.Series(None, index=near.index, dtype=object)
    has_code = by_code.notna().to_numpy() & (by_code.astype(object).fillna("") != "").to_numpy()
    in_council = near["lad_code"].isin(councils).to_numpy() if "lad_code" in near.columns else \
        np.zeros(len(near), bool)
    if "lad_code" in info.columns:
        in_council = in_council | info["lad_code"].isin(councils).to_numpy()
    need = ~has_code  # the lookup's code decides where it has one; else the polygons
    lsoa = pd.Series(np.where(has_code, by_code.astype(object), None), index=near.index, dtype=object)
    lsoa[~lsoa.isin(study)] = None
    nearest = np.zeros(len(near), bool)
    if need.any():
        placed, by_near = _place(near[need], lsoas, may_be_near=in_council[need], max_distance=max_distance)
        lsoa[need] = placed.to_numpy(object)
        nearest[need] = by_near
    located = lsoa.notna().to_numpy()
    index = gpd.GeoDataFrame({"postcode": near.index[located].to_numpy(object),
                              "lsoa_code": lsoa[located].to_numpy(object), "weight": 1.0},
                             geometry=gpd.points_from_xy(near["easting"][located], near["northing"][located]), crs=BNG)

    # the live residential ones
    live_res = (info["live"].eq(True) & info["residential"].eq(True)).to_numpy(bool)
    res = located & live_res
    pts = index[res[located]].assign(point_source="postcode").reset_index(drop=True)
    n_near = int((nearest & res).sum())

    # what could not be placed: live residential postcodes of the study
    ours = lk["live"].to_numpy(bool) & lk["residential"].to_numpy(bool)
    mine = np.zeros(len(lk), bool)
    if code_col in lk.columns:
        mine |= _isin(lk[code_col], study)
    if "lad_code" in lk.columns:
        mine |= lk["lad_code"].isin(councils).to_numpy()
    cand = lk.index[ours & mine]
    no_loc = cand[~_isin(cand, cp.index[_isin(cp.index, cand)])]
    outside = near.index[live_res & ~located & in_council & need]
    reasons = ["no Code-Point location"] * len(no_loc) + ["outside every LSOA"] * len(outside)
    unplaced = pd.DataFrame({"reason": reasons}, index=pd.Index([*no_loc, *outside], name="postcode"))

    # every LSOA gets a point
    empty = study.difference(pd.Index(pts["lsoa_code"].unique()))
    official = centroids.index.intersection(empty) if centroids is not None else pd.Index([])
    inner = empty.difference(official)
    extra = []
    if len(official):
        extra.append(gpd.GeoDataFrame({"postcode": None, "lsoa_code": official.to_numpy(), "weight": 1.0,
                                       "point_source": "official_centroid"},
                                      geometry=centroids.geometry.reindex(official).to_numpy(), crs=BNG))
    if len(inner):
        extra.append(gpd.GeoDataFrame({"postcode": None, "lsoa_code": inner.to_numpy(), "weight": 1.0,
                                       "point_source": "interior_point"},
                                      geometry=lsoas.geometry.reindex(inner).representative_point().to_numpy(),
                                      crs=BNG))
    if extra:
        pts = gpd.GeoDataFrame(pd.concat([pts, *extra], ignore_index=True), geometry="geometry", crs=BNG)
    pts["postcode"] = pts["postcode"].astype(object)

    counts = {"postcodes": int(res.sum()), "nearest": n_near, "official_centroid": len(official),
              "interior_point": len(inner), "no_location": len(no_loc), "outside": len(outside)}
    how = (f"by the lookup's LSOA {lsoa_year} code" if code_col in lk.columns and need.sum() == 0 else
           f"by the lookup's LSOA {lsoa_year} code, else by location in the LSOA {lsoa_year} boundaries"
           if code_col in lk.columns else f"by location in the LSOA {lsoa_year} boundaries (point in polygon)")
    note = (f"Population points: {counts['postcodes']:,} live residential postcodes (Code-Point Open: "
            f"{_name(cp, codepoint)}; ONS postcode lookup: {_name(lk, postcode_lookup)}), placed {how}"
            + (f" ({n_near:,} in the nearest LSOA, within {max_distance:g} m, outside the generalised boundaries)"
               if n_near else "")
            + f"; {len(official):,} LSOAs by official centroid; {len(inner):,} by interior point (LSOAs without a "
              f"residential postcode); {len(unplaced):,} postcodes could not be placed")
    if len(unplaced):
        note += (f" ({len(no_loc):,} without a Code-Point location{_examples(no_loc)}; {len(outside):,} outside every "
                 f"LSOA{_examples(outside)})")
    if not councils:
        note += " (the LSOAs carry no council codes, so postcodes outside every LSOA were not looked for)"
    note += "."
    log.info("%s", note)
    return PopulationPoints(pts, index, note, unplaced, cp, counts)


def postcode_centres(points: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One population point per LSOA: the mean of its residential postcodes, else a point inside it.

    A stand-in for the ONS population-weighted centroids (which weight by people, not postcodes):
    ``method`` is ``"mean_of_residential_postcodes"`` or ``"interior_point"`` (an LSOA without a
    residential postcode; ``representative_point``). Indexed by ``lsoa_code`` like the LSOAs, with
    ``lsoa_name`` (the layout of :attr:`~geotarget.data.study_data.StudyData.centroids`).
    """
    pc = points[points["point_source"] == "postcode"]
    xy = pd.DataFrame({"x": pc.geometry.x.to_numpy(), "y": pc.geometry.y.to_numpy(),
                       "lsoa_code": pc["lsoa_code"].to_numpy()}).groupby("lsoa_code").mean()
    xy = xy.reindex(lsoas.index)
    has = xy["x"].notna().to_numpy()
    inner = lsoas.geometry.representative_point()
    x = np.where(has, xy["x"].to_numpy(), inner.x.to_numpy())
    y = np.where(has, xy["y"].to_numpy(), inner.y.to_numpy())
    return gpd.GeoDataFrame({"lsoa_name": lsoas["lsoa_name"] if "lsoa_name" in lsoas.columns else None,
                             "method": np.where(has, "mean_of_residential_postcodes", "interior_point")},
                            geometry=gpd.points_from_xy(x, y), index=lsoas.index, crs=BNG)


__all__ = ["POINT_SOURCES", "PopulationPoints", "population_points", "postcode_centres"]
