"""Build geotarget's bundled Tees Valley sample from the raw public files.

Usage::

    python data/build_sample.py --source ../shared/data

Reads the raw files (read-only) and writes, deterministically, the compact sample that
ships with geotarget:

* ``boundaries/tees_valley.gpkg`` -- LSOA 2021/2011, MSOA 2021/2011, wards (May 2025)
  and LADs, EPSG:27700, in the published ONS column layout;
* ``data/imd/`` -- IoD2025 (LSOA 2021) and IoD2019 (LSOA 2011) with every domain and
  sub-domain score/rank/decile that exists, in geotarget's canonical CSV layout;
* ``data/population/`` -- the IoD population denominators of each vintage;
* ``data/lookups/`` -- LSOA -> MSOA -> ward -> LAD for both vintages, LSOA 2011 -> 2021;
* ``data/centroids/`` -- ONS population-weighted centroids of LSOA 2021 and 2011;
* ``data/postcodes/`` -- the Tees Valley postcode lookup;
* ``data/assets/`` -- community assets (GP practices, pharmacies, libraries, hospitals);
* ``data/outcomes/`` -- a sample user indicator table (Census 2021 outcomes, Community Needs Index);
* ``data/reference/`` -- England and regional means and SDs of the indicators (outcome gaps);
* the same for **Trafford** (E08000009): ``boundaries/trafford.gpkg`` and ``data/*/*trafford*``,
  with schools, leisure centres, community hubs, food banks and OS Open Greenspace sites and
  access points in ``data/assets/assets_trafford.gpkg``;
* ``boundaries/england_outline.gpkg`` -- a light outline of England (for "outside England" checks);
* ``data/hia/`` -- IoD health indicators, Community Needs Index and England comparators for HIA screening;
* ``data/PROVENANCE.md`` -- source, vintage, licence and checksum of every file.

Running it twice gives byte-identical files (GeoPackage timestamps are pinned with
GDAL's ``OGR_CURRENT_DATE`` and gzip headers carry no time stamp).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

log = logging.getLogger("build_sample")

ROOT = Path(__file__).resolve().parent.parent
TEES = ["E06000001", "E06000002", "E06000003", "E06000004", "E06000005"]
BNG = "EPSG:27700"
PINNED_DATE = "2025-10-30T00:00:00Z"  # IoD2025 publication date; pins GeoPackage timestamps

OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
OS = "Contains OS data © Crown copyright and database right."
ONS_BOUNDARY = f"Source: Office for National Statistics licensed under the Open Government Licence v3.0. {OS}"

# Sub-domain column names in the raw files -> geotarget canonical keys.
SUBDOMAIN_KEYS = {
    "children_and_young_people": "cyp",
    "adult_skills": "adult_skills",
    "geographical_barriers": "geog_barriers",
    "wider_barriers": "wider_barriers",
    "indoors": "indoors",
    "outdoors": "outdoors",
}


class Builder:
    """Collects outputs and their provenance while writing them."""

    def __init__(self, source: Path, root: Path):
        self.source = source
        self.root = root
        self.entries: list[dict] = []

    def src(self, rel: str) -> Path:
        p = self.source / rel
        if not p.exists():
            raise SystemExit(f"build_sample: raw file not found: {p}")
        return p

    # -- writers -------------------------------------------------------------------
    def _record(self, path: Path, rows: int, sources: list[str], note: str, licence: str) -> None:
        self.entries.append(
            dict(path=path.relative_to(self.root).as_posix(), rows=rows, sources=sources, note=note, licence=licence)
        )

    def csv(self, df: pd.DataFrame, rel: str, *, sources, note, licence=OGL) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        if rel.endswith(".gz"):
            df.to_csv(tmp, index=False, lineterminator="\n", compression={"method": "gzip", "mtime": 0})
        else:
            df.to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, path)
        self._record(path, len(df), sources, note, licence)
        log.info("wrote %s (%d rows)", rel, len(df))

    def gpkg(self, gdf: gpd.GeoDataFrame, rel: str, layer: str, *, sources, note, licence) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        gdf = gdf.to_crs(BNG).reset_index(drop=True)
        pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG", append=path.exists())
        self.entries.append(
            dict(path=f"{path.relative_to(self.root).as_posix()} (layer `{layer}`)", rows=len(gdf),
                 sources=sources, note=note, licence=licence)
        )
        log.info("wrote %s layer %s (%d rows)", rel, layer, len(gdf))


def tees(df: pd.DataFrame, col: str) -> pd.DataFrame:
    return df[df[col].isin(TEES)].sort_values(df.columns[0]).reset_index(drop=True)


def build_boundaries(b: Builder) -> dict[str, gpd.GeoDataFrame]:
    out = b.root / "boundaries" / "tees_valley.gpkg"
    if out.exists():
        out.unlink()
    layers = {
        "lsoa21": ("boundaries/lsoa21_tees_valley_bgc.geojson", ["LSOA21CD", "LSOA21NM", "LADCD"],
                   "LSOA (December 2021) boundaries, generalised clipped (BGC, 20 m)"),
        "lsoa11": ("boundaries/lsoa11_tees_valley_bgc.geojson", ["LSOA11CD", "LSOA11NM", "LADCD"],
                   "LSOA (December 2011) boundaries, BGC 20 m"),
        "msoa21": ("boundaries/msoa21_tees_valley_bgc.geojson", ["MSOA21CD", "MSOA21NM", "LADCD"],
                   "MSOA (December 2021) boundaries, BGC 20 m"),
        "msoa11": ("boundaries/msoa11_tees_valley_bgc.geojson", ["MSOA11CD", "MSOA11NM", "LADCD"],
                   "MSOA (December 2011) boundaries, BGC 20 m"),
        "wards2025": ("boundaries/wards2025_tees_valley_bgc.geojson", ["WD25CD", "WD25NM", "LAD25CD", "LAD25NM"],
                      "Wards (May 2025) boundaries, BGC 20 m"),
        "lad2025": ("boundaries/lad2025_tees_valley_bgc_dissolved_from_wards.geojson", ["LAD25CD", "LAD25NM"],
                    "Local authority districts (2025), dissolved from the May 2025 BGC wards"),
    }
    frames = {}
    for layer, (rel, cols, note) in layers.items():
        g = gpd.read_file(b.src(rel))[cols + ["geometry"]]
        g = g.sort_values(cols[0]).reset_index(drop=True)
        frames[layer] = g.to_crs(BNG)
        b.gpkg(g, "boundaries/tees_valley.gpkg", layer, sources=[rel],
               note=f"{note}; reprojected to EPSG:27700; columns as published by ONS.", licence=ONS_BOUNDARY)
    return frames


def iod2025_with_subdomains(b: Builder, select) -> pd.DataFrame:
    """IoD2025 File 7 values and the sub-domains for the LSOAs ``select(frame, lad_column)`` keeps."""
    main = select(pd.read_csv(b.src("imd/iod2025_lsoa21_england.csv.gz")), "lad24cd")
    sub = pd.read_csv(b.src("imd/iod2025_lsoa21_subdomains_england.csv.gz"))
    sub = sub.rename(columns={f"{k}_{m}": f"{v}_{m}" for k, v in SUBDOMAIN_KEYS.items()
                              for m in ("score", "rank", "decile")})
    imd25 = main.merge(sub, on="lsoa21cd", how="left", validate="1:1")
    _ints(imd25)
    return imd25


def build_imd(b: Builder) -> tuple[pd.DataFrame, pd.DataFrame]:
    # IoD2025 on LSOA 2021
    imd25 = iod2025_with_subdomains(b, tees)
    b.csv(imd25, "data/imd/iod2025_lsoa21_tees_valley.csv",
          sources=["imd/iod2025_lsoa21_england.csv.gz", "imd/iod2025_lsoa21_subdomains_england.csv.gz"],
          note="English Indices of Deprivation 2025 (MHCLG, File 7 values): IMD, 7 domains and 6 sub-domains "
               "(score, national rank 1 = most deprived, national decile) for the 425 Tees Valley LSOAs 2021.")
    pop25 = tees(pd.read_csv(b.src("population/iod2025_population_denominators_lsoa21_tees_valley.csv")), "lad24cd")
    b.csv(pop25, "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv",
          sources=["population/iod2025_population_denominators_lsoa21_tees_valley.csv"],
          note="IoD2025 File 7 population denominators, mid-2022 (working age = 18-66).")

    # IoD2019 on LSOA 2011
    main = tees(pd.read_csv(b.src("imd/iod2019_lsoa11_england.csv.gz")), "lad19cd")
    pop_cols = [c for c in main.columns if c.startswith("pop_")]
    pop19 = main[["lsoa11cd", "lsoa11nm", "lad19cd", "lad19nm", *pop_cols]]
    main = main.drop(columns=pop_cols)
    sub = pd.read_csv(b.src("imd/iod2019_lsoa11_subdomains_england.csv.gz"))
    keep = ["lsoa11cd"] + [c for c in sub.columns if any(c.startswith(k + "_") for k in SUBDOMAIN_KEYS)]
    sub = sub[keep].rename(columns={f"{k}_{m}": f"{v}_{m}" for k, v in SUBDOMAIN_KEYS.items()
                                    for m in ("rank", "decile")})
    imd19 = main.merge(sub, on="lsoa11cd", how="left", validate="1:1")
    _ints(imd19)
    b.csv(imd19, "data/imd/iod2019_lsoa11_tees_valley.csv",
          sources=["imd/iod2019_lsoa11_england.csv.gz", "imd/iod2019_lsoa11_subdomains_england.csv.gz"],
          note="English Indices of Deprivation 2019 (MHCLG): IMD and 7 domains for the 417 Tees Valley LSOAs 2011. "
               "Official LSOA scores for Health, Crime and Living Environment and sub-domain scores are not in the "
               "source files, so only their ranks and deciles are included.")
    _ints(pop19)
    b.csv(pop19, "data/population/iod2019_population_denominators_lsoa11_tees_valley.csv",
          sources=["imd/iod2019_lsoa11_england.csv.gz"],
          note="IoD2019 File 6/7 population denominators, mid-2015, excluding prisoners "
               "(working age = 18-59/64, for the Employment domain).")
    return imd25, imd19


def _ints(df: pd.DataFrame) -> None:
    for c in df.columns:
        if c.endswith(("_rank", "_decile")) or c.startswith("pop_"):
            if df[c].notna().all():
                df[c] = df[c].astype("int64")


def build_lookups(b: Builder, bounds: dict[str, gpd.GeoDataFrame]) -> None:
    wards = bounds["wards2025"]
    lads = bounds["lad2025"].set_index("LAD25CD")["LAD25NM"]

    # LSOA21 -> MSOA21 (ONS naming: an LSOA is named after its MSOA plus a letter) -> ward -> LAD
    lk = tees(pd.read_csv(b.src("lookups/lsoa21_ward24_lad24_ew.csv.gz")), "lad24cd")
    msoa21 = bounds["msoa21"][["MSOA21CD", "MSOA21NM"]]
    lk["msoa21nm"] = lk["lsoa21nm"].str[:-1]
    lk = lk.merge(msoa21.rename(columns={"MSOA21CD": "msoa21cd", "MSOA21NM": "msoa21nm"}), on="msoa21nm",
                  how="left", validate="m:1")
    hcl = pd.read_csv(b.src("lookups/msoa_names_hcl_ew.csv.gz"))[["MSOACD", "MSOAHCLNM"]]
    lk = lk.merge(hcl.rename(columns={"MSOACD": "msoa21cd", "MSOAHCLNM": "msoa21hclnm"}), on="msoa21cd", how="left")
    _check_nesting(lk, bounds["lsoa21"], bounds["msoa21"], "LSOA21CD", "MSOA21CD", "lsoa21cd", "msoa21cd")
    wd = wards.set_index("WD25CD")["WD25NM"]
    missing = set(lk["wd24cd"]) - set(wd.index)
    if missing:
        raise SystemExit(f"build_sample: ward codes in the LSOA21 lookup not in the May 2025 wards: {sorted(missing)}")
    lk21 = pd.DataFrame({
        "lsoa21cd": lk["lsoa21cd"], "lsoa21nm": lk["lsoa21nm"],
        "msoa21cd": lk["msoa21cd"], "msoa21nm": lk["msoa21nm"], "msoa21hclnm": lk["msoa21hclnm"],
        "wd25cd": lk["wd24cd"], "wd25nm": lk["wd24cd"].map(wd),
        "lad25cd": lk["lad24cd"], "lad25nm": lk["lad24cd"].map(lads),
    }).sort_values("lsoa21cd").reset_index(drop=True)
    b.csv(lk21, "data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv",
          sources=["lookups/lsoa21_ward24_lad24_ew.csv.gz", "lookups/msoa_names_hcl_ew.csv.gz",
                   "boundaries/msoa21_tees_valley_bgc.geojson", "boundaries/wards2025_tees_valley_bgc.geojson"],
          note="ONS best-fit LSOA 2021 -> ward (May 2024 codes, identical to May 2025 in Tees Valley) -> LAD lookup; "
               "MSOA 2021 from the ONS naming rule (LSOA name = MSOA name + letter), checked by point-in-polygon; "
               "House of Commons Library MSOA names.",
          licence=f"{OGL} MSOA names: House of Commons Library, Open Parliament Licence.")

    # LSOA11 -> MSOA11 -> ward 2025 (derived: PWC in ward polygon) -> LAD
    l11 = tees(pd.read_csv(b.src("lookups/lsoa11_msoa11_lad21_gb.csv.gz")), "lad21cd")
    pwc11 = pd.read_csv(b.src("centroids/lsoa11_pwc_england.csv.gz"))
    pwc11 = pwc11[pwc11["lsoa11cd"].isin(l11["lsoa11cd"])]
    pts = gpd.GeoDataFrame(pwc11[["lsoa11cd"]], geometry=gpd.points_from_xy(pwc11.easting, pwc11.northing), crs=BNG)
    ward_of = gpd.sjoin(pts, wards[["WD25CD", "geometry"]], how="left", predicate="within")
    # a centroid on the coast or a boundary line: nearest ward instead
    lost = ward_of["WD25CD"].isna()
    if lost.any():
        near = gpd.sjoin_nearest(pts[lost.values], wards[["WD25CD", "geometry"]], how="left")
        ward_of.loc[lost, "WD25CD"] = near["WD25CD"].values
    ward_of = ward_of.drop_duplicates("lsoa11cd").set_index("lsoa11cd")["WD25CD"]
    _check_derived_ward_method(b, bounds, wards)
    lk11 = pd.DataFrame({
        "lsoa11cd": l11["lsoa11cd"], "lsoa11nm": l11["lsoa11nm"],
        "msoa11cd": l11["msoa11cd"], "msoa11nm": l11["msoa11nm"],
    })
    lk11 = lk11.merge(hcl.rename(columns={"MSOACD": "msoa11cd", "MSOAHCLNM": "msoa11hclnm"}), on="msoa11cd", how="left")
    lk11["wd25cd"] = lk11["lsoa11cd"].map(ward_of)
    lk11["wd25nm"] = lk11["wd25cd"].map(wd)
    lk11["lad25cd"] = l11["lad21cd"].values
    lk11["lad25nm"] = lk11["lad25cd"].map(lads)
    lk11 = lk11.sort_values("lsoa11cd").reset_index(drop=True)
    b.csv(lk11, "data/lookups/lsoa11_msoa11_ward25_lad25_tees_valley.csv",
          sources=["lookups/lsoa11_msoa11_lad21_gb.csv.gz", "centroids/lsoa11_pwc_england.csv.gz",
                   "boundaries/wards2025_tees_valley_bgc.geojson", "lookups/msoa_names_hcl_ew.csv.gz"],
          note="ONS LSOA 2011 -> MSOA 2011 -> LAD lookup; ward (May 2025) derived here by best fit: the ward "
               "containing the LSOA's ONS population-weighted centroid (no official LSOA 2011 -> ward 2025 lookup "
               f"exists). {b.ward_method_check}",
          licence=f"{OGL} MSOA names: House of Commons Library, Open Parliament Licence.")

    # LSOA11 -> LSOA21
    x = pd.read_csv(b.src("lookups/lsoa11_lsoa21_lad22_ew.csv.gz"))
    x = x[x["lad22cd"].isin(TEES)].sort_values(["lsoa11cd", "lsoa21cd"]).reset_index(drop=True)
    b.csv(x, "data/lookups/lsoa11_lsoa21_tees_valley.csv", sources=["lookups/lsoa11_lsoa21_lad22_ew.csv.gz"],
          note="ONS LSOA 2011 -> LSOA 2021 -> LAD 2022 lookup; change_code U unchanged, S split, M merged, "
               "X complex.")


def _check_nesting(lk, lsoa, msoa, lcol, mcol, lk_l, lk_m) -> None:
    """LSOAs nest in MSOAs: every LSOA's representative point must be in its MSOA."""
    pts = lsoa[[lcol, "geometry"]].copy()
    pts["geometry"] = pts.representative_point()
    j = gpd.sjoin(pts, msoa[[mcol, "geometry"]], predicate="within").set_index(lcol)[mcol]
    got = lk.set_index(lk_l)[lk_m]
    bad = (got.reindex(j.index) != j).sum() + got.isna().sum()
    if bad:
        raise SystemExit(f"build_sample: {bad} LSOAs whose MSOA from the naming rule disagrees with the polygons")


