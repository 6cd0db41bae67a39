from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotate.queue.record import annotation_record

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


def test_demo_accounts_are_printed_with_the_address_the_app_is_served_at(settings, capsys):
    settings.DEBUG = True
    call_command("create_demo_users", "--url", "http://0.0.0.0:8765/")
    out = capsys.readouterr().out
    assert "log in at http://0.0.0.0:8765/" in out
    assert "8000" not in out


def test_make_run_passes_its_host_and_port_to_the_demo_accounts_and_retrains_only_on_change():
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "create_demo_users --url http://$(HOST):$(PORT)/" in makefile
    assert "retrain --if-possible --if-changed" in makefile


def test_the_unlabelled_demo_target_takes_the_random_order_as_new_targets_do(settings, huawei, capsys):
    settings.DEBUG = True
    assert huawei.queue_order == "in_order"  # as migration 0002 made it, before the default changed

    call_command("create_demo_users")

    huawei.refresh_from_db()
    assert huawei.queue_order == "random"
    assert "Huawei target hands out sentences in the random order" in capsys.readouterr().out


def test_a_labelled_demo_target_keeps_its_order(settings, huawei, annotator, sentences):
    settings.DEBUG = True
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")

    call_command("create_demo_users")

    huawei.refresh_from_db()
    assert huawei.queue_order == "in_order"
