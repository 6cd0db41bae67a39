"""The curators' dashboard: progress, speed, label distribution, stance profiles, agreement
and model metrics for one target.

Every figure comes from a fixed number of aggregate queries, whatever the size of the
corpus: nothing here queries once per annotator, article or sentence. Distributions and
stance profiles use gold labels (annotate.gold: adjudication, else strict majority, else a
single label), one per sentence, so a sentence labelled twice counts once.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber

from annotate import agreement
from annotate.gold import Gold, gold_labels
from annotate.models import (
    STANCE_LABELS,
    Adjudication,
    Annotation,
    Article,
    Label,
    ModelVersion,
    Sentence,
    Suggestion,
    Target,
)
from annotate.progress import annotator_share, start_of_day
from annotate.roles import ANNOTATOR

#: Articles shown one by one (progress, stance profiles); the rest are counted only.
ARTICLE_LIMIT = 100
#: How much of a sentence the stance profile's tooltip quotes.
TOOLTIP_CHARS = 90
MS_PER_HOUR = 3_600_000
NO_SOURCE = "(no source)"


@dataclass(frozen=True)
class AnnotatorProgress:
    annotator_id: int
    username: str
    labels: int  # current non-skip labels
    skips: int
    today: int  # labels and skips given or changed since local midnight
    share: int  # their part of the corpus, as the label queue computes it
    median_ms: float | None  # median time to a decision (labels and skips) with a recorded time

    @property
    def done(self) -> int:
        return self.labels + self.skips

    @property
    def per_hour(self) -> float | None:
        """Decisions an hour at the median pace: robust to a tab left open for minutes."""
        return MS_PER_HOUR / self.median_ms if self.median_ms else None

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.share)) if self.share else 100


@dataclass(frozen=True)
class ArticleProgress:
    article_id: int
    title: str
    source: str
    sentences: int
    labelled: int  # sentences with at least one non-skip label
    full: int  # sentences with the target's overlap of non-skip labels
    done: int = 0  # sentences with the overlap of decisions, skips included (full ones too)
    started: int = 0  # sentences with a decision, short of the overlap

    @property
    def done_with_skips(self) -> int:
        """Done sentences that reached the overlap only by counting skips."""
        return self.done - self.full

    @property
    def percent(self) -> int:
        """Done sentences: a skip is a decision, so an article whose every sentence got the
        overlap of decisions is 100 %, whether or not some of them were skips."""
        return round(100 * self.done / self.sentences) if self.sentences else 100


@dataclass
class Distribution:
    """Gold labels of a set of sentences; ties between annotators stay unresolved."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STANCE_LABELS, 0))
    unresolved: int = 0

    @property
    def resolved(self) -> int:
        return sum(self.counts.values())

    def add(self, gold: Gold) -> None:
        if gold.label is None:
            self.unresolved += 1
        else:
            self.counts[gold.label] = self.counts.get(gold.label, 0) + 1

    def share(self, label: str) -> float | None:
        return self.counts.get(label, 0) / self.resolved if self.resolved else None


@dataclass(frozen=True)
class ProfileCell:
    sentence_id: int
    position: int
    label: str | None
    kind: str  # "gold", "suggestion" or "none"
    text: str  # the sentence, shortened for a tooltip


@dataclass(frozen=True)
class ArticleProfile:
    article_id: int
    title: str
    source: str
    cells: list[ProfileCell]

    def count(self, label: str | None, kind: str | None = None) -> int:
        return sum(1 for c in self.cells if c.label == label and (kind is None or c.kind == kind))

    @property
    def pro(self) -> int:
        return self.count(Label.PRO)

    @property
    def contra(self) -> int:
        return self.count(Label.CONTRA)

    @property
    def neutral(self) -> int:
        return self.count(Label.NEUTRAL)

    @property
    def suggested(self) -> int:
        return sum(1 for c in self.cells if c.kind == "suggestion")

    @property
    def unlabelled(self) -> int:
        return self.count(None)


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
class VersionPoint:
    version_id: int
    created_at: datetime.datetime
    live_since: datetime.datetime  # when it finished training and could become active
    train_size: int
    accuracy: float | None
    macro_f1: float | None
    f_avg: float | None
    active: bool


@dataclass(frozen=True)
class Confusion:
    version_id: int
    classes: list[str]
    matrix: list[list[int]]  # rows: gold label, columns: predicted

    @property
    def rows(self) -> list[tuple[str, list[int]]]:
        return list(zip(self.classes, self.matrix, strict=False))


