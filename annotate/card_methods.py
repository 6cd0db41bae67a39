"""The dataset card's figures from other parts of Stance, and its "Methods" section.

Three subsections close the Annotation process: reliability (alpha with its bootstrap
interval, per label and with each annotator left out), the active model's score on the
random evaluation slice with its size, and the duplicate groups with what the splits made
of them. Then methods_paragraph() writes a paragraph a paper can quote with every number
filled in. Each of these figures is optional (annotate.card_figures gathers them): a
sentence whose figure is missing is left out, never printed with a placeholder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from annotate.agreement_figures import Figures, Reliability
from annotate.card_anchoring import anchoring_lines
from annotate.card_figures import (
    DuplicateGroups,
    EvaluationSliceScore,
    ProcessFigures,
    ReliabilityInterval,
    stored_process,
)
from annotate.card_process import (
    WITH,
    WITHOUT,
    count_of,
    figure,
    listing,
    process_section,
    share_of,
    units_phrase,
)
from annotate.export import ExportSpec

if TYPE_CHECKING:
    from annotate.summary import Summary


def reliability_lines(
    agreement: Figures, interval: ReliabilityInterval | None, details: Reliability | None
) -> list[str]:
    """Alpha with its interval, alpha per label, and the range with one annotator left out."""
    lines = ["### Reliability", ""]
    if agreement.alpha is None:
        return [*lines, "- **Krippendorff's alpha**: not defined yet (no sentence has two labels).", ""]
    bounds = (
        f"; {interval.level:.0%} bootstrap confidence interval {interval.low:.3f} to {interval.high:.3f}"
        + (f" ({interval.method})" if interval.method else "")
        if interval is not None
        else "; no confidence interval computed"
    )
    lines.append(
        f"- **Krippendorff's alpha** (nominal): {agreement.alpha:.3f} over "
        f"{count_of(agreement.alpha_sentences, 'sentence')} with two or more labels{bounds}."
    )
    if details is not None and details.per_label:
        per_label = ", ".join(
            f"{row.label} {figure(row.alpha)} ({row.labels:,} of its labels)" for row in details.per_label
        )
        lines.append(f"- **Alpha per label** (that label against the rest): {per_label}.")
    left = [row.alpha for row in details.left_out if row.alpha is not None] if details is not None else []
    if details is not None and left:
        among = (
            f"the {len(details.left_out):,} of {details.annotators:,} annotators with the most labels"
            if details.annotators > len(details.left_out)
            else f"each of the {details.annotators:,} annotators"
        )
        lines.append(
            f"- **Alpha with one annotator left out**, for {among}: from {min(left):.3f} to {max(left):.3f}."
        )
    return [*lines, ""]


def evaluation_lines(evaluation: EvaluationSliceScore | None) -> list[str]:
    """The active model's score on the evaluation slice, its size and what was kept out."""
    lines = ["### Evaluation slice", ""]
    if evaluation is None:
        return [*lines, "- Not measured: no active model, or one trained before the evaluation slice.", ""]
    share = f"{evaluation.share:.0%} of sentences, " if evaluation.share is not None else ""
    lines.append(
        f"- **Model version {evaluation.version}**, scored on the random evaluation slice: the control set "
        f"({share}a fixed hash of the sentence id), labelled without a suggestion on screen and never "
        "trained on, nor any duplicate of its sentences."
    )
    if evaluation.f_avg is not None:
        lines.append(
            f"- **Score** on {count_of(evaluation.sentences, 'sentence')}: F_avg {evaluation.f_avg:.3f}, "
            f"macro-F1 {figure(evaluation.macro_f1)}, accuracy {figure(evaluation.accuracy)}."
        )
    else:
        lines.append(
            f"- **Not scored** ({count_of(evaluation.sentences, 'sentence')}): "
            f"{evaluation.reason or 'too small to score'}."
        )
    lines.append(
        f"- **Kept out**: {count_of(evaluation.left_out, 'slice sentence')} labelled while a suggestion "
        f"was on screen (not scored); {count_of(evaluation.copies, 'duplicate')} of slice sentences "
        "(not trained on)."
    )
    return [*lines, ""]


def duplicate_lines(spec: ExportSpec, duplicates: DuplicateGroups | None) -> list[str]:
    """The duplicate groups found and how the splits handled them."""
    lines = ["### Duplicate groups", ""]
    if duplicates is None:
        return [*lines, "- Not counted yet: the next summary of the target counts them.", ""]
    lines.append(
        f"- **Found**: {count_of(duplicates.groups, 'group')} of two or more sentences with the same or "
        f"a near-identical text ({count_of(duplicates.sentences, 'sentence')}); "
        f"{duplicates.across_articles:,} of them span two or more articles."
    )
    if spec.split:
        lines.append(
            "- **In the splits**: a group never crosses a split, and articles sharing one are a unit that "
            f"goes to one split whole: {count_of(duplicates.articles_joined, 'exported article')} in "
            f"{count_of(duplicates.units, 'such unit')}."
        )
    else:
        lines.append(
            "- **In the splits**: this export is not split; with splits, articles sharing a group go to "
            f"one split together ({count_of(duplicates.articles_joined, 'exported article')} in "
            f"{count_of(duplicates.units, 'unit')})."
        )
    return [*lines, ""]


