from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import resolve_url

logger = logging.getLogger(__name__)


class StanceLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Login everywhere; pages redirect to the login form, other requests get a 401.

    A POST or an htmx request from a stale session must not be answered with the login
    page as if it were a fragment; htmx follows the HX-Redirect header to the login page.
    """

    # The stubs promise a redirect; Django only returns what this gives back from process_view.
    def handle_no_permission(  # type: ignore[override]
        self, request: HttpRequest, view_func: Callable[..., HttpResponseBase]
    ) -> HttpResponseBase:
        if request.method in ("GET", "HEAD") and not request.headers.get("HX-Request"):
            return super().handle_no_permission(request, view_func)
        response = HttpResponse("Log in first.", status=401, content_type="text/plain")
        response["HX-Redirect"] = resolve_url(self.get_login_url(view_func))
        return response


# PostgreSQL SQLSTATEs that mean "no connection now", whatever the query: class 08
# (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now:
# a restart or a failover) and 53300 (too many connections).
UNREACHABLE_SQLSTATE_PREFIXES = ("08", "57P01", "57P02", "57P03", "53300")
# SQLite's primary result codes for the same: the file cannot be opened (SQLITE_CANTOPEN),
# or another writer held the lock past the busy timeout (SQLITE_BUSY, "database is
# locked"), which clears when that writer commits.
UNREACHABLE_SQLITE_CODES = {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY}


def database_unreachable(error: BaseException) -> bool:
    """Whether a database error means the database cannot be reached now, so the same request
    can succeed a little later ("retry shortly"), rather than a fault to fix.

    Django raises OperationalError for both: a refused connection, but also SQLite's "no such
    table" after a missed migration or a PostgreSQL deadlock, which a retry would not cure
    and which must be logged as errors. Django's error is raised from the driver's (its
    __cause__); the driver's codes decide, not the message's wording:
    - psycopg: SQLSTATE class 08, 57P01-57P03, 53300; an OperationalError without SQLSTATE
      comes from libpq itself, not the server: the connection failed or was lost.
    - sqlite3: SQLITE_CANTOPEN ("unable to open database file"), SQLITE_BUSY.
    InterfaceError ("connection already closed") is always a lost connection.
    """
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if cause is None:
        return False
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in UNREACHABLE_SQLITE_CODES  # extended codes keep it in the low byte
    if hasattr(cause, "sqlstate") or hasattr(cause, "pgcode"):  # psycopg 3, psycopg2
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        return sqlstate is None or sqlstate.startswith(UNREACHABLE_SQLSTATE_PREFIXES)
    return False


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached answers 503 "retry shortly", not a 500 page.

    While the database server restarts (or SQLite stays locked past its busy timeout) the
    connection raises OperationalError or InterfaceError; database_unreachable tells these
    from the other database errors, which go on to Django's 500 handling and its error log.
    Each request runs in its own transactions, which the database rolls back, so nothing is
    half-written; the client gets a plain-text 503 with Retry-After (htmx shows the text in
    the page's error line) and can send the same label again. The error is logged as a
    warning.

    It sits right after AuthenticationMiddleware: loading the session and the user is the
    first query of most requests, and it happens before any view, so process_view does it
    here, where the error can be answered; errors in views reach process_exception.
    """

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def unavailable(self, request: HttpRequest, error: Exception) -> HttpResponse:
        logger.warning("Database unavailable for %s %s: %s", request.method, request.path, error)
        response = HttpResponse("Database unavailable, retry shortly.", status=503, content_type="text/plain")
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response

    def process_view(self, request: HttpRequest, *args: object) -> HttpResponse | None:
        try:
            request.user.is_authenticated  # noqa: B018 -- loads the session and the user now
        except (OperationalError, InterfaceError) as error:
            if not database_unreachable(error):
                raise
            return self.unavailable(request, error)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unreachable(exception):
            return self.unavailable(request, exception)
        return None
