"""The ``source="files"`` branch of :func:`geotarget.data.load`: official files for any place in England.

:func:`files_data` builds a :class:`~geotarget.data.study_data.StudyData` (LSOAs with the IoD,
population and ward/council codes; ward, council and MSOA boundaries; centroids; assets) from
files a user supplies -- the official IoD File 7, ONS boundaries (UK- or England-and-Wales-wide
files are filtered to England), an ONS best-fit LSOA -> ward -> council lookup -- for a list of
councils, a region or all of England, listing every file it read with its vintage
(``sources``) and how gaps were filled (``notes``) for the output folder's manifest.

What is made here rather than read, and said so in the notes:

* council outlines, when no council boundary file is given: the LSOAs dissolved by council
  (exact, since LSOAs nest in councils);
* ward outlines, when no ward boundary file is given: the LSOAs dissolved by their best-fit
  ward (approximate: LSOAs do not nest in wards);
* MSOA codes, when the lookup has none but MSOA boundaries are given: the MSOA holding a
  point inside each LSOA (LSOAs nest in MSOAs);
* centroids, when no population-weighted centroid file is given: the mean location of each
  LSOA's live residential postcodes when Code-Point Open and an ONS postcode lookup are given
  (``codepoint``, ``postcode_lookup``), else a point inside each LSOA (``representative_point``):
  stand-ins for the ONS population-weighted centroids (``method`` column);
* population points (``postcodes``, ``postcode_index``), with ``codepoint`` and ``postcode_lookup``:
  the live residential postcodes placed in the study LSOAs (:func:`geotarget.data.points.population_points`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geotarget.core.codes import codes_in, find_area_columns
from geotarget.core.councils import normalise_name, resolve_councils
from geotarget.core.crs import BNG, to_bng
from geotarget.core.errors import AreaNotFoundError, ParameterError, SchemaError
from geotarget.core.places import TEES_VALLEY
from geotarget.core.progress import stage
from geotarget.core.vintages import Vintage
from geotarget.data.join import attach_imd, check_coverage, missing_lsoas
from geotarget.data.points import PopulationPoints, population_points, postcode_centres
from geotarget.data.source import DataSource
from geotarget.data.study_data import Source, StudyData
from geotarget.io.boundaries import read_boundaries
from geotarget.io.files import require_file, write_csv
from geotarget.io.imd import add_population, read_imd, read_population
from geotarget.io.lookups import attach_lookup, read_lsoa_lookup
from geotarget.io.tables import read_text_table

log = logging.getLogger(__name__)


#: The table of LSOAs a partial run left out (``DataSource.partial``), written beside the manifest.
MISSING_FILE = "missing_lsoas.csv"


def record_inputs(prov, data: StudyData) -> None:
    """Add a study's files (hashed) and notes to a :class:`~geotarget.io.provenance.Provenance`.

    A partial run (:attr:`StudyData.missing_lsoas`) also gets :data:`MISSING_FILE` in the output folder.
    """
    for s in data.sources:
        prov.add_input(s.path, role=s.role, vintage=s.vintage)
    for note in data.notes:
        prov.add_note(note)
    if data.missing_lsoas is not None and len(data.missing_lsoas):  # a partial run lists what it left out
        path = Path(prov.out_dir) / MISSING_FILE
        write_csv(path, data.missing_lsoas)
        prov.add_output(path)


# ----------------------------------------------------------------------------- reading helpers

def _england_where(path: Path, layer: str | None, kind: str) -> str | None:
    """Return an OGR filter keeping English areas of a UK or England-and-Wales file (None if not needed/possible)."""
    if path.suffix.lower() == ".parquet":
        return None
    try:
        fields = pyogrio.read_info(path, layer=layer)["fields"]
    except Exception:  # noqa: BLE001 - read_boundaries reports unreadable files with GDAL's message
        return None
    found = find_area_columns(fields)
    if f"{kind}_code" not in found:
        return None
    return f"\"{found[f'{kind}_code'][0]}\" LIKE 'E%'"


def _read_areas(path, layer, level: str, kind: str) -> gpd.GeoDataFrame:
    p = require_file(path, f"{kind} boundary")
    return read_boundaries(p, level=level, layer=layer, where=_england_where(p, layer, kind))


def _header_year(path: Path, pattern: str) -> int | None:
    cols = read_text_table(path, nrows=0).columns
    for c in cols:
        m = re.search(pattern, str(c), flags=re.IGNORECASE)
        if m:
            year = int(m.group(1))
            return year + 2000 if year < 100 else year
    return None


def _dissolve(lsoas: gpd.GeoDataFrame, by: str, keep: Sequence[str]) -> gpd.GeoDataFrame:
    """``lsoas[[by, *keep, "geometry"]].dissolve(by=by, aggfunc="first", sort=True)``, geometry last.

    The same frame as geopandas' ``dissolve`` (each group's polygons merged by ``shapely.union_all``
    in row order; the other columns' first values), without building a GeoSeries per group, and with
    the unions (independent, and run by GEOS without the GIL) spread over the cores.
    """
    cols = [by, *[c for c in keep if c in lsoas.columns], "geometry"]
    first = lsoas[cols[:-1]].groupby(by, sort=True).agg("first")
    first.columns = first.columns.to_flat_index()
    group, keys = pd.factorize(lsoas[by], sort=True)  # missing keys get -1 and are dropped, as groupby does
    if lsoas.empty or not keys.equals(pd.Index(first.index)):  # not expected: then geopandas itself
        out = lsoas[cols].dissolve(by=by, aggfunc="first", sort=True)
        return out[[c for c in out.columns if c != "geometry"] + ["geometry"]]
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(keys) + 1))
    geoms = np.asarray(lsoas.geometry.values, dtype=object)[order]
    parts = [geoms[bounds[k]:bounds[k + 1]] for k in range(len(keys))]
    workers = min(os.cpu_count() or 1, 4)
    if workers > 1 and len(parts) > 200:  # shapely releases the GIL: the unions run side by side
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            merged = list(pool.map(shapely.union_all, parts, chunksize=64))
    else:
        merged = [shapely.union_all(p) for p in parts]
    out = gpd.GeoDataFrame(first, geometry=gpd.GeoSeries(merged, index=first.index, crs=lsoas.crs), crs=lsoas.crs)
    return out[[c for c in out.columns if c != "geometry"] + ["geometry"]]


def _read_centroids(path, lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    p = require_file(path, "centroid")
    if p.suffix.lower() in (".csv", ".gz", ".txt"):
        raw = read_text_table(p)
        found = find_area_columns(raw.columns)
        code = found["lsoa_code"][0] if "lsoa_code" in found else raw.columns[0]
        lower = {c.lower(): c for c in raw.columns}
        xy = next(((lower[x], lower[y]) for x, y in (("easting", "northing"), ("x", "y"), ("bng_e", "bng_n"))
                   if x in lower and y in lower), None)
        if xy is None:
            raise SchemaError(f"{p}: no coordinate columns; expected easting/northing or x/y in British National Grid "
                              f"(EPSG:27700). Columns: {list(raw.columns)}")
        try:
            x, y = pd.to_numeric(raw[xy[0]]), pd.to_numeric(raw[xy[1]])
        except ValueError as e:
            raise SchemaError(f"{p}, columns {xy[0]!r}/{xy[1]!r}: not numeric ({e})") from None
        pts = gpd.GeoDataFrame({"lsoa_code": raw[code].str.strip()}, geometry=gpd.points_from_xy(x, y), crs=BNG)
    else:
        g = to_bng(gpd.read_file(p), source=str(p))
        found = find_area_columns(g.columns)
        if "lsoa_code" not in found:
            raise SchemaError(f"{p}: no LSOA code column; expected e.g. LSOA21CD. Columns: {list(g.columns)}")
        pts = gpd.GeoDataFrame({"lsoa_code": g[found["lsoa_code"][0]].astype(str).str.strip()},
                               geometry=g.geometry.centroid, crs=BNG)
    pts = pts.drop_duplicates("lsoa_code").set_index("lsoa_code")
    missing = lsoas.index.difference(pts.index)
    if len(missing):
        raise SchemaError(f"{p}: no centroid for {len(missing):,} of the {len(lsoas):,} LSOAs, e.g. "
                          f"{', '.join(missing[:5])}; is it for the same LSOA year?")
    pts = pts.loc[lsoas.index]
    pts.insert(0, "lsoa_name", lsoas["lsoa_name"] if "lsoa_name" in lsoas.columns else None)
    return pts


def read_regions(path: str | os.PathLike) -> pd.DataFrame:
    """Read an ONS council -> region lookup (``LAD24CD, RGN24CD, RGN24NM`` ...) indexed by ``lad_code``."""
    p = require_file(path, "region lookup")
    raw = read_text_table(p)
    found = find_area_columns(raw.columns)
    code = next((c for c in raw.columns if re.fullmatch(r"rgn\d*cd", c.strip().lower())), None)
    name = next((c for c in raw.columns if re.fullmatch(r"rgn\d*nm", c.strip().lower())), None)
    if "lad_code" not in found or code is None or name is None:
        raise SchemaError(f"{p}: expected council and region columns such as LAD24CD, RGN24CD, RGN24NM; "
                          f"columns are {list(raw.columns)}")
    out = pd.DataFrame({"region_code": raw[code].str.strip().to_numpy(),
                        "region_name": raw[name].str.strip().to_numpy()},
                       index=pd.Index(raw[found["lad_code"][0]].str.strip(), name="lad_code"))
    return out[~out.index.duplicated()]


def resolve_region(region: str, regions: pd.DataFrame) -> tuple[str, list[str]]:
    """Return the region's name and council codes, for a region code (E12...) or name (case-insensitive)."""
    t = normalise_name(region)
    match = regions[(regions["region_code"].str.lower() == region.strip().lower())
                    | (regions["region_name"].map(normalise_name) == t)]
    if match.empty:
        names = sorted(set(regions["region_name"]))
        raise AreaNotFoundError(f"region {region!r} matches no region; expected a code (E12...) or one of: "
                                f"{'; '.join(names)}")
    return match["region_name"].iloc[0], sorted(match.index)


