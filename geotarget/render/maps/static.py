"""Static maps (PNG, SVG, PDF) for committee papers, drawn with matplotlib.

A static map draws layers of a :class:`~geotarget.render.maps.MapBuilder` -- the same
colours, classes and legends as the interactive map -- in British National Grid,
with a legend, a north arrow, a scale bar, the title and vintage, and the licence
attribution::

    mb = deprivation_map(lsoas, wards=wards, title="Deprivation in Hartlepool", vintage="IoD2025, LSOA 2021")
    static_map(mb, "hartlepool.png", layers=["IMD decile", "Ward boundaries"])

Grid north and true north differ by under 2 degrees in England; the arrow shows grid
north (up). Only matplotlib's object API is used (no pyplot), so it works without a
display and does not touch global state.
"""

from __future__ import annotations

import logging
import math
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geotarget.core.errors import SchemaError
from geotarget.io.files import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure


__all__ = ["as_written", "halo", "nice_length", "north_arrow", "scale_bar", "static_figure", "static_map"]

logger = logging.getLogger(__name__)

FORMATS = ("png", "svg", "pdf")
_MAX_LABELS = 40  # outline labels are drawn only for layers with at most this many areas


def static_figure(
    builder: Any,
    layers: Sequence[str] | None = None,
    *,
    width: float = 10.0,
    dpi: int = 150,
    title: str | None = None,
) -> Figure:
    """Draw ``layers`` as a matplotlib figure (default: the layers shown when the map opens).

    The figure is ``width`` inches wide; its height follows the shape of the area mapped.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    by_name = {layer.name: layer for layer in builder.layers}
    names = list(layers) if layers is not None else [layer.name for layer in builder.layers if layer.show]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SchemaError(f"static map: no layer named {unknown}; the map has layers {list(by_name)}.")
    if not names:
        raise SchemaError("static map: no layers to draw; name them with layers=[...].")
    chosen = [by_name[n] for n in names]

    import numpy as np

    boxes = np.array([layer.frame.total_bounds for layer in chosen])
    x0, y0 = boxes[:, :2].min(axis=0)
    x1, y1 = boxes[:, 2:].max(axis=0)
    map_width = 0.68 * width
    map_height = map_width * max(y1 - y0, 1.0) / max(x1 - x0, 1.0)
    height = max(map_height, 4.5) + 1.3  # room for the title above and the attribution below
    fig = Figure(figsize=(width, height), dpi=dpi)
    ax = fig.add_axes((0.01, 0.55 / height, 0.68, (height - 1.3) / height))
    ax.set_axis_off()
    ax.set_aspect("equal")
    for z, layer in enumerate(chosen):
        frame = layer.frame
        if layer.kind == "fill":
            frame.plot(ax=ax, color=layer.colours, edgecolor="white", linewidth=0.2, zorder=z)
        elif layer.kind == "outline":
            style = layer.style
            frame.boundary.plot(ax=ax, color=style["color"], linewidth=style["weight"] * 0.6,
                                linestyle="--" if style.get("dashArray") else "-", zorder=z + 100)
            if layer.labels is not None and len(frame) <= _MAX_LABELS:
                points = frame.geometry.representative_point()
                for p, text in zip(points, layer.labels, strict=True):
                    ax.annotate(text, (p.x, p.y), ha="center", va="center", fontsize=7, zorder=z + 200,
                                path_effects=halo())
        else:
            frame.plot(ax=ax, color=layer.colours, markersize=18, edgecolor="white", linewidth=0.4, zorder=z + 300)

    handles: list[Any] = []
    seen: set[int] = set()
    for layer in chosen:
        legend = layer.legend
        if id(legend) in seen:
            continue
        seen.add(id(legend))
        legend_title = legend.title_of(layer.name)  # e.g. which decile layer is drawn
        if not (len(legend.items) == 1 and legend.items[0][2] == legend_title):
            handles.append(Patch(color="none", label="\n".join(textwrap.wrap(legend_title, 34))))
        for kind, colour, label in legend.items:
            kind = kind.split(":")[0]
            if kind == "fill":
                handles.append(Patch(facecolor=colour, edgecolor="#888888", label=label))
            elif kind == "line":
                handles.append(Line2D([], [], color=colour, linewidth=1.5, label=label,
                                      linestyle="--" if ":" in legend.items[0][0] else "-"))  # dashed outline
            else:
                handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor=colour,
                                      markeredgecolor="white", markersize=7, label=label))
    legend_artist = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.71, 1 - 0.9 / height),
                               fontsize=7.5, frameon=False)
    for text, handle in zip(legend_artist.get_texts(), handles, strict=True):
        if isinstance(handle, Patch) and handle.get_facecolor()[3] == 0:
            text.set_fontweight("bold")

    heading = title if title is not None else builder.title
    fig.text(0.01, 1 - 0.3 / height, heading, fontsize=13, fontweight="bold", va="top")
    if builder.vintage:
        fig.text(0.01, 1 - 0.62 / height, builder.vintage, fontsize=9, va="top", color="#333333")
    north_arrow(ax)
    scale_bar(ax)
    notes = builder.attribution
    fig.text(0.01, 0.1 / height, "\n".join(textwrap.wrap(notes, 160)), fontsize=6, color="#444444", ha="left",
             va="bottom")
    as_written(fig)
    return fig


def as_written(fig: Figure) -> None:
    """Show every text of the figure as written: names, titles and notes never start mathematical text.

    matplotlib reads text between ``$`` signs as mathematics, and a name such as ``"$x^$"`` then raises
    an error at drawing time; no text on a static map is mathematics.
    """
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)


def static_map(
    builder: Any,
    path: str | os.PathLike,
    layers: Sequence[str] | None = None,
    *,
    width: float = 10.0,
    dpi: int = 200,
    title: str | None = None,
) -> Path:
    """Write a static map of ``layers`` as PNG, SVG or PDF (by the file's suffix), atomically.

    Parameters
    ----------
    builder : MapBuilder
        The interactive map whose layers (colours, classes, legends) are drawn.
    path : str or os.PathLike
        Output file ending in ``.png``, ``.svg`` or ``.pdf``.
    layers : list of str, optional
        Names of the layers to draw, bottom first; default: the layers shown when
        the interactive map opens.
    width, dpi : float, int
        Width in inches (the height follows the area's shape) and resolution (PNG).
    title : str, optional
        Title; default: the builder's.
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise SchemaError(f"{target}: static maps are written as {', '.join(FORMATS)}; got '.{fmt}'.")
    fig = static_figure(builder, layers, width=width, dpi=dpi, title=title)
    metadata = {"Date": None} if fmt in ("svg", "pdf") else {"Software": "geotarget"}
    if fmt == "pdf":
        metadata["CreationDate"] = None
        metadata.pop("Date")
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "geotarget"}), atomic_path(target) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
    logger.info("wrote static map %s", target)
    return target


