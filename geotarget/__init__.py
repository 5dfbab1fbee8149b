"""geotarget: turn English deprivation data into defensible decisions about places.

The public API, one module per capability:

* :func:`read_imd`, :func:`read_population` -- the Indices of Deprivation as published;
* :func:`read_boundaries` -- LSOA/MSOA/ward/LAD boundaries, any format, in EPSG:27700;
* :func:`read_lsoa_lookup` -- LSOA -> MSOA/ward/LAD best-fit lookups;
* :func:`attach_imd` -- join IoD to boundaries with a vintage guard;
* :func:`load` -- the one front door for data: a bundled place, official files or the cache, as one
  :class:`StudyData` (LSOAs, wards, councils, MSOAs, centroids, postcodes, assets, vintage ...);
* :func:`aggregate` -- MHCLG's summary measures for LADs, MSOAs, wards and custom areas;
* :func:`run` -- the main job: joined data, a deprivation map and a council summary;
* :func:`read_assets` -- community asset lists located and categorised (then
  :mod:`geotarget.analysis.access`, :mod:`geotarget.analysis.deserts`, :mod:`geotarget.jobs.access`
  for access against need).
* :func:`load_study` / :func:`geotarget.study.pipeline.run_study` -- study files (TOML) run end to end;
* :mod:`geotarget.io.provenance` -- the manifest every output folder gets; :mod:`geotarget.io.fetch` --
  official data from the publishers.
"""

from __future__ import annotations

from geotarget.analysis.aggregate import aggregate, in_most_deprived
from geotarget.core.crs import BNG, WGS84
from geotarget.core.errors import (
    AreaNotFoundError,
    ConfigError,
    CRSError,
    DataNotFoundError,
    FetchError,
    GeotargetError,
    SchemaError,
    VintageError,
)
from geotarget.core.version import __version__
from geotarget.core.vintages import IOD2019, IOD2025, Vintage, get_vintage
from geotarget.data.join import attach_imd
from geotarget.data.load import load
from geotarget.data.source import DataSource
from geotarget.data.study_data import StudyData
from geotarget.io.assets import read_assets
from geotarget.io.boundaries import read_boundaries
from geotarget.io.imd import add_population, read_imd, read_population
from geotarget.io.lookups import attach_lookup, read_lsoa_lookup
from geotarget.study.schema import load_study

__all__ = [
    "AreaNotFoundError", "BNG", "CRSError", "DataNotFoundError", "GeotargetError", "IOD2019", "IOD2025",
    "SchemaError", "StudyData", "DataSource", "load", "aggregate", "in_most_deprived", "Vintage", "VintageError",
    "WGS84", "__version__", "add_population",
    "attach_imd", "attach_lookup", "get_vintage", "read_boundaries", "read_imd",
    "read_lsoa_lookup", "read_population", "read_assets",
    "ConfigError", "FetchError", "load_study",
]
