"""attach_imd: complete joins, the vintage guard, and no silent blanks."""

from __future__ import annotations

import pytest

from geotarget import SchemaError, VintageError, attach_imd, read_boundaries, read_imd

from .conftest import ROOT

GPKG = ROOT / "boundaries/tees_valley.gpkg"
IMD25 = ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv"
IMD19 = ROOT / "data/imd/iod2019_lsoa11_tees_valley.csv"


@pytest.mark.parametrize("layer, path, n", [("lsoa21", IMD25, 425), ("lsoa11", IMD19, 417)])
def test_join_is_complete(layer, path, n):
    imd, v = read_imd(path)
    out = attach_imd(read_boundaries(GPKG, layer=layer), imd, vintage=v)
    assert len(out) == n
    assert out["imd_decile"].notna().all() and out["imd_score"].notna().all()
    assert out.crs.to_epsg() == 27700


def test_iod2019_on_lsoa2021_boundaries_is_refused_with_match_rate():
    with pytest.raises(VintageError) as e:
        attach_imd(read_boundaries(GPKG, layer="lsoa21"), read_imd(IMD19)[0], vintage=2019)
    msg = str(e.value)
    # 403 Tees LSOA codes were unchanged 2011 -> 2021: most codes match, which is why a guard is needed
    assert "IoD2019 is published on LSOA 2011 but these boundaries are LSOA 2021" in msg
    assert "of 425 boundary LSOA codes (" in msg and "lsoa11_lsoa21" in msg and "IoD2025" in msg


def test_iod2025_on_lsoa2011_boundaries_is_refused():
    with pytest.raises(VintageError, match=r"IoD2025 is published on LSOA 2021 but these boundaries are LSOA 2011: "
                                           r"\d+ of 417 boundary LSOA codes \(\d+\.\d%\)"):
        attach_imd(read_boundaries(GPKG, layer="lsoa11"), read_imd(IMD25)[0], vintage=2025)


def test_guard_works_without_recorded_vintages():
    b = read_boundaries(GPKG, layer="lsoa21")
    b.attrs = {}
    imd, v = read_imd(IMD19)
    with pytest.raises(VintageError):  # LSOA 2021-only codes reveal the boundaries' year
        attach_imd(b, imd, vintage=v)


def test_missing_lsoas_are_an_error_not_blanks():
    imd = read_imd(IMD25)[0].drop(index=["E01011949", "E01011950"])
    b = read_boundaries(GPKG, layer="lsoa21")
    with pytest.raises(SchemaError, match=r"423 of 425 boundary LSOA codes \(99.5%\).*E01011949, E01011950"):
        attach_imd(b, imd)
    kept = attach_imd(b, imd, allow_missing=True)
    assert len(kept) == 425 and kept["imd_decile"].isna().sum() == 2


def test_inputs_not_mutated():
    b = read_boundaries(GPKG, layer="lsoa21")
    imd, _ = read_imd(IMD25)
    cols_b, cols_i = list(b.columns), list(imd.columns)
    attach_imd(b, imd)
    assert list(b.columns) == cols_b and list(imd.columns) == cols_i
