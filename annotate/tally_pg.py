"""PostgreSQL's tally triggers, one firing a statement instead of one a row.

The row-level triggers of annotate/tally_sql.py update the same few rows (the annotator's
tally, the target's change counter and disagreement count) once for every label written.
PostgreSQL keeps every version of a row updated inside one transaction until it ends, and
each further update walks past them, so a statement or transaction that writes many labels
(an import, a bulk build, a cascade) grew quadratically: 8,000 label updates in one
statement took 20 s with them against 0.8 s without. These triggers read the statement's
transition tables (`new_rows`, `old_rows`) and write each counter row once a statement,
from sums grouped by target and sentence or annotator, so the same write costs one upsert
per distinct row. The counts are the same as the row triggers' (the tally tests run on
both databases); SQLite keeps the row triggers, where an update happens in place.

Lock order is the row triggers' (annotate/queue/__init__.py): sentence tallies (in sentence
order, so two bulk statements lock them in the same order), the disagreement count (from
the tally statement's own triggers), annotator tallies, the change counter.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from annotate import tally_sql

LABELS = ("pro", "contra", "neutral", "skip")
SHOWN = ("pro", "contra", "neutral")


def _case(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _tally_sums() -> dict[str, str]:
    """Each tally column as a signed sum over `d` (rows with a `sign` column)."""
    sums = {label: "SUM(d.sign * " + _case(f"d.label = '{label}'") + ")" for label in LABELS}
    for label in SHOWN:
        sums[f"{label}_shown"] = "SUM(d.sign * " + _case(f"d.label = '{label}' AND d.suggestion_shown") + ")"
    return sums


def _signed(*parts: tuple[int, str]) -> str:
    """The transition tables as one derived table `d` with a sign a row: +1 new, -1 old."""
    return "(" + " UNION ALL ".join(f"SELECT {sign} AS sign, * FROM {table}" for sign, table in parts) + ") d"


def _upsert_sentences(source: str) -> str:
    sums = _tally_sums()
    updates = ", ".join(f"{c} = annotate_sentencetally.{c} + excluded.{c}" for c in sums)
    return (
        f"INSERT INTO annotate_sentencetally (target_id, sentence_id, {', '.join(sums)}, adjudicated) "
        f"SELECT d.target_id, d.sentence_id, {', '.join(sums.values())}, '' FROM {source} "
        "GROUP BY d.target_id, d.sentence_id ORDER BY d.target_id, d.sentence_id "
        f"ON CONFLICT (target_id, sentence_id) DO UPDATE SET {updates};"
    )


def _subtract_sentences() -> str:
    """UPDATE only: a cascade that deleted the tally rows first must not bring them back,
    and PostgreSQL checks an upsert's proposed row (negative counts) before its conflict."""
    sums = _tally_sums()
    columns = ", ".join(f"{expr} AS {c}" for c, expr in sums.items())
    updates = ", ".join(f"{c} = t.{c} + d.{c}" for c in sums)
    return (
        f"UPDATE annotate_sentencetally t SET {updates} FROM (SELECT d.target_id, d.sentence_id, {columns} "
        f"FROM {_signed((-1, 'old_rows'))} GROUP BY d.target_id, d.sentence_id) d "
        "WHERE t.target_id = d.target_id AND t.sentence_id = d.sentence_id;"
    )


def _annotator_sums() -> str:
    labels, skips = _case("d.label <> 'skip'"), _case("d.label = 'skip'")
    return f"SUM(d.sign * {labels}), SUM(d.sign * {skips})"


def _upsert_annotators(source: str) -> str:
    return (
        "INSERT INTO annotate_annotatortally (target_id, annotator_id, labels, skips) "
        f"SELECT d.target_id, d.annotator_id, {_annotator_sums()} FROM {source} "
        "GROUP BY d.target_id, d.annotator_id ORDER BY d.target_id, d.annotator_id "
        "ON CONFLICT (target_id, annotator_id) DO UPDATE "
        "SET labels = annotate_annotatortally.labels + excluded.labels, "
        "skips = annotate_annotatortally.skips + excluded.skips;"
    )


