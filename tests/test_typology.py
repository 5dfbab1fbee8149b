"""Outcome gaps and typologies.

Hand-computed gaps, planted clusters, contiguity and population floor, determinism, labels, errors,
the bundled reference and the CLI.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score

from geotarget import SchemaError
from geotarget.analysis.contiguity import contiguity
from geotarget.analysis.gaps import (
    ENGLAND,
    complete_rows,
    match_areas,
    outcome_gaps,
    rank_normal_score,
    reference_table,
)
from geotarget.analysis.typology import _cut, cluster_areas, cluster_label
from geotarget.cli.main import main
from geotarget.core.errors import ParameterError
from geotarget.io.indicators import read_indicator_table
from geotarget.render.charts import profile_chart
from tests.grids import square_grid

# -- gaps ----------------------------------------------------------------------------------------------


def _table():
    return pd.DataFrame([
        ("", "x", ENGLAND, "England", 3, 300, 10.0, 2.0), ("", "y", ENGLAND, "England", 3, 300, 0.5, 0.25),
        ("", "x", "E12000001", "North East", 2, 200, 12.0, 1.0), ("", "y", "E12000001", "North East", 2, 200, 0.4, 0.1),
    ], columns=["source", "indicator", "area_code", "area_name", "n_areas", "population", "mean", "sd"])


def test_gaps_by_hand():
    v = pd.DataFrame({"x": [14.0, 8.0], "y": [0.5, 1.0]}, index=["E01000001", "E01000002"])
    pop = pd.Series([100.0, 300.0], index=v.index)
    eng = outcome_gaps(v, pop, reference="england", table=_table(), higher_is_better=["y"])
    # x: (14-10)/2 = 2, (8-10)/2 = -1; y is better when higher: -(0.5-0.5)/.25 = 0, -(1-0.5)/.25 = -2
    assert eng.gaps["x"].tolist() == [2.0, -1.0] and eng.gaps["y"].tolist() == [0.0, -2.0]
    reg = outcome_gaps(v, pop, reference="region", table=_table(),
                       region=pd.Series("E12000001", index=v.index))
    assert reg.gaps["x"].tolist() == [1.0, -2.0]  # vs 12, still in England SDs
    study = outcome_gaps(v, pop, reference="study", table=_table())
    mean_x = (100 * 14 + 300 * 8) / 400  # 9.5
    assert study.gaps["x"].tolist() == pytest.approx([(14 - mean_x) / 2, (8 - mean_x) / 2])
    # without England values: study SDs, and england/region refused
    own = outcome_gaps(v, pop, reference="study")
    sd_x = np.sqrt((100 * (14 - mean_x) ** 2 + 300 * (8 - mean_x) ** 2) / 400)
    assert own.gaps["x"].tolist() == pytest.approx([(14 - mean_x) / sd_x, (8 - mean_x) / sd_x])
    with pytest.raises(ParameterError, match="^reference was 'england' but England-wide values of every indicator"):
        outcome_gaps(v, pop, reference="england")


def test_reference_table_weighted():
    v = pd.DataFrame({"x": [1.0, 3.0, 5.0]}, index=["a", "b", "c"])
    t = reference_table(v, pd.Series([1.0, 1.0, 2.0], index=v.index), pd.Series(["R1", "R1", "R2"], index=v.index))
    eng = t[t.area_code == ENGLAND].iloc[0]
    assert eng["mean"] == pytest.approx(3.5) and eng["sd"] == pytest.approx(np.sqrt((6.25 + 0.25 + 2 * 2.25) / 4))
    assert t.set_index("area_code").loc["R1", "mean"] == pytest.approx(2.0)


def test_rank_normal_scores_track_published_health_scores(sample25):
    ls = sample25.lsoas
    z = rank_normal_score(ls["health_rank"], 33_755)
    assert np.corrcoef(z, ls["health_score"])[0, 1] > 0.99
    assert pd.Series(z).rank().corr(pd.Series(ls["health_score"].to_numpy()).rank()) == pytest.approx(1.0, abs=1e-5)


def test_indicator_table_errors(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("code,a,b\nE01000001,1,2\nE01000002,x,3\n")
    with pytest.raises(SchemaError, match=r"t.csv, column 'a': not a number — row 3: 'x'"):
        read_indicator_table(p, columns=["a"])
    p.write_text("code,a\nE01000001,1\nE01000001,2\n")
    with pytest.raises(SchemaError, match="appears on rows 2, 3"):
        read_indicator_table(p)
    p.write_text("code,a\nE01000001,1\nE05000002,2\n")
    with pytest.raises(SchemaError, match="mixes LSOA"):
        read_indicator_table(p, id_column="code")
    p.write_text("code,a\nE01000001,1\nnonsense,2\n")
    with pytest.raises(SchemaError, match="row 3: 'nonsense'"):
        read_indicator_table(p, id_column="code")
    p.write_text("code,a\nE01000001,1\nE01000002,\n")
    t = read_indicator_table(p)
    assert t.attrs["level"] == "lsoa" and np.isnan(t.loc["E01000002", "a"])
    kept, rejects = complete_rows(t)
    assert list(kept.index) == ["E01000001"] and rejects.to_dict("records") == [{"area_code": "E01000002",
                                                                                   "missing": "a"}]
    with pytest.raises(SchemaError, match="none of its 2 codes"):
        match_areas(t, pd.Index(["E01099999"]))
    got, note = match_areas(t, pd.Index(["E01000001", "E01099999"]))
    assert "1 of 2 study areas matched (50.0%)" in note and np.isnan(got.loc["E01099999", "a"])


def test_bundled_reference_matches_england_files(shared_data):
    from geotarget.data import load

    ref = load().reference.set_index(["source", "indicator", "area_code"])
    e = pd.read_csv(shared_data / "imd/iod2025_lsoa21_england.csv.gz").set_index("lsoa21cd")
    pop = pd.read_csv(shared_data / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz").set_index(
        "lsoa21cd")["pop_total_mid2022"].reindex(e.index)
    assert ref.loc[("iod2025", "income", ENGLAND), "mean"] == pytest.approx(np.average(e["income_score"], weights=pop),
                                                                           rel=1e-7)
    ne = e["lad24cd"].isin(pd.read_csv(shared_data / "lookups/lad24_region24_england.csv")
                           .query("rgn24nm == 'North East'")["lad24cd"])
    assert ref.loc[("iod2025", "health", "E12000001"), "mean"] == pytest.approx(
        np.average(e.loc[ne, "health_score"], weights=pop[ne]), rel=1e-7)
    assert ref.loc[("iod2025", "income", ENGLAND), "population"] == 57_106_398


# -- typologies ----------------------------------------------------------------------------------------

def planted(n_per=40, seed=0):
    """Three well-separated groups of areas in 3 indicators."""
    rng = np.random.default_rng(seed)
    centres = np.array([[2.0, 2.0, 0.0], [0.0, -1.0, 2.0], [-1.5, 0.5, -1.5]])
    x = np.vstack([c + rng.normal(0, 0.2, (n_per, 3)) for c in centres])
    idx = [f"E01{i:06d}" for i in rng.permutation(len(x))]
    truth = pd.Series(np.repeat([0, 1, 2], n_per), index=idx)
    return pd.DataFrame(x, index=idx, columns=["income", "health", "crime"]), truth, pd.Series(1500.0, index=idx)


@pytest.mark.parametrize("method", ["kmeans", "ward"])
def test_planted_clusters_recovered(method):
    gaps, truth, pop = planted()
    t = cluster_areas(gaps, pop, method=method)
    assert t.k == 3 and t.scores.loc[t.scores.chosen, "k"].item() == 3
    assert adjusted_rand_score(truth, t.clusters["cluster"].reindex(truth.index)) == 1.0
    assert {"silhouette", "calinski_harabasz"} <= set(t.scores.columns) and len(t.scores) == 6
    # cluster 1 has the widest mean gap; labels come from the planted centres
    assert t.profiles.loc[0, "label"] in ("Large income and health gaps; crime near average",
                                          "Large health and income gaps; crime near average")
    assert "large health gap" in t.profiles.loc[1, "label"].lower() or "crime" in t.profiles.loc[1, "label"]
    assert t.profiles["population"].sum() == pytest.approx(pop.sum())


def test_deterministic_and_stable_under_reordering():
    gaps, _, pop = planted(seed=3)
    a = cluster_areas(gaps, pop, k=4, seed=11).clusters
    b = cluster_areas(gaps.sample(frac=1, random_state=5), pop, k=4, seed=11).clusters
    pd.testing.assert_frame_equal(a, b.loc[a.index])
    pd.testing.assert_frame_equal(a, cluster_areas(gaps, pop, k=4, seed=11).clusters)


def test_cut_matches_sklearn():
    gaps, _, _ = planted(n_per=15, seed=2)
    from sklearn.cluster import ward_tree

    x = gaps.to_numpy()
    children = ward_tree(x)[0]
    for k in (2, 4, 7):
        ours = _cut(children, len(x), k)
        ref = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x)
        assert adjusted_rand_score(ours, ref) == 1.0


def grid(n, size=100.0):
    return square_grid(n, size=size)


def test_spatial_regions_are_contiguous_and_meet_the_floor():
    g = grid(8)
    rng = np.random.default_rng(1)
    xs = np.array([int(c[-3:]) for c in g.index])
    # left half and right half differ; the left half is the same as a far corner block elsewhere
    v = np.where(xs < 4, 2.0, -1.0)[:, None] + rng.normal(0, 0.1, (64, 2))
    gaps = pd.DataFrame(v, index=g.index, columns=["income", "health"])
    pop = pd.Series(1000.0, index=g.index)
    t = cluster_areas(gaps, pop, method="spatial", k=2, areas=g)
    left = set(g.index[xs < 4])
    assert {frozenset(t.clusters.index[t.clusters.cluster == c]) for c in (1, 2)} == {
        frozenset(left), frozenset(set(g.index) - left)}
    # a floor of 20,000 people (20 areas) with k = 8: every region is contiguous and big enough
    f = cluster_areas(gaps, pop, method="spatial", k=8, areas=g, min_population=20_000)
    c = contiguity(g)
    for _, members in f.clusters.groupby("cluster"):
        assert members["population"].sum() >= 20_000
        sub = c.subset(members.index)
        assert connected_components(sub.matrix(), directed=False)[0] == 1
    assert f.k < 8 and any("Population floor" in n for n in f.notes)


def test_spatial_links_separate_groups():
    far = grid(2)
    far = gpd.GeoDataFrame(geometry=far.translate(2000, 0).to_numpy(),
                           index=pd.Index([f"E01900{i:03d}" for i in range(4)], name="area_code"), crs=27700)
    g = pd.concat([grid(4), far])
    gaps = pd.DataFrame({"a": np.arange(len(g), dtype=float), "b": np.arange(len(g))[::-1] * 1.0}, index=g.index)
    t = cluster_areas(gaps, pd.Series(1.0, index=g.index), method="spatial", k=3, areas=g)
    assert any("separate group" in n for n in t.notes) and t.k == 3


def test_labels():
    lab = {k: k for k in ("income", "employment", "health", "crime", "barriers")}
    assert cluster_label(pd.Series({"income": -0.8, "employment": -0.6, "health": 0.1}), lab) == \
        "Better than average on income and employment; health near average"
    assert cluster_label(pd.Series({"income": 0.1, "health": -0.1}), lab) == "Close to average on every indicator"
    assert cluster_label(pd.Series({"income": 0.3, "health": 0.35}), lab) == "Small gaps only"


def test_typology_errors():
    gaps, _, pop = planted(n_per=3)
    with pytest.raises(SchemaError, match="k was 20 but there are 9 areas"):
        cluster_areas(gaps, pop, k=20)
    flat = gaps.assign(crime=1.0)
    with pytest.raises(SchemaError, match="crime are constant"):
        cluster_areas(flat, pop)
    with pytest.raises(SchemaError, match="missing gaps"):
        holed = gaps.copy()
        holed.iloc[0, 0] = np.nan
        cluster_areas(holed, pop)
    with pytest.raises(SchemaError, match="needs method='spatial'"):
        cluster_areas(gaps, pop, min_population=10)
    with pytest.raises(SchemaError, match="needs the area polygons"):
        cluster_areas(gaps, pop, method="spatial")


def test_profile_chart_png(tmp_path):
    gaps, _, pop = planted()
    p = profile_chart(cluster_areas(gaps, pop), tmp_path / "c.png")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000


def test_cli_cluster_on_the_sample(tmp_path, capsys, sample25):
    assert main(["cluster", "--out", str(tmp_path)]) == 0
    g = gpd.read_file(tmp_path / "clusters.gpkg", layer="clusters")
    assert {"area_code", "cluster", "label"} <= set(g.columns) and len(g) == 425
    prof = pd.read_csv(tmp_path / "cluster_profiles.csv")
    assert prof["areas"].sum() == 425 and prof["population"].sum() == sample25.lsoas["pop_total"].sum()
    assert (tmp_path / "cluster_profiles.png").stat().st_size > 10_000
    gaps = pd.read_csv(tmp_path / "gaps.csv").set_index("area_code")
    ref = pd.read_csv("data/reference/england_region_means.csv").query(
        "source == 'iod2025' and area_code == 'E92000001'").set_index("indicator")
    code = sample25.lsoas.index[0]
    assert gaps.loc[code, "gap_income"] == pytest.approx(
        (sample25.lsoas.loc[code, "income_score"] - ref.loc["income", "mean"]) / ref.loc["income", "sd"])
    assert "area types" in capsys.readouterr().out
    # wards, own indicators, contiguous regions with a floor
    assert main(["cluster", "--level", "ward", "--indicators", "sample", "--spatial", "--min-population", "60000",
                 "--k", "6", "--reference", "region", "--out", str(tmp_path / "w"), "-q"]) == 0
    w = gpd.read_file(tmp_path / "w" / "clusters.gpkg", layer="clusters")
    assert len(w) == 103 and w.groupby("cluster")["population"].sum().min() >= 60_000


def test_cli_cluster_errors(tmp_path, capsys):
    assert main(["cluster", "--k", "500", "--level", "ward", "--out", str(tmp_path)]) == 2
    assert "k was 500 but there are 103 areas" in capsys.readouterr().err
    assert main(["cluster", "--min-population", "100", "--out", str(tmp_path)]) == 2
    assert "--spatial" in capsys.readouterr().err
    assert main(["cluster", "--vintage", "2019", "--indicators", "sample", "--out", str(tmp_path)]) == 2
    assert "LSOA 2021 codes" in capsys.readouterr().err
    t = tmp_path / "mine.csv"
    t.write_text("lsoa,x\nE01011949,1\nE01011950,2\n")
    assert main(["cluster", "--indicators", str(t), "--out", str(tmp_path)]) == 2
    assert "England-wide" in capsys.readouterr().err


def test_england_files_give_the_sample_gaps(shared_data, tmp_path, sample25):
    """Gaps from the England-wide file (reference computed on the fly) equal those from the bundled reference."""
    from geotarget.data import load
    from geotarget.jobs.analyses import run_cluster

    files = run_cluster(load(source="files", imd=shared_data / "imd/iod2025_lsoa21_england.csv.gz",
                             population=shared_data / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                             councils=["Stockton-on-Tees"]), reference="region", k=3)
    sample = run_cluster(load(councils=["Stockton-on-Tees"]), reference="region", k=3)
    a = files.result.clusters.filter(like="gap_")
    b = sample.result.clusters.filter(like="gap_").loc[a.index]
    assert len(a) == 124 and np.allclose(a, b, atol=1e-6)
