"""What a study's ``place`` means: a bundled place, English councils, a region or England.

:func:`resolve_place` reads the place a user names -- on the command line (``--place``), in a study file
(``[place] place``) or in :func:`geotarget.data.load` -- without any IoD file: names and codes are
matched against the bundled council -> region table (``data/lookups/lad_region_england.csv``: the 296
English councils of 2024, the 2019 codes of districts merged since, and the nine regions). The loader
then knows whether the bundled sample can serve the place offline or the national files are needed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from geotarget.core.councils import normalise_name
from geotarget.core.errors import AreaNotFoundError
from geotarget.core.places import PLACES

#: Short names people use for councils whose ONS names read differently.
ALIASES = {"hull": "E06000010", "cityofhull": "E06000010", "kingstonuponhull": "E06000010",
           "bcp": "E06000058", "brightonhove": "E06000043"}
#: Council and region codes: unitary, district, metropolitan and London borough councils; regions.
_COUNCIL_CODE = re.compile(r"^E0[6789]\d{6}$", re.IGNORECASE)
_REGION_CODE = re.compile(r"^E12\d{6}$", re.IGNORECASE)


@dataclass(frozen=True)
class PlaceChoice:
    """A resolved place.

    Attributes
    ----------
    kind
        ``"bundled"`` (a bundled place key), ``"councils"`` (one or more councils), ``"region"`` or
        ``"england"``.
    name
        What to call it: "Tees Valley", "Leeds", "North East", "England", "Leeds and Bradford".
    councils
        The councils' ONS codes (a bundled place's, the named ones, or a region's; empty for England).
    key
        The bundled place (:data:`geotarget.core.places.PLACES`) that holds every council of the place,
        if any: the place can be read offline from the sample.
    region
        The region code, for ``kind="region"``.
    """

    kind: str
    name: str
    councils: tuple[str, ...] = ()
    key: str | None = None
    region: str | None = None

    @property
    def bundled(self) -> bool:
        """True if the bundled sample holds the whole place."""
        return self.key is not None


def council_table() -> pd.DataFrame:
    """Return the bundled English councils: ``lad_name``, ``region_code``, ``region_name`` by ``lad_code``."""
    from geotarget.data.sample import bundled_regions

    return bundled_regions()


def _key(text: str) -> str:
    return normalise_name(text.replace("&", " and "))


def _bundled_key(text: str) -> str | None:
    k = text.strip().lower().replace("-", "_").replace(" ", "_")
    return k if k in PLACES else None


def _names(table: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Normalised name -> (kind, code), for councils (with short forms) and regions."""
    out: dict[str, tuple[str, str]] = {}
    for code, name in table["lad_name"].items():
        out.setdefault(_key(name), ("council", code))
        short = re.sub(r",\s*(city|county) of$", "", name, flags=re.IGNORECASE)  # "Bristol, City of" -> "Bristol"
        out.setdefault(_key(short), ("council", code))
    for alias, code in ALIASES.items():
        out.setdefault(alias, ("council", code))
    for code, name in table.groupby("region_code")["region_name"].first().items():
        out[_key(name)] = ("region", code)  # a region's exact name wins ("North East", not a council)
    return out


