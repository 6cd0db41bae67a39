"""Which sentence is open to an annotator: the one rule of the queue, written once.

For one target, a sentence is

- MINE when the annotator has labelled or skipped it (their current annotation);
- WANTING a number of stance labels more: the target's overlap less its stance labels so
  far (everyone's, skips do not count), or, with the target's dynamic overlap on, one while
  it is DISAGREED: at least the overlap of labels, fewer than the target's most
  (`Target.most_labels`: max_overlap, or overlap + 1), no curator's gold label, and labels
  that are not unanimous or (with the target's posterior threshold set) a stored
  Dawid-Skene posterior below the threshold, computed on as many stance labels as the
  sentence has now (SentencePosterior, as the last summary wrote it: annotate/review.py
  keeps every one below it, with the count of labels it was computed on). So agreed,
  confident sentences stop at the overlap, a disagreement asks for one more annotator at a
  time, up to the most, and a low posterior asks for one more once per computation: the
  label it brings moves the count, and the posterior, which no longer describes the
  labels, asks again only once the next summary has recomputed it on them. Counted from
  the sentence's tally row, not from its labels;
- TAKEN by the other annotators' live reservations (a shown sentence is held for
  ASSIGNMENT_TIMEOUT), each one a label to come;
- OPEN to the annotator when it is not mine and taken fewer times than it wants more
  labels: the sentence every order (random, in order, uncertainty, mix) may hand out;
- UNFINISHED when it is not mine and it wants more labels. It leaves reservations out on
  purpose: they expire without any write, so a search cursor may pass only what is finished
  and never a sentence that is merely held;
- with ROOM for a stance label when the annotator holds its live reservation (it was
  counted when handed out), it is an evaluation item, or it is taken fewer times than it
  wants more labels. A label that adds one to the count (a first stance label, a skip
  changed to one) must pass it; a relabel between stance labels changes no count;
- FULL (for a label import's check before it writes) when its labels alone leave it
  wanting none;
- an EVALUATION item when a curator marked it (settled, annotate/evaluation_items.py). It
  needs no more labels, so it is never OPEN or UNFINISHED: the random, in-order,
  uncertainty and mix orders never hand it out, and cursors pass it. Only the evaluation mix does
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


def split_vote(tally: str) -> str:
    """The tally row's stance labels are not unanimous."""
    return (
        f'{tally}."pro" < {tally}."votes" AND {tally}."contra" < {tally}."votes"'
        f' AND {tally}."neutral" < {tally}."votes"'
    )


def posterior_current(post: str, tally: str) -> str:
    """The stored posterior row `post` was computed on as many stance labels as the tally
    row `tally` counts now (both count a target's pro, contra and neutral labels, everyone's,
    evaluation items' too, skips never; see annotate/summary.py's posteriors_of). The two
    must be equal: a label added or removed since the summary (an undo, a skip made a
    label) leaves the posterior one of other labels, and such a one never asks. A relabel from one
    stance to another keeps the count: its posterior still asks, for the one label that
    then moves the count."""
    return f'{post}."votes" = {tally}."votes"'


def low_posterior(tally: str) -> str:
    """The stored Dawid-Skene posterior of the tally row's sentence is below the target's
    threshold and was computed on the labels the row counts now (`posterior_current`): one
    seek of the posteriors' unique (target, sentence) index, the count a test of the row it
    finds. The posterior is read as `+"post"."posterior"` so no planner walks the (target,
    posterior) index's whole range below the threshold for each sentence instead.
    %(threshold)s is 0 when the target has none, and the test before the seek then skips
    it: no threshold costs nothing."""
    return f"""%(threshold)s > 0 AND EXISTS (SELECT 1 FROM "annotate_sentenceposterior" "post"
            WHERE "post"."target_id" = %(target)s AND "post"."sentence_id" = {tally}."sentence_id"
            AND +"post"."posterior" < %(threshold)s AND {posterior_current('"post"', tally)})"""


def may_ask(tally: str) -> str:
    """The tally row `tally` (an alias of annotate_sentencetally) has at least the overlap of
    stance labels, fewer than the most the target allows (%(most)s: the overlap itself
    without dynamic overlap, so then never) and no curator's gold label."""
    return f'{tally}."votes" >= %(overlap)s AND {tally}."votes" < %(most)s AND {tally}."adjudicated" = \'\''


def needs_more(tally: str) -> str:
    """DISAGREED: the tally row may ask (`may_ask`) and its labels are not unanimous or its
    sentence's posterior, computed on these labels, is below the threshold: the sentence
    asks for one more annotator."""
    return f"{may_ask(tally)}\n        AND ({split_vote(tally)}\n        OR {low_posterior(tally)})"


def wanted(sentence: str) -> str:
    """How many more stance labels the sentence wants, everyone's counted (the annotator has
    none when it is not theirs; on the room test their own stance label never gets there):
    one while DISAGREED, else the overlap less its labels (zero or below: it has them all).
    One seek of the sentence's tally row (annotate/tally_sql.py keeps it with every label);
    a sentence without one has no label yet."""
    return f"""COALESCE((SELECT CASE WHEN {needs_more('"tally"')} THEN 1
        ELSE %(overlap)s - "tally"."votes" END
        FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s
        AND "tally"."sentence_id" = {sentence}), %(overlap)s)"""


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
    """OPEN: not mine, held by others fewer times than it wants more labels, and not an
    evaluation item."""
    return (
        f"NOT {mine(sentence)}\n    AND {held(sentence)} < {wanted(sentence)}"
        f"\n    AND NOT {evaluation_item(sentence)}"
    )


def unfinished(sentence: str) -> str:
    """UNFINISHED: not mine, wanting more stance labels, and not an evaluation item."""
    return f"NOT {mine(sentence)}\n    AND {wanted(sentence)} > 0\n    AND NOT {evaluation_item(sentence)}"


def room(sentence: str) -> str:
    """ROOM: the annotator holds it, it is an evaluation item, or others hold it fewer
    times than it wants more labels."""
    return (
        f"({own_reservation(sentence)}\n    OR {evaluation_item(sentence)}"
        f"\n    OR {held(sentence)} < {wanted(sentence)})"
    )


def full_of_labels(sentence: str) -> str:
    """FULL: its stance labels alone leave it wanting none (reservations aside): what a
    label import checks before it writes anything (annotate/label_import.py)."""
    return f"{wanted(sentence)} <= 0"


def overlap_params(target: Target) -> dict[str, object]:
    """The parameters of WANTING (and DISAGREED): the target, its overlap, its most, and its
    posterior threshold (0 without one: `low_posterior` then never seeks)."""
    return {
        "target": target.pk,
        "overlap": target.overlap,
        "most": target.most_labels,
        "threshold": target.posterior_threshold or 0.0,
    }


def rule_params(*, annotator: User, target: Target, now: datetime.datetime) -> dict[str, object]:
    """The parameters the rule's conditions read (a statement may add its own beside them)."""
    return {
        **overlap_params(target),
        "annotator": annotator.pk,
        "skip": Label.SKIP,
        "now": sql.moment(now),
        "expires": sql.moment(now + ASSIGNMENT_TIMEOUT),
    }
