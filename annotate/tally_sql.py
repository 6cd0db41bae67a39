"""The database triggers that keep SentenceTally, AnnotatorTally, DisagreementCount and
TargetChanges true.

Triggers, not service code, because every path that writes a label must count it: the label
loop's hand-written INSERT, history edits, the API, imports, the Django admin and cascading
deletes. A trigger runs inside the writing statement's transaction, so a tally can never
disagree with the labels it counts, and the label round trip gains no query.

Lock order (PostgreSQL): a label write already holds its target row and its annotation row;
the trigger then updates the sentence's tally row (whose own trigger may move the target's
disagreement count), the annotator's tally row and the target's change counter, always in
that order (annotate/queue/__init__.py has the whole order).

Each statement below is written once and wrapped for each database: a SQLite trigger body,
or a PL/pgSQL function. `NEW` and `OLD` are the written row in both.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper


def _flag(row: str, condition: str) -> str:
    return f"CASE WHEN {condition.format(row=row)} THEN 1 ELSE 0 END"


def _counts(row: str) -> dict[str, str]:
    """Each tally column's contribution of one annotation row (NEW or OLD)."""
    counts = {
        label: _flag(row, f"{{row}}.label = '{label}'") for label in ("pro", "contra", "neutral", "skip")
    }
    for label in ("pro", "contra", "neutral"):
        counts[f"{label}_shown"] = _flag(row, f"{{row}}.label = '{label}' AND {{row}}.suggestion_shown")
    return counts


def _add_sentence(row: str) -> str:
    counts = _counts(row)
    columns = ", ".join(counts)
    values = ", ".join(counts.values())
    updates = ", ".join(f"{c} = annotate_sentencetally.{c} + excluded.{c}" for c in counts)
    return (
        f"INSERT INTO annotate_sentencetally (target_id, sentence_id, {columns}, adjudicated) "
        f"VALUES ({row}.target_id, {row}.sentence_id, {values}, '') "
        f"ON CONFLICT (target_id, sentence_id) DO UPDATE SET {updates};"
    )


def _remove_sentence(row: str) -> str:
    updates = ", ".join(f"{c} = {c} - {value}" for c, value in _counts(row).items())
    return (
        f"UPDATE annotate_sentencetally SET {updates} "
        f"WHERE target_id = {row}.target_id AND sentence_id = {row}.sentence_id;"
    )


def _annotator_counts(row: str) -> tuple[str, str]:
    return _flag(row, "{row}.label <> 'skip'"), _flag(row, "{row}.label = 'skip'")


def _add_annotator(row: str) -> str:
    labels, skips = _annotator_counts(row)
    return (
        "INSERT INTO annotate_annotatortally (target_id, annotator_id, labels, skips) "
        f"VALUES ({row}.target_id, {row}.annotator_id, {labels}, {skips}) "
        "ON CONFLICT (target_id, annotator_id) DO UPDATE "
        "SET labels = annotate_annotatortally.labels + excluded.labels, "
        "skips = annotate_annotatortally.skips + excluded.skips;"
    )


def _remove_annotator(row: str) -> str:
    labels, skips = _annotator_counts(row)
    return (
        f"UPDATE annotate_annotatortally SET labels = labels - {labels}, skips = skips - {skips} "
        f"WHERE target_id = {row}.target_id AND annotator_id = {row}.annotator_id;"
    )


def _changed(row: str) -> str:
    return (
        "INSERT INTO annotate_targetchanges (target_id, changes) "
        f"VALUES ({row}.target_id, 1) "
        "ON CONFLICT (target_id) DO UPDATE SET changes = annotate_targetchanges.changes + 1;"
    )


def _bump(row: str) -> str:
    """The counter's bump on a delete: an UPDATE only, so a cascade that deletes the target
    (and its counter row first) cannot bring the row back."""
    return f"UPDATE annotate_targetchanges SET changes = changes + 1 WHERE target_id = {row}.target_id;"


