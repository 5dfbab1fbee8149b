from __future__ import annotations

import pandas as pd
import pytest

from geotarget import SchemaError
from geotarget.analysis.summary import council_summary


def test_hand_computed_summary():
    lsoas = pd.DataFrame({
        "lad_code": ["E06000001", "E06000001", "E06000001", "E06000002"],
        "lad_name": ["Hartlepool"] * 3 + ["Middlesbrough"],
        "pop_total": [1000, 1500, 2500, 2000],
        "imd_decile": [1, 2, 1, 5],
    }, index=pd.Index(["E01000001", "E01000002", "E01000003", "E01000004"], name="lsoa_code"))
    s = council_summary(lsoas)
    h = s.loc["E06000001"]
    assert (h.lsoas, h.lsoas_decile1, h.population, h.population_decile1) == (3, 2, 5000, 3500)
    assert h.pct_lsoas_decile1 == pytest.approx(66.7) and h.pct_population_decile1 == pytest.approx(70.0)
    assert s.loc["E06000002", "population_decile1"] == 0


def test_summary_needs_population():
    with pytest.raises(SchemaError, match="pop_total"):
        council_summary(pd.DataFrame({"lad_code": [], "lad_name": [], "imd_decile": []}))


def test_tees_valley_decile1_counts_match_national_file(sample25):
    """The counts of LSOAs in decile 1 per council equal those of the national IoD2025 file.

    Expected values counted independently from iod2025_lsoa21_england.csv.gz with awk
    (``$7 == 1`` per LAD code); test_imd checks the sample equals those national rows.
    """
    s = council_summary(sample25.lsoas)
    assert s["lsoas_decile1"].to_dict() == {"E06000001": 24, "E06000002": 45, "E06000003": 22,
                                            "E06000004": 24, "E06000005": 13}
