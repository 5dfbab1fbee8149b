"""HIA screening: evidence values checked against independent computations from the bundled files."""

from __future__ import annotations

import html
import json
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geotarget import AreaNotFoundError, SchemaError, load
from geotarget.cli.main import main
from geotarget.core.errors import ParameterError
from geotarget.hia.report import evidence, report_blocks, run_hia, to_html, to_markdown, write_report
from geotarget.hia.screen import (
    ScreeningRules,
    compare_sites,
    hia_data,
    indicator_decile,
    local_deciles,
    parse_buffers,
    screen_site,
)
from geotarget.io.sites import Site, parse_site
from geotarget.render.text import md_cell, md_text

STOCKTON = "TS18 1AU"  # Stockton High Street, LSOA E01035199 (IMD and Health decile 1)
EAGLESCLIFFE = "441500,515000"  # LSOA E01012203 (IMD decile 10)
ROOT_DATA = "data"


@pytest.fixture(scope="module")
def data():
    return hia_data(load())


@pytest.fixture(scope="module")
def stockton(data):
    return screen_site(parse_site(STOCKTON), data, generated="2025-11-01")


@pytest.fixture(scope="module")
def eaglescliffe(data):
    return screen_site(parse_site(EAGLESCLIFFE, name="Eaglescliffe"), data, generated="2025-11-01")


@pytest.fixture(scope="module")
def raw():
    """Return the bundled files read directly, without geotarget."""
    imd = pd.read_csv(f"{ROOT_DATA}/imd/iod2025_lsoa21_tees_valley.csv").set_index("lsoa21cd")
    pop = pd.read_csv(f"{ROOT_DATA}/population/iod2025_population_denominators_lsoa21_tees_valley.csv")
    imd["pop"] = pop.set_index("lsoa21cd")["pop_total_mid2022"]
    pc = pd.read_csv(f"{ROOT_DATA}/postcodes/postcodes_tees_valley.csv.gz", dtype={"usertype": str})
    pc = pc[pc["usertype"] == "0"]
    pwc = pd.read_csv(f"{ROOT_DATA}/centroids/lsoa21_pwc_tees_valley.csv").set_index("lsoa21cd")
    ind = pd.read_csv(f"{ROOT_DATA}/hia/iod2025_indicators_lsoa21_tees_valley.csv").set_index("lsoa21cd")
    ref = pd.read_csv(f"{ROOT_DATA}/hia/england_reference.csv")
    ref = ref[ref["vintage"] == 2025].set_index(["measure", "statistic"])["value"]
    gp = gpd.read_file(f"{ROOT_DATA}/assets/assets_tees_valley.gpkg", layer="gp_practices").to_crs(27700)
    return {"imd": imd, "pc": pc, "pwc": pwc, "ind": ind, "ref": ref, "gp": gp}


def _apportioned(raw, x, y, d):
    """Residents within d metres of (x, y): each LSOA's population times its share of residential postcodes."""
    pc = raw["pc"]
    inside = np.hypot(pc["easting"] - x, pc["northing"] - y) <= d
    share = pc[inside].groupby("lsoa21cd").size() / pc.groupby("lsoa21cd").size()
    return raw["imd"]["pop"].reindex(share.index) * share.dropna()


# -- the two sites differ in the right ways ---------------------------------------------------------
def test_central_stockton_meets_the_health_inequalities_rule(stockton, raw):
    x, y = 444527.0, 518909.0
    assert stockton.severe
    w = _apportioned(raw, x, y, 800)
    w = w[w > 0]
    meets = raw["imd"].loc[w.index].query("imd_decile <= 2 or health_decile <= 2").index
    on_site = "E01035199"
    assert sorted(set(meets) | {on_site}) == stockton.rule_lsoas
    assert raw["imd"].loc[on_site, ["imd_decile", "health_decile"]].tolist() == [1, 1]
    codes = {f["code"] for f in stockton.flags}
    assert {"severe_health_inequalities", "high_crime", "employment_deprivation",
            "high_years_of_potential_life_lost", "high_acute_morbidity"} <= codes


def test_eaglescliffe_does_not(eaglescliffe, raw):
    assert not eaglescliffe.severe and eaglescliffe.rule_lsoas == [] and eaglescliffe.flags == []
    w = _apportioned(raw, 441500, 515000, 800)
    w = w[w > 0]
    assert raw["imd"].loc[w.index, ["imd_decile", "health_decile"]].min().min() >= 3


