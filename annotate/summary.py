"""A target's expensive figures, computed once and served with when and on what they rest.

Agreement, gold-label distributions, median times and the suggestions' sway each read every
label of the target. They are computed here (aggregate queries over the tallies and the
labels, seconds at a million labels) and stored in TargetSummary with the target's change
count (TargetChanges, bumped by the label triggers) at that moment. Pages read the stored
figures in one query and compare the counts: a summary whose count moved is stale, and
says so with the number of changes since; opening it queues a recompute in the background
(annotate.tasks.summarise_target) and the page shows that it is running. Below
INLINE_LABELS labels the recompute is cheap and runs in the request, so a small project
always sees fresh figures.
"""

from __future__ import annotations

import datetime
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from annotate.aggregation import DawidSkeneGold, article_gold_counts, dawid_skene_gold
from annotate.agreement_figures import Figures, PairKappa, Reliability
from annotate.anchoring import Anchoring, anchoring_figures
from annotate.card_figures import duplicate_figures, process_figures
from annotate.duplicate_groups import last_scan, units_of
from annotate.evaluation import fast_counts
from annotate.extra_annotators import stored_figure
from annotate.gold import Method
from annotate.models import (
    STANCE_LABELS,
    Annotation,
    AnnotatorTally,
    GoldMethod,
    Label,
    ModelVersion,
    SentenceTally,
    Suggestion,
    Target,
    TargetChanges,
    TargetSummary,
)
from annotate.review import Posterior, posteriors_store
from annotate.splits import counts_by_split
from annotate.tasks import summarise_pending, summarise_target

#: Below this many labels (skips included) a stale summary is recomputed in the request.
INLINE_LABELS = 20_000
#: What moves a target's change count, and so makes its summary stale: the label triggers
#: count every label or gold label written, changed or removed (an undo, an admin's delete),
#: and a duplicate scan that joined or parted sentences counts one for every target
#: (annotate/duplicate_groups.py). Every place that says a summary is stale says this.
CHANGES_COUNTED = (
    "each label or adjudication written, changed or removed counts one, "
    "and so does a duplicate scan that joined or parted sentences"
)
NO_SOURCE = "(no source)"
#: The per-article counts of the gold labels an export writes, where they are not the
#: majority rule's "gold" (under Dawid-Skene).
EXPORTED_GOLD = "exported_gold"


