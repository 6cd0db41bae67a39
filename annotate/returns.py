"""Returning a label: a curator sends one annotator's label on a sentence back to them
with a comment.

The annotator gets the sentence first in their queue, before any open sentence, with the
comment on the card (annotate/queue/reservations.py reads their oldest open return in the
cursor's statement, so the label round trip costs no extra query); the label they give
there is written by the card's own path (queue/record.record_locked: a relabel, or a
repeat when they keep it, with its history event) and resolves the return in the same
transaction (`resolve_return_locked`). A relabel (or a repeat) by any other path, the
history panel, My labels or the API, goes through queue/record.annotation_record, which
resolves the open return the same way in its transaction (`resolve_open_return_locked`).
Undoing or deleting the label leaves the return as it is, as on the card: an open return
stays open (the sentence keeps coming first) until a label is given again. The returned label stays counted (tallies,
agreement, gold) until it is relabelled. The return is in the annotation's history (an
AnnotationEvent `return`) and, with its comment and what came of it, on the adjudication
card (`returns_of`).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotate.flags import clean_comment
from annotate.models import Annotation, AnnotationEvent, LabelReturn, Target
from annotate.queue.locks import lock_target


class AlreadyReturned(ValidationError):
    """The label has an open return already: the annotator has not relabelled it yet."""


def label_return(*, curator: User, target: Target, annotation_id: int, comment: str) -> LabelReturn:
    """Return an annotation of the target to its annotator with a comment, under the
    target's lock then the annotation's (the one lock order), with its history event.

    Raises ValidationError for an empty or too long comment, Annotation.DoesNotExist for
    an annotation of another target (or none), AlreadyReturned, TargetArchived; nothing is
    written then. Who may return is the caller's check (roles.require_curator).
    """
    comment = clean_comment(comment, required=True)
    with transaction.atomic():
        lock_target(target.pk)
        annotation = Annotation.objects.select_for_update().get(pk=annotation_id, target_id=target.pk)
        key = {
            "annotator_id": annotation.annotator_id,
            "sentence_id": annotation.sentence_id,
            "target_id": target.pk,
        }
        if LabelReturn.objects.filter(**key, resolved_at__isnull=True).exists():
            raise AlreadyReturned("This label was returned already and is not relabelled yet.")
        returned = LabelReturn.objects.create(**key, by=curator, label=annotation.label, comment=comment)
        AnnotationEvent.objects.create(
            **key,
            action=AnnotationEvent.Action.RETURN,
            old_label=annotation.label,
            new_label=annotation.label,
            spent_ms=annotation.spent_ms,
            accepted_suggestion=annotation.accepted_suggestion,
        )
    return returned


def open_return_locked(*, annotator: User, target: Target, sentence_id: int, return_id: int) -> LabelReturn:
    """The annotator's return `return_id` of the sentence (open or resolved), read under
    the target's lock; LabelReturn.DoesNotExist for another user's or none."""
    return LabelReturn.objects.get(
        pk=return_id, annotator_id=annotator.pk, target_id=target.pk, sentence_id=sentence_id
    )


def resolve_return_locked(*, returned: LabelReturn, label: str) -> None:
    """The annotator labelled the returned sentence again: the return is resolved with the
    label they gave (a resolved one is left as it is)."""
    if returned.resolved_at is not None:
        return
    returned.resolved_at, returned.resolved_label = timezone.now(), label
    returned.save(update_fields=["resolved_at", "resolved_label"])


def resolve_open_return_locked(*, annotator: User, target: Target, sentence_id: int, label: str) -> int:
    """The annotator labelled the sentence by another path than the card (the history
    panel, My labels, the API): their open return of it, if any, is resolved with that
    label, as the card resolves it. Under the target's lock, in the label's transaction;
    the number resolved (0 or 1: a label has one open return at most, `label_return`)."""
    return LabelReturn.objects.filter(
        annotator_id=annotator.pk, target_id=target.pk, sentence_id=sentence_id, resolved_at__isnull=True
    ).update(resolved_at=timezone.now(), resolved_label=label)


def returns_of(*, target: Target, sentence_id: int, limit: int) -> list[LabelReturn]:
    """The sentence's newest returns with their annotator and curator: one query."""
    return list(
        LabelReturn.objects.filter(target=target, sentence_id=sentence_id)
        .select_related("annotator", "by")
        .order_by("-id")[:limit]
    )