def test_apportioned_and_best_fit_residents_match_a_brute_force_count(stockton, eaglescliffe, raw):
    for sc, (x, y) in ((stockton, (444527.0, 518909.0)), (eaglescliffe, (441500.0, 515000.0))):
        for d in (800, 2000):
            w = _apportioned(raw, x, y, d)
            assert sc.profile.loc[f"{d}m", "residents"] == pytest.approx(w.sum(), abs=1e-6)
            pwc = raw["pwc"]
            fit = np.hypot(pwc["easting"] - x, pwc["northing"] - y) <= d
            assert sc.profile.loc[f"{d}m", "residents_best_fit"] == raw["imd"].loc[fit[fit].index, "pop"].sum()
    assert stockton.profile.loc["800m", "residents"] == pytest.approx(8063, abs=1)


def test_population_weighted_profiles_and_comparators(stockton, eaglescliffe, raw):
    imd = raw["imd"]
    w = _apportioned(raw, 444527.0, 518909.0, 800)
    avg = (imd.loc[w.index, "imd_score"] * w).sum() / w.sum()
    assert stockton.profile.loc["800m", "imd_average_score"] == pytest.approx(avg)
    d12 = w[imd.loc[w.index, "health_decile"] <= 2].sum() / w.sum() * 100
    assert stockton.profile.loc["800m", "health_pct_decile1_2"] == pytest.approx(d12)
    council = imd[imd["lad24nm"] == "Stockton-on-Tees"]
    c_avg = (council["imd_score"] * council["pop"]).sum() / council["pop"].sum()
    for sc in (stockton, eaglescliffe):
        assert sc.council == ("E06000004", "Stockton-on-Tees")
        assert sc.profile.loc["council", "imd_average_score"] == pytest.approx(c_avg)
        assert sc.profile.loc["england", "imd_average_score"] == raw["ref"][("imd_score", "pop_weighted_mean")]
    # the right direction: central Stockton far above the council and England, Eaglescliffe below both
    s, e = stockton.profile["imd_average_score"], eaglescliffe.profile["imd_average_score"]
    assert s["800m"] > 2 * s["council"] > s["england"] > e["800m"]
    assert stockton.profile.loc["site", "residents"] == imd.loc["E01035199", "pop"]


def test_deciles_within_the_council(stockton, raw):
    council = raw["imd"][raw["imd"]["lad24cd"] == "E06000004"].sort_values("imd_rank")
    pos = council.index.get_loc("E01035199") + 1
    assert stockton.lsoas.loc["E01035199", "imd_local_decile"] == math.ceil(10 * pos / len(council)) == 1
    h = council.sort_values("health_rank")
    for code in stockton.lsoas.index:
        assert stockton.lsoas.loc[code, "health_local_decile"] == math.ceil(10 * (h.index.get_loc(code) + 1) / 124)


def test_local_deciles_are_balanced_in_every_council(data):
    loc = local_deciles(data.sample.lsoas).join(data.sample.lsoas["lad_code"])
    for _, g in loc.groupby("lad_code"):
        counts = g["imd_local_decile"].value_counts()
        assert sorted(counts.index) == list(range(1, 11))
        assert counts.max() - counts.min() <= 1


def test_health_indicators_against_independent_weighting(stockton, raw):
    w = _apportioned(raw, 444527.0, 518909.0, 800)
    ind = raw["ind"]
    for key in ("years_of_potential_life_lost_indicator", "comparative_illness_and_disability_ratio_indicator",
                "acute_morbidity_indicator", "mental_health_indicator"):
        want = (ind.loc[w.index, key] * w).sum() / w.sum()
        row = stockton.indicators.loc[key]
        assert row["800m"] == pytest.approx(want)
        assert row["england"] == raw["ref"][(key, "pop_weighted_mean")]
        cuts = [raw["ref"][(key, f"p{q}")] for q in range(10, 100, 10)]
        assert want > cuts[-1] and row["england_decile_800m"] == 1  # worse than England's 90th percentile LSOA


def test_indicator_deciles_from_percentiles():
    cuts = list(range(10, 100, 10))
    assert indicator_decile([5, 10, 10.5, 90, 95], cuts, higher_is_worse=True).tolist() == [10, 9, 9, 1, 1]
    assert indicator_decile([5, 95], cuts, higher_is_worse=False).tolist() == [1, 10]
    assert indicator_decile([np.nan], cuts, higher_is_worse=True).tolist() == [0]


