"""The team: who is in it, with which role, and their labelling, for the admins' team page.

One role a person (the annotator, curator or admin group); an admin changes it, deactivates
and reactivates accounts, and sends a password-reset link. Invites are annotate/invites.py.

The team always keeps an active admin: a change that would leave none is refused. Role
changes and deactivations take the admin group's row lock first (on SQLite the IMMEDIATE
transaction's write lock), so two admins demoting each other at once cannot both pass the
count. Releasing reservations then takes the targets' locks in id order, as the label loop
does (annotate/queue/__init__.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, OuterRef, Q, Subquery, Value, When

from annotate.models import Annotation, AnnotatorTally, Assignment
from annotate.progress import SHARE_INPUTS_KEY
from annotate.queue.locks import lock_target
from annotate.roles import ADMIN, ANNOTATOR, CURATOR, ROLES


class TeamRefused(ValidationError):
    """A team change that is not allowed (the last admin, an unknown role, ...): nothing was
    written; the message says why, for the page."""


@dataclass(frozen=True)
class TargetCount:
    target_id: int
    target_name: str
    labels: int
    skips: int
    last_label_at: datetime.datetime | None


@dataclass
class Person:
    id: int
    username: str
    email: str
    role: str  # "" when in none of the groups
    is_active: bool
    is_superuser: bool
    targets: list[TargetCount] = field(default_factory=list)

    @property
    def labels(self) -> int:
        return sum(t.labels for t in self.targets)

    @property
    def skips(self) -> int:
        return sum(t.skips for t in self.targets)

    @property
    def last_label_at(self) -> datetime.datetime | None:
        return max((t.last_label_at for t in self.targets if t.last_label_at), default=None)


#: Higher wins when someone is in several groups (from before one role a person).
_RANK = {ANNOTATOR: 1, CURATOR: 2, ADMIN: 3}


def _role_of_user() -> Subquery:
    """A person's role: the highest of their role groups' names."""
    rank = Case(*(When(name=name, then=Value(n)) for name, n in _RANK.items()), output_field=IntegerField())
    groups = Group.objects.filter(user=OuterRef("pk"), name__in=ROLES).annotate(rank=rank)
    return Subquery(groups.order_by("-rank").values("name")[:1])


def _people(*, person_id: int | None = None) -> list[Person]:
    users = User.objects.all() if person_id is None else User.objects.filter(pk=person_id)
    people = {
        row["pk"]: Person(
            id=row["pk"],
            username=row["username"],
            email=row["email"],
            role=row["role"] or "",
            is_active=row["is_active"],
            is_superuser=row["is_superuser"],
        )
        for row in users.annotate(role=_role_of_user())
        .order_by("-is_active", "username")
        .values("pk", "username", "email", "role", "is_active", "is_superuser")
    }
    if not people:
        return []
    last = Annotation.objects.filter(
        annotator_id=OuterRef("annotator_id"), target_id=OuterRef("target_id")
    ).order_by("-updated_at")
    tallies = AnnotatorTally.objects.filter(Q(labels__gt=0) | Q(skips__gt=0))
    if person_id is not None:
        tallies = tallies.filter(annotator_id=person_id)
    rows = (
        tallies.annotate(last=Subquery(last.values("updated_at")[:1]))
        .order_by("annotator_id", "target__name")
        .values_list("annotator_id", "target_id", "target__name", "labels", "skips", "last")
    )
    for annotator_id, target_id, name, labels, skips, last_at in rows:
        person = people.get(annotator_id)
        if person is not None:
            person.targets.append(TargetCount(target_id, name, labels, skips, last_at))
    return list(people.values())


def team_members() -> list[Person]:
    """Everyone, active first, with their role and labels per target: two queries at any
    team size. The counts are the annotator tallies (kept by triggers), the last label date
    one index seek a (person, target) on annotation_recent."""
    return _people()


def team_member(*, person_id: int) -> Person:
    """One person as team_members reads them (the row swapped in after a change)."""
    found = _people(person_id=person_id)
    if not found:
        raise User.DoesNotExist(f"No person {person_id}.")
    return found[0]


def _lock_team() -> None:
    """Serialise role changes and deactivations: the admin group's row (PostgreSQL; SQLite's
    IMMEDIATE transaction holds the database's write lock already)."""
    list(Group.objects.select_for_update().filter(name=ADMIN).values_list("pk", flat=True))


