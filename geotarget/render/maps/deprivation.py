"""The standard deprivation map of ``geotarget run``, built with :class:`MapBuilder`."""

from __future__ import annotations

import logging
import math
import os
import pathlib
from typing import Any

import geopandas as gpd
import pandas as pd

from geotarget.core.domains import DOMAINS
from geotarget.core.errors import SchemaError
from geotarget.render.maps.builder import MapBuilder
from geotarget.render.maps.styles import DEFAULT_ATTRIBUTION, WARD_CLASS_COLOURS
from geotarget.render.maps.validate import check_frame, examples, key_as_column, numeric, unique_key

logger = logging.getLogger(__name__)

#: Name of the ward profile layer in the layer control.
WARD_PROFILE_LAYER = "Ward profile: IMD average score"
WARD_LAYER = "Ward boundaries"
COUNCIL_LAYER = "Council boundaries"
WARD_LABEL_MIN_ZOOM = 12

#: Columns ``lsoas`` must have, besides the geometry: identity, the IMD and one
#: decile per domain (ranks, scores and ``pop_total`` are shown when present).
REQUIRED_LSOA_COLUMNS: tuple[str, ...] = (
    "lsoa_code", "lsoa_name", "lad_code", "lad_name", "ward_code", "ward_name",
    "imd_score", "imd_rank", "imd_decile",
    *(f"{d.key}_decile" for d in DOMAINS),
)  # fmt: skip
REQUIRED_WARD_COLUMNS: tuple[str, ...] = ("ward_code", "ward_name")
REQUIRED_LAD_COLUMNS: tuple[str, ...] = ("lad_code", "lad_name")

#: The IMD summary measures shown for each ward (column ``imd_<measure>`` and its rank
#: among the wards, ``imd_rank_<measure>``), with their tooltip labels.
PROFILE_MEASURES: tuple[tuple[str, str], ...] = (
    ("average_score", "Average score"),
    ("average_rank", "Average rank"),
    ("prop_most_deprived_10", "LSOAs in England's most deprived 10%"),
    ("extent", "Extent"),
    ("local_concentration", "Local concentration"),
)
_FRACTION_MEASURES = ("prop_most_deprived_10", "extent")  # fractions 0-1, shown as %
#: Columns ``ward_profiles`` must have besides its ``area_code`` index (``lad_name`` is
#: shown when present).
REQUIRED_PROFILE_COLUMNS: tuple[str, ...] = (
    "area_name", "n_lsoas", "population",
    *(c for m, _ in PROFILE_MEASURES for c in (f"imd_{m}", f"imd_rank_{m}")),
)  # fmt: skip
_WARD_CLASSES = 5


