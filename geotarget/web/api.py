"""The JSON API under ``/api``: the same operations as the pages, for a council's planning system.

Log in with ``POST /api/login`` (JSON ``{email, password}``): the answer carries ``csrf_token`` and sets
the session cookie; send the token as the ``X-CSRF-Token`` header on every POST/PUT. ``/api/login``
itself needs no token (it issues one) but accepts only ``application/json``, which a cross-site form
cannot send. Errors are ``{"detail": message}`` (plus ``field``, and ``current_version`` on 409).
Every operation is a function of :mod:`geotarget.web.service`, which checks permissions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from geotarget.web import service
from geotarget.web.db import MAX_NAME, MAX_TEXT, N_TOPICS, User
from geotarget.web.security import (
    REPORT_CSP,
    check_csrf,
    client_key,
    csrf_token,
    limit_login,
    new_session,
    session_matches,
    session_user_id,
)

router = APIRouter(prefix="/api", tags=["HIA service"])

#: Report formats served, with their media types.
REPORT_TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
                "json": "application/json", "pdf": "application/pdf"}


# -- models (the OpenAPI schema) -------------------------------------------------------------------------------
class LoginIn(BaseModel):
    """Credentials."""

    email: str = Field(max_length=MAX_NAME, examples=["planner@example.org"])
    password: str = Field(max_length=service.MAX_PASSWORD)


class UserOut(BaseModel):
    """An account as others see it."""

    id: int
    email: str
    name: str
    role: Literal["applicant", "reviewer"]


class SessionOut(BaseModel):
    """The logged-in user and the session's CSRF token (send it as X-CSRF-Token)."""

    user: UserOut
    csrf_token: str


class SiteIn(BaseModel):
    """A site: ``site`` (postcode, 'E,N', 'lat=..., lon=...' or WKT) or ``geojson`` (WGS84), and a name.

    A file (GeoJSON, KML, zipped Shapefile) is sent instead as ``multipart/form-data`` with the fields
    ``site_file`` and ``name``.
    """

    site: str | None = Field(None, max_length=200_000, examples=["TS18 1AU"])
    geojson: dict[str, Any] | str | None = Field(None, description="a Polygon/Point geometry, Feature or "
                                                               "one-feature FeatureCollection, WGS84")
    name: str | None = Field(None, max_length=MAX_NAME, examples=["Land at Portrack Lane"])


class AnswerIn(BaseModel):
    """The applicant's answer for one HUDU topic."""

    topic: int = Field(ge=1, le=N_TOPICS)
    relevant: Literal["yes", "no", "unsure"] | None = None
    impact: Literal["positive", "negative", "neutral", "uncertain"] | None = None
    evidence: str = Field("", max_length=MAX_TEXT)
    mitigation: str = Field("", max_length=MAX_TEXT)


class AnswersIn(BaseModel):
    """Answers to save, with the version they were made on (409 if it has changed since)."""

    version: int
    answers: list[AnswerIn] = Field(max_length=N_TOPICS)


class VersionIn(BaseModel):
    """The version the action was decided on."""

    version: int


class CommentIn(BaseModel):
    """A review comment on a topic (1..11) or general (topic null)."""

    topic: int | None = Field(None, ge=1, le=N_TOPICS)
    text: str = Field(max_length=MAX_TEXT)


class ReviewIn(BaseModel):
    """A review decision with its comments (returning needs at least one)."""

    version: int
    decision: Literal["accepted", "returned"]
    comments: list[CommentIn] = Field(default_factory=list, max_length=100)


class SubmissionOut(BaseModel):
    """A submission: site, status, version, answers, comments, status history (and the evidence, when asked)."""

    model_config = {"extra": "allow"}
    id: int
    status: Literal["draft", "submitted", "returned", "accepted"]
    version: int
    review_round: int
    site: dict[str, Any]
    ward: dict[str, Any]
    council: dict[str, Any]
    vintage: str
    answers: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    events: list[dict[str, Any]]