def _active_admins_besides(person_id: int) -> int:
    return (
        User.objects.filter(Q(is_superuser=True) | Q(groups__name=ADMIN), is_active=True)
        .exclude(pk=person_id)
        .values("pk")
        .distinct()
        .count()
    )


def _locked_person(person_id: int) -> User:
    person = User.objects.select_for_update().filter(pk=person_id).first()
    if person is None:
        raise User.DoesNotExist(f"No person {person_id}.")
    return person


def _release_reservations_locked(person: User) -> int:
    """Give up the person's reservations on every target, each target's lock first (in id
    order, the one lock order), so their sentences open to the others now rather than when
    the reservations expire; how many there were."""
    target_ids = sorted(
        set(Assignment.objects.filter(annotator_id=person.pk).values_list("target_id", flat=True))
    )
    for target_id in target_ids:
        lock_target(target_id, archived_ok=True)
    deleted, _ = Assignment.objects.filter(annotator_id=person.pk, target_id__in=target_ids).delete()
    return deleted


def _annotator_count_changed() -> None:
    # The progress bars' share divides the corpus among the active annotators.
    transaction.on_commit(lambda: cache.delete(SHARE_INPUTS_KEY))


def person_role_set(*, person_id: int, role: str) -> User:
    """Give the person exactly one role. Refused (TeamRefused) for an unknown role, a
    superuser (who holds every role but annotator's whatever their group), and when it
    would leave no active admin. Leaving the annotator role releases their reservations."""
    if role not in ROLES:
        raise TeamRefused(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    with transaction.atomic():
        _lock_team()
        person = _locked_person(person_id)
        if person.is_superuser:
            raise TeamRefused(
                f"{person.username} is a superuser, an admin whatever their role here; "
                "change that in the Django admin."
            )
        if role != ADMIN and person.is_active and not _active_admins_besides(person.pk):
            raise TeamRefused(f"{person.username} is the last active admin: make someone else admin first.")
        groups = list(Group.objects.filter(name__in=ROLES))
        person.groups.remove(*[g for g in groups if g.name != role])
        person.groups.add(*[g for g in groups if g.name == role])
        if role != ANNOTATOR:
            _release_reservations_locked(person)
        _annotator_count_changed()
    return person


def person_active_set(*, actor: User, person_id: int, active: bool) -> User:
    """Deactivate (they can no longer log in or use the API; their labels stay, their open
    reservations are released) or reactivate an account. Refused for one's own account and
    for the last active admin."""
    with transaction.atomic():
        _lock_team()
        person = _locked_person(person_id)
        if not active:
            if person.pk == actor.pk:
                raise TeamRefused("You cannot deactivate your own account: ask another admin.")
            is_admin = person.is_superuser or person.groups.filter(name=ADMIN).exists()
            if is_admin and person.is_active and not _active_admins_besides(person.pk):
                raise TeamRefused(
                    f"{person.username} is the last active admin: make someone else admin first."
                )
        if person.is_active != active:
            person.is_active = active
            person.save(update_fields=["is_active"])
        if not active:
            _release_reservations_locked(person)
        _annotator_count_changed()
    return person


class _OnePersonResetForm(PasswordResetForm):
    """Django's reset mail and token, sent to one account (the form itself mails every
    account with the address)."""

    def __init__(self, person: User) -> None:
        super().__init__(data={"email": person.email})
        self.person = person

    def get_users(self, email: str) -> list[User]:
        person = self.person
        return [person] if person.is_active and person.has_usable_password() else []


def person_password_reset_send(*, person_id: int, domain: str, use_https: bool) -> User:
    """Mail the person Django's password-reset link (its token generator and templates).
    Refused for a person without an e-mail address, or who is inactive."""
    person = User.objects.filter(pk=person_id).first()
    if person is None:
        raise User.DoesNotExist(f"No person {person_id}.")
    if not person.email:
        raise TeamRefused(f"{person.username} has no e-mail address to send the link to.")
    if not person.is_active:
        raise TeamRefused(f"{person.username} is deactivated: reactivate them first.")
    form = _OnePersonResetForm(person)
    if not form.is_valid():
        raise TeamRefused(f"{person.username}'s e-mail address is not valid: {person.email}.")
    form.save(domain_override=domain, use_https=use_https)
    return person