def test_nearest_gp_by_brute_force_and_by_the_access_module(stockton, eaglescliffe, raw, data):
    from geotarget.analysis.access import access_table

    gp = raw["gp"]
    gp = gp[gp["status_code"] == "A"] if "status_code" in gp else gp
    for sc, (x, y) in ((stockton, (444527.0, 518909.0)), (eaglescliffe, (441500.0, 515000.0))):
        d = np.hypot(gp.geometry.x - x, gp.geometry.y - y)
        assert sc.access.loc["gp", "nearest_m"] == round(d.min())
        assert sc.access.loc["gp", "nearest_name"] == gp["name"].iloc[int(np.argmin(d))]
        origin = gpd.GeoDataFrame(geometry=[shapely.Point(x, y)], crs=27700)
        acc = access_table(origin, data.targets, categories=["gp", "pharmacy", "library"]).iloc[0]
        for c in ("gp", "pharmacy", "library"):
            assert sc.access.loc[c, "nearest_m"] == round(acc[f"dist_{c}_m"])
            for r in (400, 800, 1600):
                assert sc.access.loc[c, f"n_{r}m"] == acc[f"n_{c}_{r}m"]
    assert stockton.access.loc["gp", "band"].startswith("400–800 m")
    assert eaglescliffe.access.loc["gp", "band"].startswith("800–1,600 m")


def test_missing_categories_are_said_not_blank(stockton):
    assert not stockton.access.loc["park", "available"] and not stockton.access.loc["school", "available"]
    open_space = next(t for t in stockton.topics if t["key"] == "open_space")
    assert any("no park or green space layer" in g for g in open_space["data_gaps"])
    md = to_markdown(report_blocks(stockton))
    assert "No park or green space layer in the Tees Valley data" in md


def test_access_flag_in_a_deprived_area_with_green_space_data():
    # Trafford has OS Open Greenspace: a decile-1 LSOA (Partington) whose nearest GP is over 800 m away
    t = hia_data(load(place="trafford"))
    site = Site("Partington", shapely.Point(371055.4, 390944.1), "test")
    sc = screen_site(site, t)
    gp = t.targets[t.targets["category"] == "gp"]
    nearest = shapely.distance(site.geometry, gp.geometry.to_numpy()).min()
    assert nearest > 800 and sc.severe
    flag = next(f for f in sc.flags if f["code"] == "no_gp_within_800m")
    assert f"nearest {round(nearest):,} m" in flag["text"] and "IMD decile 1" in flag["text"]
    assert sc.access.loc["park", "available"] and sc.access.loc["park", "nearest_m"] <= 800
    assert not any(f["code"] == "no_park_within_800m" for f in sc.flags)
    # the lead's example flag, planted by a walking threshold below the nearest green space
    sc = screen_site(site, t, rules=ScreeningRules(walk_m=sc.access.loc["park", "nearest_m"] - 1))
    assert any(f["code"].startswith("no_park_within") and "No park or green space" in f["text"] for f in sc.flags)


def test_flag_scope_is_configurable(data):
    yarm = parse_site("441900,512900", name="Yarm")
    wide = screen_site(yarm, data)
    narrow = screen_site(yarm, data, rules=ScreeningRules(flag_scope="site"))
    assert wide.rule_lsoas and not wide.lsoas.loc[wide.rule_lsoas, "on_site"].any()
    assert narrow.rule_lsoas == [] and not narrow.severe
    strict = screen_site(parse_site(STOCKTON), data, rules=ScreeningRules(flag_indices=("imd",), flag_max_decile=1))
    assert "E01035198" not in strict.rule_lsoas  # IMD decile 4, Health decile 2: only the default rule takes it


def test_rules_and_buffers_are_validated():
    with pytest.raises(SchemaError, match="flag_max_decile was 11"):
        ScreeningRules(flag_max_decile=11)
    with pytest.raises(SchemaError, match="unknown: \\['wealth'\\]"):
        ScreeningRules(flag_indices=("wealth",))
    with pytest.raises(SchemaError, match="flag_scope was 'ward'"):
        ScreeningRules(flag_scope="ward")
    assert parse_buffers("2000,800,800") == (800.0, 2000.0)
    with pytest.raises(ParameterError, match=r"^buffers was '800,ten' but is expected to be distances in metres, "
                                             r"e\.g\. \(800, 2000\); 'ten' is not a number"):
        parse_buffers("800,ten")
    with pytest.raises(ParameterError, match="^buffers was '0' but is expected to be distances in metres more than 0"):
        parse_buffers("0")
    with pytest.raises(ParameterError, match="^buffers was '' but is expected to be distances in metres"):
        parse_buffers("")