def _msoa_codes(lsoas: gpd.GeoDataFrame, msoas: gpd.GeoDataFrame) -> tuple[pd.Series, str]:
    """Each LSOA's MSOA: by the ONS naming rule (LSOA name = MSOA name + a letter), else by location.

    LSOAs nest in MSOAs. The naming rule is exact for ONS names; the location (a point inside
    the LSOA, in the MSOA polygons, else the nearest) is the fallback for LSOAs without a
    matching name, and can be wrong near the edges of strongly generalised boundaries.
    """
    code = pd.Series(pd.NA, index=lsoas.index, dtype="object")
    if "lsoa_name" in lsoas.columns and "msoa_name" in msoas.columns:
        by_name = pd.Series(msoas.index, index=msoas["msoa_name"].str.strip())
        by_name = by_name[~by_name.index.duplicated(keep=False)]
        stem = lsoas["lsoa_name"].str.strip().str[:-1]
        code = stem.map(by_name).astype("object")
    n_name = int(code.notna().sum())
    rest = code.index[code.isna()]
    n_near = 0
    if len(rest):
        pts = gpd.GeoDataFrame(geometry=lsoas.loc[rest].geometry.representative_point(), crs=BNG)
        right = msoas[["geometry"]].rename_axis("msoa_code").reset_index()
        hit = gpd.sjoin(pts, right, how="left", predicate="within")
        hit = hit[~hit.index.duplicated()]
        miss = hit.index[hit["msoa_code"].isna()]
        if len(miss):
            near = gpd.sjoin_nearest(pts.loc[miss], right, how="left")
            near = near[~near.index.duplicated()]
            hit.loc[miss, "msoa_code"] = near["msoa_code"].reindex(miss).to_numpy()
            n_near = len(miss)
        code.loc[rest] = hit["msoa_code"].reindex(rest).to_numpy()
    how = f"{n_name:,} LSOAs by the ONS naming rule (LSOA name = MSOA name + letter)"
    if len(rest):
        how += (f", {len(rest):,} by the MSOA holding a point inside the LSOA"
                + (f" ({n_near:,} of them the nearest MSOA)" if n_near else ""))
    return code, how


