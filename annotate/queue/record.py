"""Recording, changing, skipping and undoing labels, with their history.

Each write changes the current Annotation and appends the matching AnnotationEvent in the
same transaction, so the history can never disagree with the labels. A stance label on a
sentence without ROOM for the annotator (rule.py) is refused (`SentenceFull`) on every path.

The public entry points (`annotation_record`, `annotation_submit`, `annotation_change`,
`annotation_undo`) each own their transaction and take the locks in the one order
(annotate/queue/__init__.py); `record_locked` and `undo_locked` are their steps under the
target's lock, for callers that hold it already (loop.py, label_import).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from annotate.models import (
    Annotation,
    AnnotationEvent,
    EvaluationItem,
    Label,
    Sentence,
    Suggestion,
    SuggestionMode,
    Target,
)
from annotate.queue import sql, statements
from annotate.queue.card import Suggested, held_back, suggestion_to_show
from annotate.queue.cursors import rewind_cursors_locked
from annotate.queue.locks import lock_target
from annotate.queue.reservations import release_locked
from annotate.queue.rule import rule_params
from annotate.returns import resolve_open_return_locked

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


def full_message(target: Target) -> str:
    """Why a sentence takes no more stance labels, in the target's terms."""
    if target.most_labels == target.overlap:
        return f"This sentence already has its {target.overlap} labels."
    return (
        f"This sentence already has its labels: {target.overlap} that agree, "
        f"or up to {target.most_labels} while they disagree."
    )


class SentenceFull(ValidationError):
    """A stance label for a sentence that wants no more labels from others (counting
    others' live reservations; rule.py's ROOM), from an annotator who holds neither its
    reservation nor a stance label on it."""

    def __init__(self, target: Target) -> None:
        super().__init__(full_message(target), code="sentence_full")


class NoSuggestionToAccept(ValidationError):
    """`accept` was sent for a sentence shown without a suggestion."""


@dataclass(frozen=True)
class Recorded:
    """A label as written: the current annotation and the history event it wrote."""

    annotation: Annotation
    event: AnnotationEvent

    @property
    def action(self) -> str:
        return self.event.action

    @property
    def old_label(self) -> str:
        """The label it replaced ("" for a first label)."""
        return self.event.old_label


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


_FIELDS = ("label", "spent_ms", "accepted_suggestion", "suggestion_shown")


def _insert_once(params: dict[str, object]) -> Annotation | None:
    """Insert the annotation unless the annotator has one on the sentence or (a stance
    label) it has no room for them; None when not inserted."""
    insert = statements.INSERT_SKIP if params["label"] == Label.SKIP else statements.INSERT_STANCE_LABEL
    inserted = sql.fetch(insert, params)
    if not inserted:
        return None
    now = params["created_at"]
    names = [
        "id",
        "annotator_id",
        "sentence_id",
        "target_id",
        *_FIELDS,
        "first_label",
        "created_at",
        "updated_at",
    ]
    values = [inserted[0][0], params["annotator"], params["sentence"], params["target"]]
    values += [params[name] for name in _FIELDS] + [None, now, now]
    return Annotation.from_db(connection.alias, names, values)


def _revealed(found: Annotation, *, target: Target, suggestion_shown: bool) -> bool:
    """Whether this label is the "after" mode's second step: the annotator's label given
    without the suggestion, now given again with it on screen (kept, changed or accepted).
    The first label is then kept on the annotation; later changes leave it alone."""
    return (
        target.suggestion_mode == SuggestionMode.AFTER
        and suggestion_shown
        and not found.suggestion_shown
        and found.first_label is None
    )


def _total_ms(first: int | None, second: int | None) -> int | None:
    """The time to the final label is the time to the first one plus the time after it."""
    if first is None or second is None:
        return first if second is None else second
    return clamp_spent_ms(first + second)


def _disagrees_anew(target: Target) -> bool:
    """Whether a change between stance labels may reopen a sentence: only with dynamic
    overlap (rule.py's DISAGREED)."""
    return target.most_labels > target.overlap