def _check_derived_ward_method(b: Builder, bounds, wards) -> None:
    """Measure the PWC-in-ward method against the official LSOA21 best-fit lookup."""
    pwc = pd.read_csv(b.src("centroids/lsoa21_pwc_tees_valley.csv"))
    pts = gpd.GeoDataFrame(pwc[["lsoa21cd"]], geometry=gpd.points_from_xy(pwc.easting, pwc.northing), crs=BNG)
    got = gpd.sjoin_nearest(pts, wards[["WD25CD", "geometry"]]).drop_duplicates("lsoa21cd").set_index("lsoa21cd")
    off = tees(pd.read_csv(b.src("lookups/lsoa21_ward24_lad24_ew.csv.gz")), "lad24cd").set_index("lsoa21cd")
    agree = (got["WD25CD"].reindex(off.index) == off["wd24cd"]).mean()
    b.ward_method_check = (f"Check: the same method applied to LSOA 2021 agrees with the official ONS best-fit "
                           f"lookup for {agree:.1%} of the 425 Tees Valley LSOAs.")
    log.info(b.ward_method_check)


def build_centroids(b: Builder) -> None:
    c21 = pd.read_csv(b.src("centroids/lsoa21_pwc_tees_valley.csv"))
    c21 = tees(c21, "lad24cd")[["lsoa21cd", "lsoa21nm", "easting", "northing"]]
    b.csv(c21, "data/centroids/lsoa21_pwc_tees_valley.csv", sources=["centroids/lsoa21_pwc_tees_valley.csv"],
          note="ONS LSOA (December 2021) population-weighted centroids, British National Grid (EPSG:27700), 0.1 m.",
          licence=f"{OGL} {OS}")
    c11 = pd.read_csv(b.src("centroids/lsoa11_pwc_england.csv.gz"))
    l11 = tees(pd.read_csv(b.src("imd/iod2019_lsoa11_england.csv.gz")), "lad19cd")["lsoa11cd"]
    c11 = c11[c11["lsoa11cd"].isin(l11)][["lsoa11cd", "lsoa11nm", "easting", "northing"]]
    c11 = c11.sort_values("lsoa11cd").reset_index(drop=True)
    b.csv(c11, "data/centroids/lsoa11_pwc_tees_valley.csv", sources=["centroids/lsoa11_pwc_england.csv.gz"],
          note="ONS LSOA (December 2011) population-weighted centroids (easting/northing converted from the "
               "published WGS84 values, 0.1 m).", licence=f"{OGL} {OS}")