# ----------------------------------------------------------------------------- the loader

def files_data(source: DataSource) -> StudyData:
    """Load official files for any place in England: the ``source="files"`` branch of :func:`geotarget.data.load`.

    ``source.imd`` is the IoD (official File 7 or a canonical CSV), ``boundaries`` LSOA boundaries of
    its LSOA year (England-and-Wales files are filtered to England), ``lookup`` an ONS best-fit
    LSOA -> ward -> council lookup; ``population`` adds denominators when the IoD has none;
    ``lads``/``wards``/``msoas`` (UK-wide files are filtered to England), ``centroids``, ``regions``
    (needed for ``region``) and ``assets`` (kept inside the chosen councils) are optional. The place
    is ``councils``, a ``region``, or every council in the IoD file (all England for the official
    file). Without boundaries or a lookup only the IoD (and what it carries) is read: enough for
    profiles, gaps and inequality, not for maps.
    """
    if source.imd is None:
        raise ParameterError("imd was None but is expected with source='files': the IoD file, e.g. the official "
                             "File 7", parameter="imd")
    councils, region = _place_of(source)
    if source.boundaries is None or source.lookup is None:
        return imd_data(source, councils=councils)
    return _bundle(source, councils=councils, region=region)


def _place_of(source: DataSource) -> tuple[list[str] | None, str | None]:
    """Return the councils and region of a files/cache source.

    These are ``councils``/``region``, else what ``place`` names (:func:`geotarget.data.place.resolve_place`):
    councils (a bundled place key: its councils) or a region. The default place (``"tees_valley"``) and
    ``"england"`` mean everything in the files.
    """
    from geotarget.data.place import resolve_place

    councils = list(source.councils) or None
    region = source.region
    place = (source.place or "").strip()
    if not councils and not region and place and place != DataSource.place:
        choice = resolve_place(place)
        if choice.kind == "region":
            region = choice.region
        elif choice.kind != "england":
            councils = list(choice.councils)
    if region and (source.boundaries is None or source.lookup is None):
        raise ParameterError(f"region {place if region != source.region else region!r} needs boundaries and "
                             "lookup besides the IoD file, or name its councils instead", parameter="region",
                             related=("boundaries", "lookup"))
    return councils, region


