"""read_boundaries: formats, CRS handling, and every error message."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, box

from geotarget import BNG, CRSError, SchemaError, read_boundaries

from .conftest import ROOT

GPKG = ROOT / "boundaries/tees_valley.gpkg"


def _squares(codes, crs=BNG, col="LSOA21CD"):
    geoms = [box(450000 + 500 * i, 520000, 450500 + 500 * i, 520500) for i in range(len(codes))]
    return gpd.GeoDataFrame({col: codes, "LSOA21NM": [f"Area {c}" for c in codes]}, geometry=geoms, crs=crs)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".parquet"])
def test_formats_and_crs_come_back_in_bng(tmp_path, suffix):
    g = _squares(["E01011949", "E01011950"]).to_crs("EPSG:4326")
    path = tmp_path / f"lsoas{suffix}"
    g.to_parquet(path) if suffix == ".parquet" else g.to_file(path)
    out = read_boundaries(path)
    assert out.crs.equals(BNG)
    assert out.attrs["level"] == "lsoa21" and out.attrs["lsoa_year"] == 2021
    assert list(out.index) == ["E01011949", "E01011950"] and out.index.name == "lsoa_code"
    assert out.loc["E01011949", "lsoa_name"] == "Area E01011949"
    # back in metres: a 500 m square (to within reprojection error)
    assert out.geometry.area.iloc[0] == pytest.approx(250_000, rel=1e-3)


def test_bundled_layers():
    lsoa = read_boundaries(GPKG, layer="lsoa21")
    wards = read_boundaries(GPKG, layer="wards2025")
    lads = read_boundaries(GPKG, layer="lad2025")
    assert (len(lsoa), len(wards), len(lads)) == (425, 103, 5)
    assert wards.attrs["level"] == "ward" and set(wards.columns) >= {"ward_name", "lad_code", "lad_name"}
    assert lads.loc["E06000004", "lad_name"] == "Stockton-on-Tees"
    # level chooses the layer of that name in a multi-layer GeoPackage
    assert len(read_boundaries(GPKG, level="lsoa11")) == 417


def test_error_multilayer_without_layer():
    with pytest.raises(SchemaError, match=r"has 6 layers .*pass layer="):
        read_boundaries(GPKG)


def test_error_no_crs(tmp_path):
    path = tmp_path / "nocrs.shp"
    _squares(["E01011949"], crs=None).to_file(path)
    with pytest.raises(CRSError, match="no coordinate reference system"):
        read_boundaries(path)


def test_error_wrong_kind_of_code(tmp_path):
    path = tmp_path / "x.geojson"
    _squares(["E01011949", "E02002491"]).to_file(path)
    with pytest.raises(SchemaError, match=r"column 'LSOA21CD', feature 2: 'E02002491' is not a LSOA code"):
        read_boundaries(path)


def test_error_duplicate_code(tmp_path):
    path = tmp_path / "x.geojson"
    _squares(["E01011949", "E01011949"]).to_file(path)
    with pytest.raises(SchemaError, match="'E01011949' appears more than once"):
        read_boundaries(path)


def test_error_empty_geometry(tmp_path):
    path = tmp_path / "x.gpkg"
    g = _squares(["E01011949", "E01011950"])
    g.loc[1, "geometry"] = Polygon()
    g.to_file(path)
    with pytest.raises(SchemaError, match=r"1 features have no geometry: feature 2 \(E01011950\)"):
        read_boundaries(path)


def test_error_no_code_column(tmp_path):
    path = tmp_path / "x.geojson"
    _squares(["E01011949"], col="id").to_file(path)
    with pytest.raises(SchemaError, match="no area code column found"):
        read_boundaries(path)
    # ... unless it is named
    assert read_boundaries(path, level="lsoa21", code_column="id").index[0] == "E01011949"


def test_error_level_contradicts_column(tmp_path):
    path = tmp_path / "x.geojson"
    _squares(["E01011949"]).to_file(path)
    with pytest.raises(SchemaError, match="level 'lsoa11' was asked for but column 'LSOA21CD' holds LSOA 2021"):
        read_boundaries(path, level="lsoa11")


def test_error_unknown_level(tmp_path):
    with pytest.raises(SchemaError, match=r"level was 'lsoa' but is expected to be one of"):
        read_boundaries(GPKG, level="lsoa")


def test_invalid_geometry_is_repaired_not_dropped(tmp_path):
    bowtie = Polygon([(450000, 520000), (450500, 520500), (450500, 520000), (450000, 520500)])
    g = _squares(["E01011949", "E01011950"])
    g.loc[1, "geometry"] = bowtie
    path = tmp_path / "x.gpkg"
    g.to_file(path)
    out = read_boundaries(path)
    assert len(out) == 2 and out.geometry.is_valid.all()
