"""Demo accounts for trying Stance locally; never for production."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Exists, OuterRef

from annotate.models import Annotation, QueueOrder, Target
from annotate.roles import ADMIN, ANNOTATOR, CURATOR

#: The target migration 0002 makes, the one `make run` shows.
DEMO_TARGET = "Huawei"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    created: bool = False


DEMO_ACCOUNTS = (
    ("admin", "admin-stance-demo", ADMIN),
    ("curator", "curator-stance-demo", CURATOR),
    ("annotator1", "annotator1-stance-demo", ANNOTATOR),
    ("annotator2", "annotator2-stance-demo", ANNOTATOR),
)


def demo_accounts_create() -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; existing ones are left as they are."""
    User = get_user_model()
    accounts = []
    with transaction.atomic():
        for username, password, role in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.is_staff = role == ADMIN
                user.is_superuser = role == ADMIN
                user.save()
            user.groups.add(Group.objects.get(name=role))
            accounts.append(DemoAccount(username=username, password=password, role=role, created=created))
    return accounts


def demo_target_new_default() -> bool:
    """Give the demo target the order new targets get (random) while nobody has labelled it;
    whether it changed. Migration 0002 makes it before the random order's migration, which
    leaves existing targets as they are, so a fresh `make run` would otherwise show it in
    article order. Once it has labels its order is a choice made, and kept."""
    unlabelled = Target.objects.filter(name=DEMO_TARGET).exclude(
        Exists(Annotation.objects.filter(target=OuterRef("pk")))
    )
    # update(), not save(): the order is not an overlap setting, the cursors stay.
    return bool(unlabelled.exclude(queue_order=QueueOrder.RANDOM).update(queue_order=QueueOrder.RANDOM))