def imd_data(source: DataSource, *, councils=None) -> StudyData:
    """Load the IoD alone (with population, optional boundaries and lookup): the study LSOAs of ``councils``.

    An England-wide file is kept as :attr:`StudyData.national` for references and national deciles.
    """
    from geotarget.data.sample import bundled_regions

    imd, v_in = source.imd, source.vintage
    reg = bundled_regions()
    notes: list[str] = []
    sources: list[Source] = []
    frame, v = read_imd(imd, vintage=v_in)
    file_lsoas = len(frame)
    gaps: list[pd.DataFrame] = []
    sources.append(Source("imd", Path(imd), f"{v.name}, LSOA {v.lsoa_year} (MHCLG)"))
    if source.population is not None:
        pop = read_population(source.population, vintage=v.year)
        frame = add_population(_population_gaps(frame, pop, source, gaps), pop)
        sources.append(Source("population", Path(source.population), "population"))
    if "pop_total" not in frame.columns:
        raise SchemaError(f"{imd}: the file has no population denominators; pass a population file as "
                          "`population` (e.g. ONS mid-year LSOA estimates)").naming("population")
    if "lad_code" not in frame.columns:
        raise SchemaError(f"{imd}: no local authority district code column; expected e.g. 'Local Authority "
                          "District code (2024)' or lad24cd")
    lk = None
    if source.lookup is not None:
        lk = read_lsoa_lookup(source.lookup)
        if source.partial:  # LSOAs the lookup lacks are left out (and listed if they are in the study)
            gaps.append(missing_lsoas(frame["lad_code"], lk.index, what="lookup row", file=source.lookup,
                                      listed_in=imd))
            frame = frame.drop(index=gaps[-1]["lsoa_code"])
        frame = attach_lookup(frame, lk[codes_in(lk.index, frame.index)])
        sources.append(Source("lookup", Path(source.lookup), "ONS best-fit LSOA to ward lookup"))
    national = None
    if len(frame) == v.n_lsoas:
        national = frame.copy()
        national["region_code"] = national["lad_code"].map(reg["region_code"])
        lost = national.loc[national["region_code"].isna(), "lad_code"].unique()
        if len(lost):
            log.warning("no region for %d LAD code(s): %s", len(lost), ", ".join(lost[:5]))
    chosen = sorted(frame["lad_code"].dropna().unique())
    if councils:
        if "lad_name" not in frame.columns:
            raise SchemaError(f"{imd}: no council names in the file to select `councils` by").naming("councils")
        chosen = resolve_councils(councils, frame.groupby("lad_code")["lad_name"].first())
    here = frame.index[codes_in(frame["lad_code"], set(chosen))]
    expected = _expected_lsoas(frame.loc[here, "lad_code"], lk, set(chosen))
    gaps.append(missing_lsoas(expected, frame.index, what="IoD row", file=imd, listed_in=source.lookup))
    b = None
    if source.boundaries is not None:
        b = read_boundaries(source.boundaries, layer=source.boundaries_layer,
                            level=f"lsoa{v.lsoa_year % 100}" if source.boundaries_layer is None else None)
        sources.append(Source("boundaries", Path(source.boundaries), f"ONS LSOA {v.lsoa_year} boundaries"))
        gaps.append(missing_lsoas(expected.reindex(here), b.index, what="boundary", file=source.boundaries,
                                  listed_in=imd))
    names_all = frame.groupby("lad_code")["lad_name"].first() if "lad_name" in frame.columns else None
    missing = _coverage(gaps, expected, source, names_all, notes)
    if missing is not None:
        here = here.difference(missing["lsoa_code"])
        chosen = [c for c in chosen if codes_in(frame.loc[here, "lad_code"], {c}).any()]
    keep = frame.loc[here]
    if b is not None:
        lsoas = attach_imd(b[codes_in(b.index, keep.index)], keep, vintage=v)
    else:
        lsoas = gpd.GeoDataFrame(keep.copy())
    lsoas.attrs = dict(frame.attrs)
    names = keep.groupby("lad_code")["lad_name"].first() if "lad_name" in keep.columns else pd.Series(dtype=str)
    place = "England" if national is not None and not councils else \
        (names.iloc[0] if len(chosen) == 1 and len(names) else f"{len(chosen)} councils")
    asset_frame = gpd.GeoDataFrame({"asset_type": [], "name": [], "lad_code": []}, geometry=[], crs=BNG)
    return StudyData(v, lsoas, None, None, None, None, asset_frame, tuple(chosen), place, national=national,
                     regions=reg, sources=tuple(sources), notes=tuple(notes), source=source,
                     file_lsoas=file_lsoas, missing_lsoas=missing)


def _read_imd_population(source: DataSource, sources: list[Source],
                         gaps: list[pd.DataFrame] | None = None) -> tuple[pd.DataFrame, Vintage]:
    """Read the IoD (and the population file, if given) and record their sources.

    With ``source.partial``, IoD LSOAs the population file lacks are left out and added to ``gaps``
    (:func:`geotarget.data.join.missing_lsoas`); otherwise they are an error.

    Raises
    ------
    SchemaError
        If there is no population file and the IoD file carries no denominators, or the population file
        misses LSOAs of the IoD (unless ``source.partial``).
    """
    imd, population = source.imd, source.population
    frame, v = read_imd(imd, vintage=source.vintage)
    sources.append(Source("imd", Path(imd), f"{v.name}, LSOA {v.lsoa_year} (MHCLG)"))
    if population is not None:
        pop = read_population(population, vintage=v.year)
        frame = _population_gaps(frame, pop, source, gaps)
        frame = add_population(frame, pop)
        year = _header_year(Path(population), r"mid[-_ ]?(\d{4})")
        sources.append(Source("population", Path(population), f"population mid-{year}" if year else "population"))
    elif "pop_total" not in frame.columns:
        raise SchemaError(f"{imd}: the file has no population denominators; give a population file "
                          "(e.g. ONS mid-year LSOA estimates) or the IoD File 7, which has them")
    else:
        sources[-1] = Source("imd", Path(imd), f"{v.name}, LSOA {v.lsoa_year}, population {v.population} (MHCLG)")
    return frame, v