@dataclass
class Dashboard:
    target: Target
    annotators: list[AnnotatorProgress]
    articles: list[ArticleProgress]
    article_total: int
    sentence_total: int
    distribution: Distribution
    by_source: dict[str, Distribution]
    profiles: list[ArticleProfile]
    agreement: agreement.Figures
    agreement_by_source: dict[str, agreement.Figures]
    agreement_by_suggestion: dict[str, agreement.Figures]
    sway: SuggestionSway | None
    versions: list[VersionPoint]
    confusion: Confusion | None

    @property
    def usernames(self) -> dict[int, str]:
        return {a.annotator_id: a.username for a in self.annotators}

    @property
    def pairs(self) -> list[tuple[str, str, float | None, int]]:
        """Cohen's kappa of each pair of annotators, by username."""
        names = self.usernames
        return [
            (
                names.get(p.annotator_a, str(p.annotator_a)),
                names.get(p.annotator_b, str(p.annotator_b)),
                p.kappa,
                p.sentences,
            )
            for p in self.agreement.pairs
        ]


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
        middles[annotator_id].append(spent_ms)
    return {annotator_id: statistics.fmean(values) for annotator_id, values in middles.items()}


def annotator_progress(*, target: Target, sentences: int) -> list[AnnotatorProgress]:
    """Everyone with a label for the target, and every active annotator, by username."""
    rows = (
        Annotation.objects.filter(target=target)
        .values("annotator_id", "annotator__username")
        .annotate(
            skips=Count("id", filter=Q(label=Label.SKIP)),
            labels=Count("id", filter=~Q(label=Label.SKIP)),
            today=Count("id", filter=Q(updated_at__gte=start_of_day())),
        )
        .order_by()
    )
    counted = {row["annotator_id"]: row for row in rows}
    active = dict(
        get_user_model()
        .objects.filter(groups__name=ANNOTATOR, is_active=True)
        .values_list("id", "username")
        .distinct()
    )
    medians = median_spent_ms(target=target)
    # The same share as the annotators' own progress bars show.
    share = annotator_share(sentences=sentences, overlap=target.overlap, annotators=len(active))
    people = {**active, **{k: row["annotator__username"] for k, row in counted.items()}}
    result = []
    for annotator_id, username in people.items():
        row = counted.get(annotator_id, {})
        labels, skips = row.get("labels", 0), row.get("skips", 0)
        result.append(
            AnnotatorProgress(
                annotator_id=annotator_id,
                username=username,
                labels=labels,
                skips=skips,
                today=row.get("today", 0),
                share=max(share, labels + skips) if annotator_id in active else labels + skips,
                median_ms=medians.get(annotator_id),
            )
        )
    return sorted(result, key=lambda p: p.username.lower())


def article_progress(*, target: Target, limit: int = ARTICLE_LIMIT) -> list[ArticleProgress]:
    """The first `limit` articles (by id) with how many of their sentences are labelled,
    have the overlap of labels, and have the overlap of decisions (labels and skips)."""

    def count(decisions: QuerySet[Annotation]) -> Coalesce:
        per_sentence = (
            decisions.filter(target=target, sentence=OuterRef("pk"))
            .order_by()
            .values("sentence_id")
            .annotate(n=Count("*"))
            .values("n")
        )
        return Coalesce(Subquery(per_sentence, output_field=IntegerField()), Value(0))

    first = Article.objects.order_by("id").values("id")[:limit]
    overlap = target.overlap
    rows = (
        Sentence.objects.filter(article_id__in=first)
        .annotate(n=count(Annotation.objects.exclude(label=Label.SKIP)), d=count(Annotation.objects.all()))
        .values("article_id", "article__title", "article__source")
        .annotate(
            sentences=Count("id"),
            labelled=Count("id", filter=Q(n__gte=1)),
            full=Count("id", filter=Q(n__gte=overlap)),
            done=Count("id", filter=Q(d__gte=overlap)),
            started=Count("id", filter=Q(d__gte=1, d__lt=overlap)),
        )
        .order_by("article_id")
    )
    return [
        ArticleProgress(
            article_id=row["article_id"],
            title=row["article__title"],
            source=row["article__source"],
            sentences=row["sentences"],
            labelled=row["labelled"],
            full=row["full"],
            done=row["done"],
            started=row["started"],
        )
        for row in rows
    ]


def gold_by_sentence(*, target: Target) -> dict[int, Gold]:
    return {gold.sentence_id: gold for gold in gold_labels(target=target)}


