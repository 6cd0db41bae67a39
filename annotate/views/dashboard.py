"""Curators and admins: the target's progress, distributions, agreement and models at a glance."""

from __future__ import annotations

from dataclasses import replace

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotate.charts.bars import Bar, Segment, StackedRow, bar_chart, progress_bars, stacked_bars
from annotate.charts.heat_map import heat_map
from annotate.charts.lines import Series, line_chart
from annotate.charts.strip import StripCell, label_legend, sentence_list, stance_strip
from annotate.charts.svg import LABEL_COLOURS, TRACK
from annotate.dashboard import Dashboard, dashboard_for
from annotate.evaluation import evaluations
from annotate.models import STANCE_LABELS, EvaluationItem, Target
from annotate.roles import require_curator
from annotate.summary import queue_recompute, summary_for
from annotate.tasks import summarise_pending

DONE, STARTED, SKIPPED = "#0b57d0", "#8fb0ea", "#b8b8bd"
#: Short names for annotate.agreement.agreement_by_suggestion's keys, to fit a chart's labels.
SUGGESTION_KEYS = {"with suggestion": "suggestion shown", "without suggestion": "no suggestion"}
METRICS = [("accuracy", "accuracy"), ("macro_f1", "macro-F1"), ("f_avg", "F_avg")]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _label_segments(counts: dict[str, int]) -> list[Segment]:
    return [Segment(label, counts.get(label, 0), LABEL_COLOURS[label]) for label in STANCE_LABELS]


def _learning_series(board: Dashboard) -> list[Series]:
    """One line a metric, its points in order of training-set size."""
    versions = sorted(board.versions, key=lambda v: (v.train_size, v.version_id))
    series = []
    for key, label in METRICS:
        scored = [(v, getattr(v, key)) for v in versions if getattr(v, key) is not None]
        series.append(
            Series(
                label,
                [(v.train_size, value) for v, value in scored],
                [
                    f"v{v.version_id}, {v.created_at:%Y-%m-%d}: {label} {value:.3f} on {v.train_size} labels"
                    for v, value in scored
                ],
            )
        )
    return series


