"""The one front door for data.

:func:`load` turns a :class:`~geotarget.data.source.DataSource` into a
:class:`~geotarget.data.study_data.StudyData`, whatever the source.

* ``source="sample"`` -- a bundled place (:data:`geotarget.core.places.PLACES`: ``tees_valley``,
  ``trafford``), offline; any other place (a council, a region, england) switches to the cache;
* ``source="files"`` -- official files named explicitly (any councils, a region, England);
* ``source="cache"`` -- the official files in the local data cache (``geotarget data fetch NAME``),
  found by their catalogue names; files named explicitly take precedence.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from geotarget.core.errors import DataNotFoundError, SchemaError
from geotarget.core.places import PLACES
from geotarget.core.vintages import get_vintage
from geotarget.data.place import PlaceChoice, resolve_place
from geotarget.data.source import SOURCES, DataSource
from geotarget.data.study_data import StudyData

log = logging.getLogger(__name__)

#: Catalogue names (:data:`geotarget.io.fetch.CATALOGUE`) of the cached files, by IoD vintage and
#: :class:`DataSource` field. ``None``: the catalogue has no such file for that vintage.
CACHED: dict[int, dict[str, str | None]] = {
    2025: {"imd": "iod2025", "population": "lsoa21-population", "boundaries": "lsoa21-boundaries",
           "lookup": "lsoa21-ward24-lookup", "lads": "lad24-boundaries", "wards": "wards24-boundaries",
           "msoas": "msoa21-boundaries", "centroids": "lsoa21-centroids", "regions": "lad24-regions",
           "codepoint": "codepoint-open", "postcode_lookup": "ons-postcode-lookup",
           "indicators": "iod2025-indicators", "cni": "cni2023"},
    2019: {"imd": "iod2019", "population": None, "boundaries": "lsoa11-boundaries", "lookup": None,
           "lads": "lad24-boundaries", "wards": None, "msoas": None, "centroids": None,
           "regions": "lad24-regions", "codepoint": "codepoint-open", "postcode_lookup": "ons-postcode-lookup",
           "indicators": "iod2019-indicators", "cni": None},
}
#: Catalogue names of cached asset lists, used as ``assets`` when a cache study names none.
CACHED_ASSETS = ("ods-epraccur", "ods-edispensary", "ods-egdpprac", "os-greenspace")
#: What a study cannot do without.
REQUIRED = ("imd", "boundaries", "lookup")


def load(source: DataSource | None = None, **overrides) -> StudyData:
    """Load the data of a study: its LSOAs with the IoD, population, boundaries, lookups and assets.

    Parameters
    ----------
    source
        Where the data comes from (default: ``DataSource()``, the bundled Tees Valley, IoD2025).
    **overrides
        Fields of :class:`~geotarget.data.source.DataSource` to change, e.g.
        ``load(place="trafford")``, ``load(councils=["Middlesbrough"], vintage=2019)`` or
        ``load(source="files", imd="File_7.csv", boundaries=..., lookup=...)``. ``source`` may
        also be given here as a string (``"sample"``, ``"files"``, ``"cache"``).

    Notes
    -----
    ``place`` is resolved offline by :func:`geotarget.data.place.resolve_place`: a bundled place key,
    English councils by name or code (one, or several comma-separated), a region or ``"england"``.
    With ``source="sample"`` (the default) a bundled place is read from the sample; any other place
    is read from the national files in the data cache (``source="cache"``), except councils that all
    lie in a bundled place while the cache lacks the national files (read offline from the sample).
    ``councils`` narrow the place.
    With ``"files"``/``"cache"`` the place is ``councils`` or ``region``, else ``place`` (its default,
    ``"tees_valley"``, and ``"england"`` mean everything in the files). Without boundaries and a lookup
    only the IoD (and what it carries) is read: enough for profiles, gaps and inequality; a job that
    needs more raises :class:`~geotarget.DataNotFoundError` naming the missing layers
    (:meth:`StudyData.require`).

    Returns
    -------
    StudyData
        One object with every layer; ``vintage`` is a field (never a frame's ``attrs``).

    Examples
    --------
    >>> d = load(councils=["Middlesbrough"])
    >>> len(d.lsoas), int((d.lsoas["imd_decile"] == 1).sum()), d.vintage.name
    (90, 45, 'IoD2025')
    >>> t = load(place="trafford")
    >>> len(t.lsoas), len(t.wards), t.councils
    (139, 21, ('E08000009',))
    """
    if isinstance(source, str):
        overrides = {"source": source, **overrides}
        source = None
    ds = source if source is not None else DataSource()
    if overrides:
        fields = {f.name for f in dataclasses.fields(DataSource)}
        bad = sorted(set(overrides) - fields)
        if bad:
            raise SchemaError(f"load() got {', '.join(map(repr, bad))} but is expected to take DataSource fields: "
                              f"{', '.join(sorted(fields))}")
        ds = dataclasses.replace(ds, **_normalise(overrides))
    if ds.source not in SOURCES:
        raise SchemaError(f"source was {ds.source!r} but is expected to be one of {list(SOURCES)}")
    auto = None
    if ds.source == "sample":
        ds, auto = _sample_or_cache(ds)
    if ds.source == "sample":
        from geotarget.data.sample import sample_data

        return sample_data(ds)
    from geotarget.data.bundle import files_data

    if ds.source == "cache":
        if auto is not None:
            missing = missing_in_cache(ds)
            if missing:
                raise DataNotFoundError(
                    f"{auto.name} is not in the bundled sample ({', '.join(p.name for p in PLACES.values())}), so "
                    f"its data comes from the national files in the data cache {_cache_dir(ds)}, which lacks "
                    f"{', '.join(missing)}: run `geotarget data fetch {' '.join(missing)}` (or `geotarget data add "
                    "FILE` for files you have), or name the files (source = \"files\": imd, boundaries, lookup)"
                ).naming("place")
            log.info("%s: reading the national files in the data cache", auto.name)
        ds = cached_source(ds)
    return files_data(verify_recorded(ds))


def verify_recorded(source: DataSource) -> DataSource:
    """Check every file ``source`` names that has a data-cache record against its SHA-256; return ``source``.

    A file fetched or added to the cache keeps a ``<file>.json`` record; whether it is found in the
    cache by name (``source="cache"``) or named by its path (the paths ``geotarget init --files``
    writes), an edited file is an error before it is read
    (:func:`geotarget.io.fetch.verify_cached`). Files without a record are not checked.
    """
    from geotarget.io.fetch import verify_cached

    for f in dataclasses.fields(source):
        if f.name == "cache" or "Path" not in str(f.type):
            continue
        value = getattr(source, f.name)
        for path in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(path, (str, Path)):
                verify_cached(path)
    return source


def missing_in_cache(source: DataSource) -> list[str]:
    """Return the catalogue names of the files a study needs (:data:`REQUIRED`) that the data cache lacks."""
    from geotarget.io.fetch import CATALOGUE, cached_path

    year = get_vintage(source.vintage or 2025).year
    out = []
    for key in REQUIRED:
        name = CACHED[year][key]
        if getattr(source, key) is not None:
            continue
        if name is None or name not in CATALOGUE or not cached_path(name, cache=source.cache).is_file():
            out.append(name or f"({key} for IoD{year})")
    return out


def _cache_dir(source: DataSource) -> Path:
    from geotarget.io.fetch import cache_dir

    return cache_dir(source.cache)


def _sample_or_cache(ds: DataSource) -> tuple[DataSource, PlaceChoice | None]:
    """Decide where a ``source="sample"`` study's data comes from, by its place (:func:`resolve_place`).

    A bundled place key stays the sample (``councils`` narrow it). Any other place (councils, a region,
    england) is read from the data cache -- except councils that all lie in a bundled place while the
    cache lacks the national files, which are read offline from the sample. Returns the source to use
    and, when it switched to the cache, the place it resolved (for the error when the cache lacks files).
    """
    place = ds.region if ds.region is not None and ds.place == DataSource.place else ds.place
    choice = resolve_place(place)
    if choice.kind == "bundled":
        return ds, None  # ``councils`` narrow the bundled place (the sample names what it lacks)
    councils = ds.councils
    if choice.bundled and missing_in_cache(ds):
        return dataclasses.replace(ds, place=choice.key, councils=councils or choice.councils), None
    if choice.kind == "councils" and not councils:
        ds = dataclasses.replace(ds, councils=choice.councils)
    elif choice.kind == "region" and not councils and ds.region is None:
        ds = dataclasses.replace(ds, region=choice.region)
    return dataclasses.replace(ds, source="cache"), choice


def _normalise(overrides: dict) -> dict:
    out = dict(overrides)
    if "councils" in out:
        c = out["councils"]
        out["councils"] = () if c is None else (c,) if isinstance(c, str) else tuple(c)
    if "assets" in out:
        a = out["assets"]
        out["assets"] = () if a is None else (Path(a),) if isinstance(a, (str, Path)) else tuple(Path(p) for p in a)
    for k in ("imd", "population", "boundaries", "lookup", "lads", "wards", "msoas", "centroids", "regions", "cache",
              "codepoint", "postcode_lookup", "indicators", "cni"):
        if out.get(k) is not None:
            out[k] = Path(out[k])
    if out.get("vintage") is not None:
        out["vintage"] = get_vintage(out["vintage"]).year
    return out


def cached_source(source: DataSource) -> DataSource:
    """``source`` with every file it does not name taken from the data cache, by catalogue name.

    Files found in the cache are checked against the SHA-256 recorded when they were fetched or
    added; ``assets`` defaults to the cached asset lists (:data:`CACHED_ASSETS`) when the source
    names none.

    Raises
    ------
    DataNotFoundError
        A required file (IoD, LSOA boundaries, lookup) that is not in the cache, naming the
        ``geotarget data fetch NAME`` command.
    FetchError
        A cached file that has changed since it was stored (naming the file and
        ``geotarget data add/fetch --force``).
    """
    from geotarget.io.fetch import CATALOGUE, cache_dir, cached_path, verify_cached

    year = get_vintage(source.vintage or 2025).year
    found: dict = {}
    for key, name in CACHED[year].items():
        if getattr(source, key) is not None:
            continue
        path = cached_path(name, cache=source.cache) if name in CATALOGUE else None
        if path is not None and path.is_file():
            found[key] = verify_cached(path)
        elif key in REQUIRED:
            where = cache_dir(source.cache)
            if name is None:
                raise DataNotFoundError(
                    f"the data cache has no {key} for IoD{year}: the catalogue has none for LSOA "
                    f"{get_vintage(year).lsoa_year}; name the file as `{key}`").naming(key)
            raise DataNotFoundError(
                f"{key} for IoD{year} ({name}) is not in the data cache {where}: run `geotarget data fetch {name}` "
                f"or `geotarget data add FILE` (or name the file as `{key}`)").naming(key)
    if not source.assets:
        assets = [cached_path(name, cache=source.cache) for name in CACHED_ASSETS if name in CATALOGUE]
        assets = [verify_cached(p) for p in assets if p.is_file()]
        if assets:
            found["assets"] = tuple(assets)
    return dataclasses.replace(source, **found)


__all__ = ["CACHED", "CACHED_ASSETS", "cached_source", "load", "missing_in_cache", "verify_recorded"]
