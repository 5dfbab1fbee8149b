"""Charts for committee papers, drawn with matplotlib's object API (no pyplot, no global backend change)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np

from geotarget.analysis.typology import Typology
from geotarget.io.files import atomic_path


def profile_chart(typology: Typology, path: str | os.PathLike, *, title: str = "") -> Path:
    """Draw a heat map of each cluster's mean gap per indicator (PNG), written atomically.

    Drawn with matplotlib's object API (``Figure`` on an Agg canvas), never ``pyplot``: the caller's
    backend (a notebook's inline backend, say) is left as it was.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    prof = typology.profiles
    cols = [c for c in prof.columns if c.startswith("gap_")]
    data = prof[cols].to_numpy(float)
    names = [typology.labels.get(c[4:], c[4:]) for c in cols]
    lim = max(1.5, float(np.nanmax(np.abs(data))))
    fig_h = 1.6 + 0.75 * len(prof)
    fig = Figure(figsize=(max(9.0, 0.9 * len(cols) + 7.5), fig_h), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    im = ax.imshow(data, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(len(cols)), names, rotation=30, ha="right")
    rows = [textwrap.fill(f"{c}. {lab} ({a:,} areas, {p:.0%} of people)", 48)
            for c, lab, a, p in zip(prof["cluster"], prof["label"], prof["areas"], prof["population_share"],
                                    strict=True)]
    ax.set_yticks(range(len(prof)), rows, fontsize=7.5)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            ax.text(j, i, f"{data[i, j]:+.1f}", ha="center", va="center", fontsize=8,
                    color="white" if abs(data[i, j]) > 0.6 * lim else "black")
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label("mean gap, SDs (+ = worse)")
    ax.set_title(title or f"Area typology ({typology.method}, k = {typology.k})", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    return Path(path)


__all__ = ["profile_chart"]
