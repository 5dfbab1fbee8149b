"""Settings of the HIA web service: one frozen dataclass, built from the command line or the environment.

:class:`Settings` is passed to :func:`geotarget.web.app.create_app`; nothing in the service reads the
environment except :meth:`Settings.from_env` (used by the uvicorn factory ``geotarget.web.app:app_from_env``
when ``geotarget serve --workers N`` starts several processes).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from geotarget.core.errors import ParameterError

#: Default database: one SQLite file in the current folder.
DEFAULT_DB = "geotarget-hia.sqlite3"
#: Hosts that count as local: cookies are not marked Secure (plain http on the same machine).
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Prefix of the environment variables read by :meth:`Settings.from_env`.
ENV_PREFIX = "GEOTARGET_SERVE_"


def database_url(db: str | os.PathLike | None) -> str:
    """Return a SQLAlchemy URL for ``db``: a URL is kept, a plain path becomes ``sqlite:///PATH``.

    >>> database_url("hia.sqlite3")
    'sqlite:///hia.sqlite3'
    >>> database_url("postgresql+psycopg://hia@db/hia")
    'postgresql+psycopg://hia@db/hia'
    """
    if db is None or str(db).strip() == "":
        return f"sqlite:///{DEFAULT_DB}"
    text = os.fspath(db).strip() if isinstance(db, os.PathLike) else str(db).strip()
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme in ("postgres", "postgresql"):  # the driver geotarget installs (the `postgres` extra)
            return "postgresql+psycopg://" + text.split("://", 1)[1]
        if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
            raise ParameterError(f"db was {text!r} but is expected to be a SQLite file path, 'sqlite:///PATH' or "
                                 "'postgresql+psycopg://USER:PASSWORD@HOST/DATABASE'", parameter="db")
        return text
    return f"sqlite:///{Path(text)}"


#: Worker processes by default: one per core, at most 4 (see ``Settings.workers``).
DEFAULT_WORKERS = max(1, min(os.cpu_count() or 1, 4))


@dataclass(frozen=True)
class Settings:
    """How the HIA service runs.

    Attributes
    ----------
    place
        The place screened (a bundled place key, a council's name or code ...); ``None``: the bundled
        Tees Valley sample, as ``geotarget hia``.
    source
        Where the data comes from, as the CLI's ``--source``: ``"sample"`` (bundled; any other
        place from the cache) or ``"cache"``; ``None`` = ``"sample"``.
    db_url
        SQLAlchemy URL (a plain path is turned into a SQLite URL by :func:`database_url`).
    secret_key
        Signs the session cookie; ``None``: generated once and kept in the database, so sessions
        survive restarts.
    secure_cookies
        Mark cookies Secure (sent over https only); ``None``: True unless ``host`` is local.
    host, port
        Where ``geotarget serve`` listens.
    max_upload_bytes
        Largest request body accepted for an uploaded site file (413 beyond it).
    screen_rate_per_minute
        Screenings allowed per client per minute (429 beyond it); 0 disables the limit.
    login_rate_per_minute
        Login attempts allowed per client per minute.
    workers
        uvicorn worker processes: by default one per core, at most 4 (:data:`DEFAULT_WORKERS`). A screening
        holds Python's interpreter lock, so one process uses one core: on this 2-core machine 20 clients
        screening at once get their answers in under 1 s (95th percentile) with 2 processes and about 1.7 s
        with 1 (``benchmarks/bench_serve.py``). Each process loads the data once (about 0.3 GB for the
        bundled sample) and keeps its own screening cache and rate-limit counts.
    screen_cache_size
        Screenings kept in memory (LRU) per process.
    forwarded_allow_ips
        Behind a reverse proxy (TLS): the proxy's addresses (comma-separated, as uvicorn's
        ``--forwarded-allow-ips``), whose ``X-Forwarded-For`` / ``-Proto`` are trusted, so each client is
        rate-limited on its own address; ``None``: no proxy, headers ignored.
    """

    place: str | None = None
    source: str | None = None
    db_url: str = f"sqlite:///{DEFAULT_DB}"
    secret_key: str | None = None
    secure_cookies: bool | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 5_000_000
    screen_rate_per_minute: int = 30
    login_rate_per_minute: int = 10
    workers: int = DEFAULT_WORKERS
    screen_cache_size: int = 256
    forwarded_allow_ips: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "db_url", database_url(self.db_url))
        if self.secure_cookies is None:
            object.__setattr__(self, "secure_cookies", self.host not in LOCAL_HOSTS)
        for name in ("max_upload_bytes", "workers"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"{name} was {getattr(self, name)!r} but is expected to be at least 1",
                                     parameter=name)
        for name in ("screen_rate_per_minute", "login_rate_per_minute", "screen_cache_size"):
            if int(getattr(self, name)) < 0:
                raise ParameterError(f"{name} was {getattr(self, name)!r} but is expected to be 0 or more",
                                     parameter=name)
        if not 0 < int(self.port) < 65536:
            raise ParameterError(f"port was {self.port!r} but is expected to be from 1 to 65535", parameter="port")
        if self.source not in (None, "sample", "cache"):
            raise ParameterError(f"source was {self.source!r} but is expected to be one of ['sample', 'cache']",
                                 parameter="source")

    def to_env(self) -> dict[str, str]:
        """Return the settings as ``GEOTARGET_SERVE_*`` variables (read back by :meth:`from_env`)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is not None:
                out[ENV_PREFIX + f.name.upper()] = str(int(v)) if isinstance(v, bool) else str(v)
        return out

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``GEOTARGET_SERVE_*`` variables (``env``, default ``os.environ``)."""
        env = os.environ if env is None else env
        kw = {}
        for f in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.name == "secure_cookies":
                kw[f.name] = raw.strip().lower() in ("1", "true", "yes")
            elif f.type in ("int", int):
                try:
                    kw[f.name] = int(raw)
                except ValueError:
                    raise ParameterError(f"{ENV_PREFIX + f.name.upper()} was {raw!r} but is expected to be an "
                                         "integer", parameter=f.name) from None
            else:
                kw[f.name] = raw
        return cls(**kw)


__all__ = ["DEFAULT_DB", "ENV_PREFIX", "LOCAL_HOSTS", "Settings", "database_url"]