def label_distribution(
    *, target: Target, gold: dict[int, Gold]
) -> tuple[Distribution, dict[str, Distribution]]:
    """Gold labels of the target, overall and per source outlet (sources sorted by name)."""
    labelled = Sentence.objects.filter(
        Exists(Annotation.objects.filter(target=target, sentence=OuterRef("pk")).exclude(label=Label.SKIP))
        | Exists(Adjudication.objects.filter(target=target, sentence=OuterRef("pk")))
    ).values_list("id", "article__source")
    overall = Distribution()
    by_source: dict[str, Distribution] = defaultdict(Distribution)
    for sentence_id, source in labelled.iterator(chunk_size=10_000):
        decided = gold.get(sentence_id)
        if decided is None:
            continue
        overall.add(decided)
        by_source[source or NO_SOURCE].add(decided)
    return overall, dict(sorted(by_source.items(), key=lambda item: item[0].lower()))


def _shorten(text: str, limit: int = TOOLTIP_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stance_profiles(
    *, target: Target, gold: dict[int, Gold], articles: list[ArticleProgress]
) -> list[ArticleProfile]:
    """Each article's sentences in order, labelled by gold, else the active model's suggestion."""
    ids = [a.article_id for a in articles]
    suggested: dict[int, str] = {}
    if target.active_version_id is not None:
        suggested = dict(
            Suggestion.objects.filter(
                model_version_id=target.active_version_id, sentence__article_id__in=ids
            ).values_list("sentence_id", "label")
        )
    cells: dict[int, list[ProfileCell]] = defaultdict(list)
    rows = (
        Sentence.objects.filter(article_id__in=ids)
        .order_by("article_id", "position")
        .values_list("id", "article_id", "position", "text")
    )
    for sentence_id, article_id, position, text in rows:
        decided = gold.get(sentence_id)
        if decided is not None and decided.label is not None:
            label, kind = decided.label, "gold"
        elif sentence_id in suggested:
            label, kind = suggested[sentence_id], "suggestion"
        else:
            label, kind = None, "none"
        cells[article_id].append(ProfileCell(sentence_id, position, label, kind, _shorten(text)))
    return [ArticleProfile(a.article_id, a.title, a.source, cells[a.article_id]) for a in articles]


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


def _metric(metrics: dict[str, Any], name: str) -> float | None:
    value = metrics.get(name)
    return float(value) if isinstance(value, int | float) else None


def model_versions(*, target: Target) -> tuple[list[VersionPoint], Confusion | None]:
    """Ready versions, oldest first, and the active version's confusion matrix."""
    versions = ModelVersion.objects.filter(target=target, status=ModelVersion.Status.READY).order_by(
        "created_at", "id"
    )
    points, confusion = [], None
    for version_id, created_at, finished_at, train_size, metrics in versions.values_list(
        "id", "created_at", "finished_at", "train_size", "metrics"
    ):
        metrics = metrics or {}
        active = version_id == target.active_version_id
        points.append(
            VersionPoint(
                version_id=version_id,
                created_at=created_at,
                live_since=finished_at or created_at,
                train_size=train_size,
                accuracy=_metric(metrics, "accuracy"),
                macro_f1=_metric(metrics, "macro_f1"),
                f_avg=_metric(metrics, "f_avg"),
                active=active,
            )
        )
        if active and metrics.get("confusion"):
            classes = list(metrics.get("classes") or STANCE_LABELS)
            confusion = Confusion(version_id, classes, [list(row) for row in metrics["confusion"]])
    return points, confusion


def dashboard_for(*, target: Target) -> Dashboard:
    """Every figure of the dashboard for one target."""
    articles = article_progress(target=target)
    article_total = Article.objects.count()
    # Every article is in the list unless there are more than the limit.
    sentences = (
        sum(a.sentences for a in articles) if article_total <= len(articles) else Sentence.objects.count()
    )
    gold = gold_by_sentence(target=target)
    distribution, by_source = label_distribution(target=target, gold=gold)
    versions, confusion = model_versions(target=target)
    by_source_agreement = agreement.agreement_by(target, "sentence__article__source")
    return Dashboard(
        target=target,
        annotators=annotator_progress(target=target, sentences=sentences),
        articles=articles,
        article_total=article_total,
        sentence_total=sentences,
        distribution=distribution,
        by_source=by_source,
        profiles=stance_profiles(target=target, gold=gold, articles=articles),
        agreement=agreement.target_agreement(target),
        agreement_by_source=dict(
            sorted(
                ((str(source or NO_SOURCE), figures) for source, figures in by_source_agreement.items()),
                key=lambda item: item[0].lower(),
            )
        ),
        agreement_by_suggestion=agreement.agreement_by_suggestion(target),
        sway=suggestion_sway(target=target, since=next((v.live_since for v in versions if v.active), None)),
        versions=versions,
        confusion=confusion,
    )
