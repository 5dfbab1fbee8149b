"""Static maps of targeted action areas for committee papers: an overview and one small map per area.

Each map is a PNG drawn with matplotlib's object API (no pyplot, no display, no basemap tiles) in British
National Grid: the council and ward outlines with ward names, the most deprived 10% of LSOAs shaded, the
action areas outlined and numbered as in the document, a north arrow (grid north) and a scale bar.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geotarget.io.files import atomic_path
from geotarget.render.maps.static import as_written, north_arrow, scale_bar
from geotarget.render.maps.static import halo as static_halo

log = logging.getLogger(__name__)

__all__ = ["MAX_AREA_MAPS", "MapContext", "area_maps", "context_of", "overview_map"]

#: One small map per area is drawn when a result has at most this many areas (an England-wide result has
#: hundreds: the overview and the GeoPackage serve it).
MAX_AREA_MAPS = 30
_AREA = "#c51b2a"
_OTHER = "#555555"
_DEPRIVED = "#fbd3cf"
_WARD = "#9a9a9a"
_COUNCIL = "#222222"


class MapContext:
    """What the maps draw around the areas: LSOA decile 1, ward and council outlines (EPSG:27700)."""

    def __init__(self, deprived: gpd.GeoDataFrame, wards: gpd.GeoDataFrame, councils: gpd.GeoDataFrame):
        self.deprived = deprived  #: LSOAs in national IMD decile 1
        self.wards = wards  #: ward outlines with a ``label`` column
        self.councils = councils  #: council outlines with a ``label`` column


def context_of(result: Any, lsoas: gpd.GeoDataFrame | None = None, *, wards: gpd.GeoDataFrame | None = None,
               lads: gpd.GeoDataFrame | None = None) -> MapContext:
    """Return the map context of ``result``'s councils from the study's LSOAs, wards and councils.

    Missing ward or council outlines are built by dissolving the LSOAs (best-fit wards); without LSOAs the
    member LSOAs of the areas are the only context.
    """
    codes = set(result.councils.index)
    base = lsoas if lsoas is not None else result.members
    base = base[base["lad_code"].isin(codes)] if "lad_code" in base.columns else base
    deprived = base[base["imd_decile"] == 1] if "imd_decile" in base.columns else base.iloc[:0]
    deprived = deprived[["geometry"]]
    if wards is not None and len(wards):
        w = wards[wards["lad_code"].isin(codes)] if "lad_code" in wards.columns else wards
        name = next((c for c in ("ward_name", "name", "area_name") if c in w.columns), None)
        w = gpd.GeoDataFrame({"label": w[name] if name else ""}, geometry=w.geometry.values, crs=w.crs)
    elif "ward_name" in base.columns and base["ward_name"].notna().any():
        w = base[["ward_name", "lad_code", "geometry"]].dissolve(by=["lad_code", "ward_name"]).reset_index()
        w = gpd.GeoDataFrame({"label": w["ward_name"]}, geometry=w.geometry.values, crs=base.crs)
    else:
        w = gpd.GeoDataFrame({"label": []}, geometry=[], crs=base.crs)
    if lads is not None and len(lads):
        c = lads[lads.index.isin(codes)]
        label = c["lad_name"] if "lad_name" in c.columns else pd.Series(c.index, index=c.index)
        c = gpd.GeoDataFrame({"label": label.to_numpy()}, geometry=c.geometry.values, crs=c.crs)
    else:
        d = base[["lad_code", "geometry"]].dissolve(by="lad_code")
        c = gpd.GeoDataFrame({"label": result.councils.reindex(d.index).to_numpy()}, geometry=d.geometry.values,
                             crs=base.crs)
    return MapContext(deprived, w, c)


def overview_map(result: Any, context: MapContext, path: str | os.PathLike, *, title: str, numbers: list[str],
                 dpi: int = 110) -> Path:
    """Write the overview: every area outlined and numbered (``numbers``, in the areas' order) on its councils."""
    areas = result.areas
    frame = context.councils if len(context.councils) else areas
    x0, y0, x1, y1 = frame.total_bounds
    fig, ax = _figure(x0, y0, x1, y1, width=6.6)
    _context(ax, context, labels=len(context.wards) <= 60, council_labels=len(context.councils) > 1)
    areas.boundary.plot(ax=ax, color=_AREA, linewidth=1.6, zorder=20)
    areas.plot(ax=ax, color=_AREA, alpha=0.35, zorder=19, linewidth=0)
    for p, text in zip(areas.geometry.representative_point(), numbers, strict=True):
        ax.annotate(text, (p.x, p.y), ha="center", va="center", fontsize=9, fontweight="bold", color="white",
                    zorder=30, bbox={"boxstyle": "circle,pad=0.25", "facecolor": _AREA, "edgecolor": "white",
                                     "linewidth": 0.8})
    _legend(ax, areas_label="Action area (number as in the table)")
    fig.text(0.01, 0.985, title, fontsize=11, fontweight="bold", va="top")
    return _save(fig, ax, path, dpi)


def area_maps(result: Any, context: MapContext, files: Mapping[str, tuple[str | os.PathLike, str]], *,
              dpi: int = 110, width: float = 4.6) -> dict[str, Path]:
    """Write a small map of each area in ``files`` (area id -> (path, number)).

    Each shows the area's LSOAs, the wards around it and the other areas for reference. The context is
    drawn once and each map is a view of it, so many small maps cost little more than one.
    """
    from matplotlib.figure import Figure

    areas = result.areas
    fig = Figure(figsize=(width, width))
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    ax.set_axis_off()
    ax.set_aspect("equal")
    x0, y0, x1, y1 = (context.councils if len(context.councils) else areas).total_bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    _context(ax, context, labels=True, council_labels=False)
    labels = list(ax.texts)
    areas.boundary.plot(ax=ax, color=_OTHER, linewidth=1.0, linestyle="--", zorder=18)
    written: dict[str, Path] = {}
    for area_id, (path, number) in files.items():
        this = areas.loc[[area_id]]
        bx0, by0, bx1, by1 = this.total_bounds
        pad = max(bx1 - bx0, by1 - by0) * 0.25 + 300
        box = (bx0 - pad, by0 - pad, bx1 + pad, by1 + pad)
        aspect = (box[3] - box[1]) / (box[2] - box[0])
        height = min(max(width * aspect, 3.0), 1.25 * width)
        fig.set_size_inches(width, height)
        _fit(ax, box, width * 0.98, height * 0.98)
        (lx0, lx1), (ly0, ly1) = ax.get_xlim(), ax.get_ylim()
        for label in labels:  # only the labels in view are laid out
            x, y = label.xy
            label.set_visible(bool(lx0 < x < lx1 and ly0 < y < ly1))
        before = (list(ax.collections), list(ax.patches), list(ax.texts))
        members = result.members[result.members["area_id"] == area_id]
        if len(members):
            members.boundary.plot(ax=ax, color=_AREA, linewidth=0.4, zorder=19)
        this.plot(ax=ax, color=_AREA, alpha=0.35, linewidth=0, zorder=19)
        this.boundary.plot(ax=ax, color=_AREA, linewidth=2.0, zorder=20)
        _legend(ax, areas_label=f"Area {number}", others=len(areas) > 1)
        written[area_id] = _save(fig, ax, path, dpi)
        for artist in [*ax.collections, *ax.patches, *ax.texts]:
            if artist not in before[0] and artist not in before[1] and artist not in before[2]:
                artist.remove()
        ax.get_legend().remove()
    return written


def _fit(ax, box: tuple[float, float, float, float], ax_w: float, ax_h: float) -> None:
    """Set the axes' limits to show ``box`` whole in axes ``ax_w`` x ``ax_h`` inches, keeping the aspect ratio."""
    x0, y0, x1, y1 = box
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    if h / w > ax_h / ax_w:
        w = h * ax_w / ax_h
    else:
        h = w * ax_h / ax_w
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)