def _unadjudicate(row: str) -> str:
    """An UPDATE only, for the same reason: a deleted sentence's tally must stay deleted."""
    return (
        "UPDATE annotate_sentencetally SET adjudicated = '' "
        f"WHERE target_id = {row}.target_id AND sentence_id = {row}.sentence_id;"
    )


def _adjudicate(row: str, label: str) -> str:
    return (
        "INSERT INTO annotate_sentencetally (target_id, sentence_id, pro, contra, neutral, skip, "
        "pro_shown, contra_shown, neutral_shown, adjudicated) "
        f"VALUES ({row}.target_id, {row}.sentence_id, 0, 0, 0, 0, 0, 0, 0, {label}) "
        "ON CONFLICT (target_id, sentence_id) DO UPDATE SET adjudicated = excluded.adjudicated;"
    )


#: (table, event, statements[, condition]): what each write does to the counts.
Trigger = tuple[str, str, list[str]] | tuple[str, str, list[str], str]

TRIGGERS: list[Trigger] = [
    ("annotation", "INSERT", [_add_sentence("NEW"), _add_annotator("NEW"), _changed("NEW")]),
    ("annotation", "DELETE", [_remove_sentence("OLD"), _remove_annotator("OLD"), _bump("OLD")]),
    (
        "annotation",
        "UPDATE",
        [
            _remove_sentence("OLD"),
            _add_sentence("NEW"),
            _remove_annotator("OLD"),
            _add_annotator("NEW"),
            _changed("NEW"),
        ],
    ),
    ("adjudication", "INSERT", [_adjudicate("NEW", "NEW.label"), _changed("NEW")]),
    ("adjudication", "UPDATE", [_unadjudicate("OLD"), _adjudicate("NEW", "NEW.label"), _changed("NEW")]),
    ("adjudication", "DELETE", [_unadjudicate("OLD"), _bump("OLD")]),
]


def _open(row: str) -> str:
    """1 when the tally row is an open disagreement (the adjudication queue's rule, as in
    annotate/adjudication.py and the partial index), else 0."""
    return _flag(row, "COALESCE({row}.agreement, 1) < 1 AND {row}.adjudicated = ''")


def _count_by(row: str, delta: str) -> str:
    """An UPDATE only, never an upsert: this runs nested in every tally write, deletes'
    included (removing a label or a gold label UPDATEs the tally, which can open or close a
    disagreement). An upsert there brought back the counter row of a target whose rows were
    being emptied (a cascade, or the test database's flush, which on SQLite DELETEs the
    tables one by one in no fixed order) and failed its foreign key at commit. The row is
    made with its target instead (below)."""
    return f"UPDATE annotate_disagreementcount SET open_count = open_count + ({delta}) WHERE target_id = {row}.target_id;"


#: A new target's counter rows, so the triggers above only ever UPDATE them. TargetChanges
#: gets its row here too, so a duplicate scan's bump (a plain UPDATE of every row) reaches a
#: target that has no label yet.
NEW_TARGET = [
    "INSERT INTO annotate_disagreementcount (target_id, open_count) VALUES (NEW.id, 0) "
    "ON CONFLICT (target_id) DO NOTHING;",
    "INSERT INTO annotate_targetchanges (target_id, changes) VALUES (NEW.id, 0) "
    "ON CONFLICT (target_id) DO NOTHING;",
]

#: The adjudication queue's length, moved only when a tally row opens or closes. Nested in
#: the label triggers (a tally write fires them), so its row is locked after the sentence
#: tally's and before the annotator tally's. Every trigger fired by a write to the tallies
#: only UPDATEs, as above.
COUNT_TRIGGERS: list[Trigger] = [
    ("target", "INSERT", NEW_TARGET),
    ("sentencetally", "INSERT", [_count_by("NEW", "1")], f"{_open('NEW')} = 1"),
    (
        "sentencetally",
        "UPDATE",
        [_count_by("NEW", f"{_open('NEW')} - {_open('OLD')}")],
        f"{_open('NEW')} <> {_open('OLD')}",
    ),
    (
        "sentencetally",
        "DELETE",
        [
            "UPDATE annotate_disagreementcount SET open_count = open_count - 1 "
            "WHERE target_id = OLD.target_id;"
        ],
        f"{_open('OLD')} = 1",
    ),
]

