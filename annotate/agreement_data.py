"""Agreement figures of a target, from counts the database aggregates (GROUP BY).

Evaluation items are left out (NOT_EVALUATION). Three aggregate queries, however many labels: the sentence tallies grouped by their label
counts (annotate.models.SentenceTally, kept by triggers), each pair of annotators' labels
on shared sentences grouped by label pair and by the sentence's label counts, and who
labelled what. The pairs' rows also give, per annotator, their labels by the count pattern
of the sentence they are on (each sentence with m labels appears in m - 1 of an
annotator's pairs), which is what alpha with that annotator left out needs. Each is split by a key
(the source, or the article) and by whether the suggestion was on screen, so one pass
gives the figures overall, per source and with and without a suggestion.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db import connection

from annotate.agreement import TakenOut, figures_from_counts, reliability_from_counts
from annotate.agreement_figures import Contingency, Figures, Reliability
from annotate.models import STANCE_LABELS, Target

#: How the figures are split: by nothing, by the article's source, or by article.
KEYS = {"all": "''", "source": '"a"."source"', "article": '"s"."article_id"'}
#: The vote sets: every non-skipped label, those given with a suggestion on screen, without.
SCOPES = ("all", "with suggestion", "without suggestion")

UNITS_SQL = """
SELECT {key}, "t"."pro", "t"."contra", "t"."neutral",
       "t"."pro_shown", "t"."contra_shown", "t"."neutral_shown", COUNT(*)
FROM "annotate_sentencetally" "t"
JOIN "annotate_sentence" "s" ON "s"."id" = "t"."sentence_id"
JOIN "annotate_article" "a" ON "a"."id" = "s"."article_id"
WHERE "t"."target_id" = %(target)s AND "t"."votes" > 0 {articles}
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""

PAIRS_SQL = """
SELECT {key}, "x"."annotator_id", "y"."annotator_id", "x"."label", "y"."label",
       "x"."suggestion_shown", "y"."suggestion_shown", "t"."pro", "t"."contra", "t"."neutral",
       COUNT(*)
FROM "annotate_annotation" "x"
JOIN "annotate_annotation" "y" ON "y"."target_id" = "x"."target_id"
     AND "y"."sentence_id" = "x"."sentence_id" AND "y"."annotator_id" > "x"."annotator_id"
JOIN "annotate_sentence" "s" ON "s"."id" = "x"."sentence_id"
JOIN "annotate_article" "a" ON "a"."id" = "s"."article_id"
JOIN "annotate_sentencetally" "t" ON "t"."target_id" = "x"."target_id"
     AND "t"."sentence_id" = "x"."sentence_id"
WHERE "x"."target_id" = %(target)s AND "x"."label" <> 'skip' AND "y"."label" <> 'skip' {articles}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
"""

ANNOTATORS_SQL = """
SELECT {key}, "x"."annotator_id", "x"."suggestion_shown"
FROM "annotate_annotation" "x"
JOIN "annotate_sentence" "s" ON "s"."id" = "x"."sentence_id"
JOIN "annotate_article" "a" ON "a"."id" = "s"."article_id"
WHERE "x"."target_id" = %(target)s AND "x"."label" <> 'skip' {articles}
GROUP BY 1, 2, 3
"""