def build_postcodes(b: Builder, bounds: dict[str, gpd.GeoDataFrame]) -> None:
    cp = pd.read_csv(b.src("postcodes/codepoint_open_2025_TS_DL.csv.gz"))
    cp = cp[cp["admin_district_code"].isin(TEES)]
    ons = pd.read_csv(b.src("postcodes/ons_pcd_oa11_lsoa11_msoa11_lad_may2022_TS_DL.csv.gz"), dtype=str)
    ons = ons[["pcds", "oa11cd", "lsoa11cd", "usertype"]].rename(columns={"pcds": "postcode"})
    pc = cp.merge(ons, on="postcode", how="left", validate="1:1")
    pts = gpd.GeoDataFrame(pc[["postcode"]], geometry=gpd.points_from_xy(pc.easting, pc.northing), crs=BNG)
    lsoa = bounds["lsoa21"][["LSOA21CD", "geometry"]]
    j = gpd.sjoin_nearest(pts, lsoa, how="left").drop_duplicates("postcode").set_index("postcode")["LSOA21CD"]
    out = pd.DataFrame({
        "postcode": pc["postcode"], "easting": pc["easting"], "northing": pc["northing"],
        "positional_quality": pc["positional_quality"],
        "lad25cd": pc["admin_district_code"], "wd25cd": pc["admin_ward_code"],
        "oa11cd": pc["oa11cd"], "lsoa11cd": pc["lsoa11cd"], "lsoa21cd": pc["postcode"].map(j).values,
        "usertype": pc["usertype"],
    }).sort_values("postcode").reset_index(drop=True)
    b.csv(out, "data/postcodes/postcodes_tees_valley.csv.gz",
          sources=["postcodes/codepoint_open_2025_TS_DL.csv.gz",
                   "postcodes/ons_pcd_oa11_lsoa11_msoa11_lad_may2022_TS_DL.csv.gz",
                   "boundaries/lsoa21_tees_valley_bgc.geojson"],
          note="Postcodes in the five Tees Valley councils: OS Code-Point Open 2025 location (EPSG:27700), "
               "LAD and ward 2025; OA/LSOA 2011 and user type (0 small/residential, 1 large) from the ONS May 2022 "
               "postcode lookup (blank for postcodes newer than it); LSOA 2021 derived here by point-in-polygon "
               "on the BGC LSOA 2021 boundaries (nearest LSOA for points on the coast).",
          licence="Contains OS data © Crown copyright and database right 2025. Contains Royal Mail data © Royal "
                  "Mail copyright and database right 2025. Contains National Statistics data © Crown copyright "
                  "and database right 2025. (OGL v3.0)")


def build_assets(b: Builder) -> None:
    out = b.root / "data" / "assets" / "assets_tees_valley.gpkg"
    if out.exists():
        out.unlink()
    files = [
        ("gp_practices", "assets/gp_practices_tees_valley_epraccur_2024.geojson",
         "NHS ODS epraccur GP practices, January 2024 (status_code A = active).",
         "Contains information from NHS England (Organisation Data Service), licensed under OGL v3.0."),
        ("pharmacies", "assets/pharmacies_tees_valley_edispensary_2025.geojson",
         "NHS ODS edispensary pharmacies, April 2025 (status_code A = active).",
         "Contains information from NHS England (Organisation Data Service), licensed under OGL v3.0."),
        ("libraries", "assets/libraries_tees_valley_ace_dec2022.geojson",
         "Arts Council England basic dataset of static public libraries, December 2022.",
         "Arts Council England, open data (OGL-compatible)."),
        ("hospitals", "assets/hospitals_tees_valley_2022.geojson",
         "NHS.uk hospital listings 2022 as geocoded by geographr (contains near-duplicates and private hospitals).",
         OGL),
        ("community_assets", "assets/community_assets_tees_valley.geojson",
         "Union of the active GP practices, active pharmacies, libraries and hospitals.",
         "As for each source layer."),
    ]
    drop = {"telephone", "longitude", "latitude"}
    for layer, rel, note, lic in files:
        g = gpd.read_file(b.src(rel))
        g = g[[c for c in g.columns if c not in drop]]
        g = g.sort_values([c for c in ("asset_id", "org_code", "name", "hospital22_name") if c in g.columns][:1]
                          + ["geometry"][:0]).reset_index(drop=True)
        b.gpkg(g, "data/assets/assets_tees_valley.gpkg", layer, sources=[rel],
               note=f"{note} Geocoded to postcode (OS Code-Point Open 2025); EPSG:27700.", licence=lic)
        if layer == "community_assets":
            g27 = g.to_crs(BNG)
            flat = pd.DataFrame(g27.drop(columns="geometry"))
            flat["easting"] = g27.geometry.x.round(1)
            flat["northing"] = g27.geometry.y.round(1)
            b.csv(flat, "data/assets/community_assets_tees_valley.csv", sources=[rel],
                  note="The union layer as a CSV with easting/northing (EPSG:27700), for spreadsheets.",
                  licence=lic)


