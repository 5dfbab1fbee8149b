"""Hot spots: planted spots on a grid, Gi* z by hand, FDR rule, islands, determinism, errors, the CLI.

The grid has planted hot and cold spots; the FDR rule is applied to permutation p-values.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geotarget import SchemaError
from geotarget.analysis.hotspots import auto_permutations, hotspots, min_discoveries, required_permutations
from geotarget.cli.main import main
from tests.grids import square_grid


def grid(n: int, size: float = 100.0) -> gpd.GeoDataFrame:
    g = square_grid(n, size=size)
    g.insert(0, "area_name", g.index)
    return g


def code(x, y):
    return f"E01{y:03d}{x:03d}"


@pytest.fixture(scope="module")
def planted():
    """12 x 12 grid: noise, a 3 x 3 block of high values (centre 3,3) and one of low values (centre 8,8)."""
    g = grid(12)
    rng = np.random.default_rng(7)
    v = pd.Series(rng.normal(0, 1, len(g)), index=g.index)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            v[code(3 + dx, 3 + dy)] += 5
            v[code(8 + dx, 8 + dy)] -= 5
    return g, v


def test_planted_hot_and_cold_spots_gi(planted):
    g, v = planted
    r = hotspots(g, v, permutations=9_999)
    t = r.table
    hot = set(t.index[t["category"] == "hot spot"])
    cold = set(t.index[t["category"] == "cold spot"])
    block_hot = {code(3 + dx, 3 + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
    block_cold = {code(8 + dx, 8 + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
    assert code(3, 3) in hot and code(8, 8) in cold
    assert hot <= {code(x, y) for x in range(1, 6) for y in range(1, 6)}  # nothing far from the planted block
    assert cold <= {code(x, y) for x in range(6, 11) for y in range(6, 11)}
    assert len(hot & block_hot) >= 5 and len(cold & block_cold) >= 5
    assert (t.loc[list(hot), "statistic"] > 0).all() and (t.loc[list(cold), "statistic"] < 0).all()
    assert (t["p_fdr"] >= t["p_value"] - 1e-12).all() and t["p_value"].min() >= 2 / 10_000 - 1e-12
    assert list(t.columns[:5]) == ["value", "neighbours", "statistic", "p_value", "p_fdr"]


def test_planted_clusters_local_moran(planted):
    g, v = planted
    t = hotspots(g, v, method="moran", permutations=9_999).table
    assert t.loc[code(3, 3), "category"] == "HH" and t.loc[code(8, 8), "category"] == "LL"
    assert t.loc[code(3, 3), "quadrant"] == "HH"
    assert set(t["category"]) <= {"HH", "LL", "HL", "LH", "not significant"}


def test_gi_star_z_by_hand_and_shift_invariance(planted):
    g, v = planted
    r = hotspots(g, v, permutations=999, alpha=0.5)
    # Gi* with binary weights including self: z = (sum_j w_ij x_j - W_i xbar) / (s sqrt(W_i (n - W_i) / (n - 1)))
    x, n = v.to_numpy(), len(v)
    s = np.sqrt((x ** 2).mean() - x.mean() ** 2)
    nbrs = [code(3 + dx, 3 + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]  # queen + self: 9 cells
    z = (v[nbrs].sum() - 9 * x.mean()) / (s * np.sqrt(9 * (n - 9) / (n - 1)))
    assert r.table.loc[code(3, 3), "statistic"] == pytest.approx(z)
    assert r.table.loc[code(0, 0), "neighbours"] == 3
    shifted = hotspots(g, v + 100, permutations=999, alpha=0.5).table
    pd.testing.assert_series_equal(shifted["statistic"], r.table["statistic"], rtol=1e-9)
    pd.testing.assert_series_equal(shifted["p_value"], r.table["p_value"])


def test_deterministic_and_independent_of_row_order(planted):
    g, v = planted
    a = hotspots(g, v, permutations=999, seed=3).table
    b = hotspots(g.sample(frac=1, random_state=1), v.sample(frac=1, random_state=2), permutations=999, seed=3).table
    pd.testing.assert_frame_equal(a, b.loc[a.index])
    c = hotspots(g, v, permutations=999, seed=4).table
    assert not c["p_value"].equals(a["p_value"])  # the seed matters


def test_permutation_rule():
    assert required_permutations(425, 0.05) == 16_999
    assert auto_permutations(425, 0.05) == 19_999
    assert auto_permutations(20, 0.05) == 999
    assert auto_permutations(33_755, 0.05) == 99_999  # capped
    assert min_discoveries(33_755, 0.05, 9_999) == 136
    assert min_discoveries(425, 0.05, 19_999) == 1
    # the auto rule: with P the smallest p-value 2/(P+1) is within the first BH threshold alpha/n
    for n in (50, 425, 2_000):
        p = auto_permutations(n, 0.05)
        assert 2 / (p + 1) <= 0.05 / n


def test_auto_permutations_reported(planted):
    g, v = planted
    r = hotspots(g, v)
    assert r.permutations == 9_999  # 144 areas: at least 2 * 144 / 0.05 - 1 = 5,759 needed
    assert any("9,999 permutations" in n and "5,759" in n for n in r.notes)


def with_island(n=4):
    g = grid(n)
    far = gpd.GeoDataFrame({"area_name": ["far"]}, geometry=[box(5000, 0, 5100, 100)],
                           index=pd.Index(["E01999999"], name="area_code"), crs=27700)
    return pd.concat([g, far])


def test_islands_linked_or_excluded():
    g = with_island()
    v = pd.Series(np.arange(len(g), dtype=float), index=g.index)
    linked = hotspots(g, v, permutations=999, alpha=0.5).table
    assert linked.loc["E01999999", "linked_to"] == code(3, 0)  # nearest cell of the grid
    assert linked.loc["E01999999", "neighbours"] == 1 and linked["category"].notna().all()
    ex = hotspots(g, v, permutations=999, alpha=0.5, islands="exclude")
    assert ex.table.loc["E01999999", "category"] == "island (not tested)"
    assert np.isnan(ex.table.loc["E01999999", "p_value"]) and any("island" in n for n in ex.notes)
    assert len(ex.table) == len(g)


def test_missing_values_reported(planted):
    g, v = planted
    v = v.copy()
    v.iloc[:3] = np.nan
    r = hotspots(g, v, permutations=999, alpha=0.5)
    assert len(r.table) == len(g) - 3 and any("without a value" in n for n in r.notes)


def test_errors(planted):
    g, v = planted
    with pytest.raises(SchemaError, match="too few areas"):
        small = grid(3)
        hotspots(small, pd.Series(np.arange(9.0), index=small.index), permutations=999)
    with pytest.raises(SchemaError, match="no area could ever be significant"):
        hotspots(g, v, permutations=99, alpha=0.01)
    with pytest.raises(SchemaError, match="constant"):
        hotspots(g, pd.Series(1.0, index=g.index))
    with pytest.raises(SchemaError, match="method"):
        hotspots(g, v, method="lisa")
    with pytest.raises(SchemaError, match="alpha"):
        hotspots(g, v, alpha=5)


def test_cli_hotspots_on_the_sample(tmp_path, capsys):
    assert main(["hotspots", "--indicator", "income", "--permutations", "9999", "--out", str(tmp_path)]) == 0
    g = gpd.read_file(tmp_path / "hotspots.gpkg", layer="hotspots")
    assert {"area_code", "statistic", "p_value", "p_fdr", "category"} <= set(g.columns)
    assert len(g) == 425 and g.crs.to_epsg() == 27700
    cats = g["category"].value_counts()
    assert cats["hot spot"] > 0 and cats["cold spot"] > 0
    # significant areas are exactly those with FDR-adjusted p <= 0.05
    assert ((g["p_fdr"] <= 0.05) == (g["category"] != "not significant")).all()
    out = capsys.readouterr().out
    assert "hot spot" in out and "9,999 permutations" in out
    assert (tmp_path / "hotspots_notes.txt").read_text(encoding="utf-8").count("Open Government Licence") == 1
    assert main(["hotspots", "--indicators", "sample", "--indicator", "bad_health", "--method", "moran",
                 "--permutations", "9999", "--out", str(tmp_path), "-q"]) == 0
    m = gpd.read_file(tmp_path / "hotspots.gpkg", layer="hotspots")
    assert set(m["category"]) <= {"HH", "LL", "HL", "LH", "not significant"} and (m["category"] == "HH").any()


def test_cli_unknown_indicator(tmp_path, capsys):
    assert main(["hotspots", "--indicator", "nope", "--out", str(tmp_path)]) == 2
    assert "imd_score" in capsys.readouterr().err


def test_only_esdas_alternative_warning_is_hidden(planted, monkeypatch):
    """Check hotspots() hides exactly one warning and lets every other warning through.

    The hidden one is esda's notice that its default `alternative` will change (G_Local does not let
    the caller set it).
    """
    import warnings

    import esda.getisord

    from geotarget.analysis.contiguity import contiguity

    g, v = planted
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning that escapes fails the test
        r = hotspots(g, v, permutations=999)
    # The p-value is two-sided, from esda's one-sided ("directed") pseudo p-value: the planted centre
    # beats every draw, so p = 2 / (999 + 1). If esda's default became two-sided this would be 4 / 1000.
    assert r.table.loc[code(3, 3), "p_value"] == pytest.approx(2 / 1000)
    # The hidden warning still exists; when esda drops it (its default changed), review the p-values.
    original = esda.getisord.G_Local
    w = contiguity(g.sort_index()).to_w()
    with pytest.warns(DeprecationWarning, match="The alternative hypothesis for conditional randomization"):
        original(v.sort_index().to_numpy() + 10, w, transform="B", star=True, permutations=99, seed=1,
                 keep_simulations=False, n_jobs=1)

    # Any other warning raised by esda reaches the caller.
    def noisy(*args, **kwargs):
        warnings.warn("weights look odd", UserWarning, stacklevel=2)
        warnings.warn("something else is deprecated", DeprecationWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(esda.getisord, "G_Local", noisy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hotspots(g, v, permutations=999)
    assert sorted(str(x.message) for x in caught) == ["something else is deprecated", "weights look odd"]