class ErrorOut(BaseModel):
    """An error: the message, and the field at fault or the current version where they apply."""

    detail: str
    field: str | None = None
    current_version: int | None = None


ERRORS = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut},
          409: {"model": ErrorOut}, 413: {"model": ErrorOut}, 429: {"model": ErrorOut}}


# -- dependencies ----------------------------------------------------------------------------------------------
def db(request: Request) -> Iterator[Session]:
    """Yield a database session for the request."""
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


def optional_user(request: Request, session: Session = Depends(db)) -> User | None:  # noqa: B008
    """Return the logged-in user, or ``None``."""
    uid = session_user_id(request)
    user = service.get_user(session, uid) if uid is not None else None
    if user is not None and not session_matches(request, user):  # the password changed since this session began
        request.session.clear()
        return None
    return user


def current_user(user: User | None = Depends(optional_user)) -> User:  # noqa: B008
    """Return the logged-in user, or answer 401."""
    if user is None:
        raise HTTPException(status_code=401, detail="log in first (POST /api/login)")
    return user


def csrf(request: Request) -> None:
    """Require the session's CSRF token in the X-CSRF-Token header (unsafe methods)."""
    check_csrf(request)


def _user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, name=user.name, role=user.role)


# -- accounts --------------------------------------------------------------------------------------------------
@router.get("/health", summary="Service health: version, place, data vintage, database schema revision")
def health(request: Request) -> dict[str, Any]:
    """Return ``ok`` with what the service runs on."""
    from geotarget.core.version import __version__
    from geotarget.web.db import current_revision

    st = request.app.state
    return {"status": "ok", "geotarget_version": __version__, "place": st.screener.place,
            "vintage": st.screener.vintage, "schema": current_revision(st.engine)}


@router.post("/login", response_model=SessionOut, responses=ERRORS, summary="Log in (JSON only); sets the session "
             "cookie and returns the CSRF token")
def login(body: LoginIn, request: Request, session: Session = Depends(db)) -> SessionOut:  # noqa: B008
    """Check the credentials (rate-limited per client) and start a session."""
    if not request.headers.get("content-type", "").lower().startswith("application/json"):
        raise HTTPException(status_code=415, detail="POST /api/login takes application/json")
    limit_login(request, body.email)
    user = service.authenticate(session, body.email, body.password)
    if user is None:
        raise HTTPException(status_code=401, detail="wrong e-mail or password")
    token = new_session(request, user)
    return SessionOut(user=_user_out(user), csrf_token=token)


@router.post("/logout", dependencies=[Depends(csrf)], summary="Log out (end the session)")
def logout(request: Request) -> dict[str, bool]:
    """Clear the session."""
    request.session.clear()
    return {"ok": True}


@router.get("/me", response_model=SessionOut, responses=ERRORS, summary="Who is logged in, and the CSRF token")
def me(request: Request, user: User = Depends(current_user)) -> SessionOut:  # noqa: B008
    """Return the logged-in user and the session's CSRF token."""
    return SessionOut(user=_user_out(user), csrf_token=csrf_token(request))


# -- screening -------------------------------------------------------------------------------------------------
_SITE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": SiteIn.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "required": ["site_file"], "properties": {
        "site_file": {"type": "string", "format": "binary",
                      "description": "GeoJSON, KML or a zipped Shapefile (recognised by content)"},
        "name": {"type": "string", "maxLength": MAX_NAME}}}}}}}


