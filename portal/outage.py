"""While PostgreSQL cannot be reached, every page answers at once with a short 503 page and
``Retry-After`` instead of a server error or a long wait (README "Database outages").

Three parts:

- ``OutageMiddleware.process_exception`` answers the outage page for a view (or its template)
  that could not reach the database;
- ``server_error`` (``handler500`` in portal/urls.py) does the same for the rest: the session or
  the signed-in user read by a middleware before the view, or a session saved after it. Django
  turns an exception into a response at the middleware that raised it, so no middleware sees the
  errors of those inside it: the error handler is where they all end;
- the breaker: once a request of this process could not connect to the database, the others
  answer the outage page at once, before any middleware touches the database, one request a
  second tries a query, and the pool's wait is cut short until one succeeds. Without it each
  request would hold an app server thread for the pool's whole wait (2 s), and under load the
  queue behind those threads would grow without end.

The page is rendered without the request, so no context processor, session or user lookup runs:
nothing on it needs the database.
"""

import contextlib
import logging
import sys
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views import defaults

logger = logging.getLogger(__name__)

# Seconds a visitor (or a crawler) is asked to wait before trying again.
RETRY_AFTER = 30
# While the database is unreachable, one request a second (per process) tries to connect, and
# a request waits at most this long for a pooled connection.
TRY_EVERY = 1.0
SHORT_WAIT = 0.1

# PostgreSQL's own "going away or not there yet" errors: admin_shutdown (a fast shutdown ends
# every session), crash_shutdown, cannot_connect_now (starting up or shutting down). Class 08 is
# connection exceptions; errors without a SQLSTATE come from the client side (refused, timed
# out, closed, no pooled connection in time).
_SERVER_GONE = {"57P01", "57P02", "57P03"}


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached (and not a failed statement such
    as a deadlock or a cancelled query, which stays a server error)."""
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _SERVER_GONE


def _stylesheets() -> list[str]:
    """The site's stylesheets under their hashed names. The page must render whatever happens,
    so where collectstatic has not run (no manifest) it goes out unstyled rather than fail."""
    urls = []
    for name in ("css/tokens.css", "css/base.css"):
        with contextlib.suppress(ValueError):
            urls.append(static(name))
    return urls


def unavailable(request: HttpRequest) -> HttpResponse:
    """The outage page, in the visitor's language (the language switch's cookie, else zh-hans),
    never cached."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    context = {
        "LANGUAGE_CODE": language,
        "elder_mode": request.COOKIES.get(settings.ELDER_MODE_COOKIE) == "1",
        "stylesheets": _stylesheets(),
        "again": request.get_full_path() if request.method in {"GET", "HEAD"} else "/",
    }
    with translation.override(language):
        html = render_to_string("503.html", context)
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Content-Language"] = language
    add_never_cache_headers(response)
    patch_vary_headers(response, ["Cookie"])
    return response


class Breaker:
    """Whether this process last found the database unreachable, and when a request may next
    try to connect.

    While it is down, the pool's wait for a connection is cut to ``SHORT_WAIT``: a request that
    is already past the breaker (or the one trying) does not hold its thread for the whole wait
    again, and the pool, which keeps reconnecting in the background, hands out a connection as
    soon as it has one.
    """

    def __init__(self, interval: float):
        self.interval = interval
        self.lock = threading.Lock()
        self.down = False
        self.next_try = 0.0
        self.pool_wait: float | None = None  # the pool's own wait, kept while it is cut short

    def trip(self) -> None:
        with self.lock:
            if not self.down:
                logger.warning("database unreachable: pages answer 503 until it is back")
                self.pool_wait = _set_pool_wait(SHORT_WAIT)
            self.down = True
            self.next_try = time.monotonic() + self.interval

    def reset(self) -> None:
        with self.lock:
            if self.down:
                logger.warning("database reachable again")
                if self.pool_wait is not None:
                    _set_pool_wait(self.pool_wait)
            self.down = False

    def may_try(self) -> bool:
        """Always while the database is up; once an interval while it is down."""
        if not self.down:
            return True
        with self.lock:
            now = time.monotonic()
            if now < self.next_try:
                return False
            self.next_try = now + self.interval
            return True


def _set_pool_wait(seconds: float) -> float | None:
    """Set how long a request waits for a pooled connection (psycopg_pool's ``timeout``, which
    ``getconn()`` reads on each call); returns the previous value, or None without a pool."""
    pool = connections[DEFAULT_DB_ALIAS].pool
    if pool is None:
        return None
    previous, pool.timeout = pool.timeout, seconds
    return previous


breaker = Breaker(TRY_EVERY)


class OutageMiddleware:
    """The outage page for a request that could not reach the database, and at once for the
    others while it stays unreachable (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if breaker.down:
            if not breaker.may_try():
                return unavailable(request)
            try:
                # The connection this request would take anyway, taken and tried first.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            except (OperationalError, InterfaceError) as error:
                if not unreachable(error):
                    raise
                breaker.trip()
                return unavailable(request)
            breaker.reset()
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not unreachable(exception):
            return None
        noticed()
        return unavailable(request)


def noticed() -> None:
    """Called where a request found the database unreachable: trip the breaker if the request
    could not get a connection at all. A connection lost under a running request (one backend
    ended by an administrator, say) costs that request only: the next one takes a fresh,
    checked connection."""
    if connection.connection is None:
        breaker.trip()


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the outage page when the error being handled is an unreachable database,
    else Django's own server error page (templates/500.html)."""
    error = sys.exc_info()[1]
    if error is not None and unreachable(error):
        noticed()
        return unavailable(request)
    return defaults.server_error(request)