def halo() -> list[Any]:
    """Return the white outline that keeps a label readable on any fill (matplotlib path effects)."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=2, foreground="white")]


def north_arrow(ax: Any, *, fontsize: float = 10, zorder: int = 1000) -> None:
    """Draw a north arrow in the upper right (grid north: the axes are British National Grid)."""
    ax.annotate("N", xy=(0.95, 0.97), xytext=(0.95, 0.87), xycoords="axes fraction", ha="center", va="center",
                fontsize=fontsize, fontweight="bold", arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
                path_effects=halo(), zorder=zorder)


def nice_length(width: float) -> float:
    """Return a round length (1, 2 or 5 x 10^k metres) about a fifth of ``width``."""
    target = width / 5
    power = 10 ** math.floor(math.log10(target))
    return max(m * power for m in (1, 2, 5) if m * power <= target)


def scale_bar(ax: Any, *, fontsize: float = 7, zorder: int = 1000) -> None:
    """Draw a scale bar in the lower right, in km or m (the axes are British National Grid metres)."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    left, bottom = x1 - (x1 - x0) * 0.04 - length, y0 + (y1 - y0) * 0.03
    height = (y1 - y0) * 0.008
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(Rectangle((left + i * length / 2, bottom), length / 2, height, facecolor=colour,
                               edgecolor="black", linewidth=0.6, zorder=zorder))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.annotate(label, (left + length / 2, bottom + height * 1.6), ha="center", va="bottom", fontsize=fontsize,
                path_effects=halo(), zorder=zorder)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
