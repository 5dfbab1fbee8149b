"""HIA screening for any site in England: inputs from the national files, councils found from the site, shares.

England-wide checks read ../shared/data (the ``shared_data`` fixture; skipped when absent). The straddling
site and the refusals outside England run on the bundled sample, offline.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geotarget import AreaNotFoundError, DataNotFoundError, SchemaError, load
from geotarget.cli.main import main
from geotarget.core.crs import BNG
from geotarget.data.hia_inputs import HIA_INDICATORS, cni_comparators, england_comparators
from geotarget.data.source import DataSource
from geotarget.hia.evidence import council_text, percent_shares, residents_council_text
from geotarget.hia.place import site_councils
from geotarget.hia.report import evidence, report_blocks, run_hia, to_markdown
from geotarget.hia.screen import hia_data, screen_site
from geotarget.io.imd import add_population, read_imd, read_population
from geotarget.io.indicators import read_cni, read_iod_indicators
from geotarget.io.sites import Site, parse_site, require_in_england

ROOT = Path(__file__).resolve().parent.parent
LEEDS = "E08000035"
LS9 = "LS9 8AG"
CARDIFF = "lat=51.4816, lon=-3.1791"  # CF10 1AA, Cardiff city centre
EDINBURGH = "SRID=4326;POINT (-3.1883 55.9533)"


def _bundled_reference(year: int) -> pd.Series:
    ref = pd.read_csv(ROOT / "data" / "hia" / "england_reference.csv")
    return ref[ref["vintage"] == year].set_index(["measure", "statistic"])["value"]


def _files(shared: Path, **extra) -> dict:
    return dict(source="files", imd=shared / "imd/iod2025_lsoa21_england.csv.gz",
                population=shared / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                boundaries=shared / "boundaries/england_boundaries_generalised.gpkg", boundaries_layer="lsoa21",
                lookup=shared / "lookups/lsoa21_ward24_lad24_ew.csv.gz",
                lads=shared / "boundaries/england_boundaries_generalised.gpkg", lads_layer="lad24_uk",
                indicators=shared / "imd/iod2025_lsoa21_indicators_england.csv.gz",
                cni=shared / "cni/cni2023_lsoa21_england.csv.gz",
                codepoint=shared / "postcodes/codepoint_open_2025_england.csv.gz", **extra)


# -- the England comparators: one definition, the bundled values reproduced ------------------------------

def test_build_script_uses_the_library_indicators_and_comparators():
    spec = importlib.util.spec_from_file_location("build_sample", ROOT / "data" / "build_sample.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert {y: tuple(v[4]) for y, v in mod.HIA_INDICATORS.items()} == HIA_INDICATORS
    text = (ROOT / "data" / "build_sample.py").read_text()
    assert "england_comparators(eng, w, indicators=cols)" in text and "cni_comparators(cni)" in text
    assert "quantile" not in text  # no second definition of the percentiles


def test_bundled_comparators_reproduced_from_the_england_files(shared_data):
    """Every bundled England comparator, IoD2025 and IoD2019, from the national files through geotarget's readers."""
    imd, v = read_imd(shared_data / "imd/iod2025_lsoa21_england.csv.gz")
    imd = add_population(imd, read_population(shared_data / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                                              vintage=2025))
    sub = pd.read_csv(shared_data / "imd/iod2025_lsoa21_subdomains_england.csv.gz").set_index("lsoa21cd")
    keys = {"children_and_young_people": "cyp", "geographical_barriers": "geog_barriers"}
    sub.columns = [re.sub(r"^(children_and_young_people|geographical_barriers)", lambda m: keys[m.group(1)], c)
                   for c in sub.columns]
    ind, v8 = read_iod_indicators(shared_data / "imd/iod2025_lsoa21_indicators_england.csv.gz")
    assert v8 == v and len(ind) == 33_755
    cols = list(HIA_INDICATORS[2025])
    eng = imd.join(sub).join(ind[cols])
    cni = read_cni(shared_data / "cni/cni2023_lsoa21_england.csv.gz")
    got = pd.concat([england_comparators(eng, eng["pop_total"], indicators=cols), cni_comparators(cni)]).round(6)
    want = _bundled_reference(2025)
    assert len(want) == 414 and set(got.index) == set(want.index)
    np.testing.assert_allclose(got[want.index].to_numpy(), want.to_numpy(), rtol=0, atol=1e-6)

    imd19, v19 = read_imd(shared_data / "imd/iod2019_lsoa11_england.csv.gz")
    ind19, _ = read_iod_indicators(shared_data / "imd/iod2019_lsoa11_indicators_england.csv.gz")
    cols = list(HIA_INDICATORS[2019])
    got = england_comparators(imd19.join(ind19[cols]), imd19["pop_total"], indicators=cols).round(6)
    want = _bundled_reference(2019)
    assert set(got.index) == set(want.index)
    np.testing.assert_allclose(got[want.index].to_numpy(), want.to_numpy(), rtol=0, atol=1e-6)
    assert got["population", "total"] == imd19["pop_total"].sum() and got["lsoas", "count"] == 32_844


