"""API tokens for scripts: admins issue them (the API, `manage.py issue_token`, Django admin)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token


def token_issue(*, user: AbstractBaseUser, rotate: bool = False) -> tuple[Token, bool]:
    """The user's API token and whether it is new: the existing one is kept unless `rotate`,
    which replaces it (the old token stops working at once)."""
    if not user.is_active:
        raise ValidationError(f"{user.get_username()} is inactive; activate the account first.")
    with transaction.atomic():
        if rotate:
            Token.objects.filter(user=user).delete()
        return Token.objects.get_or_create(user=user)
