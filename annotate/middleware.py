from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url

logger = logging.getLogger(__name__)


class StanceLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Login everywhere; pages redirect to the login form, other requests get a 401.

    A POST or an htmx request from a stale session must not be answered with the login
    page as if it were a fragment; htmx follows the HX-Redirect header to the login page.
    """

    def handle_no_permission(self, request: HttpRequest, view_func: object) -> HttpResponse:
        if request.method in ("GET", "HEAD") and not request.headers.get("HX-Request"):
            return super().handle_no_permission(request, view_func)
        response = HttpResponse("Log in first.", status=401, content_type="text/plain")
        response["HX-Redirect"] = resolve_url(self.get_login_url(view_func))
        return response


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached answers 503 "retry shortly", not a 500 page.

    While the database server restarts (or SQLite stays locked past its busy timeout) the
    connection raises OperationalError or InterfaceError. Each request runs in its own
    transactions, which the database rolls back, so nothing is half-written; the client
    gets a plain-text 503 with Retry-After (htmx shows the text in the page's error line)
    and can send the same label again. The error is logged as a warning.

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
            return self.unavailable(request, error)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            return self.unavailable(request, exception)
        return None
