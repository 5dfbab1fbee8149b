"""What the HIA service does, whatever the front end: accounts, submissions, answers, reviews, the dashboard.

Every function takes a SQLAlchemy session first and, where it applies, the acting user second; the
permission checks are here (not in the routes), so the HTML pages and the JSON API cannot differ:

* applicants see and change only their own submissions; another user's submission is :class:`NotFound`
  (never its data, not even whether it exists);
* reviewers see every submission that has been submitted (a draft is the applicant's own working
  copy), review them and see the dashboard;
* the status flow is draft -> submitted -> returned -> submitted -> ... -> accepted.

Nothing is lost: every write to a submission is one transaction that starts with
``UPDATE submissions SET version = version + 1 WHERE id = ? AND version = ?`` (:func:`_claim`); a caller
holding an older version gets :class:`Conflict` carrying the current one, and an error anywhere in the
transaction rolls all of it back, leaving the previous version as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import statistics
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from geotarget.core.errors import GeotargetError
from geotarget.core.version import __version__
from geotarget.hia.topics import TOPICS
from geotarget.web.db import (
    IMPACTS,
    MAX_NAME,
    MAX_TEXT,
    N_TOPICS,
    RELEVANCE,
    ROLES,
    STATUSES,
    AppSetting,
    ReviewComment,
    StatusEvent,
    Submission,
    TopicAnswer,
    User,
    utcnow,
)

log = logging.getLogger(__name__)

#: The HUDU topic titles by number (1..11), in the order of the screening report.
TOPIC_NUMBERS: dict[int, str] = {i: title for i, (_key, title, _prompts) in enumerate(TOPICS, 1)}
#: Shortest and longest password accepted.
MIN_PASSWORD, MAX_PASSWORD = 10, 1024
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


# -- errors ------------------------------------------------------------------------------------------------------
class ServiceError(GeotargetError):
    """An operation the service refuses; ``status`` is the HTTP status a front end answers with."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field  #: the form field or JSON member at fault, when there is one


class Invalid(ServiceError, ValueError):
    """Bad input (400), naming the field and what was expected."""


class NotFound(ServiceError, LookupError):
    """No such submission, or not one the user may see (404: the two are not told apart)."""

    status = 404


class Forbidden(ServiceError, PermissionError):
    """The user's role may not do this (403), e.g. an applicant reviewing."""

    status = 403


class Conflict(ServiceError):
    """The submission changed since the caller read it (409); ``current_version`` is the version now stored."""

    status = 409

    def __init__(self, message: str, *, current_version: int | None = None):
        super().__init__(message)
        self.current_version = current_version


class TooLarge(ServiceError):
    """An upload or text over the size limit (413)."""

    status = 413