def test_outside_coverage_names_the_covered_area(data):
    with pytest.raises(AreaNotFoundError, match="outside the data's coverage: the bundled Tees Valley sample covers "
                                                "Hartlepool, Middlesbrough, Redcar and Cleveland, Stockton-on-Tees"):
        screen_site(parse_site("300000,300000"), data)
    with pytest.raises(AreaNotFoundError, match="set `place` to 'trafford'"):
        screen_site(parse_site("M32 0TH"), data)
    with pytest.raises(AreaNotFoundError, match="Easting and northing look swapped: try 444600,518900"):
        screen_site(parse_site("518900,444600"), data)


def test_site_across_the_coast_is_noted(data):
    # a polygon half in the North Sea off Redcar
    poly = shapely.box(461000, 525000, 462000, 526500)
    sc = screen_site(Site("Coast", poly, "test"), data)
    assert any("lies outside Tees Valley" in n for n in sc.notes)
    assert any("of the 2,000 m buffer lies outside Tees Valley" in n for n in sc.notes)


def test_2019_vintage_uses_its_own_indicators(data):
    old = hia_data(load(vintage=2019))
    sc = screen_site(parse_site(STOCKTON), old)
    assert sc.vintage.year == 2019 and sc.severe and sc.cni is None
    assert "mood_and_anxiety_disorders_indicator" in sc.indicators.index
    assert all(c.startswith("E01") and c <= "E01033768" for c in sc.lsoas.index)
    assert any("not shown with IoD2019" in n for n in sc.notes)


# -- outputs -------------------------------------------------------------------------------------
def test_json_evidence_contract(stockton):
    ev = json.loads(json.dumps(evidence(stockton)))
    assert ev["site_name"] == "TS18 1AU" and ev["buffers"] == [800.0, 2000.0]
    first = ev["lsoas"][0]
    assert {"code", "decile", "population"} <= set(first)
    assert first["code"] == "E01035199" and first["decile"] == 1 and first["population"] == 1238
    assert [f["code"] for f in ev["flags"]] == [f["code"] for f in stockton.flags]
    assert len(ev["topics"]) == 11 and all({"topic", "evidence", "prompts"} <= set(t) for t in ev["topics"])
    assert ev["topics"][0]["topic"] == "Housing design and affordability"
    assert all(t["relevance"] == "" and t["likely_impact"] == "" and t["mitigation"] == "" for t in ev["topics"])
    assert ev["severe_health_inequalities"] is True


def test_topics_carry_evidence_values(stockton):
    crime = next(t for t in stockton.topics if t["key"] == "crime")
    share = stockton.lsoas.pipe(lambda L: L.loc[L["crime_decile"] <= 2, "pop_800m"].sum() / L["pop_800m"].sum())
    assert any(f"{share:.0%} of residents there in deciles 1–2" in e for e in crime["evidence"])
    assert "high_crime" in crime["flags"]
    health = next(t for t in stockton.topics if t["key"] == "access_health")
    assert any(e.startswith("GP practice: nearest 443 m") for e in health["evidence"])


def test_reports_escape_html_in_site_names(tmp_path, data):
    name = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    sc = screen_site(parse_site(STOCKTON, name=name), data, generated="2025-11-01")
    paths = write_report(sc, tmp_path, slug="evil")
    page = paths["html"].read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x" in page
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))
    assert "<script>alert" not in inner and "<img src=x" not in inner  # the map escapes its own text
    md = paths["md"].read_text(encoding="utf-8")
    # Markdown escapes Markdown's way (a backslash), not HTML's: no raw tag, no HTML entity
    assert not re.search(r"(?<!\\)<", md) and "&lt;" not in md and "&amp;" not in md
    assert '\\<script\\>alert("x")\\</script\\> & \\<img src=x onerror=alert(1)\\>' in md
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["site_name"] == name  # data, unescaped


def test_html_is_self_contained_except_tiles(tmp_path, stockton):
    page = write_report(stockton, tmp_path)["html"].read_text(encoding="utf-8")
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))
    for doc in (page, inner):
        assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=[\"']?https?:", doc)
        assert not re.search(r"<link[^>]*href=[\"']?https?:", doc)
        assert "@import" not in doc
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in inner
    assert "E01035199" in inner and "Health decile" in inner  # LSOA deciles on the map


