"""Annotators against the evaluation items: accuracy, kappa, confusion, speed, flags, pauses.

An annotator's ANSWERS are their labels on the target's evaluation items given after the
item was marked (annotate/evaluation_items.py): labels given before were part of what the
curator settled, so they would test the annotator against themselves. A skip is an answer
left out of the accuracy (counted apart). Accuracy has a Wilson 95 % interval; Cohen's
kappa against the gold labels is computed from the same confusion counts as the agreement
figures' (annotate.agreement.kappa_from_contingency).

An annotator is FLAGGED when, counting only answers given since a curator last lifted a
flag or pause, they have at least `Target.evaluation_min_items` answers and their accuracy
on them is below `Target.evaluation_threshold`. With `Target.evaluation_pause` on, an
answer from the queue that flags them pauses their queue (annotate/queue/loop.py) until a
curator lifts it (`evaluation_lift`); lifting starts the count afresh.

Speed: the median seconds a label and the labels faster than `Target.min_label_ms`, over
every label and skip with a recorded time. Both read every label, so they come from the
target's summary (annotate/summary.py, computed in the background at scale); the fast
counts are counted now, in one query, while the summary rests on another minimum. An
annotator is flagged as too fast when their median is below the minimum (half their
labels or more are too fast).

The answers are counted by database triggers into AnswerTally rows (annotate/answer_tally.py,
a few rows an annotator), so everything here is a fixed number of queries, whatever the
number of labels or annotators, and none reads every answer.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone

from annotate.models import (
    STANCE_LABELS,
    Annotation,
    AnnotatorTally,
    AnswerTally,
    EvaluationPause,
    Label,
    Target,
)
from annotate.queue import sql
from annotate.queue.locks import lock_target

if TYPE_CHECKING:
    from annotate.summary import Summary

#: The normal quantile of a two-sided 95 % interval.
Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (Wilson 1927); None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def kappa_against_gold(confusion: dict[str, dict[str, int]]) -> float | None:
    """Cohen's kappa of an annotator's answers against the gold labels (gold -> given ->
    count): 1.0 when every answer is right, None when undefined or on one answer."""
    # numpy, imported where figures are computed (the agreement maths).
    from annotate.agreement import kappa_from_contingency

    counts = {(given, gold): n for gold, row in confusion.items() for given, n in row.items() if n}
    return kappa_from_contingency(counts) if counts else None


@dataclass
class Answers:
    """One annotator's answers to the evaluation items."""

    confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {gold: dict.fromkeys(STANCE_LABELS, 0) for gold in STANCE_LABELS}
    )
    skipped: int = 0
    recent: int = 0  # stance answers since the last lift
    recent_correct: int = 0

    @property
    def answered(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    @property
    def correct(self) -> int:
        return sum(self.confusion[label][label] for label in STANCE_LABELS)

    def add(self, *, given: str, gold: str, recent: bool, n: int) -> None:
        if given == Label.SKIP:
            self.skipped += n
            return
        self.confusion[gold][given] += n
        if recent:
            self.recent += n
            self.recent_correct += n if given == gold else 0


def answers_by_annotator(*, target: Target, annotator_id: int | None = None) -> dict[int, Answers]:
    """Every annotator's answers (or one's), from their answer tallies: a few rows an
    annotator, kept by the triggers of annotate/answer_tally.py."""
    rows = AnswerTally.objects.filter(target=target, answers__gt=0)
    if annotator_id is not None:
        rows = rows.filter(annotator_id=annotator_id)
    found: dict[int, Answers] = defaultdict(Answers)
    counted = rows.values_list("annotator_id", "given", "gold", "since_lift", "answers")
    for annotator, given, gold, since_lift, n in counted:
        found[annotator].add(given=given, gold=gold, recent=since_lift, n=n)
    return dict(found)


def is_flagged(answers: Answers | None, *, target: Target) -> bool:
    """At least the target's minimum of answers since the last lift, and below its threshold."""
    if answers is None or answers.recent < max(1, target.evaluation_min_items):
        return False
    return answers.recent_correct / answers.recent < target.evaluation_threshold


@dataclass(frozen=True)
class AnnotatorEvaluation:
    """An annotator's standing on a target, as the curators' pages, the API and
    `manage.py agreement --annotators` show it."""

    annotator_id: int
    username: str
    labels: int  # stance labels, all sentences
    skips: int
    answered: int  # stance answers to evaluation items
    correct: int
    skipped: int  # evaluation items skipped
    interval: tuple[float, float] | None
    kappa: float | None
    confusion: dict[str, dict[str, int]]  # gold label -> given label -> answers
    recent: int  # answers since the last lift (what the flag rests on)
    recent_correct: int
    flagged: bool
    paused: bool
    lifted_at: datetime.datetime | None
    median_ms: float | None
    timed: int | None  # labels and skips with a recorded time (None: not computed yet)
    fast: int | None  # of which faster than the target's minimum
    min_label_ms: int
    # Their Dawid-Skene confusion matrix from the summary (None: no summary yet, or no
    # stance label when it was computed).
    model_matrix: ModelMatrix | None = None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None

    @property
    def recent_accuracy(self) -> float | None:
        return self.recent_correct / self.recent if self.recent else None

    @property
    def median_seconds(self) -> float | None:
        return None if self.median_ms is None else self.median_ms / 1000

    @property
    def too_fast(self) -> bool:
        return self.median_ms is not None and self.median_ms < self.min_label_ms

    @property
    def confusion_rows(self) -> list[tuple[str, list[int]]]:
        """The confusion matrix in label order, for tables: (gold, [given pro, contra, neutral])."""
        return [(gold, [self.confusion[gold][given] for given in STANCE_LABELS]) for gold in STANCE_LABELS]

    def as_dict(self) -> dict[str, object]:
        low, high = self.interval if self.interval else (None, None)
        return {
            "annotator": self.annotator_id,
            "username": self.username,
            "labels": self.labels,
            "skips": self.skips,
            "evaluation_answered": self.answered,
            "evaluation_correct": self.correct,
            "evaluation_skipped": self.skipped,
            "accuracy": self.accuracy,
            "accuracy_low": low,
            "accuracy_high": high,
            "kappa": self.kappa,
            "confusion": self.confusion,
            "answered_since_lift": self.recent,
            "accuracy_since_lift": self.recent_accuracy,
            "flagged": self.flagged,
            "paused": self.paused,
            "lifted_at": self.lifted_at.isoformat() if self.lifted_at else None,
            "median_seconds": self.median_seconds,
            "timed_labels": self.timed,
            "fast_labels": self.fast,
            "too_fast": self.too_fast,
            "min_label_seconds": self.min_label_ms / 1000,
            "dawid_skene": None if self.model_matrix is None else self.model_matrix.as_dict(),
        }


@dataclass(frozen=True)
class ModelMatrix:
    """An annotator's confusion matrix as the Dawid-Skene model of the target's summary
    estimated it: rows[true][given] is the estimated chance they give `given` to a sentence
    whose stance is `true` (STANCE_LABELS order), fitted on `labels` stance labels."""

    labels: int
    accuracy: float  # the diagonal weighted by the estimated share of each stance
    rows: list[list[float]]
    identifiable: bool  # False: no sentence had two labels; the rows are vote shares

    @property
    def table(self) -> list[tuple[str, list[float]]]:
        return list(zip(STANCE_LABELS, self.rows, strict=True))

    def as_dict(self) -> dict[str, object]:
        return {
            "labels": self.labels,
            "accuracy": self.accuracy,
            "identifiable": self.identifiable,
            "confusion": {
                true: dict(zip(STANCE_LABELS, row, strict=True))
                for true, row in zip(STANCE_LABELS, self.rows, strict=True)
            },
        }


def _matrices(summary: Summary | None) -> dict[int, ModelMatrix]:
    stored = None if summary is None else summary.annotator_matrices
    if not stored:
        return {}
    return {
        int(annotator): ModelMatrix(
            labels=m["labels"],
            accuracy=m["accuracy"],
            rows=m["confusion"],
            identifiable=stored["identifiable"],
        )
        for annotator, m in stored["annotators"].items()
    }


def fast_counts(
    *, target: Target, min_ms: int, annotator_id: int | None = None
) -> dict[int, tuple[int, int]]:
    """Per annotator: (labels and skips with a recorded time, those faster than min_ms).
    One GROUP BY over the target's labels (the summary runs it; see the module's doc)."""
    rows = Annotation.objects.filter(target=target, spent_ms__isnull=False)
    if annotator_id is not None:
        rows = rows.filter(annotator_id=annotator_id)
    counted = (
        rows.order_by()
        .values("annotator_id")
        .annotate(timed=Count("id"), fast=Count("id", filter=Q(spent_ms__lt=min_ms)))
        .values_list("annotator_id", "timed", "fast")
    )
    return {annotator: (timed, fast) for annotator, timed, fast in counted}


def _speed(
    *, target: Target, annotator_id: int | None, summary: Summary | None
) -> tuple[dict[int, float], dict[int, tuple[int, int]] | None]:
    """Medians and fast counts from the summary (None: not computed yet)."""
    if summary is None:
        return {}, None
    stored = summary.speed
    if stored is not None and stored.get("min_ms") == target.min_label_ms:
        counts = {int(k): (v[0], v[1]) for k, v in stored["counts"].items()}
    else:  # a summary from before the minimum changed (or before it had speeds)
        counts = fast_counts(target=target, min_ms=target.min_label_ms, annotator_id=annotator_id)
    return summary.median_ms, counts


def evaluations(
    *, target: Target, annotator_id: int | None = None, summary: Summary | Literal[False] | None = False
) -> list[AnnotatorEvaluation]:
    """Every annotator with a label on the target (or one), most answers first. `summary`
    is the target's summary when the caller has read it already (None: there is none yet)."""
    if summary is False:
        from annotate.summary import summary_for  # the summary imports this module

        summary = summary_for(target=target)
    # The tallies with each annotator's name and pause, in one query.
    pause = EvaluationPause.objects.filter(target=target, annotator_id=OuterRef("annotator_id"))
    tallies = (
        AnnotatorTally.objects.filter(target=target)
        .annotate(
            username=F("annotator__username"),
            paused_at=Subquery(pause.values("paused_at")[:1]),
            lifted_at=Subquery(pause.values("lifted_at")[:1]),
        )
        .values_list("annotator_id", "username", "labels", "skips", "paused_at", "lifted_at")
    )
    if annotator_id is not None:
        tallies = tallies.filter(annotator_id=annotator_id)
    tallied = list(tallies)
    answers = answers_by_annotator(target=target, annotator_id=annotator_id)
    medians, counts = _speed(target=target, annotator_id=annotator_id, summary=summary)
    matrices = _matrices(summary)
    found = []
    for annotator, username, labels, skips, paused_at, lifted_at in tallied:
        mine = answers.get(annotator) or Answers()
        timed_fast = None if counts is None else counts.get(annotator, (0, 0))
        found.append(
            AnnotatorEvaluation(
                annotator_id=annotator,
                username=username,
                labels=labels,
                skips=skips,
                answered=mine.answered,
                correct=mine.correct,
                skipped=mine.skipped,
                interval=wilson_interval(mine.correct, mine.answered),
                kappa=kappa_against_gold(mine.confusion) if mine.answered else None,
                confusion=mine.confusion,
                recent=mine.recent,
                recent_correct=mine.recent_correct,
                flagged=is_flagged(mine, target=target),
                paused=paused_at is not None,
                lifted_at=lifted_at,
                median_ms=medians.get(annotator),
                timed=None if timed_fast is None else timed_fast[0],
                fast=None if timed_fast is None else timed_fast[1],
                min_label_ms=target.min_label_ms,
                model_matrix=matrices.get(annotator),
            )
        )
    found.sort(key=lambda e: (-e.answered, e.username))
    return found


def pause_if_flagged_locked(*, annotator: User, target: Target) -> bool:
    """Pause the annotator's queue when their answers flag them (the caller holds the
    target's lock, read as `target`); whether it is paused now."""
    answers = answers_by_annotator(target=target, annotator_id=annotator.pk).get(annotator.pk)
    if not is_flagged(answers, target=target):
        return False
    EvaluationPause.objects.update_or_create(
        target=target, annotator=annotator, defaults={"paused_at": timezone.now()}
    )
    return True


def queue_paused(*, annotator: User, target: Target) -> bool:
    """Whether the annotator's queue for the target is paused (the page's message)."""
    return EvaluationPause.objects.filter(
        target=target, annotator=annotator, paused_at__isnull=False
    ).exists()


def evaluation_lift(*, curator: User, annotator: User, target: Target) -> EvaluationPause:
    """Lift an annotator's flag and pause: their queue hands out sentences again, and only
    answers from now on count toward a new flag. Under the target's lock, as the hand-out
    that reads the pause."""
    with transaction.atomic():
        locked = lock_target(target.pk)
        pause, _ = EvaluationPause.objects.update_or_create(
            target=locked,
            annotator=annotator,
            defaults={"paused_at": None, "lifted_at": timezone.now(), "lifted_by": curator},
        )
    return pause


@dataclass(frozen=True)
class Answer:
    sentence_id: int
    text: str
    given: str
    gold: str
    spent_ms: int | None
    given_at: datetime.datetime  # when the label was last written

    @property
    def correct(self) -> bool:
        return self.given == self.gold


#: One annotator's answers, the most recently given first (a relabel gives one anew). It
#: walks the annotator's labels newest first (the index annotation_recent) and stops at
#: `limit` answers: with 5 % evaluation items that reads a few thousand labels at any size.
#: The item is looked up a label (EXISTS, then the gold label for the `limit` kept): written
#: as a join, SQLite started from the items and read every one of the target's (25,000 at
#: 1,000,000 labels: 160 ms against 3-14 ms; benchmarks/pages.py). The texts are joined to
#: the `limit` rows only.
ANSWER_ROWS = """SELECT "r"."sentence_id", "s"."text", "r"."label", "r"."gold", "r"."spent_ms", "r"."updated_at"
FROM (
    SELECT "a"."id", "a"."sentence_id", "a"."label", "a"."spent_ms", "a"."updated_at",
        (SELECT "g"."label" FROM "annotate_evaluationitem" "e"
         JOIN "annotate_adjudication" "g" ON "g"."id" = "e"."adjudication_id"
         WHERE "e"."target_id" = "a"."target_id" AND "e"."sentence_id" = "a"."sentence_id") AS "gold"
    FROM "annotate_annotation" "a"
    WHERE "a"."annotator_id" = %(annotator)s AND "a"."target_id" = %(target)s
        AND EXISTS (SELECT 1 FROM "annotate_evaluationitem" "e" WHERE "e"."target_id" = "a"."target_id"
            AND "e"."sentence_id" = "a"."sentence_id" AND "a"."created_at" >= "e"."created_at")
    ORDER BY "a"."updated_at" DESC, "a"."id" DESC
    LIMIT %(limit)s
) "r"
JOIN "annotate_sentence" "s" ON "s"."id" = "r"."sentence_id"
ORDER BY "r"."updated_at" DESC, "r"."id" DESC"""


def recent_answers(*, target: Target, annotator_id: int, limit: int = 50) -> list[Answer]:
    """The annotator's newest answers to evaluation items, with the gold label (one query)."""
    rows = sql.fetch(ANSWER_ROWS, {"target": target.pk, "annotator": annotator_id, "limit": limit})
    found = []
    for sentence_id, text, given, gold, spent_ms, updated_at in rows:
        # The raw row's datetime through the ORM's converters (naive text on SQLite).
        given_at = sql.instance(Annotation, ["updated_at"], [updated_at]).updated_at
        found.append(Answer(sentence_id, text, given, gold, spent_ms, given_at))
    return found