def dashboard_charts(board: Dashboard) -> dict[str, object]:
    """The dashboard's pictures, built from its figures (the tables use the figures directly)."""
    name = board.target.name
    legend = [(label, LABEL_COLOURS[label]) for label in STANCE_LABELS]
    result: dict[str, object] = {
        "annotator_progress": progress_bars(
            [
                StackedRow(
                    p.username,
                    [Segment("labels", p.labels, DONE), Segment("skips", p.skips, SKIPPED)],
                    p.share,
                )
                for p in board.annotators
            ],
            title=f"Progress per annotator on {name}: labels and skips against their share",
            legend=[("labels", DONE), ("skips", SKIPPED), ("still to do", TRACK)],
        ),
        "speed": bar_chart(
            [
                Bar(p.username, p.per_hour, "n/a" if p.per_hour is None else f"{p.per_hour:.0f}/h")
                for p in board.annotators
            ],
            title=f"Labels per hour per annotator on {name}, at their median time per sentence",
        ),
        "article_progress": progress_bars(
            [
                StackedRow(
                    a.title,
                    [
                        Segment("full overlap", a.full, DONE),
                        Segment("done with skips", a.done_with_skips, SKIPPED),
                        Segment("started, overlap not reached", a.started, STARTED),
                    ],
                    a.sentences,
                    f"{a.done} / {a.sentences} ({a.percent}%)",
                )
                for a in board.articles
            ],
            title=f"Progress per article on {name}: sentences done (skips count as decisions) and started",
            legend=[
                ("full overlap", DONE),
                ("done with skips", SKIPPED),
                ("started", STARTED),
                ("not started", TRACK),
            ],
        ),
        "distribution": bar_chart(
            [
                Bar(label, board.distribution.counts[label], colour=LABEL_COLOURS[label])
                for label in STANCE_LABELS
            ]
            + [Bar("unresolved (tie)", board.distribution.unresolved, colour=LABEL_COLOURS[None])],
            title=f"Gold labels for {name}",
        ),
        "by_source": stacked_bars(
            [StackedRow(source, _label_segments(d.counts)) for source, d in board.by_source.items()],
            title=f"How each source's sentences lean on {name}: share of gold labels",
            legend=legend,
        ),
        "legend": label_legend(),
        "profiles": [
            (
                profile,
                stance_strip(
                    [
                        StripCell(
                            c.label,
                            f"{c.position + 1}: {c.label or 'no label'}"
                            f"{' (suggested)' if c.kind == 'suggestion' else ''} · {c.text}",
                            faint=c.kind == "suggestion",
                        )
                        for c in profile.cells
                    ],
                    title=(
                        f"Stance profile of {profile.title}, {len(profile.cells)} sentences in order: "
                        f"{profile.pro} pro, {profile.contra} contra, {profile.neutral} neutral "
                        f"({profile.suggested} of them suggested by the model), {profile.unlabelled} without a label"
                    ),
                ),
                sentence_list(
                    profile.cells, article_url=reverse("article-detail", args=[profile.article_id])
                ),
            )
            for profile in board.profiles
        ],
        "agreement_by_source": bar_chart(
            [
                Bar(source, f.alpha, f"alpha {_fmt(f.alpha)} on {f.alpha_sentences}")
                for source, f in board.agreement_by_source.items()
            ],
            title=f"Krippendorff's alpha per source on {name}",
            domain=(0, 1),
        ),
        "agreement_by_suggestion": bar_chart(
            [
                Bar(
                    f"alpha · {SUGGESTION_KEYS.get(key, key)}",
                    f.alpha,
                    f"{_fmt(f.alpha)} on {f.alpha_sentences} sentences",
                )
                for key, f in board.agreement_by_suggestion.items()
            ]
            + [
                Bar(f"% agree · {SUGGESTION_KEYS.get(key, key)}", f.percent, f"{_fmt(f.percent)}", "#5f6368")
                for key, f in board.agreement_by_suggestion.items()
            ],
            title=f"Agreement with and without a suggestion on screen for {name}",
            domain=(0, 1),
        ),
        "learning_curve": None,
        "confusion": None,
    }
    if board.versions:
        result["learning_curve"] = line_chart(
            _learning_series(board),
            title=f"Learning curve for {name}: cross-validated metrics against training-set size",
            x_label="gold labels in the training set",
            y_label="score",
        )
    if board.confusion:
        result["confusion"] = heat_map(
            board.confusion.matrix,
            board.confusion.classes,
            title=f"Confusion matrix of v{board.confusion.version_id} (rows gold, columns predicted)",
        )
    return result


@require_GET
def dashboard_page(request: HttpRequest, target_id: int) -> HttpResponse:
    require_curator(request.user, "The dashboard")
    target = get_object_or_404(Target, pk=target_id)
    board = dashboard_for(target=target)
    context = {
        "target": target,
        "board": board,
        "charts": dashboard_charts(board),
        "evaluations": evaluations(target=target, summary=board.summary),
        "evaluation_items": EvaluationItem.objects.filter(target=target).count(),
    }
    return render(request, "annotate/dashboard.html", context)


@require_GET
def dashboard_summary(request: HttpRequest, target_id: int) -> HttpResponse:
    """The summary's status line, asked for every few seconds while a recompute runs; once
    a newer summary is stored than the page shows (?changes=), the page reloads."""
    require_curator(request.user, "The dashboard")
    target = get_object_or_404(Target, pk=target_id)
    summary = summary_for(target=target, recompute=False)
    shown = request.GET.get("changes", "")
    if summary is not None and shown != str(summary.changes):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    if summary is not None:
        summary = replace(summary, recomputing=summarise_pending(target_id=target.pk))
    context = {"target": target, "summary": summary}
    return render(request, "annotate/dashboard.html#summary-status", context)


@require_POST
def dashboard_recompute(request: HttpRequest, target_id: int) -> HttpResponse:
    """Queue a recompute of the summary (the status line then follows it)."""
    require_curator(request.user, "The dashboard")
    target = get_object_or_404(Target, pk=target_id)
    queue_recompute(target=target)
    return redirect("dashboard", target_id=target.pk)
