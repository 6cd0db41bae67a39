"""The tally triggers are there after every migrate, whatever a migration rebuilt."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from annotate import triggers
from annotate.models import DisagreementCount, TargetChanges
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db


def test_every_tally_trigger_is_installed_after_the_migrations():
    assert triggers.installed_names(connection=connection) == triggers.expected_names()


def test_a_migrate_puts_back_the_triggers_a_sqlite_table_rebuild_dropped():
    """SQLite drops a table's triggers when a migration rebuilds it to add a field (as
    adding Target fields after migration 0020 did): the next migrate brings them back."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL alters tables in place")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER annotate_target_tally_insert")
        cursor.execute("DROP TRIGGER annotate_annotation_tally_insert")
    assert triggers.installed_names(connection=connection) != triggers.expected_names()

    call_command("migrate", verbosity=0)

    assert triggers.installed_names(connection=connection) == triggers.expected_names()
    target = TargetFactory()
    assert DisagreementCount.objects.filter(target=target).exists()
    assert TargetChanges.objects.filter(target=target).exists()