async def read_site(request: Request):
    """Return the site a request gives and how it was given (the submission's ``site_source``).

    JSON: ``{site}`` or ``{geojson}`` (with ``name``). A form (``multipart/form-data`` or urlencoded, as the
    pages send): the first given of ``site_file`` (an upload), ``site_geojson`` (the drawing map's hidden
    field) and ``site`` (text), with ``name``. Parsing runs in a worker thread; raises
    :class:`~geotarget.web.service.Invalid` or :class:`~geotarget.web.service.TooLarge`.
    """
    screener = request.app.state.screener
    ctype = request.headers.get("content-type", "").lower()
    if ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        limit = request.app.state.settings.max_upload_bytes
        form = await request.form(max_files=1, max_fields=20, max_part_size=limit)
        field = {k: form.get(k) for k in ("site_file", "site_geojson", "site", "name")}
        name = field["name"] if isinstance(field["name"], str) else None
        upload = field["site_file"]
        if upload is not None and not isinstance(upload, str) and (upload.filename or upload.size):
            data = await upload.read(limit + 1)
            site = await run_in_threadpool(screener.site_from_upload, data, upload.filename or "upload", name)
            return site, site.source
        text = field["site_geojson"]
        if isinstance(text, str) and text.strip():
            site = await run_in_threadpool(screener.site_from_geojson, text, name)
            return site, "a boundary drawn on the map (GeoJSON)"
        text = field["site"]
        if isinstance(text, str) and text.strip():
            site = await run_in_threadpool(screener.site_from_text, text, name)
            return site, f"text: {' '.join(text.split())[:120]}"
        raise service.Invalid("site: enter a postcode or coordinates, draw the site on the map, or upload a file "
                              "(GeoJSON, KML or a zipped Shapefile)", field="site")
    if not ctype.startswith("application/json"):
        raise service.Invalid("send the site as application/json ({site} or {geojson}) or multipart/form-data "
                              "(site_file)", field="site")
    try:
        body = SiteIn.model_validate(json.loads(await request.body()))
    except ValueError as e:
        raise service.Invalid(f"the request body is not a site: {_first_error(e)}", field="site") from None
    if (body.site is None) == (body.geojson is None):
        raise service.Invalid("give exactly one of site (postcode, coordinates, WKT) and geojson", field="site")
    if body.site is not None:
        site = await run_in_threadpool(screener.site_from_text, body.site, body.name)
        return site, f"text: {' '.join(body.site.split())[:120]}"
    site = await run_in_threadpool(screener.site_from_geojson, body.geojson, body.name)
    return site, "a boundary drawn on the map (GeoJSON)"


async def create_draft(request: Request, user: User) -> dict:
    """Screen the site a request gives and store it as a draft of ``user``; return the submission as a dict.

    Rate-limited per client (``screen_rate_per_minute``); the one route from a request to a new
    submission, for the API and the pages (POST /screen) alike. The caller checks the CSRF token.
    """
    if user.role != "applicant":
        raise service.Forbidden("only an applicant account creates submissions; reviewers review them")
    request.app.state.screen_limiter.hit(client_key(request))
    site, how = await read_site(request)

    def work():
        sc = request.app.state.screener.screen(site)
        with request.app.state.sessions() as session:
            sub = service.create_submission(session, service.get_user(session, user.id), site, sc, how)
            return service.submission_dict(sub)

    return await screening_thread(request, work)


async def screening_thread(request: Request, fn, *args):
    """Run the CPU-bound ``fn(*args)`` (a screening) in a worker thread, one at a time in this process.

    A screening holds Python's interpreter lock nearly all the time, so several at once in one process
    only take turns and each answers later; queueing them (the rest of the server stays free to accept
    and answer other requests) gives every client its answer sooner. Run more processes
    (``geotarget serve --workers``) to use more cores.
    """
    import anyio

    limiter = getattr(request.app.state, "screening_limiter", None)
    if limiter is None:  # made on first use, inside the event loop
        limiter = request.app.state.screening_limiter = anyio.CapacityLimiter(1)
    return await anyio.to_thread.run_sync(lambda: fn(*args), limiter=limiter)


def _first_error(e: ValueError) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(map(str, first.get('loc', ())))}: {first.get('msg')}"
    return str(e)