# -- outcome indicators and England/region reference values (typologies, gaps, inequality) ---------------

OUTCOMES_NOTE = ("Census 2021 outcome indicators (ONS, percentages of usual residents or households, crude) and the "
                 "Community Needs Index 2023 score (OCSI for Local Trust; higher = greater need)")


def _england_outcomes(b: Builder) -> pd.DataFrame:
    """Return indicator values for every LSOA 2021 in England (percentages, 4 dp), indexed by lsoa21cd."""
    gh = pd.read_csv(b.src("outcomes/census2021_ts037_general_health_lsoa21_england.csv.gz")).set_index("lsoa21cd")
    dis = pd.read_csv(b.src("outcomes/census2021_ts038_disability_lsoa21_england.csv.gz")).set_index("lsoa21cd")
    care = pd.read_csv(b.src("outcomes/census2021_ts039_unpaid_care_lsoa21_england.csv.gz")).set_index("lsoa21cd")
    hh = pd.read_csv(b.src("outcomes/census2021_household_deprivation_dimensions_lsoa21_ew.csv.gz"))
    hh = hh[hh["lsoa21cd"].str.startswith("E01")]
    hh_tot = hh.groupby("lsoa21cd")["count"].sum()
    hh_dep = hh[hh["households_number_deprivation_dimensions"] >= 1].groupby("lsoa21cd")["count"].sum()
    cni = pd.read_csv(b.src("cni/cni2023_lsoa21_england.csv.gz")).set_index("lsoa21cd")
    out = pd.DataFrame({
        "bad_health": 100 * (gh["bad_health"] + gh["very_bad_health"]) / gh["usual_residents_total"],
        "disability": 100 * dis["disabled_equality_act"] / dis["usual_residents_total"],
        "unpaid_care": 100 * (1 - care["no_unpaid_care"] / care["usual_residents_aged_5plus"]),
    })
    out["household_deprivation"] = 100 * hh_dep.reindex(out.index) / hh_tot.reindex(out.index)
    out["community_need"] = cni["cni_score"].reindex(out.index)
    out = out.round(4).sort_index()
    out.index.name = "lsoa21cd"
    if out.isna().any().any():
        raise SystemExit(f"build_sample: missing outcome values for {int(out.isna().any(axis=1).sum())} LSOAs")
    return out


def build_outcomes(b: Builder) -> None:
    eng = _england_outcomes(b)
    lk = tees(pd.read_csv(b.src("lookups/lsoa21_ward24_lad24_ew.csv.gz")), "lad24cd")
    t = eng.loc[sorted(lk["lsoa21cd"])].reset_index()
    t.insert(1, "lsoa21nm", t["lsoa21cd"].map(lk.set_index("lsoa21cd")["lsoa21nm"]))
    b.csv(t, "data/outcomes/outcomes_lsoa21_tees_valley.csv",
          sources=["outcomes/census2021_ts037_general_health_lsoa21_england.csv.gz",
                   "outcomes/census2021_ts038_disability_lsoa21_england.csv.gz",
                   "outcomes/census2021_ts039_unpaid_care_lsoa21_england.csv.gz",
                   "outcomes/census2021_household_deprivation_dimensions_lsoa21_ew.csv.gz",
                   "cni/cni2023_lsoa21_england.csv.gz"],
          note=f"{OUTCOMES_NOTE}, for the 425 Tees Valley LSOAs 2021: a sample *user indicator table*. "
               "bad_health = % in bad or very bad health (TS037); disability = % disabled under the Equality Act "
               "(TS038); unpaid_care = % of residents aged 5+ providing unpaid care (TS039); household_deprivation "
               "= % of households deprived in at least one of the four Census dimensions (TS011); community_need "
               "= CNI 2023 score. Higher = worse for every column.",
          licence=f"{OGL} Community Needs Index: OCSI for Local Trust, reused with attribution.")


def _lad_regions(b: Builder) -> pd.DataFrame:
    """LAD (2019 and 2024 codes) -> region; 2019 codes of since-merged districts via their LSOAs."""
    r24 = pd.read_csv(b.src("lookups/lad24_region24_england.csv"))
    rows = r24.rename(columns={"lad24cd": "lad_code", "lad24nm": "lad_name", "rgn24cd": "region_code",
                               "rgn24nm": "region_name"})[["lad_code", "lad_name", "region_code", "region_name"]]
    i19 = pd.read_csv(b.src("imd/iod2019_lsoa11_england.csv.gz"), usecols=["lsoa11cd", "lad19cd", "lad19nm"])
    x = pd.read_csv(b.src("lookups/lsoa11_lsoa21_lad22_ew.csv.gz"), usecols=["lsoa11cd", "lsoa21cd"])
    lk = pd.read_csv(b.src("lookups/lsoa21_ward24_lad24_ew.csv.gz"), usecols=["lsoa21cd", "lad24cd"])
    m = i19.merge(x, on="lsoa11cd").merge(lk, on="lsoa21cd").merge(
        r24[["lad24cd", "rgn24cd"]], on="lad24cd")
    # the region holding most of the district's LSOAs (one South Northamptonshire LSOA moved to Cherwell)
    counts = m.groupby(["lad19cd", "lad19nm", "rgn24cd"]).size().rename("n").reset_index()
    counts = counts.sort_values(["lad19cd", "n", "rgn24cd"], ascending=[True, False, True])
    per = counts.drop_duplicates("lad19cd").set_index(["lad19cd", "lad19nm"])["rgn24cd"]
    old = per.reset_index().rename(columns={"lad19cd": "lad_code", "lad19nm": "lad_name",
                                                  "rgn24cd": "region_code"})
    old = old[~old["lad_code"].isin(rows["lad_code"])]
    old["region_name"] = old["region_code"].map(r24.drop_duplicates("rgn24cd").set_index("rgn24cd")["rgn24nm"])
    return pd.concat([rows, old]).sort_values("lad_code").reset_index(drop=True)


