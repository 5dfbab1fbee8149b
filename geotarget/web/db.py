"""The HIA service's database: models, engine and migrations.

SQLite by default (one file, WAL journal, foreign keys on), PostgreSQL by URL
(``postgresql+psycopg://...``). The schema is versioned with Alembic (``geotarget/web/migrations``):
:func:`migrate` upgrades a database to the newest schema and runs at every start, so a council upgrades
by installing the new geotarget and restarting the service.

Tables: ``users``, ``submissions`` (the site, what it was screened on and the evidence snapshot, with an
optimistic-locking ``version``), ``topic_answers`` (11 per submission), ``review_comments``,
``status_events`` (every status change: who, from, to, when) and ``app_settings`` (the session secret).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker
from sqlalchemy.types import TypeDecorator

from geotarget.core.errors import ConfigError, DataNotFoundError

log = logging.getLogger(__name__)

#: Roles a user may have.
ROLES = ("applicant", "reviewer")
#: Submission statuses, in the order of the flow draft -> submitted -> returned -> submitted -> accepted.
STATUSES = ("draft", "submitted", "returned", "accepted")
#: Answers to "is the topic relevant?" and "likely impact".
RELEVANCE = ("yes", "no", "unsure")
IMPACTS = ("positive", "negative", "neutral", "uncertain")
#: Number of HUDU Rapid HIA topics.
N_TOPICS = 11
#: Longest name, e-mail, site name; longest free text of an answer or comment (characters).
MAX_NAME = 200
MAX_TEXT = 10_000
#: The Alembic configuration shipped with the package.
ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
MIGRATIONS = Path(__file__).with_name("migrations")


def utcnow() -> dt.datetime:
    """Return the current time in UTC, timezone-aware (stored as UTC)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and read back timezone-aware, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Store ``value`` in UTC (naive on SQLite); a naive value is taken to be UTC already."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value.replace(tzinfo=dt.UTC)

    def process_result_value(self, value, dialect):
        """Return the stored time as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""


class User(Base):
    """An account: an applicant (developer, planning consultant) or a reviewer (public health team)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('applicant', 'reviewer')", name="ck_users_role"),
                      UniqueConstraint("email", name="uq_users_email"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_NAME), nullable=False)  #: stored lower-case
    name: Mapped[str] = mapped_column(String(MAX_NAME), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Submission(Base):
    """One HIA: the screened site, the evidence snapshot and the data it was screened on, the answers."""

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'submitted', 'returned', 'accepted')", name="ck_submissions_status"),
        Index("ix_submissions_owner", "owner_id"),
        Index("ix_submissions_status", "status"),
        Index("ix_submissions_ward", "ward_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    #: optimistic lock: every write is ``UPDATE ... WHERE id = ? AND version = ?`` and bumps it
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    review_round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    site_name: Mapped[str] = mapped_column(String(MAX_NAME), nullable=False)
    site_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    site_wkt: Mapped[str] = mapped_column(Text, nullable=False)  #: EPSG:27700
    site_lon: Mapped[float] = mapped_column(Float, nullable=False)  #: a point on the site, WGS84
    site_lat: Mapped[float] = mapped_column(Float, nullable=False)
    site_area_ha: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    site_source: Mapped[str] = mapped_column(Text, nullable=False)  #: how the site was given (postcode, upload ...)
    site_given_as: Mapped[str] = mapped_column(Text, nullable=False, default="")  #: Site.source (for re-screening)
    site_notes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  #: Site.notes
    ward_code: Mapped[str | None] = mapped_column(String(16))
    ward_name: Mapped[str | None] = mapped_column(String(MAX_NAME))
    council_code: Mapped[str | None] = mapped_column(String(16))
    council_name: Mapped[str | None] = mapped_column(String(MAX_NAME))
    buffers: Mapped[list] = mapped_column(JSON, nullable=False)
    place: Mapped[str] = mapped_column(String(MAX_NAME), nullable=False)
    vintage: Mapped[str] = mapped_column(String(64), nullable=False)
    generated: Mapped[str] = mapped_column(String(32), nullable=False)  #: the screening's date (in the evidence)
    geotarget_version: Mapped[str] = mapped_column(String(64), nullable=False)
    severe: Mapped[bool] = mapped_column(nullable=False, default=False)
    flagged_topics: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  #: topic numbers 1..11
    n_flags: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: render_report(sc, "json"), exactly (~100 kB: loaded only when read, not with every list)
    evidence: Mapped[str] = mapped_column(Text, nullable=False, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User] = relationship(lazy="joined")
    answers: Mapped[list[TopicAnswer]] = relationship(back_populates="submission", order_by="TopicAnswer.topic",
                                                      cascade="all, delete-orphan")
    comments: Mapped[list[ReviewComment]] = relationship(back_populates="submission",
                                                         order_by="ReviewComment.id", cascade="all, delete-orphan")
    events: Mapped[list[StatusEvent]] = relationship(back_populates="submission", order_by="StatusEvent.id",
                                                     cascade="all, delete-orphan")


class TopicAnswer(Base):
    """The applicant's answer for one HUDU topic (1..11) of a submission."""

    __tablename__ = "topic_answers"
    __table_args__ = (
        UniqueConstraint("submission_id", "topic", name="uq_topic_answers_submission_topic"),
        CheckConstraint("topic BETWEEN 1 AND 11", name="ck_topic_answers_topic"),
        CheckConstraint("relevant IS NULL OR relevant IN ('yes', 'no', 'unsure')", name="ck_topic_answers_relevant"),
        CheckConstraint("impact IS NULL OR impact IN ('positive', 'negative', 'neutral', 'uncertain')",
                        name="ck_topic_answers_impact"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False)
    topic: Mapped[int] = mapped_column(Integer, nullable=False)
    relevant: Mapped[str | None] = mapped_column(String(16))
    impact: Mapped[str | None] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(Text, nullable=False, default="")
    mitigation: Mapped[str] = mapped_column(Text, nullable=False, default="")

    submission: Mapped[Submission] = relationship(back_populates="answers")


class ReviewComment(Base):
    """A reviewer's comment on a topic (1..11) or on the whole submission (``topic`` NULL), in a review round."""

    __tablename__ = "review_comments"
    __table_args__ = (Index("ix_review_comments_submission", "submission_id"),
                      CheckConstraint("topic IS NULL OR topic BETWEEN 1 AND 11", name="ck_review_comments_topic"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    topic: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="comments")
    author: Mapped[User] = relationship(lazy="joined")


class StatusEvent(Base):
    """A status change of a submission: who, from which status to which, when (gives the time to review)."""

    __tablename__ = "status_events"
    __table_args__ = (Index("ix_status_events_submission", "submission_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="events")
    user: Mapped[User] = relationship(lazy="joined")


class AppSetting(Base):
    """A value the service keeps for itself (the session-signing secret when none is configured)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


# -- engine ------------------------------------------------------------------------------------------------------
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """Return an engine for ``url``; SQLite gets WAL, foreign keys and a 10 s busy timeout.

    Raises :class:`~geotarget.ConfigError` for a URL SQLAlchemy cannot use (naming it and the forms
    expected) and :class:`~geotarget.DataNotFoundError` for a SQLite file whose folder does not exist.
    """
    try:
        u = make_url(url)
    except ArgumentError:
        raise ConfigError(f"db was {url!r} but is expected to be a SQLite file path, 'sqlite:///PATH' or "
                          "'postgresql+psycopg://USER:PASSWORD@HOST/DATABASE'") from None
    if u.get_backend_name() == "sqlite":
        db = u.database or ""
        if db and db != ":memory:" and not Path(db).parent.resolve().is_dir():
            raise DataNotFoundError(f"db: the folder of the SQLite file {db!r} does not exist; create it or give "
                                    "another path")
        if db and db != ":memory:" and not Path(db).exists():
            _create_private(Path(db))
        try:
            engine = create_engine(u, connect_args={"check_same_thread": False, "timeout": 10})
        except (ArgumentError, NoSuchModuleError) as e:
            raise ConfigError(f"db was {url!r}: {e}") from None
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if u.get_backend_name() != "postgresql":
        raise ConfigError(f"db was {url!r} but only SQLite and PostgreSQL databases are supported")
    try:
        return create_engine(u, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as e:
        raise ConfigError(f"db was {u.render_as_string(hide_password=True)!r}: {e}; install the PostgreSQL driver "
                          "with `pip install geotarget[postgres]`") from None


def _create_private(path: Path) -> None:
    """Create an empty SQLite file readable by its owner only (it holds password hashes and applicants' work).

    SQLite gives its ``-wal`` and ``-shm`` files the permissions of the database file.
    """
    import os

    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:  # created meanwhile by another process: theirs
        pass


def session_factory(engine: Engine) -> sessionmaker:
    """Return a session factory bound to ``engine`` (objects stay readable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str):
    """Return the Alembic configuration of the packaged migrations, pointed at ``url``."""
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def shown_url(url: str) -> str:
    """Return ``url`` with its password hidden (for messages)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def migrate(url: str, *, revision: str = "head", engine: Engine | None = None) -> str | None:
    """Upgrade the database at ``url`` to ``revision`` (default the newest schema); return the revision reached.

    An empty database gets the whole schema; a database written by an older geotarget gets the
    migrations since. Raises :class:`~geotarget.ConfigError`, naming the database without its password,
    when it cannot be reached or read, or when its schema is newer than this geotarget knows (a
    database upgraded by a newer geotarget: upgrade geotarget too).
    """
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    own = engine is None
    engine = engine or make_engine(url)
    cfg = alembic_config(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        return current_revision(engine)
    except CommandError as e:
        heads = ", ".join(ScriptDirectory.from_config(cfg).get_heads())
        try:
            at = current_revision(engine)
        except DatabaseError:
            at = None
        raise ConfigError(f"db: the database {shown_url(url)!r} is at schema revision {at!r}, which this geotarget "
                          f"does not know (its newest is {heads}): it was upgraded by a newer geotarget; install "
                          f"that version ({e})") from None
    except DatabaseError as e:  # cannot connect, not a database, a table in the way ...
        raise ConfigError(f"db: cannot open or upgrade the database {shown_url(url)!r}: "
                          f"{str(e.orig).splitlines()[0] if e.orig else e}") from None
    finally:
        if own:
            engine.dispose()


def downgrade(url: str, revision: str = "base", *, engine: Engine | None = None) -> None:
    """Downgrade the database at ``url`` to ``revision`` (``"base"``: remove every table of the service)."""
    from alembic import command

    engine = engine or make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """Return the Alembic revision the database is at (``None`` for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


__all__ = ["ALEMBIC_INI", "AppSetting", "Base", "IMPACTS", "MAX_NAME", "MAX_TEXT", "N_TOPICS", "RELEVANCE", "ROLES",
           "STATUSES", "ReviewComment", "StatusEvent", "Submission", "TopicAnswer", "UTCDateTime", "User",
           "alembic_config", "current_revision", "downgrade", "make_engine", "migrate", "session_factory", "shown_url",
           "utcnow"]