def test_markdown_and_html_carry_the_same_content(stockton):
    blocks = report_blocks(stockton)
    md, page = to_markdown(blocks), to_html(blocks, title="t", map_html=None)
    texts = [b[1] for b in blocks if b[0] in ("h1", "h2", "h3", "p")]
    texts += [x for b in blocks if b[0] == "ul" for x in b[1]]
    texts += [str(c) for b in blocks if b[0] == "table" for row in b[2] for c in row]
    texts += [e for b in blocks if b[0] == "matrix" for t in b[1] for e in t["evidence"] + t["prompts"]]
    for t in texts:
        assert md_cell(t) in md or md_text(t) in md, t
        assert re.sub(r"\\(.)", r"\1", md_cell(t)) == str(t).replace("\n", " "), t  # reads as written
        assert html.escape(str(t), quote=True) in page, t
    for title in ("Housing design and affordability", "Climate change", "Access to healthy food"):
        assert title in md and title in page


# -- batch and command line ------------------------------------------------------------------------
def test_batch_ranks_sites_by_the_stated_rule(tmp_path):
    sites = tmp_path / "allocations.csv"
    pd.DataFrame({"name": ["Eaglescliffe", "Stockton High Street", "Middlesbrough centre", "Yarm", "Leeds",
                           "Typo"],
                  "location": [EAGLESCLIFFE, STOCKTON, "449500,520000", "441900,512900", "430000,433000",
                               "TS99 9ZZ"]}).to_csv(sites, index=False)
    res = run_hia(sites=str(sites), out=tmp_path / "out", generated="2025-11-01", with_map=False)
    comp = pd.read_csv(tmp_path / "out" / "sites_comparison.csv")
    assert len(comp) + len(res.rejects) == 6 and res.rejects["row"].tolist() == [6, 7]
    # the rule, checked independently: severe first, then residents meeting the rule, then health score
    key = sorted(comp.itertuples(), key=lambda r: (not r.severe_health_inequalities, -r.residents_800m_meeting_rule,
                                                   -r.health_average_score_800m, r.site_name.lower()))
    assert [r.site_name for r in key] == comp["site_name"].tolist()
    assert comp["rank"].tolist() == [1, 2, 3, 4]
    assert comp.loc[comp["site_name"] == "Eaglescliffe", "rank"].item() == 4
    by = {sc.site.name: sc for sc in res.screenings}
    for name, sc in by.items():
        row = comp[comp["site_name"] == name].iloc[0]
        L = sc.lsoas
        assert row["residents_800m_meeting_rule"] == round(L.loc[L["meets_rule"], "pop_800m"].sum())
        assert (tmp_path / "out" / row["report"]).exists()
    rejected = pd.read_csv(tmp_path / "out" / "sites_rejected.csv")
    assert rejected["name"].tolist() == ["Leeds", "Typo"]
    assert "outside the data's coverage" in rejected["detail"].iloc[0]
    assert "ranked by health-equity concern" in (tmp_path / "out" / "sites_comparison.md").read_text()


def test_compare_sites_breaks_ties_by_name(stockton):
    t = compare_sites([stockton, stockton])
    assert t["rank"].tolist() == [1, 2]


def test_outputs_never_overwrite_inputs(tmp_path):
    p = tmp_path / "sites_comparison.csv"
    pd.DataFrame({"name": ["A"], "location": [STOCKTON]}).to_csv(p, index=False)
    with pytest.raises(ParameterError, match="^out was .* but an output there would overwrite the input file"):
        run_hia(sites=str(p), out=tmp_path, with_map=False)
    assert pd.read_csv(p)["name"].tolist() == ["A"]