def build_reference(b: Builder) -> None:
    sys.path.insert(0, str(ROOT))
    from geotarget.analysis.gaps import domain_indicators, reference_table

    regions = _lad_regions(b)
    b.csv(regions, "data/lookups/lad_region_england.csv",
          sources=["lookups/lad24_region24_england.csv", "imd/iod2019_lsoa11_england.csv.gz",
                   "lookups/lsoa11_lsoa21_lad22_ew.csv.gz", "lookups/lsoa21_ward24_lad24_ew.csv.gz"],
          note="English local authority districts (2024 codes, plus the 2019 codes of districts merged since, "
               "placed by their LSOAs) and their regions (2024).")
    region_of = regions.set_index("lad_code")["region_code"]
    names = regions.drop_duplicates("region_code").set_index("region_code")["region_name"]
    sape = pd.read_csv(b.src("population/ons_sape_mid2022_lsoa21_total_england.csv.gz")).set_index("lsoa21cd")
    pop22 = sape["pop_total_mid2022"]

    i25 = pd.read_csv(b.src("imd/iod2025_lsoa21_england.csv.gz")).set_index("lsoa21cd")
    ind25 = domain_indicators(i25, vintage=2025).values
    t25 = reference_table(ind25, pop22, i25["lad24cd"].map(region_of), source="iod2025", region_names=names)
    i19 = pd.read_csv(b.src("imd/iod2019_lsoa11_england.csv.gz")).set_index("lsoa11cd")
    ind19 = domain_indicators(i19, vintage=2019).values
    t19 = reference_table(ind19, i19["pop_total_mid2015"], i19["lad19cd"].map(region_of), source="iod2019",
                          region_names=names)
    out = _england_outcomes(b)
    lk = pd.read_csv(b.src("lookups/lsoa21_ward24_lad24_ew.csv.gz")).set_index("lsoa21cd")["lad24cd"]
    tout = reference_table(out, pop22, lk.reindex(out.index).map(region_of), source="outcomes_lsoa21",
                           region_names=names)
    ref = pd.concat([t25, t19, tout], ignore_index=True)
    ref["mean"] = ref["mean"].map(lambda v: float(f"{v:.8g}"))
    ref["sd"] = ref["sd"].map(lambda v: float(f"{v:.8g}"))
    b.csv(ref, "data/reference/england_region_means.csv",
          sources=["imd/iod2025_lsoa21_england.csv.gz", "imd/iod2019_lsoa11_england.csv.gz",
                   "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                   "outcomes/census2021_ts037_general_health_lsoa21_england.csv.gz",
                   "outcomes/census2021_ts038_disability_lsoa21_england.csv.gz",
                   "outcomes/census2021_ts039_unpaid_care_lsoa21_england.csv.gz",
                   "outcomes/census2021_household_deprivation_dimensions_lsoa21_ew.csv.gz",
                   "cni/cni2023_lsoa21_england.csv.gz", "lookups/lad24_region24_england.csv"],
          note="Reference values for outcome gaps: for England (E92000001) and each region, the population-weighted "
               "mean and standard deviation across LSOAs of each IoD domain (IoD2025: published scores, weights ONS "
               "mid-2022 LSOA population; IoD2019: published scores, and the normal score of the national rank for "
               "Health, Crime and Living Environment, weights the IoD mid-2015 denominators) and of each column of "
               "the sample outcome table (weights ONS mid-2022). Computed with "
               "geotarget.analysis.gaps.reference_table.")
# -- Trafford (E08000009): a second, small real place with green space ---------------------------
TRAFFORD = "E08000009"
TRAFFORD_GREENSPACE_OS = ("Contains Ordnance Survey data © Crown copyright and database right 2023 "
                          "(OS Open Greenspace, OGL v3.0).")