#: The count of what is there (after any other backfill, whose writes fire the triggers).
COUNT_BACKFILL = [
    "DELETE FROM annotate_disagreementcount",
    "INSERT INTO annotate_disagreementcount (target_id, open_count) "
    "SELECT target.id, (SELECT COUNT(*) FROM annotate_sentencetally tally "
    "WHERE tally.target_id = target.id AND COALESCE(tally.agreement, 1) < 1 "
    "AND tally.adjudicated = '') FROM annotate_target target",
    "INSERT INTO annotate_targetchanges (target_id, changes) SELECT id, 0 FROM annotate_target WHERE true "
    "ON CONFLICT (target_id) DO NOTHING",
]


def _gold_changed(row: str) -> str:
    """An UPDATE only, as _count_by: the counter row is made with its target (below), and
    an upsert here brought back the row of a target whose tables were being emptied."""
    return f"UPDATE annotate_goldchanges SET changes = changes + 1 WHERE target_id = {row}.target_id;"


#: A gold label appeared, changed or went: what background retraining counts
#: (annotate/retrain_policy.py). SQLite's; PostgreSQL has them once a statement
#: (tally_pg.GOLD_STATEMENT_TRIGGERS). Fired after the disagreement count's, so its row is
#: locked after that one and before the annotator tally's, the same order on every path.
#: A delete only UPDATEs, as above.
GOLD_TRIGGERS: list[Trigger] = [
    (
        "target",
        "INSERT",
        [
            "INSERT INTO annotate_goldchanges (target_id, changes) VALUES (NEW.id, 0) ON CONFLICT (target_id) DO NOTHING;"
        ],
    ),
    ("sentencetally", "INSERT", [_gold_changed("NEW")], "NEW.gold <> ''"),
    ("sentencetally", "UPDATE", [_gold_changed("NEW")], "NEW.gold <> OLD.gold"),
    (
        "sentencetally",
        "DELETE",
        ["UPDATE annotate_goldchanges SET changes = changes + 1 WHERE target_id = OLD.target_id;"],
        "OLD.gold <> ''",
    ),
]
GOLD_KIND = "tallygold"

#: Each gold label there is counts as one change; every target gets its row.
GOLD_BACKFILL = [
    "DELETE FROM annotate_goldchanges",
    "INSERT INTO annotate_goldchanges (target_id, changes) "
    "SELECT target.id, (SELECT COUNT(*) FROM annotate_sentencetally tally "
    "WHERE tally.target_id = target.id AND tally.gold <> '') FROM annotate_target target",
]


def _name(table: str, event: str, kind: str = "tally") -> str:
    return f"annotate_{table}_{kind}_{event.lower()}"


def create_statements(vendor: str, triggers: list[Trigger], kind: str = "tally") -> list[str]:
    statements = []
    for table, event, body, *when in triggers:
        name = _name(table, event, kind)
        condition = f" WHEN ({when[0]})" if when else ""
        if vendor == "postgresql":
            statements.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                + " ".join(body)
                + " RETURN NULL; END $$;"
            )
            statements.append(
                f"CREATE TRIGGER {name} AFTER {event} ON annotate_{table} "
                f"FOR EACH ROW{condition} EXECUTE FUNCTION {name}();"
            )
        else:
            statements.append(
                f"CREATE TRIGGER {name} AFTER {event} ON annotate_{table} FOR EACH ROW{condition} BEGIN "
                + " ".join(body)
                + " END;"
            )
    return statements