# -- readers --------------------------------------------------------------------------------------------

def test_official_file8_long_headers_read_like_the_compact_layout(tmp_path):
    compact = ROOT / "data/hia/iod2025_indicators_lsoa21_tees_valley.csv"
    raw = pd.read_csv(compact)
    official = {"lsoa21cd": "LSOA code (2021)", "years_of_potential_life_lost_indicator":
                "Years of potential life lost indicator", "comparative_illness_and_disability_ratio_indicator":
                "Comparative illness and disability ratio indicator", "acute_morbidity_indicator":
                "Acute morbidity indicator", "mental_health_indicator": "Mental health indicator",
                "violence_with_injury_rate_per_1_000_at_risk_population":
                "Violence with injury, rate per 1,000 'at-risk population'",
                "patient_to_gp_ratio": "Patient-to-GP Ratio",
                "homelessness_indicator_rate_per_1_000_households":
                "Homelessness indicator (rate per 1,000 households)",
                "household_overcrowding_indicator_bedrooms": "Household overcrowding indicator (bedrooms)"}
    long = raw.rename(columns=official)
    long.insert(1, "LSOA name (2021)", "Somewhere 001A")
    long.insert(2, "Local Authority District code (2024)", "E06000001")
    path = tmp_path / "File_8_IoD2025_Underlying_Indicators.csv"
    long.to_csv(path, index=False, encoding="utf-8-sig")
    a, va = read_iod_indicators(compact)
    b, vb = read_iod_indicators(path)
    assert va == vb and va.year == 2025
    pd.testing.assert_frame_equal(a, b)
    assert a.loc["E01011949", "years_of_potential_life_lost_indicator"] == 77.561


def test_wrong_layouts_are_named(tmp_path):
    p = tmp_path / "imd.csv"
    p.write_text("lsoa21cd,imd_score\nE01000001,1.2\n")
    with pytest.raises(SchemaError, match=r"imd.csv: not the IoD File 8 \(underlying indicators\) of IoD2025: no "
                                          r"column for years_of_potential_life_lost_indicator.*Columns found: "
                                          r"'lsoa21cd', 'imd_score'"):
        read_iod_indicators(p)
    p.write_text("code,years_of_potential_life_lost_indicator\nE01000001,1\n")
    with pytest.raises(SchemaError, match=r"no LSOA code column in this IoD File 8; expected 'LSOA code \(2021\)'"):
        read_iod_indicators(p)
    q = tmp_path / "f8.csv"
    q.write_text("LSOA code (2011),Years of potential life lost indicator,Comparative illness and disability ratio "
                 "indicator,Acute morbidity indicator,Mood and anxiety disorders indicator\nE01000001,1,2,x,4\n")
    with pytest.raises(SchemaError, match=r"f8.csv, column 'Acute morbidity indicator': not a number — row 2: 'x'"):
        read_iod_indicators(q)
    with pytest.raises(SchemaError, match="vintage IoD2025 was given but this is the File 8 of IoD2019"):
        read_iod_indicators(q, vintage=2025)
    c = tmp_path / "cni.csv"
    c.write_text("lsoa21cd,cni_score\nE01000001,4.9\n")
    with pytest.raises(SchemaError, match=r"cni.csv: not the Community Needs Index by LSOA: no column cni_rank, "
                                          r"left_behind_area. Columns found: 'lsoa21cd', 'cni_score'"):
        read_cni(c)