def build_trafford(b: Builder) -> None:
    """Trafford: boundaries, IoD2025/2019, population, lookups, centroids, postcodes and assets."""
    out = b.root / "boundaries" / "trafford.gpkg"
    if out.exists():
        out.unlink()
    layers = {
        "lsoa21": ("trafford/lsoa21_trafford_bgc.geojson", ["LSOA21CD", "LSOA21NM", "LADCD"]),
        "lsoa11": ("trafford/lsoa11_trafford_bgc.geojson", ["LSOA11CD", "LSOA11NM", "LADCD"]),
        "msoa21": ("trafford/msoa21_trafford_bgc.geojson", ["MSOA21CD", "MSOA21NM", "LADCD"]),
        "msoa11": ("trafford/msoa11_trafford_bgc.geojson", ["MSOA11CD", "MSOA11NM", "LADCD"]),
        "wards2025": ("trafford/wards2025_trafford_bgc.geojson", ["WD25CD", "WD25NM", "LAD25CD", "LAD25NM"]),
        "lad2025": ("trafford/lad2025_trafford_bgc_dissolved_from_wards.geojson", ["LAD25CD", "LAD25NM"]),
    }
    bounds = {}
    for layer, (rel, cols) in layers.items():
        g = gpd.read_file(b.src(rel))[cols + ["geometry"]].sort_values(cols[0]).reset_index(drop=True)
        bounds[layer] = g.to_crs(BNG)
        b.gpkg(g, "boundaries/trafford.gpkg", layer, sources=[rel],
               note=f"Trafford ONS boundaries ({layer}), generalised clipped (BGC, 20 m); reprojected to EPSG:27700; "
                    "columns as published by ONS.", licence=ONS_BOUNDARY)

    def trafford(df: pd.DataFrame, col: str) -> pd.DataFrame:
        return df[df[col] == TRAFFORD].sort_values(df.columns[0]).reset_index(drop=True)

    # IoD2025 (LSOA 2021) and population (ONS SAPE mid-2022: File 7 denominators exist only for the Tees)
    imd25 = iod2025_with_subdomains(b, trafford)
    b.csv(imd25, "data/imd/iod2025_lsoa21_trafford.csv",
          sources=["imd/iod2025_lsoa21_england.csv.gz", "imd/iod2025_lsoa21_subdomains_england.csv.gz"],
          note="English Indices of Deprivation 2025 (MHCLG, File 7 values): IMD, 7 domains and 6 sub-domains for the "
               "139 Trafford LSOAs 2021 (national ranks and deciles).")
    sape = pd.read_csv(b.src("population/ons_sape_mid2022_lsoa21_total_england.csv.gz"))
    sape = sape[sape["lsoa21cd"].isin(imd25["lsoa21cd"])].sort_values("lsoa21cd").reset_index(drop=True)
    if len(sape) != len(imd25):
        raise SystemExit("build_sample: SAPE mid-2022 does not cover every Trafford LSOA 2021")
    b.csv(sape, "data/population/ons_sape_mid2022_lsoa21_trafford.csv",
          sources=["population/ons_sape_mid2022_lsoa21_total_england.csv.gz"],
          note="ONS small-area population estimates, mid-2022, total persons, Trafford LSOAs 2021. Used as the "
               "population for IoD2025 in Trafford because the IoD2025 File 7 denominators (also mid-2022) are only "
               "available for the Tees Valley; they differ by a few persons per LSOA. No working-age count, so "
               "Employment averages are weighted by total population.")

    # IoD2019 (LSOA 2011) with its own denominators
    main = trafford(pd.read_csv(b.src("imd/iod2019_lsoa11_england.csv.gz")), "lad19cd")
    pop_cols = [c for c in main.columns if c.startswith("pop_")]
    pop19 = main[["lsoa11cd", "lsoa11nm", "lad19cd", "lad19nm", *pop_cols]].copy()
    main = main.drop(columns=pop_cols)
    sub = pd.read_csv(b.src("imd/iod2019_lsoa11_subdomains_england.csv.gz"))
    keep = ["lsoa11cd"] + [c for c in sub.columns if any(c.startswith(k + "_") for k in SUBDOMAIN_KEYS)]
    sub = sub[keep].rename(columns={f"{k}_{m}": f"{v}_{m}" for k, v in SUBDOMAIN_KEYS.items()
                                    for m in ("rank", "decile")})
    imd19 = main.merge(sub, on="lsoa11cd", how="left", validate="1:1")
    _ints(imd19)
    _ints(pop19)
    b.csv(imd19, "data/imd/iod2019_lsoa11_trafford.csv",
          sources=["imd/iod2019_lsoa11_england.csv.gz", "imd/iod2019_lsoa11_subdomains_england.csv.gz"],
          note="English Indices of Deprivation 2019 (MHCLG): IMD and 7 domains for the 138 Trafford LSOAs 2011.")
    b.csv(pop19, "data/population/iod2019_population_denominators_lsoa11_trafford.csv",
          sources=["imd/iod2019_lsoa11_england.csv.gz"],
          note="IoD2019 population denominators, mid-2015, Trafford LSOAs 2011.")

    # Lookups: LSOA21 -> MSOA21 (naming rule, checked) -> ward -> LAD; LSOA11 -> MSOA11 -> ward (PWC) -> LAD
    wards = bounds["wards2025"]
    wd = wards.set_index("WD25CD")["WD25NM"]
    lad_name = bounds["lad2025"].set_index("LAD25CD")["LAD25NM"]
    hcl = pd.read_csv(b.src("lookups/msoa_names_hcl_ew.csv.gz"))[["MSOACD", "MSOAHCLNM"]]
    lk = trafford(pd.read_csv(b.src("lookups/lsoa21_ward24_lad24_ew.csv.gz")), "lad24cd")
    lk["msoa21nm"] = lk["lsoa21nm"].str[:-1]
    msoa21 = bounds["msoa21"][["MSOA21CD", "MSOA21NM"]].rename(columns={"MSOA21CD": "msoa21cd",
                                                                        "MSOA21NM": "msoa21nm"})
    lk = lk.merge(msoa21, on="msoa21nm", how="left", validate="m:1")
    lk = lk.merge(hcl.rename(columns={"MSOACD": "msoa21cd", "MSOAHCLNM": "msoa21hclnm"}), on="msoa21cd", how="left")
    _check_nesting(lk, bounds["lsoa21"], bounds["msoa21"], "LSOA21CD", "MSOA21CD", "lsoa21cd", "msoa21cd")
    if set(lk["wd24cd"]) - set(wd.index):
        raise SystemExit("build_sample: Trafford ward codes in the LSOA21 lookup not in the May 2025 wards")
    lk21 = pd.DataFrame({
        "lsoa21cd": lk["lsoa21cd"], "lsoa21nm": lk["lsoa21nm"], "msoa21cd": lk["msoa21cd"], "msoa21nm": lk["msoa21nm"],
        "msoa21hclnm": lk["msoa21hclnm"], "wd25cd": lk["wd24cd"], "wd25nm": lk["wd24cd"].map(wd),
        "lad25cd": lk["lad24cd"], "lad25nm": lk["lad24cd"].map(lad_name),
    }).sort_values("lsoa21cd").reset_index(drop=True)
    b.csv(lk21, "data/lookups/lsoa21_msoa21_ward25_lad25_trafford.csv",
          sources=["lookups/lsoa21_ward24_lad24_ew.csv.gz", "lookups/msoa_names_hcl_ew.csv.gz",
                   "trafford/msoa21_trafford_bgc.geojson", "trafford/wards2025_trafford_bgc.geojson"],
          note="ONS best-fit LSOA 2021 -> ward (May 2024 codes, identical to May 2025 in Trafford) -> LAD; MSOA 2021 "
               "from the ONS naming rule, checked by point-in-polygon; House of Commons Library MSOA names.",
          licence=f"{OGL} MSOA names: House of Commons Library, Open Parliament Licence.")

    l11 = trafford(pd.read_csv(b.src("lookups/lsoa11_msoa11_lad21_gb.csv.gz")), "lad21cd")
    pwc11 = pd.read_csv(b.src("centroids/lsoa11_pwc_england.csv.gz"))
    pwc11 = pwc11[pwc11["lsoa11cd"].isin(l11["lsoa11cd"])].sort_values("lsoa11cd").reset_index(drop=True)
    pts = gpd.GeoDataFrame(pwc11[["lsoa11cd"]], geometry=gpd.points_from_xy(pwc11.easting, pwc11.northing), crs=BNG)
    ward_of = gpd.sjoin_nearest(pts, wards[["WD25CD", "geometry"]], how="left")
    ward_of = ward_of.drop_duplicates("lsoa11cd").set_index("lsoa11cd")["WD25CD"]
    lk11 = pd.DataFrame({"lsoa11cd": l11["lsoa11cd"], "lsoa11nm": l11["lsoa11nm"],
                         "msoa11cd": l11["msoa11cd"], "msoa11nm": l11["msoa11nm"]})
    lk11 = lk11.merge(hcl.rename(columns={"MSOACD": "msoa11cd", "MSOAHCLNM": "msoa11hclnm"}), on="msoa11cd", how="left")
    lk11["wd25cd"] = lk11["lsoa11cd"].map(ward_of)
    lk11["wd25nm"] = lk11["wd25cd"].map(wd)
    lk11["lad25cd"] = l11["lad21cd"].values
    lk11["lad25nm"] = lk11["lad25cd"].map(lad_name)
    b.csv(lk11.sort_values("lsoa11cd").reset_index(drop=True), "data/lookups/lsoa11_msoa11_ward25_lad25_trafford.csv",
          sources=["lookups/lsoa11_msoa11_lad21_gb.csv.gz", "centroids/lsoa11_pwc_england.csv.gz",
                   "trafford/wards2025_trafford_bgc.geojson", "lookups/msoa_names_hcl_ew.csv.gz"],
          note="ONS LSOA 2011 -> MSOA 2011 -> LAD lookup; ward (May 2025) derived here as the ward containing the "
               "LSOA's ONS population-weighted centroid (as for the Tees Valley).",
          licence=f"{OGL} MSOA names: House of Commons Library, Open Parliament Licence.")
    x = pd.read_csv(b.src("lookups/lsoa11_lsoa21_lad22_ew.csv.gz"))
    x = x[x["lad22cd"] == TRAFFORD].sort_values(["lsoa11cd", "lsoa21cd"]).reset_index(drop=True)
    b.csv(x, "data/lookups/lsoa11_lsoa21_trafford.csv", sources=["lookups/lsoa11_lsoa21_lad22_ew.csv.gz"],
          note="ONS LSOA 2011 -> LSOA 2021 lookup for Trafford (137 unchanged, 1 split into 2).")

    # Centroids: LSOA 2011 PWCs; LSOA 2021 = the 2011 PWC where the LSOA is unchanged, else a postcode proxy
    c11 = pwc11[["lsoa11cd", "lsoa11nm", "easting", "northing"]]
    b.csv(c11, "data/centroids/lsoa11_pwc_trafford.csv", sources=["centroids/lsoa11_pwc_england.csv.gz"],
          note="ONS LSOA (December 2011) population-weighted centroids for Trafford (easting/northing converted from "
               "the published WGS84 values, 0.1 m).", licence=f"{OGL} {OS}")
    pc = pd.read_csv(b.src("trafford/postcodes_trafford_onspd_feb2025.csv.gz"))
    proxy = pc.groupby("lsoa21cd")[["easting", "northing"]].mean().round(1)
    unchanged = x[x["change_code"] == "U"].set_index("lsoa21cd")["lsoa11cd"]
    c21 = lk21[["lsoa21cd", "lsoa21nm"]].copy()
    same = c21["lsoa21cd"].isin(unchanged.index)
    by11 = c11.set_index("lsoa11cd")
    c21["easting"] = c21["lsoa21cd"].map(lambda c: by11.loc[unchanged[c], "easting"] if c in unchanged.index
                                          else proxy.loc[c, "easting"])
    c21["northing"] = c21["lsoa21cd"].map(lambda c: by11.loc[unchanged[c], "northing"] if c in unchanged.index
                                           else proxy.loc[c, "northing"])
    c21["method"] = same.map({True: "ons_pwc_2011_unchanged_lsoa", False: "mean_of_onspd_postcodes"})
    b.csv(c21, "data/centroids/lsoa21_pwc_trafford.csv",
          sources=["centroids/lsoa11_pwc_england.csv.gz", "lookups/lsoa11_lsoa21_lad22_ew.csv.gz",
                   "trafford/postcodes_trafford_onspd_feb2025.csv.gz"],
          note="Population-weighted centroids for Trafford LSOAs 2021 (documented proxy: ONS LSOA 2021 PWCs for "
               "Trafford are not in the raw data). For the 137 LSOAs unchanged 2011 -> 2021: the ONS LSOA 2011 PWC "
               "(in the Tees Valley the 2011 and 2021 PWCs of unchanged LSOAs are a median 12 m apart). For the 2 "
               "LSOAs split from E01006185: the mean location of the LSOA's ONSPD postcodes (`method` column). Check: "
               "for the unchanged LSOAs the postcode mean is a median 58 m from the ONS PWC.",
          licence=f"{OGL} {OS}")

    # Postcodes (for geocoding postcode-only assets)
    pcs = pd.DataFrame({"postcode": pc["postcode"], "easting": pc["easting"].round(1),
                        "northing": pc["northing"].round(1), "lad25cd": pc["lad_code"], "wd25cd": pc["ward_code"],
                        "lsoa21cd": pc["lsoa21cd"]})
    pcs = pcs.sort_values("postcode").reset_index(drop=True)
    b.csv(pcs, "data/postcodes/postcodes_trafford.csv.gz", sources=["trafford/postcodes_trafford_onspd_feb2025.csv.gz"],
          note="Trafford postcodes from the ONS Postcode Directory (February 2025) with their location (EPSG:27700), "
               "ward, LAD and LSOA 2021; includes terminated postcodes (a geocoding lookup, not a count of addresses).",
          licence="Contains OS data © Crown copyright and database right 2025. Contains Royal Mail data © Royal Mail "
                  "copyright and database right 2025. Contains National Statistics data © Crown copyright and database "
                  "right 2025. (OGL v3.0)")

    # Assets
    out = b.root / "data" / "assets" / "assets_trafford.gpkg"
    if out.exists():
        out.unlink()
    files = [
        ("gp_practices", "trafford/gp_practices_trafford_epraccur_2026.geojson",
         "NHS ODS epraccur active GP practices, January 2026, at ONSPD postcode centroids.",
         "Contains information from NHS England (Organisation Data Service), licensed under OGL v3.0."),
        ("pharmacies", "trafford/pharmacies_trafford_nhsbsa_2025.geojson",
         "NHSBSA consolidated pharmaceutical list 2024-25 Q4, at ONSPD postcode centroids.",
         "Contains information from NHS Business Services Authority, licensed under OGL v3.0."),
        ("libraries", "trafford/libraries_trafford_2023.geojson", "Trafford Council libraries, November 2023.",
         "Trafford Council, OGL v3.0."),
        ("schools", "trafford/schools_trafford_gias_2024.geojson",
         "DfE Get Information About Schools, open establishments, September 2024.", OGL),
        ("leisure_centres", "trafford/leisure_centres_trafford_2026.geojson",
         "Trafford leisure centres, February 2026.",
         "Trafford Council, Trafford Leisure CIC, George Carnall Community Group CIC, Schools Plus; OGL v3.0."),
        ("community_hubs", "trafford/community_hubs_trafford_2024.geojson",
         "Trafford Council Community Response Hubs, February 2024.", "Trafford Council, OGL v3.0."),
        ("food_banks", "trafford/food_banks_trafford_gmpa_2018.geojson",
         "Food banks (Trussell Trust sessions and a pantry), GM Poverty Action, January 2018.",
         "GM Poverty Action, published by Trafford Data Lab under OGL v3.0."),
    ]
    drop = {"longitude", "latitude", "opening_hours_monday", "opening_hours_tuesday", "opening_hours_wednesday",
            "opening_hours_thursday", "opening_hours_friday", "opening_hours_saturday", "opening_hours_sunday",
            "facilities"}
    for layer, rel, note, lic in files:
        g = gpd.read_file(b.src(rel))
        g = g[[c for c in g.columns if c not in drop]].sort_values(["name", "postcode"]).reset_index(drop=True)
        b.gpkg(g, "data/assets/assets_trafford.gpkg", layer, sources=[rel], note=f"{note} EPSG:27700.", licence=lic)
    types = ["gp_practice", "pharmacy", "library", "school", "leisure_centre", "community_hub", "food_bank"]
    u = gpd.read_file(b.src("trafford/community_assets_trafford.geojson"))
    u = u[u["asset_type"].isin(types)].sort_values("asset_id").reset_index(drop=True)
    b.gpkg(u, "data/assets/assets_trafford.gpkg", "community_assets",
           sources=["trafford/community_assets_trafford.geojson"],
           note="Union of the Trafford GP practices, pharmacies, libraries, schools, leisure centres, community hubs "
                "and food banks (asset_id, asset_type, name, postcode, lad_code, ward25_code, lsoa21cd, lsoa11cd, "
                "source); EPSG:27700.", licence="As for each source layer.")
    sites = gpd.read_file(b.src("trafford/greenspace_sites_trafford_os_open_greenspace_2023.geojson"))
    sites = sites.to_crs(BNG)
    sites["area_ha"] = (sites.geometry.area / 1e4).round(4)
    rep = sites.geometry.representative_point()
    sites = sites.assign(_x=rep.x.round(1), _y=rep.y.round(1))
    sites = sites.sort_values(["site_type", "_x", "_y"]).drop(columns=["_x", "_y"]).reset_index(drop=True)
    sites.insert(0, "site_id", [f"TRF-GS-{i + 1:03d}" for i in range(len(sites))])
    b.gpkg(sites, "data/assets/assets_trafford.gpkg", "greenspace_sites",
           sources=["trafford/greenspace_sites_trafford_os_open_greenspace_2023.geojson"],
           note="OS Open Greenspace sites (October 2023), clipped to Trafford by Trafford Data Lab; site_type is the "
                "OS function; area_ha computed in EPSG:27700; site_id assigned here (the OS id was dropped upstream).",
           licence=TRAFFORD_GREENSPACE_OS)
    ap = gpd.read_file(b.src("trafford/greenspace_access_points_trafford_os_open_greenspace_2023.geojson"))
    ap = ap.drop(columns=["longitude", "latitude"]).sort_values(["easting", "northing", "access_type"])
    ap = ap.reset_index(drop=True)
    b.gpkg(ap, "data/assets/assets_trafford.gpkg", "greenspace_access_points",
           sources=["trafford/greenspace_access_points_trafford_os_open_greenspace_2023.geojson"],
           note="OS Open Greenspace access points (October 2023) in Trafford; each lies on a site boundary.",
           licence=TRAFFORD_GREENSPACE_OS)


