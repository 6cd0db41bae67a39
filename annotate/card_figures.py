"""The dataset card's figures, gathered: who labelled and how much, how far suggestions were
on screen and accepted, how the gold labels were decided, where the texts came from
(ProcessFigures), and the figures other parts of Stance compute that the Methods take:
alpha's bootstrap interval, the active model's evaluation-slice score and the duplicate
groups with what the splits made of them.

process_figures() and duplicate_figures() count with aggregate queries when the target's
summary is computed (annotate.summary.compute, in the background at scale); the card then
reads the stored figures (reliability_interval() from the summary's agreement,
evaluation_score() from the active version the card reads anyway) without a query of its
own. The text is written by annotate.card_process and annotate.card_methods.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum

from annotate.models import (
    UNKNOWN_LICENCE,
    Annotation,
    AnnotatorTally,
    Article,
    Label,
    ModelVersion,
    Sentence,
    SentenceTally,
    Target,
)

if TYPE_CHECKING:  # annotate.summary imports this module to compute the figures
    from annotate.summary import Summary

#: Sources and import files named in the provenance (the most articles first).
NAMED = 10
#: What imported_from holds for articles that came through no file.
NOT_FILES = {
    "API": "the API",
    "admin": "the Django admin",
    "": "not recorded (imported before Stance kept it)",
}


@dataclass(frozen=True)
class AnnotatorLabels:
    annotator_id: int
    labels: int  # stance labels (pro, contra, neutral)
    skips: int


@dataclass(frozen=True)
class Provenance:
    """The articles an export draws on (those with a stance label or an adjudication)."""

    articles: int = 0
    licences: dict[str, int] = field(default_factory=dict)  # licence: articles, most first
    sources: dict[str, int] = field(default_factory=dict)  # the NAMED largest
    source_count: int = 0
    files: dict[str, int] = field(default_factory=dict)  # import file: articles, the NAMED largest
    file_count: int = 0
    other_origins: dict[str, int] = field(default_factory=dict)  # API, admin, unrecorded
    published_first: str | None = None  # ISO dates
    published_last: str | None = None
    undated: int = 0
    imported_first: str | None = None
    imported_last: str | None = None


@dataclass(frozen=True)
class ProcessFigures:
    """The counts behind the Annotation process section, stored in the target's summary."""

    annotators: list[AnnotatorLabels]  # those with a label or a skip, most labels first
    labels: int  # stance labels
    skips: int
    shown: int  # stance labels given with a suggestion on screen
    accepted: int  # of which accepted it (Enter, or `accept` in the API)
    labels_per_sentence: list[tuple[int, int]]  # (stance labels, sentences with that many)
    adjudicated: int  # sentences whose gold label a curator decided
    majority: int  # ... decided by a strict majority of two or more labels
    single: int  # ... by a single label
    ties: int  # two or more labels and no majority, not adjudicated: no gold label
    skipped_only: int  # sentences only skipped: in neither level
    provenance: Provenance

    def as_dict(self) -> dict[str, Any]:
        """As JSON stores it (pairs as lists), so a summary decodes the same before and after
        its round trip through the database."""
        return {**asdict(self), "labels_per_sentence": [list(pair) for pair in self.labels_per_sentence]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessFigures:
        return cls(
            **{
                **data,
                "annotators": [AnnotatorLabels(**row) for row in data["annotators"]],
                "labels_per_sentence": [(int(n), int(s)) for n, s in data["labels_per_sentence"]],
                "provenance": Provenance(**data["provenance"]),
            }
        )

    @property
    def gold(self) -> int:
        return self.adjudicated + self.majority + self.single

    @property
    def sentences_labelled(self) -> int:
        return sum(sentences for _, sentences in self.labels_per_sentence)

    @property
    def sentences_shared(self) -> int:
        """Sentences with two or more stance labels."""
        return sum(sentences for n, sentences in self.labels_per_sentence if n >= 2)


# Figures other parts of Stance compute. Each is optional in the Methods; without it, the
# paragraph leaves its sentence out.


@dataclass(frozen=True)
class ReliabilityInterval:
    """A bootstrap confidence interval of Krippendorff's alpha."""

    low: float
    high: float
    level: float = 0.95
    resamples: int = 0
    seed: int | None = None
    method: str = ""  # how the resamples were drawn (annotate.agreement.BOOTSTRAP_METHOD)


@dataclass(frozen=True)
class EvaluationSliceScore:
    """The active model scored on the random evaluation slice (never trained on, labelled
    without suggestions). `f_avg` is None when the slice was too small to score (`reason`)."""

    sentences: int
    f_avg: float | None
    macro_f1: float | None = None
    accuracy: float | None = None
    version: int | None = None
    share: float | None = None  # the control share when it was trained
    left_out: int = 0  # slice sentences labelled with a suggestion on screen: not scored
    copies: int = 0  # duplicates of slice sentences kept out of training
    reason: str = ""


@dataclass(frozen=True)
class DuplicateGroups:
    """Sentences grouped as the same or near-identical text (Sentence.duplicate_group), and
    what the splits made of them: articles sharing a group are one unit, kept in one split."""

    groups: int  # groups of two or more sentences, in the whole corpus
    sentences: int  # sentences in them
    across_articles: int = 0  # groups whose sentences lie in two or more articles
    articles_joined: int = 0  # exported articles in a unit with another
    units: int = 0  # units of two or more exported articles


def _annotators(target: Target) -> list[AnnotatorLabels]:
    rows = (
        AnnotatorTally.objects.filter(target=target)
        .filter(Q(labels__gt=0) | Q(skips__gt=0))
        .order_by("-labels", "annotator_id")
        .values_list("annotator_id", "labels", "skips")
    )
    return [AnnotatorLabels(annotator_id=a, labels=n, skips=s) for a, n, s in rows]


def _gold_counts(target: Target) -> dict[str, int]:
    """How each sentence's gold label was decided: the tallies' generated `gold` column is
    the gold rule (annotate.gold), so one aggregate counts every method."""
    open_ = Q(adjudicated="")
    # Named n_*: an aggregate named like a column (`adjudicated`) would shadow it in the
    # filters that follow.
    counts = SentenceTally.objects.filter(target=target).aggregate(
        n_adjudicated=Count("id", filter=~open_),
        n_majority=Count("id", filter=open_ & Q(votes__gt=1) & ~Q(gold="")),
        n_single=Count("id", filter=open_ & Q(votes=1)),
        n_ties=Count("id", filter=open_ & Q(votes__gt=1, gold="")),
        n_skipped_only=Count("id", filter=open_ & Q(votes=0, skip__gt=0)),
    )
    return {name.removeprefix("n_"): value or 0 for name, value in counts.items()}


def _labels_per_sentence(target: Target) -> list[tuple[int, int]]:
    rows = (
        SentenceTally.objects.filter(target=target, votes__gt=0)
        .values_list("votes")
        .annotate(n=Count("id"))
        .order_by("votes")
    )
    return [(votes, n) for votes, n in rows]


def _largest(counts: Counter[str], limit: int | None = None) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit])


