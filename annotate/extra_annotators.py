"""Dynamic overlap's figure for the dashboard: the sentences that asked for an extra annotator.

A sentence asks (annotate/queue/rule.py's DISAGREED) when its overlap of labels disagree,
or agree with a stored posterior below the target's threshold computed on them; it gets one more annotator
at a time, up to the target's most. Counted in one statement, each count a range of an
index: the sentences given more labels than the overlap a range of `tally_votes`, the ones
asking now a part of the open disagreements (the partial index `tally_open_disagreements`,
the adjudication queue's) and of the stored posteriors below the threshold
(`posterior_lowest`), so the cost follows those sentences, never the corpus.

Those ranges still grow with the project (a sixth and a tenth of the sentences at
1,000,000 labels in benchmarks/pages.py: 0.2 s on PostgreSQL), so the dashboard reads the
figure from the target's summary, which counts it after storing the posteriors it rests
on, and counts it live only when there is no summary for the target's current settings
(overlap, most, threshold). A figure from the summary says when it was counted."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from annotate.models import Target
from annotate.queue import rule, sql

if TYPE_CHECKING:
    from annotate.summary import Summary

_TALLY = 'FROM "annotate_sentencetally" "tally" WHERE "tally"."target_id" = %(target)s'
#: The rule's tally is read as `+"tally"` columns: a range of `tally_votes` from the overlap
#: would hold nearly every sentence, and a unary plus keeps SQLite's planner off it.
_MAY_ASK = rule.may_ask('"tally"').replace('"tally"."votes"', '+"tally"."votes"')
#: DISAGREED by split labels: the open disagreements' partial index condition, restated so
#: the planner uses it. It is the rule's split vote itself: with two stance labels or more
#: (the overlap at least), an agreement below 1 is labels that are not unanimous, and with
#: fewer the agreement is NULL; so the index's columns answer it, without the tally's row
#: (its label counts), a quarter of the time (benchmarks/pages.py at 1,000,000 labels).
_SPLIT = f"""{_TALLY} AND "tally"."agreement" < 1.0 AND "tally"."adjudicated" = ''
    AND {_MAY_ASK}"""


#: The posterior was computed on the tally's labels as they are now (the rule's test).
_CURRENT = rule.posterior_current('"post"', '"tally"').replace('"tally"."votes"', '+"tally"."votes"')


#: DISAGREED by a low posterior alone (unanimous labels): a range of the stored posteriors'
#: index below the threshold (empty without one: the threshold is then 0), each with one
#: seek of its tally row, which gives its stance labels when it asks (NULL when not), so
#: the count at the overlap needs no second seek. A scalar subquery, not a join: no
#: planner turns it into a read of every tally row of the target.
_LOW = f"""FROM (SELECT (SELECT +"tally"."votes" FROM "annotate_sentencetally" "tally"
        WHERE "tally"."target_id" = %(target)s AND "tally"."sentence_id" = "post"."sentence_id"
        AND {_MAY_ASK} AND NOT ({rule.split_vote('"tally"')}) AND {_CURRENT}) AS "votes"
    FROM "annotate_sentenceposterior" "post"
    WHERE "post"."target_id" = %(target)s AND "post"."posterior" < %(threshold)s) AS "asking"
WHERE "asking"."votes" IS NOT NULL"""
_AT_OVERLAP = '+"tally"."votes" = %(overlap)s'

#: Sentences with more stance labels than the overlap; sentences asking for one more now
#: (split, then unanimous with a low posterior); of them, those still at the overlap
#: (asking for their first extra annotator). Evaluation items are left out of the first:
#: the evaluation mix hands them to anyone, with no overlap cap (settled, they never ask).
#: Each range is read once, both of its counts at a time: at 1,000,000 labels the open
#: disagreements are a sixth of the sentences and the low posteriors a tenth, and reading
#: each twice took 0.33 s of the dashboard on SQLite (benchmarks/pages.py).
EXTRA_ANNOTATORS = f"""SELECT
    (SELECT COUNT(*) {_TALLY} AND "tally"."votes" > %(overlap)s
        AND NOT {rule.evaluation_item('"tally"."sentence_id"')}),
    "split"."waiting" + "low"."waiting",
    "split"."first" + "low"."first"
FROM (SELECT COUNT(*) AS "waiting", COALESCE(SUM(CASE WHEN {_AT_OVERLAP} THEN 1 ELSE 0 END), 0) AS "first"
        {_SPLIT}) AS "split",
    (SELECT COUNT(*) AS "waiting", COALESCE(SUM(CASE WHEN "asking"."votes" = %(overlap)s THEN 1 ELSE 0 END), 0)
        AS "first" {_LOW}) AS "low"
"""


@dataclass(frozen=True)
class ExtraAnnotators:
    given: int  # sentences with more stance labels than the overlap (evaluation items aside)
    waiting: int  # sentences asking for one more annotator now
    waiting_first: int  # of them, those at the overlap (no extra annotator yet)
    counted_at: datetime.datetime | None = None  # the summary's time; None: counted now

    @property
    def asked(self) -> int:
        """Sentences that asked for an extra annotator: given one, or waiting for their first."""
        return self.given + self.waiting_first


def extra_annotators(*, target: Target) -> ExtraAnnotators | None:
    """The target's figure counted now, in one query; None (and no query) without dynamic
    overlap."""
    if target.most_labels == target.overlap:
        return None
    params = rule.overlap_params(target)
    given, waiting, first = sql.fetch(EXTRA_ANNOTATORS, params)[0]
    return ExtraAnnotators(given=given, waiting=waiting, waiting_first=first)


def _settings(target: Target) -> dict[str, Any]:
    params = rule.overlap_params(target)
    return {key: params[key] for key in ("overlap", "most", "threshold")}


def stored_figure(*, target: Target) -> dict[str, Any] | None:
    """The figure as the summary stores it, with the settings it was counted under."""
    found = extra_annotators(target=target)
    if found is None:
        return None
    return {
        "settings": _settings(target),
        "given": found.given,
        "waiting": found.waiting,
        "waiting_first": found.waiting_first,
    }


def dashboard_figure(*, target: Target, summary: Summary | None) -> ExtraAnnotators | None:
    """The summary's figure when it was counted under the target's settings as they are
    now, with the summary's time; else counted now (one query)."""
    if target.most_labels == target.overlap:
        return None
    stored = None if summary is None else summary.extra_annotators
    if summary is not None and stored is not None and stored["settings"] == _settings(target):
        return ExtraAnnotators(
            given=stored["given"],
            waiting=stored["waiting"],
            waiting_first=stored["waiting_first"],
            counted_at=summary.computed_at,
        )
    return extra_annotators(target=target)