@dataclass
class _Counts:
    """One key's counts, for each scope."""

    units: dict[str, Counter[tuple[int, int, int]]] = field(
        default_factory=lambda: {scope: Counter() for scope in SCOPES}
    )
    pairs: dict[str, Contingency] = field(default_factory=lambda: {scope: {} for scope in SCOPES})
    annotators: dict[str, set[int]] = field(default_factory=lambda: {scope: set() for scope in SCOPES})
    # Per annotator, (sentence's counts, label column) -> sentences times (m - 1), "all" scope.
    paired: dict[int, Counter[tuple[tuple[int, ...], int]]] = field(
        default_factory=lambda: defaultdict(Counter)
    )

    def reliability(self) -> Reliability:
        """Alpha per label and with each annotator left out, over every label."""
        taken_out: TakenOut = {
            annotator: Counter({(c, column): n // (sum(c) - 1) for (c, column), n in counts.items()})
            for annotator, counts in self.paired.items()
        }
        units: Counter[tuple[int, ...]] = Counter(self.units["all"])
        return reliability_from_counts(units, taken_out, categories=list(STANCE_LABELS))

    def figures(self, scope: str, *, overlap: int, replicates: int | None = None) -> Figures:
        rows = [(counts, n) for counts, n in self.units[scope].items() if sum(counts)]
        table = np.array([counts for counts, _ in rows], dtype=float).reshape(len(rows), 3)
        weights = np.array([n for _, n in rows], dtype=float)
        return figures_from_counts(
            table,
            weights,
            contingency=self.pairs[scope],
            annotators=len(self.annotators[scope]),
            overlap=overlap,
            **({} if replicates is None else {"replicates": replicates}),
        )


#: Evaluation items are left out of every agreement figure: every annotator labels them, so
#: they would weigh a few hard, settled sentences as many times as there are annotators;
#: they are scored as accuracy against gold instead (annotate/evaluation.py). One seek of
#: the items' unique (target, sentence) index a sentence.
NOT_EVALUATION = """AND NOT EXISTS (SELECT 1 FROM "annotate_evaluationitem" "ev"
     WHERE "ev"."target_id" = %(target)s AND "ev"."sentence_id" = "s"."id")"""


def _rows(template: str, *, target: Target, key: str, articles: Iterable[int] | None) -> list[tuple]:
    params: dict[str, int] = {"target": target.pk}
    condition = NOT_EVALUATION
    if articles is not None:
        ids = sorted(set(articles))
        if not ids:
            return []
        names = [f"a{i}" for i in range(len(ids))]
        params.update(zip(names, ids, strict=True))
        condition += ' AND "s"."article_id" IN (' + ", ".join(f"%({n})s" for n in names) + ")"
    with connection.cursor() as cursor:
        cursor.execute(template.format(key=KEYS[key], articles=condition), params)
        return cursor.fetchall()


def counts_by(*, target: Target, key: str, articles: Iterable[int] | None = None) -> dict[str | int, _Counts]:
    """Every key's count tables (three queries); `articles` narrows them to those articles."""
    articles = None if articles is None else list(articles)
    found: dict[str | int, _Counts] = defaultdict(_Counts)
    for value, pro, contra, neutral, pro_s, contra_s, neutral_s, n in _rows(
        UNITS_SQL, target=target, key=key, articles=articles
    ):
        units = found[value].units
        units["all"][pro, contra, neutral] += n
        units["with suggestion"][pro_s, contra_s, neutral_s] += n
        units["without suggestion"][pro - pro_s, contra - contra_s, neutral - neutral_s] += n
    column = {label: i for i, label in enumerate(STANCE_LABELS)}
    for value, a, b, left, right, left_shown, right_shown, pro, contra, neutral, n in _rows(
        PAIRS_SQL, target=target, key=key, articles=articles
    ):
        pattern = (pro, contra, neutral)
        found[value].paired[a][pattern, column[left]] += n
        found[value].paired[b][pattern, column[right]] += n
        scopes = ["all"]
        if left_shown and right_shown:
            scopes.append("with suggestion")
        elif not left_shown and not right_shown:
            scopes.append("without suggestion")
        for scope in scopes:
            found[value].pairs[scope].setdefault((a, b), Counter())[left, right] += n
    for value, annotator, shown in _rows(ANNOTATORS_SQL, target=target, key=key, articles=articles):
        found[value].annotators["all"].add(annotator)
        found[value].annotators["with suggestion" if shown else "without suggestion"].add(annotator)
    return dict(found)


def merged(parts: Iterable[_Counts]) -> _Counts:
    """The counts of several keys together (sources into the whole target)."""
    total = _Counts()
    for part in parts:
        for scope in SCOPES:
            total.units[scope].update(part.units[scope])
            total.annotators[scope] |= part.annotators[scope]
            for pair, counts in part.pairs[scope].items():
                total.pairs[scope].setdefault(pair, Counter()).update(counts)
        for annotator, patterns in part.paired.items():
            total.paired[annotator].update(patterns)
    return total


@dataclass(frozen=True)
class AgreementSet:
    """A target's figures overall, per source and with and without a suggestion on screen."""

    overall: Figures
    by_source: dict[str, Figures]
    by_suggestion: dict[str, Figures]
    reliability: Reliability


def agreement_set(*, target: Target) -> AgreementSet:
    """Every agreement figure the dashboard, the API and the card show, in three queries."""
    by_source = counts_by(target=target, key="source")
    total = merged(by_source.values())
    overlap = target.overlap
    return AgreementSet(
        overall=total.figures("all", overlap=overlap),
        by_source={
            str(source): counts.figures("all", overlap=overlap)
            for source, counts in sorted(by_source.items())
        },
        by_suggestion={
            scope: total.figures(scope, overlap=overlap)
            for scope in ("with suggestion", "without suggestion")
        },
        reliability=total.reliability(),
    )


def agreement_by_article(*, target: Target, articles: Iterable[int]) -> dict[int, Figures]:
    """The figures of each of these articles (a page of them: the cost follows the page),
    without alpha's interval (a page of a hundred would be a hundred bootstraps)."""
    found = counts_by(target=target, key="article", articles=articles)
    return {
        int(article): counts.figures("all", overlap=target.overlap, replicates=0)
        for article, counts in sorted(found.items())
    }