def _subtract_annotators() -> str:
    labels, skips = _annotator_sums().split(", ")
    return (
        "UPDATE annotate_annotatortally t SET labels = t.labels + d.labels, skips = t.skips + d.skips "
        f"FROM (SELECT d.target_id, d.annotator_id, {labels} AS labels, {skips} AS skips "
        f"FROM {_signed((-1, 'old_rows'))} GROUP BY d.target_id, d.annotator_id) d "
        "WHERE t.target_id = d.target_id AND t.annotator_id = d.annotator_id;"
    )


def _count_changes(table: str) -> str:
    """One change a written row, as the row triggers count."""
    return (
        "INSERT INTO annotate_targetchanges (target_id, changes) "
        f"SELECT target_id, COUNT(*) FROM {table} GROUP BY target_id ORDER BY target_id "
        "ON CONFLICT (target_id) DO UPDATE SET changes = annotate_targetchanges.changes + excluded.changes;"
    )


def _bump_changes() -> str:
    """UPDATE only, as tally_sql._bump: a cascade deleting the target's counter first."""
    return (
        "UPDATE annotate_targetchanges t SET changes = t.changes + d.n "
        "FROM (SELECT target_id, COUNT(*) AS n FROM old_rows GROUP BY target_id) d "
        "WHERE t.target_id = d.target_id;"
    )


def _unadjudicate() -> str:
    return (
        "UPDATE annotate_sentencetally t SET adjudicated = '' FROM old_rows o "
        "WHERE t.target_id = o.target_id AND t.sentence_id = o.sentence_id;"
    )


def _adjudicate() -> str:
    return (
        "INSERT INTO annotate_sentencetally (target_id, sentence_id, pro, contra, neutral, skip, "
        "pro_shown, contra_shown, neutral_shown, adjudicated) "
        "SELECT target_id, sentence_id, 0, 0, 0, 0, 0, 0, 0, label FROM new_rows "
        "ORDER BY target_id, sentence_id "
        "ON CONFLICT (target_id, sentence_id) DO UPDATE SET adjudicated = excluded.adjudicated;"
    )


def _open(row: str) -> str:
    """1 when a tally row is an open disagreement: tally_sql._open's rule."""
    return _case(f"COALESCE({row}.agreement, 1) < 1 AND {row}.adjudicated = ''")


def _move_open_count(source: str) -> str:
    """An UPDATE only, as tally_sql._count_by: the row is made with its target, and an
    upsert here brought back the row of a target whose tables were being emptied."""
    net = f"SUM(d.sign * {_open('d')})"
    return (
        "UPDATE annotate_disagreementcount c SET open_count = c.open_count + n.delta "
        f"FROM (SELECT d.target_id, {net} AS delta FROM {source} GROUP BY d.target_id HAVING {net} <> 0) n "
        "WHERE c.target_id = n.target_id;"
    )


def _close_open_count() -> str:
    return (
        "UPDATE annotate_disagreementcount c SET open_count = c.open_count - d.n "
        f"FROM (SELECT o.target_id, SUM({_open('o')}) AS n FROM old_rows o GROUP BY o.target_id) d "
        "WHERE c.target_id = d.target_id AND d.n <> 0;"
    )


def _new_target() -> str:
    """A new target's counter rows (tally_sql.NEW_TARGET), so the counts only UPDATE them."""
    return (
        "INSERT INTO annotate_disagreementcount (target_id, open_count) SELECT id, 0 FROM new_rows "
        "ORDER BY id ON CONFLICT (target_id) DO NOTHING; "
        "INSERT INTO annotate_targetchanges (target_id, changes) SELECT id, 0 FROM new_rows "
        "ORDER BY id ON CONFLICT (target_id) DO NOTHING;"
    )


NEW, OLD, BOTH = (
    "NEW TABLE AS new_rows",
    "OLD TABLE AS old_rows",
    "OLD TABLE AS old_rows NEW TABLE AS new_rows",
)

