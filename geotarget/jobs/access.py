"""The access job: assets against need for the LSOAs of a study, with its tables, layers and files.

:func:`assess_access` joins the pieces -- located assets (:mod:`geotarget.io.assets`), park entrances
(:func:`geotarget.analysis.access.park_targets`), access per LSOA (:mod:`geotarget.analysis.access`), deserts
and KPIs (:mod:`geotarget.analysis.deserts`) -- for the LSOAs of a
:class:`~geotarget.data.study_data.StudyData`, and :func:`write_access` writes ``access.csv``,
``asset_deserts.csv``, ``kpis.csv``, ``assets.gpkg`` and ``rejects.csv``. ``geotarget access`` is a thin layer
over the two.

Any council: with data from the official files or the cache, :func:`sample_assets` reads the study's asset
files (e.g. the NHS ODS epraccur file as published) located by postcode with the study's postcode table, and
:func:`assess_access` keeps the assets within ``asset_margin`` metres of the councils (and any farther one
that is some LSOA's nearest), so that an LSOA near a council edge sees the surgery just over the border.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geotarget.analysis.access import (
    CATCHMENT_M,
    DEFAULT_PARK_TYPES,
    RADII,
    StraightLine,
    access_table,
    park_targets,
)
from geotarget.analysis.deserts import access_kpis, asset_deserts, desert_layer
from geotarget.core.errors import SchemaError
from geotarget.data.study_data import StudyData
from geotarget.io.assets import (
    AssetRead,
    asset_layer,
    assets_from_frame,
    assets_near,
    is_os_greenspace,
    is_table,
    read_assets,
    read_os_greenspace,
)
from geotarget.io.files import write_csv
from geotarget.io.provenance import Provenance
from geotarget.io.publish import publishing
from geotarget.render.qgis import write_styled_geopackage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessResult:
    """What :func:`assess_access` produced; every frame is indexed or keyed by code."""

    access: pd.DataFrame  #: one row per LSOA (``lsoa_code``)
    deserts: pd.DataFrame  #: one row per (deprived LSOA, category) beyond the threshold, ranked
    kpis: pd.DataFrame  #: per council and per ward (``area_type``, ``area_code``)
    assets: gpd.GeoDataFrame  #: the located assets (and counted park sites), with ``popup``
    targets: gpd.GeoDataFrame  #: what distances were measured to (park entrances and edges included)
    rejects: pd.DataFrame  #: rows that could not be located: ``row, reason, detail, ...``
    desert_areas: gpd.GeoDataFrame  #: desert LSOA polygons with their categories, for a map layer
    sample: StudyData  #: the data the access was measured on
    notes: list[str] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)

    def map_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return what a map should draw, computed and ready (EPSG:27700; no map code here).

        * ``asset_points`` -- every asset as a point (a park by a point on its surface), with
          ``category``, ``category_label``, ``name`` and a plain-text ``popup`` (for
          ``MapBuilder.add_points(gdf, "Community assets", category_column="category",
          label_column="name", popup=["popup"])``; the builder escapes the text);
        * ``asset_areas`` -- polygon assets (parks) with the same columns and ``area_ha``;
        * ``deserts`` -- desert LSOA polygons with ``categories``, ``n_categories`` and ``popup``
          (for ``MapBuilder.add_categories``).
        """
        a = self.assets
        is_area = a.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        points = a.copy()
        points["geometry"] = a.geometry.representative_point()
        return {"asset_points": points, "asset_areas": a[is_area].copy(), "deserts": self.desert_areas}


