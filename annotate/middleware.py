from __future__ import annotations

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url


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
