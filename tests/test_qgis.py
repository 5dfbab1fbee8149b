"""QGIS-ready GeoPackages: every layer write_geopackage writes gets a default style.

The style is a row in the ``layer_styles`` table QGIS reads, with a QML document QGIS can parse.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pyogrio
import pytest
import shapely

from geotarget.core.crs import BNG
from geotarget.core.errors import SchemaError
from geotarget.render.maps import DECILE_COLOURS, WARD_CLASS_COLOURS
from geotarget.render.qgis import auto_style, categorized_qml, single_qml, write_styled_geopackage

QGIS_COLUMNS = ["id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"]


def styles(path) -> dict[str, dict]:
    con = sqlite3.connect(path)
    try:
        con.row_factory = sqlite3.Row
        return {r["f_table_name"]: dict(r) for r in con.execute("SELECT * FROM layer_styles ORDER BY id")}
    finally:
        con.close()


def renderer(qml: str) -> ET.Element:
    assert qml.startswith("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>")
    root = ET.fromstring(qml.split("\n", 1)[1])
    assert root.tag == "qgis"
    return root.find("renderer-v2")


def rgb(colour: str) -> str:
    return f"{int(colour[1:3], 16)},{int(colour[3:5], 16)},{int(colour[5:7], 16)},255"


def symbol_colours(r: ET.Element) -> list[str]:
    out = []
    for symbol in r.find("symbols"):
        layer = symbol.find("layer")
        option = {o.get("name"): o.get("value") for o in layer.find("Option")}
        prop = {p.get("k"): p.get("v") for p in layer.findall("prop")}
        key = "line_color" if layer.get("class") == "SimpleLine" else "color"
        assert option[key] == prop[key]  # both encodings agree
        out.append(option[key])
    return out


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory, sample25):
    from geotarget.analysis.aggregate import aggregate

    s = sample25
    path = tmp_path_factory.mktemp("gpkg") / "out.gpkg"
    profiles = s.wards[["geometry"]].join(aggregate(s.lsoas, to="ward", vintage=2025), how="inner")
    write_styled_geopackage(path, {"lsoas": s.lsoas, "wards": s.wards, "ward_profiles": profiles, "assets": s.assets})
    return path


def test_layer_styles_table_has_one_default_row_per_layer(gpkg):
    con = sqlite3.connect(gpkg)
    columns = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
    registered = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchall()
    con.close()
    assert columns == QGIS_COLUMNS
    assert registered == [("attributes",)]
    rows = styles(gpkg)
    assert list(rows) == ["lsoas", "wards", "ward_profiles", "assets"]
    for name, row in rows.items():
        assert row["useAsDefault"] == 1 and row["styleName"] == name
        assert row["f_geometry_column"] == "geom" and row["f_table_catalog"] == "" and row["f_table_schema"] == ""
        renderer(row["styleQML"])  # parses
    # The data layers are unchanged and GDAL still reads the file.
    assert len(gpd.read_file(gpkg, layer="lsoas")) == 425
    assert {"lsoas", "wards", "ward_profiles", "assets"} <= set(pyogrio.list_layers(gpkg)[:, 0])


def test_imd_deciles_open_with_the_decile_palette(gpkg):
    r = renderer(styles(gpkg)["lsoas"]["styleQML"])
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "imd_decile"
    cats = r.find("categories").findall("category")
    assert [c.get("value") for c in cats] == [str(d) for d in range(1, 11)] + [""]
    assert cats[0].get("label") == "1 most deprived" and cats[-1].get("label") == "no data"
    assert symbol_colours(r)[:10] == [rgb(c) for c in DECILE_COLOURS]
    assert [s.get("type") for s in r.find("symbols")] == ["fill"] * 11


def test_ward_profiles_open_as_fifths_of_rank(gpkg):
    r = renderer(styles(gpkg)["ward_profiles"]["styleQML"])
    assert r.get("type") == "graduatedSymbol" and r.get("attr") == "imd_rank_average_score"
    ranges = [(float(x.get("lower")), float(x.get("upper")), x.get("label")) for x in r.find("ranges")]
    assert ranges == [(0.5, 20.5, "rank 1–20"), (20.5, 41.5, "rank 21–41"), (41.5, 61.5, "rank 42–61"),
                      (61.5, 82.5, "rank 62–82"), (82.5, 103.5, "rank 83–103")]
    assert symbol_colours(r) == [rgb(c) for c in WARD_CLASS_COLOURS]
    ranks = gpd.read_file(gpkg, layer="ward_profiles")["imd_rank_average_score"]
    assert all(any(lo < v < hi for lo, hi, _ in ranges) for v in ranks)  # every ward falls in a class


def test_assets_open_as_points_by_type_and_boundaries_as_labelled_outlines(gpkg, sample25):
    r = renderer(styles(gpkg)["assets"]["styleQML"])
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "asset_type"
    values = [c.get("value") for c in r.find("categories")]
    assert values[:-1] == sorted(sample25.assets["asset_type"].unique())
    assert {s.find("layer").get("class") for s in r.find("symbols")} == {"SimpleMarker"}
    qml = styles(gpkg)["wards"]["styleQML"]
    r = renderer(qml)
    assert r.get("type") == "singleSymbol"
    fill = {o.get("name"): o.get("value") for o in r.find("symbols")[0].find("layer").find("Option")}
    assert fill["style"] == "no"  # outline only
    root = ET.fromstring(qml.split("\n", 1)[1])
    assert root.get("labelsEnabled") == "1"
    assert root.find("labeling/settings/text-style").get("fieldName") == "ward_name"


def test_styles_can_be_given_or_switched_off(tmp_path):
    g = gpd.GeoDataFrame({"kind": ["a", "b"]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=BNG)
    qml = categorized_qml("kind", [("a", "#ff0000", "A"), ("b", "#0000ff", "B")], no_data=False)
    path = write_styled_geopackage(tmp_path / "x.gpkg", {"mine": g, "plain": g, "none": g},
                            styles={"mine": qml, "none": None})
    rows = styles(path)
    assert list(rows) == ["mine", "plain"]
    assert rows["mine"]["styleQML"] == qml and rows["mine"]["description"] == "style given by the caller"
    assert symbol_colours(renderer(qml)) == ["255,0,0,255", "0,0,255,255"]
    assert renderer(rows["plain"]["styleQML"]).get("type") == "singleSymbol"
    with pytest.raises(SchemaError, match=r"styles given for layer\(s\) \['nope'\]"):
        write_styled_geopackage(tmp_path / "y.gpkg", {"a": g}, styles={"nope": qml})
    assert not (tmp_path / "y.gpkg").exists()


def test_auto_style_for_lines_and_plain_points():
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=BNG)
    qml, description = auto_style(lines)
    assert description == "outlines"
    assert renderer(qml).find("symbols")[0].find("layer").get("class") == "SimpleLine"
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=BNG)
    assert renderer(auto_style(pts)[0]).find("symbols")[0].find("layer").get("class") == "SimpleMarker"
    assert renderer(single_qml("fill", fill="#123456")).find("symbols")[0].get("type") == "fill"


QGIS_SCRIPT = """
import os, sys, json
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in sys.argv[2:]:
    layer = QgsVectorLayer(sys.argv[1] + "|layername=" + name, name, "ogr")
    message, ok = layer.loadDefaultStyle()
    r = layer.renderer()
    info = {"ok": ok, "type": r.type(), "labels": layer.labelsEnabled()}
    if r.type() == "categorizedSymbol":
        info["attr"] = r.classAttribute()
        info["classes"] = [[c.label(), c.symbol().symbolLayer(0).properties()["color"]] for c in r.categories()]
    elif r.type() == "graduatedSymbol":
        info["attr"] = r.classAttribute()
        info["classes"] = [[g.label(), g.symbol().symbolLayer(0).properties()["color"]] for g in r.ranges()]
    out[name] = info
