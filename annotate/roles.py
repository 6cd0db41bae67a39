"""The three roles, as auth groups, and who may do what."""

from __future__ import annotations

from collections.abc import Collection

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

ANNOTATOR = "annotator"
CURATOR = "curator"
ADMIN = "admin"
ROLES = (ANNOTATOR, CURATOR, ADMIN)


def _signed_in(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def _superuser_holds(user: User | AnonymousUser, roles: Collection[str]) -> bool:
    """Superusers hold every role but annotator's.

    Labelling reserves a sentence and counts toward the annotators' shares of the corpus,
    which count the group's members (annotate.progress), so an admin who never labels must
    not hold reservations just because superusers hold every other role.
    """
    return bool(user.is_superuser) and any(role != ANNOTATOR for role in roles)


def has_role(user: User | AnonymousUser, *roles: str) -> bool:
    """Whether the user holds any of the roles: their groups', and a superuser's (above)."""
    if not _signed_in(user):
        return False
    if _superuser_holds(user, roles):
        return True
    return user.groups.filter(name__in=roles).exists()


def holds(user: User | AnonymousUser, groups: Collection[str], *roles: str) -> bool:
    """has_role for a caller that has read the user's group names already (the
    navigation asks three questions with one query)."""
    if not _signed_in(user):
        return False
    return _superuser_holds(user, roles) or any(role in groups for role in roles)


def is_annotator(user: User | AnonymousUser) -> bool:
    """Members of the annotator group; unlike the other roles, not every superuser."""
    return has_role(user, ANNOTATOR)


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
