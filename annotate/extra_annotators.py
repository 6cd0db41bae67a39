"""Dynamic overlap's figure for the dashboard: the sentences that asked for an extra annotator.

A sentence asks (annotate/queue/rule.py's DISAGREED) when its overlap of labels disagree;
it gets one more annotator at a time, up to the target's most. Counted from the tally
rows in one statement, each count a range of an index: the sentences given more labels
than the overlap a range of `tally_votes`, the ones asking now a part of the open
disagreements (the partial index `tally_open_disagreements`, the adjudication queue's), so
the cost follows those sentences, never the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotate.models import Target
from annotate.queue import rule, sql

_TALLY = 'FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s'
#: The open disagreements' partial index condition, restated so the planner uses it
#: (DISAGREED implies it: labels that are not unanimous and no gold label). The rule's
#: tally is read as `+"tally"` columns: a range of `tally_votes` from the overlap would
#: hold nearly every sentence, and a unary plus keeps SQLite's planner off it.
_OPEN = f"""{_TALLY} AND "tally"."agreement" < 1.0 AND "tally"."adjudicated" = ''
    AND {rule.needs_more('"tally"').replace('"tally"."votes"', '+"tally"."votes"')}"""

#: Sentences with more stance labels than the overlap; sentences asking for one more now;
#: of them, those still at the overlap (asking for their first extra annotator).
#: Evaluation items are left out of the first: the evaluation mix hands them to anyone,
#: with no overlap cap (settled, they never ask).
EXTRA_ANNOTATORS = f"""SELECT
    (SELECT COUNT(*) {_TALLY} AND "tally"."votes" > %(overlap)s
        AND NOT {rule.evaluation_item('"tally"."sentence_id"')}),
    (SELECT COUNT(*) {_OPEN}),
    (SELECT COUNT(*) {_OPEN} AND +"tally"."votes" = %(overlap)s)"""


@dataclass(frozen=True)
class ExtraAnnotators:
    given: int  # sentences with more stance labels than the overlap (evaluation items aside)
    waiting: int  # sentences asking for one more annotator now
    waiting_first: int  # of them, those at the overlap (no extra annotator yet)

    @property
    def asked(self) -> int:
        """Sentences that asked for an extra annotator: given one, or waiting for their first."""
        return self.given + self.waiting_first


def extra_annotators(*, target: Target) -> ExtraAnnotators | None:
    """The target's figure, in one query; None (and no query) without dynamic overlap."""
    if target.most_labels == target.overlap:
        return None
    params = {"target": target.pk, "overlap": target.overlap, "most": target.most_labels}
    given, waiting, first = sql.fetch(EXTRA_ANNOTATORS, params)[0]
    return ExtraAnnotators(given=given, waiting=waiting, waiting_first=first)
