"""SII/RII (OHID/PHE method), Gini and Theil, local deciles, errors and the CLI.

SII/RII against a hand-worked example and PHE's own regression form, with Monte Carlo CIs; Gini and
Theil against brute force.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotarget import SchemaError
from geotarget.analysis.inequality import gini, inequality, local_deciles, relative_ranks, slope_index, theil
from geotarget.cli.main import main


def test_hand_worked_sii():
    # four groups, most -> least deprived; by hand:
    # a = .1 .2 .3 .4; b = .05 .2 .45 .8; weighted mean b = .5, y = 6.3
    # Sxy = .1(-.45)(3.7) + .2(-.3)(1.7) + .3(-.05)(.7) + .4(.3)(-2.3) = -.555; Sxx = .075
    # beta1 = -.555 / .075 = -7.4; beta0 = 6.3 + 7.4 * .5 = 10; RII = (10 - 7.4) / 10 = .26
    s = slope_index([10, 8, 7, 4], [10, 20, 30, 40])
    assert relative_ranks([10, 20, 30, 40]).tolist() == pytest.approx([0.05, 0.2, 0.45, 0.8])
    assert s.sii == pytest.approx(-7.4)
    assert s.intercept == pytest.approx(10.0)
    assert s.rii == pytest.approx(0.26)
    assert np.isnan(s.sii_lower)  # no standard errors, no interval


def test_published_equal_share_example():
    # dceasimR's calc_rii reference example (equal shares, 60..72 step 3): slope 15, intercept 58.5
    s = slope_index([60, 63, 66, 69, 72], [0.2] * 5)
    assert (s.sii, s.intercept) == pytest.approx((15.0, 58.5))


# PHE's phe_sii documentation example, "Area1": deciles 1 (most deprived) .. 10
PHE_POP = [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534]
PHE_VALUE = [75.9, 78.3, 83.8, 83.6, 80.5, 81.1, 81.7, 84.2, 80.6, 86.3]
PHE_SE = [1.64, 1.58, 1.51, 1.78, 1.7, 1.56, 1.37, 1.4, 2.43, 1.57]


def test_matches_phe_regression_form():
    # phe_sii fits lm(y*sqrt(a) ~ sqrt(a) + b*sqrt(a) - 1); solve that independently by least squares
    a = np.array(PHE_POP) / sum(PHE_POP)
    b = np.cumsum(a) - a / 2
    X = np.column_stack([np.sqrt(a), b * np.sqrt(a)])
    (b0, b1), *_ = np.linalg.lstsq(X, np.array(PHE_VALUE) * np.sqrt(a), rcond=None)
    s = slope_index(PHE_VALUE, PHE_POP)
    assert s.sii == pytest.approx(b1, rel=1e-12) and s.intercept == pytest.approx(b0, rel=1e-12)
    assert s.rii == pytest.approx((b0 + b1) / b0)
    assert s.sii > 0  # life expectancy: higher at the least deprived end


def test_monte_carlo_interval_matches_analytic_variance():
    a = np.array(PHE_POP) / sum(PHE_POP)
    b = np.cumsum(a) - a / 2
    c = a * (b - (a * b).sum()) / (a * (b - (a * b).sum()) ** 2).sum()  # beta1 = sum(c * y)
    sd = np.sqrt((c ** 2 * np.array(PHE_SE) ** 2).sum())
    s = slope_index(PHE_VALUE, PHE_POP, PHE_SE, repetitions=200_000, seed=1)
    assert s.sii_lower == pytest.approx(s.sii - 1.959964 * sd, abs=0.02 * sd)
    assert s.sii_upper == pytest.approx(s.sii + 1.959964 * sd, abs=0.02 * sd)
    assert s.rii_lower < s.rii < s.rii_upper
    again = slope_index(PHE_VALUE, PHE_POP, PHE_SE, repetitions=200_000, seed=1)
    assert again == s  # seeded
    zero = slope_index(PHE_VALUE, PHE_POP, [0.0] * 10, repetitions=1000)
    assert zero.sii_lower == pytest.approx(zero.sii) and zero.sii_upper == pytest.approx(zero.sii)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.just(0.0), st.floats(1e-6, 100)), st.floats(0.1, 50)), min_size=2,
                max_size=30))
def test_gini_equals_pairwise_definition(rows):
    # values are 0 or at least 1e-6: near 1e-308 the brute-force reference itself overflows (inf/nan)
    x = np.array([r[0] for r in rows])
    w = np.array([r[1] for r in rows])
    if x.sum() == 0:
        assert np.isnan(gini(x, w))
        return
    mu = (w * x).sum() / w.sum()
    brute = (w[:, None] * w[None, :] * np.abs(x[:, None] - x[None, :])).sum() / (2 * w.sum() ** 2 * mu)
    assert gini(x, w) == pytest.approx(brute, abs=1e-9)
    assert 0 <= theil(x, w) <= np.log(w.sum() / w.min()) + 1e-9


def test_theil_by_hand_and_negative_values():
    # two equal groups, one with everything: T = 0.5 * 2 ln 2 = ln 2; weights count
    assert theil([0, 2], [1, 1]) == pytest.approx(np.log(2))
    assert theil([1, 3], [3, 1]) == pytest.approx(0.75 * (1 / 1.5) * np.log(1 / 1.5) + 0.25 * 2 * np.log(2))
    assert np.isnan(gini([-1, 2], [1, 1])) and np.isnan(theil([-1, 2], [1, 1]))


def test_local_deciles_equal_population():
    rank = pd.Series(np.arange(100, 0, -1), index=[f"E01{i:06d}" for i in range(100)])
    d = local_deciles(rank, pd.Series(1.0, index=rank.index))
    assert d.value_counts().tolist() == [10] * 10
    assert d.loc[rank.idxmin()] == 1 and d.loc[rank.idxmax()] == 10
    assert (np.diff(d.loc[rank.sort_values().index].to_numpy()) >= 0).all()  # monotone in deprivation


def _areas(n_per=5, seed=0):
    rng = np.random.default_rng(seed)
    idx = [f"E01{i:06d}" for i in range(10 * n_per)]
    dec = pd.Series(np.repeat(np.arange(1, 11), n_per), index=idx)
    pop = pd.Series(rng.integers(1000, 2000, len(idx)).astype(float), index=idx)
    return idx, dec, pop


def test_inequality_on_a_planted_gradient():
    idx, dec, pop = _areas()
    # value falls by 2 per decile exactly: decile means 20, 18, ..., 2
    vals = pd.DataFrame({"y": 22.0 - 2 * dec.to_numpy()}, index=idx)
    r = inequality(vals, pop, deciles=dec, repetitions=2000).table.iloc[0]
    t = inequality(vals, pop, deciles=dec, repetitions=2000).deciles
    assert t["value"].tolist() == pytest.approx(list(range(20, 0, -2)))
    assert r.gap_d1_d10 == pytest.approx(-18.0)
    # decile values are linear in decile number; relative ranks are not (unequal populations), so check the
    # SII against the weighted regression of the decile values on their relative ranks
    s = slope_index(t["value"], t["population"])
    assert r.sii == pytest.approx(s.sii) and r.rii == pytest.approx(s.rii)
    assert r.se_source == "between" and r.sii_lower == pytest.approx(r.sii)  # no spread within deciles


def test_inequality_errors():
    idx, dec, pop = _areas()
    with pytest.raises(SchemaError, match="constant"):
        inequality(pd.DataFrame({"y": 1.0}, index=idx), pop, deciles=dec)
    with pytest.raises(SchemaError, match="no deprivation decile"):
        inequality(pd.DataFrame({"y": range(len(idx))}, index=idx), pop, deciles=dec.iloc[1:])
    with pytest.raises(SchemaError, match="at least 2 groups"):
        slope_index([1.0], [5])
    with pytest.raises(SchemaError, match="population above zero"):
        slope_index([1.0, 2.0], [5, 0])


def test_missing_values_reported_not_imputed():
    idx, dec, pop = _areas()
    y = pd.Series(np.arange(len(idx), dtype=float), index=idx)
    y.iloc[3] = np.nan
    r = inequality(y.to_frame("y"), pop, deciles=dec, repetitions=1000)
    assert r.table.iloc[0].areas == len(idx) - 1
    assert any(idx[3] in n for n in r.notes)


def test_cli_inequality_on_the_sample(tmp_path, sample25, capsys):
    assert main(["inequality", "--indicator", "imd_score", "income", "--out", str(tmp_path)]) == 0
    t = pd.read_csv(tmp_path / "inequality.csv")
    need = ["indicator", "sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper", "gap_d1_d10"]
    assert set(need) <= set(t.columns) and t["indicator"].tolist() == ["imd_score", "income"]
    r = t.set_index("indicator").loc["imd_score"]
    assert r.sii < 0 and r.sii_lower < r.sii < r.sii_upper  # deprivation score falls towards the least deprived
    # the gap equals the population-weighted decile means of the published scores
    ls = sample25.lsoas
    by_decile = ls["imd_decile"]
    m = (ls["imd_score"] * ls["pop_total"]).groupby(by_decile).sum() / ls["pop_total"].groupby(by_decile).sum()
    assert r.gap_d1_d10 == pytest.approx(m.loc[10] - m.loc[1])
    assert "SII" in capsys.readouterr().out
    assert main(["inequality", "--indicators", "sample", "--deciles", "local", "--out", str(tmp_path), "-q"]) == 0
    loc = pd.read_csv(tmp_path / "inequality.csv")
    assert len(loc) == 5 and (loc["deciles"] == "local").all()
    d = pd.read_csv(tmp_path / "inequality_deciles.csv")
    share = d[d.indicator == "bad_health"].set_index("decile")["share"]
    assert share.sum() == pytest.approx(1) and share.between(0.08, 0.12).all()  # equal-population local deciles


def test_cli_inequality_needs_an_indicator(tmp_path, capsys):
    assert main(["inequality", "--out", str(tmp_path)]) == 2
    assert "name the indicator" in capsys.readouterr().err


def test_rii_warning_for_lines_through_zero():
    idx, dec, pop = _areas()
    vals = pd.DataFrame({"z": 9.0 - 2 * dec.to_numpy()}, index=idx)  # +7 .. -11: crosses zero
    r = inequality(vals, pop, deciles=dec, repetitions=1000)
    assert any("RII" in n and "not meaningful" in n for n in r.notes)
    assert any("negative values" in n for n in r.notes) and np.isnan(r.table.iloc[0].gini)


def test_england_file_one_council(shared_data, tmp_path):
    """National deciles from the England-wide file for Middlesbrough equal the bundled sample's."""
    args = ["--imd", str(shared_data / "imd/iod2025_lsoa21_england.csv.gz"), "--population",
            str(shared_data / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz"), "--la", "Middlesbrough"]
    assert main(["inequality", "--indicator", "income", *args, "--out", str(tmp_path / "e"), "-q"]) == 0
    assert main(["inequality", "--indicator", "income", "--la", "Middlesbrough", "--out", str(tmp_path / "s"),
                 "-q"]) == 0
    e = pd.read_csv(tmp_path / "e" / "inequality_deciles.csv").set_index("decile")
    s = pd.read_csv(tmp_path / "s" / "inequality_deciles.csv").set_index("decile")
    assert e["areas"].tolist() == s["areas"].tolist() and e["areas"].sum() == 90
    # SAPE vs File 7 population weights differ by a few people per LSOA: values agree closely
    assert np.allclose(e["value"], s["value"], rtol=2e-3)
