"""Provenance: manifests are complete, outputs are byte-identical between runs, failures are recorded."""

from __future__ import annotations

import hashlib
import json

import pytest

from geotarget import GeotargetError, load
from geotarget.cli.main import main
from geotarget.io.provenance import (
    TIME_FIELDS,
    Provenance,
    data_line,
    library_versions,
    read_manifest,
    sha256_file,
    verify_outputs,
    without_time,
)
from geotarget.jobs.run import run


def _digests(folder, skip=("manifest.json",)):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in skip}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    ra = run(load(councils=["Stockton-on-Tees", "Hartlepool"]), out=a)
    rb = run(load(councils=["Hartlepool", "Stockton-on-Tees"]), out=b)
    return a, b, ra, rb


def test_same_inputs_give_byte_identical_outputs(two_runs):
    a, b, _, _ = two_runs
    da, db = _digests(a), _digests(b)
    assert {"imd2025_lsoas.gpkg", "imd2025_lsoas.csv", "imd2025_wards.csv", "imd2025_councils.csv",
            "imd2025_map.html", "action_areas.gpkg", "action_areas.md", "hotspots/hotspots.gpkg",
            "clusters/clusters.gpkg", "clusters/cluster_profiles.png", "access/access.csv"} <= set(da)
    assert da == db  # every file: GeoPackages (timestamps pinned), the HTML map, the PNG chart
    ma, mb = read_manifest(a), read_manifest(b)
    assert set(TIME_FIELDS) <= set(ma)
    # the councils were given in another order, so the recorded parameters differ in order only
    assert sorted(ma["parameters"]["councils"]) == sorted(mb["parameters"]["councils"])
    mb["parameters"]["councils"] = ma["parameters"]["councils"]
    assert without_time(ma) == without_time(mb)


def test_manifest_is_complete(two_runs):
    a, _, ra, _ = two_runs
    m = read_manifest(a)
    assert ra.manifest == a / "manifest.json"
    assert m["command"] == "run" and m["status"] == "ok" and m["geotarget"]
    assert m["parameters"] == {"vintage": 2025, "councils": ["E06000004", "E06000001"], "map": True}
    roles = [i["role"] for i in m["inputs"]]
    assert roles == ["imd", "population", "boundaries", "lookup", "centroids", "assets"]
    for i in m["inputs"]:
        assert i["sha256"] == sha256_file(i["path"]) and i["bytes"] > 0
    assert m["inputs"][0]["vintage"] == "IoD2025, LSOA 2021 (MHCLG; bundled Tees Valley sample)"
    outputs = {o["path"]: o for o in m["outputs"]}
    assert set(outputs) == set(_digests(a))
    for name, o in outputs.items():
        assert o["sha256"] == sha256_file(a / name) and o["bytes"] == (a / name).stat().st_size
    for lib in ("numpy", "pandas", "geopandas", "shapely", "pyogrio", "pyproj", "libpysal", "scikit-learn",
                "folium", "GDAL", "GEOS", "PROJ"):
        assert m["libraries"][lib], lib
    assert m["platform"]["python"].startswith("3.")
    assert m["duration_seconds"] >= 0 and m["finished"] >= m["started"]
    assert verify_outputs(a) == []


def test_map_states_data_and_parameters(two_runs):
    a, _, _, _ = two_runs
    html = (a / "imd2025_map.html").read_text(encoding="utf-8")
    assert "Data: IoD2025, LSOA 2021 (MHCLG; bundled Tees Valley sample); population denominators mid-2022" in html
    assert "Parameters: councils = E06000001 Hartlepool, E06000004 Stockton-on-Tees." in html


def test_verify_outputs_detects_a_changed_file(tmp_path):
    with Provenance(tmp_path, command="test") as prov:
        f = tmp_path / "x.csv"
        f.write_text("a\n1\n")
        prov.add_output(f)
    assert verify_outputs(tmp_path) == []
    f.write_text("a\n2\n")
    assert verify_outputs(tmp_path) == [f"{f}: changed since the manifest was written (SHA-256 differs)"]
    f.unlink()
    assert "missing" in verify_outputs(tmp_path)[0]


def test_failure_after_outputs_is_recorded_and_before_outputs_writes_nothing(tmp_path):
    with pytest.raises(GeotargetError), Provenance(tmp_path / "none", command="test"):
        raise GeotargetError("boom")
    assert not (tmp_path / "none").exists()
    with pytest.raises(GeotargetError, match="late"):
        with Provenance(tmp_path, command="test", parameters={"k": 3}) as prov:
            f = tmp_path / "part.csv"
            f.write_text("x\n")
            prov.add_output(f)
            raise GeotargetError("late")
    m = read_manifest(tmp_path)
    assert m["status"] == "failed" and m["error"] == "GeotargetError: late" and m["outputs"][0]["path"] == "part.csv"


def test_inputs_are_recorded_once_and_parameters_made_plain(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a\n")
    prov = Provenance(tmp_path / "out", command="t", parameters={"path": src, "ks": (1, 2), "s": {"b", "a"}})
    prov.add_input(src, role="imd", vintage="IoD2025")
    prov.add_input(src, role="imd", vintage="IoD2025")
    d = prov.to_dict()
    assert len(d["inputs"]) == 1 and d["inputs"][0]["sha256"] == hashlib.sha256(b"a\n").hexdigest()
    assert d["parameters"] == {"path": str(src), "ks": [1, 2], "s": ["a", "b"]}
    json.dumps(d)  # serialisable
    assert prov.data_line({"n": 3}) == "Data: IoD2025. Parameters: n = 3."
    assert prov.markdown().startswith("*Data: IoD2025. Parameters: path = ")


def test_data_line_formats():
    assert data_line([]) == "Data: not stated."
    assert data_line(["A", "A", "", "B"], {"x": [], "y": None, "z": False, "w": {"a": 1}}) == \
        "Data: A; B. Parameters: x = none; y = none; z = no; w = a 1."


def test_library_versions_include_c_libraries():
    v = library_versions()
    assert v["GDAL"].count(".") >= 1 and v["GEOS"] and v["PROJ"]


def test_aggregate_writes_a_manifest_beside_its_csv(tmp_path):
    out = tmp_path / "lads.csv"
    assert main(["aggregate", "--to", "lad", "--out", str(out), "-q"]) == 0
    m = json.loads((tmp_path / "lads.csv.manifest.json").read_text())
    assert m["command"] == "aggregate" and m["parameters"]["to"] == "lad"
    assert [i["role"] for i in m["inputs"]] == ["imd", "population", "lookup", "centroids"]
    assert m["outputs"] == [{"path": "lads.csv", "sha256": sha256_file(out), "bytes": out.stat().st_size}]


def test_aggregate_from_a_file_records_its_vintage(tmp_path):
    from tests.conftest import ROOT

    imd = ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv"
    pop = ROOT / "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv"
    out = tmp_path / "l.csv"
    assert main(["aggregate", "--imd", str(imd), "--population", str(pop), "--to", "lad", "--out", str(out),
                 "-q"]) == 0
    m = json.loads((tmp_path / "l.csv.manifest.json").read_text())
    assert [(i["role"], i["vintage"]) for i in m["inputs"]] == [("imd", "IoD2025"), ("population", None)]
