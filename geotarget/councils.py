"""Find councils (local authority districts) by code or name."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from ._errors import AreaNotFoundError


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


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
    by_name = {_norm(n): c for c, n in councils.items()}
    for text in wanted:
        t = text.strip()
        code = by_code.get(t.upper()) or by_name.get(_norm(t))
        if code is None:
            starts = sorted({c for n, c in by_name.items() if n.startswith(_norm(t)) and _norm(t)})
            if len(starts) == 1:
                code = starts[0]
            else:
                options = "; ".join(f"{c} {n}" for c, n in councils.sort_index().items())
                why = f"matches {len(starts)} councils" if starts else "matches no council"
                raise AreaNotFoundError(f"council {text!r} {why}; expected a code or name among: {options}")
        if code not in codes:
            codes.append(code)
    return codes