def _match(text: str, table: pd.DataFrame, names: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """Return ``(kind, code)`` for one name or code (``kind``: council, region, england, bundled), else None."""
    t = text.strip()
    if _key(t) == "england":
        return "england", "E92000001"
    if _bundled_key(t):
        return "bundled", _bundled_key(t)
    if _REGION_CODE.match(t) and t.upper() in set(table["region_code"]):
        return "region", t.upper()
    if _COUNCIL_CODE.match(t) and t.upper() in table.index:
        return "council", t.upper()
    k = _key(t)
    if not k:
        return None
    if k in names:
        return names[k]
    starts = {v for n, v in names.items() if n.startswith(k)}
    return starts.pop() if len(starts) == 1 else None


def _not_found(text: str, table: pd.DataFrame, names: dict[str, tuple[str, str]]) -> AreaNotFoundError:
    k = _key(text)
    starts = sorted({v for n, v in names.items() if k and n.startswith(k)})
    close = starts or [names[n] for n in difflib.get_close_matches(k, list(names), n=4, cutoff=0.6)]
    regions = table.groupby("region_code")["region_name"].first()
    shown = []
    for kind, code in dict.fromkeys(close):
        shown.append(f"{regions[code]} ({code}, a region)" if kind == "region" else f"{table.loc[code, 'lad_name']} "
                     f"({code})")
    why = f"matches {len(starts)} councils or regions" if len(starts) > 1 else "matches no council or region in England"
    hint = f"did you mean {' or '.join(shown[:5])}? " if shown else ""
    return AreaNotFoundError(
        f"place {text!r} {why}; {hint}give a council's name or code (e.g. Leeds or E08000035), several "
        "separated by commas, a region (e.g. North East or E12000001), england, or a bundled sample "
        f"({', '.join(PLACES)})").naming("place")


def _pieces(text: str, table: pd.DataFrame, names: dict) -> list[tuple[str, str, str]]:
    """Split a comma-separated place into ``(text, kind, code)``; commas inside names are kept.

    ``"Leeds, Kingston upon Hull, City of"`` is Leeds and Kingston upon Hull: the longest run of
    pieces that names something is taken first.
    """
    parts = [p.strip() for p in text.split(",")]
    out, i = [], 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            piece = ", ".join(parts[i:j])
            if not piece:
                break
            hit = _match(piece, table, names) if j - i > 1 else None
            if hit is None and j - i == 1:
                hit = _match(piece, table, names)
                if hit is None:
                    raise _not_found(piece, table, names)
            if hit is not None:
                out.append((piece, *hit))
                i = j
                break
        else:  # an empty piece (",,"): skip it
            i += 1
    return out


def resolve_place(place: str | Iterable[str]) -> PlaceChoice:
    """Resolve a place given by name or code, offline.

    Parameters
    ----------
    place
        One of: a bundled place key (``"tees_valley"``, ``"trafford"``); an English council by name or
        code, in any case and punctuation (``"Leeds"``, ``"E08000035"``, ``"stockton on tees"``,
        ``"Kingston upon Hull, City of"`` or ``"Hull"``, or an unambiguous start such as ``"Stockton"``);
        several councils, comma-separated or as a list or tuple; a region by name or code
        (``"North East"``, ``"E12000001"``); or ``"england"``.

    Returns
    -------
    PlaceChoice
        Its kind, display name, council codes, and the bundled place holding it (if any).

    Raises
    ------
    AreaNotFoundError
        For a name that matches nothing, with the closest councils and regions; for a region or
        ``england`` mixed with other names.

    Examples
    --------
    >>> resolve_place("stockton on tees").councils, resolve_place("stockton on tees").key
    (('E06000004',), 'tees_valley')
    >>> c = resolve_place("Leeds, Bradford")
    >>> c.kind, c.name, c.councils, c.key
    ('councils', 'Leeds and Bradford', ('E08000035', 'E08000032'), None)
    >>> resolve_place("north east").region
    'E12000001'
    """
    table = council_table()
    names = _names(table)
    texts = [place] if isinstance(place, str) else list(place)
    found = [hit for t in texts for hit in _pieces(str(t), table, names)]
    if not found:
        raise AreaNotFoundError(f"place was {place!r} but is expected to name a place").naming("place")
    kinds = {k for _, k, _ in found}
    if len(found) > 1 and kinds & {"england", "region", "bundled"}:
        alone, what = next((t, k) for t, k, _ in found if k != "council")
        what = {"england": "all of England", "region": "a region", "bundled": "a bundled place"}[what]
        raise AreaNotFoundError(f"place {alone!r} is {what} and cannot be listed with other places; give it "
                                "alone, or list councils only").naming("place")
    text, kind, code = found[0]
    if kind == "england":
        return PlaceChoice("england", "England")
    if kind == "bundled":
        pl = PLACES[code]
        return PlaceChoice("bundled", pl.name, tuple(pl.councils), key=pl.key)
    if kind == "region":
        rows = table[table["region_code"] == code]
        return PlaceChoice("region", str(rows["region_name"].iloc[0]), tuple(sorted(rows.index)), region=code)
    codes = tuple(dict.fromkeys(c for _, _, c in found))
    shown = [str(table.loc[c, "lad_name"]) for c in codes]
    name = shown[0] if len(shown) == 1 else " and ".join([", ".join(shown[:-1]), shown[-1]]) if len(shown) <= 3 \
        else f"{len(shown)} councils"
    key = next((k for k, pl in PLACES.items() if set(codes) <= set(pl.councils)), None)
    if key is not None and set(codes) == set(PLACES[key].councils):
        name = PLACES[key].name
    return PlaceChoice("councils", name, codes, key=key)


__all__ = ["ALIASES", "PlaceChoice", "council_table", "resolve_place"]
