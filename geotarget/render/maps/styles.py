"""Colours, palettes and standard wording shared by the interactive and static maps and the QGIS layer styles."""

from __future__ import annotations

import re
from collections.abc import Sequence

from geotarget.core.errors import SchemaError
from geotarget.core.licences import ATTRIBUTION

#: Licence statement shown on every map (OGL for the IoD, OS for the boundaries), from :mod:`geotarget.core.licences`.
DEFAULT_ATTRIBUTION = ATTRIBUTION

#: Fill colour of deciles 1..10: the 10-class viridis palette (perceptually uniform and
#: colour-blind safe), darkest for decile 1 = the most deprived 10% nationally.
DECILE_COLOURS: tuple[str, ...] = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
)  # fmt: skip
NO_DATA_COLOUR = "#bdbdbd"

#: Fill colour of the ward profile layer's classes, the fifths of the wards' rank on IMD
#: average score: the 5-class viridis palette, darkest for the most deprived fifth.
WARD_CLASS_COLOURS: tuple[str, ...] = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")

#: Title of a decile layer's legend; ``{layer}`` stands for what the layer shows (see :func:`decile_legend_title`).
DECILE_LEGEND_TITLE = "{layer} — 1 = most deprived 10% nationally"

#: Colours for categories, in order: Paul Tol's "muted" scheme then the Okabe-Ito
#: colours, all distinguishable with the common forms of colour blindness.
CATEGORY_COLOURS: tuple[str, ...] = (
    "#332288", "#88ccee", "#44aa99", "#117733", "#999933", "#ddcc77", "#cc6677", "#882255",
    "#aa4499", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7",
)  # fmt: skip

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def check_colour(value: object, where: str) -> str:
    """``value`` as a lower-case ``#rrggbb`` string, or SchemaError naming ``where``."""
    if isinstance(value, str) and _HEX.match(value):
        return value.lower()
    try:  # named colours ("red", "tab:blue") via matplotlib, when it is installed
        from matplotlib.colors import to_hex

        return to_hex(value).lower()  # type: ignore[arg-type]
    except (ImportError, ValueError):
        raise SchemaError(f"{where}: {value!r} is not a colour; use '#rrggbb' hex, e.g. '#1f77b4'.") from None


def sequential(k: int, *, reverse: bool = False) -> list[str]:
    """Return ``k`` colours of viridis from light (low values) to dark (high values).

    ``reverse=True`` runs from dark to light.
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["viridis"]
    colours = [to_hex(cmap(1 - i / (k - 1) if k > 1 else 0.5)) for i in range(k)]
    return colours[::-1] if reverse else colours


def category_colours(n: int, where: str) -> list[str]:
    """Return the first ``n`` colours of the category palette; raise a SchemaError if it has fewer."""
    if n > len(CATEGORY_COLOURS):
        raise SchemaError(
            f"{where}: {n} categories but the default palette has {len(CATEGORY_COLOURS)} distinguishable "
            "colours; pass colors= (a dict category -> '#rrggbb') or group the categories."
        )
    return list(CATEGORY_COLOURS[:n])


def text_colour(fill: str) -> str:
    """Black or white, whichever reads better on ``fill``."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"


def decile_legend_title(layer: str, template: str = DECILE_LEGEND_TITLE) -> str:
    """Return the legend title of one decile layer, e.g. ``"Health Deprivation and Disability decile — 1 = ..."``.

    ``template`` holds ``{layer}`` where the layer's description goes (replaced as text, not formatted,
    so braces in a name are kept).
    """
    return template.replace("{layer}", layer)


def decile_labels() -> list[str]:
    """Return the legend labels of deciles 1 to 10 ("1 most deprived" ... "10 least deprived")."""
    labels = [str(d) for d in range(1, 11)]
    labels[0] += " most deprived"
    labels[-1] += " least deprived"
    return labels


def as_list(value: str | Sequence[str] | None) -> list[str]:
    """Return ``value`` as a list: none for None, one item for a single text."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