@dataclass
class Distribution:
    """Gold labels of a set of sentences; ties between annotators stay unresolved."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STANCE_LABELS, 0))
    unresolved: int = 0

    @property
    def resolved(self) -> int:
        return sum(self.counts.values())

    def share(self, label: str) -> float | None:
        return self.counts.get(label, 0) / self.resolved if self.resolved else None


@dataclass(frozen=True)
class SuggestionSway:
    """How often labels given while the active model was live agree with its suggestion,
    with the suggestion on screen and without (the control set).

    Only those labels count: the model never trained on them, and the suggestion on screen
    was this model's. A much higher match with suggestions than without hints at anchoring.
    """

    since: datetime.datetime  # when the active version went live
    shown: int  # non-skip labels given with a suggestion on screen
    accepted: int  # of which accepted with Enter
    shown_matching: int  # ... equal to the active model's suggestion
    control: int  # non-skip labels given without a suggestion
    control_matching: int

    @property
    def shown_match_rate(self) -> float | None:
        return self.shown_matching / self.shown if self.shown else None

    @property
    def control_match_rate(self) -> float | None:
        return self.control_matching / self.control if self.control else None

    @property
    def accepted_rate(self) -> float | None:
        return self.accepted / self.shown if self.shown else None


@dataclass(frozen=True)
class Summary:
    """The stored figures, decoded, with what they rest on."""

    computed_at: datetime.datetime
    changes: int  # the target's change count they were computed at
    changes_now: int
    seconds: float
    agreement: Figures
    agreement_by_source: dict[str, Figures]
    agreement_by_suggestion: dict[str, Figures]
    distribution: Distribution
    by_source: dict[str, Distribution]
    median_ms: dict[int, float]
    sway: SuggestionSway | None
    # The dataset card's counts for the default seed: per level ("gold", "labels"), per
    # split, the labels in STANCE_LABELS order. None in a summary stored before it had them.
    split_counts: dict[str, dict[str, list[int]]] | None = None
    # The dataset card's Annotation process figures (annotate.card_figures.ProcessFigures
    # as a dict); None in a summary stored before it had them.
    process: dict[str, Any] | None = None
    # Alpha per label and with each annotator left out (the intervals are in the Figures).
    # None in a summary stored before it had them: summary_for recomputes such a summary.
    reliability: Reliability | None = None
    # The last duplicate scan's figures (annotate.duplicate_groups.ScanResult) it rests on.
    duplicates: dict[str, Any] | None = None
    # The duplicate groups in the database and the split units they made, for the card
    # (annotate.card_figures.DuplicateGroups as a dict); None in a summary stored before.
    duplicate_groups: dict[str, Any] | None = None
    # Per annotator [timed labels, faster than min_ms] with the minimum they were counted
    # at (annotate.evaluation); None in a summary stored before it had them.
    speed: dict[str, Any] | None = None
    # Agreement with the model with and without the suggestion on screen, per annotator
    # (annotate.anchoring); None without an active model.
    anchoring: Anchoring | None = None
    # Each annotator's Dawid-Skene confusion matrix (annotator_matrices_of); None in a
    # summary stored before it had them.
    annotator_matrices: dict[str, Any] | None = None
    # Dynamic overlap's figure (annotate.extra_annotators.stored_figure), counted after the
    # posteriors were stored; None without dynamic overlap or in a summary stored before.
    extra_annotators: dict[str, Any] | None = None
    recomputing: bool = False

    @property
    def changes_since(self) -> int:
        return max(0, self.changes_now - self.changes)

    @property
    def fresh(self) -> bool:
        return self.changes_since == 0

    @property
    def changes_missed(self) -> str:
        return changes_missed(self.changes_since)

    @property
    def changes_counted(self) -> str:
        return CHANGES_COUNTED


def changes_missed(count: int) -> str:
    """'3 changes since then are not included': what a stale summary misses, in words."""
    return (
        f"{count:,} change{'' if count == 1 else 's'} since then {'is' if count == 1 else 'are'} not included"
    )


def changes_now(*, target: Target) -> int:
    return TargetChanges.objects.filter(target=target).values_list("changes", flat=True).first() or 0


def median_spent_ms(*, target: Target) -> dict[int, float]:
    """Each annotator's median spent_ms, computed in the database.

    Window functions rank every annotator's times; only the one or two middle rows come
    back, so this is one query returning at most two rows an annotator.
    """
    ranked = (
        Annotation.objects.filter(target=target, spent_ms__isnull=False)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("annotator_id")], order_by=[F("spent_ms"), F("id")]),
            n=Window(Count("id"), partition_by=[F("annotator_id")]),
        )
        # Integer division: rank (n+1)/2 and (n+2)/2, one row for odd n, two for even.
        .filter(rank__gte=(F("n") + 1) / 2, rank__lte=(F("n") + 2) / 2)
        .values_list("annotator_id", "spent_ms")
    )
    middles: dict[int, list[int]] = defaultdict(list)
    for annotator_id, spent_ms in ranked:
        if spent_ms is not None:  # excluded by the query; the column is nullable
            middles[annotator_id].append(spent_ms)
    return {annotator_id: statistics.fmean(values) for annotator_id, values in middles.items()}


def live_since(*, target: Target) -> datetime.datetime | None:
    """When the active version finished training and could be shown."""
    if target.active_version_id is None:
        return None
    row = (
        ModelVersion.objects.filter(pk=target.active_version_id)
        .values_list("finished_at", "created_at")
        .first()
    )
    return None if row is None else row[0] or row[1]


def suggestion_sway(*, target: Target, since: datetime.datetime | None) -> SuggestionSway | None:
    """Labels since the active version went live that match its suggestion, shown or not."""
    if target.active_version_id is None or since is None:
        return None
    same = Suggestion.objects.filter(
        model_version_id=target.active_version_id,
        sentence_id=OuterRef("sentence_id"),
        label=OuterRef("label"),
    )
    figures = (
        Annotation.objects.filter(target=target, updated_at__gte=since)
        .exclude(label=Label.SKIP)
        .alias(matches=Exists(same))
        .aggregate(
            shown=Count("id", filter=Q(suggestion_shown=True)),
            accepted=Count("id", filter=Q(suggestion_shown=True, accepted_suggestion=True)),
            shown_matching=Count("id", filter=Q(suggestion_shown=True, matches=True)),
            control=Count("id", filter=Q(suggestion_shown=False)),
            control_matching=Count("id", filter=Q(suggestion_shown=False, matches=True)),
        )
    )
    return SuggestionSway(since=since, **figures)


def distributions(*, target: Target) -> tuple[Distribution, dict[str, Distribution]]:
    """Gold labels of the target, overall and per source outlet (sources sorted by name):
    one GROUP BY over the tallies, whose `gold` column is the gold rule (annotate.gold)."""
    rows = (
        SentenceTally.objects.filter(target=target)
        .filter(Q(votes__gt=0) | ~Q(adjudicated=""))
        .values_list("sentence__article__source", "gold")
        .annotate(n=Count("id"))
        .order_by()
    )
    overall = Distribution()
    by_source: dict[str, Distribution] = defaultdict(Distribution)
    for source, gold, n in rows:
        for distribution in (overall, by_source[source or NO_SOURCE]):
            if gold:
                distribution.counts[gold] = distribution.counts.get(gold, 0) + n
            else:
                distribution.unresolved += n
    return overall, dict(sorted(by_source.items(), key=lambda item: item[0].lower()))


def article_counts(*, target: Target) -> dict[str, list[Any]]:
    """Per article with a stance label or an adjudication: its sentences' gold labels and its
    non-skipped labels, by stance label. The dataset card splits these by article (for a
    seed other than the default, whose splits compute() stores as split_counts)."""
    gold = (
        SentenceTally.objects.filter(target=target)
        .filter(Q(votes__gt=0) | ~Q(adjudicated=""))
        .values("sentence__article_id")
        .annotate(
            **{f"gold_{label}": Count("id", filter=Q(gold=label)) for label in STANCE_LABELS},
            **{f"labels_{label}": Sum(label) for label in STANCE_LABELS},
        )
        .order_by("sentence__article_id")
    )
    found: dict[str, list[Any]] = {"ids": [], "gold": [], "labels": []}
    for record in gold.iterator(chunk_size=10_000):
        row: Mapping[str, Any] = dict(record)  # the counts' keys are made from the labels
        found["ids"].append(row["sentence__article_id"])
        found["gold"].append([row[f"gold_{label}"] for label in STANCE_LABELS])
        found["labels"].append([row[f"labels_{label}"] or 0 for label in STANCE_LABELS])
    return found


def posteriors_of(model: DawidSkeneGold) -> Iterator[Posterior]:
    """Each labelled sentence's posterior of its most probable label, but for the sentences
    held at a known label (adjudicated: settled already), with the stance labels it was
    computed on.

    That count is what the sentence's tally counted at the moment the model's labels were
    read: label_arrays reads in one statement the target's pro, contra and neutral labels,
    every annotator's (none is left out) and evaluation items' too, which is exactly what
    the tally triggers count in "votes" (annotate/tally_sql.py), in the same transaction as
    each label. The two differ only by labels written or removed after that read, and the
    queue then reads the posterior as one of other labels (annotate/queue/rule.py's
    `posterior_current`): the safe way, it never asks on them."""
    for gold in model.golds():
        if gold.method in (Method.DAWID_SKENE, Method.UNRESOLVED) and gold.votes and gold.posterior:
            yield Posterior(
                sentence_id=gold.sentence_id,
                label=gold.label or "",
                posterior=max(gold.posterior.values()),
                votes=gold.votes,
            )


#: Decimals a stored Dawid-Skene confusion-matrix cell keeps (the page shows three).
MATRIX_DECIMALS = 4


def annotator_matrices_of(model: DawidSkeneGold) -> dict[str, Any]:
    """Every annotator's Dawid-Skene confusion matrix (rows the estimated true stance,
    columns the label given, STANCE_LABELS order) with the stance labels it rests on, by
    annotator id; `identifiable` False when no sentence had two annotators' labels nor a
    clamped one a label (the matrices are then the vote shares EM started from)."""
    return {
        "identifiable": model.fit.identifiable,
        "annotators": {
            str(m.annotator_id): {
                "labels": m.labels,
                "accuracy": round(m.accuracy, MATRIX_DECIMALS),
                "confusion": [
                    [round(m.confusion[true][given], MATRIX_DECIMALS) for given in STANCE_LABELS]
                    for true in STANCE_LABELS
                ],
            }
            for m in model.annotators()
        },
    }


def compute(*, target: Target) -> TargetSummary:
    """Compute and store the target's summary (seconds at a million labels)."""
    started = time.monotonic()
    # Read first: labels written while computing make the summary stale, never falsely fresh.
    changes = changes_now(target=target)
    # Imported here: the agreement maths brings numpy, which only computing needs (the
    # background worker, or the request of a small target's inline recompute).
    from annotate.agreement_data import agreement_set

    figures = agreement_set(target=target)
    distribution, by_source = distributions(target=target)
    since = live_since(target=target)
    sway = suggestion_sway(target=target, since=since)
    anchoring = anchoring_figures(target=target, since=since)
    payload = {
        "agreement": figures.overall.as_dict(),
        "agreement_by_source": {k: v.as_dict() for k, v in figures.by_source.items()},
        "agreement_by_suggestion": {k: v.as_dict() for k, v in figures.by_suggestion.items()},
        "distribution": asdict(distribution),
        "by_source": {k: asdict(v) for k, v in by_source.items()},
        "median_ms": {str(k): v for k, v in median_spent_ms(target=target).items()},
        # Labels faster than the target's minimum, per annotator (annotate/evaluation.py).
        "speed": {
            "min_ms": target.min_label_ms,
            "counts": {
                str(k): list(v) for k, v in fast_counts(target=target, min_ms=target.min_label_ms).items()
            },
        },
        "sway": None if sway is None else {**asdict(sway), "since": sway.since.isoformat()},
        "reliability": figures.reliability.as_dict(),
        "anchoring": None if anchoring is None else anchoring.as_dict(),
    }
    articles = article_counts(target=target)
    # Articles sharing a duplicate group are one unit of the split (annotate.splits).
    articles["units"] = units_of(article_ids=articles["ids"])
    payload["gold_method"] = target.gold_method
    # Fitted whatever the gold rule: the adjudication page's "lowest posterior" order reads
    # the stored posteriors (annotate/review.py).
    model = dawid_skene_gold(target=target)
    posteriors_store(target=target, posteriors=posteriors_of(model))
    payload["annotator_matrices"] = annotator_matrices_of(model)
    payload["extra_annotators"] = stored_figure(target=target)
    if target.gold_method == GoldMethod.DAWID_SKENE:
        # The export's gold labels are the model's; the splits stay stratified by the
        # majority rule's ("gold"), so changing the rule moves no article between splits.
        articles[EXPORTED_GOLD] = article_gold_counts(
            target=target, article_ids=articles["ids"], fit=model.fit
        )
    scan = last_scan()
    payload["duplicates"] = None if scan is None else asdict(scan)
    payload["split_counts"] = {
        level: counts_by_split(
            ids=articles["ids"],
            counts=articles.get(EXPORTED_GOLD, articles["gold"]) if level == "gold" else articles[level],
            strata=articles["gold"],
            units=articles["units"],
            width=len(STANCE_LABELS),
        )
        for level in ("gold", "labels")
    }
    payload["process"] = process_figures(target=target).as_dict()
    payload["duplicate_groups"] = asdict(duplicate_figures(units=articles["units"]))
    summary, _ = TargetSummary.objects.update_or_create(
        target=target,
        defaults={
            "computed_at": timezone.now(),
            "changes": changes,
            "seconds": time.monotonic() - started,
            "figures": payload,
            "articles": articles,
        },
    )
    return summary


