from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_demo_accounts_are_created_once_with_their_roles(settings, capsys):
    settings.DEBUG = True
    call_command("create_demo_users")
    call_command("create_demo_users")
    out = capsys.readouterr().out
    assert "annotator1-stance-demo" in out
    users = get_user_model().objects.order_by("username")
    assert [(u.username, [g.name for g in u.groups.all()]) for u in users] == [
        ("admin", ["admin"]),
        ("annotator1", ["annotator"]),
        ("annotator2", ["annotator"]),
        ("curator", ["curator"]),
    ]
    assert get_user_model().objects.get(username="curator").check_password("curator-stance-demo")
    assert get_user_model().objects.get(username="admin").is_superuser


def test_demo_accounts_are_refused_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("create_demo_users")
    assert not get_user_model().objects.exists()
