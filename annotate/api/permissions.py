"""Who may use which endpoint: the browser's roles, as DRF permission classes."""

from __future__ import annotations

from django.contrib.auth.models import User
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from annotate.roles import is_admin, is_curator


def signed_in(request: Request) -> User:
    """The request's user, who IsAuthenticated (every endpoint's default) has let through."""
    if not isinstance(request.user, User):
        raise NotAuthenticated()
    return request.user


class IsCurator(BasePermission):
    """Curators and admins: agreement, model versions, every suggestion."""

    message = "Only curators and admins may do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_curator(request.user)


class IsAdmin(BasePermission):
    """Admins: importing articles, exporting datasets, issuing tokens."""

    message = "Only admins may do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_admin(request.user)
