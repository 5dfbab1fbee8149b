"""Methods to MHCLG's definitions: employment denominators, scale, groupings of districts, method notes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotarget import SchemaError, add_population, read_imd, read_population
from geotarget.analysis.aggregate import METHOD_NOTE, OFFICIAL, aggregate, columns
from geotarget.cli.main import main
from geotarget.io.groups import read_groups
from geotarget.io.imd import WORKING_AGE, add_working_age, working_age_from_ages

N = 33_755
FIXTURES = Path(__file__).parent / "fixtures"


def _frame(rows, cols):
    return pd.DataFrame(rows, columns=["lsoa_code", *cols]).set_index("lsoa_code")


# ----------------------------------------------------------------------------- working-age denominators

def test_working_age_from_five_year_bands_counts_the_straddling_bands_in_proportion(tmp_path):
    path = tmp_path / "ts007a.csv"
    path.write_text("lsoa21cd,usual_residents_total,age_0_14,age_15_19,age_20_64,age_65_69,age_70_84,age_85_plus\n"
                    "E01000001,1000,100,50,700,100,40,10\n", encoding="utf-8")
    pop = read_population(path, vintage=2025)
    assert pop.loc["E01000001", "pop_total"] == 1000
    # 18-66: ages 18, 19 of 15-19 (2/5), all of 20-64, ages 65, 66 of 65-69 (2/5)
    assert pop.loc["E01000001", "pop_working_age"] == pytest.approx(0.4 * 50 + 700 + 0.4 * 100)
    how = pop.attrs["denominators"]["pop_working_age"]
    assert "18-66" in how and "15-19, 65-69" in how and "approximation" in how


def test_working_age_from_single_years_is_exact_for_2025_and_halves_60_64_for_2019():
    ages = pd.DataFrame({f"pop_age_{a}": [a + 1] for a in range(90)} | {"pop_age_90plus": [5]}, index=["x"])
    got25, how25 = working_age_from_ages(ages, 2025)
    assert got25["x"] == sum(a + 1 for a in range(18, 67)) and "straddle" not in how25
    got19, _ = working_age_from_ages(ages, 2019)
    assert got19["x"] == sum(a + 1 for a in range(18, 60)) + 0.5 * sum(a + 1 for a in range(60, 65))
    assert set(WORKING_AGE) == {2019, 2025}


def test_official_working_age_column_is_kept_not_derived(sample25):
    pop = read_population("data/population/iod2025_population_denominators_lsoa21_tees_valley.csv", vintage=2025)
    assert pop.attrs["denominators"]["pop_working_age"] == "working-age population as given in the file"
    assert (pop["pop_working_age"] == sample25.lsoas["pop_working_age"].reindex(pop.index)).all()


def test_without_working_age_employment_warns_in_the_result_and_leaves_scale_empty():
    df = _frame([("E01000001", "A", 1000, 1, 1.0, 1, 0.5), ("E01000002", "A", 1000, 2, 1.0, 30000, 0.1)],
                ["lad_code", "pop_total", "imd_rank", "imd_score", "employment_rank", "employment_score"])
    r = aggregate(df, vintage=2025, to="lad")
    assert r.attrs["denominators"]["employment"] == "total population"
    assert r.attrs["warnings"] and "TOTAL population" in r.attrs["warnings"][0]
    assert r["employment_denominator"].str.contains("NOT working-age").all()
    assert r["employment_scale"].isna().all()
    assert r.loc["A", "employment_average_score"] == pytest.approx(0.3)  # weighted by totals, as warned
    wa = aggregate(df.assign(pop_working_age=[600, 200]), vintage=2025, to="lad")
    assert wa.attrs["warnings"] == [] and "employment_denominator" not in wa.columns
    assert wa.attrs["denominators"] == {"imd": "total population", "employment": "working-age population"}


def test_partial_working_age_is_refused():
    df = _frame([("E01000001", "A", 1000, 1, 600.0), ("E01000002", "A", 1000, 2, np.nan)],
                ["lad_code", "pop_total", "imd_rank", "pop_working_age"])
    with pytest.raises(SchemaError, match="1 LSOAs have no working-age population .* every LSOA or for none"):
        aggregate(df, vintage=2025, to="lad")


def _england25(shared, *, working_age: bool):
    imd = add_population(read_imd(shared / "imd/iod2025_lsoa21_england.csv.gz")[0],
                         read_population(shared / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz"))
    if working_age:
        imd = add_working_age(imd, read_population(shared / "population/census2021_ts007a_age5_lsoa21_england.csv.gz",
                                                   vintage=2025))
    return imd


def test_employment_district_ranks_against_published_file10(shared_data):
    """IoD2025 employment measures of all 296 districts against File 10, with and without working-age weights.

    The official 18-66 denominators exist in shared data for Tees Valley only (matched exactly below
    and by test_aggregate); England-wide they are derived from Census 2021 five-year bands, as each
    LSOA's 18-66 share of its mid-2022 total. Measured: rank of average score exact for 159 of 296
    districts (44 with total population), every one within 8 places (14); rank of average rank exact
    for 138 (36), within 11 (21); average score exact to 3 dp for 213 (83).
    """
    pub = pd.read_csv(FIXTURES / "file10_employment_2025.csv").set_index("lad_code")
    assert len(pub) == 296 and sorted(pub["rank_average_rank"]) == list(range(1, 297))
    got = {}
    for wa in (False, True):
        r = aggregate(_england25(shared_data, working_age=wa), vintage=2025, to="lad").loc[pub.index]
        got[wa] = {
            "rank_score_exact": int((r["employment_rank_average_score"] == pub["rank_average_score"]).sum()),
            "rank_rank_exact": int((r["employment_rank_average_rank"] == pub["rank_average_rank"]).sum()),
            "max_rank_score_diff": int((r["employment_rank_average_score"] - pub["rank_average_score"]).abs().max()),
            "max_rank_rank_diff": int((r["employment_rank_average_rank"] - pub["rank_average_rank"]).abs().max()),
            "score_exact": int(np.isclose(r["employment_average_score"].round(3), pub["average_score"]).sum()),
        }
        assert r.attrs["denominators"]["employment"] == ("working-age population" if wa else "total population")
    # total population: most ranks wrong (the silent error of issue 17)
    assert got[False] == {"rank_score_exact": 44, "rank_rank_exact": 36, "max_rank_score_diff": 14,
                          "max_rank_rank_diff": 21, "score_exact": 83}
    # working age derived from Census 2021 bands: far closer
    assert got[True] == {"rank_score_exact": 159, "rank_rank_exact": 138, "max_rank_score_diff": 8,
                         "max_rank_rank_diff": 11, "score_exact": 213}


def test_working_age_share_applied_to_the_data_totals():
    lsoas = _frame([("E01000001", 1100), ("E01000002", 500)], ["pop_total"])
    ages = _frame([("E01000001", 1000, 600.0), ("E01000002", 400, 100.0)], ["pop_total", "pop_working_age"])
    ages.attrs = {"source": "ages.csv", "denominators": {"pop_working_age": "18-66 from bands"}}
    got = add_working_age(lsoas, ages)
    assert got["pop_working_age"].tolist() == pytest.approx([1100 * 0.6, 500 * 0.25])
    assert "share" in got.attrs["denominators"]["pop_working_age"]
    assert add_working_age(lsoas, ages, as_share=False)["pop_working_age"].tolist() == [600.0, 100.0]
    with pytest.raises(SchemaError, match="ages.csv: no population for 1 LSOAs"):
        add_working_age(_frame([("E01000003", 5)], ["pop_total"]), ages)


def test_tees_official_working_age_reproduces_published_employment_ranks_in_england(shared_data, sample25):
    """England with the official 18-66 figures for the five Tees districts: their File 10 ranks come out exactly."""
    imd = _england25(shared_data, working_age=True)
    official = read_population(shared_data / "population/iod2025_population_denominators_lsoa21_tees_valley.csv",
                               vintage=2025)
    imd.loc[official.index, "pop_working_age"] = official["pop_working_age"].astype(float)
    imd.loc[official.index, "pop_total"] = official["pop_total"]
    r = aggregate(imd, vintage=2025, to="lad")
    pub = pd.read_csv(FIXTURES / "file10_employment_2025.csv").set_index("lad_code").loc[list(sample25.councils)]
    assert np.allclose(r.loc[pub.index, "employment_average_score"].round(3), pub["average_score"])
    assert np.allclose(r.loc[pub.index, "employment_average_rank"].round(2), pub["average_rank"])


# ----------------------------------------------------------------------------- scale

def test_scale_is_people_deprived_ranked_largest_first():
    df = _frame([("E01000001", "A", 1000, 600, 1, 0.5, 1, 0.2, 1),
                 ("E01000002", "B", 3000, 2000, 2, 0.2, 2, 0.1, 2)],
                ["lad_code", "pop_total", "pop_working_age", "imd_rank", "income_score", "income_rank",
                 "employment_score", "employment_rank"])
    r = aggregate(df, vintage=2025, to="lad")
    assert r.loc["A", "income_scale"] == pytest.approx(500) and r.loc["B", "income_scale"] == pytest.approx(600)
    assert r.loc["A", "employment_scale"] == pytest.approx(120) and r.loc["B", "employment_scale"] == pytest.approx(200)
    assert (r.loc["B", "income_rank_scale"], r.loc["A", "income_rank_scale"]) == (1, 2)
    assert columns("income")[-2:] == ["income_scale", "income_rank_scale"]
    assert "scale" not in "".join(columns("health"))


def test_tees_scale_matches_file8_numerators(sample25, shared_data):
    """Independent check: income/employment scale ~ the sum of the File 8 numerators (counts of people)."""
    r = aggregate(sample25.lsoas, vintage=2025, to="lad")
    ind = pd.read_csv(shared_data / "imd/iod2025_lsoa21_indicators_england.csv.gz", index_col="lsoa21cd",
                      usecols=["lsoa21cd", "income_domain_numerator", "employment_domain_numerator"])
    ind = ind.reindex(sample25.lsoas.index)
    for domain, denominator in (("income", "pop_total"), ("employment", "pop_working_age")):
        num = ind[f"{domain}_domain_numerator"]
        complete = num.notna().groupby(sample25.lsoas["lad_code"]).all()
        counts = num.groupby(sample25.lsoas["lad_code"]).sum()
        # rates are published to 3 dp and File 8 numerators rounded to a multiple of 5: per LSOA at most
        # 0.0005 x denominator + 2.5 people apart
        slack = (0.0005 * sample25.lsoas[denominator] + 2.5).groupby(sample25.lsoas["lad_code"]).sum()
        assert (num.dropna() % 5 == 0).all()
        for lad in complete[complete].index:
            assert abs(r.loc[lad, f"{domain}_scale"] - counts[lad]) <= slack[lad], (domain, lad)
        assert complete.any()


# ----------------------------------------------------------------------------- groupings

HAND = _frame([
    ("E01000001", "L1", 1000, 100, 1, 60.0),
    ("E01000002", "L1", 3000, 5000, 2, 40.0),
    ("E01000003", "L2", 1000, 20000, 6, 15.0),
    ("E01000004", "L3", 1500, 30000, 9, 5.0),
], ["lad_code", "pop_total", "imd_rank", "imd_decile", "imd_score"])


def _groups(rows, key="lad_code"):
    g = pd.DataFrame(rows, columns=[key, "group_code", "group_name"]).set_index(key)
    g.attrs = {"source": "groups.csv"}
    return g


def test_grouping_measures_come_from_its_lsoas_not_its_districts():
    g = _groups([("L1", "E47000001", "North"), ("L2", "E47000001", "North"), ("L3", "E47000002", "South")])
    r = aggregate(HAND, vintage=2025, to="cauth", groups=g)
    north = r.loc["E47000001"]
    assert (north.area_name, north.n_lsoas, north.population, north.n_lads) == ("North", 3, 5000, 2)
    assert north.imd_average_score == pytest.approx((1000 * 60 + 3000 * 40 + 1000 * 15) / 5000)
    # local concentration: 10% of 5,000 = 500 people, all in the rank-100 LSOA (not an average of districts)
    assert north.imd_local_concentration == pytest.approx(N + 1 - 100)
    assert north.imd_prop_most_deprived_10 == pytest.approx(1 / 3)
    assert r.attrs["method_note"] == METHOD_NOTE


def test_partial_groupings_leave_districts_out_with_a_note_complete_ones_refuse():
    g = _groups([("L1", "E47000001", "North")])
    r = aggregate(HAND, vintage=2025, to="cauth", groups=g)
    assert list(r.index) == ["E47000001"]
    assert "2 districts (2 LSOAs, population 2,500) are in no combined authority: L2, L3" in r.attrs["notes"][0]
    with pytest.raises(SchemaError, match="groups.csv: 2 districts .* are in no Local Resilience Forum"):
        aggregate(HAND, vintage=2025, to="lrf", groups=_groups([("L1", "E48000001", "X")]))


def test_grouping_without_lookup_says_what_to_give():
    with pytest.raises(SchemaError, match="geotarget bundles none .* lad_code,group_code,group_name"):
        aggregate(HAND, vintage=2025, to="lrf")
    with pytest.raises(SchemaError, match="LSOA -> Integrated Care Board lookup"):
        aggregate(HAND, vintage=2025, to="icb")
    r = aggregate(HAND.assign(region_code="E12000001", region_name="North East"), vintage=2025, to="region")
    assert r.loc["E12000001", "area_name"] == "North East" and r.loc["E12000001", "n_lsoas"] == 4


def test_read_groups_layouts_and_errors(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("LAD24CD,LAD24NM,LRF24CD,LRF24NM\nE06000001,Hartlepool,E48000001,Cleveland\n"
                 "E06000002,Middlesbrough,E48000001,Cleveland\n", encoding="utf-8")
    g = read_groups(p, to="lrf")
    assert g.index.name == "lad_code" and g.loc["E06000002", "group_name"] == "Cleveland"
    p.write_text("lad_code,group_code,group_name\nE06000001,E12000001,North East\nE06000001,E12000002,North West\n",
                 encoding="utf-8")
    with pytest.raises(SchemaError, match=r"LAD 'E06000001' is in more than one group .* rows \[2, 3\]"):
        read_groups(p)
    p.write_text("lad_code,group_code\nE06000001,E12000001\nE06000002,X1\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"column 'group_code', row 3: 'X1' is not a REGION code"):
        read_groups(p, to="region")
    assert read_groups(p).loc["E06000002", "group_code"] == "X1"  # any grouping: any code
    p.write_text("lad_code,name\nE06000001,A\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="no group code column"):
        read_groups(p)


def test_icb_summaries_from_the_lsoa_lookup(shared_data):
    imd = _england25(shared_data, working_age=True)
    icb = read_groups(shared_data / "lookups/lsoa21_icb24_en.csv.gz", to="icb")
    assert icb.index.name == "lsoa_code" and icb["group_code"].str.startswith("E54").all()
    r = aggregate(imd, vintage=2025, to="icb", groups=icb)
    assert len(r) == 42 and r["n_lsoas"].sum() == N and r["population"].sum() == imd["pop_total"].sum()
    assert sorted(r["imd_rank_average_score"]) == list(range(1, 43))
    # the measures of an ICB equal the population-weighted measures of its LSOAs
    lsoas = imd.join(icb)
    one = lsoas[lsoas["group_code"] == r.index[0]]
    assert r.iloc[0]["imd_average_score"] == pytest.approx(np.average(one["imd_score"], weights=one["pop_total"]))
    assert r.iloc[0]["employment_scale"] == pytest.approx((one["employment_score"] * one["pop_working_age"]).sum())


def test_regions_equal_population_weighted_districts(shared_data):
    imd = _england25(shared_data, working_age=True)
    regions = read_groups(shared_data / "lookups/lad24_region24_england.csv", to="region")
    r = aggregate(imd, vintage=2025, to="region", groups=regions)
    lads = aggregate(imd, vintage=2025, to="lad")
    assert len(r) == 9 and r["n_lads"].sum() == 296
    by = lads.join(regions).groupby("group_code")
    expected = by.apply(lambda d: np.average(d["imd_average_score"], weights=d["population"]))
    assert np.allclose(r["imd_average_score"], expected.reindex(r.index))
    assert np.allclose(r["income_scale"], by["income_scale"].sum().reindex(r.index))


# ----------------------------------------------------------------------------- IoD2019 local concentration

def test_iod2019_local_concentration_for_every_district_by_direct_computation(shared_data):
    imd, _ = read_imd(shared_data / "imd/iod2019_lsoa11_england.csv.gz")
    r = aggregate(imd, vintage=2019, to="lad")
    assert len(r) == 317 and r["imd_local_concentration"].notna().all()
    assert r.attrs["denominators"]["employment"] == "working-age population"  # File 6, in the file
    n19 = 32_844
    for lad in ("E06000002", "E09000001", "E06000053"):  # Middlesbrough, City of London, Isles of Scilly
        d = imd[imd["lad_code"] == lad].sort_values("imd_rank")
        target = 0.1 * d["pop_total"].sum()
        taken, num = 0.0, 0.0
        for rank, pop in zip(d["imd_rank"], d["pop_total"], strict=True):
            use = min(pop, target - taken)
            if use <= 0:
                break
            taken += use
            num += use * (n19 + 1 - rank)
        assert r.loc[lad, "imd_local_concentration"] == pytest.approx(num / taken)
    assert set(OFFICIAL["imd"]) >= {"extent", "local_concentration"}
    assert "extent" not in OFFICIAL["employment"] and "scale" in OFFICIAL["employment"]
    assert "geotarget extensions: domain extent and local concentration" in METHOD_NOTE


# ----------------------------------------------------------------------------- CLI

def test_cli_groups_file_and_region_default(tmp_path, capsys):
    g = tmp_path / "g.csv"
    g.write_text("lad_code,group_code,group_name\nE06000001,G1,North\nE06000002,G1,North\nE06000003,G2,South\n",
                 encoding="utf-8")
    out = tmp_path / "groups.csv"
    assert main(["aggregate", "--to", "groups", "--groups", str(g), "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df["area_code"]) == ["G1", "G2"] and list(df["n_lads"]) == [2, 1]
    assert df.loc[0, "n_lsoas"] == 57 + 90
    printed = capsys.readouterr().out
    assert "2 districts (190 LSOAs" in printed and "working-age population for employment" in printed
    manifest = json.loads((tmp_path / "groups.csv.manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["denominators"]["employment"] == "working-age population"
    assert any(n.startswith("Method:") for n in manifest["notes"])
    assert main(["aggregate", "--to", "region", "--out", str(tmp_path / "r.csv"), "-q"]) == 0
    assert pd.read_csv(tmp_path / "r.csv")["area_code"].tolist() == ["E12000001"]


def test_cli_lrf_without_lookup_and_groups_with_wrong_target(tmp_path, capsys):
    assert main(["aggregate", "--to", "lrf", "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "--groups" in err and "Local Resilience Forums, a CSV lad_code,group_code,group_name" in err
    assert main(["aggregate", "--to", "lad", "--groups", str(tmp_path / "g.csv"), "--out",
                 str(tmp_path / "x.csv")]) == 2


def test_cli_icb_england_with_working_age_file(shared_data, tmp_path, capsys):
    out = tmp_path / "icb.csv"
    assert main(["aggregate", "--to", "icb", "--imd", str(shared_data / "imd/iod2025_lsoa21_england.csv.gz"),
                 "--population", str(shared_data / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz"),
                 "--working-age", str(shared_data / "population/census2021_ts007a_age5_lsoa21_england.csv.gz"),
                 "--groups", str(shared_data / "lookups/lsoa21_icb24_en.csv.gz"), "--out", str(out), "-q"]) == 0
    df = pd.read_csv(out)
    assert len(df) == 42 and df["area_code"].str.startswith("E54").all() and df["employment_scale"].notna().all()
    notes = json.loads(out.with_name("icb.csv.manifest.json").read_text(encoding="utf-8"))["notes"]
    assert any("18-66" in n and "15-19, 65-69" in n for n in notes)


def test_cli_warns_loudly_without_working_age(shared_data, tmp_path, capsys):
    out = tmp_path / "lad.csv"
    assert main(["aggregate", "--to", "lad", "--imd", str(shared_data / "imd/iod2025_lsoa21_england.csv.gz"),
                 "--population", str(shared_data / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz"),
                 "--out", str(out), "-q"]) == 0
    assert "WARNING: no working-age population" in capsys.readouterr().err
    df = pd.read_csv(out)
    assert df["employment_denominator"].str.contains("NOT working-age").all()
    manifest = json.loads(out.with_name("lad.csv.manifest.json").read_text(encoding="utf-8"))
    assert any(n.startswith("WARNING") for n in manifest["notes"])


def test_study_file_groupings_and_working_age(tmp_path, shared_data):
    import textwrap

    from geotarget.io.provenance import read_manifest
    from geotarget.study.pipeline import run_study

    g = tmp_path / "g.csv"
    g.write_text("lad_code,group_code,group_name\nE06000001,G1,North\nE06000002,G1,North\n", encoding="utf-8")
    study = tmp_path / "study.toml"
    study.write_text(textwrap.dedent(f"""
        [aggregate]
        to = ["ward", "region", "groups"]
        groups = "g.csv"
        working_age = "{shared_data / 'population/census2021_ts007a_age5_lsoa21_england.csv.gz'}"
        [output]
        map = false
    """).lstrip(), encoding="utf-8")
    res = run_study(study)
    groups = pd.read_csv(res.outputs["aggregate.groups"])
    assert groups["area_code"].tolist() == ["G1"] and groups.loc[0, "n_lsoas"] == 57 + 90
    assert pd.read_csv(res.outputs["aggregate.region"])["area_code"].tolist() == ["E12000001"]
    manifest = read_manifest(tmp_path / "maps")
    assert {"groups", "working_age"} <= {i["role"] for i in manifest["inputs"]}
    assert any("share of its total population" in n for n in manifest["notes"])


def test_iod2019_working_age_from_single_years_close_to_file6(shared_data):
    """IoD2019's 18-59/64 from ONS mid-2020 single years of age, against File 6's own figures (mid-2015)."""
    derived = read_population(shared_data / "population/ons_sape_mid2020_lsoa11_single_year_england.csv.gz",
                              vintage=2019)
    assert "18-59 plus half of ages 60-64" in derived.attrs["denominators"]["pop_working_age"]
    imd, _ = read_imd(shared_data / "imd/iod2019_lsoa11_england.csv.gz")
    shares = (derived["pop_working_age"] / derived["pop_total"]) / (imd["pop_working_age"] / imd["pop_total"])
    by_lad = (imd["pop_total"] * derived["pop_working_age"] / derived["pop_total"]).groupby(imd["lad_code"]).sum() \
        / imd["pop_working_age"].groupby(imd["lad_code"]).sum()
    assert 0.96 < shares.median() < 1.0 and by_lad.between(0.95, 1.01).all()  # five years of ageing, within 5%


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["L1", "L2", "L3", "L4"]), st.integers(1, 3000), st.integers(1, N)),
                min_size=1, max_size=30),
       st.dictionaries(st.sampled_from(["L1", "L2", "L3", "L4"]), st.sampled_from(["G1", "G2"]), min_size=1))
def test_groupings_conserve_people_and_count_every_lsoa_once(rows, mapping):
    df = pd.DataFrame({"lad_code": [a for a, _, _ in rows], "pop_total": [p for _, p, _ in rows],
                       "imd_rank": [r for _, _, r in rows]},
                      index=pd.Index([f"E01{i:06d}" for i in range(len(rows))], name="lsoa_code"))
    groups = _groups([(lad, g, g.lower()) for lad, g in mapping.items()])
    inside = df["lad_code"].isin(list(mapping))
    if not inside.any():
        with pytest.raises(SchemaError):
            aggregate(df, vintage=2025, to="groups", groups=groups)
        return
    r = aggregate(df, vintage=2025, to="groups", groups=groups)
    assert r["population"].sum() == df.loc[inside, "pop_total"].sum()
    assert r["n_lsoas"].sum() == inside.sum()
    assert r["imd_extent"].between(0, 1).all() and r["imd_local_concentration"].between(1, N).all()