def _figures(data: dict[str, Any]) -> Figures:
    return Figures(**{**data, "pairs": [PairKappa(**pair) for pair in data["pairs"]]})


def _distribution(data: dict[str, Any]) -> Distribution:
    return Distribution(counts=dict(data["counts"]), unresolved=data["unresolved"])


def decode(stored: TargetSummary, *, changes_now: int, recomputing: bool = False) -> Summary:
    data = stored.figures
    sway = data["sway"]
    return Summary(
        computed_at=stored.computed_at,
        changes=stored.changes,
        changes_now=changes_now,
        seconds=stored.seconds,
        agreement=_figures(data["agreement"]),
        agreement_by_source={k: _figures(v) for k, v in data["agreement_by_source"].items()},
        agreement_by_suggestion={k: _figures(v) for k, v in data["agreement_by_suggestion"].items()},
        distribution=_distribution(data["distribution"]),
        by_source={k: _distribution(v) for k, v in data["by_source"].items()},
        median_ms={int(k): v for k, v in data["median_ms"].items()},
        sway=None
        if sway is None
        else SuggestionSway(**{**sway, "since": datetime.datetime.fromisoformat(sway["since"])}),
        split_counts=data.get("split_counts"),
        process=data.get("process"),
        reliability=Reliability.from_dict(data["reliability"]) if data.get("reliability") else None,
        duplicates=data.get("duplicates"),
        duplicate_groups=data.get("duplicate_groups"),
        speed=data.get("speed"),
        anchoring=Anchoring.from_dict(data["anchoring"]) if data.get("anchoring") else None,
        annotator_matrices=data.get("annotator_matrices"),
        extra_annotators=data.get("extra_annotators"),
        recomputing=recomputing,
    )


