"""geotarget map: a map (and a static figure) from any geotarget outputs."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geotarget.cli.main import main
from geotarget.core.crs import BNG
from geotarget.core.places import ROOT
from geotarget.render.maps import LayerSource, map_from_files, read_data

ASSETS = ROOT / "data" / "assets" / "assets_tees_valley.gpkg"


@pytest.fixture(scope="module")
def run_outputs(tees_run_hartlepool):
    """``geotarget run --la Hartlepool``'s GeoPackage (the session's shared run, conftest)."""
    return tees_run_hartlepool / "imd2025_lsoas.gpkg"


def test_map_command_from_run_outputs(run_outputs, tmp_path, capsys):
    html, png = tmp_path / "m.html", tmp_path / "m.png"
    code = main(["map", "--layers", f"{run_outputs}#lsoas", f"{run_outputs}#ward_profiles:imd_average_score",
                 f"{run_outputs}#wards", f"{ASSETS}#gp_practices", "--title", "Hartlepool <check>",
                 "--vintage", "IoD2025, LSOA 2021", "--out", str(html), "--png", str(png)])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("11 layer(s): IMD decile; Income decile;")
    assert str(html) in printed and str(png) in printed
    spec = read_data(html.read_text(encoding="utf-8"))
    kinds = {layer["name"]: (layer["kind"], layer["show"]) for layer in spec["layers"]}
    assert kinds["IMD decile"] == ("fill", True) and kinds["Income decile"] == ("fill", False)
    assert kinds["ward_profiles: imd_average_score"] == ("fill", False)  # a quantile choropleth of 12 wards
    assert kinds["wards"] == ("outline", True) and kinds["gp_practices"] == ("points", True)
    wards = gpd.read_file(run_outputs, layer="ward_profiles")
    profile = next(layer for layer in spec["layers"] if layer["name"] == "ward_profiles: imd_average_score")
    classes = spec["columns"][profile["cls"]]
    assert sorted(set(classes)) == [0, 1, 2, 3, 4] and len(classes) == len(wards) == 12
    # Quantiles: the ward with the highest average score is in the top class.
    assert classes[int(wards["imd_average_score"].idxmax())] == 4
    assert spec["title"] == "Hartlepool <check>" and spec["vintage"] == "IoD2025, LSOA 2021"
    assert png.read_bytes().startswith(b"\x89PNG")


def test_layer_sources_parse_paths_layers_and_columns(tmp_path):
    g = gpd.GeoDataFrame({"site": ["a", "b"], "score": [1.5, 2.5]},
                         geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=BNG)
    path = tmp_path / "sites.geojson"
    g.to_file(path)
    assert LayerSource.parse(str(path)) == LayerSource(path, None, None)
    assert LayerSource.parse(f"{path}:score") == LayerSource(path, None, "score")
    assert LayerSource.parse(f"{path}#sites:score") == LayerSource(path, "sites", "score")
    mb = map_from_files([f"{path}:site"], title="Sites")
    assert [(layer.name, layer.kind) for layer in mb.layers] == [("sites: site", "fill")]
    assert [i[2] for i in mb.layers[0].legend.items] == ["a", "b"]
    mb = map_from_files([str(path)], title="Sites")
    assert [(layer.name, layer.kind) for layer in mb.layers] == [("sites", "outline")]


def test_map_command_errors_are_one_line(tmp_path, capsys, run_outputs):
    assert main(["map", "--layers", str(tmp_path / "missing.gpkg"), "--out", str(tmp_path / "m.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("geotarget map: error:") and "missing.gpkg: map layer file not found" in err
    assert main(["map", "--layers", f"{run_outputs}#wards:nope", "--out", str(tmp_path / "m.html")]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
    assert main(["map", "--layers", f"{run_outputs}#roads", "--out", str(tmp_path / "m.html")]) == 2
    assert "no spatial layer 'roads'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