def test_cni_reader_matches_the_bundled_extract():
    cni = read_cni(ROOT / "data/hia/cni2023_lsoa21_tees_valley.csv")
    raw = pd.read_csv(ROOT / "data/hia/cni2023_lsoa21_tees_valley.csv").set_index("lsoa21cd")
    assert cni["left_behind_area"].dtype == bool
    assert cni["left_behind_area"].sum() == raw["left_behind_area"].sum() > 0
    assert (cni["cni_rank"] == raw["cni_rank"].reindex(cni.index)).all()


# -- a non-bundled council from the national files ----------------------------------------------------

@pytest.fixture(scope="module")
def leeds(shared_data):
    """Leeds from the England files, the councils chosen from the site."""
    cp = _codepoint(shared_data)
    site = parse_site(LS9, postcodes=cp.set_index("postcode")[["easting", "northing"]])
    src = DataSource(**_files(shared_data))
    councils = site_councils(site, source=src)
    data = load(**_files(shared_data, councils=councils))
    return site, councils, _with_postcode_points(data, shared_data)


def _codepoint(shared: Path) -> pd.DataFrame:
    if shared not in _CODEPOINT:
        _CODEPOINT[shared] = pd.read_csv(shared / "postcodes/codepoint_open_2025_england.csv.gz",
                                         usecols=["postcode", "easting", "northing", "admin_district_code"])
    return _CODEPOINT[shared]


_CODEPOINT: dict = {}


def _with_postcode_points(data, shared: Path):
    """Return the study's Code-Point postcodes as population points (weight 1) in the LSOA they lie in.

    Built here, independently of :mod:`geotarget.data.points` (which ``load(..., codepoint=, postcode_lookup=)``
    uses), so the resident counts below are checked against a second construction.
    """
    cp = _codepoint(shared)
    cp = cp[cp["admin_district_code"].isin(data.councils)]
    pts = gpd.GeoDataFrame({"postcode": cp["postcode"].to_numpy()},
                           geometry=gpd.points_from_xy(cp["easting"], cp["northing"]), crs=BNG)
    lsoas = data.lsoas[["geometry"]].reset_index()
    hit = gpd.sjoin(pts, lsoas, how="left", predicate="within")
    hit = hit[~hit.index.duplicated()]
    miss = hit["lsoa_code"].isna()
    near = gpd.sjoin_nearest(pts[miss.to_numpy()], lsoas, how="left", max_distance=200)
    hit.loc[miss, "lsoa_code"] = near[~near.index.duplicated()]["lsoa_code"].reindex(hit.index[miss])
    pts["lsoa_code"] = hit["lsoa_code"].to_numpy()
    pts["weight"] = 1.0
    pts = pts[pts["lsoa_code"].notna()].reset_index(drop=True)
    return dataclasses.replace(data, postcodes=pts, postcodes_note=f"{len(pts):,} Code-Point Open postcodes (test)")


def test_councils_found_from_the_site(leeds, shared_data):
    site, councils, data = leeds
    assert councils == (LEEDS,)
    assert data.councils == (LEEDS,) and data.place == "Leeds" and len(data.lsoas) == 488
    cp = _codepoint(shared_data).set_index("postcode")
    assert (site.geometry.x, site.geometry.y) == tuple(cp.loc[LS9, ["easting", "northing"]].astype(float))
    assert cp.loc[LS9, "admin_district_code"] == LEEDS  # Code-Point agrees with the point in polygon
    # a point 1 km inside Leeds' boundary with Bradford: both councils, Leeds (the site's) first
    lads = gpd.read_file(shared_data / "boundaries/england_boundaries_generalised.gpkg", layer="lad24_uk").to_crs(BNG)
    lads = lads.set_index("ltla24_code")
    on_edge = _mid_edge(lads.loc[LEEDS].geometry, lads.loc["E08000032"].geometry)
    inside = next(p for p in (shapely.Point(on_edge.x + dx, on_edge.y + dy)
                              for dx, dy in ((1000, 0), (0, 1000), (-1000, 0), (0, -1000), (700, 700), (-700, -700)))
                  if lads.loc[LEEDS].geometry.contains(p) and p.distance(lads.loc["E08000032"].geometry) > 500)
    found = site_councils(Site("edge", inside, "test"), lads=lads.rename_axis("lad_code"))
    assert found[0] == LEEDS and "E08000032" in found


