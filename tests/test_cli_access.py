"""geotarget access, and geotarget run --place trafford, end to end."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from geotarget.cli.main import main

from .conftest import FIXTURES


@pytest.fixture(scope="module")
def messy_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("access")
    assert main(["access", "--assets", str(FIXTURES / "assets_messy.csv"), "--category-column", "Type",
                 "--map-category", "Allotment=park", "--out", str(out), "-q"]) == 0
    return out


def test_contract_outputs(messy_out, sample25):
    acc = pd.read_csv(messy_out / "access.csv")
    assert len(acc) == 425 and acc["lsoa_code"].tolist() == sorted(sample25.centroids.index)
    assert {"dist_gp_m", "n_gp_400m", "n_gp_800m", "n_gp_1600m", "per1k_gp", "dist_library_m",
            "n_library_800m", "dist_park_m"} <= set(acc.columns)
    rej = pd.read_csv(messy_out / "rejects.csv")
    assert rej["row"].tolist() == [5, 6, 7, 8, 13, 17, 18]
    assert {"row", "reason", "detail", "Asset Name"} <= set(rej.columns)
    deserts = pd.read_csv(messy_out / "asset_deserts.csv")
    assert (deserts["imd_decile"] <= 2).all() and deserts["rank"].tolist() == list(range(1, len(deserts) + 1))
    kpis = pd.read_csv(messy_out / "kpis.csv")
    assert set(kpis["area_type"]) == {"lad", "ward"} and len(kpis) == 5 + 103
    # "The Seaton Carew Library" (TS25 1BN) and "Seaton Carew Library" (452269,529844): one library, counted once
    hartlepool = kpis.set_index("area_name").loc["Hartlepool"]
    assert hartlepool["n_library"] == 1 and hartlepool["duplicates_removed"] == 1
    assert kpis.loc[kpis["area_type"] == "lad", "duplicates_removed"].sum() == 1
    layers = [n for n, _ in pyogrio.list_layers(messy_out / "assets.gpkg")]
    assert layers[:3] == ["assets", "targets", "access"] and "asset_deserts" in layers
    assets = gpd.read_file(messy_out / "assets.gpkg", layer="assets")
    assert len(assets) == 10 and assets.crs.to_epsg() == 27700 and "popup" in assets


def test_summary_printed(tmp_path, capsys):
    assert main(["access", "--assets", str(FIXTURES / "assets_messy.csv"), "--category-column", "Type",
                 "--la", "Stockton-on-Tees", "--threshold", "gp=1000", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "17 rows -> 10 assets" in out and "rejected, unknown_postcode: 2 (rows 6, 18; see rejects.csv)" in out
    assert "Stockton-on-Tees: gp" in out and "Middlesbrough" not in out
    assert str(tmp_path / "rejects.csv") in out
    d = pd.read_csv(tmp_path / "asset_deserts.csv")
    assert (d.loc[d["category"] == "gp", "threshold_m"] == 1000).all()


def test_sample_trafford_with_parks(tmp_path, capsys):
    assert main(["access", "--assets", "sample", "--place", "trafford", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mean size of the nearest park" in out and "96 sites of type Public Park Or Garden, Playing Field" in out
    kpis = pd.read_csv(tmp_path / "kpis.csv")
    assert {"mean_dist_park_m", "mean_nearest_size_park_ha", "n_park", "mean_size_park_ha"} <= set(kpis.columns)
    targets = gpd.read_file(tmp_path / "assets.gpkg", layer="targets")
    assert set(targets.loc[targets["category"] == "park", "target"]) == {"access point", "site edge"}


def test_assets_default_to_the_study_s_own(tmp_path, capsys):
    """Without --assets the study's own assets are used, exactly as with --assets sample."""
    assert main(["access", "--la", "Hartlepool", "--out", str(tmp_path / "default")]) == 0
    assert main(["access", "--assets", "sample", "--la", "Hartlepool", "--out", str(tmp_path / "sample")]) == 0
    for name in ("access.csv", "kpis.csv", "asset_deserts.csv"):
        assert (tmp_path / "default" / name).read_bytes() == (tmp_path / "sample" / name).read_bytes(), name


def test_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,type\nA,gp\n", encoding="utf-8")
    assert main(["access", "--assets", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("geotarget access: error: ") and "no location columns" in err and "\n" not in err
    assert not (tmp_path / "o").exists()
    assert main(["access", "--assets", str(FIXTURES / "assets_messy.csv"), "--category-column", "Type",
                 "--threshold", "gp", "--out", str(tmp_path / "o")]) == 2
    assert "--threshold 'gp': expected CATEGORY=M pairs" in capsys.readouterr().err


def test_run_place_trafford(tmp_path, capsys):
    assert main(["run", "--place", "trafford", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Deprivation in Trafford — IoD2025, LSOA 2021" in out and "Trafford" in out
    html = (tmp_path / "imd2025_map.html").read_text(encoding="utf-8")
    assert "E01006074" in html and "E01011949" not in html  # a Trafford LSOA in, a Hartlepool one out
    csv = pd.read_csv(tmp_path / "imd2025_lsoas.csv")
    assert len(csv) == 139 and csv["pop_total"].sum() == 236_301
    assert len(pd.read_csv(tmp_path / "imd2025_wards.csv")) == 21
