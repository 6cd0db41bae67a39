"""Where each annotator's searches start, so finding the next sentence is bounded.

The in-order cursor (article, position): every sentence before it is FINISHED for the
annotator (rule.py: theirs, or wanting no more stance labels), so the search need not
walk them again. It never passes a sentence that is only held by others' reservations:
they expire without any write. When nothing is unfinished it stands past the last
sentence, so an annotator with nothing left costs two index seeks, not a walk to the end.
The ranked cursor (version, measure, score, sentence) does the same for the uncertainty
orders. Whatever opens a sentence again moves every cursor of its target back to it
(`rewind_cursors_locked`): an undo, a label changed to skip, new sentences, and with dynamic
overlap a change between stance labels or an undone gold label (either may leave labels
that disagree). A change of the target's overlap settings deletes its cursors (Target.save).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, OuterRef, Q, Subquery

from annotate.models import QueueCursor, Sentence, Suggestion, Target
from annotate.queue import sql, statements


@dataclass(frozen=True)
class Cursors:
    """The annotator's cursors after moving up, their live reservation, their labels and
    skips so far, whether their queue is paused, and their oldest open returned label."""

    in_order: tuple[int, int]
    reserved: int | None
    done: int
    paused: bool
    returned: int | None  # the sentence of their oldest open returned label
    ranked_version_id: int | None
    ranked_measure: str
    ranked_score: float | None
    ranked_sentence_id: int | None


def move_cursor_locked(params: dict[str, object]) -> Cursors:
    """Move the annotator's in-order cursor up (creating it at the start the first time)."""
    moved = sql.fetch(statements.MOVE_CURSOR, params)
    if not moved:
        sql.fetch(statements.CREATE_CURSOR, params)
        moved = sql.fetch(statements.MOVE_CURSOR, params)
    article_id, position, reserved, done, paused, returned, *ranked = moved[0]
    return Cursors((article_id, position), reserved, done, bool(paused), returned, *ranked)


def move_ranked_cursor_locked(
    *, annotator_id: int, target: Target, version_id: int, score: float, sentence_id: int
) -> None:
    """The ranked cursor moves up to the first unfinished suggestion (orders.py)."""
    QueueCursor.objects.filter(annotator_id=annotator_id, target=target).update(
        ranked_version_id=version_id,
        ranked_measure=target.uncertainty_measure,
        ranked_score=score,
        ranked_sentence_id=sentence_id,
    )


def rewind_cursors_locked(*, target: Target, sentence: Sentence) -> None:
    """A sentence lost a label (undo, relabel to skip), was added, or (dynamic overlap) may
    disagree anew: searches must see it again.

    The caller holds the target's lock, so no search moves a cursor past the sentence meanwhile.
    """
    QueueCursor.objects.filter(target=target).filter(
        Q(article_id__gt=sentence.article_id)
        | Q(article_id=sentence.article_id, position__gt=sentence.position)
    ).update(article_id=sentence.article_id, position=sentence.position)
    for measure, (column, descending) in statements.UNCERTAINTY_COLUMNS.items():
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