def deprivation_map(
    lsoas: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    lads: gpd.GeoDataFrame | None = None,
    ward_profiles: pd.DataFrame | None = None,
    n_ranked: int | None = None,
    ranked_in: str | None = None,
    title: str,
    vintage: str,
    notes: str = "",
    attribution: str = DEFAULT_ATTRIBUTION,
    parameters: dict | None = None,
) -> MapBuilder:
    """Return the standard map of IMD and domain deciles for a set of LSOAs, as a :class:`MapBuilder`.

    One choropleth layer for the IMD decile (shown) and one per domain (hidden), offered
    as one choice at a time (a radio group, with "none") under a legend that names the
    layer shown; optional ward and council outlines with their names (ward names from
    zoom 12, and only those that fit: a label that would overlap another is hidden until
    a zoom makes room); a tooltip per LSOA, and a popup on a click (to select and copy); the title, vintage,
    notes and licence attribution. With ``ward_profiles`` (from
    ``geotarget.analysis.aggregate.aggregate(lsoas, to="ward")``), a further layer, hidden at
    first, fills each ward by the fifth of its rank on IMD average score among the
    wards in the table, with its own legend and the ward's five IMD summary measures
    and their ranks in its tooltip. Add more layers to the returned builder, then
    ``.save(path)``.

    Parameters
    ----------
    lsoas : geopandas.GeoDataFrame
        One row per LSOA with the columns in :data:`REQUIRED_LSOA_COLUMNS`
        (``lsoa_code`` may be the index); ranks, scores and ``pop_total`` are shown
        when present. Deciles are the national ones, 1-10; missing = "no data".
    wards, lads : geopandas.GeoDataFrame, optional
        Ward polygons with ``ward_code`` and ``ward_name``; council polygons with
        ``lad_code`` and ``lad_name`` (codes may be the index).
    ward_profiles : pandas.DataFrame, optional
        Indexed by ``area_code`` (the ward code, as in ``wards``) with the columns in
        :data:`REQUIRED_PROFILE_COLUMNS`; needs ``wards``. Wards without a profile
        are drawn grey ("no data").
    n_ranked, ranked_in : optional
        What the ward ranks are among: ``n_ranked`` wards in ``ranked_in`` (``6784, "England"`` for
        national ranks, ``103, "Tees Valley"`` for a place's own), as
        :class:`geotarget.jobs.profiles.Profiles` says; shown in the legend, the tooltips and the
        fifths (of ``n_ranked``). Default: the wards in ``ward_profiles``, in no named place.
    title, vintage, notes, attribution, parameters
        As for :class:`MapBuilder`.

    Raises
    ------
    SchemaError
        A frame is not a GeoDataFrame, lacks a required column, has a missing, empty
        or non-polygon geometry, repeats an LSOA code, has a decile outside 1-10 or a
        non-numeric rank or score; ``ward_profiles`` without ``wards``, lacking a
        column, repeating a ward, naming a ward not in ``wards``, with a rank outside
        1 to its number of wards or a proportion outside 0-1.
    CRSError
        A frame has no coordinate reference system.
    """
    lsoas = key_as_column(lsoas, "lsoa_code")
    check_frame(lsoas, "lsoas", REQUIRED_LSOA_COLUMNS, key="lsoa_code")
    unique_key(lsoas, "lsoas", "lsoa_code", "LSOA")
    if wards is not None:
        wards = key_as_column(wards, "ward_code")
        check_frame(wards, "wards", REQUIRED_WARD_COLUMNS, key="ward_code")
    if lads is not None:
        lads = key_as_column(lads, "lad_code")
        check_frame(lads, "lads", REQUIRED_LAD_COLUMNS, key="lad_code")
    if ward_profiles is not None:
        if wards is None:
            raise SchemaError(
                "ward_profiles needs wards= (the ward polygons, with ward_code and "
                "ward_name) to draw them on; pass both, or neither."
            )
        ward_profiles = check_profiles(ward_profiles, wards, n_ranked=n_ranked)

    mb = MapBuilder(title, vintage=vintage, notes=notes, attribution=attribution, parameters=parameters)
    mb.add_deciles(lsoas)
    if ward_profiles is not None:
        profile_frame, labels = ward_profile_layer(wards, ward_profiles, n_ranked=n_ranked, ranked_in=ranked_in)
        mb.add_categories(
            profile_frame, "fifth", WARD_PROFILE_LAYER, labels=labels, colors=list(WARD_CLASS_COLOURS),
            tooltip={"Ward": "Ward", "Council": "Council", "LSOAs": "LSOAs", "Population": "Population",
                     **{label: label for _, label in PROFILE_MEASURES}, "Note": "Note"},
            legend_title=f"Ward IMD average score — rank among "
                         f"{ranked_among(len(ward_profiles) if n_ranked is None else n_ranked, ranked_in)}; "
                         "1 = most deprived",
        )  # fmt: skip
    if wards is not None:
        mb.add_outlines(wards, WARD_LAYER, label_column="ward_name", color="#222222", weight=1.2, dash="4 3",
                        label_min_zoom=WARD_LABEL_MIN_ZOOM)
    if lads is not None:
        mb.add_outlines(lads, COUNCIL_LAYER, label_column="lad_name", color="#000000", weight=3, label_size=14)
    return mb