@router.post("/screenings", dependencies=[Depends(csrf)], openapi_extra=_SITE_BODY, responses=ERRORS,
             summary="Screen a site: the evidence JSON (as `geotarget hia`), rate-limited per client")
async def screenings(request: Request, user: User = Depends(current_user)) -> Response:  # noqa: B008
    """Screen the site given and return the evidence JSON (``render_report(sc, "json")``'s data, compact)."""
    from geotarget.hia.report import evidence_json

    request.app.state.screen_limiter.hit(client_key(request))
    site, _how = await read_site(request)
    screener = request.app.state.screener
    body = await screening_thread(request, lambda: evidence_json(screener.screen(site), compact=True))
    return Response(body, media_type="application/json")


@router.post("/submissions", dependencies=[Depends(csrf)], openapi_extra=_SITE_BODY, status_code=201,
             response_model=SubmissionOut, responses=ERRORS, summary="Screen a site and store it as a draft HIA")
async def create_submission(request: Request, user: User = Depends(current_user)) -> dict:  # noqa: B008
    """Screen the site and create a draft submission holding the evidence snapshot."""
    return await create_draft(request, user)


# -- submissions -----------------------------------------------------------------------------------------------
@router.get("/submissions", responses=ERRORS, summary="Submissions you may see (filters: status, ward, from, to)")
def list_submissions(status: str | None = Query(None, description="draft, submitted, returned or accepted"),  # noqa: B008
                     ward: str | None = Query(None, description="ward code or name"),  # noqa: B008
                     date_from: str | None = Query(None, alias="from", description="YYYY-MM-DD, inclusive"),  # noqa: B008
                     date_to: str | None = Query(None, alias="to", description="YYYY-MM-DD, inclusive"),  # noqa: B008
                     user: User = Depends(current_user), session: Session = Depends(db)) -> list[dict]:  # noqa: B008
    """List submissions, newest first (dates of the latest submission, or of creation for a draft)."""
    subs = service.list_submissions(session, user, status=status, ward=ward, date_from=date_from, date_to=date_to)
    out = []
    for s in subs:
        d = service.submission_dict(s)
        for k in ("answers", "comments", "events"):
            d.pop(k)
        out.append(d)
    return out


@router.get("/submissions/{submission_id}", response_model=SubmissionOut, responses=ERRORS,
            summary="One submission with its evidence snapshot")
def get_submission(submission_id: int, user: User = Depends(current_user),  # noqa: B008
                   session: Session = Depends(db)) -> dict:  # noqa: B008
    """Return the submission (404 if it is not one you may see)."""
    return service.submission_dict(service.get_submission(session, user, submission_id), with_evidence=True)


@router.put("/submissions/{submission_id}/answers", dependencies=[Depends(csrf)], response_model=SubmissionOut,
            responses=ERRORS, summary="Save answers (draft or returned); 409 if the version is stale")
def put_answers(submission_id: int, body: AnswersIn, user: User = Depends(current_user),  # noqa: B008
                session: Session = Depends(db)) -> dict:  # noqa: B008
    """Save the answers given (any topics) and return the submission with its new version."""
    sub = service.save_answers(session, user, submission_id, body.version, [a.model_dump() for a in body.answers])
    return service.submission_dict(sub)


@router.post("/submissions/{submission_id}/submit", dependencies=[Depends(csrf)], response_model=SubmissionOut,
             responses=ERRORS, summary="Submit for review (all 11 topics answered)")
def post_submit(submission_id: int, body: VersionIn, user: User = Depends(current_user),  # noqa: B008
                session: Session = Depends(db)) -> dict:  # noqa: B008
    """Submit the submission (draft or returned) for review."""
    return service.submission_dict(service.submit(session, user, submission_id, body.version))


@router.post("/submissions/{submission_id}/review", dependencies=[Depends(csrf)], response_model=SubmissionOut,
             responses=ERRORS, summary="Reviewers: accept, or return with comments")
