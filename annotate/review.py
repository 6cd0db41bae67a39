"""The adjudication page's review queue in four orders, each read through an index.

- `disagreements` (the default): open disagreements, worst agreement first
  (annotate/adjudication.py, the sentence tallies' partial index).
- `posterior`: unsettled sentences whose Dawid-Skene posterior (the probability of their
  most probable label) is lowest first. The posteriors are stored with the summary
  (`posteriors_store`, SentencePosterior), so the page walks their index instead of
  fitting the model; they are as fresh as the summary.
- `suspicious`: sentences with a label the active version's cross-validation contradicts
  with at least SUSPICIOUS_CONFIDENCE, most confident first: each training label's
  out-of-fold prediction, made by the fold model that did not see it nor its article or
  duplicate group (CrossValidatedPrediction, stored at retrain, read through its index).
  Not the suggestion, whose model was trained on these very labels. A sentence labelled
  after the version was trained has no such prediction and is not in the order; the page
  says which version, how many folds and labels it rests on (`suspicion_basis`).
- `flagged`: annotators' open flags, oldest first, then the newest resolved ones.

Each order's list is one or two indexed queries, then one for the sentences' tallies.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef

from annotate.adjudication import open_disagreements
from annotate.models import (
    STANCE_LABELS,
    Adjudication,
    Annotation,
    CrossValidatedPrediction,
    Flag,
    Label,
    LabelReturn,
    ModelVersion,
    SentencePosterior,
    SentenceTally,
    Target,
)
from annotate.queue.cursors import reopen_locked
from annotate.queue.locks import lock_target

#: A label is suspicious when the fold model that did not see it predicts another with at
#: least this probability.
SUSPICIOUS_CONFIDENCE = 0.8
#: Rows of posteriors written at a time.
CHUNK = 5000
#: How many of a target's lowest posteriors are stored. The order shows the lowest first, a
#: page at a time, and nobody reviews past thousands; storing every sentence's would rewrite
#: a row a sentence (500,000 at a million labels) on every summary, inside one transaction
#: that on SQLite holds the write lock the annotators' labels wait for. Every posterior
#: below the target's posterior threshold is stored besides (the queue's rule reads them).
POSTERIORS_KEPT = 5000


class ReviewOrder:
    DISAGREEMENTS = "disagreements"
    POSTERIOR = "posterior"
    SUSPICIOUS = "suspicious"
    FLAGGED = "flagged"
    choices = [
        (DISAGREEMENTS, "Disagreements"),
        (POSTERIOR, "Lowest posterior"),
        (SUSPICIOUS, "Suspicious labels"),
        (FLAGGED, "Flagged"),
    ]
    values = [value for value, _ in choices]


@dataclass
class ReviewItem:
    """One sentence of a review order, with what put it there."""

    sentence_id: int
    counts: dict[str, int] = field(default_factory=dict)
    agreement: float | None = None
    posterior: float | None = None  # `posterior`: its most probable label's probability
    posterior_label: str = ""
    model_label: str = ""  # `suspicious`: the out-of-fold prediction that contradicts a label
    model_confidence: float | None = None
    suspicious: list[tuple[int, str]] = field(default_factory=list)  # (annotator id, label)
    flag: Flag | None = None  # `flagged`


def _tallied(target: Target, items: list[ReviewItem]) -> list[ReviewItem]:
    """The items with their label counts and agreement: one query."""
    tallies = {
        t.sentence_id: t
        for t in SentenceTally.objects.filter(target=target, sentence_id__in=[i.sentence_id for i in items])
    }
    for item in items:
        tally = tallies.get(item.sentence_id)
        if tally is not None:
            item.counts = {label: n for label in STANCE_LABELS if (n := getattr(tally, label))}
            item.agreement = tally.agreement
    return items


def _unsettled(target: Target) -> Exists:
    return Exists(Adjudication.objects.filter(target=target, sentence_id=OuterRef("sentence_id")))


def by_disagreement(*, target: Target, limit: int) -> list[ReviewItem]:
    return [
        ReviewItem(
            sentence_id=t.sentence_id,
            counts={label: n for label in STANCE_LABELS if (n := getattr(t, label))},
            agreement=t.agreement,
        )
        for t in open_disagreements(target=target)[:limit]
    ]


def review_item_of(*, target: Target, sentence_id: int) -> ReviewItem:
    """One sentence as the card shows it, whatever its labels (a search result links to
    agreed, settled and unlabelled ones too): one query."""
    return _tallied(target, [ReviewItem(sentence_id=sentence_id)])[0]


def by_posterior(*, target: Target, limit: int) -> list[ReviewItem]:
    rows = (
        SentencePosterior.objects.filter(target=target)
        .exclude(_unsettled(target))
        .order_by("posterior", "sentence_id")
        .values_list("sentence_id", "label", "posterior")[:limit]
    )
    items = [ReviewItem(sentence_id=s, posterior_label=label, posterior=p) for s, label, p in rows]
    return _tallied(target, items)


def _contradicted(target: Target) -> Exists:
    """A stance label on the prediction's sentence other than the prediction's, not
    returned already (an open return waits for the annotator)."""
    returned = LabelReturn.objects.filter(
        annotator_id=OuterRef("annotator_id"),
        sentence_id=OuterRef("sentence_id"),
        target=target,
        resolved_at__isnull=True,
    )
    return Exists(
        Annotation.objects.filter(target=target, sentence_id=OuterRef("sentence_id"))
        .exclude(label=Label.SKIP)
        .exclude(label=OuterRef("label"))
        .exclude(Exists(returned))
    )


def by_suspicion(*, target: Target, limit: int) -> list[ReviewItem]:
    """The active version's out-of-fold predictions that contradict a current label with
    at least SUSPICIOUS_CONFIDENCE, most confident first: two queries, then the tallies."""
    if target.active_version_id is None:
        return []
    rows = list(
        CrossValidatedPrediction.objects.filter(
            model_version_id=target.active_version_id, confidence__gte=SUSPICIOUS_CONFIDENCE
        )
        .filter(_contradicted(target))
        .exclude(_unsettled(target))
        .order_by("-confidence", "-sentence_id")
        .values_list("sentence_id", "label", "confidence")[:limit]
    )
    items = [ReviewItem(sentence_id=s, model_label=label, model_confidence=c) for s, label, c in rows]
    model = {item.sentence_id: item for item in items}
    labels = (
        Annotation.objects.filter(target=target, sentence_id__in=list(model))
        .exclude(label=Label.SKIP)
        .order_by("annotator_id")
        .values_list("sentence_id", "annotator_id", "label")
    )
    for sentence_id, annotator_id, label in labels:
        if label != model[sentence_id].model_label:
            model[sentence_id].suspicious.append((annotator_id, label))
    return _tallied(target, items)


@dataclass(frozen=True)
class SuspicionBasis:
    """What the suspicious order rests on: the active version's cross-validation."""

    version_id: int
    folds: int
    train_size: int  # the labels it was trained on, each with its out-of-fold prediction
    trained_at: datetime | None
    stored: bool  # False: trained before out-of-fold predictions were stored