def build_england_outline(b: Builder) -> None:
    """Write a light England outline (``boundaries/england_outline.gpkg``), for flagging assets outside England."""
    import shapely

    out = b.root / "boundaries" / "england_outline.gpkg"
    if out.exists():
        out.unlink()
    rel = "boundaries/england_boundaries_generalised.gpkg"
    lads = gpd.read_file(b.src(rel), layer="lad24_uk")
    lads = lads[lads["ltla24_code"].str.startswith("E")].to_crs(BNG)
    shape = shapely.simplify(shapely.union_all(lads.geometry.values), 50)
    g = gpd.GeoDataFrame({"ctry_code": ["E92000001"], "ctry_name": ["England"]}, geometry=[shape], crs=BNG)
    b.gpkg(g, "boundaries/england_outline.gpkg", "england", sources=[f"{rel} (layer lad24_uk)"],
           note="England: the 296 English LADs (2024, strongly generalised by geographr) dissolved and simplified to "
                "50 m. Only for the 'outside England' check on asset locations, which allows 1 km for the "
                "generalisation (every ONS LSOA 2011 population-weighted centroid lies within 255 m of it).",
           licence=ONS_BOUNDARY)


# -- Health Impact Assessment evidence (issue 7): self-contained, one call in main() ---------------
#: IoD File 8 indicators kept for HIA screening, per vintage (source column names, unchanged).
HIA_INDICATORS = {
    2025: ("imd/iod2025_lsoa21_indicators_england.csv.gz", "imd/iod2025_lsoa21_england.csv.gz", "lsoa21cd", "lad24cd", [
        "years_of_potential_life_lost_indicator", "comparative_illness_and_disability_ratio_indicator",
        "acute_morbidity_indicator", "mental_health_indicator",
        "adult_skills_and_english_language_proficiency_indicator",
        "violence_with_injury_rate_per_1_000_at_risk_population", "burglary_rate_per_1_000_at_risk_properties",
        "anti_social_behaviour_rate_per_1_000_at_risk_population", "connectivity_score", "patient_to_gp_ratio",
        "housing_affordability_indicator", "household_overcrowding_indicator_bedrooms",
        "homelessness_indicator_rate_per_1_000_households"]),
    2019: ("imd/iod2019_lsoa11_indicators_england.csv.gz", "imd/iod2019_lsoa11_england.csv.gz", "lsoa11cd", "lad19cd", [
        "years_of_potential_life_lost_indicator", "comparative_illness_and_disability_ratio_indicator",
        "acute_morbidity_indicator", "mood_and_anxiety_disorders_indicator",
        "adult_skills_and_english_language_proficiency_indicator", "road_distance_to_a_gp_surgery_indicator_km",
        "road_distance_to_general_store_or_supermarket_indicator_km", "road_distance_to_a_primary_school_indicator_km",
        "household_overcrowding_indicator", "homelessness_indicator_rate_per_1000_households",
        "housing_affordability_indicator", "housing_in_poor_condition_indicator",
        "houses_without_central_heating_indicator", "road_traffic_accidents_indicator", "air_quality_indicator"]),
}
HIA_PLACES = {"tees_valley": TEES, "trafford": ["E08000009"]}
CNI_LICENCE = ("Community Needs Index 2023, OCSI for Local Trust (free to reuse with attribution; redistributed in "
               "the MIT-licensed humaniverse/IMD package; check Local Trust's terms before republishing).")


