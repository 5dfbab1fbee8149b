"""The [cluster], [hotspots] and [inequality] sections of a study file run through geotarget run --config."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd

from geotarget.cli.main import main
from geotarget.study.schema import study_template


def test_study_file_runs_the_three_sections(tmp_path):
    text = study_template(councils=["Middlesbrough", "Stockton-on-Tees"]).replace("map = true", "map = false")
    text += """
[cluster]
level = "ward"
k = 4
reference = "region"

[hotspots]
indicator = "income"
permutations = 999

[inequality]
indicator = "health_score"
deciles = "local"
repetitions = 2000
"""
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", "--config", str(path), "--out", str(out), "-q"]) == 0
    c = gpd.read_file(out / "clusters.gpkg", layer="clusters")
    assert {"area_code", "cluster", "label"} <= set(c.columns) and c["cluster"].nunique() == 4
    assert c["lad_code"].isin(["E06000002", "E06000004"]).all()
    h = gpd.read_file(out / "hotspots.gpkg", layer="hotspots")
    assert len(h) == 90 + 124 and {"statistic", "p_fdr", "category"} <= set(h.columns)
    ineq = pd.read_csv(out / "inequality.csv")
    assert ineq["indicator"].tolist() == ["health_score"] and (ineq["deciles"] == "local").all()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    text = json.dumps(manifest)
    assert "clusters.gpkg" in text and "hotspots.gpkg" in text and "inequality.csv" in text
