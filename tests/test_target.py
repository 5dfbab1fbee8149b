"""Targeted action areas: hand-worked grids, constraints, ranking, stability, determinism, errors, outputs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from geotarget import AreaNotFoundError, SchemaError
from geotarget.analysis.contiguity import contiguity
from geotarget.analysis.target import (
    Rule,
    _exp_transform,
    alternatives,
    composite_score,
    target_areas,
)
from geotarget.cli.main import main
from geotarget.cli.options import flag_message
from geotarget.jobs.params import TargetParams
from geotarget.render.action_areas import write_action_areas

N = 33_755  # IoD2025


def grid(pattern: list[str], *, ranks: dict | None = None, pop: int = 1000, lad_split: int | None = None,
         wards: dict | None = None) -> gpd.GeoDataFrame:
    """Return a grid of 100 m cells from rows of text, top row first: '1' decile 1, '2' decile 2, '.' decile 10.

    Cell (x, y) is coded ``c{x}{y}`` (y = 0 at the bottom). Scores fall with rank; ranks can be
    given per cell. ``lad_split`` puts columns >= it in a second council.
    """
    rows = []
    ny = len(pattern)
    for r, line in enumerate(pattern):
        y = ny - 1 - r
        for x, ch in enumerate(line):
            code = f"c{x}{y}"
            decile = {"1": 1, "2": 2, ".": 10}[ch]
            rank = (ranks or {}).get(code, (decile - 1) * N // 10 + 1 + 10 * x + y)
            lad = ("E06000002", "Second") if lad_split is not None and x >= lad_split else ("E06000001", "First")
            rows.append({"lsoa_code": code, "imd_rank": rank, "imd_decile": decile, "imd_score": 100 - rank / 400,
                         "pop_total": pop, "lad_code": lad[0], "lad_name": lad[1],
                         "ward_name": (wards or {}).get(code, f"Ward {x}"), "geometry": box(x * 100, y * 100,
                                                                                              x * 100 + 100,
                                                                                              y * 100 + 100)})
    g = gpd.GeoDataFrame(rows, crs=27700).set_index("lsoa_code")
    return g


def members_of(res) -> dict[str, list[str]]:
    return {a: sorted(g["lsoa_code"]) for a, g in res.members.groupby("area_id")}


PATTERN = [
    "11...",
    "1..1.",
    "...1.",
    "..1..",
    "....1",
]


def test_queen_merges_diagonals_rook_does_not():
    g = grid(PATTERN)
    queen = target_areas(g, n=None, max_population=None, sensitivity=False, vintage=2025)
    # by hand: A = top-left L of 3; B = (3,3),(3,2) + diagonal (2,1); C = (4,0) alone (touches B's (2,1)? no)
    assert sorted(members_of(queen).values()) == [["c03", "c04", "c14"], ["c21", "c32", "c33"], ["c40"]]
    rook = target_areas(g, n=None, max_population=None, point_contacts=False, sensitivity=False, vintage=2025)
    assert sorted(members_of(rook).values()) == [["c03", "c04", "c14"], ["c21"], ["c32", "c33"], ["c40"]]


def test_ranking_by_deprived_population_then_score_and_n():
    # A and B both have 3 LSOAs (3,000 residents): the tie goes to the higher population-weighted score,
    # i.e. lower ranks. Give B the most deprived cells.
    g = grid(PATTERN, ranks={"c21": 1, "c32": 2, "c33": 3})
    res = target_areas(g, n=2, max_population=None, sensitivity=False, vintage=2025)
    assert list(res.areas.index) == ["E06000001-01", "E06000001-02"]
    assert members_of(res)["E06000001-01"] == ["c21", "c32", "c33"]
    assert members_of(res)["E06000001-02"] == ["c03", "c04", "c14"]
    assert res.areas["rank"].tolist() == [1, 2]
    assert res.areas["population"].tolist() == [3000, 3000]
    # the third candidate is set aside with a reason, not lost
    assert res.set_aside["lsoa_codes"].tolist() == ["c40"]
    assert "only the top 2" in res.set_aside["reason"].iloc[0]
    # by score: the lone (4,0) cell is not more deprived than B, which stays first
    by_score = target_areas(g, n=1, max_population=None, rank_by="score", sensitivity=False, vintage=2025)
    assert members_of(by_score)["E06000001-01"] == ["c21", "c32", "c33"]


def test_population_weighted_measures_by_hand():
    g = grid(PATTERN, ranks={"c21": 10, "c32": 20, "c33": 30})
    g.loc["c21", "pop_total"] = 2000
    res = target_areas(g, n=None, max_population=None, sensitivity=False, vintage=2025)
    b = res.areas.loc[res.members.set_index("lsoa_code").loc["c21", "area_id"]]
    assert b["population"] == 4000 and b["n_lsoas"] == 3
    assert b["imd_average_national_rank"] == pytest.approx((2000 * 10 + 1000 * 20 + 1000 * 30) / 4000)
    assert b["imd_average_score"] == pytest.approx(100 - 17.5 / 400)
    assert b["extent"] == pytest.approx(1.0)  # every member in the most deprived 10%


def test_bridging_joins_two_groups_through_one_lsoa():
    # c11 and c10 both touch both groups (queen); only one bridge is needed: the more deprived, c11
    g = grid(["1.1", "..."], ranks={"c11": 30_000, "c10": 31_000})
    assert len(target_areas(g, n=None, max_population=None, sensitivity=False, vintage=2025).areas) == 2
    res = target_areas(g, n=None, max_population=None, bridging=True, sensitivity=False, vintage=2025)
    assert len(res.areas) == 1
    m = res.members.set_index("lsoa_code")
    assert sorted(m.index) == ["c01", "c11", "c21"]
    assert m.loc["c11", "bridge"] and not m.loc["c11", "qualifying"]
    a = res.areas.iloc[0]
    assert a["population"] == 3000 and a["deprived_population"] == 2000


def test_bridge_needs_two_separate_groups():
    g = grid(["11.", "..."])  # the cell (2,1) touches one group only; (0,0),(1,0),(2,0) likewise
    res = target_areas(g, n=None, max_population=None, bridging=True, sensitivity=False, vintage=2025)
    assert sorted(res.members["lsoa_code"]) == ["c01", "c11"]


def test_oversize_group_is_split_into_even_contiguous_parts():
    # a strip of six qualifying cells of 1,000 residents; ceiling 2,500 -> k = ceil(6,000 / 2,500) = 3 parts
    ranks = {"c00": 3, "c10": 1, "c20": 2, "c30": 6, "c40": 5, "c50": 4}
    g = grid(["111111"], ranks=ranks)
    res = target_areas(g, n=None, max_population=2500, sensitivity=False, vintage=2025)
    # by hand: the only split of a strip into three contiguous parts of 2,000 each (no slivers)
    assert sorted(members_of(res).values()) == [["c00", "c10"], ["c20", "c30"], ["c40", "c50"]]
    assert (res.areas["population"] == 2000).all()
    assert (res.areas["group_population"] == 6000).all() and (res.areas["group_parts"] == 3).all()
    # a floor of 1,500 sets nothing aside: every part has 2,000
    floored = target_areas(g, n=None, min_population=1500, max_population=2500, sensitivity=False, vintage=2025)
    assert sorted(members_of(floored).values()) == sorted(members_of(res).values()) and floored.set_aside.empty
    # a ceiling of 3,500 -> two parts of three cells
    halves = target_areas(g, n=None, max_population=3500, sensitivity=False, vintage=2025)
    assert sorted(members_of(halves).values()) == [["c00", "c10", "c20"], ["c30", "c40", "c50"]]
    parts = members_of(halves).values()
    assert all(contiguity(g.loc[p], snap=0).components().nunique() == 1 for p in parts)
    assert sorted(sum(parts, [])) == sorted(ranks)  # nobody lost
    # each cell has a ward of its own, so the parts' names differ without a qualifier
    assert sorted(halves.areas["name"]) == ["Ward 0, Ward 1 and Ward 2", "Ward 3, Ward 4 and Ward 5"]


def test_areas_never_cross_council_boundaries_and_n_is_per_council():
    g = grid(["1111", "1..1"], lad_split=2)
    res = target_areas(g, n=1, max_population=None, sensitivity=False, vintage=2025)
    assert sorted(res.areas.index) == ["E06000001-01", "E06000002-01"]
    m = members_of(res)
    assert m["E06000001-01"] == ["c00", "c01", "c11"]
    assert m["E06000002-01"] == ["c21", "c30", "c31"]
    assert "cross a council boundary" in res.contiguity_note


def test_names_from_wards_by_population():
    wards = {"c03": "Newtown", "c04": "Newtown", "c14": "Stockton Town Centre"}
    g = grid(PATTERN, wards=wards)
    res = target_areas(g, n=None, max_population=None, sensitivity=False, vintage=2025)
    aid = res.members.set_index("lsoa_code").loc["c03", "area_id"]
    # "and" joins plain ward names ("&" would read as one ward called "Newtown & Stockton Town Centre")
    assert res.areas.loc[aid, "name"] == "Newtown and Stockton Town Centre"
    # a ward with its own "&" or "and": the names are separated by semicolons, so two wards read as two
    g2 = grid(PATTERN, wards={"c03": "Mandale & Victoria", "c04": "Mandale & Victoria", "c14": "Village"})
    res2 = target_areas(g2, n=None, max_population=None, sensitivity=False, vintage=2025)
    assert res2.areas.loc[aid, "name"] == "Mandale & Victoria; Village"
    g3 = grid(PATTERN, wards={"c03": "Ormesby and Normanby", "c04": "Ormesby and Normanby", "c14": "Eston"})
    res3 = target_areas(g3, n=None, max_population=None, sensitivity=False, vintage=2025)
    assert res3.areas.loc[aid, "name"] == "Ormesby and Normanby; Eston"


def test_duplicate_names_get_a_compass_suffix():
    g = grid(["1.1"], wards={"c00": "Park", "c10": "Park", "c20": "Park"})
    res = target_areas(g, n=None, max_population=None, sensitivity=False, vintage=2025)
    assert sorted(res.areas["name"]) == ["Park (east)", "Park (west)"]


def test_stability_by_hand():
    # G1: two decile-1 cells (2,000); G2: one decile-1 cell with three decile-2 neighbours (4,000 at decile 1-2)
    g = grid(["11.2", "...1", "...2", "..22"])
    res = target_areas(g, n=1, max_population=None, vintage=2025)
    assert members_of(res)["E06000001-01"] == ["c03", "c13"]
    s = res.sensitivity.set_index("alternative")["share_selected"]
    # decile 1-2: G2 grows to 5 cells and wins -> 0; floor 5,000: nothing qualifies -> 0; bridging: same -> 1
    assert s.to_dict() == {"decile 1-2": 0.0, "floor 5,000": 0.0, "with bridging": 1.0}
    assert res.areas["stability"].iloc[0] == pytest.approx(1 / 3)


def test_alternatives_listed_for_each_rule():
    from geotarget.analysis.target import Settings

    labels = [a[0] for a in alternatives(Rule(max_decile=2), Settings(min_population=1000))]
    assert labels == ["decile 1", "decile 1-3", "no population floor", "floor 2,000", "with bridging"]
    labels = [a[0] for a in alternatives(Rule("local-percentile", percentile=10), Settings())]
    assert labels[:3] == ["5% locally", "20% locally", "IMD decile 1-2"]


def test_deterministic_and_stable_under_row_order():
    g = grid(PATTERN, ranks={"c21": 1, "c32": 2, "c33": 3})
    a = target_areas(g, n=None, max_population=2000, vintage=2025)
    b = target_areas(g.sample(frac=1, random_state=7), n=None, max_population=2000, vintage=2025)
    pd.testing.assert_frame_equal(pd.DataFrame(a.areas.drop(columns="geometry")),
                                  pd.DataFrame(b.areas.drop(columns="geometry")))
    assert members_of(a) == members_of(b)
    pd.testing.assert_frame_equal(a.sensitivity, b.sensitivity)


def test_exponential_transform_matches_the_imd():
    x = _exp_transform(np.array([1, N]), N)
    assert x[0] == pytest.approx(100.0)
    assert x[1] == pytest.approx(-23 * np.log(1 - (1 / N) * (1 - np.exp(-100 / 23))))
    assert np.all(np.diff(_exp_transform(np.arange(1, 100), N)) < 0)


def test_composite_on_one_gap_orders_by_that_domain(sample25):
    lsoas = sample25.lsoas
    rule = Rule("composite", gaps={"health": ("health",)})
    score, _ = composite_score(lsoas, rule, N)
    assert score.rank(ascending=False).corr(lsoas["health_rank"].rank(), method="spearman") == pytest.approx(1.0)
    # the Fairer Stockton default uses the geographical-barriers sub-domain for access
    full, notes = composite_score(lsoas, Rule("composite"), N)
    assert not notes and full.between(0, 100).all()


def test_composite_falls_back_and_says_so(sample25):
    lsoas = sample25.lsoas.drop(columns=["geog_barriers_rank"])
    _, notes = composite_score(lsoas, Rule("composite"), N)
    assert notes == ["access: no Geographical Barriers Sub-domain in the data; used the Barriers to Housing and "
                     "Services domain"]


def test_local_percentile_counts(sample25):
    res = target_areas(sample25.lsoas, vintage=sample25.vintage, councils=["Stockton-on-Tees"],
                       rule=Rule("local-percentile", percentile=10), n=None, max_population=None, sensitivity=False)
    assert res.qualifying == 13  # ceil(10% of 124)
    q = res.members[res.members["qualifying"]]
    worst13 = sample25.lsoas[sample25.lsoas["lad_code"] == "E06000004"]["imd_rank"].nsmallest(13).index
    assert sorted(q["lsoa_code"]) == sorted(worst13)


def test_stockton_three_areas_from_the_sample(sample25, tmp_path):
    res = target_areas(sample25.lsoas, councils=["Stockton-on-Tees"], n=3, vintage=sample25.vintage)
    a = res.areas
    assert len(a) == 3 and a["rank"].tolist() == [1, 2, 3]
    assert (a["la_code"] == "E06000004").all()
    assert a["deprived_population"].is_monotonic_decreasing
    assert (a["population"] <= 15_000).all()
    assert a["name"].is_unique and a["name"].str.len().gt(0).all()
    lsoas = sample25.lsoas
    for aid, grp in res.members.groupby("area_id"):
        assert contiguity(lsoas.loc[grp["lsoa_code"]]).components().nunique() == 1, aid
        assert (lsoas.loc[grp["lsoa_code"], "imd_decile"] == 1).all()
        assert grp["lsoa_code"].is_unique
    assert not res.members["lsoa_code"].duplicated().any()  # no LSOA in two areas
    assert a["stability"].between(0, 1).all()
    assert set(res.profiles["index"]) == {"imd", "income", "employment", "education", "health", "crime",
                                          "barriers", "living_env"}
    # every decile-1 LSOA of Stockton is in an area or set aside: nothing lost
    d1 = set(lsoas.index[(lsoas["lad_code"] == "E06000004") & (lsoas["imd_decile"] == 1)])
    accounted = set(res.members["lsoa_code"]) | set(";".join(res.set_aside["lsoa_codes"]).split(";"))
    assert d1 == accounted

    out = write_action_areas(res, tmp_path)
    layers = dict(pyogrio.list_layers(out["gpkg"]))
    assert set(layers) >= {"areas", "members"}
    areas = gpd.read_file(out["gpkg"], layer="areas")
    assert {"area_id", "rank", "name", "la_code", "population", "n_lsoas", "imd_average_score",
            "stability"} <= set(areas.columns)
    assert areas.crs.to_epsg() == 27700
    members = gpd.read_file(out["gpkg"], layer="members")
    assert {"area_id", "lsoa_code"} <= set(members.columns) and len(members) == a["n_lsoas"].sum()
    md = out["md"].read_text()
    assert "| No. | Area | Council | Rank in council |" in md and "## Method" in md and "IoD2025" in md
    assert a["name"].iloc[0] in md
    assert "Contains OS data © Crown copyright" in md


def test_markdown_escapes_user_text(sample25, tmp_path):
    lsoas = sample25.lsoas.copy()
    lsoas["ward_name"] = "<script>alert(1)</script> | x"
    res = target_areas(lsoas, councils=["Hartlepool"], n=1, sensitivity=False, vintage=sample25.vintage)
    md = write_action_areas(res, tmp_path)["md"].read_text()
    assert "<script>" not in md and "\\<script\\>" in md and "\\| x" in md and "&lt;" not in md


def test_markdown_keeps_ampersands_in_ward_names(sample25, tmp_path):
    """Markdown escapes for Markdown: a ward called 'Park & Ride' stays 'Park & Ride', never '&amp;'."""
    lsoas = sample25.lsoas.copy()
    lsoas["ward_name"] = "Park & Ride_East"
    res = target_areas(lsoas, councils=["Hartlepool"], n=1, sensitivity=False, vintage=sample25.vintage)
    md = write_action_areas(res, tmp_path)["md"].read_text()
    assert "Park & Ride\\_East" in md and "&amp;" not in md


def test_iod2019_sample_works(sample19):
    res = target_areas(sample19.lsoas, councils=["Middlesbrough"], n=3, sensitivity=False, vintage=sample19.vintage)
    assert len(res.areas) == 3 and res.vintage.year == 2019


# --- bad input ------------------------------------------------------------------------------


def test_unknown_council_suggests_close_match(sample25):
    with pytest.raises(AreaNotFoundError, match=r"did you mean Stockton-on-Tees \(E06000004\)"):
        target_areas(sample25.lsoas, councils=["Stocton"], vintage=sample25.vintage)


@pytest.mark.parametrize("kwargs, message", [
    ({"rule": Rule(max_decile=0)}, "max decile was 0; expected a whole number from 1 to 10"),
    ({"rule": Rule(max_decile=11)}, "max decile was 11"),
    ({"rule": Rule("local-percentile", percentile=0)}, r"percentile was 0; expected a share in \(0, 100\]"),
    ({"rule": Rule("nearest")}, "rule 'nearest' is not known"),
    ({"rule": Rule(index="wealth")}, "index 'wealth' is not an IoD index"),
    ({"rule": Rule("composite", weights={"jobs": -1})}, "weight of 'jobs' was -1.0"),
    ({"rule": Rule("composite", weights={"money": 1})}, "weight given for 'money', which is not a gap"),
    ({"min_population": -5}, "minimum population was -5"),
    ({"min_population": 5000, "max_population": 1000}, "maximum population 1,000 is below the minimum 5,000"),
    ({"n": 0}, "n was 0; expected a whole number of areas >= 1"),
    ({"rank_by": "size"}, "rank by 'size' is not known"),
])
def test_bad_parameters(sample25, kwargs, message):
    with pytest.raises(SchemaError, match=message):
        target_areas(sample25.lsoas, vintage=sample25.vintage, **kwargs)


def test_no_qualifying_lsoas_names_the_nearest_threshold():
    g = grid(["..2", "..."])
    with pytest.raises(SchemaError, match=r"no LSOA in First qualifies.*setting `max_decile` to 2 would select "
                                          r"1 LSOA") as e:
        target_areas(g, vintage=2025)
    assert "setting --max-decile to 2 would select 1 LSOA" in flag_message(TargetParams, e.value)


def test_gaps_and_overlaps_are_reported_then_used():
    g = grid(["11"])
    g.loc["c10", "geometry"] = box(103, 0, 203, 100)  # a 3 m gap
    res = target_areas(g, n=None, max_population=None, sensitivity=False, vintage=2025)
    assert len(res.areas) == 1 and "gaps of up to 3.0 m" in res.contiguity_note
    assert any("Boundary faults: 1 gap bridged" in n for n in res.notes)
    g.loc["c10", "geometry"] = box(90, 0, 190, 100)  # overlapping by 10 m
    res = target_areas(g, n=None, max_population=None, sensitivity=False, vintage=2025)
    assert len(res.areas) == 1 and "1 overlapping pair " in res.contiguity_note


def test_missing_columns_and_population(sample25):
    with pytest.raises(SchemaError, match="no pop_total column"):
        target_areas(sample25.lsoas.drop(columns="pop_total"), vintage=sample25.vintage)
    bad = sample25.lsoas.copy()
    bad.loc[bad.index[0], "pop_total"] = np.nan
    with pytest.raises(SchemaError, match=f"1 LSOA\\(s\\) have no valid population, e.g. {bad.index[0]}"):
        target_areas(bad, vintage=2025)
    with pytest.raises(SchemaError, match="needs LSOA boundaries"):
        target_areas(pd.DataFrame(sample25.lsoas.drop(columns="geometry")), vintage=sample25.vintage)


# --- CLI ------------------------------------------------------------------------------------


def test_cli_target(tmp_path, capsys):
    assert main(["target", "--la", "Stockton-on-Tees", "--n", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "3 action areas from 24 qualifying LSOAs in 1 council" in out
    for f in ("action_areas.gpkg", "action_areas.csv", "action_areas.md"):
        assert (tmp_path / f).stat().st_size > 0
    table = pd.read_csv(tmp_path / "action_areas.csv")
    assert table["area_id"].tolist() == ["E06000004-01", "E06000004-02", "E06000004-03"]
    for no, name in enumerate(table["name"], start=1):  # the console lists the areas as the document does
        assert f"  {no}. {name} (Stockton-on-Tees, rank {no}): " in out


def test_cli_target_errors(tmp_path, capsys):
    assert main(["target", "--la", "Atlantis", "--out", str(tmp_path)]) == 2
    assert "council 'Atlantis' matches no council" in capsys.readouterr().err
    assert main(["target", "--max-decile", "12", "--out", str(tmp_path)]) == 2
    assert "--max-decile was 12 but is expected to be an integer from 1 to 10" in capsys.readouterr().err
    assert main(["target", "--rule", "composite", "--weights", "jobs:2", "--out", str(tmp_path)]) == 2
    assert "expected GAP=WEIGHT pairs" in capsys.readouterr().err
    assert main(["target", "--boundaries", "x.gpkg", "--out", str(tmp_path)]) == 2
    assert "go with an IoD file" in capsys.readouterr().err
    assert not (tmp_path / "action_areas.gpkg").exists()


def test_england_every_council(shared_data):
    from geotarget.data import load

    data = load(source="files", imd=shared_data / "imd/iod2025_lsoa21_england.csv.gz",
                              population=shared_data / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                              boundaries=shared_data / "boundaries/england_boundaries_generalised.gpkg",
                boundaries_layer="lsoa21", lookup=shared_data / "lookups/lsoa21_ward24_lad24_ew.csv.gz")
    lsoas = data.lsoas
    res = target_areas(lsoas, n=3, sensitivity=False, vintage=data.vintage)
    assert len(res.councils) == 296
    assert res.qualifying == int((lsoas["imd_decile"] == 1).sum())
    assert (res.areas.groupby("la_code").size() <= 3).all()
    assert (res.areas["population"] <= 15_000).all()
    # Every council with a decile-1 LSOA gets at least one area
    with_d1 = set(lsoas.loc[lsoas["imd_decile"] == 1, "lad_code"])
    assert set(res.areas["la_code"]) == with_d1


def test_study_file_target_section(tmp_path):
    from geotarget.study.pipeline import run_study
    from geotarget.study.schema import load_study

    study = tmp_path / "study.toml"
    study.write_text('[place]\ncouncils = ["Stockton-on-Tees"]\n\n[output]\nmap = false\n\n'
                     '[target]\nn = 2\nmax_population = 0\n')
    run_study(load_study(study), out=tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "action_areas.csv")
    direct = target_areas(__import__("geotarget").load(vintage=2025, councils=["Stockton-on-Tees"]).lsoas,
                          n=2, max_population=None, vintage=2025)
    assert table["area_id"].tolist() == list(direct.areas.index)
    assert table["population"].tolist() == direct.areas["population"].tolist()
    bad = tmp_path / "bad.toml"
    bad.write_text("[target]\nmax_decile = 11\n")
    from geotarget import GeotargetError

    with pytest.raises(GeotargetError, match=r"line 2.*max_decile"):
        load_study(bad)


def test_also_requires_hot_spots(sample25, tmp_path):
    from geotarget.analysis.hotspots import hotspots

    lsoas = sample25.lsoas
    hs = hotspots(lsoas[["geometry"]], lsoas["imd_score"].astype(float))
    hot = hs.table["category"] == "hot spot"
    res = target_areas(lsoas, councils=["Middlesbrough"], n=None, also=hot.rename("hot spot"), sensitivity=False,
                       vintage=sample25.vintage)
    q = res.members[res.members["qualifying"]]["lsoa_code"]
    expected = lsoas.index[(lsoas["lad_code"] == "E06000002") & (lsoas["imd_decile"] == 1) & hot.reindex(lsoas.index)]
    assert sorted(q) == sorted(expected) and len(expected) > 0
    assert main(["target", "--la", "Middlesbrough", "--hotspots", "--n", "9", "--out", str(tmp_path), "-q"]) == 0
    members = gpd.read_file(tmp_path / "action_areas.gpkg", layer="members")
    assert sorted(members["lsoa_code"]) == sorted(expected)
