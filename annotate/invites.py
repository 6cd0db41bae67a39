"""Invite links: an admin makes one with a role, the visitor who opens it makes their own
account with that role.

The token is 32 random bytes, given once in the link; the database keeps its SHA-256 only
(a high-entropy token needs no slow hash), so the invites table is no list of open doors.
A link works once, until settings.INVITE_EXPIRY_DAYS after it was made: using it is one
conditional UPDATE (still unused, not expired) in the transaction that makes the account,
so two visitors using the link at once make one account, and a refused account (a taken
username) leaves the invite unused.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotate.models import Invite
from annotate.progress import SHARE_INPUTS_KEY
from annotate.roles import ROLES
from annotate.team import TeamRefused


class InviteRefused(TeamRefused):
    """The link cannot be used (unknown, used, expired) or the account not made."""


@dataclass(frozen=True)
class CreatedInvite:
    invite: Invite
    token: str  # shown once, in the link; not stored


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_create(*, created_by: User, role: str, email: str = "", note: str = "") -> CreatedInvite:
    """A new invite for the role, and its token (the only time it is known)."""
    if role not in ROLES:
        raise InviteRefused(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    token = secrets.token_urlsafe(32)
    invite = Invite.objects.create(
        token_hash=token_hash(token),
        role=role,
        email=email.strip(),
        note=note.strip(),
        created_by=created_by,
        expires_at=timezone.now() + datetime.timedelta(days=settings.INVITE_EXPIRY_DAYS),
    )
    return CreatedInvite(invite=invite, token=token)


def _why_not(invite: Invite | None, now: datetime.datetime) -> str | None:
    if invite is None:
        return "This invite link is not valid: check that it was copied whole, or ask for a new one."
    if invite.used_at is not None:
        return "This invite link has been used already: it works once. Log in, or ask for a new one."
    if invite.expires_at <= now:
        return "This invite link has expired. Ask an admin for a new one."
    return None


def invite_for_token(*, token: str) -> Invite:
    """The open invite of a link; InviteRefused saying why when it cannot be used."""
    invite = Invite.objects.filter(token_hash=token_hash(token)).first()
    reason = _why_not(invite, timezone.now())
    if reason is not None or invite is None:
        raise InviteRefused(reason or "This invite link is not valid.")
    return invite


def invite_accept(*, token: str, username: str, password: str) -> User:
    """Make the account of an invite: the username and (validated) password the visitor
    chose, the invite's role and e-mail. InviteRefused when the link cannot be used, or the
    username is taken; then nothing is written and the invite stays as it was."""
    now = timezone.now()
    digest = token_hash(token)
    try:
        with transaction.atomic():
            taken = Invite.objects.filter(token_hash=digest, used_at__isnull=True, expires_at__gt=now).update(
                used_at=now
            )
            if not taken:
                reason = _why_not(Invite.objects.filter(token_hash=digest).first(), now)
                raise InviteRefused(reason or "This invite link cannot be used.")
            invite = Invite.objects.get(token_hash=digest)
            if User.objects.filter(username__iexact=username).exists():
                raise InviteRefused(f"The username {username} is taken: choose another.")
            user = User.objects.create_user(username=username, email=invite.email, password=password)
            user.groups.add(Group.objects.get(name=invite.role))
            invite.used_by = user
            invite.save(update_fields=["used_by"])
            transaction.on_commit(lambda: cache.delete(SHARE_INPUTS_KEY))
    except IntegrityError:
        # Another visitor took the same username between the check and the insert.
        raise InviteRefused(f"The username {username} is taken: choose another.") from None
    return user


def invite_revoke(*, invite_id: int) -> Invite:
    """Make an unused invite's link stop working now."""
    with transaction.atomic():
        invite = Invite.objects.select_for_update().filter(pk=invite_id).first()
        if invite is None:
            raise Invite.DoesNotExist(f"No invite {invite_id}.")
        if invite.used_at is not None:
            raise InviteRefused("That invite has been used already; deactivate the account instead.")
        now = timezone.now()
        if invite.expires_at > now:
            invite.expires_at = now
            invite.save(update_fields=["expires_at"])
    return invite


def invites_open() -> list[Invite]:
    """The invites whose links still work, newest first: one query."""
    return list(
        Invite.objects.filter(used_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
