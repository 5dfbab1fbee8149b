"""Study files: template, strict validation (key and line), defaults = plain run, registry, England."""

from __future__ import annotations

import hashlib
import textwrap

import pandas as pd
import pytest

from geotarget import AreaNotFoundError, ConfigError, SchemaError
from geotarget.cli.main import main
from geotarget.io.provenance import read_manifest, without_time
from geotarget.study.pipeline import REGISTRY, register, run_study
from geotarget.study.schema import SECTIONS, key_lines, load_study, parse_study, study_template
from tests.conftest import ROOT


def _study(text: str, tmp_path, name="study.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(".json")}


# ----------------------------------------------------------------------------- parsing and defaults

def test_template_parses_and_names_every_section(tmp_path):
    text = study_template()
    s = parse_study(text, path=tmp_path / "s.toml")
    assert s.vintage == 2025 and s.data.source == "sample" and s.output.map
    assert s.place.councils == ("Hartlepool", "Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees", "Darlington")
    assert s.output.folder == tmp_path / "maps"
    assert dict(s.analyses["aggregate"]) == {"to": ("ward",), "method": "best-fit"}
    for section in SECTIONS:
        if section:
            assert f"[{section}]" in text, section
    # every commented-out analysis section is valid when uncommented (except a sites file, which must exist)
    head, mark, tail = text.partition("# Analyses below")
    on = head + mark + "\n".join(line[2:] if line.startswith("# ") and ("[" in line[:3] or " = " in line)
                           and "sites" not in line else line for line in tail.splitlines())
    s2 = parse_study(on, path=tmp_path / "s.toml")
    assert set(s2.analyses) == {"aggregate", "target", "cluster", "hotspots", "inequality", "access", "hia"}
    assert dict(s2.analyses["target"]["weights"]) == {"jobs": 2, "learning": 1, "housing_environment": 1,
                                                      "health": 1, "crime": 1, "access": 1}
    assert s2.analyses["cluster"]["k"] == "auto" and s2.analyses["hia"]["buffer"] == (800, 2000)


def test_default_study_reproduces_plain_run_byte_for_byte(tmp_path, tees_run):
    plain, studied = tees_run, tmp_path / "studied"  # plain: `geotarget run --out DIR -q`, shared (conftest)
    path = tmp_path / "study.toml"
    path.write_text(study_template(), encoding="utf-8")
    assert main(["run", "--config", str(path), "--out", str(studied), "-q"]) == 0
    assert _digests(plain) == _digests(studied) and len(_digests(plain)) >= 5
    m = read_manifest(studied)
    assert m["command"] == "run --config" and m["inputs"][0]["role"] == "study"
    assert m["parameters"]["study"]["place"]["councils"][3] == "Stockton-on-Tees"
    # the manifest of the plain run lists the same data files
    plain_inputs = [i["sha256"] for i in read_manifest(plain)["inputs"]]
    assert [i["sha256"] for i in m["inputs"][1:]] == plain_inputs


def test_init_writes_the_template_to_stdout(capsys, tmp_path):
    assert main(["init", "--la", "stockton"]) == 0
    text = capsys.readouterr().out
    s = parse_study(text, path=tmp_path / "x.toml")
    assert s.place.councils == ("Stockton-on-Tees",) and s.title == "Deprivation in Stockton-on-Tees"


def test_init_for_a_council_outside_the_sample_uses_official_files(capsys, tmp_path):
    assert main(["init", "--la", "Trafford", "--cache", str(tmp_path / "cache")]) == 0
    captured = capsys.readouterr()
    assert "not all in the bundled Tees Valley sample" in captured.err
    assert 'source = "files"' in captured.out and 'councils = ["Trafford"]' in captured.out
    with pytest.raises(ConfigError, match=r"line \d+: \[data\] imd: file not found: .*iod2025/File_7_IoD2025"):
        parse_study(captured.out, path=tmp_path / "t.toml")


def test_init_england_maps_nothing_by_default(capsys, tmp_path):
    assert main(["init", "--england"]) == 0
    out = capsys.readouterr().out
    assert "england = true" in out and "map = false" in out and "lad24-regions" in out


def test_stockton_study_end_to_end(tmp_path):
    res = run_study(ROOT / "examples/stockton.toml", out=tmp_path)
    assert set(res.run.summary.index) == {"E06000004"} and res.run.summary.loc["E06000004", "lsoas"] == 124
    assert res.run.summary.loc["E06000004", "lsoas_decile1"] == 24
    msoas = pd.read_csv(res.outputs["aggregate.msoa"])
    assert len(msoas) == 26 and msoas["population"].sum() == res.run.summary["population"].sum()
    assert res.run.title == "Deprivation in Stockton-on-Tees"
    html = (tmp_path / "imd2025_map.html").read_text(encoding="utf-8")
    assert "Parameters: councils = E06000004 Stockton-on-Tees." in html
    m = read_manifest(tmp_path)
    assert {o["path"] for o in m["outputs"]} >= {"imd2025_msoas.csv", "imd2025_map.html", "imd2025_lsoas.gpkg"}
    assert [s.name for s in res.stages][-1] == "[aggregate]"


def test_custom_areas_and_councils_in_a_study(tmp_path, sample25):
    areas = sample25.wards.reset_index()[["ward_code", "ward_name", "geometry"]].head(10)
    areas.to_file(tmp_path / "areas.gpkg")
    p = _study("""
        [aggregate]
        to = ["ward", "lad", "custom"]
        areas = "areas.gpkg"
        area_id = "ward_code"
        area_name = "ward_name"
        [output]
        map = false
    """, tmp_path)
    res = run_study(p)
    assert "map" not in res.run.outputs and not (tmp_path / "maps" / "imd2025_map.html").exists()
    custom = pd.read_csv(res.outputs["aggregate.custom"])
    lads = pd.read_csv(res.outputs["aggregate.lad"])
    assert len(custom) == 10 and len(lads) == 5
    assert any(i["role"] == "areas" for i in read_manifest(tmp_path / "maps")["inputs"])


def test_same_study_twice_gives_identical_outputs_and_manifests(tmp_path):
    p = _study("""
        [place]
        councils = ["Darlington"]
        [aggregate]
        to = ["ward", "msoa"]
    """, tmp_path)
    a, b = run_study(p, out=tmp_path / "a"), run_study(p, out=tmp_path / "b")
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    ma, mb = read_manifest(a.manifest), read_manifest(b.manifest)
    assert without_time(ma) == without_time(mb) and ma["started"]


# ----------------------------------------------------------------------------- validation errors

@pytest.mark.parametrize("body, message", [
    ('[place]\ncounciles = ["Stockton-on-Tees"]\n',
     r"study.toml, line 2: \[place\] counciles: unknown key 'counciles' in \[place\]; did you mean 'councils'\?"),
    ('vintage = 2025\n\n[plase]\ncouncils = ["x"]\n',
     r"study.toml, line 3: \[plase\]: unknown section \[plase\]; did you mean 'place'\?"),
    ('titel = "x"\n', r"line 1: titel: unknown key 'titel' at the top level; did you mean 'title'\?"),
    ("vintage = 2020\n", r"line 1: vintage: 2020 is not allowed; expected one of 2019, 2025"),
    ('vintage = "2025"\n', r"line 1: vintage: '2025' is not a whole number"),
    ('[output]\nmap = "yes"\n', r"line 2: \[output\] map: 'yes' is not true or false"),
    ('[aggregate]\nto = ["wards"]\n', (r"line 2: \[aggregate\] to: 'wards' is not allowed; expected one of "
                                       r"'ward', 'lad', 'msoa', 'region', 'icb', 'lrf', 'cauth', 'groups', 'custom'; "
                                       r"did you mean 'ward'\?")),
    ('[target]\nmax_decile = 11\n', r"line 2: \[target\] max_decile: 11 is out of range; expected between 1 and 10"),
    ('[target]\nmax_decile = true\n', r"line 2: \[target\] max_decile: True is not a whole number"),
    ('[target]\nweights = { jbos = 1 }\n',
     r"line 2: \[target\] weights.jbos: unknown key 'weights.jbos' in \[target\]; did you mean 'weights.jobs'\?"),
    ('[hotspots]\nalpha = 1.5\n', r"line 2: \[hotspots\] alpha: 1.5 is out of range; expected between 0 and 1"),
    ('[cluster]\nk = "many"\n', r"line 2: \[cluster\] k: 'many' is not a whole number or 'auto'"),
    ('[access]\nradius = [400, -1]\n', r"line 2: \[access\] radius: -1 is out of range; expected at least 1"),
    ('[place]\ncouncils = []\n', r"line 2: \[place\] councils: \[\] is not a non-empty list"),
    ('[place]\ncouncils = ["Hartlepool"]\nregion = "North East"\n',
     r"line 3: \[place\] region: give one of councils, region or england, not councils and region"),
    ('[data]\nimd = "nope.csv"\n', r"line 2: \[data\] imd: file not found: .*nope.csv"),
    ('[data]\nsource = "files"\n', r'line 1: \[data\]: source = "files" needs imd = "..." \(missing\)'),
    ('[output]\nmap = false\nmap_councils = ["Hartlepool"]\n',
     r"line 3: \[output\] map_councils: map_councils has no effect with map = false"),
    ('[aggregate]\nto = ["custom"]\n', r"line 2: \[aggregate\] to: to = 'custom' needs areas"),
    ("place = 3\n", r"line 1: place: \[place\] is a section; write it as a table header \[place\]"),
    ("[place\n", r"study.toml: not valid TOML: .*line 1"),
])
def test_errors_name_key_and_line(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_study(_study(body, tmp_path))


def test_sample_source_rejects_file_keys(tmp_path):
    (tmp_path / "imd.csv").write_text("x\n")
    with pytest.raises(ConfigError, match=r'line 3: \[data\] imd: imd is only used with source = "files"'):
        load_study(_study('[data]\nsource = "sample"\nimd = "imd.csv"\n', tmp_path))


def test_unknown_council_at_run_time_names_the_line(tmp_path):
    p = _study('title = "x"\n\n[place]\ncouncils = ["Gotham"]\n', tmp_path)
    with pytest.raises(AreaNotFoundError, match=r"study.toml, line 4: \[place\] councils: council 'Gotham' matches "):
        run_study(p)


def test_vintage_must_match_the_iod_file(tmp_path):
    p = _study(f"""
        vintage = 2019
        [place]
        councils = ["Hartlepool"]
        [data]
        source = "files"
        imd = "{ROOT}/data/imd/iod2025_lsoa21_tees_valley.csv"
        population = "{ROOT}/data/population/iod2025_population_denominators_lsoa21_tees_valley.csv"
        boundaries = "{ROOT}/boundaries/tees_valley.gpkg"
        boundaries_layer = "lsoa21"
        lookup = "{ROOT}/data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv"
    """, tmp_path)
    with pytest.raises(ConfigError, match=r"study.toml, line 1: vintage: vintage = 2019 but "
                                          r".*iod2025_lsoa21_tees_valley"
                                          r".csv holds IoD2025 \(on LSOA 2021\); set vintage = 2025"):
        run_study(p)
    p.write_text(p.read_text().replace("vintage = 2019", "vintage = 2025"))
    res = run_study(p)
    assert res.run.summary.loc["E06000001", ["lsoas", "lsoas_decile1"]].tolist() == [57, 24]


def test_missing_study_file(tmp_path):
    with pytest.raises(ConfigError, match="nope.toml: study file not found"):
        load_study(tmp_path / "nope.toml")


def test_cli_config_conflicts_with_la(tmp_path, capsys):
    p = _study("vintage = 2025\n", tmp_path)
    assert main(["run", "--config", str(p), "--la", "Hartlepool"]) == 2
    assert "--la cannot be combined with --config" in capsys.readouterr().err


def test_key_lines_handles_multiline_arrays_strings_and_dotted_keys():
    text = textwrap.dedent('''
        title = """a
        councils = 'not a key'
        """
        [place]
        councils = [
          "A",   # a comment with [brackets]
          "B",
        ]
        region = "x"
        [access]
        thresholds = { gp = 800 }
        "quoted key" = 1
        a.b = 2
    ''').lstrip("\n")
    lines = key_lines(text)
    assert lines[("title",)] == 1 and ("councils",) not in lines
    assert lines[("place",)] == 4 and lines[("place", "councils")] == 5 and lines[("place", "region")] == 9
    assert lines[("access", "thresholds")] == 11 and lines[("access", "quoted key")] == 12
    assert lines[("access", "a", "b")] == 13


# ----------------------------------------------------------------------------- the registry

def test_section_without_capability_is_a_clear_error(tmp_path, monkeypatch):
    p = _study('[place]\ncouncils = ["Hartlepool"]\n\n[cluster]\nk = 4\n', tmp_path)
    monkeypatch.delitem(REGISTRY, "cluster", raising=False)  # as in an installation without it
    with pytest.raises(ConfigError, match=r"study.toml, line 4: \[cluster\]: this section needs area typologies "
                                          r"\(geotarget cluster\), which this installation"):
        run_study(p, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # checked before anything runs


def test_registered_runner_plugs_in_and_its_outputs_enter_the_manifest(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "hotspots", REGISTRY.get("hotspots"))  # restored after the test
    seen = {}

    @register("hotspots")
    def _fake(ctx, params):
        seen.update(params)
        top = ctx.data.lsoas.sort_values(params["indicator"], ascending=False).head(params["permutations"] // 100)
        path = ctx.out / "top.csv"
        top[[params["indicator"]]].to_csv(path)
        return {"top": path}

    p = _study('[place]\ncouncils = ["Middlesbrough"]\n[output]\nmap = false\n'
               '[hotspots]\nindicator = "imd_score"\npermutations = 999\n', tmp_path)
    res = run_study(p)
    # the keys the file sets, plus the defaults of the section's params model (HotspotsParams)
    from geotarget.jobs.params import HotspotsParams

    defaults = {k: v for k, v in HotspotsParams().as_dict().items() if v is not None}
    assert seen == {**defaults, "indicator": "imd_score", "permutations": 999}
    top = pd.read_csv(res.outputs["hotspots.top"])
    assert len(top) == 9 and top["imd_score"].is_monotonic_decreasing
    assert "top.csv" in {o["path"] for o in read_manifest(res.manifest)["outputs"]}


def test_errors_inside_a_section_name_the_section(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "inequality", None)

    @register("inequality")
    def _bad(ctx, params):
        raise SchemaError(f"column {params['indicator'][0]!r} not found")  # a list: one or more indicators

    p = _study('[place]\ncouncils = ["Darlington"]\n[output]\nmap = false\n\n[inequality]\nindicator = "nope"\n',
               tmp_path)
    with pytest.raises(SchemaError, match=r"study.toml, line 6: \[inequality\]: column 'nope' not found"):
        run_study(p)


def test_register_rejects_unknown_sections():
    with pytest.raises(ValueError, match="section was 'targets'"):
        register("targets", lambda ctx, p: {})


# ----------------------------------------------------------------------------- England

def test_england_study(shared_data, tmp_path):
    """All England from the official files, without the map: 33,755 LSOAs, 296 councils, national ranks."""
    # the example's paths are relative to the repository (../../shared/data); point them at the data found
    text = (ROOT / "examples/england.toml").read_text(encoding="utf-8")
    path = tmp_path / "england.toml"
    path.write_text(text.replace("../../shared/data", shared_data.as_posix()), encoding="utf-8")
    res = run_study(path, out=tmp_path / "out")
    s = res.run.summary
    assert len(res.run.lsoas) == 33_755 and len(s) == 296
    assert s["lsoas_decile1"].sum() == 3_375 and s.loc["E06000002", "lsoas_decile1"] == 45
    lads = pd.read_csv(res.outputs["aggregate.lad"]).set_index("area_code")
    assert len(lads) == 296 and lads.loc["E06000002", "imd_rank_average_score"] <= 5  # Middlesbrough, as published
    # the ward profiles equal those computed straight from the files, without boundaries (national ward ranks)
    from geotarget import add_population, read_imd, read_lsoa_lookup, read_population
    from geotarget.analysis.aggregate import aggregate, in_most_deprived

    imd = add_population(read_imd(shared_data / "imd/iod2025_lsoa21_england.csv.gz")[0],
                         read_population(shared_data / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz"))
    lk = read_lsoa_lookup(shared_data / "lookups/lsoa21_ward24_lad24_ew.csv.gz")
    direct = aggregate(imd, to="ward", lookup=lk[lk.index.isin(imd.index)], vintage=2025)
    wards = res.run.ward_profiles
    pd.testing.assert_frame_equal(wards[direct.columns], direct, check_dtype=False)
    assert len(wards) > 6_700 and wards["population"].sum() == s["population"].sum()
    stockton = wards[wards["lad_code"] == "E06000004"]
    top = int((stockton["imd_rank_average_score"] <= int(0.1 * len(wards))).sum())
    assert top == in_most_deprived(direct).loc["E06000004", "average_score"] and 0 < top < len(stockton) == 27
    msoas = pd.read_csv(res.outputs["aggregate.msoa"])
    assert len(msoas) == 6_856
    m = read_manifest(tmp_path / "out")
    assert m["status"] == "ok" and {i["role"] for i in m["inputs"]} >= {"study", "imd", "population", "boundaries",
                                                                          "lookup", "lads", "msoas"}
    assert any("Ward outlines are approximate" in n for n in m["notes"])
    assert "map" not in res.run.outputs


def test_region_study_from_official_files(shared_data, tmp_path):
    """A region of the England files, mapped: the Tees Valley councils agree with the bundled sample."""
    p = _study(f"""
        [place]
        region = "north east"
        [data]
        source = "files"
        imd = "{shared_data}/imd/iod2025_lsoa21_england.csv.gz"
        population = "{shared_data}/population/ons_sape_mid2022_lsoa21_total_england.csv.gz"
        boundaries = "{shared_data}/boundaries/england_boundaries_generalised.gpkg"
        boundaries_layer = "lsoa21"
        lookup = "{shared_data}/lookups/lsoa21_ward24_lad24_ew.csv.gz"
        regions = "{shared_data}/lookups/lad24_region24_england.csv"
        [output]
        map_councils = ["Stockton-on-Tees"]
    """, tmp_path)
    res = run_study(p)
    s = res.run.summary
    assert len(s) == 12 and res.run.title == "Deprivation in North East"
    sample = run_study(ROOT / "examples/stockton.toml", out=tmp_path / "sample").run.summary
    assert s.loc["E06000004", ["lsoas", "lsoas_decile1"]].tolist() == [124, 24]
    assert sample.loc["E06000004", ["lsoas", "lsoas_decile1"]].tolist() == [124, 24]
    html = (tmp_path / "maps" / "imd2025_map.html").read_text(encoding="utf-8")
    assert "This map shows 124 of the LSOAs: Stockton-on-Tees." in html and "E01012304" not in html


def test_access_and_hia_sections_run_with_their_parameters(tmp_path):
    import json

    import pandas as pd

    from geotarget.jobs.access import assess_access, sample_assets
    from geotarget.study.pipeline import run_study
    from geotarget.study.schema import load_study

    path = tmp_path / "s.toml"
    path.write_text('[place]\ncouncils = ["Stockton-on-Tees"]\n\n[output]\nmap = false\n\n'
                    '[access]\nradius = [400, 800]\nthresholds = { gp = 1000 }\n\n'
                    '[hia]\nsite = "TS18 1AU"\nname = "Central <b>Stockton</b>"\n', encoding="utf-8")
    run_study(load_study(path), out=tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "access" / "access.csv")
    assert "n_gp_400m" in table.columns and "n_gp_1600m" not in table.columns
    from geotarget.data import load

    data = load(councils=["Stockton-on-Tees"])
    read, _, _ = sample_assets(data)
    from geotarget.analysis.deserts import DEFAULT_THRESHOLDS

    # a threshold in the study overrides that category's default; the other defaults stay
    direct = assess_access(data, read, radii=(400, 800),
                           thresholds={**DEFAULT_THRESHOLDS, "gp": 1000})
    assert table.set_index("lsoa_code")["dist_gp_m"].round(1).equals(direct.access["dist_gp_m"].round(1))
    deserts = pd.read_csv(tmp_path / "out" / "access" / "asset_deserts.csv")
    assert len(deserts) == len(direct.deserts)
    reports = list((tmp_path / "out" / "hia").glob("*.json"))
    assert len(reports) == 1
    assert json.loads(reports[0].read_text())["site_name"] == "Central <b>Stockton</b>"
    html = reports[0].with_suffix(".html").read_text()
    assert "<b>Stockton</b>" not in html and "&lt;b&gt;Stockton&lt;/b&gt;" in html