def drop_statements(vendor: str, triggers: list[Trigger], kind: str = "tally") -> list[str]:
    statements = []
    for table, event, *_ in triggers:
        name = _name(table, event, kind)
        statements.append(
            f"DROP TRIGGER IF EXISTS {name}" + (f" ON annotate_{table}" if vendor == "postgresql" else "")
        )
        if vendor == "postgresql":
            statements.append(f"DROP FUNCTION IF EXISTS {name}()")
    return statements


def _sum(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


#: Counts for labels written before the triggers existed (the migration runs these once).
BACKFILL = [
    "DELETE FROM annotate_sentencetally",
    "DELETE FROM annotate_annotatortally",
    "INSERT INTO annotate_sentencetally (target_id, sentence_id, pro, contra, neutral, skip, "
    "pro_shown, contra_shown, neutral_shown, adjudicated) "
    "SELECT target_id, sentence_id, "
    + ", ".join(_sum(f"label = '{label}'") for label in ("pro", "contra", "neutral", "skip"))
    + ", "
    + ", ".join(_sum(f"label = '{label}' AND suggestion_shown") for label in ("pro", "contra", "neutral"))
    + ", '' FROM annotate_annotation GROUP BY target_id, sentence_id",
    "INSERT INTO annotate_sentencetally (target_id, sentence_id, pro, contra, neutral, skip, "
    "pro_shown, contra_shown, neutral_shown, adjudicated) "
    "SELECT target_id, sentence_id, 0, 0, 0, 0, 0, 0, 0, label FROM annotate_adjudication WHERE true "
    "ON CONFLICT (target_id, sentence_id) DO UPDATE SET adjudicated = excluded.adjudicated",
    "INSERT INTO annotate_annotatortally (target_id, annotator_id, labels, skips) "
    "SELECT target_id, annotator_id, " + _sum("label <> 'skip'") + ", " + _sum("label = 'skip'") + " "
    "FROM annotate_annotation GROUP BY target_id, annotator_id",
    # Every target gets its counter row now; deletes only ever UPDATE it.
    "INSERT INTO annotate_targetchanges (target_id, changes) SELECT id, 0 FROM annotate_target WHERE true "
    "ON CONFLICT (target_id) DO NOTHING",
]


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the label triggers and count what is already there (migration 0011)."""
    vendor = connection.vendor
    _run(connection, drop_statements(vendor, TRIGGERS) + create_statements(vendor, TRIGGERS) + BACKFILL)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    _run(connection, drop_statements(connection.vendor, TRIGGERS))


def install_count(connection: BaseDatabaseWrapper) -> None:
    """Create the disagreement count's triggers and count the open ones (migrations 0013,
    and 0017, which made the counts UPDATE-only and their rows the target's)."""
    vendor = connection.vendor
    statements = drop_statements(vendor, COUNT_TRIGGERS) + create_statements(vendor, COUNT_TRIGGERS)
    _run(connection, statements + COUNT_BACKFILL)


def uninstall_count(connection: BaseDatabaseWrapper) -> None:
    _run(connection, drop_statements(connection.vendor, COUNT_TRIGGERS))


def install_gold(connection: BaseDatabaseWrapper) -> None:
    """Create the gold change counter's triggers and count the gold labels there are (0018):
    row triggers on SQLite, statement triggers on PostgreSQL (annotate/tally_pg.py)."""
    from annotate import tally_pg

    vendor = connection.vendor
    statements = drop_statements(vendor, GOLD_TRIGGERS, GOLD_KIND)
    if vendor == "postgresql":
        statements += tally_pg.create_statements(tally_pg.GOLD_STATEMENT_TRIGGERS, GOLD_KIND)
    else:
        statements += create_statements(vendor, GOLD_TRIGGERS, GOLD_KIND)
    _run(connection, statements + GOLD_BACKFILL)


def uninstall_gold(connection: BaseDatabaseWrapper) -> None:
    _run(connection, drop_statements(connection.vendor, GOLD_TRIGGERS, GOLD_KIND))
