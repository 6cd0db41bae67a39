"""The three roles, as auth groups, and who may do what."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

ANNOTATOR = "annotator"
CURATOR = "curator"
ADMIN = "admin"
ROLES = (ANNOTATOR, CURATOR, ADMIN)


def has_role(user: User | AnonymousUser, *roles: str) -> bool:
    """Superusers hold every role; others hold the roles of their groups."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=roles).exists()


def is_annotator(user: User | AnonymousUser) -> bool:
    """Members of the annotator group; unlike the other roles, not every superuser.

    Labelling reserves a sentence and counts toward the annotators' shares of the corpus,
    which count the group's members (annotate.progress), so an admin who never labels must
    not hold reservations just because superusers hold every other role.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    return user.groups.filter(name=ANNOTATOR).exists()


def is_curator(user: User | AnonymousUser) -> bool:
    return has_role(user, CURATOR, ADMIN)


def is_admin(user: User | AnonymousUser) -> bool:
    return has_role(user, ADMIN)


def require_curator(user: User | AnonymousUser, what: str) -> None:
    """Raise PermissionDenied (a 403) unless the user is a curator or an admin."""
    if not is_curator(user):
        raise PermissionDenied(f"{what} is for curators and admins.")


def require_admin(user: User | AnonymousUser, what: str) -> None:
    """Raise PermissionDenied (a 403) unless the user is an admin."""
    if not is_admin(user):
        raise PermissionDenied(f"{what} is for admins.")