# -- transactions and passwords ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _transaction(session: Session) -> Iterator[None]:
    """Commit what the block did, or roll all of it back if it raises."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


_HASHERS: list = []


def hasher():
    """Return the password hasher (pwdlib's recommended: argon2id), created once per process."""
    if not _HASHERS:
        from pwdlib import PasswordHash

        _HASHERS.append(PasswordHash.recommended())
    return _HASHERS[0]


def set_hasher(password_hash=None) -> None:
    """Use ``password_hash`` (a :class:`pwdlib.PasswordHash`) for new hashes; ``None``: back to the default.

    Existing hashes keep verifying whatever their parameters (argon2 stores them in the hash), and are
    re-hashed with the current ones at the next login.
    """
    _HASHERS[:] = [password_hash] if password_hash is not None else []
    _DUMMY.clear()


# -- users -------------------------------------------------------------------------------------------------------
def normalise_email(email: str) -> str:
    """Return an e-mail address trimmed and lower-cased; refuse one that is not an address.

    >>> normalise_email("  Planner@Example.ORG ")
    'planner@example.org'
    """
    text = str(email or "").strip().lower()
    if not _EMAIL.match(text) or len(text) > MAX_NAME:
        raise Invalid(f"email was {text[:60]!r} but is expected to be an e-mail address (at most {MAX_NAME} "
                      "characters)", field="email")
    return text


def check_password(password: str) -> str:
    """Refuse a password shorter than :data:`MIN_PASSWORD` or longer than :data:`MAX_PASSWORD` characters."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid(f"password: expected {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="password")
    return password


def create_user(session: Session, email: str, name: str, role: str, password: str) -> User:
    """Create an account (``role`` applicant or reviewer) with an argon2 password hash; refuse a taken e-mail."""
    email = normalise_email(email)
    name = _text(name, field="name", limit=MAX_NAME, required=True)
    if role not in ROLES:
        raise Invalid(f"role was {role!r} but is expected to be one of {list(ROLES)}", field="role")
    check_password(password)
    user = User(email=email, name=name, role=role, password_hash=hasher().hash(password))
    try:
        with _transaction(session):
            session.add(user)
            session.flush()
    except IntegrityError:
        raise Invalid(f"email {email!r} is already registered", field="email") from None
    log.info("user %d created (%s)", user.id, role)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the user whose e-mail and password these are, else ``None`` (the same work either way)."""
    try:
        email = normalise_email(email)
    except Invalid:
        email = ""
    user = session.scalar(select(User).where(User.email == email)) if email else None
    if user is None or not isinstance(password, str) or len(password) > MAX_PASSWORD:
        hasher().verify("not the password", _DUMMY_HASH())  # as slow as a real check: no user enumeration
        return None
    ok, new_hash = hasher().verify_and_update(password, user.password_hash)
    if not ok:
        return None
    if new_hash:  # parameters strengthened since the hash was made
        with _transaction(session):
            user.password_hash = new_hash
    return user


_DUMMY: list[str] = []


def _DUMMY_HASH() -> str:  # noqa: N802 - reads as the constant it stands for
    if not _DUMMY:
        _DUMMY.append(hasher().hash("geotarget: no such user"))
    return _DUMMY[0]


def set_password(session: Session, email: str, password: str) -> User:
    """Give the account ``email`` a new password (its sessions started with the old one end); return it."""
    email = normalise_email(email)
    check_password(password)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise NotFound(f"email {email!r}: no such account")
    with _transaction(session):
        user.password_hash = hasher().hash(password)
    return user


def get_user(session: Session, user_id: int) -> User | None:
    """Return the user with id ``user_id`` (``None`` if the account no longer exists)."""
    return session.get(User, int(user_id))


def app_secret(session: Session) -> str:
    """Return the session-signing secret kept in the database, creating it on first use."""
    import secrets

    row = session.get(AppSetting, "session_secret")
    if row is not None:
        return row.value
    value = secrets.token_urlsafe(48)
    try:
        with _transaction(session):
            session.add(AppSetting(key="session_secret", value=value))
    except IntegrityError:  # another worker created it first
        row = session.get(AppSetting, "session_secret")
        return row.value
    return value


# -- submissions -------------------------------------------------------------------------------------------------
def create_submission(session: Session, user: User, site, screening, site_source: str) -> Submission:
    """Store a new draft HIA for ``site`` from its ``screening``, with the evidence snapshot and what it was made on.

    The snapshot is ``render_report(screening, "json")`` exactly; with the site geometry (EPSG:27700), the
    buffers, the data vintage, the screening date and the geotarget version it lets the report be
    reproduced later (:func:`reproduce`). Only applicants create submissions.
    """
    import geopandas as gpd

    from geotarget.core.crs import BNG
    from geotarget.hia.report import render_report

    if user.role != "applicant":
        raise Forbidden("only an applicant account creates submissions; reviewers review them")
    site_source = _text(site_source, field="site_source", limit=MAX_TEXT, required=True)
    evidence = render_report(screening, "json").decode("utf-8")
    c = site.centre
    lon, lat = gpd.GeoSeries([c], crs=BNG).to_crs("EPSG:4326").iloc[0].coords[0]
    wards = screening.wards
    ward_code = ward_name = None
    if len(wards):
        on = wards[wards["site_in_ward"]] if "site_in_ward" in wards else wards
        row = (on if len(on) else wards).iloc[0]
        ward_code, ward_name = str(row["ward_code"]), str(row["ward_name"])
    now = utcnow()
    sub = Submission(
        owner_id=user.id, status="draft", version=1, review_round=0,
        site_name=_text(site.name, field="name", limit=MAX_NAME, required=True), site_kind=site.kind,
        site_wkt=site.geometry.wkt, site_lon=round(float(lon), 6), site_lat=round(float(lat), 6),
        site_area_ha=round(site.area_ha, 4), site_source=site_source, site_given_as=site.source,
        site_notes=list(site.notes), ward_code=ward_code, ward_name=ward_name,
        council_code=str(screening.council[0]), council_name=str(screening.council[1]),
        buffers=[float(b) for b in screening.buffers], place=str(screening.place), vintage=screening.vintage.label,
        generated=str(screening.generated), geotarget_version=__version__, severe=bool(screening.severe),
        flagged_topics=[i for i, t in enumerate(screening.topics, 1) if t.get("flag_texts")],
        n_flags=len(screening.flags), evidence=evidence, created_at=now, updated_at=now,
    )
    sub.answers = [TopicAnswer(topic=i, evidence="", mitigation="") for i in range(1, N_TOPICS + 1)]
    with _transaction(session):
        session.add(sub)
        session.flush()
        session.add(StatusEvent(submission_id=sub.id, user_id=user.id, from_status=None, to_status="draft", at=now))
    log.info("submission %d created by user %d (%s, %s)", sub.id, user.id, sub.site_kind, sub.council_code)
    return sub


def _visible(user: User):
    """Return the WHERE clause of the submissions ``user`` may see."""
    if user.role == "reviewer":
        return Submission.status != "draft"
    return Submission.owner_id == user.id


def get_submission(session: Session, user: User, submission_id: int) -> Submission:
    """Return submission ``submission_id`` if ``user`` may see it, else :class:`NotFound` (nothing leaked)."""
    try:
        sid = int(submission_id)
    except (TypeError, ValueError):
        raise NotFound(f"submission {str(submission_id)[:20]!r} not found") from None
    sub = session.scalar(select(Submission).where(Submission.id == sid, _visible(user)))
    if sub is None:
        raise NotFound(f"submission {sid} not found")
    return sub


def _date(value, *, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid(f"{field} was {str(value)[:30]!r} but is expected to be a date YYYY-MM-DD",
                      field=field) from None


def list_submissions(session: Session, user: User, status: str | None = None, ward: str | None = None,
                     date_from=None, date_to=None) -> list[Submission]:
    """Return the submissions ``user`` may see, newest first, filtered by status, ward and date.

    ``ward`` matches the ward code or name (case-insensitive); the dates (inclusive, ``YYYY-MM-DD``)
    are those of the latest submission, or of creation for a draft.
    """
    q = select(Submission).where(_visible(user))
    if status not in (None, ""):
        if status not in STATUSES:
            raise Invalid(f"status was {str(status)[:30]!r} but is expected to be one of {list(STATUSES)}",
                          field="status")
        q = q.where(Submission.status == status)
    if ward not in (None, ""):
        w = str(ward).strip().lower()
        q = q.where((func.lower(Submission.ward_code) == w) | (func.lower(Submission.ward_name) == w))
    when = func.coalesce(Submission.submitted_at, Submission.created_at)
    d0, d1 = _date(date_from, field="from"), _date(date_to, field="to")
    if d0 is not None:
        q = q.where(when >= dt.datetime.combine(d0, dt.time(), dt.UTC))
    if d1 is not None:
        q = q.where(when < dt.datetime.combine(d1 + dt.timedelta(days=1), dt.time(), dt.UTC))
    return list(session.scalars(q.order_by(when.desc(), Submission.id.desc())))


def _claim(session: Session, sub: Submission, version) -> None:
    """Take the submission at ``version`` for this transaction: bump its version, or raise :class:`Conflict`."""
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise Invalid(f"version was {str(version)[:20]!r} but is expected to be the integer version you read",
                      field="version") from None
    res = session.execute(update(Submission).where(Submission.id == sub.id, Submission.version == version)
                          .values(version=Submission.version + 1, updated_at=utcnow())
                          .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        session.rollback()
        current = session.scalar(select(Submission.version).where(Submission.id == sub.id))
        raise Conflict(f"submission {sub.id} was changed by someone else (you have version {version}, it is now "
                       f"version {current}); reload it and make your changes again", current_version=current)
    session.refresh(sub)


def _answer_values(answers: Iterable[dict]) -> dict[int, dict]:
    """Check the answers given; return them by topic number."""
    if not isinstance(answers, (list, tuple)):
        raise Invalid("answers: expected a list of {topic, relevant, impact, evidence, mitigation}", field="answers")
    out: dict[int, dict] = {}
    for a in answers:
        if not isinstance(a, dict):
            raise Invalid("answers: each answer must be an object", field="answers")
        try:
            n = int(a.get("topic"))
        except (TypeError, ValueError):
            n = 0
        if not 1 <= n <= N_TOPICS or n in out:
            raise Invalid(f"answers: topic was {a.get('topic')!r} but is expected to be a topic number from 1 to "
                          f"{N_TOPICS}, once each", field="answers")
        rel = a.get("relevant") or None
        imp = a.get("impact") or None
        if rel is not None and rel not in RELEVANCE:
            raise Invalid(f"relevant_{n} was {str(rel)[:20]!r} but is expected to be one of {list(RELEVANCE)}",
                          field=f"relevant_{n}")
        if imp is not None and imp not in IMPACTS:
            raise Invalid(f"impact_{n} was {str(imp)[:20]!r} but is expected to be one of {list(IMPACTS)}",
                          field=f"impact_{n}")
        out[n] = {"relevant": rel, "impact": imp,
                  "evidence": _text(a.get("evidence"), field=f"evidence_{n}", limit=MAX_TEXT),
                  "mitigation": _text(a.get("mitigation"), field=f"mitigation_{n}", limit=MAX_TEXT)}
    return out


def _own(sub: Submission, user: User, what: str) -> None:
    if user.role != "applicant" or sub.owner_id != user.id:
        raise Forbidden(f"only the applicant who owns submission {sub.id} can {what}")


def save_answers(session: Session, user: User, submission_id: int, version, answers: list[dict]) -> Submission:
    """Save the applicant's answers (any of the 11 topics) to a draft or returned submission; bump its version."""
    sub = get_submission(session, user, submission_id)
    _own(sub, user, "change its answers")
    values = _answer_values(answers)
    if sub.status not in ("draft", "returned"):
        raise Invalid(f"submission {sub.id} is {sub.status}: answers can be changed while it is a draft or "
                      "returned for changes", field="status")
    with _transaction(session):
        _claim(session, sub, version)
        by_topic = {a.topic: a for a in sub.answers}
        for n, v in values.items():
            a = by_topic.get(n)
            if a is None:
                a = TopicAnswer(topic=n)
                sub.answers.append(a)
            a.relevant, a.impact, a.evidence, a.mitigation = v["relevant"], v["impact"], v["evidence"], v["mitigation"]
    log.info("submission %d: %d answer(s) saved by user %d, version %d", sub.id, len(values), user.id, sub.version)
    return sub


def missing_answers(sub: Submission) -> list[int]:
    """Return the topic numbers whose relevance or likely impact is not yet answered."""
    done = {a.topic for a in sub.answers if a.relevant and a.impact}
    return [n for n in range(1, N_TOPICS + 1) if n not in done]


def submit(session: Session, user: User, submission_id: int, version) -> Submission:
    """Submit a draft (or a returned submission, revised) for review; all 11 topics need relevance and impact."""
    sub = get_submission(session, user, submission_id)
    _own(sub, user, "submit it")
    if sub.status not in ("draft", "returned"):
        raise Invalid(f"submission {sub.id} is {sub.status}: only a draft or a returned submission can be "
                      "submitted", field="status")
    missing = missing_answers(sub)
    if missing:
        raise Invalid(f"submission {sub.id}: topics {', '.join(map(str, missing))} need an answer to 'relevant?' "
                      "and 'likely impact' before it can be submitted", field="answers")
    with _transaction(session):
        _claim(session, sub, version)
        _move(session, sub, user, "submitted")
        sub.submitted_at = utcnow()
        sub.review_round += 1
    return sub


def review(session: Session, reviewer: User, submission_id: int, version, decision: str,
           comments: list[dict] | None = None) -> Submission:
    """Accept a submitted HIA or return it for changes, with comments per topic (1..11) or general (topic None).

    Returning needs at least one comment (what to change).
    """
    if reviewer.role != "reviewer":
        raise Forbidden("only a reviewer can review a submission")
    sub = get_submission(session, reviewer, submission_id)
    if decision not in ("accepted", "returned"):
        raise Invalid(f"decision was {str(decision)[:20]!r} but is expected to be 'accepted' or 'returned'",
                      field="decision")
    rows = []
    for c in comments or []:
        if not isinstance(c, dict):
            raise Invalid("comments: each comment must be an object {topic, text}", field="comments")
        topic = c.get("topic")
        if topic in ("", "general"):
            topic = None
        if topic is not None:
            try:
                topic = int(topic)
            except (TypeError, ValueError):
                topic = 0
            if not 1 <= topic <= N_TOPICS:
                raise Invalid(f"comments: topic was {c.get('topic')!r} but is expected to be 1 to {N_TOPICS} or "
                              "empty (a general comment)", field="comments")
        text = _text(c.get("text"), field=f"comment_{topic or 'general'}", limit=MAX_TEXT)
        if text:
            rows.append((topic, text))
    if decision == "returned" and not rows:
        raise Invalid("comments: say what to change when returning a submission (a comment on a topic or a "
                      "general one)", field="comments")
    if sub.status != "submitted":
        raise Invalid(f"submission {sub.id} is {sub.status}: only a submitted HIA can be reviewed", field="status")
    with _transaction(session):
        _claim(session, sub, version)
        now = utcnow()
        for topic, text in rows:
            sub.comments.append(ReviewComment(author_id=reviewer.id, topic=topic, text=text,
                                              round=sub.review_round, created_at=now))
        _move(session, sub, reviewer, decision)
        sub.reviewed_at = now
    return sub


def _move(session: Session, sub: Submission, user: User, to: str) -> None:
    session.add(StatusEvent(submission_id=sub.id, user_id=user.id, from_status=sub.status, to_status=to,
                            at=utcnow()))
    log.info("submission %d: %s -> %s by user %d", sub.id, sub.status, to, user.id)
    sub.status = to


def _text(value, *, field: str, limit: int, required: bool = False) -> str:
    """Return user text trimmed, at most ``limit`` characters (refused beyond), control characters removed."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(f"{field}: expected text", field=field)
    text = "".join(ch for ch in value.strip() if ch.isprintable() or ch in "\n\t")
    if len(text) > limit:
        raise Invalid(f"{field}: {len(text):,} characters; at most {limit:,} are accepted", field=field)
    if required and not text:
        raise Invalid(f"{field}: required", field=field)
    return text


# -- reproducing a stored screening --------------------------------------------------------------------------
def stored_site(sub: Submission):
    """Return the :class:`~geotarget.io.sites.Site` a submission was screened for (geometry in EPSG:27700)."""
    import shapely

    from geotarget.io.sites import Site

    return Site(sub.site_name, shapely.from_wkt(sub.site_wkt), sub.site_given_as, tuple(sub.site_notes or ()))


def reproduce(sub: Submission, screener) -> tuple[object, bool]:
    """Re-screen the stored site with the stored buffers and date; return the screening and whether it matches.

    It matches when ``render_report(sc, "json")`` is the stored evidence byte for byte (same data, same
    geotarget); otherwise the data or the code changed since.
    """
    from geotarget.hia.report import render_report

    sc = screener.screen(stored_site(sub), buffers=tuple(sub.buffers), generated=sub.generated)
    return sc, render_report(sc, "json").decode("utf-8") == sub.evidence


# -- the dashboard -------------------------------------------------------------------------------------------
def _reviewer(user: User) -> None:
    if user.role != "reviewer":
        raise Forbidden("the dashboard is for reviewers")


def _review_times(events: list[StatusEvent]) -> list[float]:
    """Hours from each submission to the review (accepted/returned) that followed it."""
    out, since = [], None
    for e in sorted(events, key=lambda e: (e.at, e.id)):
        if e.to_status == "submitted":
            since = e.at
        elif e.to_status in ("accepted", "returned") and since is not None:
            out.append((e.at - since).total_seconds() / 3600)
            since = None
    return out


def _submitted():
    """Return the query of every submission that has been submitted, answers and history loaded in two queries."""
    return (select(Submission).where(Submission.status != "draft").order_by(Submission.id)
            .options(selectinload(Submission.answers), selectinload(Submission.events)))


def dashboard(session: Session, user: User) -> dict:
    """Return the evaluation across submitted HIAs (every status but draft) for a reviewer.

    * ``sites``: submissions, by status, council and ward; ``points``: where they are (for the map);
    * ``topics``: per HUDU topic, how many sites the screening flagged, how many applicants judged it
      relevant, a negative impact, and gave mitigation;
    * ``mitigation``: sites with mitigation on at least one topic, and the rate (of sites);
    * ``review``: hours from each submission to its review (count, mean, median, longest) and submissions
      waiting for review.
    """
    _reviewer(user)
    subs = list(session.scalars(_submitted()))
    n = len(subs)
    by_status = {s: sum(1 for x in subs if x.status == s) for s in STATUSES if s != "draft"}
    topics = []
    for i, title in TOPIC_NUMBERS.items():
        answers = [a for s in subs for a in s.answers if a.topic == i]
        topics.append({"topic": i, "title": title,
                       "flagged": sum(1 for s in subs if i in (s.flagged_topics or [])),
                       "relevant": sum(1 for a in answers if a.relevant == "yes"),
                       "negative": sum(1 for a in answers if a.impact == "negative"),
                       "mitigation": sum(1 for a in answers if a.mitigation.strip())})
    with_mitigation = sum(1 for s in subs if any(a.mitigation.strip() for a in s.answers))
    hours = [h for s in subs for h in _review_times(s.events)]
    waiting = [s for s in subs if s.status == "submitted"]
    now = utcnow()
    return {
        "sites": n,
        "by_status": by_status,
        "by_council": _counts(s.council_name or "" for s in subs),
        "by_ward": _counts(s.ward_name or "" for s in subs),
        "points": [{"id": s.id, "name": s.site_name, "lon": s.site_lon, "lat": s.site_lat, "status": s.status,
                    "ward": s.ward_name, "n_flags": s.n_flags} for s in subs],
        "topics": topics,
        "topics_most_flagged": [t["topic"] for t in sorted(topics, key=lambda t: (-t["flagged"], t["topic"]))
                                if t["flagged"]],
        "mitigation": {"sites_with_mitigation": with_mitigation,
                       "rate": round(with_mitigation / n, 4) if n else None},
        "review": {"reviews": len(hours),
                   "mean_hours": round(statistics.fmean(hours), 2) if hours else None,
                   "median_hours": round(statistics.median(hours), 2) if hours else None,
                   "max_hours": round(max(hours), 2) if hours else None,
                   "waiting": len(waiting),
                   "oldest_waiting_hours": round(max((now - s.submitted_at).total_seconds() / 3600
                                                     for s in waiting), 2) if waiting else None},
    }


def _counts(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def dashboard_rows(session: Session, user: User) -> pd.DataFrame:
    """One row per submitted HIA (every status but draft) for the CSV export (write it with io.files.write_csv)."""
    _reviewer(user)
    rows = []
    for s in session.scalars(_submitted()):
        first_review = _review_times(s.events)
        ans = {a.topic: a for a in s.answers}
        rows.append({
            "id": s.id, "site_name": s.site_name, "status": s.status, "applicant": s.owner.name,
            "council_code": s.council_code, "council": s.council_name, "ward_code": s.ward_code, "ward": s.ward_name,
            "longitude": s.site_lon, "latitude": s.site_lat, "site_kind": s.site_kind, "area_ha": s.site_area_ha,
            "severe_health_inequalities": s.severe, "n_flags": s.n_flags,
            "flagged_topics": " ".join(str(t) for t in s.flagged_topics or []),
            "topics_relevant": sum(1 for a in ans.values() if a.relevant == "yes"),
            "negative_impacts": sum(1 for a in ans.values() if a.impact == "negative"),
            "topics_with_mitigation": sum(1 for a in ans.values() if a.mitigation.strip()),
            "review_rounds": s.review_round,
            "created": _iso(s.created_at), "submitted": _iso(s.submitted_at), "reviewed": _iso(s.reviewed_at),
            "hours_to_first_review": round(first_review[0], 2) if first_review else None,
            "data_vintage": s.vintage, "geotarget_version": s.geotarget_version,
        })
    cols = ["id", "site_name", "status", "applicant", "council_code", "council", "ward_code", "ward", "longitude",
            "latitude", "site_kind", "area_ha", "severe_health_inequalities", "n_flags", "flagged_topics",
            "topics_relevant", "negative_impacts", "topics_with_mitigation", "review_rounds", "created", "submitted",
            "reviewed", "hours_to_first_review", "data_vintage", "geotarget_version"]
    return pd.DataFrame(rows, columns=cols)


def dashboard_csv(session: Session, user: User) -> bytes:
    """Return :func:`dashboard_rows` as CSV bytes via :func:`geotarget.io.files.write_csv` (formulas defused)."""
    from geotarget.io.files import write_csv

    frame = dashboard_rows(session, user)
    with tempfile.TemporaryDirectory(prefix="geotarget-csv-") as tmp:
        return write_csv(Path(tmp) / "dashboard.csv", frame).read_bytes()


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat(timespec="seconds") if t is not None else None


def submission_dict(sub: Submission, *, with_evidence: bool = False) -> dict:
    """Return a submission as JSON-ready data (what the API answers with)."""
    out = {
        "id": sub.id, "status": sub.status, "version": sub.version, "review_round": sub.review_round,
        "owner": {"id": sub.owner.id, "name": sub.owner.name},
        "site": {"name": sub.site_name, "kind": sub.site_kind, "wkt": sub.site_wkt, "lon": sub.site_lon,
                 "lat": sub.site_lat, "area_ha": sub.site_area_ha, "source": sub.site_source,
                 "notes": list(sub.site_notes or [])},
        "ward": {"code": sub.ward_code, "name": sub.ward_name},
        "council": {"code": sub.council_code, "name": sub.council_name},
        "buffers": list(sub.buffers), "place": sub.place, "vintage": sub.vintage, "generated": sub.generated,
        "geotarget_version": sub.geotarget_version, "severe_health_inequalities": sub.severe,
        "n_flags": sub.n_flags, "flagged_topics": list(sub.flagged_topics or []),
        "created_at": _iso(sub.created_at), "updated_at": _iso(sub.updated_at),
        "submitted_at": _iso(sub.submitted_at), "reviewed_at": _iso(sub.reviewed_at),
        "answers": [{"topic": a.topic, "title": TOPIC_NUMBERS.get(a.topic, ""), "relevant": a.relevant,
                     "impact": a.impact, "evidence": a.evidence, "mitigation": a.mitigation} for a in sub.answers],
        "comments": [{"topic": c.topic, "text": c.text, "round": c.round, "author": c.author.name,
                      "created_at": _iso(c.created_at)} for c in sub.comments],
        "events": [{"from": e.from_status, "to": e.to_status, "by": e.user.name, "at": _iso(e.at)}
                   for e in sub.events],
    }
    if with_evidence:
        out["evidence"] = json.loads(sub.evidence)
    return out


__all__ = ["Conflict", "Forbidden", "Invalid", "MIN_PASSWORD", "NotFound", "ServiceError", "TOPIC_NUMBERS",
           "TooLarge", "app_secret", "authenticate", "check_password", "create_submission", "create_user",
           "dashboard", "dashboard_csv", "dashboard_rows", "get_submission", "get_user", "list_submissions",
           "missing_answers", "normalise_email", "reproduce", "review", "save_answers", "set_hasher", "set_password",
           "stored_site", "submission_dict", "submit"]