def labels_of(*, target: Target) -> int:
    """The target's labels and skips, from the annotators' tallies (one row each)."""
    totals = AnnotatorTally.objects.filter(target=target).aggregate(n=Sum(F("labels") + F("skips")))
    return totals["n"] or 0


def summary_for(*, target: Target, recompute: bool = True) -> Summary | None:
    """The target's summary: fresh if it is cheap to make so, else as stored, with how many
    changes it misses and a recompute queued. None while the first one is being computed."""
    now = changes_now(target=target)
    stored = _stored(target)
    if stored is not None and is_current(stored, changes_now=now):
        return decode(stored, changes_now=now)
    if recompute and labels_of(target=target) < INLINE_LABELS:
        computed = compute(target=target)
        return decode(computed, changes_now=now if computed.changes == now else changes_now(target=target))
    if recompute:
        queue_recompute(target=target)
    return None if stored is None else decode(stored, changes_now=now, recomputing=recompute)


def queue_recompute(*, target: Target) -> None:
    """Queue a background recompute unless one is waiting already."""
    if not summarise_pending(target_id=target.pk):
        summarise_target.enqueue(target.pk)


def is_current(stored: TargetSummary, *, changes_now: int) -> bool:
    """Whether a stored summary is as of now: computed at the target's current change count
    (labels, adjudications and duplicate scans that moved a group all count), and with the
    figures this version stores (one stored before alpha's intervals, the anchoring
    figures, the annotators' Dawid-Skene matrices or dynamic overlap's figure is as good
    as stale)."""
    figures = stored.figures
    return stored.changes == changes_now and all(
        key in figures for key in ("reliability", "anchoring", "annotator_matrices", "extra_annotators")
    )


def _stored(target: Target) -> TargetSummary | None:
    """The target's stored summary, unless it was computed under the other gold rule: its
    gold counts (the card's) are then not the export's, so it is as good as none."""
    stored = TargetSummary.objects.filter(target=target).defer("articles").first()
    if stored is None or stored.figures.get("gold_method", GoldMethod.MAJORITY) != target.gold_method:
        return None
    return stored


def fresh_summary(*, target: Target) -> Summary:
    """The summary as of now, computed in this process if it is missing or stale (exports
    and `manage.py agreement --recompute`: jobs that read every label anyway). It does not
    scan for duplicates: the background task and `export_dataset` do, before they need it."""
    now = changes_now(target=target)
    stored = _stored(target)
    if stored is None or not is_current(stored, changes_now=now):
        stored = compute(target=target)
    return decode(stored, changes_now=changes_now(target=target))


def article_label_counts(*, target: Target) -> dict[str, list[Any]]:
    """The stored per-article counts of the summary (see article_counts), for the card."""
    return TargetSummary.objects.filter(target=target).values_list("articles", flat=True).first() or {
        "ids": [],
        "gold": [],
        "labels": [],
        "units": [],
    }
