"""Demo accounts for trying Stance locally; never for production."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from annotate.roles import ADMIN, ANNOTATOR, CURATOR


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
