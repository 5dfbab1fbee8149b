"""The HIA web application: :func:`create_app` builds it from :class:`~geotarget.web.settings.Settings`.

At start the database is migrated to the newest schema (:func:`geotarget.web.db.migrate`), the session
secret is read from the settings or the database, and the screening data is loaded once
(:class:`~geotarget.web.screener.Screener`). The app serves the JSON API (:mod:`geotarget.web.api`), the
HTML pages (:mod:`geotarget.web.pages`, when present), ``/static``, and the API's documentation offline:
Swagger UI at ``/docs`` (vendored in ``web/swagger``) and the same as plain HTML at ``/docs/reference``.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from geotarget.core.errors import ParameterError
from geotarget.core.version import __version__
from geotarget.web import api, service
from geotarget.web.db import make_engine, migrate, session_factory
from geotarget.web.security import FORM_OVERHEAD, BodyLimit, CsrfError, RateLimited, RateLimiter, SecurityHeaders
from geotarget.web.settings import Settings

log = logging.getLogger(__name__)

#: Static files (CSS, JS) of the pages.
STATIC = Path(__file__).with_name("static")
#: Name of the session cookie; sessions last this many seconds.
SESSION_COOKIE = "geotarget_session"
SESSION_MAX_AGE = 8 * 3600


def create_app(settings: Settings, *, screener=None) -> FastAPI:
    """Return the HIA web application for ``settings`` (database migrated, data loaded).

    Parameters
    ----------
    settings
        Place, database, secret, limits (:class:`~geotarget.web.settings.Settings`).
    screener
        A :class:`~geotarget.web.screener.Screener` to share (tests, several apps in one process);
        default: one loaded from ``settings``.
    """
    engine = make_engine(settings.db_url)
    migrate(settings.db_url, engine=engine)
    sessions = session_factory(engine)
    secret = settings.secret_key
    if not secret:
        with sessions() as session:
            secret = service.app_secret(session)
    if screener is None:
        from geotarget.web.screener import Screener

        screener = Screener(settings)

    app = FastAPI(title="geotarget HIA service", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Screen a development site for a Health Impact Assessment (the evidence of "
                              "`geotarget hia`), complete the 11 HUDU topics, review and evaluate. Log in with "
                              "POST /api/login; send the returned csrf_token as the X-CSRF-Token header on every "
                              "POST and PUT.")
    st = app.state
    st.settings, st.engine, st.sessions, st.screener = settings, engine, sessions, screener
    st.screen_limiter = RateLimiter(settings.screen_rate_per_minute, what="screenings")
    st.login_limiter = RateLimiter(settings.login_rate_per_minute, what="login attempts")

    # outermost last: headers on everything (413s too), then the body limit, then the session
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE, same_site="lax", https_only=bool(settings.secure_cookies))
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + FORM_OVERHEAD)
    app.add_middleware(SecurityHeaders)
    _add_error_handlers(app)
    app.include_router(api.router)
    if importlib.util.find_spec("geotarget.web.pages") is not None:
        from geotarget.web import pages

        app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    app.mount("/vendor", StaticFiles(packages=[("geotarget.render.maps", "vendor")]), name="vendor")
    _add_docs(app)
    return app


def app_from_env() -> FastAPI:
    """Return the app with settings from ``GEOTARGET_SERVE_*`` (``uvicorn --factory``, ``--workers N``)."""
    return create_app(Settings.from_env())


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or "application/json" in request.headers.get("accept", "")


def _error(request: Request, status: int, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    if _wants_json(request):
        body = {"detail": detail, **{k: v for k, v in extra.items() if v is not None}}
        return JSONResponse(body, status_code=status, headers=headers)
    from geotarget.render.text import html

    page = html('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{} error</title></head><body>'
                '<h1>{}</h1><p>{}</p><p><a href="/">Home</a></p></body></html>', status, status, detail)
    return HTMLResponse(str(page), status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(service.ServiceError)
    async def service_error(request: Request, exc: service.ServiceError):
        return _error(request, exc.status, str(exc), field=exc.field,
                      current_version=getattr(exc, "current_version", None))

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited):
        return _error(request, 429, str(exc), headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(CsrfError)
    async def csrf_error(request: Request, exc: CsrfError):
        return _error(request, 403, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(request, exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errs = exc.errors()
        first = errs[0] if errs else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(request, 422, f"{where}: {first.get('msg', 'invalid')}" if where else
                      str(first.get("msg", "invalid request")), field=where or None)


def _add_docs(app: FastAPI) -> None:
    """Serve the API's documentation offline: ``/docs`` (vendored Swagger UI) and ``/docs/reference`` (plain HTML).

    ``/docs/reference`` is the same reference rendered on the server, with no script at all.
    """
    app.mount("/docs/assets", StaticFiles(packages=[("geotarget.web", "swagger")]), name="docs_assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        from geotarget.render.text import html

        page = html('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{} {}: API</title>'
                    '<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head><body>'
                    '<p><a href="/docs/reference">The API reference as plain HTML</a> · '
                    '<a href="/openapi.json">/openapi.json</a></p><div id="swagger-ui"></div>'
                    '<script src="/docs/assets/swagger-ui-bundle.js"></script>'
                    '<script src="/docs/assets/init.js"></script></body></html>', app.title, app.version)
        return HTMLResponse(str(page))

    @app.get("/docs/reference", include_in_schema=False)
    def reference() -> HTMLResponse:
        return HTMLResponse(openapi_html(app.openapi()))


def openapi_html(spec: dict) -> str:
    """Return an OpenAPI schema as a plain HTML page: each operation, its parameters, body and answers.

    Built with :func:`geotarget.render.text.html` (every value escaped); styled by ``/static/docs.css`` if
    the pages provide one; no script, so it works offline under the service's CSP.
    """
    from geotarget.render.text import html, html_join

    def schema_text(s: dict) -> str:
        if not isinstance(s, dict):
            return ""
        if "$ref" in s:
            return s["$ref"].rsplit("/", 1)[-1]
        for key in ("anyOf", "oneOf"):
            if key in s:
                return " | ".join(schema_text(x) for x in s[key])
        if s.get("type") == "array":
            return f"list of {schema_text(s.get('items', {}))}"
        if "enum" in s:
            return " | ".join(repr(v) for v in s["enum"])
        return str(s.get("type", "object"))

    ops = []
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            params = html_join(html("<li><code>{}</code> ({}){}: {}</li>", p["name"], p.get("in", ""),
                                    " required" if p.get("required") else "", schema_text(p.get("schema", {})))
                               for p in op.get("parameters", []))
            body = html_join(html("<li><code>{}</code>: {}</li>", ctype, schema_text(c.get("schema", {})))
                             for ctype, c in op.get("requestBody", {}).get("content", {}).items())
            answers = html_join(html("<li>{}: {}</li>", code, r.get("description", ""))
                                for code, r in op.get("responses", {}).items())
            ops.append(html('<section><h2><code>{} {}</code></h2><p>{}</p><p>{}</p>{}{}<h3>Responses</h3><ul>{}</ul>'
                            "</section>", method.upper(), path, op.get("summary", ""), op.get("description", ""),
                            html("<h3>Parameters</h3><ul>{}</ul>", params) if params else "",
                            html("<h3>Request body</h3><ul>{}</ul>", body) if body else "", answers))
    models = []
    for name, s in spec.get("components", {}).get("schemas", {}).items():
        props = html_join(html("<li><code>{}</code>{}: {}</li>", k, " (required)" if k in s.get("required", [])
                               else "", schema_text(v)) for k, v in s.get("properties", {}).items())
        models.append(html('<section id="{}"><h3>{}</h3><p>{}</p><ul>{}</ul></section>', name, name,
                           s.get("description", ""), props))
    info = spec.get("info", {})
    page = html('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{} {}: API</title>'
                '<link rel="stylesheet" href="/static/docs.css"></head><body><h1>{} {}</h1><p>{}</p>'
                '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI {}).</p>{}'
                "<h2>Models</h2>{}</body></html>", info.get("title", ""), info.get("version", ""),
                info.get("title", ""), info.get("version", ""), info.get("description", ""),
                spec.get("openapi", ""), html_join(ops), html_join(models))
    return str(page)


# -- running it -------------------------------------------------------------------------------------------------
def check_port(host: str, port: int) -> None:
    """Refuse (one line) a port another program listens on, before the data is loaded."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise ParameterError(f"port was {port} but {host}:{port} cannot be used ({e.strerror or e}): another "
                                 "program listens there; choose another port", parameter="port") from None


