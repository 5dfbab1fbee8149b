"""Alembic environment of the HIA service: migrations run on the connection (or URL) geotarget passes.

Importing this file outside an Alembic run (e.g. ``pytest --doctest-modules``) does nothing.
"""

from __future__ import annotations

from alembic import context

from geotarget.web.db import Base, make_engine

target_metadata = Base.metadata


def _config():
    """Return Alembic's configuration, or ``None`` when this file is imported outside an Alembic run."""
    try:
        return context.config
    except AttributeError:
        return None


def _url(config) -> str:
    url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("alembic: give the database URL: alembic -x url=sqlite:///hia.sqlite3 upgrade head")
    return url


def run_migrations_offline(config) -> None:
    """Emit the SQL of the migrations (``alembic upgrade head --sql``)."""
    context.configure(url=_url(config), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online(config) -> None:
    """Run the migrations on the connection geotarget gave, else on a new one to the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url(config))
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


_CONFIG = _config()
if _CONFIG is not None:
    if context.is_offline_mode():
        run_migrations_offline(_CONFIG)
    else:
        run_migrations_online(_CONFIG)