def record_locked(
    *,
    annotator: User,
    sentence: Sentence,
    target: Target,
    label: str,
    spent_ms: int | None = None,
    accepted_suggestion: bool = False,
    suggestion_shown: bool = False,
) -> Recorded | None:
    """Set the annotator's label for a sentence (create, repeat, relabel or skip) under the
    target's lock, which the caller holds (`target` as read under it); None, having written
    nothing, when the sentence has no room for them.

    The reservation the label uses up is left to the caller: the card's path replaces it
    with the next one in the same transaction, every other path releases it. A repeated
    submission of the same label (a double key press, a retried request) leaves one
    annotation and is written to the history as a repeat.
    """
    validate_label(label)
    now = timezone.now()
    # A skip never accepts a suggestion, and nothing is accepted that was not shown.
    accepted_suggestion = accepted_suggestion and suggestion_shown and label != Label.SKIP
    fields = {
        "label": label,
        "spent_ms": clamp_spent_ms(spent_ms),
        "accepted_suggestion": accepted_suggestion,
        "suggestion_shown": suggestion_shown,
    }
    params = {
        **rule_params(annotator=annotator, target=target, now=now),
        **fields,
        "sentence": sentence.pk,
        "created_at": now,
    }
    inserted = _insert_once(params)
    revealed = False
    if inserted is not None:
        annotation, old_label = inserted, ""
        action = AnnotationEvent.Action.SKIP if label == Label.SKIP else AnnotationEvent.Action.CREATE
    else:
        # Step 2 of the lock order: two changes of one annotation must not both read the
        # old label.
        key = {"annotator_id": annotator.pk, "sentence_id": sentence.pk, "target_id": target.pk}
        found = Annotation.objects.select_for_update().filter(**key).first()
        if found is None:
            return None  # not inserted and not there: the room test refused it
        annotation, old_label = found, found.label
        # A skip changed to a stance label adds one to the count, as a first label does.
        adds_one = old_label == Label.SKIP and label != Label.SKIP
        if adds_one and not sql.fetch(statements.HAS_ROOM, params):
            return None
        # A change to skip is a relabel too (old label to skip), so the history reads true.
        action = AnnotationEvent.Action.REPEAT if old_label == label else AnnotationEvent.Action.RELABEL
        revealed = _revealed(found, target=target, suggestion_shown=suggestion_shown)
        if revealed:
            fields.update(first_label=old_label, spent_ms=_total_ms(found.spent_ms, clamp_spent_ms(spent_ms)))
        elif not suggestion_shown:
            fields["first_label"] = None  # no suggestion on screen, so none was revealed
    if label == Label.SKIP and old_label not in ("", Label.SKIP):
        # The sentence has one stance label fewer: searches that passed it must see it.
        rewind_cursors_locked(target=target, sentence=sentence)
    elif action == AnnotationEvent.Action.RELABEL and old_label != Label.SKIP and _disagrees_anew(target):
        # Under dynamic overlap a changed label may turn agreement into disagreement,
        # which asks for another annotator: searches that passed the sentence must see it.
        rewind_cursors_locked(target=target, sentence=sentence)
    if action == AnnotationEvent.Action.RELABEL or revealed:
        for name, value in fields.items():
            setattr(annotation, name, value)
        annotation.save(update_fields=[*fields, "updated_at"])
    event = _event(annotation, action=action, old_label=old_label, new_label=label)
    annotation.sentence = sentence
    return Recorded(annotation=annotation, event=event)


def annotation_record(
    *,
    annotator: User,
    sentence: Sentence,
    target: Target,
    label: str,
    spent_ms: int | None = None,
    accepted_suggestion: bool = False,
    suggestion_shown: bool = False,
) -> Recorded:
    """Set the annotator's label for a sentence, in its own transaction (`record_locked`).

    Raises SentenceFull for a stance label on a sentence without room for the annotator,
    TargetArchived for an archived target.
    """
    validate_label(label)  # before the transaction: a refusal leaves a caller's usable
    with transaction.atomic(savepoint=False):
        # The archive check is the lock's (Target.refuse_if_archived), raised below.
        target = lock_target(target.pk, archived_ok=True)
        recorded = None
        if not target.is_archived:
            recorded = record_locked(
                annotator=annotator,
                sentence=sentence,
                target=target,
                label=label,
                spent_ms=spent_ms,
                accepted_suggestion=accepted_suggestion,
                suggestion_shown=suggestion_shown,
            )
        if recorded is not None:
            release_locked(annotator=annotator, target=target, sentence_id=sentence.pk)
            # A returned label relabelled (or kept) off the card answers the return just
            # as the card does, in the same transaction as the label.
            resolve_open_return_locked(
                annotator=annotator, target=target, sentence_id=sentence.pk, label=label
            )
    target.refuse_if_archived()
    if recorded is None:
        # Raised outside the transaction block, which wrote nothing: a caller's own
        # transaction stays usable (no savepoint needed).
        raise SentenceFull(target)
    return recorded


