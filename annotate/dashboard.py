"""The curators' dashboard: progress, speed, label distribution, stance profiles, agreement
and model metrics for one target.

Every figure comes from a fixed number of queries whose cost does not grow with the number
of labels: progress reads the triggers' tallies (annotate.models.SentenceTally and
AnnotatorTally) of the annotators and of the first ARTICLE_LIMIT articles; the figures
that must read every label (agreement, gold-label distributions, median times, the
suggestions' sway) come from the target's stored summary (annotate.summary), which says
when it was computed and how many changes it misses. Distributions and stance profiles use
gold labels (annotate.gold: adjudication, else strict majority, else a single label), one
per sentence, so a sentence labelled twice counts once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, FilteredRelation, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from annotate import progress
from annotate.agreement_figures import Figures, LabelAlpha, Reliability, interval_text
from annotate.anchoring import Anchoring, AnnotatorAnchoring
from annotate.extra_annotators import ExtraAnnotators, dashboard_figure
from annotate.model_history import Confusion, VersionPoint, model_versions
from annotate.models import (
    STANCE_LABELS,
    Annotation,
    AnnotatorTally,
    Article,
    Label,
    Sentence,
    Suggestion,
    Target,
)
from annotate.progress import annotator_share, start_of_day
from annotate.roles import ANNOTATOR
from annotate.splits import split_warnings
from annotate.summary import NO_SOURCE, Distribution, SuggestionSway, Summary, summary_for

#: Articles shown one by one (progress, stance profiles); the rest are counted only.
ARTICLE_LIMIT = 100
#: How much of a sentence the stance profile's tooltip quotes.
TOOLTIP_CHARS = 90
MS_PER_HOUR = 3_600_000


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


@dataclass
class Dashboard:
    target: Target
    annotators: list[AnnotatorProgress]
    articles: list[ArticleProgress]
    article_total: int
    sentence_total: int
    profiles: list[ArticleProfile]
    #: The figures that read every label, as last computed; None until the first is done.
    summary: Summary | None
    versions: list[VersionPoint]
    confusion: Confusion | None
    #: Dynamic overlap's sentences that asked for an extra annotator; None when it is off.
    extras: ExtraAnnotators | None = None

    @property
    def distribution(self) -> Distribution:
        return self.summary.distribution if self.summary else Distribution()

    @property
    def by_source(self) -> dict[str, Distribution]:
        return self.summary.by_source if self.summary else {}

    @property
    def agreement(self) -> Figures:
        return self.summary.agreement if self.summary else Figures()

    @property
    def agreement_by_source(self) -> dict[str, Figures]:
        """By source name, "(no source)" for articles without one, as the distributions are."""
        figures = self.summary.agreement_by_source if self.summary else {}
        named = ((source or NO_SOURCE, f) for source, f in figures.items())
        return dict(sorted(named, key=lambda item: item[0].lower()))

    @property
    def agreement_by_suggestion(self) -> dict[str, Figures]:
        return self.summary.agreement_by_suggestion if self.summary else {}

    @property
    def alpha_interval(self) -> str:
        """'95 % CI a–b' of the overall alpha, or '' where the summary has none."""
        return interval_text(self.agreement)

    @property
    def reliability(self) -> Reliability | None:
        return self.summary.reliability if self.summary else None

    @property
    def label_alphas(self) -> list[LabelAlpha]:
        return self.reliability.per_label if self.reliability else []

    @property
    def left_out(self) -> list[tuple[str, float | None, float | None, int, int, int]]:
        """Alpha with each annotator left out, by username as the curators see them: (name,
        alpha, its change from the overall alpha, sentences, labels, the annotator's labels)."""
        names = self.usernames
        overall = self.agreement.alpha
        return [
            (
                names.get(row.annotator, str(row.annotator)),
                row.alpha,
                None if row.alpha is None or overall is None else row.alpha - overall,
                row.sentences,
                row.labels,
                row.own_labels,
            )
            for row in (self.reliability.left_out if self.reliability else [])
        ]

    @property
    def sway(self) -> SuggestionSway | None:
        return self.summary.sway if self.summary else None

    @property
    def anchoring(self) -> Anchoring | None:
        return self.summary.anchoring if self.summary else None

    @property
    def anchoring_rows(self) -> list[tuple[str, AnnotatorAnchoring]]:
        """Each annotator's agreement with the model with and without the suggestion, by
        username as the curators see them."""
        rows = self.anchoring.annotators if self.anchoring else []
        return sorted(((row.username, row) for row in rows), key=lambda item: item[0].lower())

    @property
    def split_warnings(self) -> list[str]:
        """What is wrong with the gold export's splits (default seed), from the stored
        per-split counts: shown beside the export button."""
        stored = self.summary.split_counts if self.summary else None
        if not stored:
            return []
        by_split = {name: dict(zip(STANCE_LABELS, row, strict=True)) for name, row in stored["gold"].items()}
        return split_warnings(by_split, labels=STANCE_LABELS)

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


def annotator_progress(
    *, target: Target, sentences: int, medians: dict[int, float]
) -> list[AnnotatorProgress]:
    """Everyone with a label for the target, and every active annotator, by username.

    Labels and skips come from the annotators' tallies; "today" counts each one's labels
    changed since midnight on the (annotator, target, -updated_at) index, so it costs what
    a day's labels cost, not the whole history.
    """
    today = (
        Annotation.objects.filter(
            annotator_id=OuterRef("annotator_id"), target=target, updated_at__gte=start_of_day()
        )
        .order_by()
        .values("annotator_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    rows = (
        AnnotatorTally.objects.filter(target=target)
        .filter(Q(labels__gt=0) | Q(skips__gt=0))
        .annotate(today=Coalesce(Subquery(today, output_field=IntegerField()), Value(0)))
        .values("annotator_id", "annotator__username", "labels", "skips", "today")
    )
    counted = {row["annotator_id"]: row for row in rows}
    active = dict(
        get_user_model()
        .objects.filter(groups__name=ANNOTATOR, is_active=True)
        .values_list("id", "username")
        .distinct()
    )
    # The same share as the annotators' own progress bars show.
    share = annotator_share(sentences=sentences, overlap=target.overlap, annotators=len(active))
    people = {**active, **{k: row["annotator__username"] for k, row in counted.items()}}
    result = []
    for annotator_id, username in people.items():
        row: Mapping[str, Any] = counted.get(annotator_id, {})
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


def _tallied(target: Target, articles: list[int]):
    """The sentences of these articles with their tally for the target (LEFT JOIN)."""
    return Sentence.objects.filter(article_id__in=articles).annotate(
        tally=FilteredRelation("tallies", condition=Q(tallies__target=target))
    )


def article_progress(*, target: Target, limit: int = ARTICLE_LIMIT) -> list[ArticleProgress]:
    """The first `limit` articles (by id) with how many of their sentences are labelled,
    have the overlap of labels, and have the overlap of decisions (labels and skips)."""
    first = list(Article.objects.order_by("id").values_list("id", flat=True)[:limit])
    overlap = target.overlap
    votes = Coalesce(F("tally__votes"), Value(0))
    decisions = votes + Coalesce(F("tally__skip"), Value(0))
    rows = (
        _tallied(target, first)
        .annotate(n=votes, d=decisions)
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


def _shorten(text: str, limit: int = TOOLTIP_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stance_profiles(*, target: Target, articles: list[ArticleProgress]) -> list[ArticleProfile]:
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
        _tallied(target, ids)
        .order_by("article_id", "position")
        .values_list("id", "article_id", "position", "text", "tally__gold")
    )
    for sentence_id, article_id, position, text, gold in rows:
        if gold:
            label, kind = gold, "gold"
        elif sentence_id in suggested:
            label, kind = suggested[sentence_id], "suggestion"
        else:
            label, kind = None, "none"
        cells[article_id].append(ProfileCell(sentence_id, position, label, kind, _shorten(text)))
    return [ArticleProfile(a.article_id, a.title, a.source, cells[a.article_id]) for a in articles]


def dashboard_for(*, target: Target) -> Dashboard:
    """Every figure of the dashboard for one target."""
    articles = article_progress(target=target)
    article_total = Article.objects.count()
    # Every article is in the list unless there are more than the limit; a large corpus's
    # size is read as the progress bars read it (progress.corpus_size, constant time).
    sentences = (
        sum(a.sentences for a in articles) if article_total <= len(articles) else progress.corpus_size()
    )
    summary = summary_for(target=target)
    versions, confusion = model_versions(target=target)
    return Dashboard(
        target=target,
        annotators=annotator_progress(
            target=target, sentences=sentences, medians=summary.median_ms if summary else {}
        ),
        articles=articles,
        article_total=article_total,
        sentence_total=sentences,
        profiles=stance_profiles(target=target, articles=articles),
        summary=summary,
        versions=versions,
        confusion=confusion,
        extras=dashboard_figure(target=target, summary=summary),
    )
