"""Headline counts per council: LSOAs and people in the most deprived 10% nationally."""

from __future__ import annotations

import pandas as pd

from geotarget.core.errors import SchemaError

COLUMNS = ["lad_name", "lsoas", "lsoas_decile1", "pct_lsoas_decile1", "population", "population_decile1",
           "pct_population_decile1"]


def council_summary(lsoas: pd.DataFrame, *, decile_column: str = "imd_decile") -> pd.DataFrame:
    """Per council: LSOAs and population, and how many of each are in national decile 1.

    Parameters
    ----------
    lsoas
        LSOAs with ``lad_code``, ``lad_name``, ``pop_total`` and ``decile_column``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``lad_code`` (sorted), columns ``lad_name, lsoas, lsoas_decile1,
        pct_lsoas_decile1, population, population_decile1, pct_population_decile1``;
        percentages are 0-100. National deciles are used as published, never recomputed.
    """
    need = ["lad_code", "lad_name", "pop_total", decile_column]
    missing = [c for c in need if c not in lsoas.columns]
    if missing:
        raise SchemaError(f"council_summary: missing column(s) {missing}")
    d1 = lsoas[decile_column] == 1
    frame = pd.DataFrame({
        "lad_code": lsoas["lad_code"], "lad_name": lsoas["lad_name"], "one": 1, "d1": d1.astype(int),
        "pop": lsoas["pop_total"], "pop_d1": lsoas["pop_total"].where(d1, 0),
    })
    g = frame.groupby("lad_code", sort=True)
    out = pd.DataFrame({
        "lad_name": g["lad_name"].first(),
        "lsoas": g["one"].sum(),
        "lsoas_decile1": g["d1"].sum(),
        "population": g["pop"].sum(),
        "population_decile1": g["pop_d1"].sum(),
    })
    out["pct_lsoas_decile1"] = (100 * out["lsoas_decile1"] / out["lsoas"]).round(1)
    out["pct_population_decile1"] = (100 * out["population_decile1"] / out["population"]).round(1)
    return out[COLUMNS]
