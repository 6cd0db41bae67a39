"""The orders a target hands out its OPEN sentences in (rule.py decides which are open).

- random (the default): by the sentences' shuffle key (annotate/shuffle.py), from the
  annotator's shuffle cursor: one fixed shuffle of the corpus, the same for everyone, so
  a sentence's overlap fills before the walk moves on; needs no model; also the
  uncertainty orders' first batch, before any model;
- in order: by article and position, from the annotator's cursor (cursors.py); also what
  the uncertainty orders fall back to for sentences the model has not scored;
- uncertainty: the active version's suggestions, least confident / smallest margin /
  highest entropy first (Target.uncertainty_measure), from the ranked cursor;
- mix: uncertainty, with the next open sentence of the random order's walk `random_share`
  of the time.

Each runs under the target's lock (`*_locked`) and returns a sentence id or None.
"""

from __future__ import annotations

from annotate.models import Target
from annotate.queue import sql, statements
from annotate.queue.cursors import Cursors, move_ranked_cursor_locked

#: Scores beyond any measure's range (probabilities, margins and entropies in bits): the
#: start of a ranking without a ranked cursor.
_BEFORE_ANY_SCORE = 1e300


def reserve_in_order_locked(params: dict[str, object], *, cursors: Cursors) -> int | None:
    """Reserve the first open sentence from the in-order cursor; its id."""
    start_article, start_position = cursors.in_order
    found = sql.fetch(
        statements.RESERVE_FIRST_OPEN,
        {**params, "start_article": start_article, "start_position": start_position},
    )
    return found[0][0] if found else None


def most_uncertain_locked(
    params: dict[str, object], *, annotator_id: int, target: Target, cursors: Cursors
) -> int | None:
    """The most uncertain open sentence by the active version's suggestions.

    Walks the measure's suggestion index from the annotator's ranked cursor and stops at
    the first open sentence, instead of scoring every sentence; the cursor first moves up
    to the first suggestion that is not finished, so the walk never passes the same
    labelled stretch twice.
    """
    measure, version = target.uncertainty_measure, target.active_version_id
    assert version is not None
    descending = statements.UNCERTAINTY_COLUMNS[measure][1]
    score: float = _BEFORE_ANY_SCORE if descending else -_BEFORE_ANY_SCORE
    sentence_id = 0
    same_ranking = (cursors.ranked_version_id, cursors.ranked_measure) == (version, measure)
    if same_ranking and cursors.ranked_score is not None and cursors.ranked_sentence_id is not None:
        score, sentence_id = cursors.ranked_score, cursors.ranked_sentence_id
    start = {"version": version, "score": score, "from_sentence": sentence_id}
    frontier = sql.fetch(statements.RANKED_FRONTIER[measure], {**params, **start})
    if not frontier:
        return None
    score, sentence_id = frontier[0]
    move_ranked_cursor_locked(
        annotator_id=annotator_id,
        target=target,
        version_id=version,
        score=score,
        sentence_id=sentence_id,
    )
    start = {"version": version, "score": score, "from_sentence": sentence_id}
    picked = sql.fetch(statements.RANKED_OPEN[measure], {**params, **start})
    return picked[0][0] if picked else None


def reserve_shuffled_locked(params: dict[str, object], *, cursors: Cursors) -> int | None:
    """Reserve the first open sentence of the random order from the shuffle cursor; its id.

    Under the random order this is a uniform draw among the open sentences that no one has
    reached yet, without walking or sorting anything but the index from the cursor: the
    key is independent of what the sentences say, and everyone walks the same keys.
    """
    start_key, start_sentence = cursors.shuffled
    found = sql.fetch(
        statements.RESERVE_FIRST_OPEN_SHUFFLED,
        {**params, "start_key": start_key, "start_sentence": start_sentence},
    )
    return found[0][0] if found else None
