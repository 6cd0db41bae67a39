"""Every hand-written statement of the label loop, each a named constant.

They run on every label, so they are SQL written once instead of being built by the ORM
each time: compiling the search's nested subqueries cost ~5 ms of CPU a label, several
times what the database spends running them. The conditions come from rule.py (the one
definition of an open sentence), placed by f-strings at import time: no statement is
pieced together or rewritten at run time. tests/test_queue_statements.py pins the text of
each (so a change is deliberate: `UPDATE_SNAPSHOTS=1` rewrites tests/snapshots/) and checks
on SQLite and PostgreSQL that each walks an index.

Tables are named as Django names them (`annotate_<model>`); every statement runs unchanged
on SQLite and PostgreSQL, except the locks' `FOR UPDATE` (PostgreSQL only; SQLite's
IMMEDIATE transaction holds the write lock already).
"""

from __future__ import annotations

from annotate import uncertainty
from annotate.models import Target
from annotate.progress import PROGRESS_COUNTS_SQL
from annotate.queue.rule import evaluation_item, mine, open_to, room, unfinished

# --- where a search starts ---------------------------------------------------------------

#: At or after (article, position) in queue order: the range on article_id minus the
#: article's earlier positions (not an OR) lets SQLite seek straight to the start in the
#: (article, position) index; with the OR it scanned from the index's start (0.5 s at a
#: million sentences).
_FROM_PARAMS = """"sentence"."article_id" >= %(start_article)s
    AND NOT ("sentence"."article_id" = %(start_article)s AND "sentence"."position" < %(start_position)s)"""
_FROM_CURSOR = """"sentence"."article_id" >= "annotate_queuecursor"."article_id"
    AND NOT ("sentence"."article_id" = "annotate_queuecursor"."article_id"
             AND "sentence"."position" < "annotate_queuecursor"."position")"""
_IN_ORDER = 'ORDER BY "sentence"."article_id", "sentence"."position"'
_LAST = 'FROM "annotate_sentence" "last" ORDER BY "last"."article_id" DESC, "last"."position" DESC LIMIT 1'

#: The same for the random order's walk (annotate/shuffle.py): at or after
#: (%(start_key)s, %(start_sentence)s) in (shuffle key, id) order, and from the cursor.
_FROM_SHUFFLE_PARAMS = """"sentence"."shuffle_key" >= %(start_key)s
    AND NOT ("sentence"."shuffle_key" = %(start_key)s AND "sentence"."id" < %(start_sentence)s)"""
_FROM_SHUFFLE_CURSOR = """"sentence"."shuffle_key" >= "annotate_queuecursor"."shuffle_key"
    AND NOT ("sentence"."shuffle_key" = "annotate_queuecursor"."shuffle_key"
             AND "sentence"."id" < "annotate_queuecursor"."shuffle_sentence_id")"""
_SHUFFLED = 'ORDER BY "sentence"."shuffle_key", "sentence"."id"'
_LAST_SHUFFLED = (
    'FROM "annotate_sentence" "last" ORDER BY "last"."shuffle_key" DESC, "last"."id" DESC LIMIT 1'
)

# --- the cursors ----------------------------------------------------------------------------

#: The annotator's cursor for a target, at the start (their first search for it).
CREATE_CURSOR = """INSERT INTO "annotate_queuecursor" ("annotator_id", "target_id", "article_id", "position", "ranked_measure",
    "shuffle_key", "shuffle_sentence_id")
VALUES (%(annotator)s, %(target)s, 0, 0, '', 0, 0) ON CONFLICT ("annotator_id", "target_id") DO NOTHING"""


