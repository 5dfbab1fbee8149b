"""The HTML pages of the HIA service: screen a site, complete the 11 HUDU topics, review, evaluate.

Every page is a Jinja2 template in ``web/templates`` (autoescaping on: user text is always text) with
its JavaScript and CSS as files in ``web/static`` (the service's CSP allows no inline script or style).
The pages do nothing of their own: each operation is a function of :mod:`geotarget.web.service` (which
checks permissions), the screening is :class:`geotarget.web.screener.Screener`'s, and the report downloads
are the API's :func:`geotarget.web.api.report_response`. What is here is the forms: reading them, showing
errors on the form with the user's input kept, and redirecting after a successful POST.

Pages are plain ``def`` functions (FastAPI runs them in its thread pool, so a screening or a database
write never blocks the event loop); a form is read by the async dependency :func:`form_data`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from geotarget.core.errors import GeotargetError
from geotarget.core.version import __version__
from geotarget.hia.topics import TOPICS
from geotarget.web import service
from geotarget.web.api import db, optional_user, report_response
from geotarget.web.db import IMPACTS, N_TOPICS, RELEVANCE, STATUSES
from geotarget.web.security import RateLimited, check_csrf, client_key, csrf_token, limit_login, new_session

router = APIRouter(include_in_schema=False)

#: The page templates (Jinja2; Starlette's Jinja2Templates turns autoescaping on).
TEMPLATES = Path(__file__).with_name("templates")
templates = Jinja2Templates(directory=TEMPLATES)
#: Background map tiles: OpenStreetMap's a/b/c servers, which the service's CSP allows (the maps work without them).
TILES = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
#: England (WGS84, [[south, west], [north, east]]): the maps' extent when the data has none.
ENGLAND_BOUNDS = [[49.9, -6.4], [55.8, 1.8]]

STATUS_LABELS = {"draft": "Draft", "submitted": "Submitted for review", "returned": "Returned for changes",
                 "accepted": "Accepted"}
RELEVANT_LABELS = {"yes": "Yes", "no": "No", "unsure": "Unsure"}
IMPACT_LABELS = {"positive": "Positive", "negative": "Negative", "neutral": "Neutral", "uncertain": "Uncertain"}
assert tuple(STATUS_LABELS) == STATUSES and tuple(RELEVANT_LABELS) == RELEVANCE and tuple(IMPACT_LABELS) == IMPACTS


@jinja2.pass_context
def path_for(context, name: str, **params) -> str:
    """Return the path of route or mount ``name`` (no scheme or host, so it is right behind any proxy)."""
    return str(context["request"].app.url_path_for(name, **params))


templates.env.globals["path_for"] = path_for


# -- helpers ---------------------------------------------------------------------------------------------------
async def form_data(request: Request) -> FormData:
    """Read the request's form (an upload at most the service's ``max_upload_bytes``)."""
    limit = request.app.state.settings.max_upload_bytes
    return await request.form(max_files=1, max_fields=100, max_part_size=limit)


def _field(form: FormData, name: str) -> str:
    v = form.get(name)
    return v if isinstance(v, str) else ""


def _render(request: Request, name: str, user, *, status_code: int = 200, errors=(), **ctx) -> HTMLResponse:
    """Render template ``name`` with what every page needs (user, CSRF token, the one-time message)."""
    st = request.app.state
    ctx.update(user=user, csrf_token=csrf_token(request), flash=request.session.pop("flash", None),
               errors=list(errors), version=__version__, vintage=st.screener.vintage, place=st.screener.place,
               status_labels=STATUS_LABELS)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def _error_page(request: Request, user, e: service.ServiceError) -> HTMLResponse:
    titles = {403: "You cannot see this page", 404: "Page not found"}
    return _render(request, "error.html", user, title=titles.get(e.status, "Something went wrong"),
                   message=str(e), status_code=e.status)


def _redirect(request: Request, name: str, flash: str | None = None, **params) -> RedirectResponse:
    if flash:
        request.session["flash"] = flash
    return RedirectResponse(str(request.app.url_path_for(name, **params)), status_code=303)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{request.app.url_path_for('login_form')}?next={quote(target)}", status_code=303)


def _safe_next(target: str) -> str:
    r"""Return ``target`` if it is a path on this site, else ``/`` (``//host`` and ``/\host`` are other sites)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target and "\r" not in target:
        return target
    return "/"


def _when(t: dt.datetime | None) -> str:
    if t is None:
        return ""
    t = t.astimezone(dt.UTC)
    return f"{t.day} {t:%b %Y, %H:%M} UTC"


def _hours(h: float | None) -> str | None:
    """``h`` hours in words: minutes under an hour, hours under two days, then days."""
    if h is None:
        return None
    if h < 1:
        return f"{max(h * 60, 0):.0f} minutes"
    if h < 48:
        return f"{h:.1f} hours"
    return f"{h / 24:.1f} days"


def _map_bounds(request: Request) -> str:
    """Return the extent of the service's data as JSON ``[[south, west], [north, east]]`` in WGS84 (computed once)."""
    st = request.app.state
    bounds = getattr(st, "pages_bounds", None)
    if bounds is None:
        import geopandas as gpd
        import shapely

        from geotarget.core.crs import BNG

        try:
            box = shapely.box(*st.screener.data.sample.lsoas.total_bounds)
            w, s, e, n = gpd.GeoSeries([box], crs=BNG).to_crs("EPSG:4326").total_bounds
            bounds = json.dumps([[round(s, 5), round(w, 5)], [round(n, 5), round(e, 5)]])
        except (AttributeError, ValueError):  # no areas to frame: show England
            bounds = json.dumps(ENGLAND_BOUNDS)
        st.pages_bounds = bounds
    return bounds


#: Above this many wards the screening map's outlines are the councils instead (a region, all of England).
MAX_WARD_OUTLINES = 600


def _area_outlines(request: Request) -> bytes:
    """Return the wards (or councils) of the service's data as GeoJSON in WGS84, simplified (computed once).

    The screening map draws them under the site, so the site can be placed with no background tiles (offline).
    """
    st = request.app.state
    body = getattr(st, "pages_outlines", None)
    if body is None:
        import shapely

        lsoas = st.screener.data.sample.lsoas
        by = ["ward_name", "lad_name"] if lsoas["ward_name"].nunique() <= MAX_WARD_OUTLINES else ["lad_name"]
        areas = lsoas[[*by, "geometry"]].dissolve(by=by).reset_index()
        areas["geometry"] = areas.simplify(25)
        areas = areas.to_crs("EPSG:4326")
        areas["geometry"] = shapely.set_precision(areas.geometry.array, 1e-5)
        areas["label"] = areas[by].agg(", ".join, axis=1)
        body = areas[["label", "geometry"]].to_json(drop_id=True).encode("utf-8")
        st.pages_outlines = body
    return body


# -- home and accounts -----------------------------------------------------------------------------------------
@router.get("/", name="home")
def home(request: Request, user=Depends(optional_user)) -> HTMLResponse:  # noqa: B008
    """Show the start page: what the service does."""
    return _render(request, "home.html", user, title="Health Impact Assessment for development sites")


@router.get("/login", name="login_form")
def login_form(request: Request, next: str = "/", user=Depends(optional_user)) -> HTMLResponse:  # noqa: A002,B008
    """Show the sign-in form."""
    return _render(request, "login.html", user, title="Sign in", next=_safe_next(next))


@router.post("/login", name="sign_in")
def login(request: Request, form: FormData = Depends(form_data), session: Session = Depends(db)):  # noqa: B008
    """Check the e-mail and password (rate-limited per client) and start a session."""
    check_csrf(request, _field(form, "csrf_token"))
    email, target = _field(form, "email"), _safe_next(_field(form, "next") or "/")
    try:
        limit_login(request, email)
    except RateLimited as e:
        return _render(request, "login.html", None, title="Sign in", status_code=429, errors=[str(e)],
                       email=email, next=target)
    user = service.authenticate(session, email, _field(form, "password"))
    if user is None:
        return _render(request, "login.html", None, title="Sign in", status_code=400,
                       errors=["The e-mail address or the password is wrong."], email=email, next=target)
    new_session(request, user)
    request.session["flash"] = f"Signed in as {user.name}."
    return RedirectResponse(target, status_code=303)


@router.post("/logout", name="sign_out")
def logout(request: Request, form: FormData = Depends(form_data)) -> RedirectResponse:  # noqa: B008
    """End the session."""
    check_csrf(request, _field(form, "csrf_token"))
    request.session.clear()
    return _redirect(request, "home", "You have signed out.")


@router.get("/register", name="register_form")
def register_form(request: Request, user=Depends(optional_user)) -> HTMLResponse:  # noqa: B008
    """Show the form to create an applicant account."""
    return _render(request, "register.html", user, title="Create an account", form={},
                   min_password=service.MIN_PASSWORD)


@router.post("/register", name="register")
def register(request: Request, form: FormData = Depends(form_data), session: Session = Depends(db)):  # noqa: B008
    """Create an applicant account and sign in (reviewer accounts are made with ``geotarget users add``)."""
    check_csrf(request, _field(form, "csrf_token"))
    kept = {"name": _field(form, "name"), "email": _field(form, "email")}
    try:
        user = service.create_user(session, kept["email"], kept["name"], "applicant", _field(form, "password"))
    except service.Invalid as e:
        return _render(request, "register.html", None, title="Create an account", status_code=400, errors=[str(e)],
                       form=kept, min_password=service.MIN_PASSWORD)
    new_session(request, user)
    return _redirect(request, "screen_form", f"Account created. You are signed in as {user.name}.")


# -- screening -------------------------------------------------------------------------------------------------
def _screen_page(request: Request, user, *, form: dict, errors=(), status_code: int = 200) -> HTMLResponse:
    return _render(request, "screen.html", user, title="Screen a site", form=form, errors=errors,
                   status_code=status_code, bounds_json=_map_bounds(request), tiles=TILES,
                   max_upload_mb=f"{request.app.state.settings.max_upload_bytes / 1e6:g}")


@router.get("/screen", name="screen_form")
def screen_form(request: Request, user=Depends(optional_user)):  # noqa: B008
    """Show the screening form: postcode, coordinates or WKT; a file; or a boundary drawn on the map."""
    if user is None:
        return _to_login(request)
    if user.role != "applicant":
        return _render(request, "error.html", user, title="Screening is for applicants", status_code=403,
                       message="Reviewer accounts review submissions; applicants screen sites and submit them.")
    return _screen_page(request, user, form={})


@router.get("/screen/areas.geojson", name="screen_areas")
def screen_areas(request: Request) -> Response:
    """Return the outlines of the wards the service covers (public boundaries; the screening map's base)."""
    return Response(_area_outlines(request), media_type="application/geo+json",
                    headers={"Cache-Control": "public, max-age=3600"})


@router.post("/screen", name="screen")
def screen(request: Request, form: FormData = Depends(form_data), session: Session = Depends(db),  # noqa: B008
           user=Depends(optional_user)):  # noqa: B008
    """Screen the site given one way (text, file or drawn boundary), store a draft and open it."""
    check_csrf(request, _field(form, "csrf_token"))
    if user is None:
        return _to_login(request)
    st = request.app.state
    upload = form.get("site_file")
    upload = upload if isinstance(upload, UploadFile) and upload.filename else None
    kept = {"name": _field(form, "name"), "site": _field(form, "site"), "site_geojson": _field(form, "site_geojson"),
            "file_name": upload.filename if upload else ""}
    given = [k for k, v in (("text", kept["site"].strip()), ("file", upload), ("map", kept["site_geojson"])) if v]
    try:
        if user.role != "applicant":
            raise service.Forbidden("only an applicant account creates submissions; reviewers review them")
        if not given:
            raise service.Invalid("Give the site: enter a postcode, coordinates or WKT, upload a file, or draw the "
                                  "boundary on the map.", field="site")
        if len(given) > 1:
            raise service.Invalid(f"Give the site one way, not {len(given)}: you gave " + " and ".join(
                {"text": "a postcode/coordinates/WKT", "file": "a file", "map": "a boundary drawn on the map"}[g]
                for g in given) + ". Clear the ones you do not mean.", field="site")
        st.screen_limiter.hit(client_key(request))
        name = kept["name"].strip() or None
        if upload is not None:
            data = upload.file.read(st.settings.max_upload_bytes + 1)
            site = st.screener.site_from_upload(data, upload.filename, name)
            how = site.source
        elif kept["site_geojson"]:
            site = st.screener.site_from_geojson(kept["site_geojson"], name)
            how = "a boundary drawn on the map"
        else:
            site = st.screener.site_from_text(kept["site"], name)
            how = f"text: {kept['site'].strip()[:120]}"
        sc = st.screener.screen(site)
        sub = service.create_submission(session, user, site, sc, how)
    except (GeotargetError, RateLimited) as e:
        return _screen_page(request, user, form=kept, errors=[str(e)], status_code=getattr(e, "status", 400))
    return _redirect(request, "submission_page", "Screened. This is your draft assessment: complete the 11 topics "
                     "below and submit it for review.", sub_id=sub.id)


# -- submissions -----------------------------------------------------------------------------------------------
@router.get("/submissions", name="submissions_list")
def submissions_list(request: Request, session: Session = Depends(db), user=Depends(optional_user)):  # noqa: B008
    """List the submissions the user may see, filtered by status, ward and date (``from``, ``to``)."""
    if user is None:
        return _to_login(request)
    q = request.query_params
    filters = {"status": q.get("status", ""), "ward": q.get("ward", ""), "date_from": q.get("from", ""),
               "date_to": q.get("to", "")}
    everything = service.list_submissions(session, user)
    wards = sorted({s.ward_name for s in everything if s.ward_name})
    errors, status_code = [], 200
    try:
        subs = service.list_submissions(session, user, **{k: v or None for k, v in filters.items()})
    except service.Invalid as e:
        subs, errors, status_code = [], [str(e)], 400
    rows = [{"id": s.id, "name": s.site_name, "status": s.status, "ward": s.ward_name, "council": s.council_name,
             "applicant": s.owner.name, "created": _when(s.created_at), "submitted": _when(s.submitted_at)}
            for s in subs]
    return _render(request, "submissions.html", user, title="Submissions", rows=rows, filters=filters, wards=wards,
                   statuses=STATUSES if user.role == "applicant" else STATUSES[1:],
                   filtered=any(filters.values()), errors=errors, status_code=status_code)


def _answers_from_form(form: FormData) -> list[dict]:
    return [{"topic": n, "relevant": _field(form, f"relevant_{n}") or None,
             "impact": _field(form, f"impact_{n}") or None, "evidence": _field(form, f"evidence_{n}"),
             "mitigation": _field(form, f"mitigation_{n}")}
            for n in range(1, N_TOPICS + 1)]


def _saved_answers(sub) -> dict[int, dict]:
    return {a.topic: {"relevant": a.relevant, "impact": a.impact, "evidence": a.evidence or "",
                      "mitigation": a.mitigation or ""} for a in sub.answers}


def _submission_page(request: Request, user, sub, *, mine: list[dict] | None = None, conflict: bool = False,
                     review_form: dict | None = None, errors=(), status_code: int = 200,
                     show_missing: bool = False) -> HTMLResponse:
    """Render a submission: summary, evidence, report, the 11 topics (``mine``: the user's unsaved answers)."""
    evidence = json.loads(sub.evidence)
    saved = _saved_answers(sub)
    given = {a["topic"]: a for a in mine} if mine is not None else saved
    missing = set(service.missing_answers(sub)) if show_missing else set()
    comments: dict[int | None, list[dict]] = {}
    for c in sub.comments:
        comments.setdefault(c.topic, []).append({"text": c.text, "author": c.author.name, "round": c.round,
                                                 "when": _when(c.created_at)})
    topics = []
    for n, (key, title, prompts) in enumerate(TOPICS, 1):
        ev = next((t for t in evidence.get("topics", []) if t.get("key") == key), {})
        topics.append({"n": n, "key": key, "title": title, "evidence": ev.get("evidence", []),
                       "gaps": ev.get("data_gaps", []), "prompts": ev.get("prompts", list(prompts)),
                       "flags": ev.get("flag_texts", []), "comments": comments.get(n, []),
                       "answer": given.get(n, {}), "theirs": saved.get(n) if conflict else None,
                       "missing": n in missing})
    can_edit = user.role == "applicant" and sub.owner_id == user.id and sub.status in ("draft", "returned")
    can_review = user.role == "reviewer" and sub.status == "submitted"
    view = {"id": sub.id, "name": sub.site_name, "status": sub.status, "version": sub.version,
            "site_source": sub.site_source, "area_ha": sub.site_area_ha, "ward": sub.ward_name,
            "council": sub.council_name, "applicant": sub.owner.name, "created": _when(sub.created_at),
            "submitted": _when(sub.submitted_at), "reviewed": _when(sub.reviewed_at), "vintage": sub.vintage,
            "geotarget_version": sub.geotarget_version, "severe": sub.severe}
    history = [{"to": STATUS_LABELS.get(e.to_status, e.to_status), "by": e.user.name, "when": _when(e.at)}
               for e in sub.events]
    return _render(request, "submission.html", user, title=sub.site_name, sub=view, topics=topics, history=history,
                   site_flags=[f["text"] for f in evidence.get("flags", []) if f.get("topic") is None],
                   general_comments=comments.get(None, []), can_edit=can_edit, can_review=can_review,
                   conflict=conflict, review_form=review_form or {}, errors=errors, status_code=status_code,
                   relevant_choices=list(RELEVANT_LABELS.items()), impact_choices=list(IMPACT_LABELS.items()),
                   labels={"relevant": RELEVANT_LABELS, "impact": IMPACT_LABELS})


@router.get("/submissions/{sub_id}", name="submission_page")
def submission_page(request: Request, sub_id: int, session: Session = Depends(db),  # noqa: B008
                    user=Depends(optional_user)):  # noqa: B008
    """One submission: evidence, report, answers; the applicant's form or the reviewer's."""
    if user is None:
        return _to_login(request)
    try:
        sub = service.get_submission(session, user, sub_id)
    except service.NotFound as e:
        return _error_page(request, user, e)
    return _submission_page(request, user, sub)


def _reload(session: Session, user, sub_id: int):
    session.expire_all()
    return service.get_submission(session, user, sub_id)


@router.post("/submissions/{sub_id}/answers", name="save_answers")
def save_answers(request: Request, sub_id: int, form: FormData = Depends(form_data),  # noqa: B008
                 session: Session = Depends(db), user=Depends(optional_user)):  # noqa: B008
    """Save the applicant's answers as a draft (a stale version: the form again, nothing lost)."""
    return _save(request, sub_id, form, session, user, then_submit=False)


@router.post("/submissions/{sub_id}/submit", name="submit_submission")
def submit_submission(request: Request, sub_id: int, form: FormData = Depends(form_data),  # noqa: B008
                      session: Session = Depends(db), user=Depends(optional_user)):  # noqa: B008
    """Save the answers, then submit them for review (every topic needs relevance and likely impact)."""
    return _save(request, sub_id, form, session, user, then_submit=True)


def _save(request: Request, sub_id: int, form: FormData, session: Session, user, *, then_submit: bool):
    check_csrf(request, _field(form, "csrf_token"))
    if user is None:
        return _to_login(request)
    mine = _answers_from_form(form)
    try:
        sub = service.save_answers(session, user, sub_id, _field(form, "version"), mine)
    except service.Conflict:
        sub = _reload(session, user, sub_id)
        return _submission_page(request, user, sub, mine=mine, conflict=True, status_code=409,
                                errors=["Someone else changed this submission; reload. Your text is kept below."])
    except service.Invalid as e:
        sub = _reload(session, user, sub_id)
        return _submission_page(request, user, sub, mine=mine, errors=[str(e)], status_code=400)
    if not then_submit:
        return _redirect(request, "submission_page", "Draft saved.", sub_id=sub.id)
    try:
        service.submit(session, user, sub_id, sub.version)
    except (service.Invalid, service.Conflict) as e:
        sub = _reload(session, user, sub_id)
        return _submission_page(request, user, sub, errors=[f"Your answers are saved, but not submitted: {e}"],
                                status_code=e.status, show_missing=True)
    return _redirect(request, "submission_page", "Submitted for review. The public health team will review it.",
                     sub_id=sub_id)


@router.post("/submissions/{sub_id}/review", name="review")
def review(request: Request, sub_id: int, form: FormData = Depends(form_data),  # noqa: B008
           session: Session = Depends(db), user=Depends(optional_user)):  # noqa: B008
    """Record the reviewer's decision with comments per topic and a general one."""
    check_csrf(request, _field(form, "csrf_token"))
    if user is None:
        return _to_login(request)
    kept = {f"comment_{n}": _field(form, f"comment_{n}") for n in range(1, N_TOPICS + 1)}
    kept["comment_general"] = _field(form, "comment_general")
    kept["decision"] = _field(form, "decision")
    comments = [{"topic": n, "text": kept[f"comment_{n}"]} for n in range(1, N_TOPICS + 1)]
    comments.append({"topic": None, "text": kept["comment_general"]})
    try:
        if not kept["decision"]:
            raise service.Invalid("Choose a decision: accept the assessment or return it for changes.",
                                  field="decision")
        service.review(session, user, sub_id, _field(form, "version"), kept["decision"], comments)
    except (service.Invalid, service.Conflict) as e:
        sub = _reload(session, user, sub_id)
        message = ("Someone else changed this submission; reload. Your comments are kept below." if
                   isinstance(e, service.Conflict) else str(e))
        return _submission_page(request, user, sub, review_form=kept, errors=[message], status_code=e.status)
    done = "Accepted." if kept["decision"] == "accepted" else "Returned to the applicant for changes."
    return _redirect(request, "submission_page", done, sub_id=sub_id)


@router.get("/submissions/{sub_id}/report.{fmt}", name="submission_report")
def submission_report(request: Request, sub_id: int, fmt: str, user=Depends(optional_user)):  # noqa: B008
    """Return the screening report (html, md, json, pdf), reproduced from the stored site (as the API does)."""
    if user is None:
        return _to_login(request)
    return report_response(request, user, sub_id, fmt)


# -- evaluation ------------------------------------------------------------------------------------------------
@router.get("/dashboard", name="dashboard")
def dashboard(request: Request, session: Session = Depends(db), user=Depends(optional_user)):  # noqa: B008
    """Across submitted HIAs: sites, statuses, a map, topics flagged, mitigation, time to review."""
    if user is None:
        return _to_login(request)
    try:
        d = service.dashboard(session, user)
    except service.Forbidden as e:
        return _error_page(request, user, e)
    rv = d["review"]
    view = {"sites": d["sites"], "statuses": d["by_status"], "assessed": d["sites"],
            "topics": [{"n": t["topic"], "title": t["title"], "flagged": t["flagged"], "negative": t["negative"],
                        "mitigation": t["mitigation"]}
                       for t in sorted(d["topics"], key=lambda t: (-t["flagged"], -t["negative"], t["topic"]))],
            "mitigation_required": d["mitigation"]["sites_with_mitigation"], "reviews": rv["reviews"],
            "median_review": _hours(rv["median_hours"]), "mean_review": _hours(rv["mean_hours"]),
            "waiting": rv["waiting"]}
    return _render(request, "dashboard.html", user, title="Dashboard", d=view, statuses=STATUSES[1:],
                   bounds_json=_map_bounds(request), tiles=TILES)


@router.get("/dashboard/sites.geojson", name="dashboard_sites")
def dashboard_sites(request: Request, session: Session = Depends(db), user=Depends(optional_user)):  # noqa: B008
    """Return the dashboard's sites as GeoJSON (WGS84): polygons as drawn or uploaded, points as given."""
    if user is None:
        return JSONResponse({"detail": "sign in first"}, status_code=401)
    import geopandas as gpd
    import shapely

    from geotarget.core.crs import BNG

    service.dashboard(session, user)  # reviewers only (Forbidden otherwise), as the dashboard
    subs = service.list_submissions(session, user)
    geoms = gpd.GeoSeries([shapely.from_wkt(s.site_wkt) for s in subs], crs=BNG).to_crs("EPSG:4326")
    features = [{"type": "Feature", "geometry": shapely.geometry.mapping(shapely.set_precision(g, 1e-6)),
                 "properties": {"id": s.id, "name": s.site_name, "status": s.status, "ward": s.ward_name,
                                "url": str(request.app.url_path_for("submission_page", sub_id=s.id))}}
                for s, g in zip(subs, geoms, strict=True)]
    return JSONResponse({"type": "FeatureCollection", "features": features}, media_type="application/geo+json")


@router.get("/dashboard.csv", name="dashboard_csv")
def dashboard_csv(request: Request, session: Session = Depends(db), user=Depends(optional_user)):  # noqa: B008
    """One row per submitted HIA, as CSV (spreadsheet formulas neutralised by io.files.write_csv)."""
    if user is None:
        return _to_login(request)
    return Response(service.dashboard_csv(session, user), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="hia-dashboard.csv"'})


__all__ = ["TEMPLATES", "TILES", "form_data", "path_for", "router", "templates"]
