"""Recording, changing, skipping and undoing labels.

Each write is one transaction that changes the current Annotation and appends the
matching AnnotationEvent, so the history can never disagree with the labels. Each takes
the target's lock first (the one lock order of annotate/queue.py), and a stance label on
a sentence that is full for the annotator is refused (`SentenceFull`) on every path.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from annotate import queue, sql
from annotate.models import (
    Annotation,
    AnnotationEvent,
    Assignment,
    Label,
    LabellingSettings,
    Sentence,
    Shortcuts,
    Target,
)
from annotate.suggestions import suggestion_to_show

#: The label value that takes the model's suggestion (Enter in the browser).
ACCEPT = "accept"

#: Browser timings outside this range are clock glitches or a tab left open overnight.
MAX_SPENT_MS = 10 * 60 * 1000


def clamp_spent_ms(value: int | None) -> int | None:
    if value is None:
        return None
    return max(0, min(int(value), MAX_SPENT_MS))


def validate_label(label: str) -> str:
    if label not in Label.values:
        raise ValidationError(
            f"Unknown label {label!r}; expected one of {', '.join(Label.values)}.", code="unknown_label"
        )
    return label


def _event(annotation: Annotation, *, action: str, old_label: str, new_label: str) -> AnnotationEvent:
    return AnnotationEvent.objects.create(
        annotator_id=annotation.annotator_id,
        sentence_id=annotation.sentence_id,
        target_id=annotation.target_id,
        action=action,
        old_label=old_label,
        new_label=new_label,
        spent_ms=annotation.spent_ms,
        accepted_suggestion=annotation.accepted_suggestion,
    )


class SentenceFull(ValidationError):
    """A stance label for a sentence that already has its overlap of labels from others
    (counting others' live reservations), from an annotator who holds neither its
    reservation nor a stance label on it."""

    def __init__(self, target: Target) -> None:
        super().__init__(f"This sentence already has its {target.overlap} labels.", code="sentence_full")


def _insert_once(key: dict[str, int], room: dict[str, object] | None, **fields: object) -> Annotation | None:
    """Insert the annotation unless one exists for the key or, with `room` (the parameters
    of queue.ROOM_SQL), the sentence is full for the annotator; None when not inserted.

    `ON CONFLICT DO NOTHING` instead of catching the unique constraint's error: on
    PostgreSQL a concurrent insert of the same key waits for the first to commit and then
    inserts nothing, with no savepoint. The room test is in the same statement, so the
    label of a sentence handed out by the queue costs no extra query.
    """
    now = timezone.now()
    values = {**key, **fields, "created_at": now, "updated_at": now}
    quote = connection.ops.quote_name
    # A SELECT, not VALUES, to carry the room test; its WHERE is also SQLite's required
    # marker between INSERT ... SELECT and ON CONFLICT.
    condition = queue.ROOM_SQL if room is not None else "1 = 1"
    query = sql.statement(
        f"INSERT INTO {{annotation}} ({', '.join(quote(name) for name in values)}) "
        f"SELECT {', '.join(f'%({name})s' for name in values)} WHERE {condition} "
        f"ON CONFLICT ({', '.join(quote(name) for name in key)}) DO NOTHING RETURNING {quote('id')}"
    )
    params = {
        name: sql.moment(value) if isinstance(value, datetime.datetime) else value
        for name, value in values.items()
    }
    inserted = sql.fetch(query, {**(room or {}), **params})
    if not inserted:
        return None
    return Annotation.from_db(connection.alias, ["id", *values], [inserted[0][0], *values.values()])


def annotation_record(
    *,
    annotator: User,
    sentence: Sentence,
    target: Target,
    label: str,
    spent_ms: int | None = None,
    accepted_suggestion: bool = False,
    suggestion_shown: bool = False,
    reservation_moves: bool = False,
    locked: bool = False,
) -> Annotation:
    """Set the annotator's label for a sentence: create, relabel, skip, or repeat.

    A repeated submission of the same label (a double key press, a retried request)
    leaves one annotation and is written to the history as a repeat. The history event
    written is on `annotation.event`. Takes the target's lock first, unless the caller
    holds it (`locked`, with `target` as read under it). Raises SentenceFull for a stance
    label on a sentence that is full for the annotator (queue.ROOM_SQL) when they had no
    stance label on it. With `reservation_moves` the caller reserves the annotator's next
    sentence in the same transaction (`queue.reserve_next`), which replaces the
    reservation this label uses up, so it is not deleted here.
    """
    validate_label(label)
    spent_ms = clamp_spent_ms(spent_ms)
    accepted_suggestion = accepted_suggestion and suggestion_shown and label != Label.SKIP
    key = {"annotator_id": annotator.pk, "sentence_id": sentence.pk, "target_id": target.pk}
    fields: dict[str, object] = {
        "label": label,
        "spent_ms": spent_ms,
        "accepted_suggestion": accepted_suggestion,
        "suggestion_shown": suggestion_shown,
    }
    with transaction.atomic(savepoint=False):
        if not locked:
            # The target first, then the annotation's row: the one lock order (queue.py).
            target = queue.lock_target(target.pk)
        annotation = _record(
            key,
            fields,
            annotator=annotator,
            sentence=sentence,
            target=target,
            reservation_moves=reservation_moves,
        )
    if annotation is None:
        # Raised outside the transaction block, which wrote nothing: a caller's own
        # transaction stays usable (no savepoint needed on the card's path).
        raise SentenceFull(target)
    return annotation


def _record(
    key: dict[str, int],
    fields: dict[str, object],
    *,
    annotator: User,
    sentence: Sentence,
    target: Target,
    reservation_moves: bool,
) -> Annotation | None:
    """annotation_record's writes, under the target's lock; None, having written nothing,
    when the sentence is full for the annotator."""
    label = fields["label"]
    room = None
    if label != Label.SKIP:
        room = queue.room_params(annotator=annotator, target=target, sentence_id=sentence.pk)
    inserted = _insert_once(key, room, **fields)
    if inserted is not None:
        annotation, old_label = inserted, ""
        action = AnnotationEvent.Action.SKIP if label == Label.SKIP else AnnotationEvent.Action.CREATE
    else:
        # Lock the row: two changes of one annotation must not both read the old label.
        found = Annotation.objects.select_for_update().filter(**key).first()
        if found is None:
            return None  # not inserted and not there: the room test refused it
        annotation, old_label = found, found.label
        # A skip changed to a stance label adds one to the count, as a first label does.
        adds_one = old_label == Label.SKIP and label != Label.SKIP
        if adds_one and not queue.has_room(annotator=annotator, target=target, sentence_id=sentence.pk):
            return None
        # A change to skip is a relabel too (old label to skip), so the history reads true.
        action = AnnotationEvent.Action.REPEAT if old_label == label else AnnotationEvent.Action.RELABEL
    if not reservation_moves:
        # The reservation is used up: it must not count toward the overlap beside the
        # label. Swapping one for the other in one transaction keeps the count as it was.
        Assignment.objects.filter(**key).delete()
    if label == Label.SKIP and old_label not in ("", Label.SKIP):
        # The sentence has one stance label fewer: searches that passed it must see it.
        queue.rewind_cursors(target=target, sentence=sentence)
    if action == AnnotationEvent.Action.RELABEL:
        for name, value in fields.items():
            setattr(annotation, name, value)
        annotation.save(update_fields=[*fields, "updated_at"])
    # Read by the label view; a typed result replaces it (issue 13's label loop).
    annotation.event = _event(annotation, action=action, old_label=old_label, new_label=str(label))  # type: ignore[attr-defined]
    return annotation


class NoSuggestionToAccept(ValidationError):
    """`accept` was sent for a sentence shown without a suggestion."""


def annotation_submit(
    *,
    annotator: User,
    sentence: Sentence,
    target: Target,
    label: str,
    spent_ms: int | None = None,
    suggestion_shown: bool | None = None,
    reservation_moves: bool = False,
    locked: bool = False,
) -> Annotation:
    """A label as an annotator gives it, from the browser or the API.

    `accept` takes the suggestion the annotator is shown (the control set shows none).
    Whether a suggestion was on screen is the server's own answer unless the client says
    it hid one (`suggestion_shown=False`).
    """
    shown = suggestion_to_show(target=target, sentence=sentence)
    accepted = label == ACCEPT
    if accepted:
        if shown is None:
            raise NoSuggestionToAccept("There is no suggestion to accept for this sentence.")
        label = shown.label
    return annotation_record(
        annotator=annotator,
        sentence=sentence,
        target=target,
        label=label,
        spent_ms=spent_ms,
        accepted_suggestion=accepted,
        suggestion_shown=shown is not None and (accepted or suggestion_shown is not False),
        reservation_moves=reservation_moves,
        locked=locked,
    )


def annotation_change(*, annotator: User, annotation_id: int, label: str) -> Annotation:
    """Relabel one of the annotator's own annotations (from the history panel)."""
    validate_label(label)
    annotation = Annotation.objects.select_related("sentence", "target").filter(pk=annotation_id).first()
    if annotation is None or annotation.annotator_id != annotator.pk:
        # Another user's annotation is indistinguishable from a missing one.
        raise PermissionDenied("No such annotation of yours.")
    return annotation_record(
        annotator=annotator,
        sentence=annotation.sentence,
        target=annotation.target,
        label=label,
        spent_ms=annotation.spent_ms,
        suggestion_shown=annotation.suggestion_shown,
    )


def annotation_undo(*, annotator: User, target: Target, locked: bool = False) -> Annotation | None:
    """Remove the annotator's most recent label for the target; its history stays.

    Returns the removed annotation (unsaved, for showing its sentence again), or None
    when there is nothing to undo.
    """
    with transaction.atomic(savepoint=False):
        if not locked:
            queue.lock_target(target.pk)
        annotation = (
            Annotation.objects.select_related("sentence")
            .filter(annotator_id=annotator.pk, target=target)
            .order_by("-updated_at", "-id")
            .first()
        )
        if annotation is None:
            return None
        _event(annotation, action=AnnotationEvent.Action.UNDO, old_label=annotation.label, new_label="")
        annotation.delete()
        queue.rewind_cursors(target=target, sentence=annotation.sentence)
        return annotation


def label_and_next(
    *, annotator: User, target_id: int, sentence_id: int, label: str, spent_ms: int | None = None
) -> tuple[Annotation, int | None, Target]:
    """Record a label from the labelling page and reserve the next sentence, in one transaction.

    The label, its history event, the used reservation and the next reservation are
    written together or not at all. The target's lock is taken in the first statement,
    with the target and the sentence, and held to the end: the room test, the label and
    the hand-out are one step for the other annotators of the target. Raises
    Target.DoesNotExist for an unknown target or sentence and ValidationError for a
    refused label (SentenceFull for a full sentence). Returns the label, the next
    sentence's id (None when the queue is empty) and the target as read under its lock.
    """
    with transaction.atomic():
        target, sentence = queue.target_and_sentence(target_id=target_id, sentence_id=sentence_id)
        annotation = annotation_submit(
            annotator=annotator,
            sentence=sentence,
            target=target,
            label=label,
            spent_ms=spent_ms,
            reservation_moves=True,
            locked=True,
        )
        annotation.sentence = sentence
        target, next_id = queue.reserve_next(annotator=annotator, target_id=target.pk, locked=target)
    return annotation, next_id, target


def undo_and_next(*, annotator: User, target_id: int) -> tuple[Annotation | None, int | None, Target]:
    """Undo the annotator's latest label and show its sentence again, in one transaction.

    A sentence that has become full meanwhile (others labelled it after a skip) is not
    shown again: the next open one is.
    """
    with transaction.atomic():
        target = queue.lock_target(target_id)
        undone = annotation_undo(annotator=annotator, target=target, locked=True)
        if undone is not None:
            queue.reserve_again(annotator=annotator, target=target, sentence=undone.sentence)
        target, next_id = queue.reserve_next(annotator=annotator, target_id=target.pk, locked=target)
    return undone, next_id, target


def shortcuts_for(*, user: User) -> str:
    """How the user's labelling keys work: their saved choice, else single keys."""
    saved = LabellingSettings.objects.filter(user=user).values_list("shortcuts", flat=True).first()
    return saved or Shortcuts.KEYS


def shortcuts_set(*, user: User, shortcuts: str) -> LabellingSettings:
    if shortcuts not in Shortcuts.values:
        raise ValidationError(
            f"Unknown shortcut setting {shortcuts!r}; expected one of {', '.join(Shortcuts.values)}.",
            code="unknown_shortcuts",
        )
    saved, _ = LabellingSettings.objects.update_or_create(user=user, defaults={"shortcuts": shortcuts})
    return saved
