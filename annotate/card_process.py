"""The dataset card's "Annotation process" section, written from the stored figures
(annotate.card_figures): who labelled and how much, how far the model's suggestions were on
screen and accepted, agreement with and without a suggestion, how the gold labels were
decided (ties and skips left out, with their counts), and where the texts came from and
under which licence. No query of its own, but one for the usernames when the export names
annotators. The small number formats here are shared with annotate.card_methods.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from django.contrib.auth import get_user_model

from annotate.agreement_figures import Figures
from annotate.card_figures import NOT_FILES, AnnotatorLabels, ProcessFigures, Provenance
from annotate.export import ExportSpec, annotator_pseudonym
from annotate.models import UNKNOWN_LICENCE, Target, Unit

#: The annotators' table lists at most this many (the busiest first); the distribution
#: line above it covers them all.
ANNOTATORS_LISTED = 50
#: The agreement scopes of annotate.agreement_data, as the card names them.
WITH, WITHOUT = "with suggestion", "without suggestion"


def _n(value: int) -> str:
    return f"{value:,}"


def count_of(value: int, noun: str) -> str:
    """ "1 sentence", "2 sentences"."""
    return f"{value:,} {noun}{'' if value == 1 else 's'}"


def _median(values: list[int]) -> str:
    middle = statistics.median(values)
    return f"{int(middle):,}" if middle == int(middle) else f"{middle:,.1f}"


def share_of(part: int, whole: int) -> str:
    """`part` with its share of `whole`: "70 (47%)"."""
    return f"{part:,} ({part / whole:.0%})" if whole else f"{part:,}"


def figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def listing(counts: dict[str, int], total: int, *, unit: str = "article") -> str:
    named = ", ".join(f"{name or '(no source)'} ({count_of(n, unit)})" for name, n in counts.items())
    rest = total - len(counts)
    return named + (f", and {rest:,} more" if rest > 0 else "")


def _names(spec: ExportSpec, annotators: Iterable[AnnotatorLabels]) -> dict[int, str]:
    """How the card names each annotator: as the export does (pseudonyms unless --names)."""
    ids = [a.annotator_id for a in annotators]
    if not spec.names:
        return {i: annotator_pseudonym(i) for i in ids}
    users = get_user_model().objects.filter(pk__in=ids).values_list("pk", "username")
    return dict(users)


def _annotator_lines(spec: ExportSpec, process: ProcessFigures) -> list[str]:
    annotators = process.annotators
    if not annotators:
        return ["- **Annotators**: none yet."]
    counts = [a.labels for a in annotators]
    lines = [
        f"- **Annotators**: {len(annotators):,}, named in the export "
        + (
            "by username." if spec.names else "by stable pseudonyms (an HMAC of the user id, not reversible)."
        ),
        f"- **Stance labels per annotator**: min {min(counts):,}, median {_median(counts)}, "
        f"max {max(counts):,} ({process.labels:,} in all, and {count_of(process.skips, 'skip')}).",
    ]
    listed = annotators[:ANNOTATORS_LISTED]
    names = _names(spec, listed)
    lines += ["", "| annotator | stance labels | skips |", "|---|---:|---:|"]
    lines += [f"| {names.get(a.annotator_id, '(deleted)')} | {a.labels:,} | {a.skips:,} |" for a in listed]
    if len(annotators) > len(listed):
        lines.append(f"| … {len(annotators) - len(listed):,} more | | |")
    return [*lines, ""]


def _overlap_line(target: Target, process: ProcessFigures) -> str:
    spread = ", ".join(
        f"{sentences:,} with {n} label{'s' if n != 1 else ''}" for n, sentences in process.labels_per_sentence
    )
    return (
        f"- **Overlap**: each sentence is handed to {target.overlap} annotator{'s' if target.overlap != 1 else ''}; "
        f"{count_of(process.sentences_labelled, 'sentence')} with stance labels"
        + (f" ({spread})." if spread else ".")
    )


def _suggestion_lines(
    target: Target, process: ProcessFigures, by_suggestion: dict[str, Figures]
) -> list[str]:
    lines = [
        "### Model suggestions",
        "",
        f"- **With a suggestion on screen**: {share_of(process.shown, process.labels)} of the {process.labels:,} "
        f"stance labels; **accepted** with one key: {share_of(process.accepted, process.labels)} "
        f"({process.accepted / process.shown:.0%} of those shown)."
        if process.shown
        else f"- **With a suggestion on screen**: none of the {process.labels:,} stance labels.",
        f"- **Without a suggestion**: {_n(process.labels - process.shown)} labels: the control set "
        f"(currently {target.control_share:.0%} of sentences, the same for every annotator, never shown "
        "a suggestion) and every label given before a model existed.",
        "",
    ]
    with_, without = by_suggestion.get(WITH, Figures()), by_suggestion.get(WITHOUT, Figures())
    lines += [
        "| labels given | labels | sentences | Krippendorff's alpha | percent agreement |",
        "|---|---:|---:|---:|---:|",
        f"| with a suggestion on screen | {with_.labels:,} | {with_.alpha_sentences:,} | "
        f"{figure(with_.alpha)} | {figure(with_.percent)} |",
        f"| without a suggestion | {without.labels:,} | {without.alpha_sentences:,} | "
        f"{figure(without.alpha)} | {figure(without.percent)} |",
        "",
        "What this means: a suggestion on screen can anchor annotators, who then follow the model "
        "instead of judging the sentence afresh. Agreement clearly higher with a suggestion than "
        "without is a sign of it: that agreement partly measures the model, and the figures without "
        "a suggestion are the better estimate of how reliably people tell the stances apart.",
    ]
    if with_.alpha is not None and without.alpha is not None:
        gap = with_.alpha - without.alpha
        lines.append(
            f"Here alpha is {with_.alpha:.3f} with a suggestion and {without.alpha:.3f} without "
            f"(a difference of {gap:+.3f})."
        )
    else:
        lines.append("Here there are too few labels on one side to compare alpha.")
    return [*lines, ""]


def _gold_lines(spec: ExportSpec, process: ProcessFigures) -> list[str]:
    return [
        "### Gold labels",
        "",
        f"- **Rule** that made the gold labels: `{spec.target.gold_method}`"
        + (
            "; the counts below are the majority rule's, for comparison."
            if spec.target.gold_method != "majority"
            else "."
        ),
        f"- **Adjudicated** by a curator: {count_of(process.adjudicated, 'sentence')}.",
        f"- **Majority** (a strict majority of two or more labels): {count_of(process.majority, 'sentence')}.",
        f"- **Single** label: {count_of(process.single, 'sentence')}.",
        f"- **Ties** left out (two or more labels, no majority, not adjudicated): {count_of(process.ties, 'sentence')}"
        + (" (their labels are in this file)." if spec.level == "annotations" else "."),
        f"- **Skips** left out: {count_of(process.skips, 'skip')}; {count_of(process.skipped_only, 'sentence')} "
        f"{'was' if process.skipped_only == 1 else 'were'} only skipped, so in neither level.",
        "",
    ]


def _span(first: str | None, last: str | None) -> str:
    return f"on {first}" if first == last else f"{first} to {last}"


def _units_lines(p: Provenance) -> list[str]:
    """What annotators labelled: sentences, whole texts, or both (none before units were kept)."""
    parts = []
    if p.units.get(Unit.SENTENCE):
        parts.append(f"sentences, split from {count_of(p.units[Unit.SENTENCE], 'article')}")
    if p.units.get(Unit.TEXT):
        parts.append(
            f"whole texts, one unit each, not split into sentences, in {count_of(p.units[Unit.TEXT], 'article')}"
        )
    return [f"- **Units labelled**: {'; '.join(parts)}."] if parts else []


def units_phrase(p: Provenance) -> str:
    """What the methods paragraph says was labelled, counted in articles."""
    whole = p.units.get(Unit.TEXT, 0)
    split = p.articles - whole
    if not whole:
        return f"sentences of {count_of(p.articles, 'news article')}"
    texts = f"whole texts, not split into sentences, in {count_of(whole, 'article')}"
    return f"sentences of {count_of(split, 'news article')} and {texts}" if split else texts


def _provenance_lines(provenance: Provenance) -> list[str]:
    p = provenance
    published = (
        f"{p.published_first} to {p.published_last}" if p.published_first else "no publication dates"
    ) + (f" ({p.undated:,} undated)" if p.undated and p.published_first else "")
    origins = [f"{count_of(p.file_count, 'file')}: {listing(p.files, p.file_count)}"] if p.file_count else []
    origins += [f"{NOT_FILES[name]} ({count_of(n, 'article')})" for name, n in p.other_origins.items()]
    lines = [
        "### Provenance",
        "",
        f"- **Articles**: {p.articles:,} (those with a stance label or an adjudication), from "
        f"{count_of(p.source_count, 'source')}: {listing(p.sources, p.source_count)}.",
        *_units_lines(p),
        f"- **Published**: {published}.",
        f"- **Imported** {_span(p.imported_first, p.imported_last)}, from " + "; ".join(origins) + "."
        if p.imported_first
        else "- **Imported**: nothing yet.",
        f"- **Licence**: {listing(p.licences, len(p.licences))}.",
    ]
    if UNKNOWN_LICENCE in p.licences:
        lines.append(
            f"  The licence of {count_of(p.licences[UNKNOWN_LICENCE], 'article')} is {UNKNOWN_LICENCE}: check it "
            "before publishing (set it at import with `import_articles --licence`)."
        )
    return [*lines, ""]


def process_section(
    *, spec: ExportSpec, process: ProcessFigures, by_suggestion: dict[str, Figures]
) -> list[str]:
    """The card's "Annotation process" section, as Markdown lines."""
    return [
        "## Annotation process",
        "",
        *_annotator_lines(spec, process),
        _overlap_line(spec.target, process),
        "",
        *_suggestion_lines(spec.target, process, by_suggestion),
        *_gold_lines(spec, process),
        *_provenance_lines(process.provenance),
    ]