def _population_gaps(frame: pd.DataFrame, pop: pd.DataFrame, source: DataSource,
                     gaps: list[pd.DataFrame] | None) -> pd.DataFrame:
    """With ``source.partial``: ``frame`` without the LSOAs ``pop`` lacks (recorded in ``gaps``); else ``frame``."""
    if not source.partial or gaps is None:
        return frame
    lad = frame["lad_code"] if "lad_code" in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    gone = missing_lsoas(lad, pop.index, what="population", file=source.population, listed_in=source.imd)
    gaps.append(gone)
    return frame.drop(index=gone["lsoa_code"])


def _coverage(gaps: list[pd.DataFrame], expected: pd.Series, source: DataSource, names: pd.Series,
              notes: list[str], lk: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Check that every LSOA of ``expected`` is covered by every file; return the LSOAs left out (or ``None``).

    Each gap (:func:`geotarget.data.join.missing_lsoas`) is an error unless ``source.partial``; then each
    adds a note and the LSOAs are returned, to be left out.
    """
    found = []
    for gap in gaps:
        gap = gap[gap["lsoa_code"].isin(expected.index)].copy()
        if gap.empty:
            continue
        gap["lad_code"] = expected.reindex(gap["lsoa_code"]).to_numpy()
        note = check_coverage(gap, expected, partial=source.partial, names=names)
        notes.append(note)
        found.append(gap)
    if not found:
        return None
    return pd.concat(found, ignore_index=True).drop_duplicates("lsoa_code").reset_index(drop=True)


def _with_councils(frame: pd.DataFrame, lk: pd.DataFrame, imd, lookup) -> tuple[pd.DataFrame, pd.Series]:
    """Give the IoD each LSOA's council code and name from the lookup where it has none.

    Returns the frame and the council names by LAD code (the codes themselves if no names are known).
    """
    if "lad_code" not in frame.columns:
        if "lad_code" not in lk.columns:
            raise SchemaError(f"{imd} and {lookup}: neither gives each LSOA's council (lad_code)")
        frame = frame.join(lk[[c for c in ("lad_code", "lad_name") if c in lk.columns]], how="left")
    if "lad_name" not in frame.columns and "lad_name" in lk.columns:
        frame = frame.join(lk[["lad_name"]], how="left")
    names = frame.groupby("lad_code")["lad_name"].first() if "lad_name" in frame.columns else \
        pd.Series(frame["lad_code"].unique(), index=frame["lad_code"].unique())
    return frame, names


def _expected_lsoas(here: pd.Series, lk: pd.DataFrame | None, chosen: set[str]) -> pd.Series:
    """Return the LSOAs a study of ``chosen`` councils must cover (LSOA code -> council code).

    ``here``: the IoD's LSOAs of the chosen councils; with a lookup ``lk``, also every LSOA it gives those
    councils (so an IoD file cut short is noticed).
    """
    if lk is None or "lad_code" not in lk.columns:
        return here
    listed = lk["lad_code"][codes_in(lk["lad_code"], chosen)]
    return pd.concat([here, listed[~listed.index.isin(here.index)]])


def _choose_councils(source: DataSource, *, councils, region, names: pd.Series, all_england: bool,
                     sources: list[Source], listed: set[str] | None = None) -> tuple[str, list[str]]:
    """Return the place name (``""`` if it is to be made from the councils) and the chosen LAD codes.

    The councils of ``region`` (read from ``source.regions``, else the bundled council -> region table), else
    ``councils``, else every council in ``names``
    (``"England"`` when ``all_england``: the IoD file covers all of England).
    """
    if region:
        if source.regions is not None:
            reg = read_regions(source.regions)
            sources.append(Source("regions", Path(source.regions), "ONS council to region lookup"))
        else:  # the bundled table of England's councils and regions
            from geotarget.core.places import sample_path
            from geotarget.data.sample import REGIONS, bundled_regions

            reg = bundled_regions()
            sources.append(Source("regions", sample_path(REGIONS), "ONS council to region lookup (bundled, 2024)"))
        place, chosen = resolve_region(region, reg)
        # a council of the region that the lookup (``listed``) has but the IoD lacks is kept: the coverage check
        # names its missing LSOAs
        chosen = [c for c in chosen if c in names.index or c in (listed or set())]
    elif councils:
        chosen = resolve_councils(councils, names)
        place = ""
    else:
        chosen = sorted(names.index)
        place = "England" if all_england else ""
    return place, chosen


def _council_outlines(source: DataSource, lsoas: gpd.GeoDataFrame, chosen_set: set[str], names: pd.Series,
                      v: Vintage, sources: list[Source], notes: list[str]) -> gpd.GeoDataFrame:
    """Return the chosen councils' boundaries (from ``source.lads``, else the LSOAs dissolved by council)."""
    lads = source.lads
    if lads is None:
        notes.append("Council outlines are the LSOAs dissolved by council (no council boundary file given).")
        return _dissolve(lsoas, "lad_code", ["lad_name"])
    lad_b = _read_areas(lads, source.lads_layer, "lad", "lad")
    sources.append(Source("lads", Path(lads), "ONS council boundaries"))
    missing = sorted(chosen_set.difference(lad_b.index))
    if missing:
        raise SchemaError(f"{lads}: no boundary for council(s) {', '.join(missing[:5])}; is the file for the "
                          f"same council year as the IoD ({v.lad_year})?")
    lad_b = lad_b.loc[sorted(chosen_set)]
    named = names.reindex(lad_b.index)
    lad_b["lad_name"] = named.fillna(lad_b["lad_name"]) if "lad_name" in lad_b.columns else named
    return lad_b[["lad_name", "geometry"]]


def _ward_outlines(source: DataSource, lsoas: gpd.GeoDataFrame, ward_vintage: str, sources: list[Source],
                   notes: list[str]) -> gpd.GeoDataFrame:
    """Return the study's ward boundaries (from ``source.wards``, else the LSOAs dissolved by best-fit ward)."""
    wards = source.wards
    ward_codes = lsoas["ward_code"].unique() if "ward_code" in lsoas.columns else []
    if wards is not None:
        ward_b = _read_areas(wards, source.wards_layer, "ward", "ward")
        sources.append(Source("wards", Path(wards), "ONS ward boundaries"))
        missing = pd.Index(ward_codes).difference(ward_b.index)
        if len(missing):
            raise SchemaError(f"{wards}: no boundary for {len(missing):,} wards of the lookup, e.g. "
                              f"{', '.join(missing[:5])}; use ward boundaries of the lookup's year "
                              f"({ward_vintage})")
        ward_b = ward_b.loc[sorted(ward_codes)]
        first = lsoas.groupby("ward_code")[[c for c in ("ward_name", "lad_code", "lad_name") if c in lsoas]].first()
        for c in first.columns:
            if c not in ward_b.columns:
                ward_b[c] = first[c].reindex(ward_b.index)
        return ward_b[[*(c for c in ("ward_name", "lad_code", "lad_name") if c in ward_b.columns), "geometry"]]
    if len(ward_codes):
        notes.append("Ward outlines are approximate: the LSOAs dissolved by their best-fit ward (no ward boundary "
                     "file given; LSOAs do not nest in wards).")
        return _dissolve(lsoas, "ward_code", ["ward_name", "lad_code", "lad_name"])
    return gpd.GeoDataFrame({"ward_name": []}, geometry=[], crs=BNG, index=pd.Index([], name="ward_code"))


def _msoa_outlines(source: DataSource, lsoas: gpd.GeoDataFrame, v: Vintage, sources: list[Source],
                   notes: list[str]) -> gpd.GeoDataFrame:
    """Return the study's MSOA boundaries (from ``source.msoas``, else the LSOAs dissolved by MSOA).

    With an MSOA file and no MSOA codes in the lookup, ``msoa_code`` (and ``msoa_name``) are added to ``lsoas``
    in place.
    """
    msoas = source.msoas
    if msoas is not None:
        msoa_b = _read_areas(msoas, source.msoas_layer, f"msoa{v.lsoa_year % 100}", "msoa")
        sources.append(Source("msoas", Path(msoas), f"ONS MSOA {v.lsoa_year} boundaries"))
        if "msoa_code" not in lsoas.columns:
            lsoas["msoa_code"], how = _msoa_codes(lsoas, msoa_b)
            if "msoa_name" in msoa_b.columns:
                lsoas["msoa_name"] = msoa_b["msoa_name"].reindex(lsoas["msoa_code"]).to_numpy()
            notes.append(f"MSOA codes (the lookup has none): {how}.")
        msoa_b = msoa_b.loc[codes_in(msoa_b.index, lsoas["msoa_code"])]
        if "lad_code" not in msoa_b.columns:
            msoa_b["lad_code"] = lsoas.groupby("msoa_code")["lad_code"].first().reindex(msoa_b.index)
        return msoa_b[[*(c for c in ("msoa_name", "lad_code") if c in msoa_b.columns), "geometry"]]
    if "msoa_code" in lsoas.columns:
        notes.append("MSOA outlines are the LSOAs dissolved by MSOA (no MSOA boundary file given).")
        return _dissolve(lsoas, "msoa_code", ["msoa_name", "lad_code"])
    return gpd.GeoDataFrame({"msoa_name": [], "lad_code": []}, geometry=[], crs=BNG,
                            index=pd.Index([], name="msoa_code"))


def _centroid_points(source: DataSource, lsoas: gpd.GeoDataFrame, v: Vintage, sources: list[Source],
                     notes: list[str]) -> tuple[gpd.GeoDataFrame, PopulationPoints | None]:
    """Return the LSOA centroids and, with ``codepoint`` and ``postcode_lookup``, the population points.

    Centroids: from ``source.centroids``; else the mean of each LSOA's live residential postcodes
    (an LSOA without one: a point inside it); else, without postcode files, a point inside each
    LSOA. The ``method`` column of derived centroids says which.
    """
    centroids = source.centroids
    cen = pts = None
    if centroids is not None:
        cen = _read_centroids(centroids, lsoas)
        sources.append(Source("centroids", Path(centroids), f"ONS population-weighted centroids, LSOA {v.lsoa_year}"))
    if source.codepoint is not None and source.postcode_lookup is not None:
        pts = population_points(lsoas, codepoint=source.codepoint, postcode_lookup=source.postcode_lookup,
                                centroids=cen, lsoa_year=v.lsoa_year)
        sources.append(Source("codepoint", Path(source.codepoint), "OS Code-Point Open postcode locations"))
        sources.append(Source("postcode_lookup", Path(source.postcode_lookup), "ONS postcode lookup"))
        notes.append(pts.note)
    elif source.postcode_lookup is not None:
        notes.append("The postcode lookup was not used: residential postcodes need Code-Point Open too (codepoint).")
    if cen is not None:
        return cen, pts
    if pts is not None:
        cen = postcode_centres(pts.points, lsoas)
        n_in = int((cen["method"] == "interior_point").sum())
        notes.append(f"LSOA centroids are the mean location of each LSOA's live residential postcodes, standing in for "
                     f"the ONS population-weighted centroids (no centroid file given); {n_in:,} LSOAs without a "
                     "residential postcode have a point inside the LSOA instead.")
        return cen, pts
    notes.append("LSOA centroids are points inside each LSOA, standing in for the ONS population-weighted "
                 "centroids (no centroid file given).")
    return gpd.GeoDataFrame({"lsoa_name": lsoas.get("lsoa_name"), "method": "interior_point"},
                            geometry=lsoas.geometry.representative_point(), crs=BNG), None


def _assets_inside(source: DataSource, lad_b: gpd.GeoDataFrame, sources: list[Source],
                   notes: list[str], *, postcodes: pd.DataFrame | None = None
                   ) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
    """Read the asset files and keep the assets within ``source.asset_margin`` metres of the chosen councils.

    People near a council's edge use the surgery over the border, so assets in neighbouring councils
    within the margin count (``lad_code`` is the council holding an asset, ``None`` over the border;
    ``distance_to_area_m`` its distance from the study). GIS files are read as they are; tables (e.g.
    the NHS ODS epraccur file as published) through :func:`geotarget.io.assets.read_assets`, located by
    postcode with ``source.codepoint`` (else the bundled postcodes). Returns the assets and the
    postcode table used (``postcodes`` if given, e.g. Code-Point already read for the population
    points), kept as :attr:`StudyData.postcode_locations`.
    """
    from geotarget.io.assets import assets_near, is_os_greenspace, is_table, read_assets
    from geotarget.io.postcodes import read_postcodes

    frames = []
    for path in source.assets:
        p = require_file(path, "assets")
        if is_table(p):
            if postcodes is None:
                postcodes = read_postcodes(source.codepoint)
            read = read_assets(p, postcodes=postcodes)
            g = read.assets.assign(asset_type=read.assets["category"])
            if len(read.rejects):
                notes.append(f"{read.summary()}.")
        elif is_os_greenspace(p):  # read by the access job as parks (sites and entrances)
            notes.append(f"{p.name}: OS Open Greenspace, read by the access job as parks.")
            sources.append(Source("assets", p, None))
            continue
        else:
            x0, y0, x1, y1 = lad_b.total_bounds
            m = source.asset_margin
            box = gpd.GeoSeries([shapely.box(x0 - m, y0 - m, x1 + m, y1 + m)], crs=BNG)
            g = to_bng(gpd.read_file(p, bbox=box), source=str(p))
        near, note = assets_near(g, lad_b[["geometry"]], margin=source.asset_margin)
        near = near.rename(columns={"area_code": "lad_code"}) if "lad_code" not in near else \
            near.drop(columns="area_code")
        notes.append(f"{p.name}: {note}")
        log.info("%s: %s", p, note)
        frames.append(near.assign(source_file=p.name))
        sources.append(Source("assets", p, None))
    if frames:
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=BNG), postcodes
    return gpd.GeoDataFrame({"asset_type": [], "name": [], "lad_code": []}, geometry=[], crs=BNG), postcodes