print(json.dumps(out), flush=True)
os._exit(0)  # QGIS 3.22 may crash while tearing down; the answer is already printed
"""


def test_qgis_opens_the_layers_with_their_styles(gpkg):
    """Independent check with QGIS itself (Debian's python3-qgis), when it is installed."""
    import json
    import subprocess

    probe = subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("QGIS (python3-qgis) is not installed")
    done = subprocess.run(["/usr/bin/python3", "-c", QGIS_SCRIPT, str(gpkg), "lsoas", "wards", "ward_profiles",
                           "assets"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(layer["ok"] for layer in got.values())
    lsoas = got["lsoas"]
    assert lsoas["type"] == "categorizedSymbol" and lsoas["attr"] == "imd_decile"
    assert [c[1] for c in lsoas["classes"][:10]] == [rgb(c) for c in DECILE_COLOURS]
    assert lsoas["classes"][0][0] == "1 most deprived"
    assert got["wards"]["type"] == "singleSymbol" and got["wards"]["labels"] is True
    profiles = got["ward_profiles"]
    assert profiles["type"] == "graduatedSymbol" and [c[1] for c in profiles["classes"]] == [
        rgb(c) for c in WARD_CLASS_COLOURS]
    assert got["assets"]["type"] == "categorizedSymbol" and got["assets"]["attr"] == "asset_type"
