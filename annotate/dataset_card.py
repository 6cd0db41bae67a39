"""The dataset card: a Markdown page that says what an export holds and how it was made.

Contents, label distribution (per split), agreement, the gold rule, the model and the
guidelines. Its counts come from the target summary (annotate.summary), never from the
export's rows: for the default seed the summary stores each split's label counts, so the
card costs the same at ten thousand labels as at a million; another seed splits the
summary's per-article counts (one row an article).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.utils import timezone

from annotate.aggregation import RULES
from annotate.card_figures import evaluation_score, reliability_interval, stored_duplicates
from annotate.card_methods import card_sections
from annotate.duplicates import NEAR_THRESHOLD
from annotate.export import CSV_FORMULA_NOTE, FIELD_DOCS, ExportSpec, ExportSummary
from annotate.models import STANCE_LABELS, GoldMethod, ModelVersion
from annotate.splits import (
    DEFAULT_SEED,
    MIN_SPLIT_ROWS,
    MIN_SPLIT_SHARE,
    SPLITS,
    counts_by_split,
    split_warnings,
)
from annotate.summary import EXPORTED_GOLD, article_label_counts, fresh_summary, summary_for
from annotate.summary import Summary as TargetFigures


def _level(spec: ExportSpec) -> str:
    """The summary's name for the counts of the spec's level."""
    return "gold" if spec.level == "gold" else "labels"


def _export_summary(by_split: Mapping[str, Sequence[int]], *, split: bool) -> ExportSummary:
    summary = ExportSummary()
    for name, row in by_split.items():
        for label, n in zip(STANCE_LABELS, row, strict=True):
            if n:
                summary.labels[name if split else "all"][label] += n
                summary.rows += n
    return summary


def summary_from_counts(*, spec: ExportSpec, articles: dict[str, list[Any]]) -> ExportSummary:
    """What the export would write, per split and label, from the target summary's
    per-article counts (annotate.summary.article_counts): one row an article, not one a
    label. The splits are the export's (annotate.export.export_splits): the same units
    (stored with the counts) and the majority rule's gold counts; the gold level counts the
    labels the target's rule gives (stored apart under Dawid-Skene)."""
    level = _level(spec)
    counts = articles.get(EXPORTED_GOLD, articles[level]) if level == "gold" else articles[level]
    if spec.split:
        by_split = counts_by_split(
            ids=articles["ids"],
            counts=counts,
            strata=articles["gold"],
            units=articles.get("units") or None,
            seed=spec.seed,
            width=len(STANCE_LABELS),
        )
        return _export_summary(by_split, split=True)
    return _export_summary({"all": [sum(column) for column in zip(*counts, strict=True)]}, split=False)


def card_counts(*, spec: ExportSpec, figures: TargetFigures) -> ExportSummary:
    """The card's counts: the splits the summary stored for the default seed (a few
    numbers, read with it), else the summary's per-article counts split by the spec's seed."""
    stored = figures.split_counts
    if stored is None or (spec.split and spec.seed != DEFAULT_SEED):
        return summary_from_counts(spec=spec, articles=article_label_counts(target=spec.target))
    return _export_summary(stored[_level(spec)], split=spec.split)


def card_warnings(*, spec: ExportSpec, summary: ExportSummary) -> list[str]:
    """What a researcher must know about the splits before training on them
    (annotate.splits.split_warnings); none without --split."""
    if not spec.split:
        return []
    return split_warnings(summary.labels, labels=STANCE_LABELS)


@dataclass(frozen=True)
class Card:
    """A dataset card and the warnings the command prints beside it."""

    text: str
    warnings: list[str]


