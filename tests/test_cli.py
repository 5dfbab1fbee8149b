"""The geotarget command: run end to end on the bundled sample; errors; help for every command."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from geotarget.cli.main import build_parser, main


@pytest.fixture(scope="module")
def run_out(tees_run):
    """``geotarget run --out DIR -q`` on the whole sample: the session's shared run (conftest)."""
    return tees_run


def test_run_map_contains_every_tees_lsoa_code(run_out, sample25):
    html = (run_out / "imd2025_map.html").read_text(encoding="utf-8")
    missing = [c for c in sample25.lsoas.index if c not in html]
    assert missing == [] and len(sample25.lsoas) == 425
    assert "1 = most deprived 10%" in html
    assert "Open Government Licence" in html and "IoD2025" in html


def test_run_map_size_budget(run_out):
    assert (run_out / "imd2025_map.html").stat().st_size <= 3 * 1024 * 1024


def test_run_writes_joined_data(run_out):
    g = gpd.read_file(run_out / "imd2025_lsoas.gpkg", layer="lsoas")
    assert len(g) == 425 and g.crs.to_epsg() == 27700 and g["imd_decile"].notna().all()
    assert len(gpd.read_file(run_out / "imd2025_lsoas.gpkg", layer="wards")) == 103
    csv = pd.read_csv(run_out / "imd2025_lsoas.csv")
    assert len(csv) == 425 and {"lsoa_code", "ward_name", "imd_rank", "pop_total"} <= set(csv.columns)
    summary = pd.read_csv(run_out / "imd2025_councils.csv").set_index("lad_name")
    assert summary.loc["Middlesbrough", "lsoas"] == 90 and summary.loc["Middlesbrough", "lsoas_decile1"] == 45
    assert summary["population"].sum() == csv["pop_total"].sum()


def test_run_writes_ward_profiles(run_out):
    wards = pd.read_csv(run_out / "imd2025_wards.csv")
    assert len(wards) == 103 and wards["population"].sum() == 689_123
    assert {"area_code", "imd_average_score", "imd_rank_extent", "lad_name"} <= set(wards.columns)
    layer = gpd.read_file(run_out / "imd2025_lsoas.gpkg", layer="ward_profiles")
    assert len(layer) == 103 and layer["imd_local_concentration"].notna().all()


def test_run_prints_summary_per_council(tmp_path, capsys):
    assert main(["run", "--la", "middlesbrough", "Hartlepool", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Middlesbrough" in out and "45 (50.0%)" in out and "Hartlepool" in out and "Darlington" not in out
    assert str(tmp_path / "imd2025_map.html") in out
    assert "Ward profiles for 32 wards" in out and "national ward ranks need the England-wide IoD file" in out
    html = (tmp_path / "imd2025_map.html").read_text(encoding="utf-8")
    assert "E01011949" in html and "E01012304" not in html  # Hartlepool in, a Darlington LSOA out


def test_run_vintage_2019(tmp_path):
    assert main(["run", "--vintage", "2019", "--la", "E06000005", "--out", str(tmp_path), "-q"]) == 0
    csv = pd.read_csv(tmp_path / "imd2019_lsoas.csv")
    assert len(csv) == 65 and "IoD2019" in (tmp_path / "imd2019_map.html").read_text(encoding="utf-8")


def test_unknown_council_is_a_one_line_error(tmp_path, capsys):
    assert main(["run", "--la", "Gotham", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("geotarget run: error: council 'Gotham' matches no council") and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def test_every_command_has_help():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():
        assert sub.format_help().strip(), name
        assert subparsers._choices_actions and any(a.dest == name for a in subparsers._choices_actions)


def test_python_m_geotarget():
    r = subprocess.run([sys.executable, "-m", "geotarget", "run", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--vintage" in r.stdout


def test_run_writes_to_a_folder_of_its_place_beside_other_files(tmp_path, monkeypatch):
    """The quick start: `geotarget run` in a checkout (maps/ holds the screenshot) writes maps/tees_valley."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "screenshot.png").write_bytes(b"not ours")
    assert main(["run", "-q", "--la", "Hartlepool"]) == 0
    assert (tmp_path / "maps" / "tees_valley" / "imd2025_map.html").exists()
    assert (tmp_path / "maps" / "screenshot.png").read_bytes() == b"not ours"