def test_hia_for_a_leeds_postcode_from_the_national_files(leeds, shared_data, tmp_path):
    site, _, data = leeds
    assert data.hia_reference is not None and data.cni is not None
    res = run_hia(data, site=site, out=tmp_path, generated="2025-11-01", with_map=False)
    assert sorted(res.outputs) == ["ls9-8ag.html", "ls9-8ag.json", "ls9-8ag.md"]
    ev = json.loads((tmp_path / "ls9-8ag.json").read_text())
    assert ev["council"] == {"code": LEEDS, "name": "Leeds"} and ev["councils_text"] == "Leeds"
    assert ev["place"] == "Leeds" and ev["vintage"] == "IoD2025, LSOA 2021"
    raw = pd.read_csv(shared_data / "imd/iod2025_lsoa21_england.csv.gz").set_index("lsoa21cd")
    ind = pd.read_csv(shared_data / "imd/iod2025_lsoa21_indicators_england.csv.gz").set_index("lsoa21cd")
    assert len(ev["lsoas"]) > 10
    for item in ev["lsoas"]:
        code = item["code"]
        assert raw.loc[code, "lad24cd"] == LEEDS and item["council"] == "Leeds"
        assert item["decile"] == raw.loc[code, "imd_decile"] and item["deciles"]["health"] == raw.loc[code,
                                                                                                       "health_decile"]
        assert item["indicators"]["years_of_potential_life_lost_indicator"] == pytest.approx(
            ind.loc[code, "years_of_potential_life_lost_indicator"])
    on = [i for i in ev["lsoas"] if i["on_site"]]
    assert len(on) == 1 and data.lsoas.loc[on[0]["code"]].geometry.contains(site.geometry)
    # the England comparators are the bundled (national) ones
    ref = _bundled_reference(2025)
    yll = next(r for r in ev["indicators"] if r["indicator"] == "years_of_potential_life_lost_indicator")
    assert yll["england"] == pytest.approx(ref["years_of_potential_life_lost_indicator", "pop_weighted_mean"], abs=1e-4)
    england = next(r for r in ev["profile"] if r["zone"] == "england")
    assert england["residents"] == pytest.approx(ref["population", "total"])
    # residents within 800 m: each LSOA's population times its share of postcodes inside, summed
    pts = data.postcodes
    ring = site.geometry.buffer(800, quad_segs=32)
    inside = pts[pts.within(ring)].groupby("lsoa_code").size()
    total = pts.groupby("lsoa_code").size()
    want = float((data.lsoas["pop_total"].reindex(inside.index) * inside / total.reindex(inside.index)).sum())
    assert res.screenings[0].profile.loc["800m", "residents"] == pytest.approx(want, rel=1e-9)
    assert next(r for r in ev["profile"] if r["zone"] == "800m")["residents"] == pytest.approx(want, abs=1e-3)
    md = (tmp_path / "ls9-8ag.md").read_text()
    assert "Council: Leeds (E08000035)" in md and "official data files (Leeds)" in md
    assert "Community Needs Index" in md
    # a postcode given as text is located in the data's postcode table (Code-Point: any English postcode)
    cp = _codepoint(shared_data)
    table = cp[cp["admin_district_code"] == LEEDS].set_index("postcode")[["easting", "northing"]]
    again = run_hia(dataclasses.replace(data, postcode_locations=table), site=LS9, out=tmp_path / "again",
                    with_map=False)
    assert again.screenings[0].site.geometry.equals(site.geometry)
    assert list(again.screenings[0].lsoas.index) == list(res.screenings[0].lsoas.index)