#: (table, event, transition tables, statements), in the order the row triggers write.
STATEMENT_TRIGGERS: list[tuple[str, str, str, list[str]]] = [
    (
        "annotation",
        "INSERT",
        NEW,
        [
            _upsert_sentences(_signed((1, "new_rows"))),
            _upsert_annotators(_signed((1, "new_rows"))),
            _count_changes("new_rows"),
        ],
    ),
    ("annotation", "DELETE", OLD, [_subtract_sentences(), _subtract_annotators(), _bump_changes()]),
    (
        "annotation",
        "UPDATE",
        BOTH,
        [
            # Old rows out, then new rows in, as the row triggers do.
            _subtract_sentences(),
            _upsert_sentences(_signed((1, "new_rows"))),
            _subtract_annotators(),
            _upsert_annotators(_signed((1, "new_rows"))),
            _count_changes("new_rows"),
        ],
    ),
    ("adjudication", "INSERT", NEW, [_adjudicate(), _count_changes("new_rows")]),
    ("adjudication", "UPDATE", BOTH, [_unadjudicate(), _adjudicate(), _count_changes("new_rows")]),
    ("adjudication", "DELETE", OLD, [_unadjudicate(), _bump_changes()]),
    ("target", "INSERT", NEW, [_new_target()]),
    ("sentencetally", "INSERT", NEW, [_move_open_count(_signed((1, "new_rows")))]),
    ("sentencetally", "UPDATE", BOTH, [_move_open_count(_signed((1, "new_rows"), (-1, "old_rows")))]),
    ("sentencetally", "DELETE", OLD, [_close_open_count()]),
]


def _count_gold(source: str, condition: str) -> str:
    """An UPDATE only: the counter row is made with its target (tally_sql.GOLD_TRIGGERS)."""
    return (
        "UPDATE annotate_goldchanges c SET changes = c.changes + d.n "
        f"FROM (SELECT n.target_id, COUNT(*) AS n FROM {source} WHERE {condition} GROUP BY n.target_id) d "
        "WHERE c.target_id = d.target_id;"
    )


#: tally_sql.GOLD_TRIGGERS once a statement: the gold change counter (retrain_policy.py).
#: Named `tallygold`, so they fire after the disagreement count's (PostgreSQL fires a
#: table's triggers in name order): the counter rows are locked in the same order as before.
GOLD_STATEMENT_TRIGGERS: list[tuple[str, str, str, list[str]]] = [
    (
        "target",
        "INSERT",
        NEW,
        [
            "INSERT INTO annotate_goldchanges (target_id, changes) SELECT id, 0 FROM new_rows "
            "ORDER BY id ON CONFLICT (target_id) DO NOTHING;"
        ],
    ),
    ("sentencetally", "INSERT", NEW, [_count_gold("new_rows n", "n.gold <> ''")]),
    (
        "sentencetally",
        "UPDATE",
        BOTH,
        [
            _count_gold(
                "new_rows n JOIN old_rows o ON o.target_id = n.target_id AND o.sentence_id = n.sentence_id",
                "n.gold <> o.gold",
            )
        ],
    ),
    (
        "sentencetally",
        "DELETE",
        OLD,
        [
            "UPDATE annotate_goldchanges c SET changes = c.changes + d.n "
            "FROM (SELECT target_id, COUNT(*) AS n FROM old_rows WHERE gold <> '' GROUP BY target_id) d "
            "WHERE c.target_id = d.target_id;"
        ],
    ),
]


def create_statements(
    triggers: list[tuple[str, str, str, list[str]]] | None = None, kind: str = "tally"
) -> list[str]:
    statements = []
    for table, event, transition, body in STATEMENT_TRIGGERS if triggers is None else triggers:
        name = f"annotate_{table}_{kind}_{event.lower()}"
        statements.append(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            + " ".join(body)
            + " RETURN NULL; END $$;"
        )
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON annotate_{table} "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {name}();"
        )
    return statements


def _row_triggers() -> list[tally_sql.Trigger]:
    return tally_sql.TRIGGERS + tally_sql.COUNT_TRIGGERS


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection: BaseDatabaseWrapper) -> None:
    """Replace the row triggers with these (migration 0017); the counts are unchanged."""
    if connection.vendor == "postgresql":
        _run(connection, tally_sql.drop_statements("postgresql", _row_triggers()) + create_statements())


def uninstall(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        rows = _row_triggers()
        _run(
            connection,
            tally_sql.drop_statements("postgresql", rows) + tally_sql.create_statements("postgresql", rows),
        )
