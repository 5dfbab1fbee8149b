"""Static maps: the same colours as the interactive map; PNG/SVG/PDF written atomically.

Each has a legend, north arrow, scale bar and attribution.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geotarget.core.crs import BNG
from geotarget.core.errors import SchemaError
from geotarget.render.maps import DECILE_COLOURS, DEFAULT_ATTRIBUTION, MapBuilder, deprivation_map
from geotarget.render.maps.static import nice_length, static_figure, static_map


@pytest.fixture(scope="module")
def tees(sample25):
    s = sample25
    mb = deprivation_map(s.lsoas, wards=s.wards, lads=s.lads, title="Deprivation in Tees Valley",
                         vintage=s.vintage.label)
    return mb.add_points(s.assets, "Assets", category_column="asset_type", label_column="name")


def pixels(fig) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())


def pixel_colour(rgba: np.ndarray, ax, x: float, y: float) -> str:
    px, py = ax.transData.transform((x, y))
    r, g, b = rgba[round(rgba.shape[0] - py), round(px), :3]
    return f"#{r:02x}{g:02x}{b:02x}"


def test_areas_are_drawn_in_their_decile_colours(tees, sample25):
    fig = static_figure(tees, ["IMD decile"], dpi=100)
    ax = fig.axes[0]
    rgba = pixels(fig)
    # The 20 largest LSOAs: the colour at a point well inside each is its decile's colour.
    lsoas = sample25.lsoas.assign(area=sample25.lsoas.area).nlargest(20, "area")
    for _, row in lsoas.iterrows():
        inner = row.geometry.buffer(-400)
        if inner.is_empty:
            continue
        p = inner.representative_point()
        assert pixel_colour(rgba, ax, p.x, p.y) == DECILE_COLOURS[int(row["imd_decile"]) - 1]


def test_legend_arrow_scale_and_attribution(tees):
    fig = static_figure(tees)  # the layers shown when the interactive map opens
    texts = [t.get_text() for t in fig.texts] + [t.get_text() for t in fig.axes[0].texts]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "1 most deprived" in legend and "10 least deprived" in legend and "pharmacy" in legend
    assert any(t.replace("\n", " ").startswith("Index of Multiple Deprivation (IMD) decile") for t in legend)
    assert "Ward boundaries" in legend and "Council boundaries" in legend
    assert "N" in texts  # north arrow
    assert "10 km" in texts  # the Tees Valley is ~55 km wide: a 10 km bar
    assert "Deprivation in Tees Valley" in texts and "IoD2025, LSOA 2021" in texts
    assert " ".join(texts).replace("\n", " ").count(DEFAULT_ATTRIBUTION) == 1


@pytest.mark.parametrize("width, expected", [(55_000, 10_000), (3_000, 500), (12_000, 2_000), (700, 100)])
def test_scale_bar_length_is_a_round_fifth(width, expected):
    assert nice_length(width) == expected


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_formats_are_written_atomically_and_deterministically(tmp_path, suffix, magic):
    g = gpd.GeoDataFrame({"k": ["a", "b"]}, geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
                         crs=BNG)
    mb = MapBuilder("Two squares", vintage="test").add_categories(g, "k", "Kinds", show=True)
    out = static_map(mb, tmp_path / f"map{suffix}", dpi=50)
    assert out.read_bytes().startswith(magic)
    first = out.read_bytes()
    static_map(mb, out, dpi=50)
    assert out.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == [f"map{suffix}"]


def test_errors_name_the_problem(tees, tmp_path):
    with pytest.raises(SchemaError, match=r"no layer named \['Nope'\]"):
        static_map(tees, tmp_path / "x.png", layers=["Nope"])
    with pytest.raises(SchemaError, match=r"written as png, svg, pdf; got '.jpg'"):
        static_map(tees, tmp_path / "x.jpg")
    assert list(tmp_path.iterdir()) == []


def test_names_with_dollar_signs_are_drawn_as_written(tmp_path):
    # matplotlib reads text between $ signs as mathematics; "$\frac$" made drawing fail with a ValueError
    names = [r"Ward $\frac$", "Costs $5 and $6"]
    g = gpd.GeoDataFrame({"name": names}, geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
                         crs=BNG)
    mb = MapBuilder(r"Title $\frac$", vintage=r"vintage $x$", attribution=r"notes $\alpha$")
    mb.add_outlines(g, "Wards", label_column="name")
    out = static_map(mb, tmp_path / "dollars.svg", layers=["Wards"])
    svg = out.read_text(encoding="utf-8")
    assert out.stat().st_size > 0 and "Traceback" not in svg
    fig = static_figure(mb, layers=["Wards"])
    texts = {t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_parse_math"))}
    assert r"Ward $\frac$" in texts and r"Title $\frac$" in texts
    assert all(not t.get_parse_math() for t in fig.findobj(lambda a: hasattr(a, "get_parse_math")))