def _move(cursor: tuple[str, str], *, to: tuple[str, str], after_cursor: str, order: str, last: str) -> str:
    """The SET clause that moves the cursor's (key, tiebreak) columns `cursor` up to the
    `to` columns of the first UNFINISHED sentence `after_cursor` in `order`, or, when there
    is none, past the `last` sentence (its key, its tiebreak + 1); with no sentences at all,
    the cursor stays. Both columns from one row of one subquery (a row-value assignment):
    the walk, which after a rewind to the start reads everything the annotator finished,
    runs once, not once a column. Its one row comes from `(SELECT 1)`, with the walk's find
    and the last sentence each joined to it when there is one (LEFT JOIN ... ON TRUE): no
    sort, no UNION. One builder for both orders' walks, so they cannot drift apart."""
    (cursor_key, cursor_tiebreak), (key, tiebreak) = cursor, to
    here = '"annotate_queuecursor"'
    return f"""("{cursor_key}", "{cursor_tiebreak}") = (SELECT
    COALESCE("found"."{key}", "past"."{key}", {here}."{cursor_key}"),
    COALESCE("found"."{tiebreak}", "past"."{tiebreak}" + 1, {here}."{cursor_tiebreak}")
    FROM (SELECT 1 AS "one") "row"
    LEFT JOIN (SELECT "sentence"."{key}", "sentence"."{tiebreak}" FROM "annotate_sentence" "sentence"
        WHERE {after_cursor} AND {unfinished('"sentence"."id"')}
        {order} LIMIT 1) "found" ON TRUE
    LEFT JOIN (SELECT "last"."{key}", "last"."{tiebreak}" {last}) "past" ON TRUE)"""


#: In queue order: (article, position), the same columns on the cursor and the sentence.
_MOVE_IN_ORDER = _move(
    ("article_id", "position"),
    to=("article_id", "position"),
    after_cursor=_FROM_CURSOR,
    order=_IN_ORDER,
    last=_LAST,
)
#: In the random order: the cursor's (shuffle_key, shuffle_sentence_id) up to the
#: sentence's (shuffle_key, id).
_MOVE_SHUFFLED = _move(
    ("shuffle_key", "shuffle_sentence_id"),
    to=("shuffle_key", "id"),
    after_cursor=_FROM_SHUFFLE_CURSOR,
    order=_SHUFFLED,
    last=_LAST_SHUFFLED,
)

_MOVE_RETURNING = """WHERE "annotator_id" = %(annotator)s AND "target_id" = %(target)s
RETURNING "article_id", "position",
    (SELECT "live"."sentence_id" FROM "annotate_assignment" "live"
     WHERE "live"."annotator_id" = %(annotator)s AND "live"."target_id" = %(target)s
     AND "live"."expires_at" > %(now)s
     AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "labelled"
                     WHERE "labelled"."annotator_id" = %(annotator)s AND "labelled"."target_id" = %(target)s
                     AND "labelled"."sentence_id" = "live"."sentence_id")),
    COALESCE((SELECT "done"."labels" + "done"."skips" FROM "annotate_annotatortally" "done"
              WHERE "done"."annotator_id" = %(annotator)s AND "done"."target_id" = %(target)s), 0),
    EXISTS (SELECT 1 FROM "annotate_evaluationpause" "pause" WHERE "pause"."annotator_id" = %(annotator)s
            AND "pause"."target_id" = %(target)s AND "pause"."paused_at" IS NOT NULL),
    (SELECT "ret"."sentence_id" FROM "annotate_labelreturn" "ret"
     WHERE "ret"."annotator_id" = %(annotator)s AND "ret"."target_id" = %(target)s AND "ret"."resolved_at" IS NULL
     ORDER BY "ret"."created_at", "ret"."id" LIMIT 1),
    "ranked_version_id", "ranked_measure", "ranked_score", "ranked_sentence_id",
    "shuffle_key", "shuffle_sentence_id\""""

#: Moves the annotator's in-order cursor up to the first UNFINISHED sentence from where it
#: is, or, when there is none, past the last sentence (so the next search from it is empty,
#: not a walk to the end again: what keeps "nothing open" cheap at a million labels).
#: Returns it, with the annotator's live reservation (unless they have labelled its
#: sentence: a label from the card leaves its reservation for the next one to replace),
#: their labels and skips so far (the evaluation mix's position in their stream, from
#: their tally row), whether their queue is paused (annotate/evaluation.py), the sentence
#: of their oldest open returned label (annotate/returns.py: shown before anything else),
#: the uncertainty orders' ranked cursor and the random order's shuffle cursor. Runs after
#: the target's lock, so it reads what every earlier label and rewind committed.
MOVE_CURSOR = f"""UPDATE "annotate_queuecursor" SET
{_MOVE_IN_ORDER}
{_MOVE_RETURNING}"""