def build_hia(b: Builder) -> None:
    """IoD health/HIA indicators and CNI per bundled place, and England reference statistics."""
    from geotarget.data.hia_inputs import cni_comparators, england_comparators

    ref = []
    for year, (ind_rel, imd_rel, code, lad, cols) in HIA_INDICATORS.items():
        imd = pd.read_csv(b.src(imd_rel))
        ind = pd.read_csv(b.src(ind_rel))[[code, *cols]]
        for place, lads in HIA_PLACES.items():
            keep = imd.loc[imd[lad].isin(lads), code]
            out = ind[ind[code].isin(keep)].sort_values(code).reset_index(drop=True)
            b.csv(out, f"data/hia/iod{year}_indicators_{code[:6]}_{place}.csv", sources=[ind_rel, imd_rel],
                  note=f"IoD{year} File 8 underlying indicators used by `geotarget hia` (health: years of potential "
                       "life lost, comparative illness and disability ratio, acute morbidity, "
                       f"{'mental health' if year == 2025 else 'mood and anxiety disorders'}; and indicators for the "
                       f"HUDU topics), values as published, for the {len(out)} LSOAs of {place}.")
        # England reference: population-weighted means and LSOA percentiles of every score and indicator
        if year == 2025:
            sub = pd.read_csv(b.src("imd/iod2025_lsoa21_subdomains_england.csv.gz"))
            pop = pd.read_csv(b.src("population/ons_sape_mid2022_lsoa21_total_england.csv.gz"))
            eng = imd.merge(sub, on=code).merge(ind, on=code).merge(pop[[code, "pop_total_mid2022"]], on=code)
            w = eng["pop_total_mid2022"]
            weights = "ONS SAPE mid-2022 total population (LSOA 2021)"
        else:
            eng = imd.merge(ind, on=code)
            w = eng["pop_total_mid2015"]
            weights = "IoD2019 population denominators, mid-2015"
        eng = eng.rename(columns={f"{k}_{m}": f"{v}_{m}" for k, v in SUBDOMAIN_KEYS.items()
                                  for m in ("score", "decile")})
        # the one definition of the comparators, shared with data from files (geotarget.data.hia_inputs)
        ref += [(year, m, s, v) for (m, s), v in england_comparators(eng, w, indicators=cols).items()]
        log.info("HIA England reference IoD%d weighted by %s", year, weights)
    cni_rel = "cni/cni2023_lsoa21_england.csv.gz"
    cni = pd.read_csv(b.src(cni_rel))
    imd = pd.read_csv(b.src("imd/iod2025_lsoa21_england.csv.gz"))
    for place, lads in HIA_PLACES.items():
        out = cni[cni["lsoa21cd"].isin(imd.loc[imd["lad24cd"].isin(lads), "lsoa21cd"])].drop(columns="lsoa21nm")
        out = out.sort_values("lsoa21cd").reset_index(drop=True)
        for c in [c for c in out.columns if c.endswith("_rank")]:
            out[c] = out[c].astype("int64")
        b.csv(out, f"data/hia/cni2023_lsoa21_{place}.csv", sources=[cni_rel, "imd/iod2025_lsoa21_england.csv.gz"],
              note=f"Community Needs Index 2023 (OCSI for Local Trust) for the {len(out)} LSOAs 2021 of {place}: CNI "
                   "and its three domains (civic assets, connectedness, active and engaged community), score and "
                   "national rank (1 = highest need of 33,755), and the 'left behind' flag (10% highest need on both "
                   "CNI and IMD).", licence=CNI_LICENCE)
    ref += [(2025, m, s, v) for (m, s), v in cni_comparators(cni).items()]
    table = pd.DataFrame(ref, columns=["vintage", "measure", "statistic", "value"])
    table["value"] = table["value"].astype(float).round(6)
    b.csv(table, "data/hia/england_reference.csv",
          sources=[HIA_INDICATORS[2025][0], HIA_INDICATORS[2025][1], "imd/iod2025_lsoa21_subdomains_england.csv.gz",
                   "population/ons_sape_mid2022_lsoa21_total_england.csv.gz", HIA_INDICATORS[2019][0],
                   HIA_INDICATORS[2019][1], cni_rel],
          note="England comparators for `geotarget hia`, computed here from the England-wide files: for every IoD "
               "score and HIA indicator, the population-weighted mean (IoD2025: ONS SAPE mid-2022 totals, which "
               "differ from the IoD denominators by a few people per LSOA; IoD2019: its mid-2015 denominators) "
               "and the LSOA percentiles p10-p90 (unweighted, as IoD deciles count LSOAs); the share of "
               "England's population in each national decile of the IMD, domains and sub-domains; LSOA counts.",
          licence=f"{OGL} CNI counts: {CNI_LICENCE}")


def write_provenance(b: Builder) -> None:
    lines = [
        "# Bundled sample data — provenance",
        "",
        "This file is generated by `python data/build_sample.py --source ../shared/data`; do not edit it by hand.",
        "Every file below is a compact, processed extract for the five Tees Valley councils",
        "(Hartlepool E06000001, Middlesbrough E06000002, Redcar and Cleveland E06000003,",
        "Stockton-on-Tees E06000004, Darlington E06000005) of real public data. Paths under *Sources* are",
        "relative to the raw data folder; its own PROVENANCE.md names the original publishers and copies.",
        "Files named `*trafford*` are the same for a second place, Trafford E08000009 (with OS Open Greenspace",
        "sites and access points), and `boundaries/england_outline.gpkg` is a light outline of England.",
        "",
        "**Attribution.** Contains public sector information licensed under the Open Government Licence v3.0.",
        "Contains OS data © Crown copyright and database right. Contains Royal Mail data © Royal Mail copyright",
        "and database right. Contains National Statistics data © Crown copyright and database right.",
        "Contains information from NHS England (Organisation Data Service). Libraries: Arts Council England.",
        "Trafford: NHS Business Services Authority (pharmacies), DfE (schools), Trafford Council (libraries, hubs,",
        "leisure centres), GM Poverty Action (food banks), via Trafford Data Lab; OS Open Greenspace © Crown copyright",
        "and database right 2023.",
        "",
        "Vintages: IoD2025 (published 30 October 2025) on LSOA 2021, population mid-2022;",
        "IoD2019 on LSOA 2011, population mid-2015; wards and LADs May 2025; postcodes Code-Point Open 2025.",
        "",
    ]
    for e in b.entries:
        lines += [f"## `{e['path']}`", "", f"- Rows: {e['rows']:,}", f"- What: {e['note']}",
                  f"- Sources: {', '.join('`' + s + '`' for s in e['sources'])}", f"- Licence: {e['licence']}", ""]
    lines += ["## Checksums (SHA-256)", ""]
    for p in sorted({e["path"].split(" ")[0] for e in b.entries}):
        digest = hashlib.sha256((b.root / p).read_bytes()).hexdigest()
        lines.append(f"- `{p}`: `{digest}`")
    path = b.root / "data" / "PROVENANCE.md"
    tmp = path.with_name("PROVENANCE.md.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data",
                    help="folder holding the raw public data (default: ../shared/data)")
    ap.add_argument("--out", type=Path, default=ROOT, help="project root to write into (default: this repo)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": PINNED_DATE})
    b = Builder(args.source.resolve(), args.out.resolve())
    bounds = build_boundaries(b)
    build_imd(b)
    build_lookups(b, bounds)
    build_centroids(b)
    build_postcodes(b, bounds)
    build_assets(b)
    build_outcomes(b)
    build_reference(b)
    build_trafford(b)
    build_england_outline(b)
    build_hia(b)
    write_provenance(b)
    total = sum(f.stat().st_size for d in ("boundaries", "data") for f in (b.root / d).rglob("*") if f.is_file())
    log.info("sample total %.2f MB", total / 1e6)
    return 0


if __name__ == "__main__":
    sys.exit(main())
