"""The bundled Tees Valley sample: counts, completeness, size, reproducible build."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import pytest

from geotarget import AreaNotFoundError, load_sample

from .conftest import ROOT, TEES_COUNTS_2019, TEES_COUNTS_2025


def test_iod2025_counts_per_council(sample25):
    assert sample25.lsoas.groupby("lad_name").size().to_dict() == TEES_COUNTS_2025
    assert sample25.vintage.name == "IoD2025" and sample25.lsoas.attrs["lsoa_year"] == 2021


def test_iod2019_counts_per_council(sample19):
    assert sample19.lsoas.groupby("lad_name").size().to_dict() == TEES_COUNTS_2019
    assert sample19.vintage.name == "IoD2019" and sample19.lsoas.attrs["lsoa_year"] == 2011


@pytest.mark.parametrize("name", ["sample25", "sample19"])
def test_join_completeness_is_100_percent(name, request):
    s = request.getfixturevalue(name)
    core = ["imd_score", "imd_rank", "imd_decile", "pop_total", "pop_working_age", "ward_code", "ward_name",
            "msoa_code", "lad_code", "lad_name"]
    assert s.lsoas[core].notna().all().all()
    assert s.lsoas.index.isin(s.centroids.index).all()
    # every LSOA's ward is one of the council's wards, and LSOAs nest in the councils' outline
    assert s.lsoas["ward_code"].isin(s.wards.index).all()
    assert s.lsoas["msoa_code"].isin(s.msoas.index).all()


def test_population_denominators_are_the_iod_ones(sample25, sample19):
    # IoD2025 File 7 mid-2022 and IoD2019 mid-2015 totals for Hartlepool 009A (E01011949)
    assert sample25.lsoas.loc["E01011949", "pop_total"] == 1870
    assert sample25.lsoas.loc["E01011949", "pop_working_age"] == 1163
    assert sample19.lsoas.loc["E01011949", "pop_total"] == 2009


def test_councils_by_name_case_insensitive(sample25):
    s = load_sample(2025, councils=["stockton", "MIDDLESBROUGH", "E06000001"])
    assert s.councils == ("E06000004", "E06000002", "E06000001")
    assert len(s.lsoas) == 124 + 90 + 57 and set(s.lsoas["lad_code"]) == set(s.councils)
    assert set(s.wards["lad_code"]) == set(s.councils) and len(s.lads) == 3
    with pytest.raises(AreaNotFoundError, match=r"council 'Leeds' matches no council; expected .*E06000005 Darlington"):
        load_sample(2025, councils=["Leeds"])


def test_assets_are_bundled(sample25):
    counts = sample25.assets["asset_type"].value_counts().to_dict()
    assert counts == {"pharmacy": 136, "gp_practice": 78, "library": 39, "hospital": 15}
    assert sample25.assets.crs.to_epsg() == 27700


def test_sample_size_budget():
    total = sum(f.stat().st_size for d in ("boundaries", "data") for f in (ROOT / d).rglob("*") if f.is_file())
    assert total <= 25 * 1024 * 1024


def _digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for d in ("boundaries", "data") for p in sorted((root / d).rglob("*"))
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}


@pytest.mark.slow  # > 5 s on a 2-core machine (pytest --durations)
def test_build_script_reproduces_the_committed_files(shared_data, tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copy(ROOT / "data/build_sample.py", tmp_path / "data/build_sample.py")
    subprocess.run([sys.executable, str(tmp_path / "data/build_sample.py"), "--source", str(shared_data),
                    "--out", str(tmp_path)], check=True, capture_output=True)
    assert _digests(tmp_path) == _digests(ROOT)
