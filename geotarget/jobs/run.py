"""The main job: IoD joined to LSOAs, an interactive deprivation map, and a council summary."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geotarget.analysis.summary import council_summary
from geotarget.core.councils import resolve_councils
from geotarget.core.progress import stage
from geotarget.core.vintages import Vintage
from geotarget.data.bundle import record_inputs
from geotarget.data.load import load
from geotarget.data.study_data import StudyData
from geotarget.io.files import write_csv
from geotarget.io.provenance import Provenance
from geotarget.io.publish import publishing
from geotarget.jobs.params import RunParams as R
from geotarget.jobs.profiles import Profiles, place_label, profile_areas
from geotarget.render.maps import deprivation_map, write_map
from geotarget.render.qgis import write_styled_geopackage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` produced."""

    lsoas: gpd.GeoDataFrame
    summary: pd.DataFrame
    ward_profiles: pd.DataFrame
    outputs: dict[str, Path] = field(default_factory=dict)
    title: str = ""
    vintage_label: str = ""
    manifest: Path | None = None  #: the output folder's provenance manifest (written when run() owns it)
    notes: tuple[str, ...] = ()  #: how gaps in the data were filled (e.g. ward outlines built from LSOAs)
    action_areas: object = None  #: the default targeted action areas (:class:`geotarget.analysis.target.Targeting`)
    hotspots: object = None  #: IMD score hot spots (:class:`geotarget.jobs.analyses.AnalysisResult`), bundled samples
    clusters: object = None  #: area types on outcome gaps (AnalysisResult), bundled samples
    access: object = None  #: access to the bundled community assets (:class:`geotarget.jobs.access.AccessResult`)
    vintage: Vintage | None = None  #: the IoD release the run used
    ward_ranks: Profiles | None = None  #: the ward profiles with what their ranks are among (national or local)


def write_lsoas(lsoas: gpd.GeoDataFrame, directory: Path, stem: str, *, extra_layers=None) -> dict[str, Path]:
    """Write the joined LSOAs as GeoPackage (EPSG:27700) and CSV, atomically."""
    gpkg = directory / f"{stem}.gpkg"
    csv = directory / f"{stem}.csv"
    write_styled_geopackage(gpkg, {"lsoas": lsoas, **(extra_layers or {})})
    write_csv(csv, pd.DataFrame(lsoas.reset_index().drop(columns="geometry")))
    return {"gpkg": gpkg, "csv": csv}


def run(data: StudyData | None = None, *, out: str | os.PathLike = "maps", title: str | None = R.title,
        make_map: bool = R.map, map_councils: Sequence[str] | None = R.map_councils,
        provenance: Provenance | None = None) -> RunResult:
    """Run the main job on ``data`` (:func:`geotarget.data.load`; default ``load()``, the bundled Tees Valley).

    Writes to ``out``: ``imd<year>_map.html`` (interactive map), ``imd<year>_lsoas.gpkg``
    (LSOAs with every IoD column, plus ward and council layers) and ``.csv``, and
    ``imd<year>_councils.csv`` (LSOAs and population in the most deprived 10% nationally) and
    ``imd<year>_wards.csv`` (ward profiles: MHCLG's summary measures for every ward, ranked
    among every ward in England when the data has the England-wide IoD, else among the wards in
    the run: :attr:`RunResult.ward_ranks`), and ``manifest.json`` (inputs with checksums, parameters,
    library versions; :mod:`geotarget.io.provenance`).

    ``make_map=False`` skips the map; ``map_councils`` maps only those councils (for
    England-wide runs, whose full map is large). A caller that records provenance for a
    larger job passes its own ``provenance`` and writes the manifest itself.
    """
    sample = data if data is not None else load()
    kw = dict(title=title, make_map=make_map, map_councils=map_councils)
    if provenance is not None:
        return _run(sample, Path(out), prov=provenance, **kw)
    params = {"vintage": sample.vintage.year, "councils": list(sample.councils), "map": make_map}
    if map_councils:
        params["map_councils"] = list(map_councils)
    prov = Provenance(out, command="run", parameters=params)
    prov.add_sources(sample.sources)  # every input known before anything is written
    with publishing(out, command="run", provenance=prov) as pub:  # lock, stage, publish whole
        result = _run(sample, pub.dir, prov=pub.prov, **kw)
    return dataclasses.replace(result, outputs=pub.final(result.outputs), manifest=pub.prov.path)


