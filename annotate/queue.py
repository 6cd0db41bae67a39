"""Which sentence an annotator gets next.

A sentence is open to an annotator when they have not labelled or skipped it and fewer
than the target's overlap of other annotators have labelled it or hold it right now.
Handing out a sentence is serialised per target (a row lock on PostgreSQL, the write lock
of an IMMEDIATE transaction on SQLite), so the last open slot goes to one annotator only.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

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
from annotate.roles import ANNOTATOR

#: How long a shown sentence stays reserved for its annotator.
ASSIGNMENT_TIMEOUT = datetime.timedelta(seconds=getattr(settings, "ASSIGNMENT_TIMEOUT_SECONDS", 600))


def _count(queryset: QuerySet) -> Coalesce:
    counted = queryset.order_by().values("sentence_id").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _open_to(
    queryset: QuerySet, *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime, ref: str
) -> QuerySet:
    """Filter rows whose sentence (at `ref`) the annotator may be given."""
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


@dataclass(frozen=True)
class QueueState:
    """The annotator's search cursor and reservation for a target, read in one query."""

    cursor: tuple[int, int] | None
    reserved_sentence_id: int | None
    reserved_until: datetime.datetime | None

    def live_reservation(self, now: datetime.datetime) -> int | None:
        if self.reserved_until is not None and self.reserved_until > now:
            return self.reserved_sentence_id
        return None


def queue_state(*, annotator: AbstractBaseUser, target: Target) -> QueueState:
    cursor = QueueCursor.objects.filter(annotator_id=annotator.pk, target=target)
    reservation = Assignment.objects.filter(annotator_id=annotator.pk, target=target)
    row = (
        Target.objects.filter(pk=target.pk)
        .annotate(
            cursor_article=Subquery(cursor.values("article_id")[:1]),
            cursor_position=Subquery(cursor.values("position")[:1]),
            reserved_sentence=Subquery(reservation.values("sentence_id")[:1]),
            reserved_until=Subquery(reservation.values("expires_at")[:1]),
        )
        .values_list("cursor_article", "cursor_position", "reserved_sentence", "reserved_until")
        .get()
    )
    has_cursor = row[0] is not None
    return QueueState(
        cursor=(row[0], row[1]) if has_cursor else None, reserved_sentence_id=row[2], reserved_until=row[3]
    )


# The in-order search runs on every label, so it is written in SQL once instead of being
# built by the ORM each time: compiling the nested subqueries cost ~5 ms of CPU a label,
# several times what the database spends running them (benchmarks/scale.py).
_UNFINISHED = """
    "sentence"."article_id" >= %s AND NOT ("sentence"."article_id" = %s AND "sentence"."position" < %s)
    AND NOT EXISTS (SELECT 1 FROM {annotation} "mine" WHERE "mine"."sentence_id" = "sentence"."id"
                    AND "mine"."target_id" = %s AND "mine"."annotator_id" = %s)
"""
_LABELS = """(SELECT COUNT(*) FROM {annotation} "label" WHERE "label"."sentence_id" = "sentence"."id"
              AND "label"."target_id" = %s AND "label"."label" <> %s)"""
_HELD = """(SELECT COUNT(*) FROM {assignment} "held" WHERE "held"."sentence_id" = "sentence"."id"
            AND "held"."target_id" = %s AND "held"."expires_at" > %s AND "held"."annotator_id" <> %s)"""
_FRONTIER_SQL = (
    'SELECT "sentence"."article_id", "sentence"."position" FROM {sentence} "sentence" WHERE'
    + _UNFINISHED
    + " AND "
    + _LABELS
    + ' < %s ORDER BY "sentence"."article_id", "sentence"."position" LIMIT 1'
)
_OPEN_SQL = (
    'SELECT "sentence"."id" FROM {sentence} "sentence" WHERE'
    + _UNFINISHED
    + " AND "
    + _LABELS
    + " + "
    + _HELD
    + ' < %s ORDER BY "sentence"."article_id", "sentence"."position"'
)
_MOVE_CURSOR_SQL = (
    'UPDATE {cursor} SET "article_id" = COALESCE((SELECT "f"."article_id" FROM (' + _FRONTIER_SQL + ') "f"), '
    '"article_id"), "position" = COALESCE((SELECT "f"."position" FROM ('
    + _FRONTIER_SQL
    + ') "f"), "position") '
    'WHERE "annotator_id" = %s AND "target_id" = %s'
)