#: MOVE_CURSOR for a search in the random order (or the mix order's random pick): the
#: shuffle cursor moved up the same way in (shuffle key, id) order, and only it. Each
#: order moves only its own cursor, so none pays for a walk it does not use (after a
#: rewind to the start, a walk reads everything the annotator finished; the in-order
#: cursor left behind catches up on the next in-order search, from where it stood).
MOVE_SHUFFLE_CURSOR = f"""UPDATE "annotate_queuecursor" SET
{_MOVE_SHUFFLED}
{_MOVE_RETURNING}"""

# --- reservations -------------------------------------------------------------------------

#: An annotator holds one reservation a target: a new one replaces it.
_REPLACE_RESERVATION = """ON CONFLICT ("annotator_id", "target_id") DO UPDATE SET "sentence_id" = excluded."sentence_id",
    "shown_at" = excluded."shown_at", "expires_at" = excluded."expires_at\""""

#: The OPEN sentences from %(start_article)s, %(start_position)s on, in queue order.
OPEN_IN_ORDER = f"""SELECT "sentence"."id" FROM "annotate_sentence" "sentence"
    WHERE {_FROM_PARAMS} AND {open_to('"sentence"."id"')}
    {_IN_ORDER}"""

#: Whether any sentence from %(start_article)s, %(start_position)s (the annotator's
#: cursor) on is OPEN: where `/` sends an annotator. A read, reserving nothing.
ANY_OPEN = f"""SELECT 1 FROM ({OPEN_IN_ORDER} LIMIT 1) "found\""""

#: Reserves the first OPEN sentence from %(start_article)s, %(start_position)s (the moved
#: cursor): find and reserve in one statement. `WHERE 1 = 1` is SQLite's required marker
#: between INSERT ... SELECT and ON CONFLICT.
RESERVE_FIRST_OPEN = f"""INSERT INTO "annotate_assignment" ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at")
SELECT %(annotator)s, %(target)s, "found"."id", %(now)s, %(expires)s FROM ({OPEN_IN_ORDER} LIMIT 1) "found"
WHERE 1 = 1 {_REPLACE_RESERVATION}
RETURNING "sentence_id\""""

#: The OPEN sentences from %(start_key)s, %(start_sentence)s on, in the random order.
OPEN_SHUFFLED = f"""SELECT "sentence"."id" FROM "annotate_sentence" "sentence"
    WHERE {_FROM_SHUFFLE_PARAMS} AND {open_to('"sentence"."id"')}
    {_SHUFFLED}"""

#: Reserves the first OPEN sentence from %(start_key)s, %(start_sentence)s (the moved
#: shuffle cursor) in the random order, as RESERVE_FIRST_OPEN does in article order.
RESERVE_FIRST_OPEN_SHUFFLED = f"""INSERT INTO "annotate_assignment" ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at")
SELECT %(annotator)s, %(target)s, "found"."id", %(now)s, %(expires)s FROM ({OPEN_SHUFFLED} LIMIT 1) "found"
WHERE 1 = 1 {_REPLACE_RESERVATION}
RETURNING "sentence_id\""""

#: Reserves sentence %(sentence)s, picked by an uncertainty order.
RESERVE = f"""INSERT INTO "annotate_assignment" ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at")
VALUES (%(annotator)s, %(target)s, %(sentence)s, %(now)s, %(expires)s) {_REPLACE_RESERVATION}"""

#: Reserves sentence %(sentence)s again (undo) if it has ROOM for the annotator.
RESERVE_IF_ROOM = f"""INSERT INTO "annotate_assignment" ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at")
SELECT %(annotator)s, %(target)s, %(sentence)s, %(now)s, %(expires)s
WHERE {room("%(sentence)s")} {_REPLACE_RESERVATION}
RETURNING "sentence_id\""""

#: Whether sentence %(sentence)s has ROOM for a stance label from the annotator.
HAS_ROOM = f"""SELECT 1 WHERE {room("%(sentence)s")}"""

#: Reserves the annotator's next evaluation item: the first of the target's items that is
#: not MINE, in the annotator's own order (%(shuffle)s, from 1 to 65520, scrambles the
#: sentence ids differently for each annotator, so two annotators do not meet the items in
#: the same order). Reads the target's items only, a few hundred at most; sorting them is
#: the point.
RESERVE_EVALUATION = f"""INSERT INTO "annotate_assignment" ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at")
SELECT %(annotator)s, %(target)s, "found"."sentence_id", %(now)s, %(expires)s FROM (
    SELECT "item"."sentence_id" FROM "annotate_evaluationitem" "item"
    WHERE "item"."target_id" = %(target)s AND NOT {mine('"item"."sentence_id"')}
    ORDER BY ("item"."sentence_id" %% 65521) * %(shuffle)s %% 65521, "item"."sentence_id" LIMIT 1) "found"
WHERE 1 = 1 {_REPLACE_RESERVATION}
RETURNING "sentence_id\""""

