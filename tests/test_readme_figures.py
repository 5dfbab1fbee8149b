"""The README's measured figures come from benchmarks/ and are regenerated, not typed.

Every speed or size sits between ``<!-- fig:NAME -->`` markers (benchmarks/readme_figures.py): each
names a known figure whose benchmark exists and whose committed results say exactly what the README
says; the cheap figures are measured again here; no measured figure is left outside a marker.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks import readme_figures as rf
from benchmarks.bench_run import bundled_sample_bytes

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: A size, a duration or a ratio, as a measured figure is written in prose.
MEASURED = re.compile(
    r"(?<![\w.])~?\d[\d,]*(?:\.\d+)?(?:\s?[–-]\s?\d[\d,]*(?:\.\d+)?)?\s?"
    r"(?:[kKMGT]B|ms|s|seconds?|minutes?|hours?)\b"
    r"|(?<![\w.])\d+(?:\.\d+)?\s?x\s+(?:larger|smaller|faster|slower)\b")
#: Declared values, not measurements: defaults, budgets and targets ("default 60 s", "budget 8 GB").
DECLARED = re.compile(r"(?:default|budget|target|limit|at most)\W{0,3}$", re.IGNORECASE)


def readme() -> str:
    return README.read_text(encoding="utf-8")


def prose(text: str) -> str:
    """Return the README without code blocks, inline code, figure spans and HTML comments; lines joined."""
    text = re.sub(r"^```.*?^```", " ", text, flags=re.S | re.M)
    text = rf.MARKER.sub(" FIGURE ", text)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", " CODE ", text)
    return re.sub(r"\s+", " ", text)


def results() -> dict:
    return rf.load_results(f.result for f in rf.FIGURES.values())


def span_texts(key: str) -> list[str]:
    return [m["text"] for m in rf.spans(readme()) if m["key"] == key]


def test_every_marker_names_a_known_figure_with_its_benchmark_and_results():
    found = rf.spans(readme())
    assert len(found) >= 15
    res = results()
    for m in found:
        key = m["key"]
        assert key in rf.FIGURES, f"README figure {key!r} is not in benchmarks/readme_figures.py FIGURES"
        fig = rf.FIGURES[key]
        assert (ROOT / "benchmarks" / fig.script).is_file(), fig.script
        assert fig.result in res, f"benchmarks/results/{fig.result}.json is missing: run benchmarks/{fig.script}"
        assert set(fig.keys) <= set(res[fig.result]["figures"]), (key, fig.keys)
    for key, fig in rf.FIGURES.items():  # the registry names only scripts that exist
        assert (ROOT / "benchmarks" / fig.script).is_file(), (key, fig.script)


def test_results_files_say_how_they_were_measured():
    for path in sorted((ROOT / "benchmarks" / "results").glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        assert rec["benchmark"] == path.stem and rec["command"].startswith("python benchmarks/bench_")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rec["measured"]) and rec["machine"]["cpus"]
        assert all(isinstance(v, (int, float, str)) for v in rec["figures"].values())


def test_readme_figures_are_what_their_results_say():
    """``python benchmarks/readme_figures.py --check`` passes: no span was typed or left stale."""
    assert rf.stale(readme(), results()) == []
    assert rf.main(["--check"]) == 0


def test_cheap_figures_measured_again(tees_run, sample25):
    """The map of the bundled ``geotarget run``, the sample's assets, postcodes and size, measured here."""
    figs = rf.FIGURES
    size_mb = (tees_run / "imd2025_map.html").stat().st_size / 1e6
    assert span_texts("run_map_mb") and set(span_texts("run_map_mb")) == {figs["run_map_mb"].text(size_mb)}, (
        "the map of geotarget run changed size: run python benchmarks/readme_figures.py --run bench_run.py")
    assert set(span_texts("run_assets")) == {figs["run_assets"].text(len(sample25.assets))}
    pcs = sample25.postcode_index
    assert set(span_texts("run_postcodes")) == {figs["run_postcodes"].text(int(pcs["lsoa_code"].isin(
        sample25.lsoas.index).sum()))}
    assert set(span_texts("sample_mb")) == {figs["sample_mb"].text(bundled_sample_bytes() / 1e6)}
    cheap = {k for k, f in figs.items() if f.cheap}
    assert cheap == {"run_map_mb", "run_assets", "run_postcodes", "sample_mb"}


def test_no_measured_figure_outside_a_marker():
    text = prose(readme())
    loose = []
    for m in MEASURED.finditer(text):
        if DECLARED.search(text[max(0, m.start() - 20):m.start()]):
            continue
        loose.append(text[max(0, m.start() - 40):m.end() + 10])
    assert loose == [], "measured figures typed into the README (put them between <!-- fig:NAME --> markers):\n" \
        + "\n".join(loose)


@pytest.mark.parametrize("sentence", [
    "takes about 11 s with", "is 1.2 MB;", "in 0.4 s,", "(~1.1 MB)", "a 27 MB HTML file", "about 2–3 s.",
    "47.7 MB, 11x larger", "peak of 0.3 GB", "in 250 ms", "7.8 s for 296 councils"])
def test_the_scan_finds_typed_figures(sentence):
    """The scan above is not vacuous: it catches each way a figure has been typed into this README."""
    text = prose(f"Some prose {sentence} more prose.")
    assert any(not DECLARED.search(text[max(0, m.start() - 20):m.start()]) for m in MEASURED.finditer(text))


@pytest.mark.parametrize("sentence", ["(default 60 s)", "(budget 8 GB)", "a 10-minute walk", "800 m",
                                      "`--deadline 30 s`", "<!-- fig:run_map_mb -->1.3 MB<!-- /fig -->",
                                      "\n```bash\ntook 3 s\n```\n"])
def test_the_scan_leaves_declared_values_and_code(sentence):
    text = prose(f"Prose {sentence} prose.")
    assert [m for m in MEASURED.finditer(text) if not DECLARED.search(text[max(0, m.start() - 20):m.start()])] == []


def test_the_tool_rewrites_stale_spans_and_check_reports_them(tmp_path, capsys):
    res = results()
    right = rf.expected("run_map_mb", res)
    doc = tmp_path / "README.md"
    doc.write_text(f"The map is <!-- fig:run_map_mb -->9.9 MB<!-- /fig --> and\n"
                   f"<!-- fig:run_assets -->{rf.expected('run_assets', res)}<!-- /fig --> assets.\n", encoding="utf-8")
    assert rf.main(["--check", "--readme", str(doc)]) == 1
    out = capsys.readouterr().out
    assert "line 1: fig:run_map_mb reads '9.9 MB'; its results say" in out and "1 stale" in out
    assert rf.main(["--readme", str(doc)]) == 0
    assert doc.read_text(encoding="utf-8").startswith(f"The map is <!-- fig:run_map_mb -->{right}<!-- /fig --> and\n")
    assert rf.main(["--check", "--readme", str(doc)]) == 0
    assert not list(tmp_path.glob(".README.md.*"))  # the atomic write left no temporary file

    doc.write_text("<!-- fig:no_such_figure -->3 s<!-- /fig -->\n", encoding="utf-8")
    assert rf.main(["--readme", str(doc)]) == 1  # unknown figures are reported, never silently kept
    assert "unknown figure 'no_such_figure'" in capsys.readouterr().err
    assert doc.read_text(encoding="utf-8") == "<!-- fig:no_such_figure -->3 s<!-- /fig -->\n"
