"""The bundled places (Tees Valley, Trafford): the ``source="sample"`` branch of :func:`geotarget.data.load`."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geotarget.core.councils import resolve_councils
from geotarget.core.crs import BNG
from geotarget.core.errors import DataNotFoundError, SchemaError
from geotarget.core.places import get_place, sample_path
from geotarget.core.vintages import Vintage, get_vintage
from geotarget.data.join import attach_imd
from geotarget.data.source import DataSource
from geotarget.data.study_data import Source, StudyData
from geotarget.io.boundaries import read_boundaries
from geotarget.io.imd import add_population, read_imd, read_population
from geotarget.io.lookups import attach_lookup, read_lsoa_lookup
from geotarget.io.postcodes import read_postcode_points
from geotarget.io.tables import read_text_table

log = logging.getLogger(__name__)

#: Bundled tables shared by every place.
REFERENCE = "data/reference/england_region_means.csv"
REGIONS = "data/lookups/lad_region_england.csv"
HIA_FILES = {2025: ("data/hia/iod2025_indicators_lsoa21_{place}.csv", "lsoa21cd"),
             2019: ("data/hia/iod2019_indicators_lsoa11_{place}.csv", "lsoa11cd")}
CNI_FILE = "data/hia/cni2023_lsoa21_{place}.csv"
HIA_REFERENCE = "data/hia/england_reference.csv"


def bundled_regions(*, root: Path | None = None) -> pd.DataFrame:
    """LAD code -> region code and name (2024 regions; 2019 and 2024 LAD codes), bundled."""
    return pd.read_csv(sample_path(REGIONS, root=root), dtype=str).set_index("lad_code")


def sample_data(source: DataSource, *, root: Path | None = None) -> StudyData:
    """Load a bundled place, offline: the ``source="sample"`` branch of :func:`geotarget.data.load`.

    ``source.place`` is ``"tees_valley"`` (five councils) or ``"trafford"`` (E08000009). Trafford's IoD2025
    population is the ONS mid-2022 estimate (the IoD2025 denominators are bundled only for the Tees Valley)
    and its LSOA 2021 centroids are a documented proxy (``method`` column of ``centroids``; see
    ``data/PROVENANCE.md``).
    """
    for name in ("imd", "population", "boundaries", "lookup", "lads", "wards", "msoas", "centroids", "regions"):
        if getattr(source, name) is not None:
            raise SchemaError(f"{name} = {getattr(source, name)} goes with source = \"files\" (official files), not "
                              "with the bundled sample; drop it or set source = \"files\"")
    v = get_vintage(source.vintage or 2025)
    pl = get_place(source.place)
    files = pl.files[v.year]
    gpkg = sample_path(pl.boundaries, root=root)
    imd, _ = read_imd(sample_path(files["imd"], root=root), vintage=v.year)
    imd = add_population(imd, read_population(sample_path(files["population"], root=root), vintage=v.year))
    lsoas = attach_imd(read_boundaries(gpkg, layer=files["lsoa_layer"]), imd, vintage=v)
    lsoas = attach_lookup(lsoas, read_lsoa_lookup(sample_path(files["lookup"], root=root)))
    lads = read_boundaries(gpkg, layer="lad2025")
    wards = read_boundaries(gpkg, layer="wards2025")
    msoas = read_boundaries(gpkg, layer=files["msoa_layer"])
    cen = pd.read_csv(sample_path(files["centroids"], root=root))
    code_col = cen.columns[0]
    centroids = gpd.GeoDataFrame(
        cen.drop(columns=["easting", "northing"]).rename(columns={code_col: "lsoa_code", cen.columns[1]: "lsoa_name"}),
        geometry=gpd.points_from_xy(cen["easting"], cen["northing"]), crs=BNG,
    ).set_index("lsoa_code")
    assets = gpd.read_file(sample_path(pl.assets, root=root), layer="community_assets")
    parks = access_points = None
    if "greenspace_sites" in _layers(sample_path(pl.assets, root=root)):
        parks = sample_layer("greenspace_sites", place=pl.key, root=root)
        access_points = sample_layer("greenspace_access_points", place=pl.key, root=root)

    first = ["lsoa_name", "msoa_code", "msoa_name", "ward_code", "ward_name", "lad_code", "lad_name"]
    first += [c for c in lsoas.columns if c.startswith("pop_")]
    lsoas = lsoas[[*first, *(c for c in lsoas.columns if c not in first and c != "geometry"), "geometry"]]
    place_lsoas = lsoas
    postcodes, postcodes_note = _population_points(pl, v, place_lsoas, root=root)
    try:
        index = postcode_points(v, place=pl.key, residential=False, root=root)
    except DataNotFoundError:  # e.g. Trafford's postcodes carry no LSOA 2011 codes
        index = None

    chosen = tuple(resolve_councils(source.councils, lads["lad_name"]) if source.councils else pl.councils)
    keep = lsoas["lad_code"].isin(chosen)
    lsoas = lsoas[keep]
    centroids = centroids[centroids.index.isin(lsoas.index)]
    wards = wards[wards["lad_code"].isin(chosen)]
    msoas = msoas[msoas["lad_code"].isin(chosen)]
    lads = lads[lads.index.isin(chosen)]

    rel, code = HIA_FILES[v.year]
    ind = pd.read_csv(sample_path(rel.format(place=pl.key), root=root)).set_index(code)
    ind.index.name = "lsoa_code"
    cni = None
    if v.year == 2025:
        cni = pd.read_csv(sample_path(CNI_FILE.format(place=pl.key), root=root)).set_index("lsoa21cd")
        cni.index.name = "lsoa_code"
    hia_ref = pd.read_csv(sample_path(HIA_REFERENCE, root=root))
    hia_ref = hia_ref[hia_ref["vintage"] == v.year].set_index(["measure", "statistic"])["value"]
    reference = pd.read_csv(sample_path(REFERENCE, root=root), dtype={"area_code": str})
    log.info("sample %s: %d LSOAs in %d councils", v.label, len(lsoas), len(chosen))
    return StudyData(v, lsoas, wards, lads, msoas, centroids, assets, chosen, pl.name, place_key=pl.key,
                     postcodes=postcodes, postcodes_note=postcodes_note, postcode_index=index, parks=parks,
                     park_access_points=access_points, reference=reference, regions=bundled_regions(root=root),
                     hia_indicators=ind, cni=cni, hia_reference=hia_ref,
                     sources=sample_sources(v, place=pl.key, root=root), source=source)


def sample_sources(vintage: int | str | Vintage = 2025, *, place: str = "tees_valley",
                   root: Path | None = None) -> tuple[Source, ...]:
    """Return the bundled files of ``place`` for ``vintage``, with their vintages (for the manifest)."""
    v = get_vintage(vintage)
    pl = get_place(place)
    files = pl.files[v.year]
    tag = f"bundled {pl.name} sample"
    return (
        Source("imd", sample_path(files["imd"], root=root), f"{v.name}, LSOA {v.lsoa_year} (MHCLG; {tag})"),
        Source("population", sample_path(files["population"], root=root),
               f"population denominators {v.population} ({v.name})"),
        Source("boundaries", sample_path(pl.boundaries, root=root),
               f"ONS LSOA {v.lsoa_year}, MSOA, ward (May 2025) and council boundaries (BGC)"),
        Source("lookup", sample_path(files["lookup"], root=root), "ONS best-fit LSOA to ward (May 2025) lookup"),
        Source("centroids", sample_path(files["centroids"], root=root),
               f"population-weighted centroids, LSOA {v.lsoa_year}"),
        Source("assets", sample_path(pl.assets, root=root), f"community assets ({tag}; see data/PROVENANCE.md)"),
    )


def _layers(path: Path) -> list[str]:
    import pyogrio

    return [str(n) for n, _ in pyogrio.list_layers(path)]


def _population_points(pl, v: Vintage, lsoas: gpd.GeoDataFrame, *, root: Path | None = None
                       ) -> tuple[gpd.GeoDataFrame, str]:
    """Residential postcodes of the place as points with the LSOA (of the vintage) they lie in."""
    path = sample_path(pl.postcodes, root=root)
    has_type = "usertype" in read_text_table(path, nrows=0).columns
    note = ("residential (small-user) postcodes" if has_type
            else "all postcodes (the bundled file has no user type, so business postcodes count too)")
    pts = read_postcode_points(path, lsoa_year=v.lsoa_year, residential=True, located_only=False)
    if pts["lsoa_code"].isna().any():  # assign by point in polygon, nearest LSOA for points on the edge
        j = gpd.sjoin_nearest(pts[["geometry"]], lsoas[["geometry"]], how="left", max_distance=200)
        pts["lsoa_code"] = j.loc[~j.index.duplicated(), "lsoa_code"].reindex(pts.index)
        note += f" (assigned to LSOA {v.lsoa_year} by point in polygon)"
    pts = pts[pts["lsoa_code"].isin(lsoas.index)].reset_index(drop=True)
    return pts, f"{len(pts):,} {note}, Code-Point Open 2025 locations"


def postcode_points(vintage: int | str = 2025, *, place: str = "tees_valley", residential: bool = True,
                         root: Path | None = None) -> gpd.GeoDataFrame:
    """Postcodes of a bundled place as points with their ``lsoa_code``.

    With ``residential=True`` (the default), live residential (small-user) postcodes only, each
    of weight 1: finer population points for apportioning LSOAs between custom areas. A place
    whose file has no user type (Trafford) gives all its postcodes. ``residential=False`` gives
    every postcode, e.g. for a map's search box.
    """
    v = get_vintage(vintage)
    path = sample_path(get_place(place).postcodes, root=root)
    try:
        return read_postcode_points(path, lsoa_year=v.lsoa_year, residential=residential)
    except SchemaError:
        raise DataNotFoundError(f"the bundled {get_place(place).name} postcodes have no LSOA {v.lsoa_year} codes") \
            from None


def sample_layer(layer: str, *, place: str = "tees_valley", root: Path | None = None) -> gpd.GeoDataFrame:
    """One layer of a bundled place's asset GeoPackage, in EPSG:27700.

    Tees Valley: ``gp_practices`` (active and closed), ``pharmacies``, ``libraries``, ``hospitals``,
    ``community_assets``. Trafford: ``gp_practices``, ``pharmacies``, ``libraries``, ``schools``,
    ``leisure_centres``, ``community_hubs``, ``food_banks``, ``community_assets``,
    ``greenspace_sites`` (OS Open Greenspace polygons with ``site_type`` and ``area_ha``) and
    ``greenspace_access_points``.

    >>> sites = sample_layer("greenspace_sites", place="trafford")
    >>> int((sites["site_type"] == "Public Park Or Garden").sum())
    37
    """
    import pyogrio

    pl = get_place(place)
    path = sample_path(pl.assets, root=root)
    names = [str(n) for n, _ in pyogrio.list_layers(path)]
    if layer not in names:
        raise DataNotFoundError(f"{path}: no layer {layer!r} in the {pl.name} sample; expected one of {names}")
    return gpd.read_file(path, layer=layer).to_crs(BNG)


__all__ = ["REFERENCE", "REGIONS", "bundled_regions", "postcode_points", "sample_data", "sample_layer",
           "sample_sources"]