# --- the other orders ---------------------------------------------------------------------

#: The suggestion column each uncertainty measure ranks by, and whether high comes first:
#: annotate/uncertainty.py's one rule (benchmarks/active_learning.py ranks by it too).
UNCERTAINTY_COLUMNS: dict[str, tuple[str, bool]] = uncertainty.RANKING


def _ranked(measure: str, *, select: str, condition: str) -> str:
    """The first suggestion of version %(version)s in the measure's ranking (ties by
    sentence) from (%(score)s, %(from_sentence)s) on whose sentence meets `condition`.
    A range minus the ties before the sentence, not an OR, so the walk of the measure's
    index starts right there."""
    column, descending = UNCERTAINTY_COLUMNS[measure]
    at_or_after, direction = ("<=", "DESC") if descending else (">=", "ASC")
    return f"""SELECT {select} FROM "annotate_suggestion" "sg"
WHERE "sg"."model_version_id" = %(version)s AND "sg"."{column}" {at_or_after} %(score)s
    AND NOT ("sg"."{column}" = %(score)s AND "sg"."sentence_id" < %(from_sentence)s)
    AND {condition}
ORDER BY "sg"."{column}" {direction}, "sg"."sentence_id" LIMIT 1"""


#: Per measure: the first UNFINISHED suggestion from the ranked cursor (where it moves).
RANKED_FRONTIER = {
    measure: _ranked(
        measure,
        select=f'"sg"."{column}", "sg"."sentence_id"',
        condition=unfinished('"sg"."sentence_id"'),
    )
    for measure, (column, _) in UNCERTAINTY_COLUMNS.items()
}
#: Per measure: the first OPEN sentence from the ranked cursor (the one handed out).
RANKED_OPEN = {
    measure: _ranked(measure, select='"sg"."sentence_id"', condition=open_to('"sg"."sentence_id"'))
    for measure in UNCERTAINTY_COLUMNS
}

# --- labels -------------------------------------------------------------------------------

_INSERT_ANNOTATION = """INSERT INTO "annotate_annotation" ("annotator_id", "sentence_id", "target_id", "label", "spent_ms",
    "accepted_suggestion", "suggestion_shown", "created_at", "updated_at")
SELECT %(annotator)s, %(sentence)s, %(target)s, %(label)s, %(spent_ms)s,
    %(accepted_suggestion)s, %(suggestion_shown)s, %(now)s, %(now)s"""
_ONCE = 'ON CONFLICT ("annotator_id", "sentence_id", "target_id") DO NOTHING RETURNING "id"'

#: A stance label, unless the annotator has one on the sentence already or it has no ROOM
#: for them: the room test is part of the INSERT, so a label costs no extra query.
#: `ON CONFLICT DO NOTHING`, not a caught unique error: on PostgreSQL a concurrent insert
#: of the same key waits for the first to commit and then inserts nothing, no savepoint.
INSERT_STANCE_LABEL = f"""{_INSERT_ANNOTATION}
WHERE {room("%(sentence)s")}
{_ONCE}"""

#: A skip (always recorded), unless the annotator has a label on the sentence already.
INSERT_SKIP = f"""{_INSERT_ANNOTATION}
WHERE 1 = 1 {_ONCE}"""

# --- the target's lock --------------------------------------------------------------------

#: Every column of a target row (fills a Target through `sql.instance`).
TARGET_FIELDS = [field.attname for field in Target._meta.concrete_fields]
_TARGET_COLUMNS = ", ".join(f'"t"."{field.column}"' for field in Target._meta.concrete_fields)

#: The target %(target)s, read under its lock (locks.py).
LOCK_TARGET = f"""SELECT {_TARGET_COLUMNS} FROM "annotate_target" "t" WHERE "t"."id" = %(target)s"""
LOCK_TARGET_FOR_UPDATE = f"{LOCK_TARGET} FOR UPDATE"

SENTENCE_FIELDS = ["id", "article_id", "position", "text", "start", "end"]

