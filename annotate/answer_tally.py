"""The database triggers that keep AnswerTally true: every annotator's answers to the
evaluation items, counted by (gold label, given label, since the last lift).

An ANSWER is a label on an evaluation item's sentence given at or after the item was
marked (annotate/evaluation.py). Counting them on every read joined each evaluation item
to its labels: 25,000 items and 50,000 labels at 1,000,000 labels, which made the
annotators' table, the annotator page and the API ten times slower at 1,000,000 labels than
at 10,000 (benchmarks/pages.py). The counts change only when one of the four things an
answer rests on is written, so triggers on those keep them, as the label tallies are kept
(annotate/tally_sql.py), on every path that writes them:

- a label written, changed or removed: its answer, if its sentence is an evaluation item;
- an evaluation item marked or unmarked: the answers on its sentence;
- a gold label changed: the answers on its item move from the old gold to the new;
- a lift (EvaluationPause.lifted_at set): the annotator's answers counted again, since
  the ones given before it no longer count toward a flag.

Each change is written as signed counts of one grouped SELECT, `_grouped`, over the rows
the statement wrote: one builder for every trigger, the migration's backfill and the
tests' recount, so the rule cannot drift apart. Removals only UPDATE (never upsert): a
cascade that deleted the tally rows first must not bring them back (tally_sql._count_by).
A pause row is only ever deleted with its target or annotator, whose answer tallies go
with it, so a delete has no trigger.

SQLite runs them once a row; PostgreSQL once a statement over the transition tables for
labels, items and gold labels (a bulk write updates each tally row once, tally_pg's
reason) and once a row for pauses (one lift at a time). Lock order (PostgreSQL): the
answer tallies are written last of all counters, after the label tallies and the change
counter (the triggers are named `tallyanswers`, which PostgreSQL fires after `tally`).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from annotate import tally_pg, tally_sql

KIND = "tallyanswers"

#: The columns of each written table the counts read, as SQLite's NEW/OLD rows list them.
_COLUMNS = {
    "annotation": ("target_id", "sentence_id", "annotator_id", "label", "created_at"),
    "evaluationitem": ("target_id", "sentence_id", "adjudication_id", "created_at"),
    "adjudication": ("id", "label"),
}

_ITEM_TO_LABELS = (
    'JOIN "annotate_annotation" "a" ON "a"."target_id" = "e"."target_id" '
    'AND "a"."sentence_id" = "e"."sentence_id" AND "a"."created_at" >= "e"."created_at"'
)
_ITEM_TO_GOLD = 'JOIN "annotate_adjudication" "g" ON "g"."id" = "e"."adjudication_id"'

#: Where each written table's rows (aliased a, e or g) join the other two.
_JOINS = {
    "annotation": (
        '"a" JOIN "annotate_evaluationitem" "e" ON "e"."target_id" = "a"."target_id" '
        'AND "e"."sentence_id" = "a"."sentence_id" AND "a"."created_at" >= "e"."created_at" ' + _ITEM_TO_GOLD
    ),
    "evaluationitem": f'"e" {_ITEM_TO_GOLD} {_ITEM_TO_LABELS}',
    "adjudication": f'"g" JOIN "annotate_evaluationitem" "e" ON "e"."adjudication_id" = "g"."id" {_ITEM_TO_LABELS}',
}

#: Every answer of every target: the items, their gold labels and their labels.
_EVERY_ANSWER = '"annotate_evaluationitem" ' + _JOINS["evaluationitem"]

#: Whether an answer counts toward a flag: given after the annotator's last lift.
_SINCE_LIFT = '("p"."lifted_at" IS NULL OR "a"."created_at" > "p"."lifted_at")'

_KEY = ("target_id", "annotator_id", "gold", "given", "since_lift")


def _grouped(rows: str, where: str = "1 = 1") -> str:
    """The answers in `rows` (a FROM clause with aliases a, e, g), counted by tally key."""
    return f"""SELECT "a"."target_id" AS "target_id", "a"."annotator_id" AS "annotator_id",
    "g"."label" AS "gold", "a"."label" AS "given", {_SINCE_LIFT} AS "since_lift", COUNT(*) AS "n"
FROM {rows}
LEFT JOIN "annotate_evaluationpause" "p" ON "p"."target_id" = "a"."target_id" AND "p"."annotator_id" = "a"."annotator_id"
WHERE {where}
GROUP BY "a"."target_id", "a"."annotator_id", "g"."label", "a"."label", {_SINCE_LIFT}"""


def _add(rows: str, where: str = "1 = 1") -> str:
    """Upsert the counts, in key order (two bulk statements lock tally rows in one order).
    `WHERE 1 = 1` is SQLite's marker between INSERT ... SELECT and ON CONFLICT."""
    key = ", ".join(f'"{c}"' for c in _KEY)
    return (
        f'INSERT INTO "annotate_answertally" ({key}, "answers") '
        f'SELECT {key}, "n" FROM ({_grouped(rows, where)}) "x" WHERE 1 = 1 ORDER BY {key} '
        f"ON CONFLICT ({key}) DO UPDATE SET "
        '"answers" = "annotate_answertally"."answers" + excluded."answers";'
    )


