"""The request type of Stance's views, for the type checker."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class SignedInRequest(HttpRequest):
    """What a view receives: StanceLoginRequiredMiddleware has turned away anyone not signed
    in (views marked login_not_required take a plain HttpRequest), and django-htmx's
    middleware has set `htmx`. Django builds the object; this class only names its type."""

    user: User
    htmx: HtmxDetails