def sample_assets(data: StudyData, *, ods_include: Sequence[str] = ()
                  ) -> tuple[AssetRead, gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """Return the study's assets (read like a user's file) and its green space sites and entrances, where it has them.

    For a bundled place: its community assets. For data from files or the cache: the asset files of the
    source (``assets``, e.g. the cached NHS ODS epraccur file), read with
    :func:`geotarget.io.assets.read_assets` (``ods_include`` as there) and located by postcode with
    :meth:`StudyData.postcode_table` (OS Code-Point Open with ``codepoint``), so that every row left out or
    not located is in the rejects. Raises :class:`~geotarget.DataNotFoundError` when there are none: name an
    asset file instead (``--assets PATH``).
    """
    from geotarget.core.errors import DataNotFoundError

    if not data.bundled and data.source.assets:
        green = [p for p in data.source.assets if is_os_greenspace(p)]
        others = [p for p in data.source.assets if p not in green]
        parks = entrances = None
        if green:
            parks, entrances = study_greenspace(green[0], data)
        if not others:
            raise DataNotFoundError(f"the data for {data.place} has green space but no other community assets: "
                                    "name an asset file (`assets`), e.g. the NHS ODS epraccur file").naming("assets")
        return read_asset_files(others, data, ods_include=ods_include), parks, entrances
    if data.assets is None or not len(data.assets) or "asset_type" not in data.assets.columns:
        raise DataNotFoundError(f"the data for {data.place} has no community assets with an asset_type: name an "
                                "asset file (`assets`), or use a bundled place (source = \"sample\")").naming("assets")
    read = assets_from_frame(data.assets, source=f"bundled {data.place} assets" if data.bundled else "assets",
                             category_column="asset_type", name_column="name", id_column="asset_id",
                             postcode_column="postcode",
                             category_map={"hospital": "other"} if data.place_key == "tees_valley" else None)
    return read, data.parks, data.park_access_points


def study_greenspace(path: str | os.PathLike, data: StudyData
                     ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Return the OS Open Greenspace sites within ``asset_margin`` m of the study's councils, and their entrances."""
    margin = float(data.source.asset_margin)
    x0, y0, x1, y1 = data.lads.total_bounds
    sites, entrances = read_os_greenspace(path, bbox=(x0 - margin, y0 - margin, x1 + margin, y1 + margin))
    sites, _ = assets_near(sites, data.lads[["geometry"]], margin=margin)
    return sites.drop(columns=["area_code", "distance_to_area_m"]), entrances


def read_asset_files(paths: Sequence[str | os.PathLike], data: StudyData, *, postcodes=None,
                     **options) -> AssetRead:
    """Read one or more asset files for a study, located by postcode with the study's postcode table.

    ``postcodes`` (a lookup or a path) overrides :meth:`StudyData.postcode_table`, which is only read
    when a file is a table (GIS files carry their geometry). ``options`` go to
    :func:`geotarget.io.assets.read_assets`. Several files are read into one :class:`AssetRead`
    (rejects carry the ``file`` they came from).
    """
    reads = []
    for path in paths:
        lookup = postcodes if postcodes is not None else (data.postcode_table() if is_table(path) else None)
        reads.append(read_assets(path, postcodes=lookup, **options))
    if len(reads) == 1:
        return reads[0]
    assets = gpd.GeoDataFrame(pd.concat([r.assets for r in reads], ignore_index=True), geometry="geometry",
                              crs=reads[0].assets.crs)
    rejects = pd.concat([r.rejects.assign(file=Path(r.source).name) for r in reads], ignore_index=True)
    return AssetRead(assets, rejects, "; ".join(r.source for r in reads), sum(r.n_rows for r in reads))


def assets_for_study(assets: gpd.GeoDataFrame, data: StudyData, origins: gpd.GeoDataFrame
                     ) -> tuple[gpd.GeoDataFrame, str]:
    """Return the assets that matter to a study from files: those within ``asset_margin`` m of its councils.

    People near a council's edge use the surgery over the border. An asset farther out is kept too
    when it is the nearest of its category to some origin (a rural LSOA whose nearest GP is more
    than the margin away), so nearest distances are exact whatever the margin; counts within a
    radius are exact for radii up to the margin.
    """
    margin = float(data.source.asset_margin)
    near, note = assets_near(assets, data.lads[["geometry"]], margin=margin)
    keep = np.zeros(len(assets), dtype=bool)
    keep[assets.index.get_indexer(near.index)] = True
    extra = 0
    xy = np.column_stack([origins.geometry.x.to_numpy(), origins.geometry.y.to_numpy()])
    for cat in assets["category"].unique():
        idx = np.flatnonzero((assets["category"] == cat).to_numpy())
        _, j = StraightLine(assets.geometry.to_numpy()[idx]).nearest(xy)
        far = idx[np.unique(j[j >= 0])]
        extra += int((~keep[far]).sum())
        keep[far] = True
    out = assets[keep].copy()
    dist = pd.Series(np.nan, index=assets.index)
    dist.loc[near.index] = near["distance_to_area_m"]
    out["distance_to_area_m"] = dist[keep].to_numpy()
    if extra:
        note += (f" {extra:,} farther assets are kept as the nearest of their category to some LSOA (more than "
                 f"{margin:,.0f} m from the councils).")
    return out, note


def _require_located(read: AssetRead | None, located, parks) -> None:
    """Raise a :class:`SchemaError` when no asset was located (and no parks are given): nothing to measure."""
    if len(located) or parks is not None:
        return
    if read is None:
        raise SchemaError("no assets were given (the frame is empty); give assets with a category and a location")
    if read.n_rows == 0:
        raise SchemaError(f"{read.source}: the file has no rows; expected one row per asset")
    why = read.rejects["reason"].value_counts()
    reasons = ", ".join(f"{reason} ({n:,})" for reason, n in why.items()) or "no reason recorded"
    raise SchemaError(f"{read.source}: none of its {read.n_rows:,} rows could be located ({reasons}); give "
                      "postcodes, coordinates or geometries that locate them (name their columns with "
                      "`postcode_column`, `lat_column`/`lon_column` or `x_column`/`y_column`)").naming(
        "postcode_column", "lat_column", "lon_column", "x_column", "y_column")


def assess_access(
    data: StudyData,
    assets: AssetRead | gpd.GeoDataFrame,
    *,
    parks: gpd.GeoDataFrame | None = None,
    park_access_points: gpd.GeoDataFrame | None = None,
    park_types: Sequence[str] | None = DEFAULT_PARK_TYPES,
    radii: Sequence[float] = RADII,
    catchment: float = CATCHMENT_M,
    capacity_column: str | None = None,
    network=None,
    max_decile: int = 2,
    thresholds: Mapping[str, float] | None = None,
    engine: str = "memory",
) -> AccessResult:
    """Access to assets from every LSOA of the study, deserts and KPIs.

    Parameters
    ----------
    data
        The study (:func:`geotarget.data.load`): origins are its LSOAs' population points
        (``centroids``); deserts and KPIs need their IoD deciles and ward/council codes.
    assets
        Located assets: an :class:`~geotarget.io.assets.AssetRead` (its rejects are carried
        through) or a GeoDataFrame with ``category``.
    parks, park_access_points, park_types
        Green space sites (polygons with ``site_type``) and their entrances: distance to a park
        is to its nearest entrance, or its edge where it has none; only ``park_types`` count.
    radii, catchment, capacity_column, network, engine
        As for :func:`geotarget.analysis.access.access_table`.
    max_decile, thresholds
        As for :func:`geotarget.analysis.deserts.asset_deserts`.
    """
    read = assets if isinstance(assets, AssetRead) else None
    located = read.assets if read is not None else assets
    rejects = read.rejects if read is not None else pd.DataFrame(columns=["row", "reason", "detail"])
    data.require("lsoas geometry", "centroids", what="access")
    sample = data
    notes = []
    origins = sample.centroids[["geometry"]].join(sample.lsoas[["pop_total"]], how="inner")
    if not data.bundled and data.lads is not None and len(data.lads) and len(located):
        located, note = assets_for_study(located.reset_index(drop=True), data, origins)
        notes.append(note)
    _require_located(read, located, parks)
    targets = located
    shown = asset_layer(located)
    if parks is not None:
        pt = park_targets(parks, park_access_points, site_types=park_types)
        targets = pd.concat([located[located["category"] != "park"], pt], ignore_index=True)
        targets = gpd.GeoDataFrame(targets, geometry="geometry", crs=located.crs)
        sites = pt.drop_duplicates("asset_id").drop(columns="geometry")
        sites = gpd.GeoDataFrame(sites.merge(_site_geometry(parks, pt), on="asset_id"), geometry="geometry",
                                 crs=located.crs)
        shown = pd.concat([shown, asset_layer(sites)], ignore_index=True)
        notes.append(f"Parks: {sites['asset_id'].nunique():,} sites of type {', '.join(park_types or ['any'])}; "
                     f"distance to the nearest access point ({int((pt['target'] == 'access point').sum()):,}), or to "
                     f"the site edge for {int((pt['target'] == 'site edge').sum()):,} sites without one.")
        kpi_assets = pd.concat([located[located["category"] != "park"], sites], ignore_index=True)
        if "park" in set(located["category"]):
            notes.append("Park polygons in the asset file were replaced by the green space sites (parks).")
    else:
        kpi_assets = located
    kpi_assets = gpd.GeoDataFrame(kpi_assets, geometry="geometry", crs=located.crs)
    acc = access_table(origins, targets, population="pop_total", radii=radii, catchment=catchment,
                       capacity_column=capacity_column, network=network, engine=engine)
    deserts = asset_deserts(acc, sample.lsoas, max_decile=max_decile, thresholds=thresholds)
    kpis = pd.concat([access_kpis(acc, sample.lsoas, by=b, assets=kpi_assets, thresholds=thresholds)
                      .assign(area_type=b).reset_index() for b in ("lad", "ward")], ignore_index=True)
    if "lad_name" in kpis:
        kpis["lad_name"] = kpis["lad_name"].where(kpis["area_type"] == "ward", kpis["area_name"])
    first = ["area_type", "area_code", "area_name", "lad_name"]
    kpis = kpis[[*first, *[c for c in kpis.columns if c not in first]]]
    if sample.place_key == "trafford" and sample.vintage.year == 2025:
        notes.append("Trafford LSOA 2021 centroids: ONS 2011 population-weighted centroids for the 137 unchanged "
                     "LSOAs, a postcode-mean proxy for the 2 new ones; population ONS mid-2022.")
    return AccessResult(acc, deserts, kpis, gpd.GeoDataFrame(shown, geometry="geometry", crs=located.crs), targets,
                        rejects, desert_layer(deserts, sample.lsoas), sample, notes)


def _site_geometry(parks: gpd.GeoDataFrame, pt: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    p = parks.to_crs(pt.crs)
    ids = p["site_id"].astype(str) if "site_id" in p else pd.Series([f"site{i + 1}" for i in range(len(p))],
                                                                    index=p.index)
    return gpd.GeoDataFrame({"asset_id": ids.to_numpy()}, geometry=p.geometry.to_numpy(), crs=pt.crs)


def write_access(result: AccessResult, out: str | os.PathLike, *, inputs: Sequence = (),
                 parameters: Mapping | None = None) -> dict[str, Path]:
    """Write ``access.csv``, ``asset_deserts.csv``, ``kpis.csv``, ``assets.gpkg`` and ``rejects.csv``.

    The folder is published as a whole with its manifest (:func:`geotarget.io.publish.publishing`);
    ``inputs``: the asset (and park, network) files read, recorded with the data's files.
    """
    prov = Provenance(out, command="access", parameters=parameters)
    prov.add_sources(result.sample.sources)
    for f in inputs:
        if f is not None and Path(f).is_file():
            prov.add_input(f, role="assets")
    with publishing(out, command="access", provenance=prov) as pub:  # lock, stage, publish whole
        return pub.final(_write_access(result, pub.dir))


def _write_access(result: AccessResult, d: Path) -> dict[str, Path]:
    paths = {
        "access": write_csv(d / "access.csv", _round(result.access).reset_index()),
        "deserts": write_csv(d / "asset_deserts.csv", result.deserts),
        "kpis": write_csv(d / "kpis.csv", result.kpis),
        "rejects": write_csv(d / "rejects.csv", result.rejects),
    }
    lsoas = result.sample.lsoas
    access_layer = gpd.GeoDataFrame(_round(result.access).join(lsoas[["lsoa_name", "lad_name", "ward_name",
                                                                      "imd_decile", "pop_total"]]),
                                    geometry=lsoas.geometry.reindex(result.access.index).to_numpy(), crs=lsoas.crs)
    access_layer.index.name = "lsoa_code"
    keep = [c for c in ("asset_id", "name", "category", "site_type", "area_ha", "target", "location_source",
                        "source_row") if c in result.targets]
    layers = {"assets": result.assets, "targets": result.targets[[*keep, "geometry"]], "access": access_layer}
    if len(result.desert_areas):
        layers["asset_deserts"] = result.desert_areas
    paths["gpkg"] = write_styled_geopackage(d / "assets.gpkg", layers)
    log.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    return paths


def _round(access: pd.DataFrame) -> pd.DataFrame:
    out = access.copy()
    for c in out.columns:
        if c.startswith("dist_"):
            out[c] = out[c].round(1)
        elif c.startswith(("per1k_", "sfca_")):
            out[c] = out[c].round(6)
    return out


__all__ = ["AccessResult", "assess_access", "assets_for_study", "read_asset_files", "sample_assets", "study_greenspace",
           "write_access"]
