"""Where each annotator's searches start, so finding the next sentence is bounded.

The in-order cursor (article, position): every sentence before it is FINISHED for the
annotator (rule.py: theirs, or wanting no more stance labels), so the search need not
walk them again. It never passes a sentence that is only held by others' reservations:
they expire without any write. When nothing is unfinished it stands past the last
sentence, so an annotator with nothing left costs two index seeks, not a walk to the end.
The ranked cursor (version, measure, score, sentence) does the same for the uncertainty
orders, and the shuffle cursor (shuffle key, sentence) for the random order's walk
(annotate/shuffle.py; the mix order's random picks walk it too). Every annotator walks the
same shuffle, so a sentence's overlap fills as in article order. Whatever opens a sentence again moves every cursor of its target back to it
(`rewind_cursors_locked`): an undo, a label changed to skip, new sentences, and with dynamic
overlap a change between stance labels or an undone gold label (either may leave labels
that disagree). A change of the target's overlap settings deletes its cursors (Target.save).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import BigIntegerField, Case, F, OuterRef, Q, Subquery, Value, When

from annotate.models import QueueCursor, Sentence, Suggestion, Target
from annotate.queue import sql, statements
from annotate.shuffle import shuffle_key


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
    shuffled: tuple[int, int]  # (shuffle key, sentence id)


def move_cursor_locked(params: dict[str, object], *, shuffled: bool = False) -> Cursors:
    """Move the annotator's in-order cursor up, and their shuffle cursor too when the next
    sentence comes from the random walk (creating their cursors at the start the first time)."""
    statement = statements.MOVE_CURSORS_SHUFFLED if shuffled else statements.MOVE_CURSOR
    moved = sql.fetch(statement, params)
    if not moved:
        sql.fetch(statements.CREATE_CURSOR, params)
        moved = sql.fetch(statement, params)
    article_id, position, reserved, done, paused, returned, *ranked, key, sentence_id = moved[0]
    version_id, measure, score, ranked_sentence_id = ranked
    return Cursors(
        (article_id, position),
        reserved,
        done,
        bool(paused),
        returned,
        version_id,
        measure,
        score,
        ranked_sentence_id,
        (key, sentence_id),
    )


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


def _back(past: Q, value: int, column: str) -> Case:
    """The column set to `value` where the cursor is `past` the sentence, else kept."""
    return Case(When(past, then=Value(value)), default=F(column), output_field=BigIntegerField())


def rewind_cursors_locked(*, target: Target, sentence: Sentence, first_shuffled: int | None = None) -> None:
    """A sentence lost a label (undo, relabel to skip), was added, or (dynamic overlap) may
    disagree anew: searches must see it again.

    New sentences pass the first of them in article order as `sentence` and the id of the
    first in the random order as `first_shuffled` (the same sentence otherwise). The caller
    holds the target's lock, so no search moves a cursor past the sentence meanwhile.
    """
    # The key from the id (annotate/shuffle.py's twin of the column): no read of the sentence.
    shuffled_id = sentence.pk if first_shuffled is None else first_shuffled
    key = shuffle_key(shuffled_id)
    past_in_order = Q(article_id__gt=sentence.article_id) | Q(
        article_id=sentence.article_id, position__gt=sentence.position
    )
    past_shuffled = Q(shuffle_key__gt=key) | Q(shuffle_key=key, shuffle_sentence_id__gt=shuffled_id)
    # One UPDATE for both: each cursor moves back only where it has passed the sentence.
    QueueCursor.objects.filter(past_in_order | past_shuffled, target=target).update(
        article_id=_back(past_in_order, sentence.article_id, "article_id"),
        position=_back(past_in_order, sentence.position, "position"),
        shuffle_key=_back(past_shuffled, key, "shuffle_key"),
        shuffle_sentence_id=_back(past_shuffled, shuffled_id, "shuffle_sentence_id"),
    )
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