def test_cli_hia(tmp_path, capsys):
    assert main(["hia", "--site", EAGLESCLIFFE, "--name", "Eaglescliffe", "--buffer", "800,1500", "--no-map",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Eaglescliffe (Stockton-on-Tees): does not meet" in out
    ev = json.loads((tmp_path / "eaglescliffe.json").read_text())
    assert ev["buffers"] == [800.0, 1500.0] and (tmp_path / "eaglescliffe.html").exists()
    assert main(["hia", "--site", "54.5646,-1.3127", "--out", str(tmp_path)]) == 2
    assert "looks like latitude/longitude" in capsys.readouterr().err
    assert main(["hia", "--site", "TS99 9ZZ", "--out", str(tmp_path)]) == 2
    assert "TS99 9ZZ is not in the postcodes bundled" in capsys.readouterr().err


def test_polygon_site_distances_from_its_edge(data):
    gp = data.targets[data.targets["category"] == "gp"].iloc[0]
    x, y = gp.geometry.x, gp.geometry.y
    site = parse_site(f"POLYGON (({x - 50} {y - 50}, {x + 250} {y - 50}, {x + 250} {y + 250}, {x - 50} {y + 250}, "
                      f"{x - 50} {y - 50}))", name="Around a GP")
    sc = screen_site(site, data)
    assert sc.access.loc["gp", "nearest_m"] == 0 and sc.access.loc["gp", "band"].startswith("within 400 m")
    ph = data.targets[data.targets["category"] == "pharmacy"]
    nearest = shapely.distance(site.geometry, ph.geometry.to_numpy()).min()
    assert sc.access.loc["pharmacy", "nearest_m"] == round(nearest)
    assert sc.lsoas["on_site"].sum() >= 1 and sc.profile.loc["site", "residents"] == \
        sc.lsoas.loc[sc.lsoas["on_site"], "pop_total"].sum()


def test_user_assets_fill_a_missing_category(tmp_path):
    from geotarget.io.assets import read_assets

    p = tmp_path / "schools.csv"
    pd.DataFrame({"name": ["Near School", "Far School"], "type": ["Primary School", "Secondary school"],
                  "easting": [444527 + 300, 444527 + 3000], "northing": [518909 + 400, 518909]}).to_csv(p, index=False)
    extra = read_assets(p, category_column="type")
    d = hia_data(load(), assets=extra, assets_source=str(p))
    sc = screen_site(parse_site(STOCKTON), d)
    assert sc.access.loc["school", "available"] and sc.access.loc["school", "nearest_m"] == 500  # 300-400-500
    assert sc.access.loc["school", "nearest_name"] == "Near School" and sc.access.loc["school", "n_1600m"] == 1
    assert "schools.csv (school)" in sc.parameters["assets"]


def test_england_reference_against_the_raw_england_files(shared_data):
    ind = pd.read_csv(shared_data / "imd" / "iod2025_lsoa21_indicators_england.csv.gz")
    pop = pd.read_csv(shared_data / "population" / "ons_sape_mid2022_lsoa21_total_england.csv.gz")
    m = ind.merge(pop, on="lsoa21cd")
    ref = pd.read_csv("data/hia/england_reference.csv").set_index(["vintage", "measure", "statistic"])["value"]
    key = "years_of_potential_life_lost_indicator"
    want = np.average(m[key], weights=m["pop_total_mid2022"])
    assert ref[(2025, key, "pop_weighted_mean")] == pytest.approx(want, abs=1e-6)
    assert ref[(2025, key, "p90")] == pytest.approx(np.percentile(ind[key], 90), abs=1e-6)
    # the published CNI figure: 1,262 'left behind' LSOAs of 33,755 (shared data PROVENANCE)
    assert ref[(2025, "left_behind_area", "count")] == 1262 and ref[(2025, "cni_rank", "count")] == 33755
    # every national IMD decile holds a tenth of LSOAs, so population shares are close to 10%
    shares = [ref[(2025, "imd_decile", f"pop_share_decile_{d}")] for d in range(1, 11)]
    assert sum(shares) == pytest.approx(1.0) and all(0.08 < s < 0.12 for s in shares)


def test_bundled_indicator_extract_matches_the_england_file(shared_data):
    ind = pd.read_csv(shared_data / "imd" / "iod2025_lsoa21_indicators_england.csv.gz").set_index("lsoa21cd")
    tees = pd.read_csv("data/hia/iod2025_indicators_lsoa21_tees_valley.csv").set_index("lsoa21cd")
    assert len(tees) == 425
    pd.testing.assert_frame_equal(tees, ind.loc[tees.index, tees.columns])


def test_repaired_polygon_is_reported_in_the_summary(tmp_path, data):
    bow = "POLYGON ((444400 518800, 444700 519100, 444700 518800, 444400 519100, 444400 518800))"
    sc = screen_site(parse_site(bow, name="Bow"), data)
    summary = next(b for b in report_blocks(sc) if b[0] == "ul")[1]
    assert any(x.startswith("Input note: WKT: the polygon was invalid (Self-intersection") for x in summary)
    assert evidence(sc)["site"]["notes"][0].startswith("WKT: the polygon was invalid")