def suspicion_basis(*, target: Target) -> SuspicionBasis | None:
    """The active version's cross-validation, for the page to say what the order rests on
    (None without an active version): one query."""
    if target.active_version_id is None:
        return None
    stored = CrossValidatedPrediction.objects.filter(model_version_id=OuterRef("pk"))
    row = (
        ModelVersion.objects.filter(pk=target.active_version_id)
        .annotate(stored=Exists(stored))
        .values_list("pk", "metrics", "train_size", "finished_at", "stored")
        .first()
    )
    if row is None:
        return None
    pk, metrics, train_size, finished_at, has_rows = row
    folds = metrics.get("folds") if isinstance(metrics, dict) else None
    return SuspicionBasis(
        version_id=pk,
        folds=folds if isinstance(folds, int) else 0,
        train_size=train_size,
        trained_at=finished_at,
        stored=bool(has_rows),
    )


def by_flag(*, target: Target, limit: int) -> list[ReviewItem]:
    """Open flags oldest first, then (to fill the list) the newest resolved ones."""
    flags = list(
        Flag.objects.filter(target=target, resolved_at__isnull=True)
        .select_related("annotator")
        .order_by("created_at", "id")[:limit]
    )
    if len(flags) < limit:
        flags += (
            Flag.objects.filter(target=target, resolved_at__isnull=False)
            .select_related("annotator", "resolved_by")
            .order_by("-resolved_at", "-id")[: limit - len(flags)]
        )
    return _tallied(target, [ReviewItem(sentence_id=flag.sentence_id, flag=flag) for flag in flags])


ORDERS = {
    ReviewOrder.DISAGREEMENTS: by_disagreement,
    ReviewOrder.POSTERIOR: by_posterior,
    ReviewOrder.SUSPICIOUS: by_suspicion,
    ReviewOrder.FLAGGED: by_flag,
}