def _analyses(sample: StudyData, directory: Path, outputs: dict) -> dict:
    """Return the analyses the main job runs, with their defaults.

    Targeted action areas run every time; for the bundled samples also IMD hot spots, area types and
    access to the bundled community assets.
    """
    from geotarget.analysis.target import target_areas
    from geotarget.render.action_areas import write_action_areas

    found: dict = {}
    with stage("action areas", log=False):
        found["action_areas"] = target_areas(sample.lsoas, vintage=sample.vintage)
        # the document with its maps and HTML; no PDF, to keep `run` quick (`geotarget target` writes one)
        written = write_action_areas(found["action_areas"], directory, lsoas=sample.lsoas, wards=sample.wards,
                                     lads=sample.lads)
    outputs.update({f"action_areas_{k}": p for k, p in written.items()})
    if not sample.bundled:
        return found
    from geotarget.jobs.access import assess_access, sample_assets, write_access
    from geotarget.jobs.analyses import run_cluster, run_hotspots

    with stage("hot spots", log=False):
        found["hotspots"] = run_hotspots(sample, out=directory / "hotspots")
    with stage("area types", log=False):
        found["clusters"] = run_cluster(sample, out=directory / "clusters")
    with stage("access to community assets", log=False):
        read, parks, entrances = sample_assets(sample)
        found["access"] = assess_access(sample, read, parks=parks, park_access_points=entrances)
    outputs.update({f"access_{k}": p for k, p in write_access(found["access"], directory / "access").items()})
    for key in ("hotspots", "clusters"):
        outputs.update({f"{key}_{k}": p for k, p in found[key].outputs.items()})
    return found


def _analysis_layers(m, found: dict, shown: pd.Index) -> None:
    """Add the analyses' layers to the main map (only what lies in the mapped LSOAs)."""
    ta = found.get("action_areas")
    if ta is not None and len(ta.areas):
        areas = ta.areas[ta.areas["lsoa_codes"].str.split(";").map(lambda c: c[0] in shown)].reset_index()
        areas["Stability"] = (100 * areas["stability"]).round().astype("Int64").astype(str) + "%"
        m.add_outlines(areas, "Targeted action areas", label_column="name", color="#e31a1c", weight=3,
                       tooltip={"name": "Area", "la_name": "Council", "rank": "Rank in council",
                                "population": "Residents", "n_lsoas": "LSOAs",
                                "imd_average_score": "IMD score", "Stability": "Stability"})
    if found.get("clusters") is not None and found["clusters"].layer is not None:
        layer = found["clusters"].layer
        m.add_categories(layer[layer.index.isin(shown)], "label", "Area types (outcome gaps)", show=False,
                         tooltip={"area_name": "LSOA", "label": "Type"})
    if found.get("hotspots") is not None:
        layer = found["hotspots"].layer
        m.add_categories(layer[layer.index.isin(shown)], "category", "Hot spots: IMD score (Gi*)", show=False,
                         labels=["hot spot", "cold spot", "not significant"],
                         colors=["#d7191c", "#2c7bb6", "#f7f7f7"],
                         tooltip={"area_name": "LSOA", "category": "Category", "p_fdr": "p (FDR)"})
    if found.get("access") is not None:
        layers = found["access"].map_layers()
        deserts = layers["deserts"]
        if len(deserts):
            m.add_outlines(deserts[deserts["lsoa_code"].isin(shown)] if "lsoa_code" in deserts else deserts,
                           "Asset deserts (IMD deciles 1-2)", color="#6a3d9a", weight=2.5, show=False,
                           tooltip={"lsoa_name": "LSOA", "categories": "Far from", "popup": "Detail"})
        m.add_points(layers["asset_points"], "Community assets", category_column="category", label_column="name",
                     popup=["popup"], cluster=True, show=False)