def _sql(template: str) -> str:
    tables = {"sentence": Sentence, "annotation": Annotation, "assignment": Assignment, "cursor": QueueCursor}
    quote = connection.ops.quote_name
    return template.format(**{name: quote(model._meta.db_table) for name, model in tables.items()})


def _unfinished_params(annotator: AbstractBaseUser, target: Target, start: tuple[int, int]) -> list[object]:
    return [start[0], start[0], start[1], target.pk, annotator.pk]


def frontier_sql(
    *, annotator: AbstractBaseUser, target: Target, start: tuple[int, int]
) -> tuple[str, list[object]]:
    """The first sentence from `start` that is neither the annotator's nor full of labels.

    Reservations are left out on purpose: they expire, so the cursor must not pass them.
    """
    params = [*_unfinished_params(annotator, target, start), target.pk, Label.SKIP, target.overlap]
    return _sql(_FRONTIER_SQL), params


def open_sql(
    *, annotator: AbstractBaseUser, target: Target, start: tuple[int, int], now: datetime.datetime
) -> tuple[str, list[object]]:
    """Ids of the sentences open to the annotator from `start` on, in queue order.

    A sentence is open when the annotator has not labelled or skipped it and fewer than
    the overlap of others have labelled it or hold it. The range on article_id minus the
    article's earlier positions (not an OR) lets SQLite seek straight to `start` in the
    (article, position) index: with the OR it scanned from the index's start (0.5 s at a
    million sentences).
    """
    held = [target.pk, connection.ops.adapt_datetimefield_value(now), annotator.pk]
    params = [*_unfinished_params(annotator, target, start), target.pk, Label.SKIP, *held, target.overlap]
    return _sql(_OPEN_SQL), params


def first_open(
    *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime, state: QueueState | None = None
) -> Sentence | None:
    """The first open sentence in queue order, with its article and suggestion.

    The search starts at the annotator's cursor, so it walks the (article, position) index
    over a bounded stretch whatever the corpus size and however much of it is labelled.
    One UPDATE moves the cursor up to the first sentence that is neither the annotator's
    nor full; the open sentence is the first one from the old cursor (nothing between the
    two is open), read with its article and suggestion in one query.
    """
    state = state or queue_state(annotator=annotator, target=target)
    start = state.cursor or (0, 0)
    frontier, frontier_params = frontier_sql(annotator=annotator, target=target, start=start)
    with connection.cursor() as cursor:
        if state.cursor is None:
            cursor.execute(frontier, frontier_params)
            first = cursor.fetchone()
            if first is None:
                return None
            QueueCursor.objects.create(
                annotator_id=annotator.pk, target=target, article_id=first[0], position=first[1]
            )
        else:
            cursor.execute(
                _sql(_MOVE_CURSOR_SQL), [*frontier_params, *frontier_params, annotator.pk, target.pk]
            )
    found, found_params = open_sql(annotator=annotator, target=target, start=start, now=now)
    return card_sentences(target).filter(pk=RawSQL(found + " LIMIT 1", found_params)).first()


def open_sentences(
    *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime
) -> QuerySet[Sentence]:
    """Every sentence the annotator may be given now, in queue order."""
    found, params = open_sql(annotator=annotator, target=target, start=(0, 0), now=now)
    return Sentence.objects.filter(pk__in=RawSQL(found, params)).order_by("article_id", "position")


