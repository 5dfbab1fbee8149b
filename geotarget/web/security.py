"""The service's defences: security headers (CSP), request size limit, CSRF tokens, rate limits, who is logged in.

* :class:`SecurityHeaders` adds the contract's headers to every response; a response that sets its own
  ``Content-Security-Policy`` keeps it (the HTML report: :data:`REPORT_CSP`, a sandbox).
* :class:`BodyLimit` answers 413 to a request body over the limit, from ``Content-Length`` or while it
  streams (a chunked upload cannot get round it).
* CSRF: one random token per session (:func:`csrf_token`), required on every unsafe request as the
  ``X-CSRF-Token`` header (API) or the ``csrf_token`` form field (pages): :func:`check_csrf`.
* :class:`RateLimiter`: a token bucket per client (written here: about 30 lines, thread-safe and bounded in
  memory, where a library such as slowapi would add two dependencies for the same effect).
  Limits are per process (each of ``--workers N`` counts on its own).
* :func:`current_user` and friends: the logged-in user from the signed session cookie.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import OrderedDict

from starlette.requests import Request

from geotarget.core.errors import GeotargetError

#: The Content-Security-Policy of every page (no inline script or style: JS and CSS are files in web/static).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
       "img-src 'self' data: https://*.tile.openstreetmap.org; frame-ancestors 'self'; base-uri 'none'; "
       "form-action 'self'; object-src 'none'")
#: The policy of the self-contained HTML report (inline script and style): sandboxed, so it runs in an opaque
#: origin with no access to the service's cookies or pages.
REPORT_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
              "img-src data: https://*.tile.openstreetmap.org; font-src data:; frame-ancestors 'self'; "
              "base-uri 'none'; form-action 'none'; object-src 'none'; sandbox allow-scripts")
#: Headers every response carries.
HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"x-frame-options": b"SAMEORIGIN",
}
#: Paths of files the same for everyone (may be cached); every other answer is sent with ``Cache-Control: no-store``.
PUBLIC_PREFIXES = ("/static/", "/vendor/", "/docs/assets/")
#: Methods that change something (need the CSRF token).
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
#: Bytes a form adds around an uploaded file (field names, boundaries): allowed beyond max_upload_bytes.
FORM_OVERHEAD = 64_000


class RateLimited(GeotargetError):
    """Too many requests from one client (429); ``retry_after`` is the seconds until one is allowed."""

    status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class CsrfError(GeotargetError):
    """An unsafe request without the session's CSRF token (403)."""

    status = 403


class SecurityHeaders:
    """ASGI middleware: add :data:`HEADERS` to every HTTP response (keeping a CSP the response set itself).

    Answers other than the shared files (:data:`PUBLIC_PREFIXES`) also get ``Cache-Control: no-store``, so
    no proxy or browser cache keeps a submission.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        """Pass the request on; add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        shared = scope.get("path", "").startswith(PUBLIC_PREFIXES)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS.items() if k not in present]
                if not shared and b"cache-control" not in present:  # pages and API answers hold personal data
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """ASGI middleware: refuse (413) a request body larger than ``limit`` bytes, declared or streamed."""

    def __init__(self, app, *, limit: int):
        self.app = app
        self.limit = int(limit)

    async def __call__(self, scope, receive, send):
        """Check ``Content-Length``, then count the bytes as they arrive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    n = int(v)
                except ValueError:
                    n = -1
                if n < 0 or n > self.limit:
                    await _too_large(send, self.limit)
                    return
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(send, self.limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    import json

    body = json.dumps({"detail": f"request body too large: at most {limit:,} bytes are accepted"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *HEADERS.items()]})
    await send({"type": "http.response.body", "body": body})


# -- CSRF ----------------------------------------------------------------------------------------------------
def csrf_token(request: Request) -> str:
    """Return the session's CSRF token, creating it (and so the session cookie) if needed."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, form_token: str | None = None) -> None:
    """Refuse (:class:`CsrfError`) an unsafe request whose token (header or form field) is not the session's."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.session.get("csrf")
    given = request.headers.get("x-csrf-token") or form_token or ""
    if not expected or not secrets.compare_digest(str(given), str(expected)):
        raise CsrfError("missing or wrong CSRF token: send the X-CSRF-Token header (API) or the csrf_token form "
                        "field (pages) with the token of your session (GET /api/me or the page's form)")


def new_session(request: Request, user) -> str:
    """Start a fresh session for ``user`` (clearing the old one) with a new CSRF token; return the token.

    ``user`` is a :class:`~geotarget.web.db.User` (or, as before, its id). Given the user, the session
    also keeps a stamp of the password hash (:func:`password_stamp`): once the password is changed,
    sessions started with the old one are no longer accepted (:func:`session_matches`).
    """
    request.session.clear()
    if isinstance(user, int):
        request.session["uid"] = user
    else:
        request.session["uid"] = int(user.id)
        request.session["stamp"] = password_stamp(user.password_hash)
    return csrf_token(request)


def password_stamp(password_hash: str) -> str:
    """Return a short digest of a password hash, kept in the session (never the hash itself)."""
    import hashlib

    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def session_matches(request: Request, user) -> bool:
    """Return True if the session may act as ``user``: begun with the user's current password.

    A session begun without a stamp (``new_session(request, user_id)``) gets one here, on its first use.
    """
    current = password_stamp(user.password_hash)
    stamp = request.session.get("stamp")
    if stamp is None:
        request.session["stamp"] = current
        return True
    return secrets.compare_digest(str(stamp), current)


# -- rate limit ------------------------------------------------------------------------------------------------
class RateLimiter:
    """A token bucket per client: ``per_minute`` requests a minute, in bursts of up to ``burst`` (default the rate).

    ``per_minute = 0`` disables the limit. At most ``max_clients`` buckets are kept (least recently used
    dropped), so memory stays bounded whatever the number of clients.
    """

    def __init__(self, per_minute: int, *, burst: int | None = None, max_clients: int = 10_000, what: str = "requests",
                 clock=time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else per_minute)
        self.max_clients = max_clients
        self.what = what
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, client: str) -> None:
        """Take one token for ``client`` or raise :class:`RateLimited` with the seconds to wait."""
        if self.rate <= 0:
            return
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                wait = math.ceil((1 - tokens) / self.rate)
                raise RateLimited(f"too many {self.what}: at most {self.rate * 60:g} a minute from one client; try "
                                  f"again in {wait} s", retry_after=wait)
            self._buckets[client] = (tokens - 1, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)


def client_key(request: Request) -> str:
    """Return the client a rate limit counts: its address (behind a proxy: uvicorn's --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


def limit_login(request: Request, email: str) -> None:
    """Count a login attempt against the client's address and against the account it names (429 past either)."""
    limiter = request.app.state.login_limiter
    limiter.hit(client_key(request))
    limiter.hit("account:" + str(email or "").strip().lower())  # guessing one password from many addresses


# -- who is logged in ------------------------------------------------------------------------------------------
def session_user_id(request: Request) -> int | None:
    """Return the id of the logged-in user from the signed session cookie, or ``None``."""
    uid = request.session.get("uid")
    return int(uid) if isinstance(uid, int) else None


__all__ = ["CSP", "FORM_OVERHEAD", "HEADERS", "PUBLIC_PREFIXES", "REPORT_CSP", "UNSAFE_METHODS", "BodyLimit",
           "CsrfError", "RateLimited", "RateLimiter", "SecurityHeaders", "check_csrf", "client_key", "csrf_token",
           "limit_login", "new_session", "password_stamp", "session_matches", "session_user_id"]