def serve(settings: Settings, *, quiet: bool = False) -> None:
    """Run the service with uvicorn until interrupted (``settings.workers`` processes)."""
    import os

    import uvicorn

    check_port(settings.host, settings.port)
    kw = {"host": settings.host, "port": settings.port, "log_level": "warning" if quiet else "info",
          "proxy_headers": settings.forwarded_allow_ips is not None, "server_header": False}
    if settings.forwarded_allow_ips is not None:
        kw["forwarded_allow_ips"] = settings.forwarded_allow_ips
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **kw)
        return
    os.environ.update(settings.to_env())  # each worker process builds its app from these
    uvicorn.run("geotarget.web.app:app_from_env", factory=True, workers=settings.workers, **kw)


def add_user(url: str, *, email: str, name: str, role: str, password: str):
    """Add an account to the database at ``url`` (migrated first); return it."""
    engine = make_engine(url)
    try:
        migrate(url, engine=engine)
        with session_factory(engine)() as session:
            return service.create_user(session, email, name, role, password)
    finally:
        engine.dispose()


def set_password(url: str, *, email: str, password: str):
    """Give the account ``email`` in the database at ``url`` a new password; return the account."""
    engine = make_engine(url)
    try:
        migrate(url, engine=engine)
        with session_factory(engine)() as session:
            return service.set_password(session, email, password)
    finally:
        engine.dispose()


def list_users(url: str) -> list:
    """Return the accounts in the database at ``url`` (migrated first), by id."""
    from sqlalchemy import select

    from geotarget.web.db import User

    engine = make_engine(url)
    try:
        migrate(url, engine=engine)
        with session_factory(engine)() as session:
            return list(session.scalars(select(User).order_by(User.id)))
    finally:
        engine.dispose()


__all__ = ["SESSION_COOKIE", "add_user", "app_from_env", "check_port", "create_app", "list_users", "openapi_html",
           "serve", "set_password"]