def _provenance(target: Target) -> Provenance:
    """One GROUP BY over the articles with a stance label or an adjudication (the export's
    articles, annotate.splits.exported_articles), by licence, import file and source."""
    labelled = SentenceTally.objects.filter(target=target, sentence__article_id=OuterRef("pk")).filter(
        Q(votes__gt=0) | ~Q(adjudicated="")
    )
    rows = (
        Article.objects.filter(Exists(labelled))
        .values_list("licence", "imported_from", "source")
        .annotate(
            n=Count("id"),
            undated=Count("id", filter=Q(published__isnull=True)),
            first=Min("published"),
            last=Max("published"),
            imported_first=Min("created_at"),
            imported_last=Max("created_at"),
        )
        .order_by()
    )
    licences, files, origins, sources = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    firsts, lasts, imported = [], [], []
    articles = undated = 0
    for licence, origin, source, n, no_date, first, last, imported_first, imported_last in rows:
        articles += n
        undated += no_date
        licences[licence or UNKNOWN_LICENCE] += n
        (origins if origin in NOT_FILES else files)[origin] += n
        sources[source] += n
        firsts += [first] if first else []
        lasts += [last] if last else []
        imported += [imported_first, imported_last]
    return Provenance(
        articles=articles,
        licences=_largest(licences),
        sources=_largest(sources, NAMED),
        source_count=len(sources),
        files=_largest(files, NAMED),
        file_count=len(files),
        other_origins=_largest(origins),
        published_first=min(firsts).isoformat() if firsts else None,
        published_last=max(lasts).isoformat() if lasts else None,
        undated=undated,
        imported_first=min(imported).date().isoformat() if imported else None,
        imported_last=max(imported).date().isoformat() if imported else None,
    )