def methods_paragraph(
    *,
    spec: ExportSpec,
    rows: int,
    process: ProcessFigures,
    agreement: Figures,
    by_suggestion: dict[str, Figures],
    reliability: ReliabilityInterval | None = None,
    evaluation: EvaluationSliceScore | None = None,
    duplicates: DuplicateGroups | None = None,
) -> str:
    """A paragraph a paper can quote, every number filled in; a sentence whose figures are
    missing (no alpha yet, no interval, no evaluation slice, no duplicate groups) is left out."""
    target, p = spec.target, process.provenance
    what = (
        "stance labels, one row per annotator's label"
        if spec.level == "annotations"
        else "gold stance labels, one per sentence"
    )
    dated = f", published {p.published_first} to {p.published_last}" if p.published_first else ""
    sentences = [
        f"The dataset holds {rows:,} {what} (pro, contra or neutral toward {target.name}), on "
        f"{units_phrase(p)} from {count_of(p.source_count, 'source')}{dated}, "
        "labelled in Stance.",
        f"{count_of(len(process.annotators), 'annotator')} gave {count_of(process.labels, 'stance label')} to "
        f"{count_of(process.sentences_labelled, 'sentence')} (each sentence was to be labelled by {target.overlap}; "
        f"{process.sentences_shared:,} received two or more labels); {count_of(process.skips, 'skip')} of sentences "
        "that take no stance (captions, credits) were left out.",
    ]
    if process.shown:
        sentences.append(
            f"A model suggestion was on screen for {share_of(process.shown, process.labels)} of the labels and "
            f"{process.accepted:,} accepted it with one key"
            + (
                f"; a control set ({target.control_share:.0%} of sentences) was always shown without one."
                if target.control_share
                else "."
            )
        )
    else:
        sentences.append("No model suggestion was shown while labelling.")
    if agreement.alpha is not None:
        interval = (
            f", {reliability.level:.0%} bootstrap confidence interval {reliability.low:.3f} to "
            f"{reliability.high:.3f}"
            + (f" ({reliability.resamples:,} resamples)" if reliability.resamples else "")
            if reliability is not None
            else ""
        )
        percent = f"; percent agreement {agreement.percent:.3f}" if agreement.percent is not None else ""
        sentences.append(
            f"Agreement between annotators was Krippendorff's alpha = {agreement.alpha:.3f} (nominal, "
            f"{agreement.alpha_sentences:,} sentences with two or more labels{interval}){percent}."
        )
    with_, without = by_suggestion.get(WITH), by_suggestion.get(WITHOUT)
    if with_ is not None and without is not None and with_.alpha is not None and without.alpha is not None:
        sentences.append(
            f"Alpha was {with_.alpha:.3f} over labels given with a suggestion on screen and "
            f"{without.alpha:.3f} over those given without."
        )
    sentences.append(
        f"Gold labels were decided by a curator's adjudication ({process.adjudicated:,} sentences), the "
        f"strict majority of two or more labels ({process.majority:,}) or a single label "
        f"({process.single:,}); {count_of(process.ties, 'tie')} without a majority "
        + ("was" if process.ties == 1 else "were")
        + " left out."
        if spec.target.gold_method == "majority"
        else f"Gold labels were a curator's adjudication ({process.adjudicated:,} sentences) or, for every "
        "other sentence, the most probable label under a Dawid-Skene model fitted by EM on all labels, "
        "with the adjudicated sentences held at their labels."
    )
    if duplicates is not None and spec.split:
        joined = (
            f"; {duplicates.articles_joined:,} articles sharing a group were joined into "
            f"{count_of(duplicates.units, 'unit')} assigned to one split whole"
            if duplicates.units
            else ""
        )
        sentences.append(
            f"Sentences with the same or near-identical text ({duplicates.groups:,} groups, "
            f"{duplicates.sentences:,} sentences) were kept within one split{joined}."
        )
    elif duplicates is not None:
        sentences.append(
            f"Sentences with the same or near-identical text were grouped ({duplicates.groups:,} groups, "
            f"{duplicates.sentences:,} sentences); this export is not split."
        )
    if evaluation is not None and evaluation.f_avg is not None:
        macro = f" and macro-F1 {evaluation.macro_f1:.3f}" if evaluation.macro_f1 is not None else ""
        sentences.append(
            f"On a random evaluation slice of {evaluation.sentences:,} sentences, labelled without "
            f"suggestions and never used for training (nor were their duplicates), the model reached F_avg {evaluation.f_avg:.3f}{macro}."
        )
    if p.licences:
        sentences.append(f"Licence of the texts: {listing(p.licences, len(p.licences))}.")
    return " ".join(sentences)


def card_sections(
    *,
    spec: ExportSpec,
    rows: int,
    figures: Summary,
    reliability: ReliabilityInterval | None = None,
    evaluation: EvaluationSliceScore | None = None,
    duplicates: DuplicateGroups | None = None,
) -> list[str]:
    """The card's "Annotation process" (with its reliability, evaluation slice and duplicate
    groups) and "Methods" sections, as Markdown lines, from the target's summary (`figures`),
    the export's row count and the optional figures (annotate.card_figures)."""
    process: ProcessFigures = stored_process(figures.process, target=spec.target)
    paragraph = methods_paragraph(
        spec=spec,
        rows=rows,
        process=process,
        agreement=figures.agreement,
        by_suggestion=figures.agreement_by_suggestion,
        reliability=reliability,
        evaluation=evaluation,
        duplicates=duplicates,
    )
    return [
        *process_section(spec=spec, process=process, by_suggestion=figures.agreement_by_suggestion),
        *reliability_lines(figures.agreement, reliability, figures.reliability),
        *evaluation_lines(evaluation),
        *duplicate_lines(spec, duplicates),
        *anchoring_lines(spec=spec, anchoring=figures.anchoring),
        "## Methods",
        "",
        "A paragraph to quote in a paper, its numbers those of this card:",
        "",
        "> " + paragraph,
        "",
    ]