def write_map(m: Any, path: str | os.PathLike) -> pathlib.Path:
    """Write a map (a :class:`MapBuilder` or a ``folium.Map``) as one HTML file, atomically."""
    if isinstance(m, MapBuilder):
        return m.save(path)
    from geotarget.io.files import write_text_atomic
    from geotarget.render.maps.page import render_html

    text = render_html(m)
    target = write_text_atomic(path, text)
    logger.info("wrote map %s (%d bytes)", target, len(text.encode("utf-8")))
    return pathlib.Path(target)


# --------------------------------------------------------------------------- ward profiles


def ranked_among(n: int, place: str | None = None) -> str:
    """``"6,784 wards in England"``, ``"103 wards in Tees Valley"``, ``"3 wards"``: what ward ranks are among."""
    return f"{n:,} {'ward' if n == 1 else 'wards'}" + (f" in {place}" if place else "")


def check_profiles(profiles: Any, wards: gpd.GeoDataFrame, *, n_ranked: int | None = None) -> pd.DataFrame:
    """``profiles`` with ``area_code`` as a column, after checking it against ``wards``.

    Ranks must lie in 1..``n_ranked`` (default: the number of rows).
    """
    if not isinstance(profiles, pd.DataFrame):
        raise SchemaError(
            "ward_profiles must be a pandas DataFrame as returned by "
            f"aggregate(lsoas, to='ward'), but a {type(profiles).__name__} was given."
        )
    profiles = key_as_column(profiles, "area_code")
    if "area_code" not in profiles.columns:
        raise SchemaError(
            "ward_profiles must be indexed by 'area_code' (the ward code), as returned by "
            f"aggregate(lsoas, to='ward'), but its index is named {profiles.index.name!r} "
            f"and it has no 'area_code' column."
        )
    missing = [c for c in REQUIRED_PROFILE_COLUMNS if c not in profiles.columns]
    if missing:
        raise SchemaError(
            f"ward_profiles is missing required column(s) {', '.join(map(repr, missing))}; "
            f"expected the output of aggregate(lsoas, to='ward')."
        )
    codes = profiles["area_code"]
    duplicated = codes[codes.duplicated()]
    if len(duplicated):
        raise SchemaError(
            f"ward_profiles must hold one row per ward, but area_code "
            f"{examples(duplicated.unique())} occur more than once."
        )
    unknown = codes[~codes.isin(wards["ward_code"])]
    if len(unknown):
        raise SchemaError(
            f"ward_profiles: ward code(s) {examples(unknown)} are not in wards (column "
            f"'ward_code'); pass the ward boundaries of the same wards and year as the profiles."
        )
    n_wards = len(profiles) if n_ranked is None else n_ranked
    if n_wards < len(profiles):
        raise SchemaError(f"ward_profiles has {len(profiles):,} wards but n_ranked was {n_wards:,}: the ranks are "
                          "among at least the wards in the table")
    check = {"name": "ward_profiles", "key": "area_code", "rows": "ward(s)"}
    for column in REQUIRED_PROFILE_COLUMNS:
        if column == "area_name":
            continue
        values = numeric(profiles, column, **check)
        if column.startswith("imd_rank_"):
            bad = values.notna() & ~values.isin(range(1, n_wards + 1))
            allowed = f"ranks among {ranked_among(n_wards)}, whole numbers 1-{n_wards}"
        elif column.removeprefix("imd_") in _FRACTION_MEASURES:
            bad = (values < 0) | (values > 1)
            allowed = "fractions 0-1"
        else:
            continue
        if bad.any():
            raise SchemaError(
                f"ward_profiles: column {column!r} must hold {allowed}, but ward(s) "
                f"{examples(profiles.loc[bad, 'area_code'])} have "
                f"{examples(profiles.loc[bad, column].unique())}."
            )
    return profiles


def _fmt_int(value: float) -> str | None:
    return None if math.isnan(value) else f"{round(value):,}"


def _fmt_measure(measure: str, value: float) -> str | None:
    if math.isnan(value):
        return None
    if measure == "average_score":
        return f"{value:,.3f}"
    if measure in _FRACTION_MEASURES:
        return f"{100 * value:.1f}%"
    return f"{round(value):,}"