def _subtract(rows: str) -> str:
    match = " AND ".join(f'"annotate_answertally"."{c}" = "x"."{c}"' for c in _KEY)
    return (
        'UPDATE "annotate_answertally" SET "answers" = "annotate_answertally"."answers" - "x"."n" '
        f'FROM ({_grouped(rows)}) "x" WHERE {match};'
    )


def _row(table: str, row: str) -> str:
    """SQLite's NEW or OLD row of `table` as a one-row derived table."""
    columns = ", ".join(f'{row}."{c}" AS "{c}"' for c in _COLUMNS[table])
    return f"(SELECT {columns})"


def _rows(table: str, source: str) -> str:
    return f"{source} {_JOINS[table]}"


def _recount(row: str) -> list[str]:
    """An annotator's answers on a target counted again (a lift moved what counts since)."""
    where = f'"a"."target_id" = {row}."target_id" AND "a"."annotator_id" = {row}."annotator_id"'
    return [
        f'DELETE FROM "annotate_answertally" WHERE "target_id" = {row}."target_id" '
        f'AND "annotator_id" = {row}."annotator_id";',
        _add(_EVERY_ANSWER, where),
    ]


def _pause_triggers(distinct: str) -> list[tally_sql.Trigger]:
    """A lift, once a row on both databases; `distinct` is the database's IS DISTINCT FROM
    (SQLite spells it IS NOT)."""
    return [
        ("evaluationpause", "INSERT", _recount("NEW"), "NEW.lifted_at IS NOT NULL"),
        ("evaluationpause", "UPDATE", _recount("NEW"), f"OLD.lifted_at {distinct} NEW.lifted_at"),
    ]


PAUSE_TRIGGERS = _pause_triggers("IS DISTINCT FROM")
EVENTS = ("INSERT", "DELETE", "UPDATE")


def _changed(table: str) -> str:
    """SQLite's condition for an UPDATE that can move an answer: one of the columns the
    counts read changed (a reveal or a touch of updated_at moves none)."""
    return " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in _COLUMNS[table])


def _sqlite_triggers() -> list[tally_sql.Trigger]:
    found: list[tally_sql.Trigger] = []
    for table in _COLUMNS:
        new, old = _rows(table, _row(table, "NEW")), _rows(table, _row(table, "OLD"))
        found += [
            (table, "INSERT", [_add(new)]),
            (table, "DELETE", [_subtract(old)]),
            (table, "UPDATE", [_subtract(old), _add(new)], _changed(table)),
        ]
    return found + _pause_triggers("IS NOT")


def _pg_statement_triggers() -> list[tuple[str, str, str, list[str]]]:
    found = []
    for table in _COLUMNS:
        new, old = _rows(table, "new_rows"), _rows(table, "old_rows")
        # No WHEN on a statement trigger: an UPDATE that moved no answer takes its rows
        # out and puts them back, once a statement.
        found += [
            (table, "INSERT", tally_pg.NEW, [_add(new)]),
            (table, "DELETE", tally_pg.OLD, [_subtract(old)]),
            (table, "UPDATE", tally_pg.BOTH, [_subtract(old), _add(new)]),
        ]
    return found


def _every_trigger() -> list[tally_sql.Trigger]:
    """Each (table, event) with a trigger, bodies left out: what to name and to drop."""
    pairs = [(t, e) for t in _COLUMNS for e in EVENTS] + [(t, e) for t, e, *_ in PAUSE_TRIGGERS]
    found: list[tally_sql.Trigger] = [(t, e, []) for t, e in pairs]
    return found


def trigger_names() -> set[str]:
    return {tally_sql._name(t, e, KIND) for t, e, *_ in _every_trigger()}


def _drop(vendor: str) -> list[str]:
    return tally_sql.drop_statements(vendor, _every_trigger(), KIND)


def create_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return tally_pg.create_statements(_pg_statement_triggers(), KIND) + tally_sql.create_statements(
            vendor, PAUSE_TRIGGERS, KIND
        )
    return tally_sql.create_statements(vendor, _sqlite_triggers(), KIND)


#: Every answer there is, counted afresh (the migration, and a check in the tests).
BACKFILL = ['DELETE FROM "annotate_answertally"', _add(_EVERY_ANSWER)]

#: What the tallies should hold, for the tests to compare: (key..., answers) rows.
RECOUNT = _grouped(_EVERY_ANSWER)


def reinstall(connection: BaseDatabaseWrapper) -> None:
    """Drop and create the triggers (SQLite after a table rebuild; idempotent)."""
    tally_sql._run(connection, _drop(connection.vendor) + create_statements(connection.vendor))


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the triggers and count the answers there are (migration 0037)."""
    tally_sql._run(connection, _drop(connection.vendor) + create_statements(connection.vendor) + BACKFILL)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    tally_sql._run(connection, _drop(connection.vendor))
