"""API tokens for scripts: admins issue them (the API, `manage.py issue_token`, Django admin)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token


def token_issue(*, user: User, by: User | AnonymousUser | None, rotate: bool = False) -> tuple[Token, bool]:
    """The user's API token and whether it is new: the existing one is kept unless `rotate`,
    which replaces it (the old token stops working at once).

    `by` is who asks, None for the shell (`manage.py issue_token`, whose operator can act as
    anyone anyway). A token lets its holder act as its user, so a superuser's token is for
    superusers only: an admin who is not one must not become one through it.
    """
    if user.is_superuser and by is not None and not by.is_superuser:
        raise PermissionDenied("Only a superuser may see or rotate a superuser's token.")
    if not user.is_active:
        raise ValidationError(f"{user.get_username()} is inactive; activate the account first.")
    with transaction.atomic():
        if rotate:
            Token.objects.filter(user=user).delete()
        return Token.objects.get_or_create(user=user)
