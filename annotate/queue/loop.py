"""One key press: record the label (or undo) and reserve the next sentence, one transaction.

The target's lock is taken in the first statement, with the target and the sentence, and
held to the commit, in the one lock order (annotate/queue/__init__.py): the room test, the
label and the hand-out are one step for the other annotators of the target. The card is
read after the commit (card.read_card).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from annotate.evaluation import pause_if_flagged_locked
from annotate.models import Annotation, Label, Target
from annotate.queue.card import held_back, suggestion_to_show
from annotate.queue.locks import lock_target, target_and_sentence
from annotate.queue.record import Recorded, SentenceFull, as_given, record_locked, undo_locked
from annotate.queue.reservations import reserve_again_locked, reserve_next_locked
from annotate.returns import open_return_locked, resolve_return_locked


@dataclass(frozen=True)
class Labelled:
    recorded: Recorded
    target: Target  # as read under its lock
    next_sentence_id: int | None  # None: nothing is open
    #: The "after" mode's first step: the same sentence comes back with its suggestion.
    reveal: bool = False


@dataclass(frozen=True)
class Undone:
    annotation: Annotation | None  # the removed label (unsaved), None: nothing to undo
    target: Target
    next_sentence_id: int | None


def label_and_next(
    *,
    annotator: User,
    target_id: int,
    sentence_id: int,
    label: str,
    spent_ms: int | None = None,
    revealed: bool = False,
    returned: int | None = None,
) -> Labelled:
    """Record a label from the labelling page and reserve the next sentence.

    The label, its history event and the next reservation (which replaces the one the
    label used up) are written together or not at all. Raises Target.DoesNotExist for an
    unknown target or sentence, and ValidationError for a refused label (SentenceFull for
    a sentence without room, NoSuggestionToAccept).

    In the "after" suggestion mode a first stance label is given with the suggestion held
    back; when there is one, nothing is reserved and the same sentence comes back with it
    (`reveal`), and the label given on that card (`revealed`) is the final one.

    `returned` is the id of the annotator's returned label the card showed (annotate/
    returns.py): the label given resolves it, in the same transaction. Raises
    LabelReturn.DoesNotExist (nothing written) for another annotator's, another
    sentence's or none.
    """
    with transaction.atomic():
        locked = target_and_sentence(target_id=target_id, sentence_id=sentence_id)
        target, sentence = locked.target, locked.sentence
        was_returned = None
        if returned is not None:
            was_returned = open_return_locked(
                annotator=annotator, target=target, sentence_id=sentence.pk, return_id=returned
            )
        suggestion = suggestion_to_show(
            target=target, sentence_id=sentence.pk, suggested=locked.suggested, evaluation=locked.evaluation
        )
        shown = None if held_back(target=target, revealed=revealed) else suggestion
        given = as_given(label=label, shown=shown)
        recorded = record_locked(
            annotator=annotator,
            sentence=sentence,
            target=target,
            label=given.label,
            spent_ms=spent_ms,
            accepted_suggestion=given.accepted_suggestion,
            suggestion_shown=given.suggestion_shown,
        )
        if recorded is None:
            raise SentenceFull(target)
        if was_returned is not None:
            resolve_return_locked(returned=was_returned, label=given.label)
        if locked.evaluation and target.evaluation_pause:
            # An answer to an evaluation item may put the annotator below the target's
            # threshold: then the hand-out below finds their queue paused.
            pause_if_flagged_locked(annotator=annotator, target=target)
        if shown is None and suggestion is not None and given.label != Label.SKIP:
            # Its reservation stays: the label used it, and the next label replaces it.
            return Labelled(recorded=recorded, target=target, next_sentence_id=sentence.pk, reveal=True)
        next_id = reserve_next_locked(annotator=annotator, target=target)
    return Labelled(recorded=recorded, target=target, next_sentence_id=next_id)


def undo_and_next(*, annotator: User, target_id: int) -> Undone:
    """Undo the annotator's latest label and show its sentence again.

    A sentence that has no room for them any more (others labelled it after a skip) is
    not shown again: the next open one is.
    """
    with transaction.atomic():
        target = lock_target(target_id)
        undone = undo_locked(annotator=annotator, target=target)
        if undone is not None:
            reserve_again_locked(annotator=annotator, target=target, sentence_id=undone.sentence_id)
        next_id = reserve_next_locked(annotator=annotator, target=target)
    return Undone(annotation=undone, target=target, next_sentence_id=next_id)
