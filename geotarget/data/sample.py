"""The bundled Tees Valley sample: real IoD, boundaries, lookups and assets, ready to use."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geotarget.core.councils import resolve_councils
from geotarget.core.crs import BNG
from geotarget.core.errors import DataNotFoundError
from geotarget.core.places import get_place, sample_path
from geotarget.core.vintages import Vintage, get_vintage
from geotarget.data.join import attach_imd
from geotarget.io.boundaries import read_boundaries
from geotarget.io.imd import add_population, read_imd, read_population
from geotarget.io.lookups import attach_lookup, read_lsoa_lookup

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Sample:
    """The bundled data for one IoD vintage, all in EPSG:27700.

    Attributes
    ----------
    lsoas
        LSOA boundaries with the IoD (national ranks and deciles), population denominators,
        and best-fit MSOA, ward and council codes and names; indexed by ``lsoa_code``.
    wards, lads, msoas
        Ward (May 2025), council and MSOA boundaries, indexed by their codes.
    centroids
        ONS population-weighted centroids of the LSOAs (points).
    assets
        Community assets (active GP practices and pharmacies, libraries, hospitals).
    """

    vintage: Vintage
    lsoas: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    lads: gpd.GeoDataFrame
    msoas: gpd.GeoDataFrame
    centroids: gpd.GeoDataFrame
    assets: gpd.GeoDataFrame
    councils: tuple[str, ...]
    place: str = "tees_valley"


def load_sample(vintage: int | str = 2025, *, councils: Sequence[str] | None = None,
                place: str = "tees_valley", root: Path | None = None) -> Sample:
    """Load a bundled sample: the Tees Valley (default) or Trafford.

    Parameters
    ----------
    vintage
        2025 (IoD2025 on LSOA 2021, the default) or 2019 (IoD2019 on LSOA 2011).
    councils
        Council codes or names (case-insensitive) to keep; default all of the place's councils.
    place
        ``"tees_valley"`` (five councils) or ``"trafford"`` (E08000009). Trafford's IoD2025
        population is the ONS mid-2022 estimate (the IoD2025 denominators are bundled only for
        the Tees Valley) and its LSOA 2021 centroids are a documented proxy (``method`` column
        of ``centroids``; see ``data/PROVENANCE.md``).

    Examples
    --------
    >>> s = load_sample(2025, councils=["Middlesbrough"])
    >>> len(s.lsoas), int((s.lsoas["imd_decile"] == 1).sum())
    (90, 45)
    >>> t = load_sample(2025, place="trafford")
    >>> len(t.lsoas), len(t.wards), t.councils
    (139, 21, ('E08000009',))
    """
    v = get_vintage(vintage)
    pl = get_place(place)
    files = pl.files[v.year]
    gpkg = sample_path(pl.boundaries, root=root)
    imd = add_population(read_imd(sample_path(files["imd"], root=root)),
                         read_population(sample_path(files["population"], root=root)))
    lsoas = attach_imd(read_boundaries(gpkg, layer=files["lsoa_layer"]), imd)
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

    first = ["lsoa_name", "msoa_code", "msoa_name", "ward_code", "ward_name", "lad_code", "lad_name"]
    first += [c for c in lsoas.columns if c.startswith("pop_")]
    lsoas = lsoas[[*first, *(c for c in lsoas.columns if c not in first and c != "geometry"), "geometry"]]

    chosen = tuple(resolve_councils(councils, lads["lad_name"]) if councils else pl.councils)
    keep = lsoas["lad_code"].isin(chosen)
    lsoas = lsoas[keep]
    centroids = centroids[centroids.index.isin(lsoas.index)]
    wards = wards[wards["lad_code"].isin(chosen)]
    msoas = msoas[msoas["lad_code"].isin(chosen)]
    assets = assets[assets["lad_code"].isin(chosen)].reset_index(drop=True)
    lads = lads[lads.index.isin(chosen)]
    log.info("sample %s: %d LSOAs in %d councils", v.label, len(lsoas), len(chosen))
    return Sample(v, lsoas, wards, lads, msoas, centroids, assets, chosen, pl.key)


def load_postcode_points(vintage: int | str = 2025, *, place: str = "tees_valley", residential: bool = True,
                         root: Path | None = None) -> gpd.GeoDataFrame:
    """Postcodes of a bundled place as points with their ``lsoa_code``.

    With ``residential=True`` (the default), live residential (small-user) postcodes only, each
    of weight 1: finer population points for apportioning LSOAs between custom areas. A place
    whose file has no user type (Trafford) gives all its postcodes. ``residential=False`` gives
    every postcode, e.g. for a map's search box.
    """
    v = get_vintage(vintage)
    pc = pd.read_csv(sample_path(get_place(place).postcodes, root=root), dtype={"usertype": "string"})
    code = f"lsoa{v.lsoa_year % 100}cd"
    if code not in pc.columns:
        raise DataNotFoundError(f"the bundled {get_place(place).name} postcodes have no LSOA {v.lsoa_year} codes")
    keep = pc[code].notna()
    if residential and "usertype" in pc.columns:
        keep &= pc["usertype"] == "0"
    pc = pc[keep]
    return gpd.GeoDataFrame({"postcode": pc["postcode"].to_numpy(), "lsoa_code": pc[code].to_numpy(), "weight": 1.0},
                            geometry=gpd.points_from_xy(pc["easting"], pc["northing"]), crs=BNG)


def load_sample_layer(layer: str, *, place: str = "tees_valley", root: Path | None = None) -> gpd.GeoDataFrame:
    """One layer of a bundled place's asset GeoPackage, in EPSG:27700.

    Tees Valley: ``gp_practices`` (active and closed), ``pharmacies``, ``libraries``, ``hospitals``,
    ``community_assets``. Trafford: ``gp_practices``, ``pharmacies``, ``libraries``, ``schools``,
    ``leisure_centres``, ``community_hubs``, ``food_banks``, ``community_assets``,
    ``greenspace_sites`` (OS Open Greenspace polygons with ``site_type`` and ``area_ha``) and
    ``greenspace_access_points``.

    >>> sites = load_sample_layer("greenspace_sites", place="trafford")
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


def bundled_postcodes_path(place: str = "tees_valley", *, root: Path | None = None) -> Path:
    """Path of a bundled place's postcode lookup (postcode, easting, northing, ...)."""
    return sample_path(get_place(place).postcodes, root=root)