def card_sentences(target: Target) -> QuerySet[Sentence]:
    """Sentences with their article and the active model's suggestion: one query a card.

    The suggestion comes as `suggested_label` and `suggested_confidence`, which
    `suggestions.suggestion_to_show` reads instead of querying again.
    """
    queryset = Sentence.objects.select_related("article")
    if target.active_version_id is None:
        return queryset
    suggestion = Suggestion.objects.filter(model_version_id=target.active_version_id, sentence=OuterRef("pk"))
    return queryset.annotate(
        suggested_label=Subquery(suggestion.values("label")[:1]),
        suggested_confidence=Subquery(suggestion.values("confidence")[:1]),
    )


def rewind_cursors(*, target: Target, sentence: Sentence) -> None:
    """A sentence lost a label (undo, relabel to skip) or was added: searches must see it again.

    The caller holds `lock_target`, so no search moves a cursor past the sentence meanwhile.
    """
    QueueCursor.objects.filter(target=target).filter(
        Q(article_id__gt=sentence.article_id)
        | Q(article_id=sentence.article_id, position__gt=sentence.position)
    ).update(article_id=sentence.article_id, position=sentence.position)


UNCERTAINTY_ORDER = {
    Uncertainty.LEAST_CONFIDENT: "confidence",
    Uncertainty.MARGIN: "margin",
    Uncertainty.ENTROPY: "-entropy",
}


def _most_uncertain(
    *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime
) -> Sentence | None:
    # Walks the active version's suggestions in uncertainty order (an index) and stops
    # at the first open sentence, instead of scoring every sentence.
    suggestions = Suggestion.objects.filter(model_version_id=target.active_version_id)
    found = (
        _open_to(suggestions, annotator=annotator, target=target, now=now, ref="sentence_id")
        .order_by(UNCERTAINTY_ORDER[target.uncertainty_measure], "sentence_id")
        .select_related("sentence__article")
        .first()
    )
    if found is None:
        return None
    sentence = found.sentence
    sentence.suggested_label, sentence.suggested_confidence = found.label, found.confidence
    return sentence


def _random_open(*, annotator: AbstractBaseUser, target: Target, now: datetime.datetime) -> Sentence | None:
    bounds = sentence_id_bounds()
    if bounds is None:
        return None
    start = random.randint(*bounds)
    candidates = _open_to(
        card_sentences(target), annotator=annotator, target=target, now=now, ref="pk"
    ).order_by("id")
    return candidates.filter(id__gte=start).first() or candidates.first()


def pick_sentence(
    *, annotator: AbstractBaseUser, target: Target, now: datetime.datetime, state: QueueState | None = None
) -> Sentence | None:
    """The next open sentence by the target's queue order."""
    order = target.queue_order
    if order != QueueOrder.IN_ORDER and target.active_version_id is not None:
        if order == QueueOrder.MIX and random.random() < target.random_share:
            picked = _random_open(annotator=annotator, target=target, now=now)
        else:
            picked = _most_uncertain(annotator=annotator, target=target, now=now)
        if picked is not None:
            return picked
    # Before any model, and for sentences the model has not seen yet.
    return first_open(annotator=annotator, target=target, now=now, state=state)


def lock_target(target_id: int) -> Target:
    """Lock the target's row until the transaction ends and read its current settings.

    Every write that decides who labels what takes this lock first (a row lock on
    PostgreSQL; on SQLite the IMMEDIATE transaction already holds the write lock), so
    the last open slot of a sentence goes to one annotator only and a label is inserted
    once. Reading the settings here means switching the queue order needs no restart.
    """
    return Target.objects.select_for_update().get(pk=target_id)


