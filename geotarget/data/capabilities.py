"""What the data cache can do: each capability, the cached datasets it needs, and whether they are there.

The needs are stated once, as :class:`~geotarget.data.source.DataSource` fields (``imd``,
``boundaries`` ...); their catalogue names come from :data:`geotarget.data.load.CACHED` for each
IoD vintage, the must-haves from :data:`~geotarget.data.load.REQUIRED`, and the asset lists from
:data:`~geotarget.data.load.CACHED_ASSETS`. ``geotarget data list`` prints the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from geotarget.data.load import CACHED, CACHED_ASSETS, REQUIRED

#: Capability -> the DataSource fields it needs from the cache (asset lists are added below, one per list).
NEEDS: dict[str, tuple[str, ...]] = {
    "deprivation map / action areas for any council": REQUIRED,
    "population points from postcodes": ("codepoint", "postcode_lookup"),
    "HIA screening": (*REQUIRED, "codepoint", "postcode_lookup", "indicators"),
}
#: Fields that improve a capability without being needed, and what stands in without them.
BETTER_WITH: dict[str, str] = {
    "wards": "ward outlines are otherwise the LSOAs dissolved by best-fit ward, which is approximate",
    "lads": "council outlines are otherwise the LSOAs dissolved by council, which is exact",
    "msoas": "MSOA profiles need them",
    "centroids": "LSOA points are otherwise the mean of residential postcodes, or a point inside the LSOA",
    "cni": "the HIA report otherwise leaves out the Community Needs Index",
    "postcode_lookup": "without it business postcodes count as residents",
}
#: Capability -> the optional fields of :data:`BETTER_WITH` that matter to it.
OPTIONAL: dict[str, tuple[str, ...]] = {
    "deprivation map / action areas for any council": ("wards", "lads", "msoas"),
    "HIA screening": ("cni", "centroids", "wards"),
}
#: Short names of the capabilities the cached asset lists give (any other list: "access to <its title>").
ASSET_LABELS = {"ods-epraccur": "GP access", "ods-edispensary": "pharmacy access", "ods-egdpprac": "dentist access",
                "os-greenspace": "green space access"}
#: What access to each cached asset list needs besides the list itself: areas and postcode locations.
ASSET_NEEDS: tuple[str, ...] = (*REQUIRED, "codepoint")


@dataclass(frozen=True)
class Capability:
    """One capability and what the cache has of what it needs, for one IoD vintage."""

    label: str
    vintage: int
    have: tuple[str, ...]  #: catalogue names in the cache
    missing: tuple[str, ...]  #: catalogue names not in the cache
    unavailable: tuple[str, ...]  #: DataSource fields the catalogue has no file for, for this vintage
    better: tuple[tuple[str, str], ...] = ()  #: optional catalogue names not in the cache, with what stands in

    @property
    def ready(self) -> bool:
        """Whether everything needed is in the cache."""
        return not self.missing and not self.unavailable

    def line(self) -> str:
        """One line for ``geotarget data list``."""
        if self.ready:
            better = "".join(f"; better with {n} ({why})" for n, why in self.better)
            return f"{self.label}: yes ({', '.join(self.have)}){better}"
        parts = []
        if self.missing:
            parts.append(f"needs {', '.join(self.missing)}")
        if self.unavailable:
            parts.append(f"no cached {', '.join(self.unavailable)} for IoD{self.vintage}")
        have = f" (has {', '.join(self.have)})" if self.have else ""
        return f"{self.label}: {'; '.join(parts)}{have}"


def cache_capabilities(*, cache: str | os.PathLike | None = None, vintage: int = 2025) -> list[Capability]:
    """Return what each capability can do with the datasets now in the cache, for one IoD vintage."""
    from geotarget.io.fetch import CATALOGUE, cached_path

    names = CACHED[vintage]

    def there(name: str) -> bool:
        return name in CATALOGUE and cached_path(name, cache=cache).is_file()

    needs, optional = dict(NEEDS), dict(OPTIONAL)
    for asset in CACHED_ASSETS:
        label = ASSET_LABELS.get(asset, f"access to {CATALOGUE[asset].title}")
        needs[label] = (*ASSET_NEEDS, f"asset:{asset}")
        optional.setdefault(label, ("postcode_lookup", "centroids"))
    imd = cached_path(names["imd"], cache=cache) if names.get("imd") else None
    if imd is not None and imd.is_file() and not _has_population(imd):  # then population comes from its own file
        needs = {k: (*v, "population") if "imd" in v else v for k, v in needs.items()}
    out = []
    for label, fields in needs.items():
        wanted = [f.removeprefix("asset:") if f.startswith("asset:") else names.get(f) for f in fields]
        unavailable = tuple(f for f, n in zip(fields, wanted, strict=True) if n is None)
        listed = list(dict.fromkeys(n for n in wanted if n is not None))
        better = tuple((names[f], BETTER_WITH[f]) for f in optional.get(label, ())
                       if names.get(f) and not there(names[f]))
        out.append(Capability(label, vintage, tuple(n for n in listed if there(n)),
                              tuple(n for n in listed if not there(n)), unavailable, better))
    return out


def _has_population(imd) -> bool:
    """Whether an IoD file carries its population denominators (the official File 7 does)."""
    from geotarget.io.imd import canonical_name
    from geotarget.io.tables import read_text_table

    return any(canonical_name(c)[0] == "pop_total" for c in read_text_table(imd, nrows=0).columns)


__all__ = ["ASSET_LABELS", "ASSET_NEEDS", "BETTER_WITH", "NEEDS", "OPTIONAL", "Capability", "cache_capabilities"]
