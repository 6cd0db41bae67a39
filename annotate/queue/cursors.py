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
that disagree), and stored posteriors newly below the target's threshold (many sentences at
once: `reopen_locked`). A change of the target's overlap settings deletes its cursors
(Target.save).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import BigIntegerField, Case, F, OuterRef, Q, Subquery, Value, When

from annotate.models import QueueCursor, Sentence, Suggestion, Target
from annotate.queue import rule, sql, statements
from annotate.shuffle import shuffle_key

#: Sentence ids a rewind of many reads a statement (SQLite takes at most 999 parameters).
REWIND_BATCH = 500


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
    statement = statements.MOVE_SHUFFLE_CURSOR if shuffled else statements.MOVE_CURSOR
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


def _may_ask(*, target: Target, sentence_ids: list[int]) -> list[int]:
    """Of these sentences, the ones whose tally row may ask for one more annotator
    (rule.py's `may_ask`: the overlap of labels, fewer than the most, no gold label)."""
    found: list[int] = []
    for start in range(0, len(sentence_ids), REWIND_BATCH):
        part = sentence_ids[start : start + REWIND_BATCH]
        ids = {f"id{number}": sentence_id for number, sentence_id in enumerate(part)}
        # The one piece built here: the list of ids; the condition is the rule's.
        query = f"""SELECT "tally"."sentence_id" FROM "annotate_sentencetally" "tally"
WHERE "tally"."target_id" = %(target)s AND "tally"."sentence_id" IN ({", ".join(f"%({name})s" for name in ids)})
    AND {rule.may_ask('"tally"')}"""
        found += [row[0] for row in sql.fetch(query, {**rule.overlap_params(target), **ids})]
    return found


def reopen_locked(*, target: Target, sentence_ids: Collection[int]) -> int:
    """Sentences that may have opened again all at once (dynamic overlap: their stored
    posteriors fell below the threshold): every cursor of the target moves back to the
    first of those that may ask for one more annotator in its own order, the in-order
    cursors to the first in queue order and each ranked cursor to the first in its ranking.
    The same as rewinding to each of them, in a bounded number of statements: a batch of
    ids costs a read of their tallies, one for the queue order and one per ranking a cursor
    stands in; then one rewind for each first found. So the cost follows the sentences newly
    below the threshold since the last summary, not the corpus. How many sentences reopened.

    The caller holds the target's lock (step 1 of the one lock order); this is step 3.
    """
    if target.most_labels == target.overlap or not sentence_ids:
        return 0
    reopened = _may_ask(target=target, sentence_ids=sorted(set(sentence_ids)))
    # No cursor, nothing to move back (the first summary after a new threshold, which
    # dropped them, finds many sentences newly below it).
    if not reopened or not QueueCursor.objects.filter(target=target).exists():
        return len(reopened)
    # The rankings the target's cursors stand in (a version, and a measure of it).
    rankings: set[tuple[int, str]] = {
        (version, measure)
        for version, measure in QueueCursor.objects.filter(target=target, ranked_version_id__isnull=False)
        .values_list("ranked_version_id", "ranked_measure")
        .distinct()
        if version is not None and measure in statements.UNCERTAINTY_COLUMNS
    }
    in_order: tuple[int, int, int] | None = None
    ranked: dict[tuple[int, str], tuple[float, int]] = {}
    for start in range(0, len(reopened), REWIND_BATCH):
        part = reopened[start : start + REWIND_BATCH]
        first = (
            Sentence.objects.filter(pk__in=part)
            .order_by("article_id", "position")
            .values_list("article_id", "position", "pk")
            .first()
        )
        if first is not None and (in_order is None or first < in_order):
            in_order = first
        for version, measure in rankings:
            column, descending = statements.UNCERTAINTY_COLUMNS[measure]
            found = (
                Suggestion.objects.filter(model_version_id=version, sentence_id__in=part)
                .order_by(f"-{column}" if descending else column, "sentence_id")
                .values_list(column, "sentence_id")
                .first()
            )
            if found is None:
                continue
            # The ranking's order as a key: high first for a descending measure.
            key = (-found[0] if descending else found[0], found[1])
            if (version, measure) not in ranked or key < ranked[(version, measure)]:
                ranked[(version, measure)] = key
    firsts = {in_order[2]} if in_order is not None else set()
    firsts |= {sentence_id for _, sentence_id in ranked.values()}
    # The random order's first: from the ids alone (annotate/shuffle.py's twin of the key).
    first_shuffled = min(reopened, key=lambda sentence_id: (shuffle_key(sentence_id), sentence_id))
    for sentence in Sentence.objects.filter(pk__in=firsts).only("pk", "article_id", "position"):
        in_order_first = in_order is not None and sentence.pk == in_order[2]
        rewind_cursors_locked(
            target=target, sentence=sentence, first_shuffled=first_shuffled if in_order_first else None
        )
    return len(reopened)