def _map_parameters(sample: StudyData) -> dict:
    """Return what the map states as its parameters: the councils (by code and name, or how many)."""
    names = sample.lads["lad_name"].reindex(sorted(sample.councils))
    if len(names) <= 12:
        return {"councils": [f"{c} {n}" for c, n in names.items()]}
    place = place_label(sample)
    return {"councils": f"all {len(names)} in {place}" if place else f"{len(names)} councils"}


def _run(sample: StudyData, out: Path, *, title: str | None, make_map: bool, map_councils: Sequence[str] | None,
         prov: Provenance) -> RunResult:
    sample.require("lsoas geometry", "wards", "lads", what="the main job (run)")
    record_inputs(prov, sample)
    v = sample.vintage
    lsoas = sample.lsoas
    summary = council_summary(lsoas)
    with stage("ward profiles", log=False):
        ward_ranks = profile_areas(sample, to="ward")  # national ranks when the data has England's IoD
    ward_profiles = ward_ranks.table
    place = place_label(sample)
    title = title or f"Deprivation in {place}"
    notes = (f"English Indices of Deprivation {v.year}; national deciles (1 = most deprived 10% of LSOAs in "
             f"England); {len(lsoas):,} LSOAs in {len(sample.councils)} council(s); population {v.population}; "
             f"wards {sample.ward_vintage}.")
    notes = "\n".join([notes, prov.data_line(_map_parameters(sample)), *sample.notes])
    directory = Path(out)
    stem = f"imd{v.year}"
    ward_layer = sample.wards[["geometry"]].join(ward_profiles, how="inner")
    with stage("GeoPackage", log=False):
        outputs = write_lsoas(lsoas, directory, f"{stem}_lsoas", extra_layers={
            "wards": sample.wards, "councils": sample.lads, "ward_profiles": ward_layer})
    outputs["wards"] = write_csv(directory / f"{stem}_wards.csv", ward_profiles.reset_index())
    outputs["summary"] = write_csv(directory / f"{stem}_councils.csv", summary.reset_index())
    extra = _analyses(sample, directory, outputs)
    if make_map:
        with stage("map", log=False):
            mapped, m_wards, m_lads, m_profiles = lsoas, sample.wards, sample.lads, ward_profiles
            if map_councils:
                keep = resolve_councils(map_councils, sample.lads["lad_name"])
                mapped = lsoas[lsoas["lad_code"].isin(keep)]
                m_wards = m_wards[m_wards["lad_code"].isin(keep)]
                m_lads = m_lads[m_lads.index.isin(keep)]
                m_profiles = ward_profiles[ward_profiles.index.isin(m_wards.index)]
                shown = ", ".join(m_lads["lad_name"].sort_values())
                notes += (f"\nThis map shows {len(mapped):,} of the LSOAs: {shown}. Ward profiles for every ward of "
                          f"the run (ranked among {ward_ranks.among}) are in {stem}_wards.csv.")
            m = deprivation_map(mapped, wards=m_wards, lads=m_lads, ward_profiles=m_profiles,
                                n_ranked=ward_ranks.n_ranked, ranked_in=ward_ranks.ranked_in,
                                title=title, vintage=v.label, notes=notes)
            _analysis_layers(m, extra, mapped.index)
            postcodes = sample.postcode_index
            if postcodes is not None:
                m.add_search(postcodes[postcodes["lsoa_code"].isin(mapped.index)], "postcode", kind="Postcode")
            outputs["map"] = write_map(m, directory / f"{stem}_map.html")
    for path in outputs.values():
        prov.add_output(path)
    log.info("wrote %s", ", ".join(str(p) for p in outputs.values()))
    return RunResult(lsoas, summary, ward_profiles, outputs, title, v.label, notes=tuple(sample.notes), vintage=v,
                     ward_ranks=ward_ranks, **extra)


__all__ = ["RunResult", "run", "write_lsoas"]
