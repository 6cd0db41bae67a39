from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path

PASSWORD_RESET_VIEWS = {
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


def when_mail_is_configured(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The password-reset pages exist only when a reset mail can be sent (EMAIL_HOST set, or
    DEBUG with the console backend): otherwise 404, and no SMTP connection is tried."""

    @wraps(view)  # keeps login_not_required: the reset pages are for people who cannot log in
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not settings.PASSWORD_RESET_ENABLED:
            raise Http404("Password reset is off: no e-mail is configured (EMAIL_HOST).")
        return view(request, *args, **kwargs)

    return wrapper


class LoginView(auth_views.LoginView):
    """Django's login page, linking to the password reset when that is on."""

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        return {
            **super().get_context_data(**kwargs),
            "password_reset_enabled": settings.PASSWORD_RESET_ENABLED,
        }


def account_urls() -> list[URLPattern | URLResolver]:
    """django.contrib.auth's account pages, the reset pages switched by the e-mail settings."""
    patterns: list[URLPattern | URLResolver] = []
    for pattern in auth_urls.urlpatterns:
        if not isinstance(pattern, URLPattern):  # an include() (none today) is kept as it is
            pass
        elif pattern.name == "login":
            pattern = path(str(pattern.pattern), LoginView.as_view(), name="login")
        elif pattern.name in PASSWORD_RESET_VIEWS:
            pattern = path(str(pattern.pattern), when_mail_is_configured(pattern.callback), name=pattern.name)
        patterns.append(pattern)
    return patterns


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include(account_urls())),
    path("api/", include("annotate.api.urls")),
    path("", include("annotate.urls")),
]