def card_of(*, spec: ExportSpec) -> Card:
    """The card of the browser's card download and the export form's preview. The target's
    summary holds its counts: the card reads a few numbers however many labels there are,
    and only a large target's very first card waits for the summary to be made."""
    figures = summary_for(target=spec.target) or fresh_summary(target=spec.target)
    summary = card_counts(spec=spec, figures=figures)
    return Card(
        text=dataset_card(spec=spec, summary=summary, figures=figures),
        warnings=card_warnings(spec=spec, summary=summary),
    )


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _share(count: int, total: int) -> str:
    return f"{count:,} ({count / total:.0%})" if total else "0"


def dataset_card(
    *,
    spec: ExportSpec,
    summary: ExportSummary,
    figures: TargetFigures,
    generated_at: datetime | None = None,
) -> str:
    """A Markdown dataset card: contents, label distribution, agreement, gold rule, model,
    fields and the guidelines the annotators followed. `figures` is the target's summary;
    the card says when it was computed and what it misses."""
    target = spec.target
    when = (generated_at or timezone.now()).astimezone(UTC)
    columns = [name for name, _ in SPLITS] if spec.split else ["all"]
    totals = {column: sum(summary.labels.get(column, Counter()).values()) for column in columns}
    distribution = summary.label_distribution
    stamp = figures
    agreement = stamp.agreement
    version = (
        None
        if target.active_version_id is None
        else ModelVersion.objects.filter(pk=target.active_version_id).first()
    )
    what = {
        "annotations": "one row per annotator's current label",
        "gold": "one row per sentence with a resolved gold label",
    }[spec.level]
    lines = [
        "---",
        f"pretty_name: {json.dumps(f'{target.name} stance ({spec.level})')}",
        "task_categories:",
        "- text-classification",
        "---",
        "",
        f"# {target.name}: stance dataset ({spec.level})",
        "",
        f"Exported from Stance on {when:%Y-%m-%d %H:%M} UTC.",
        "",
        *(
            [
                f"> **Not up to date**: the counts and agreement below were computed at "
                f"{stamp.computed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC; {stamp.changes_missed} "
                f"({stamp.changes_counted}; a recompute is running: download the card again shortly).",
                "",
            ]
            if stamp.changes_since
            else []
        ),
        f"- **Target**: {target.name}" + (f". {target.description}" if target.description else ""),
        f"- **Level**: {spec.level}, {what}.",
        f"- **File**: `{spec.filename}` ({spec.format}), {summary.rows:,} rows.",
        "- **Skips** (captions, credits, blurbs) are left out.",
    ]
    if spec.split:
        sizes = ", ".join(f"{name} {totals[name]:,}" for name in columns)
        by = (
            "the majority rule's gold label" if target.gold_method == GoldMethod.DAWID_SKENE else "gold label"
        )
        lines.append(
            f"- **Splits** by article, 80/10/10, seed {spec.seed}, stratified by {by}: {sizes}. "
            "No article and no duplicate group is in two splits: sentences with the same text "
            "(ignoring case, whitespace, quotes and punctuation) or a near-identical one (character "
            f"5-gram Jaccard similarity at least {NEAR_THRESHOLD}) form a group, and articles sharing "
            f"a group go to one split together.{_scan_line(figures.duplicates)}"
        )
    else:
        lines.append("- **Splits**: none.")
    lines += [
        f"- **Annotators**: {'usernames' if spec.names else 'stable pseudonyms'}."
        if spec.level == "annotations"
        else f"- **Annotators**: {agreement.annotators}.",
        "",
        "## Label distribution",
        "",
        "| label | " + " | ".join([*columns, "total"] if spec.split else columns) + " |",
        "|---|" + "---:|" * (len(columns) + spec.split),
    ]
    for label in STANCE_LABELS:
        cells = [_share(summary.labels.get(c, Counter())[label], totals[c]) for c in columns]
        if spec.split:
            cells.append(_share(distribution[label], summary.rows))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    warnings = card_warnings(spec=spec, summary=summary)
    if warnings:
        lines += [
            "",
            "## Warnings",
            "",
            *(f"- **{warning}**" for warning in warnings),
            f"- A split is warned about below {MIN_SPLIT_ROWS} rows or {MIN_SPLIT_SHARE:.0%} of the rows, "
            "or when it lacks a label the export has: scores on it are unreliable.",
        ]
    lines += [
        "",
        "## Agreement",
        "",
        f"Over every non-skipped label of the target but those on evaluation items (which every annotator "
        f"labels; they are scored as accuracy against gold instead): {agreement.labels:,} labels by "
        f"{agreement.annotators} annotators, computed {stamp.computed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| measure | value | sentences |",
        "|---|---:|---:|",
        f"| Krippendorff's alpha (nominal) | {_figure(agreement.alpha)} | {agreement.alpha_sentences:,} |",
        f"| Fleiss' kappa ({target.overlap} labels a sentence) | {_figure(agreement.fleiss)} | {agreement.fleiss_sentences:,} |",
        # Percent agreement rests on the sentences with two or more labels, as alpha does.
        f"| Percent agreement | {_figure(agreement.percent)} | {agreement.alpha_sentences:,} |",
        "",
        "## How gold labels are decided",
        "",
        f"Rule: `{target.gold_method}` ({target.get_gold_method_display()}). {RULES[GoldMethod(target.gold_method)]}",
        "",
        *card_sections(
            spec=spec,
            rows=summary.rows,
            figures=figures,
            reliability=reliability_interval(figures),
            evaluation=evaluation_score(version),
            duplicates=stored_duplicates(figures.duplicate_groups),
        ),
        "## Model",
        "",
    ]
    if version is None:
        lines.append("Active model version: none (the `suggestion` fields are empty).")
    else:
        metrics = version.metrics
        lines.append(
            f"Active model version: {version.pk}, trained {version.created_at:%Y-%m-%d} on "
            f"{version.train_size:,} gold labels; cross-validated accuracy {_figure(metrics.get('accuracy'))}, "
            f"macro-F1 {_figure(metrics.get('macro_f1'))}, F_avg {_figure(metrics.get('f_avg'))}. "
            "The `suggestion` fields are its predictions."
        )
        cv = metrics.get("cv")
        if isinstance(cv, dict) and cv.get("how"):
            # How the folds were made, as stored with the score: grouped by article and
            # duplicate group since that existed, so an older version says what it did.
            lines.append(f"Cross-validation: {cv['how']}.")
    lines += ["", "## Fields", "", "| field | meaning |", "|---|---|"]
    lines += [f"| `{name}` | {FIELD_DOCS[name]} |" for name in spec.fields]
    lines += [
        "",
        "## Loading",
        "",
        "```python",
        "import pandas as pd",
        f'df = pd.read_json("{spec.filename}", lines=True)'
        if spec.format == "jsonl"
        else f'df = pd.read_csv("{spec.filename}")',
        "",
        "from datasets import load_dataset",
        f'ds = load_dataset("{"json" if spec.format == "jsonl" else "csv"}", data_files="{spec.filename}")',
        "```",
        "",
    ]
    if spec.format == "csv":
        lines += [CSV_FORMULA_NOTE, ""]
    lines += [
        "## Guidelines",
        "",
        target.guidelines.strip() or "(none recorded)",
        "",
    ]
    return "\n".join(lines)


def _scan_line(scan: Mapping[str, Any] | None) -> str:
    if scan is None:
        return " (Near-identical copies: not scanned yet; exact copies are grouped at import.)"
    return (
        f" The scan of {scan['sentences']:,} sentences found {scan['groups']:,} groups of two or more "
        f"({scan['grouped_sentences']:,} sentences, the largest {scan['largest_group']:,})."
    )


def card_write(*, spec: ExportSpec, summary: ExportSummary, beside: Path) -> Path:
    """Write the card of an export just written to `beside` (its counts), next to it."""
    path = beside.with_name(f"{beside.stem}.card.md")
    path.write_text(
        dataset_card(spec=spec, summary=summary, figures=fresh_summary(target=spec.target)), encoding="utf-8"
    )
    return path
