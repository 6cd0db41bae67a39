"""Which sentence is open to an annotator: the one rule of the queue, written once.

For one target, a sentence is

- MINE when the annotator has labelled or skipped it (their current annotation);
- TAKEN by the other annotators' stance labels (skips do not count) plus the other
  annotators' live reservations (a shown sentence is held for ASSIGNMENT_TIMEOUT);
- OPEN to the annotator when it is not mine and fewer than the target's overlap have taken
  it: the sentence every order (in order, uncertainty, mix) may hand out;
- UNFINISHED when it is not mine and fewer than the overlap have stance-labelled it. It
  leaves reservations out on purpose: they expire without any write, so a search cursor
  may pass only what is finished and never a sentence that is merely held;
- with ROOM for a stance label when the annotator holds its live reservation (it was
  counted when handed out), it is an evaluation item, or it is taken fewer than the overlap
  times. A label that adds one to the count (a first stance label, a skip changed to one)
  must pass it; a relabel between stance labels changes no count.
- an EVALUATION item when a curator marked it (settled, annotate/evaluation_items.py). It
  needs no more labels, so it is never OPEN or UNFINISHED: the in-order, uncertainty and
  mix orders never hand it out, and cursors pass it. Only the evaluation mix does
  (annotate/queue/evaluation.py), to anyone for whom it is not MINE, with no overlap cap;
  its labels therefore never count toward any sentence's overlap while it is marked.

Each is a SQL condition on a sentence id (a column such as `"sentence"."id"` or a
parameter), with the parameters of `rule_params`. statements.py builds every queue
statement from them, so the rule can change here only.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.models import User

from annotate.models import Label, Target
from annotate.queue import sql

#: How long a shown sentence stays reserved for its annotator.
ASSIGNMENT_TIMEOUT = datetime.timedelta(seconds=getattr(settings, "ASSIGNMENT_TIMEOUT_SECONDS", 600))


def mine(sentence: str) -> str:
    """The annotator has labelled or skipped the sentence."""
    return f"""EXISTS (SELECT 1 FROM "annotate_annotation" "mine" WHERE "mine"."sentence_id" = {sentence}
        AND "mine"."target_id" = %(target)s AND "mine"."annotator_id" = %(annotator)s)"""


def labels(sentence: str) -> str:
    """The sentence's stance labels for the target, everyone's (the annotator has none when
    it is not theirs; on the room test their own stance label never gets there)."""
    return f"""(SELECT COUNT(*) FROM "annotate_annotation" "label" WHERE "label"."sentence_id" = {sentence}
        AND "label"."target_id" = %(target)s AND "label"."label" <> %(skip)s)"""


def held(sentence: str) -> str:
    """The other annotators' live reservations of the sentence."""
    return f"""(SELECT COUNT(*) FROM "annotate_assignment" "held" WHERE "held"."sentence_id" = {sentence}
        AND "held"."target_id" = %(target)s AND "held"."expires_at" > %(now)s
        AND "held"."annotator_id" <> %(annotator)s)"""


def own_reservation(sentence: str) -> str:
    """The annotator holds the sentence's live reservation."""
    return f"""EXISTS (SELECT 1 FROM "annotate_assignment" "own" WHERE "own"."annotator_id" = %(annotator)s
        AND "own"."target_id" = %(target)s AND "own"."sentence_id" = {sentence}
        AND "own"."expires_at" > %(now)s)"""


def evaluation_item(sentence: str) -> str:
    """EVALUATION: one of the target's evaluation items (one seek of its unique index)."""
    return f"""EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev" WHERE "ev"."target_id" = %(target)s
        AND "ev"."sentence_id" = {sentence})"""


# The evaluation test comes last in OPEN and UNFINISHED: a search rejects most sentences
# it passes by the first two, so it costs one more seek a search, not one a sentence.


def open_to(sentence: str) -> str:
    """OPEN: not mine, taken fewer than the overlap times, and not an evaluation item."""
    return (
        f"NOT {mine(sentence)}\n    AND {labels(sentence)} + {held(sentence)} < %(overlap)s"
        f"\n    AND NOT {evaluation_item(sentence)}"
    )


def unfinished(sentence: str) -> str:
    """UNFINISHED: not mine, stance-labelled fewer than the overlap times, and not an
    evaluation item."""
    return (
        f"NOT {mine(sentence)}\n    AND {labels(sentence)} < %(overlap)s"
        f"\n    AND NOT {evaluation_item(sentence)}"
    )


def room(sentence: str) -> str:
    """ROOM: the annotator holds it, it is an evaluation item, or it is taken fewer than
    the overlap times."""
    return (
        f"({own_reservation(sentence)}\n    OR {evaluation_item(sentence)}"
        f"\n    OR {labels(sentence)} + {held(sentence)} < %(overlap)s)"
    )


def rule_params(*, annotator: User, target: Target, now: datetime.datetime) -> dict[str, object]:
    """The parameters the rule's conditions read (a statement may add its own beside them)."""
    return {
        "annotator": annotator.pk,
        "target": target.pk,
        "skip": Label.SKIP,
        "overlap": target.overlap,
        "now": sql.moment(now),
        "expires": sql.moment(now + ASSIGNMENT_TIMEOUT),
    }
