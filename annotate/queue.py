"""Which sentence an annotator gets next.

A sentence is open to an annotator when they have not labelled or skipped it and fewer
than the target's overlap of other annotators have labelled it or hold it right now.
Handing out a sentence is serialised per target (a row lock on PostgreSQL, the write lock
of an IMMEDIATE transaction on SQLite), so the last open slot goes to one annotator only.

The overlap is a hard limit: a stance label on a sentence that is full for the annotator
(others' stance labels plus others' live reservations reach the overlap) is refused unless
they hold its live reservation (it was counted when handed out) or a stance label on it
already (a relabel never changes the count). `ROOM_SQL` is that test, run under the
target's lock by every path that adds a stance label or hands a sentence out again.

Lock order, one for every path (label from the card, relabel from the history or the API,
skip, undo, label import): the target's row first (`lock_target`, or
`target_and_sentence` which takes it with its read), then the annotation's row, then the
annotator's reservation and search cursors. Each path takes the target's lock in its
first statement that touches labels, so two transactions never hold one lock each while
waiting for the other's (a repeated label racing a skip of the same sentence deadlocked
on PostgreSQL when one path took the annotation's row first).
"""

from __future__ import annotations

import datetime
import random

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotate import sql
from annotate.models import (
    Annotation,
    Assignment,
    Label,
    QueueCursor,
    QueueOrder,
    Sentence,
    Suggestion,
    Target,
    Uncertainty,
)
from annotate.progress import sentence_id_bounds

#: How long a shown sentence stays reserved for its annotator.
ASSIGNMENT_TIMEOUT = datetime.timedelta(seconds=getattr(settings, "ASSIGNMENT_TIMEOUT_SECONDS", 600))