def _figure(x0: float, y0: float, x1: float, y1: float, *, width: float):
    from matplotlib.figure import Figure

    aspect = max(y1 - y0, 1.0) / max(x1 - x0, 1.0)
    height = min(max(width * aspect, 3.0), 1.25 * width)
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98 - (0.35 / height)))
    ax.set_axis_off()
    ax.set_aspect("equal")
    _fit(ax, (x0, y0, x1, y1), 0.98 * width, (0.98 - 0.35 / height) * height)
    return fig, ax


def _context(ax, context: MapContext, *, labels: bool, council_labels: bool) -> None:
    deprived, wards, councils = context.deprived, context.wards, context.councils
    if len(deprived):
        deprived.plot(ax=ax, color=_DEPRIVED, linewidth=0, zorder=1)
    if len(wards):
        wards.boundary.plot(ax=ax, color=_WARD, linewidth=0.5, zorder=5)
    if len(councils):
        councils.boundary.plot(ax=ax, color=_COUNCIL, linewidth=1.2, zorder=6)
    halo = static_halo()
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    if labels and len(wards):
        for p, text in zip(wards.geometry.representative_point(), wards["label"], strict=True):
            if xlim[0] < p.x < xlim[1] and ylim[0] < p.y < ylim[1] and isinstance(text, str):
                ax.annotate(text, (p.x, p.y), ha="center", va="center", fontsize=6, color="#333333",
                            zorder=25, path_effects=halo)
    if council_labels and len(councils):
        for p, text in zip(councils.geometry.representative_point(), councils["label"], strict=True):
            ax.annotate(text, (p.x, p.y), ha="center", va="center", fontsize=8, fontweight="bold",
                        color=_COUNCIL, zorder=26, path_effects=halo)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)


def _legend(ax, *, areas_label: str, others: bool = False) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=_AREA, alpha=0.6, edgecolor=_AREA, label=areas_label)]
    if others:
        handles.append(Line2D([], [], color=_OTHER, linestyle="--", linewidth=1.0, label="Other action areas"))
    handles += [Patch(facecolor=_DEPRIVED, edgecolor="none", label="Most deprived 10% in England (IMD decile 1)"),
                Line2D([], [], color=_WARD, linewidth=0.8, label="Ward boundary"),
                Line2D([], [], color=_COUNCIL, linewidth=1.2, label="Council boundary")]
    ax.legend(handles=handles, loc="lower left", fontsize=6, framealpha=0.85, edgecolor="#cccccc")


def _save(fig, ax, path: str | os.PathLike, dpi: int) -> Path:
    north_arrow(ax, fontsize=9, zorder=40)
    scale_bar(ax, fontsize=6.5, zorder=40)
    as_written(fig)  # names are drawn as written: a $ never starts mathematics
    import io

    from PIL import Image

    target = Path(path)
    buf = io.BytesIO()
    with warnings.catch_warnings():  # a name in a script the font lacks is drawn as boxes, not one warning a label
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "geotarget"})
    buf.seek(0)
    # a map of a few flat colours: a 64-colour palette keeps it sharp at a third of the size
    image = Image.open(buf).convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT,
                                                    dither=Image.Dither.NONE)
    with atomic_path(target) as tmp:
        image.save(tmp, format="PNG")
    log.info("wrote %s", target)
    return target
