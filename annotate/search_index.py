"""The full-text index over sentences, kept in step with every write by the database.

Triggers, not service code, for the same reason as the tallies (annotate/tally_sql.py):
sentences are created by the corpus import's bulk batches, the label import, the API and
the Django admin, and a text can be edited in the admin; a trigger (SQLite) or a generated
column (PostgreSQL) sees every one of them, and costs the writing path no query.

SQLite: an external-content FTS5 table, annotate_sentence_fts, whose rowid is the
sentence's id and whose only column is the text (the text itself stays in
annotate_sentence), kept by AFTER INSERT / UPDATE OF text / DELETE triggers. Porter
stemming over unicode61 with diacritics removed, so "networks" finds "network".
PostgreSQL: a stored generated column, annotate_sentence.search_vector =
to_tsvector('english', text), with a GIN index: the English configuration's stemming and
stop words. Neither is in Django's model state (SQLite has no tsvector; the FTS5 table is
a virtual table), so both are made here, by migration 0028, and the SQLite triggers are put
back after every migrate by annotate/triggers.py.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

FTS_TABLE = "annotate_sentence_fts"
PG_COLUMN = "search_vector"
PG_INDEX = "sentence_search_vector"
PG_CONFIG = "english"

_CREATE_FTS = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(text, content='annotate_sentence', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
)
_DELETE_ROW = f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, text) VALUES ('delete', OLD.id, OLD.text);"
_INSERT_ROW = f"INSERT INTO {FTS_TABLE} (rowid, text) VALUES (NEW.id, NEW.text);"

#: (name, event, body) of each SQLite trigger on annotate_sentence.
SQLITE_TRIGGERS = [
    ("annotate_sentence_fts_insert", "INSERT", _INSERT_ROW),
    ("annotate_sentence_fts_delete", "DELETE", _DELETE_ROW),
    ("annotate_sentence_fts_update", "UPDATE OF text", _DELETE_ROW + " " + _INSERT_ROW),
]


def sqlite_trigger_statements() -> list[str]:
    statements = [f"DROP TRIGGER IF EXISTS {name}" for name, _, _ in SQLITE_TRIGGERS]
    statements += [
        f"CREATE TRIGGER {name} AFTER {event} ON annotate_sentence FOR EACH ROW BEGIN {body} END"
        for name, event, body in SQLITE_TRIGGERS
    ]
    return statements


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection: BaseDatabaseWrapper) -> None:
    """Make the index and fill it from the sentences there are (migration 0028).

    SQLite's 'rebuild' reads the content table once and writes the index in one pass (about
    seven seconds a million sentences here); PostgreSQL computes the column while it
    rewrites the table, then builds the GIN index in one sort.
    """
    if connection.vendor == "postgresql":
        _run(
            connection,
            [
                f"ALTER TABLE annotate_sentence ADD COLUMN IF NOT EXISTS {PG_COLUMN} tsvector "
                f"GENERATED ALWAYS AS (to_tsvector('{PG_CONFIG}'::regconfig, text)) STORED",
                f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON annotate_sentence USING gin ({PG_COLUMN})",
            ],
        )
        return
    _run(
        connection,
        [
            _CREATE_FTS,
            *sqlite_trigger_statements(),
            f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')",
        ],
    )


def uninstall(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        _run(connection, [f"ALTER TABLE annotate_sentence DROP COLUMN IF EXISTS {PG_COLUMN}"])
        return
    drops = [f"DROP TRIGGER IF EXISTS {name}" for name, _, _ in SQLITE_TRIGGERS]
    _run(connection, [*drops, f"DROP TABLE IF EXISTS {FTS_TABLE}"])


def reinstall_triggers(connection: BaseDatabaseWrapper) -> None:
    """SQLite's triggers again, after a migration that rebuilt annotate_sentence (which
    keeps every id, so the index still matches the rows)."""
    if connection.vendor == "sqlite":
        _run(connection, sqlite_trigger_statements())