def _count(queryset: QuerySet) -> Coalesce:
    counted = queryset.order_by().values("sentence_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# The in-order search runs on every label, so it is SQL written once instead of being
# built by the ORM each time: compiling its nested subqueries cost ~5 ms of CPU a label,
# several times what the database spends running them. `{start_article}` and
# `{start_position}` are where the search starts: parameters, or the cursor row's own
# columns inside the UPDATE that moves it.
_UNFINISHED = """
    "sentence"."article_id" >= {start_article}
    AND NOT ("sentence"."article_id" = {start_article} AND "sentence"."position" < {start_position})
    AND NOT EXISTS (SELECT 1 FROM {annotation} "mine" WHERE "mine"."sentence_id" = "sentence"."id"
                    AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)
"""
_LABELS = """(SELECT COUNT(*) FROM {annotation} "label" WHERE "label"."sentence_id" = "sentence"."id"
              AND "label"."target_id" = %(target)s AND "label"."label" <> %(skip)s)"""
_HELD = """(SELECT COUNT(*) FROM {assignment} "held" WHERE "held"."sentence_id" = "sentence"."id"
            AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
            AND "held"."annotator_id" <> %(annotator)s)"""
_IN_ORDER = ' ORDER BY "sentence"."article_id", "sentence"."position"'

#: Sentences that are neither the annotator's nor full of labels. Reservations are left
#: out on purpose: they expire, so the cursor must not pass them.
_UNFINISHED_SQL = (
    'SELECT "sentence".{column} FROM {sentence} "sentence" WHERE'
    + _UNFINISHED
    + " AND "
    + _LABELS
    + " < %(overlap)s"
    + _IN_ORDER
)

#: Sentences open to the annotator: not theirs, and fewer than the overlap of others
#: have labelled or hold them.
_OPEN_SQL = (
    'SELECT "sentence"."id" FROM {sentence} "sentence" WHERE'
    + _UNFINISHED
    + " AND "
    + _LABELS
    + " + "
    + _HELD
    + " < %(overlap)s"
    + _IN_ORDER
)

#: The annotator's reservation, unless it has expired or they have labelled its sentence
#: (a label from the card leaves its reservation for the next one to replace, in the same
#: transaction).
_LIVE_RESERVATION_SQL = """
SELECT "live"."sentence_id" FROM {assignment} "live" WHERE "live"."annotator_id" = %(annotator)s
AND "live"."target_id" = %(target)s AND "live"."expires_at" > %(now)s
AND NOT EXISTS (SELECT 1 FROM {annotation} "labelled" WHERE "labelled"."annotator_id" = %(annotator)s
                AND "labelled"."target_id" = %(target)s AND "labelled"."sentence_id" = "live"."sentence_id")
"""

#: Moves the annotator's cursor up to the first unfinished sentence (from where it is) and
#: returns it, with the annotator's live reservation. It runs after `lock_target`, so it
#: reads what every earlier label and rewind committed.
_MOVE_CURSOR_SQL = (
    """
UPDATE {cursor} SET
    "article_id" = COALESCE(("""
    + _UNFINISHED_SQL.replace("{column}", '"article_id"')
    + """ LIMIT 1), "article_id"),
    "position" = COALESCE(("""
    + _UNFINISHED_SQL.replace("{column}", '"position"')
    + """ LIMIT 1), "position")
WHERE "annotator_id" = %(annotator)s AND "target_id" = %(target)s
RETURNING "article_id", "position", ("""
    + _LIVE_RESERVATION_SQL
    + """)
"""
)

#: An annotator holds one reservation a target: a new one replaces it.
_REPLACE_RESERVATION = (
    'ON CONFLICT ("annotator_id", "target_id") DO UPDATE SET "sentence_id" = excluded."sentence_id", '
    '"shown_at" = excluded."shown_at", "expires_at" = excluded."expires_at"'
)

#: Reserves the first open sentence from the cursor (one statement: find and reserve).
#: `WHERE 1 = 1` is SQLite's required marker between INSERT ... SELECT and ON CONFLICT.
_RESERVE_FIRST_OPEN_SQL = (
    'INSERT INTO {assignment} ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at") '
    'SELECT %(annotator)s, %(target)s, "found"."id", %(now)s, %(expires)s FROM ('
    + _OPEN_SQL
    + ' LIMIT 1) "found" WHERE 1 = 1 '
    + _REPLACE_RESERVATION
    + ' RETURNING "sentence_id"'
)
#: Reserves a given sentence (one picked by an uncertainty order, or shown again by undo).
_RESERVE_SQL = (
    'INSERT INTO {assignment} ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at") '
    "VALUES (%(annotator)s, %(target)s, %(sentence)s, %(now)s, %(expires)s) " + _REPLACE_RESERVATION
)


#: Whether the annotator may add a stance label to (or be handed again) sentence
#: %(sentence)s: they hold its live reservation, or others' stance labels and others'
#: live reservations are fewer than the overlap. Run under the target's lock.
ROOM_SQL = (
    """(EXISTS (SELECT 1 FROM {assignment} "own" WHERE "own"."annotator_id" = %(annotator)s
        AND "own"."target_id" = %(target)s AND "own"."sentence_id" = %(sentence)s
        AND "own"."expires_at" > %(now)s) OR """
    + (_LABELS + " + " + _HELD).replace('"sentence"."id"', "%(sentence)s")
    + " < %(overlap)s)"
)

#: Reserves a sentence again (undo) unless it has become full meanwhile.
_RESERVE_IF_ROOM_SQL = (
    'INSERT INTO {assignment} ("annotator_id", "target_id", "sentence_id", "shown_at", "expires_at") '
    "SELECT %(annotator)s, %(target)s, %(sentence)s, %(now)s, %(expires)s WHERE "
    + ROOM_SQL
    + " "
    + _REPLACE_RESERVATION
    + ' RETURNING "sentence_id"'
)


def room_params(*, annotator: AbstractBaseUser, target: Target, sentence_id: int) -> dict[str, object]:
    """The parameters of `ROOM_SQL` (a statement may add its own beside them)."""
    return {**_params(annotator=annotator, target=target, now=timezone.now()), "sentence": sentence_id}


def has_room(*, annotator: AbstractBaseUser, target: Target, sentence_id: int) -> bool:
    """Whether the annotator may add a stance label to the sentence (`ROOM_SQL`).

    The caller holds `lock_target`, so the answer stays true until its transaction ends.
    """
    rows = sql.fetch(
        sql.statement("SELECT 1 WHERE " + ROOM_SQL),
        room_params(annotator=annotator, target=target, sentence_id=sentence_id),
    )
    return bool(rows)


def _search(template: str, *, from_cursor: bool = False) -> str:
    """The statement; its search starts at parameters, or at the cursor row being updated."""
    if from_cursor:
        cursor = sql.table("cursor")
        start = (f'{cursor}."article_id"', f'{cursor}."position"')
    else:
        start = ("%(start_article)s", "%(start_position)s")
    return sql.statement(template, start_article=start[0], start_position=start[1])


def _params(
    *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime, start: tuple[int, int] = (0, 0)
) -> dict[str, object]:
    return {
        "annotator": annotator.pk,
        "target": target.pk,
        "skip": Label.SKIP,
        "overlap": target.overlap,
        "now": sql.moment(now),
        "expires": sql.moment(now + ASSIGNMENT_TIMEOUT),
        "start_article": start[0],
        "start_position": start[1],
    }


def open_sql(
    *, annotator: AbstractBaseUser, target: Target, start: tuple[int, int], now: datetime.datetime
) -> tuple[str, dict[str, object]]:
    """Ids of the sentences open to the annotator from `start` on, in queue order.

    A sentence is open when the annotator has not labelled or skipped it and fewer than
    the overlap of others have labelled it or hold it. The range on article_id minus the
    article's earlier positions (not an OR) lets SQLite seek straight to `start` in the
    (article, position) index: with the OR it scanned from the index's start (0.5 s at a
    million sentences).
    """
    return _search(_OPEN_SQL), _params(annotator=annotator, target=target, now=now, start=start)


def open_sentences(*, annotator: AbstractBaseUser, target: Target, now: datetime.datetime) -> list[Sentence]:
    """Every sentence the annotator may be given now, in queue order."""
    ids = [row[0] for row in sql.fetch(*open_sql(annotator=annotator, target=target, start=(0, 0), now=now))]
    return list(Sentence.objects.filter(pk__in=ids).order_by("article_id", "position"))


def _move_cursor(
    *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime
) -> tuple[tuple[int, int] | None, int | None]:
    """Move the annotator's search cursor up; return it and their live reservation.

    The cursor is None when the annotator has nothing left unfinished from the start.
    """
    params = _params(annotator=annotator, target=target, now=now)
    moved = sql.fetch(_search(_MOVE_CURSOR_SQL, from_cursor=True), params)
    if moved:
        article_id, position, reserved = moved[0]
        return (article_id, position), reserved
    # The annotator's first search for this target (or the overlap changed): from the start.
    first = sql.fetch(
        _search(_UNFINISHED_SQL.replace("{column}", '"article_id", "sentence"."position"') + " LIMIT 1"),
        params,
    )
    reserved = sql.fetch(_search(_LIVE_RESERVATION_SQL), params)
    reserved_id = reserved[0][0] if reserved else None
    if not first:
        return None, reserved_id
    QueueCursor.objects.create(
        annotator_id=annotator.pk, target=target, article_id=first[0][0], position=first[0][1]
    )
    return first[0], reserved_id


def rewind_cursors(*, target: Target, sentence: Sentence) -> None:
    """A sentence lost a label (undo, relabel to skip) or was added: searches must see it again.

    The caller holds `lock_target`, so no search moves a cursor past the sentence meanwhile.
    """
    QueueCursor.objects.filter(target=target).filter(
        Q(article_id__gt=sentence.article_id)
        | Q(article_id=sentence.article_id, position__gt=sentence.position)
    ).update(article_id=sentence.article_id, position=sentence.position)
    for measure, (column, descending) in UNCERTAINTY_COLUMNS.items():
        # The sentence's score in each cursor's own ranking (none: not in that ranking).
        score = Subquery(
            Suggestion.objects.filter(
                model_version_id=OuterRef("ranked_version_id"), sentence_id=sentence.pk
            ).values(column)[:1]
        )
        past = Q(ranked_score__lt=F("score")) if descending else Q(ranked_score__gt=F("score"))
        past |= Q(ranked_score=F("score"), ranked_sentence_id__gt=sentence.pk)
        QueueCursor.objects.filter(target=target, ranked_measure=measure).annotate(score=score).filter(
            past
        ).update(ranked_score=score, ranked_sentence_id=sentence.pk)


#: The suggestion column each uncertainty measure ranks by, and whether high comes first.
UNCERTAINTY_COLUMNS: dict[str, tuple[str, bool]] = {
    Uncertainty.LEAST_CONFIDENT: ("confidence", False),
    Uncertainty.MARGIN: ("margin", False),
    Uncertainty.ENTROPY: ("entropy", True),
}


def _open_to(
    queryset: QuerySet, *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime, ref: str
) -> QuerySet:
    """Filter rows whose sentence (at `ref`) the annotator may be given (as `open_sql`)."""
    sentence = OuterRef(ref)
    mine = Annotation.objects.filter(target=target, sentence=sentence, annotator_id=annotator.pk)
    labels = Annotation.objects.filter(target=target, sentence=sentence).exclude(label=Label.SKIP)
    held = Assignment.objects.filter(target=target, sentence=sentence, expires_at__gt=now).exclude(
        annotator_id=annotator.pk
    )
    return (
        queryset.filter(~Exists(mine))
        .alias(taken=_count(labels) + _count(held))
        .filter(taken__lt=target.overlap)
    )


def _ranked_from(column: str, descending: bool, score: float, sentence_id: int) -> Q:
    """Suggestions at or after (score, sentence) in the ranking: a range minus the ties
    before the sentence, not an OR, so the index walk starts right there."""
    at_or_after = Q(**{f"{column}__lte" if descending else f"{column}__gte": score})
    return at_or_after & ~Q(**{column: score, "sentence_id__lt": sentence_id})


def _most_uncertain(*, annotator: AbstractBaseUser, target: Target, now: datetime.datetime) -> int | None:
    """The most uncertain open sentence by the active version's suggestions.

    Walks the suggestion index in ranking order from the annotator's ranked cursor and
    stops at the first open sentence, instead of scoring every sentence; the cursor then
    moves up to the first suggestion that is neither the annotator's nor full, so the walk
    never passes the same labelled stretch twice.
    """
    column, descending = UNCERTAINTY_COLUMNS[target.uncertainty_measure]
    order = (f"-{column}" if descending else column, "sentence_id")
    version = target.active_version_id
    suggestions = Suggestion.objects.filter(model_version_id=version)
    cursors = QueueCursor.objects.filter(annotator_id=annotator.pk, target=target)
    cursor = cursors.values_list(
        "ranked_version_id", "ranked_measure", "ranked_score", "ranked_sentence_id"
    ).first()
    if cursor and cursor[:2] == (version, target.uncertainty_measure):
        score, after = cursor[2:]
        if score is not None and after is not None:  # written together, never one alone
            suggestions = suggestions.filter(_ranked_from(column, descending, score, after))
    mine = Annotation.objects.filter(
        target=target, sentence=OuterRef("sentence_id"), annotator_id=annotator.pk
    )
    labels = Annotation.objects.filter(target=target, sentence=OuterRef("sentence_id")).exclude(
        label=Label.SKIP
    )
    frontier = (
        suggestions.filter(~Exists(mine))
        .alias(labelled=_count(labels))
        .filter(labelled__lt=target.overlap)
        .order_by(*order)
        .values_list(column, "sentence_id")
        .first()
    )
    if frontier is None:
        return None
    cursors.update(
        ranked_version_id=version,
        ranked_measure=target.uncertainty_measure,
        ranked_score=frontier[0],
        ranked_sentence_id=frontier[1],
    )
    return (
        _open_to(suggestions, annotator=annotator, target=target, now=now, ref="sentence_id")
        .order_by(*order)
        .values_list("sentence_id", flat=True)
        .first()
    )


def _random_open(*, annotator: AbstractBaseUser, target: Target, now: datetime.datetime) -> int | None:
    bounds = sentence_id_bounds()
    if bounds is None:
        return None
    start = random.randint(*bounds)
    candidates = _open_to(Sentence.objects.all(), annotator=annotator, target=target, now=now, ref="pk")
    candidates = candidates.order_by("id").values_list("id", flat=True)
    return candidates.filter(id__gte=start).first() or candidates.first()


def lock_target(target_id: int) -> Target:
    """Lock the target's row until the transaction ends and read its current settings.

    Handing out sentences and moving or rewinding search cursors hold this lock (a row
    lock on PostgreSQL; on SQLite the IMMEDIATE transaction already holds the write lock),
    so the last open slot of a sentence goes to one annotator only and no search passes
    a sentence that has just opened again. Reading the settings here means switching the
    queue order needs no restart. (In SQL written once, like the search: it runs on every
    label.)
    """
    columns, names = _target_columns()
    query = f'SELECT {columns} FROM {sql.table("target")} "t" WHERE "t"."id" = %(target)s'
    if connection.features.has_select_for_update:
        query += " FOR UPDATE"
    rows = sql.fetch(query, {"target": target_id})
    if not rows:
        raise Target.DoesNotExist(f"No target {target_id}.")
    return sql.instance(Target, names, rows[0])


def _target_columns() -> tuple[str, list[str]]:
    """Every column of a target row as `"t"."column"`, and the field names they fill."""
    fields = [(field.attname, field.column) for field in Target._meta.concrete_fields if field.column]
    columns = [f'"t".{connection.ops.quote_name(column)}' for _, column in fields]
    return ", ".join(columns), [name for name, _ in fields]


def target_and_sentence(*, target_id: int, sentence_id: int) -> tuple[Target, Sentence]:
    """Lock a target (as `lock_target`) and read it and a sentence, with the target's
    active suggestion for it, in one query.

    Raises Target.DoesNotExist when either is missing (and then holds no lock).
    """
    columns, names = _target_columns()
    query = (
        f'SELECT {columns}, "s"."id", "s"."article_id", "s"."position", "s"."text", "s"."start", "s"."end", '
        '"sg"."label", "sg"."confidence" FROM {target} "t" JOIN {sentence} "s" ON "s"."id" = %(sentence)s '
        'LEFT JOIN {suggestion} "sg" ON "sg"."model_version_id" = "t"."active_version_id" '
        'AND "sg"."sentence_id" = "s"."id" WHERE "t"."id" = %(target)s'
    )
    if connection.features.has_select_for_update:
        query += ' FOR UPDATE OF "t"'
    rows = sql.fetch(sql.statement(query), {"target": target_id, "sentence": sentence_id})
    if not rows:
        raise Target.DoesNotExist(f"No target {target_id} or no sentence {sentence_id}.")
    row, width = rows[0], len(names)
    target = sql.instance(Target, names, row[:width])
    sentence = sql.instance(
        Sentence, ["id", "article_id", "position", "text", "start", "end"], row[width : width + 6]
    )
    if target.active_version_id is not None:
        # Read by suggestions.suggestion_to_show; typed results replace them (issue 13).
        sentence.suggested_label, sentence.suggested_confidence = row[width + 6], row[width + 7]  # type: ignore[attr-defined]
    return target, sentence


def reserve_next(
    *, annotator: AbstractBaseUser, target_id: int, locked: Target | None = None
) -> tuple[Target, int | None]:
    """Keep the annotator's live reservation or reserve the next sentence; return its id.

    Runs in the caller's transaction and takes the target's lock for the rest of it (a
    caller that holds it already passes the target as read under it, `locked`), so
    callers commit soon after. None when the queue is empty.
    """
    now = timezone.now()
    target = locked if locked is not None else lock_target(target_id)
    cursor, reserved = _move_cursor(annotator=annotator, target=target, now=now)
    if reserved is not None:
        # Labelling deletes the reservation, so a live one is still unlabelled.
        return target, reserved
    params = _params(annotator=annotator, target=target, now=now)
    order = target.queue_order
    if order != QueueOrder.IN_ORDER and target.active_version_id is not None:
        if order == QueueOrder.MIX and random.random() < target.random_share:
            picked = _random_open(annotator=annotator, target=target, now=now)
        else:
            picked = _most_uncertain(annotator=annotator, target=target, now=now)
        if picked is not None:
            sql.fetch(_search(_RESERVE_SQL), {**params, "sentence": picked})
            return target, picked
    # Before any model, and for sentences the model has not seen yet: in order.
    found = None
    if cursor is not None:
        params["start_article"], params["start_position"] = cursor
        found = sql.fetch(_search(_RESERVE_FIRST_OPEN_SQL), params)
    if not found:
        Assignment.objects.filter(annotator_id=annotator.pk, target=target).delete()
        return target, None
    return target, found[0][0]


def next_sentence_id(*, annotator: AbstractBaseUser, target: Target) -> tuple[Target, int | None]:
    """Reserve the sentence to show the annotator now; the target as read under its lock."""
    with transaction.atomic():
        return reserve_next(annotator=annotator, target_id=target.pk)


def next_sentence(*, annotator: AbstractBaseUser, target: Target) -> Sentence | None:
    """The sentence to show the annotator now, reserving it; None when the queue is empty.

    The sentence already reserved for the annotator is kept until they label it or it
    expires, so reloading the page never skips a sentence.
    """
    _, sentence_id = next_sentence_id(annotator=annotator, target=target)
    if sentence_id is None:
        return None
    return Sentence.objects.select_related("article").filter(pk=sentence_id).first()


def reserve_again(*, annotator: AbstractBaseUser, target: Target, sentence: Sentence) -> bool:
    """Reserve an undone sentence for the annotator again, unless it has become full for
    them meanwhile (others labelled or hold it up to the overlap); whether it was.

    The caller holds `lock_target`.
    """
    params = room_params(annotator=annotator, target=target, sentence_id=sentence.pk)
    return bool(sql.fetch(sql.statement(_RESERVE_IF_ROOM_SQL), params))
