"""The dataset card's "Agreement with the model" lines: the dashboard's anchoring figures
(annotate.anchoring) as the card writes them, the annotators named as the export names them.

Rendered from the target's stored summary, usernames included: no query of its own.
"""

from __future__ import annotations

from annotate.anchoring import Anchoring, AnchoringCounts
from annotate.export import ExportSpec, annotator_pseudonym
from annotate.models import SuggestionMode

#: The table lists at most this many annotators (the most labels first); "all" covers everyone.
LISTED = 50

_MODES = {
    SuggestionMode.SHOWN: "shown with the sentence",
    SuggestionMode.AFTER: "shown after the annotator's first label, which may then be changed",
    SuggestionMode.HIDDEN: "never shown",
}


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _cells(c: AnchoringCounts) -> str:
    return (
        f"{c.with_suggestion:,} | {_rate(c.agreement_with)} | {_rate(c.acceptance)} | "
        f"{c.without_suggestion:,} | {_rate(c.agreement_without)} | {c.revealed:,} | "
        f"{_rate(c.first_agreement)} | {_rate(c.changed_rate)} | {_rate(c.changed_to_suggestion_rate)} |"
    )


def anchoring_lines(*, spec: ExportSpec, anchoring: Anchoring | None) -> list[str]:
    """The card's subsection on how far annotators agree with the model with its suggestion
    on screen and without, as Markdown lines."""
    mode = _MODES.get(SuggestionMode(spec.target.suggestion_mode), spec.target.suggestion_mode)
    lines = ["### Agreement with the model", "", f"Suggestions are currently {mode}."]
    if anchoring is None or not anchoring.annotators:
        return [*lines, "No labels were given while a model was active, so this is not measured.", ""]
    listed = sorted(anchoring.annotators, key=lambda r: -(r.with_suggestion + r.without_suggestion))[:LISTED]
    names = {
        r.annotator_id: r.username if spec.names else annotator_pseudonym(r.annotator_id) for r in listed
    }
    since = anchoring.since.date().isoformat()
    lines += [
        f"Stance labels given or changed since the active model went live ({since}), against its "
        "suggestion: the share equal to it with the suggestion on screen and without, the share of "
        "those shown that were accepted with one key, and, for labels whose suggestion was shown "
        "only after a first label, how often that first label agreed with it, was changed, and, "
        "where it differed, was changed to it.",
        "",
        "| annotator | with a suggestion | agree with the model | accepted | without | agree with the model "
        "| shown after a first label | first label agreed | changed | changed to the suggestion |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(f"| {names.get(r.annotator_id, '(deleted)')} | {_cells(r)}" for r in listed),
    ]
    if len(anchoring.annotators) > len(listed):
        lines.append(f"| … {len(anchoring.annotators) - len(listed):,} more | | | | | | | | | |")
    lines += [f"| all | {_cells(anchoring.overall)}", ""]
    overall = anchoring.overall
    if overall.agreement_with is not None and overall.agreement_without is not None:
        gap = overall.agreement_with - overall.agreement_without
        lines.append(
            f"Agreement with the model is {overall.agreement_with:.0%} with its suggestion on screen and "
            f"{overall.agreement_without:.0%} without ({100 * gap:+.0f} points): a clearly higher share "
            "with it suggests that annotators followed the model."
        )
        lines.append("")
    return lines