def _active_suggestion(*, target: Target, sentence: Sentence) -> Suggested | None:
    if target.active_version_id is None:
        return None
    row = (
        Suggestion.objects.filter(model_version_id=target.active_version_id, sentence=sentence)
        .values_list("label", "confidence")
        .first()
    )
    return None if row is None else Suggested(label=row[0], confidence=row[1])


@dataclass(frozen=True)
class Given:
    """A label as the annotator gave it (`as_given`)."""

    label: str
    accepted_suggestion: bool
    suggestion_shown: bool


def as_given(*, label: str, shown: Suggested | None, suggestion_shown: bool | None = None) -> Given:
    """A label as the annotator gave it: the label, whether it accepted the suggestion and
    whether one was on screen (what `record_locked` takes).

    `accept` takes the suggestion the annotator was `shown` (None in the control set).
    Whether a suggestion was on screen is the server's own answer unless the client says it
    hid one (`suggestion_shown=False`). Raises before anything is written.
    """
    accepted = label == ACCEPT
    if accepted:
        if shown is None:
            raise NoSuggestionToAccept("There is no suggestion to accept for this sentence.")
        label = shown.label
    validate_label(label)
    return Given(
        label=label,
        accepted_suggestion=accepted,
        suggestion_shown=shown is not None and (accepted or suggestion_shown is not False),
    )


def annotation_submit(
    *,
    annotator: User,
    sentence: Sentence,
    target: Target,
    label: str,
    spent_ms: int | None = None,
    suggestion_shown: bool | None = None,
) -> Recorded:
    """A label from the API, as `as_given` reads it, in its own transaction.

    In the "after" suggestion mode the suggestion counts as shown only once the annotator
    has a label on the sentence (the API gives it to them then): a first label is given
    without it, and the next one, with it, keeps the first as `first_label`.
    """
    suggested = _active_suggestion(target=target, sentence=sentence)
    evaluation = (
        suggested is not None and EvaluationItem.objects.filter(target=target, sentence=sentence).exists()
    )
    shown = suggestion_to_show(
        target=target, sentence_id=sentence.pk, suggested=suggested, evaluation=evaluation
    )
    if shown is not None and held_back(target=target, revealed=False):
        labelled = Annotation.objects.filter(annotator_id=annotator.pk, sentence=sentence, target=target)
        shown = shown if labelled.exists() else None
    given = as_given(label=label, shown=shown, suggestion_shown=suggestion_shown)
    return annotation_record(
        annotator=annotator,
        sentence=sentence,
        target=target,
        label=given.label,
        spent_ms=spent_ms,
        accepted_suggestion=given.accepted_suggestion,
        suggestion_shown=given.suggestion_shown,
    )


def annotation_change(
    *, annotator: User, annotation_id: int, label: str, target_id: int | None = None
) -> Recorded:
    """Relabel one of the annotator's own annotations (the history panel, My labels, the
    article page, the API); with `target_id`, only one of that target's."""
    validate_label(label)
    annotation = Annotation.objects.select_related("sentence", "target").filter(pk=annotation_id).first()
    mismatched = annotation is not None and target_id is not None and annotation.target_id != target_id
    if annotation is None or annotation.annotator_id != annotator.pk or mismatched:
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


def undo_locked(*, annotator: User, target: Target) -> Annotation | None:
    """Remove the annotator's most recent label for the target, under its lock; the
    history stays. The removed annotation (unsaved, with its sentence), or None."""
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
    rewind_cursors_locked(target=target, sentence=annotation.sentence)
    return annotation


def annotation_undo(*, annotator: User, target: Target) -> Annotation | None:
    """Undo the annotator's most recent label for the target, in its own transaction.
    Raises TargetArchived (after the block, as annotation_record) for an archived target."""
    with transaction.atomic(savepoint=False):
        target = lock_target(target.pk, archived_ok=True)
        undone = None if target.is_archived else undo_locked(annotator=annotator, target=target)
    target.refuse_if_archived()
    return undone