def post_review(submission_id: int, body: ReviewIn, user: User = Depends(current_user),  # noqa: B008
                session: Session = Depends(db)) -> dict:  # noqa: B008
    """Record the review decision and comments."""
    sub = service.review(session, user, submission_id, body.version, body.decision,
                         [c.model_dump() for c in body.comments])
    return service.submission_dict(sub)


@router.get("/submissions/{submission_id}/report.{fmt}", responses={**ERRORS, 200: {"content": {
    t: {} for t in REPORT_TYPES.values()}}}, summary="The screening report (html, md, json, pdf), reproduced")
async def report(request: Request, submission_id: int, fmt: str, user: User = Depends(current_user)) -> Response:  # noqa: B008
    """Return the report of the stored site, re-screened on the same data (see :func:`report_response`)."""
    return await run_in_threadpool(report_response, request, user, submission_id, fmt)


def report_response(request: Request, user: User, submission_id: int, fmt: str, *,
                    disposition: str | None = None) -> Response:
    """Return the report of a submission in ``fmt``, reproduced from the stored site.

    The stored site is screened again with its buffers and date. If the evidence JSON equals the stored
    snapshot, every format is rendered from it. If not (the data or geotarget changed since), the JSON
    snapshot is still served (``X-Geotarget-Reproduced: no``) and the other formats are refused (409)
    naming the vintage and version of the snapshot and of the service: a report is never silently
    made from different data than the one submitted.
    """
    from geotarget.hia.report import render_report
    from geotarget.io.sites import slugify

    if fmt not in REPORT_TYPES:
        raise service.NotFound(f"report format {fmt[:10]!r}: expected one of {', '.join(REPORT_TYPES)}")
    st = request.app.state
    with st.sessions() as session:
        sub = service.get_submission(session, service.get_user(session, user.id), submission_id)
        sc, same = service.reproduce(sub, st.screener)
        stored, vintage, version, generated = sub.evidence, sub.vintage, sub.geotarget_version, sub.generated
        name = sub.site_name
    headers = {"X-Geotarget-Reproduced": "yes" if same else "no"}
    slug = slugify(name)
    if fmt == "json":
        body = stored.encode("utf-8")
    elif not same:
        from geotarget.core.version import __version__

        raise service.Conflict(f"the {fmt} report cannot be reproduced: submission {submission_id} was screened on "
                               f"{generated} with {vintage} (geotarget {version}), and screening its site now on "
                               f"{st.screener.vintage} (geotarget {__version__}) gives different evidence; the JSON "
                               "evidence snapshot (report.json) is what was submitted")
    else:
        body = render_report(sc, fmt)
    if fmt == "html":
        headers["Content-Security-Policy"] = REPORT_CSP
    kind = disposition or ("inline" if fmt == "html" else "attachment")
    headers["Content-Disposition"] = f'{kind}; filename="{slug}.{fmt}"'
    return Response(body, media_type=REPORT_TYPES[fmt], headers=headers)


# -- evaluation ------------------------------------------------------------------------------------------------
@router.get("/dashboard", responses=ERRORS, summary="Reviewers: sites, topics flagged, mitigation, time to review")
def get_dashboard(user: User = Depends(current_user), session: Session = Depends(db)) -> dict:  # noqa: B008
    """Return the dashboard figures (see :func:`geotarget.web.service.dashboard`)."""
    return service.dashboard(session, user)


@router.get("/dashboard.csv", responses={**ERRORS, 200: {"content": {"text/csv": {}}}},
            summary="Reviewers: one row per submitted HIA, as CSV (spreadsheet formulas neutralised)")
def get_dashboard_csv(user: User = Depends(current_user), session: Session = Depends(db)) -> Response:  # noqa: B008
    """Return the dashboard rows as CSV."""
    return Response(service.dashboard_csv(session, user), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="hia-dashboard.csv"'})


__all__ = ["REPORT_TYPES", "create_draft", "current_user", "db", "optional_user", "read_site", "report_response",
           "router"]