def _bundle(source: DataSource, *, councils, region) -> StudyData:
    """Join the IoD, boundaries and lookup (and the optional layers): what a run and a map need."""
    imd, boundaries, lookup = source.imd, source.boundaries, source.lookup
    if councils and region:
        raise SchemaError("give councils or a region, not both")
    sources: list[Source] = []
    notes: list[str] = []
    gaps: list[pd.DataFrame] = []
    with stage("reading the IoD"):
        frame, v = _read_imd_population(source, sources, gaps)
        file_lsoas = len(frame) + sum(len(g) for g in gaps)
    with stage(f"reading LSOA {v.lsoa_year} boundaries"):
        b = _read_areas(boundaries, source.boundaries_layer, f"lsoa{v.lsoa_year % 100}", "lsoa")
        sources.append(Source("boundaries", Path(boundaries), f"ONS LSOA {v.lsoa_year} boundaries"))
    with stage("joining IoD, boundaries and lookup"):
        lk = read_lsoa_lookup(lookup)
        ward_year = _header_year(Path(lookup), r"^wd(\d\d)cd$")
        ward_vintage = f"May {ward_year}" if ward_year else f"as in {Path(lookup).name}"
        sources.append(Source("lookup", Path(lookup), f"ONS best-fit LSOA to ward ({ward_vintage}) lookup"))
        frame, names = _with_councils(frame, lk, imd, lookup)

        # the place
        place, chosen = _choose_councils(source, councils=councils, region=region, names=names,
                                         all_england=file_lsoas == v.n_lsoas, sources=sources,
                                         listed=set(lk["lad_code"].dropna()) if "lad_code" in lk.columns else None)
        chosen_set = set(chosen)
        imd_here = frame.index[codes_in(frame["lad_code"], chosen_set)]
        # coverage: every LSOA the lookup gives the chosen councils has an IoD row, a boundary and a lookup row
        expected = _expected_lsoas(frame.loc[imd_here, "lad_code"], lk, chosen_set)
        gaps += [missing_lsoas(expected, frame.index, what="IoD row", file=imd, listed_in=lookup),
                 missing_lsoas(expected.reindex(imd_here), b.index, what="boundary", file=boundaries,
                               listed_in=imd),
                 missing_lsoas(expected.reindex(imd_here), lk.index, what="lookup row", file=lookup, listed_in=imd)]
        missing = _coverage(gaps, expected, source, names, notes)
        if missing is not None:
            imd_here = imd_here.difference(missing["lsoa_code"])
            chosen = [c for c in chosen if codes_in(frame.loc[imd_here, "lad_code"], {c}).any()]
            chosen_set = set(chosen)
        b = b.loc[codes_in(b.index, imd_here)]
        lsoas = attach_imd(b, frame, vintage=v)
        lsoas = attach_lookup(lsoas, lk[codes_in(lk.index, lsoas.index)])
        lsoas = lsoas.loc[lsoas.index.sort_values()]

    with stage("council, ward and MSOA boundaries"):
        lad_b = _council_outlines(source, lsoas, chosen_set, names, v, sources, notes)
        ward_b = _ward_outlines(source, lsoas, ward_vintage, sources, notes)
        msoa_b = _msoa_outlines(source, lsoas, v, sources, notes)

    with stage("centroids and assets"):
        cen, pts = _centroid_points(source, lsoas, v, sources, notes)
        asset_frame, postcode_locations = _assets_inside(source, lad_b, sources, notes,
                                                         postcodes=None if pts is None else pts.locations)

    first = ["lsoa_name", "msoa_code", "msoa_name", "ward_code", "ward_name", "lad_code", "lad_name"]
    first = [c for c in first if c in lsoas.columns] + [c for c in lsoas.columns if c.startswith("pop_")]
    lsoas = lsoas[[*first, *(c for c in lsoas.columns if c not in first and c != "geometry"), "geometry"]]
    if not place:
        picked = list(names.reindex(chosen).fillna(pd.Series(chosen, index=chosen)))
        place = picked[0] if len(picked) == 1 else f"{len(picked)} councils"
        if set(chosen) == set(TEES_VALLEY):
            place = "Tees Valley"
    log.info("%s: %s, %d LSOAs in %d councils", place, v.label, len(lsoas), len(chosen))
    from geotarget.data.sample import bundled_regions

    reg = bundled_regions()
    national = None
    if len(frame) == v.n_lsoas:
        national = frame.copy()
        national["region_code"] = national["lad_code"].map(reg["region_code"])
    # HIA screening: IoD File 8 indicators, the CNI and England comparators (source.indicators, source.cni)
    from geotarget.data.hia_inputs import hia_layers

    hia = hia_layers(source, study=lsoas.index, national=national, vintage=v, sources=sources, notes=notes)
    postcodes = {} if pts is None else dict(postcodes=pts.points, postcodes_note=pts.note, postcode_index=pts.index)
    return StudyData(v, lsoas, ward_b, lad_b, msoa_b, cen, asset_frame, tuple(chosen), place, national=national,
                     regions=reg, sources=tuple(sources), notes=tuple(notes), ward_vintage=ward_vintage,
                     source=source, file_lsoas=file_lsoas, postcode_locations=postcode_locations,
                     missing_lsoas=missing, **hia, **postcodes)


__all__ = ["files_data", "imd_data", "read_regions", "record_inputs", "resolve_region"]
