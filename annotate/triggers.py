"""Every database trigger Stance relies on, put back after each `migrate`.

SQLite alters a table by rebuilding it (a new table, the rows copied, the old one dropped),
and the old table's triggers are dropped with it. A migration that adds a field to Target,
Annotation, Adjudication or SentenceTally therefore removed their tally triggers without a
word: a target created afterwards had no counter rows, and its open disagreements were
never counted. So after every `migrate` (and every flush of a test database, which sends
the same signal) the triggers are dropped and created again (the full-text index's on
annotate_sentence too, annotate/search_index.py), on SQLite, where tables are
rebuilt; PostgreSQL alters tables in place and keeps them. The counts the triggers keep are
not recomputed here: each migration that changed a rule counted what was there.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

from annotate import answer_tally, search_index, tally_sql

#: The last migration that installed triggers: before it (a database migrated backwards),
#: the triggers are that migration's business, not this module's.
LAST_TRIGGER_MIGRATION = ("annotate", "0023_retrain_policy_and_activation")
#: The migration that made the evaluation answers' tallies and their triggers.
ANSWER_MIGRATION = ("annotate", "0037_answer_tally")
#: The migration that made the full-text index and its triggers on annotate_sentence.
SEARCH_MIGRATION = ("annotate", "0028_sentence_search")


def expected() -> list[tally_sql.Trigger]:
    return tally_sql.TRIGGERS + tally_sql.COUNT_TRIGGERS


def installed_names(*, connection: BaseDatabaseWrapper) -> set[str]:
    """The tally triggers present in the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'annotate_%%_tally_%%'")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'annotate_%_tally_%'"
            )
        return {name for (name,) in cursor.fetchall()}


def expected_names() -> set[str]:
    names = {tally_sql._name(table, event) for table, event, *_ in expected()}
    gold = {
        tally_sql._name(table, event, tally_sql.GOLD_KIND) for table, event, *_ in tally_sql.GOLD_TRIGGERS
    }
    return names | gold | answer_tally.trigger_names()


def reinstall(*, connection: BaseDatabaseWrapper) -> None:
    """Drop and create SQLite's tally triggers (idempotent; a no-op on PostgreSQL)."""
    if connection.vendor != "sqlite":
        return
    gold, kind = tally_sql.GOLD_TRIGGERS, tally_sql.GOLD_KIND
    statements = tally_sql.drop_statements("sqlite", expected()) + tally_sql.create_statements(
        "sqlite", expected()
    )
    statements += tally_sql.drop_statements("sqlite", gold, kind) + tally_sql.create_statements(
        "sqlite", gold, kind
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    """post_migrate's receiver: put the triggers back when the schema is at or past the
    last migration that defined them."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return
    applied = recorder.applied_migrations()
    if LAST_TRIGGER_MIGRATION in applied:
        reinstall(connection=connection)
    if ANSWER_MIGRATION in applied:
        answer_tally.reinstall(connection)
    if SEARCH_MIGRATION in applied:
        search_index.reinstall_triggers(connection)
