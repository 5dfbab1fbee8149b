"""Find councils (local authority districts) by code or name."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

import pandas as pd

from geotarget.core.errors import AreaNotFoundError


def normalise_name(text: str) -> str:
    """Return ``text`` lower-cased with everything but ASCII letters and digits removed, for matching names."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _not_found(text: str, starts: list[str], councils: pd.Series) -> str:
    why = f"matches {len(starts)} councils" if starts else "matches no council"
    if starts:
        close = starts
    else:
        names = {normalise_name(n): c for c, n in councils.items()}
        close = [names[n] for n in difflib.get_close_matches(normalise_name(text), list(names), n=3, cutoff=0.6)]
    if close:
        hint = "did you mean " + " or ".join(f"{councils[c]} ({c})" for c in close[:5]) + "?"
    else:
        hint = ""
    if len(councils) <= 12:
        options = "; ".join(f"{c} {n}" for c, n in councils.sort_index().items())
        return f"council {text!r} {why}; {hint + ' ' if hint else ''}expected a code or name among: {options}"
    return (f"council {text!r} {why} among the {len(councils):,} councils in the data; "
            + (hint or "give an ONS code (e.g. E06000004) or the council's name"))


def resolve_councils(wanted: Iterable[str], councils: pd.Series) -> list[str]:
    """Return LAD codes for council codes or names, case-insensitively.

    ``councils`` maps LAD code -> name. A name may be given in full ("Stockton-on-Tees"),
    without punctuation ("stockton on tees") or as an unambiguous start ("Stockton").

    Raises
    ------
    AreaNotFoundError
        Naming the unmatched text and listing the councils available.
    """
    codes: list[str] = []
    by_code = {c.upper(): c for c in councils.index}
    by_name = {normalise_name(n): c for c, n in councils.items()}
    for text in wanted:
        t = text.strip()
        code = by_code.get(t.upper()) or by_name.get(normalise_name(t))
        if code is None:
            starts = sorted({c for n, c in by_name.items() if n.startswith(normalise_name(t)) and normalise_name(t)})
            if len(starts) == 1:
                code = starts[0]
            else:
                raise AreaNotFoundError(_not_found(text, starts, councils))
        if code not in codes:
            codes.append(code)
    return codes