def process_figures(*, target: Target) -> ProcessFigures:
    """Count the Annotation process section's figures (five aggregate queries)."""
    annotators = _annotators(target)
    stance = ~Q(label=Label.SKIP)
    help_ = Annotation.objects.filter(target=target).aggregate(
        shown=Count("id", filter=stance & Q(suggestion_shown=True)),
        accepted=Count("id", filter=stance & Q(accepted_suggestion=True)),
    )
    return ProcessFigures(
        annotators=annotators,
        labels=sum(a.labels for a in annotators),
        skips=sum(a.skips for a in annotators),
        shown=help_["shown"] or 0,
        accepted=help_["accepted"] or 0,
        labels_per_sentence=_labels_per_sentence(target),
        **_gold_counts(target),
        provenance=_provenance(target),
    )


def stored_process(data: dict[str, Any] | None, *, target: Target) -> ProcessFigures:
    """The figures a summary stored, or counted now for a summary stored before it held them."""
    return process_figures(target=target) if data is None else ProcessFigures.from_dict(data)


def duplicate_figures(*, units: Sequence[int]) -> DuplicateGroups:
    """The corpus's duplicate groups (one aggregate over the grouped sentences) and, from the
    exported articles' units (annotate.splits.article_units), how many were joined."""
    sizes = (
        Sentence.objects.filter(duplicate_group__isnull=False)
        .values("duplicate_group")
        .annotate(n=Count("id"), articles=Count("article_id", distinct=True))
        .filter(n__gt=1)
        .order_by()
    )
    totals = sizes.aggregate(
        groups=Count("duplicate_group"),
        sentences=Sum("n"),
        across=Count("duplicate_group", filter=Q(articles__gt=1)),
    )
    per_unit = Counter(units)
    joined = [n for n in per_unit.values() if n > 1]
    return DuplicateGroups(
        groups=totals["groups"] or 0,
        sentences=totals["sentences"] or 0,
        across_articles=totals["across"] or 0,
        articles_joined=sum(joined),
        units=len(joined),
    )


def stored_duplicates(data: dict[str, Any] | None) -> DuplicateGroups | None:
    """The figures a summary stored; None for one stored before it held them."""
    return None if data is None else DuplicateGroups(**data)


def reliability_interval(figures: Summary) -> ReliabilityInterval | None:
    """Alpha's bootstrap interval as the summary stored it, or None where it has none."""
    agreement = figures.agreement
    if agreement.alpha_low is None or agreement.alpha_high is None:
        return None
    how = figures.reliability
    return ReliabilityInterval(
        low=agreement.alpha_low,
        high=agreement.alpha_high,
        level=how.level if how is not None else 0.95,
        resamples=agreement.alpha_replicates,
        seed=how.seed if how is not None else None,
        method=how.method if how is not None else "",
    )


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def evaluation_score(version: ModelVersion | None) -> EvaluationSliceScore | None:
    """The version's score on the evaluation slice, as its metrics stored it; None without a
    version, or for one trained before the slice."""
    held = None if version is None else version.metrics.get("evaluation_slice")
    if version is None or not isinstance(held, dict):
        return None
    scored = bool(held.get("scored"))
    return EvaluationSliceScore(
        sentences=int(held.get("n") or 0),
        f_avg=_number(held.get("f_avg")) if scored else None,
        macro_f1=_number(held.get("macro_f1")) if scored else None,
        accuracy=_number(held.get("accuracy")) if scored else None,
        version=version.pk,
        share=_number(held.get("share")),
        left_out=int(held.get("left_out") or 0),
        copies=int(held.get("copies_left_out") or 0),
        reason=str(held.get("reason") or ""),
    )