def test_cli_hia_with_files_chooses_the_council_and_refuses_wales(shared_data, tmp_path, capsys, monkeypatch):
    opts = []
    for k, v in _files(shared_data).items():
        opts += [f"--{k.replace('_', '-')}", str(v)]
    assert main(["hia", "--site", CARDIFF, "--name", "Cardiff", *opts, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "site 'Cardiff'" in err and "lies outside England" in err and "latitude 51.4816" in err
    # Leeds from the files: the council is chosen from the site; the points fixture stands in for data/points.py
    gload = importlib.import_module("geotarget.data.load")  # the module (geotarget.data.load is also the function)
    real = gload.load

    def load_with_points(*a, **kw):
        return _with_postcode_points(real(*a, **kw), shared_data)

    monkeypatch.setattr(gload, "load", load_with_points)
    one = tmp_path / "one_postcode.csv"  # --postcodes: where postcode sites are located (faster than all England)
    _codepoint(shared_data).query("postcode == @LS9").to_csv(one, index=False)
    res = tmp_path / "hia"  # not the folder of its input (one_postcode.csv): that would be refused
    assert main(["hia", "--site", LS9, "--postcodes", str(one), *opts, "--no-map", "--out", str(res)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("LS9 8AG (Leeds): ")
    assert (res / "ls9-8ag.html").exists() and json.loads((res / "ls9-8ag.json").read_text())[
        "council"]["code"] == LEEDS


# -- a site across a council boundary (bundled sample, offline) ----------------------------------------

@pytest.fixture(scope="module")
def tees():
    return hia_data(load())


def _mid_edge(a: shapely.Geometry, b: shapely.Geometry) -> shapely.Point:
    """Return the middle of the longest stretch of the boundary between two polygons."""
    edge = shapely.line_merge(shapely.intersection(a.boundary, b.boundary))
    longest = max(shapely.get_parts(edge), key=lambda g: g.length)
    return shapely.line_interpolate_point(longest, 0.5, normalized=True)


def _straddling(tees) -> shapely.Geometry:
    lads = tees.sample.lads
    return _mid_edge(lads.loc["E06000004"].geometry, lads.loc["E06000002"].geometry).buffer(150)


def test_straddling_site_names_both_councils_with_shares(tees, tmp_path):
    poly = _straddling(tees)
    sc = screen_site(Site("Across the boundary", poly, "test"), tees, generated="2025-11-01")
    lads = tees.sample.lads
    # area shares, computed directly from the council polygons
    area = {c: lads.loc[c].geometry.intersection(poly).area / poly.area for c in ("E06000004", "E06000002")}
    assert sum(area.values()) == pytest.approx(1, abs=1e-6) and min(area.values()) > 0.2
    assert sc.councils.loc[list(area), "site_share"].to_numpy() == pytest.approx(list(area.values()), abs=1e-6)
    # residents within 800 m: each LSOA's population times the share of its postcodes inside, by council
    pts = tees.points
    ring = poly.buffer(800, quad_segs=32)
    inside = pts[pts.within(ring)].groupby("lsoa_code").size()
    total = pts.groupby("lsoa_code").size().reindex(inside.index)
    pop = tees.sample.lsoas["pop_total"].reindex(inside.index) * inside / total
    by = pop.groupby(tees.sample.lsoas["lad_code"].reindex(inside.index)).sum()
    got = sc.councils["residents_share"]
    assert got[got > 0].sort_index().to_numpy() == pytest.approx((by / by.sum()).sort_index().to_numpy(), rel=1e-9)
    # named with whole percentages adding to 100, the larger share first, in every output
    text = council_text(sc)
    parts = re.findall(r"([A-Za-z -]+?) (\d+)%", text)
    names = {lads.loc[c, "lad_name"] for c in area}
    assert {n.strip(", ") for n, _ in parts} == names and sum(int(p) for _, p in parts) == 100
    big = max(area, key=area.get)
    assert text.startswith(lads.loc[big, "lad_name"]) and sc.council[0] == big
    assert residents_council_text(sc) is not None
    ev = evidence(sc)
    assert [c["code"] for c in ev["councils"]][:2] == sorted(area, key=area.get, reverse=True)
    assert sum(c["site_share"] for c in ev["councils"]) == pytest.approx(1, abs=1e-3)
    assert ev["councils_text"] == text
    md = to_markdown(report_blocks(sc))
    assert f"Councils (share of the site's area): {text}" in md
    assert any("straddles council boundaries" in n for n in sc.notes)


def test_cli_line_names_the_shares(tees, tmp_path, capsys):
    wkt = _straddling(tees).wkt
    assert main(["hia", "--site", wkt, "--name", "Across", "--no-map", "--out", str(tmp_path)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert re.match(r"Across \((Middlesbrough|Stockton-on-Tees) \d+%, (Middlesbrough|Stockton-on-Tees) \d+%; "
                    r"residents within 800 m: .+\): ", line), line
    nums = [int(n) for n in re.findall(r"(\d+)%", line.split(";")[0])]
    assert sum(nums) == 100


def test_site_councils_from_council_boundaries_or_from_lsoas_and_lookup(tees):
    """Both routes give the same councils for the straddling site and for a point deep inside one council."""
    by_lads = DataSource(source="files", lads=ROOT / "boundaries/tees_valley.gpkg", lads_layer="lad2025")
    by_lsoas = DataSource(source="files", boundaries=ROOT / "boundaries/tees_valley.gpkg", boundaries_layer="lsoa21",
                          lookup=ROOT / "data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv")
    across = Site("across", _straddling(tees), "test")
    hartlepool = Site("Hartlepool", shapely.Point(450500, 532500), "test")
    for src in (by_lads, by_lsoas):
        assert set(site_councils(across, source=src, buffers=(800,))) == {"E06000002", "E06000004"}
        assert site_councils(hartlepool, source=src, buffers=(800,)) == ("E06000001",)
    with pytest.raises(DataNotFoundError, match="needs council boundaries \\(lads\\) or LSOA boundaries and a lookup"):
        site_councils(hartlepool, source=DataSource(source="files"))


def test_percent_shares_add_to_100():
    for shares in ([0.5, 0.5], [0.333, 0.333, 0.334], [0.995, 0.005], [0.2] * 5, [0.1, 0.45, 0.45]):
        got = percent_shares(shares)
        assert sum(got) == 100 and all(abs(g - s * 100) < 1 for g, s in zip(got, shares, strict=True))


# -- outside England ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, name", [(CARDIFF, "Cardiff"), (EDINBURGH, "Edinburgh")])
def test_sites_outside_england_are_refused(tees, text, name):
    site = parse_site(text, name=name)
    with pytest.raises(AreaNotFoundError, match=rf"site '{name}' \(.*\) lies outside England: the Indices of "
                                                "Deprivation, and so HIA screening, cover England only"):
        require_in_england(site)
    with pytest.raises(AreaNotFoundError, match="lies outside England"):
        site_councils(site, lads=tees.sample.lads)
    with pytest.raises(AreaNotFoundError, match=rf"site '{name}' .* is outside the data's coverage.* It lies outside "
                                                "England"):
        screen_site(site, tees)


def test_postcode_outside_england_is_named():
    with pytest.raises(AreaNotFoundError, match="postcode CF10 1AA is not in .*: the CF postcode area is in Wales, "
                                                "outside England"):
        parse_site("CF10 1AA")


def test_latitude_longitude_named_is_accepted():
    s = parse_site("lat=54.5646, lon=-1.3127")
    assert s.kind == "point" and abs(s.geometry.x - 444_540) < 5 and abs(s.geometry.y - 519_036) < 5
    assert parse_site("lon -1.3127 lat 54.5646").geometry.equals(s.geometry)
    assert "converted to easting" in s.notes[0]
    assert require_in_england(s) is s


def test_zipped_shapefile_and_kml_sites(tmp_path):
    import zipfile

    g = gpd.GeoDataFrame({"name": ["Portrack"]}, geometry=[shapely.box(444400, 518800, 444700, 519100)], crs=BNG)
    g.to_file(tmp_path / "site.shp")
    with zipfile.ZipFile(tmp_path / "site.zip", "w") as z:
        for f in tmp_path.glob("site.*"):
            if f.suffix != ".zip":
                z.write(f, f.name)
    s = parse_site(str(tmp_path / "site.zip"))
    assert s.name == "Portrack" and s.area_ha == pytest.approx(9.0)
    g.to_crs(4326).to_file(tmp_path / "site.kml", driver="KML")
    k = parse_site(str(tmp_path / "site.kml"))
    assert k.area_ha == pytest.approx(9.0, rel=1e-3) and not shapely.has_z(k.geometry)