def next_sentence(*, annotator: AbstractBaseUser, target: Target, locked: bool = False) -> Sentence | None:
    """The sentence to show the annotator now, reserving it; None when the queue is empty.

    The sentence already reserved for the annotator is kept until they label it or it
    expires, so reloading the page never skips a sentence. With `locked`, the caller's
    transaction already holds `lock_target` (labelling and moving on is one transaction).
    """
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        if not locked:
            target = lock_target(target.pk)
        state = queue_state(annotator=annotator, target=target)
        reserved = state.live_reservation(now)
        if reserved is not None:
            # Labelling deletes the reservation, so a live one is still unlabelled.
            return card_sentences(target).get(pk=reserved)
        sentence = pick_sentence(annotator=annotator, target=target, now=now, state=state)
        if sentence is None:
            if state.reserved_sentence_id is not None:
                Assignment.objects.filter(annotator_id=annotator.pk, target=target).delete()
            return None
        fields = {"sentence": sentence, "shown_at": now, "expires_at": now + ASSIGNMENT_TIMEOUT}
        reservation = Assignment.objects.filter(annotator_id=annotator.pk, target=target)
        # Under the target's lock the reservation row cannot appear or vanish meanwhile.
        if state.reserved_sentence_id is None or not reservation.update(**fields):
            Assignment.objects.create(annotator_id=annotator.pk, target=target, **fields)
        return sentence


def assign(*, annotator: AbstractBaseUser, target: Target, sentence: Sentence, locked: bool = False) -> None:
    """Reserve a given sentence for the annotator (to show it again after an undo)."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        if not locked:
            lock_target(target.pk)
        Assignment.objects.update_or_create(
            annotator_id=annotator.pk,
            target=target,
            defaults={"sentence": sentence, "shown_at": now, "expires_at": now + ASSIGNMENT_TIMEOUT},
        )


@dataclass(frozen=True)
class Progress:
    done: int
    assigned: int
    today: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.assigned)) if self.assigned else 100


#: Below this many sentence ids the corpus is counted exactly (a cheap count).
EXACT_COUNT_BELOW = 20_000


def corpus_size() -> int:
    """The number of sentences, for the progress bar, in constant time.

    A count reads every row, so at a million sentences it would dominate the label round
    trip. Imports hand out sentence ids densely, so a large corpus's size is the span of
    its ids (two index lookups); only deleted articles leave gaps, which make the share in
    the progress bar slightly generous. Small corpora are counted exactly.
    """
    bounds = sentence_id_bounds()
    if bounds is None:
        return 0
    span = bounds[1] - bounds[0] + 1
    return Sentence.objects.count() if span < EXACT_COUNT_BELOW else span


def sentence_id_bounds() -> tuple[int, int] | None:
    """The lowest and highest sentence id, or None without sentences.

    Two index seeks: SQLite answers MIN and MAX in one query by scanning the table.
    """
    ids = Sentence.objects.values_list("id", flat=True)
    low = ids.order_by("id").first()
    return None if low is None else (low, ids.order_by("-id").first())


#: How long the progress bar's corpus size and annotator count may lag behind an import
#: or a new account. Both change rarely and are read on every label.
SHARE_INPUTS_SECONDS = 30


def _share_inputs() -> tuple[int, int]:
    """(sentences, active annotators), cached per process for SHARE_INPUTS_SECONDS."""
    key = "stance:queue:share-inputs"
    cached = cache.get(key)
    if cached is None:
        annotators = get_user_model().objects.filter(groups__name=ANNOTATOR, is_active=True).count()
        cached = (corpus_size(), annotators)
        cache.set(key, cached, SHARE_INPUTS_SECONDS)
    return cached


def start_of_day() -> datetime.datetime:
    """Midnight today in the site's time zone: where "today" counts start."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def annotator_share(*, sentences: int, overlap: int, annotators: int) -> int:
    """One annotator's share of the corpus: the corpus times the overlap, spread evenly."""
    return min(sentences, math.ceil(sentences * overlap / max(1, annotators)))


def progress_for(*, annotator: AbstractBaseUser, target: Target) -> Progress:
    """Labels done (skips included) against the annotator's share of the corpus."""
    mine = Annotation.objects.filter(annotator_id=annotator.pk, target=target).aggregate(
        done=Count("id"), today=Count("id", filter=Q(updated_at__gte=start_of_day()))
    )
    sentences, annotators = _share_inputs()
    share = annotator_share(sentences=sentences, overlap=target.overlap, annotators=annotators)
    return Progress(done=mine["done"], assigned=max(share, mine["done"]), today=mine["today"])