def review_items(*, target: Target, order: str, limit: int) -> list[ReviewItem]:
    """The first `limit` sentences of the order (a KeyError for an unknown one)."""
    return ORDERS[order](target=target, limit=limit)


def open_flag_count(*, target: Target) -> int:
    return Flag.objects.filter(target=target, resolved_at__isnull=True).count()


@dataclass(frozen=True)
class Posterior:
    sentence_id: int
    label: str  # "" for a tie
    posterior: float
    # The stance labels it was computed on (annotate/summary.py's posteriors_of).
    votes: int


@dataclass(frozen=True)
class Stored:
    """What posteriors_store wrote: the rows, and the sentences it reopened (dynamic
    overlap: newly below the target's posterior threshold)."""

    written: int
    reopened: int


def _kept(posteriors: Iterable[Posterior], *, threshold: float | None) -> list[Posterior]:
    """Every posterior below the threshold (the queue's rule reads them all) and the
    POSTERIORS_KEPT lowest (the review order's). One pass; memory for those only."""
    below: list[Posterior] = []

    def above() -> Iterator[Posterior]:
        for p in posteriors:
            if threshold is not None and p.posterior < threshold:
                below.append(p)
            else:
                yield p

    rest = heapq.nsmallest(POSTERIORS_KEPT, above(), key=lambda p: (p.posterior, p.sentence_id))
    # Every one below the threshold is lower than every other: the lowest overall are
    # those below, topped up from the rest.
    return below + rest[: max(0, POSTERIORS_KEPT - len(below))]


def _asked_already(already: dict[int, int], posterior: Posterior) -> bool:
    """The old posterior below the threshold asked whenever the new one does: at the same
    count."""
    return already.get(posterior.sentence_id) == posterior.votes


def posteriors_store(*, target: Target, posteriors: Iterable[Posterior]) -> Stored:
    """Replace the target's stored posteriors by the POSTERIORS_KEPT lowest of these and,
    with a posterior threshold, every one below it (one transaction, in chunks).

    Under dynamic overlap a sentence whose posterior falls below the threshold asks for one
    more annotator (annotate/queue/rule.py), so a search cursor may have passed it: the
    target's cursors move back to the ones newly below (annotate/queue/cursors.py's
    `reopen_locked`). The target's lock is taken first (step 1 of the one lock order,
    annotate/queue/__init__.py), so no label or search sees the new rows before the rewind;
    the rows are chosen before it, by the threshold as read then (a change of the threshold
    drops the cursors and queues a new summary, annotate/targets.py).

    A posterior asks only while its sentence has the stance labels it was computed on (the
    rule's `posterior_current`), so a sentence below the threshold already is newly open
    too when its new posterior rests on another count: the old one asked at that count no
    more (the label it brought moved it), and a cursor may have passed the sentence since."""
    kept = _kept(posteriors, threshold=target.posterior_threshold)
    written = 0
    with transaction.atomic():
        locked = lock_target(target.pk, archived_ok=True)
        threshold = locked.posterior_threshold
        stored = SentencePosterior.objects.filter(target=target)
        # The ones below already, by the count they rest on: open before this summary at
        # that count, no cursor passed them at it.
        already: dict[int, int] = (
            dict(stored.filter(posterior__lt=threshold).values_list("sentence_id", "votes"))
            if threshold is not None
            else {}
        )
        stored.delete()
        batch: list[SentencePosterior] = []
        for p in kept:
            batch.append(
                SentencePosterior(
                    target=target,
                    sentence_id=p.sentence_id,
                    label=p.label,
                    posterior=p.posterior,
                    votes=p.votes,
                )
            )
            if len(batch) >= CHUNK:
                SentencePosterior.objects.bulk_create(batch)
                written, batch = written + len(batch), []
        SentencePosterior.objects.bulk_create(batch)
        written += len(batch)
        newly = (
            [p.sentence_id for p in kept if p.posterior < threshold and not _asked_already(already, p)]
            if threshold is not None
            else []
        )
        reopened = reopen_locked(target=locked, sentence_ids=newly)
    return Stored(written=written, reopened=reopened)


def flags_of(*, target: Target, sentence_id: int, limit: int) -> list[Flag]:
    """The sentence's flags, open first then the newest: one query."""
    flags = (
        Flag.objects.filter(target=target, sentence_id=sentence_id)
        .select_related("annotator", "resolved_by")
        .order_by("-id")[:limit]
    )
    return sorted(flags, key=lambda f: (f.resolved_at is not None, -f.pk))