def _fmt_count(value: float) -> str | None:
    """Whole counts as integers, fractional ones (split LSOAs) to 1 dp."""
    if math.isnan(value):
        return None
    return f"{round(value):,}" if value == round(value) else f"{value:,.1f}"


def ward_class(rank: float, n_wards: int) -> int | None:
    """Return the fifth (1 = most deprived) holding ``rank`` among ``n_wards``: ceil(5 rank / n)."""
    return None if math.isnan(rank) else -(-_WARD_CLASSES * int(rank) // n_wards)


def ward_profile_layer(wards: gpd.GeoDataFrame, profiles: pd.DataFrame, *, n_ranked: int | None = None,
                       ranked_in: str | None = None) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    """Return the ward profile layer and the legend label of each fifth (the ranks it holds).

    The layer is ``wards`` (same rows and order) with the class ``fifth`` (1-5 of the ``n_ranked`` ranks,
    default the number of profiles; missing for a ward without a profile) and display columns for the
    tooltip, which say what the ranks are among (``ranked_in``).
    """
    n = len(profiles) if n_ranked is None else n_ranked
    check = {"name": "ward_profiles", "key": "area_code", "rows": "ward(s)"}
    by_code = profiles.set_index("area_code")
    rows = [by_code.index.get_loc(c) if c in by_code.index else None for c in wards["ward_code"]]

    def pick(values: list[Any]) -> list[Any]:
        return [None if r is None else values[r] for r in rows]

    names = [None if pd.isna(v) or v == "" else str(v) for v in by_code["area_name"].tolist()]
    lads = by_code["lad_name"].tolist() if "lad_name" in by_code.columns else [None] * len(by_code)
    ward_lads = wards["lad_name"].tolist() if "lad_name" in wards.columns else [None] * len(wards)
    frame = gpd.GeoDataFrame({"ward_code": wards["ward_code"].to_numpy()}, geometry=wards.geometry.to_numpy(),
                             crs=wards.crs)
    frame["Ward"] = [f"{code} {name or ward_name}" for code, name, ward_name in
                     zip(wards["ward_code"], pick(names), wards["ward_name"], strict=True)]
    frame["Council"] = [lad if isinstance(lad, str) and lad else wl
                        for lad, wl in zip(pick(lads), ward_lads, strict=True)]
    ranks = numeric(by_code.reset_index(), "imd_rank_average_score", **check).tolist()
    frame["fifth"] = pd.array(pick([ward_class(r, n) for r in ranks]), dtype="Int64")
    frame["LSOAs"] = pick([_fmt_count(v) for v in numeric(by_code.reset_index(), "n_lsoas", **check)])
    frame["Population"] = pick([_fmt_int(v) for v in numeric(by_code.reset_index(), "population", **check)])
    for measure, label in PROFILE_MEASURES:
        values = numeric(by_code.reset_index(), f"imd_{measure}", **check).tolist()
        rank = numeric(by_code.reset_index(), f"imd_rank_{measure}", **check).tolist()
        shown = [None if _fmt_measure(measure, v) is None else
                 f"{_fmt_measure(measure, v)} (rank {_fmt_int(r) or '–'} of {n:,})"
                 for v, r in zip(values, rank, strict=True)]
        frame[label] = pick(shown)
    among = ranked_among(n, ranked_in) if ranked_in else f"{ranked_among(n)} profiled"
    frame["Note"] = [None if r is None else f"Ranks among the {among}; 1 = most deprived." for r in rows]
    labels = {}
    for k in range(1, _WARD_CLASSES + 1):  # ranks r with ceil(5 r / n) = k
        lo, hi = n * (k - 1) // _WARD_CLASSES + 1, n * k // _WARD_CLASSES
        labels[k] = f"{lo}–{hi}" if hi > lo else str(lo) if hi == lo else "none"
    labels[1] += " (most deprived fifth)"
    labels[_WARD_CLASSES] += " (least deprived fifth)"
    return frame, labels