#: The target %(target)s under its lock, with sentence %(sentence)s, the active version's
#: suggestion for it (NULLs without one) and whether it is an evaluation item: what a label
#: from the card needs.
TARGET_AND_SENTENCE = f"""SELECT {_TARGET_COLUMNS},
    "s"."id", "s"."article_id", "s"."position", "s"."text", "s"."start", "s"."end",
    "sg"."label", "sg"."confidence", {evaluation_item('"s"."id"')}
FROM "annotate_target" "t"
JOIN "annotate_sentence" "s" ON "s"."id" = %(sentence)s
LEFT JOIN "annotate_suggestion" "sg" ON "sg"."model_version_id" = "t"."active_version_id"
    AND "sg"."sentence_id" = "s"."id"
WHERE "t"."id" = %(target)s"""
TARGET_AND_SENTENCE_FOR_UPDATE = f'{TARGET_AND_SENTENCE} FOR UPDATE OF "t"'

# --- the card -----------------------------------------------------------------------------

#: What the labelling card shows, in one statement: sentence %(sentence)s and %(around)s
#: neighbours each side in its article, the article's title and source, version
#: %(version)s's suggestion for each, and the annotator's progress counts
#: (progress.PROGRESS_COUNTS_SQL), then whether the sentence is an evaluation item (shown
#: without a suggestion), then the annotator's open return of it (id, label, comment; NULLs
#: without one: at most one is open, a partial unique index).
CARD = f"""SELECT "s"."id", "s"."article_id", "s"."position", "s"."text", "s"."start", "s"."end",
    "a"."title", "a"."source", "sg"."label", "sg"."confidence",
    {PROGRESS_COUNTS_SQL},
    {evaluation_item('"x"."id"')},
    "ret"."id", "ret"."label", "ret"."comment"
FROM "annotate_sentence" "x"
JOIN "annotate_sentence" "s" ON "s"."article_id" = "x"."article_id"
    AND "s"."position" BETWEEN "x"."position" - %(around)s AND "x"."position" + %(around)s
JOIN "annotate_article" "a" ON "a"."id" = "x"."article_id"
LEFT JOIN "annotate_suggestion" "sg" ON "sg"."sentence_id" = "s"."id" AND "sg"."model_version_id" = %(version)s
LEFT JOIN "annotate_labelreturn" "ret" ON "ret"."annotator_id" = %(annotator)s AND "ret"."target_id" = %(target)s
    AND "ret"."sentence_id" = "x"."id" AND "ret"."resolved_at" IS NULL
WHERE "x"."id" = %(sentence)s
ORDER BY "s"."position\""""


#: Every statement by name, for the snapshot and EXPLAIN tests.
ALL = {
    "CREATE_CURSOR": CREATE_CURSOR,
    "MOVE_CURSOR": MOVE_CURSOR,
    "MOVE_SHUFFLE_CURSOR": MOVE_SHUFFLE_CURSOR,
    "OPEN_IN_ORDER": OPEN_IN_ORDER,
    "ANY_OPEN": ANY_OPEN,
    "RESERVE_FIRST_OPEN": RESERVE_FIRST_OPEN,
    "OPEN_SHUFFLED": OPEN_SHUFFLED,
    "RESERVE_FIRST_OPEN_SHUFFLED": RESERVE_FIRST_OPEN_SHUFFLED,
    "RESERVE": RESERVE,
    "RESERVE_IF_ROOM": RESERVE_IF_ROOM,
    "RESERVE_EVALUATION": RESERVE_EVALUATION,
    "HAS_ROOM": HAS_ROOM,
    **{f"RANKED_FRONTIER[{measure}]": text for measure, text in RANKED_FRONTIER.items()},
    **{f"RANKED_OPEN[{measure}]": text for measure, text in RANKED_OPEN.items()},
    "INSERT_STANCE_LABEL": INSERT_STANCE_LABEL,
    "INSERT_SKIP": INSERT_SKIP,
    "LOCK_TARGET": LOCK_TARGET,
    "LOCK_TARGET_FOR_UPDATE": LOCK_TARGET_FOR_UPDATE,
    "TARGET_AND_SENTENCE": TARGET_AND_SENTENCE,
    "TARGET_AND_SENTENCE_FOR_UPDATE": TARGET_AND_SENTENCE_FOR_UPDATE,
    "CARD": CARD,
}
