"""The dataset card's "Annotation process" and "Methods" sections.

Who labelled and how much, how far the model's suggestions were on screen and accepted,
agreement with and without a suggestion, how the gold labels were decided (ties and skips
left out, with their counts), and where the texts came from and under which licence.

process_figures() counts these with five aggregate queries (GROUP BYs over the tallies,
the annotators' tallies and the articles, one pass over the labels) when the target's
summary is computed (annotate.summary.compute, in the background at scale); the card then
renders the stored figures without a query of its own (one for the usernames when the
export names annotators). A summary stored before it held them is counted now.

methods_paragraph() writes a paragraph a paper can quote with every number filled in. It
takes optional figures that other parts of Stance compute (the reliability interval, the
evaluation slice, the duplicate groups): a sentence whose figure is missing is left out,
never printed with a placeholder.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, Max, Min, OuterRef, Q

from annotate.agreement_figures import Figures
from annotate.export import ExportSpec, annotator_pseudonym
from annotate.models import UNKNOWN_LICENCE, Annotation, AnnotatorTally, Article, Label, SentenceTally, Target

if TYPE_CHECKING:  # annotate.summary imports this module to compute the figures
    from annotate.summary import Summary

#: The annotators' table lists at most this many (the busiest first); the distribution
#: line above it covers them all.
ANNOTATORS_LISTED = 50
#: Sources and import files named in the provenance (the most articles first).
NAMED = 10
#: What imported_from holds for articles that came through no file.
NOT_FILES = {
    "API": "the API",
    "admin": "the Django admin",
    "": "not recorded (imported before Stance kept it)",
}
#: The agreement scopes of annotate.agreement_data, as the card names them.
WITH, WITHOUT = "with suggestion", "without suggestion"


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


# Hooks: figures other parts of Stance compute. Each is optional; without it, the methods
# paragraph leaves its sentence out.


@dataclass(frozen=True)
class ReliabilityInterval:
    """A bootstrap confidence interval of Krippendorff's alpha."""

    low: float
    high: float
    level: float = 0.95
    resamples: int = 0


@dataclass(frozen=True)
class EvaluationSliceScore:
    """The active model scored on the random evaluation slice (never trained on, labelled
    without suggestions)."""

    sentences: int
    f_avg: float | None
    macro_f1: float | None = None


@dataclass(frozen=True)
class DuplicateGroups:
    """Sentences grouped as the same or near-identical text, each group kept in one split."""

    groups: int
    sentences: int


# Counting --------------------------------------------------------------------------------


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


# Writing ---------------------------------------------------------------------------------


def _n(value: int) -> str:
    return f"{value:,}"


def _count(value: int, noun: str) -> str:
    """ "1 sentence", "2 sentences"."""
    return f"{value:,} {noun}{'' if value == 1 else 's'}"


def _median(values: list[int]) -> str:
    middle = statistics.median(values)
    return f"{int(middle):,}" if middle == int(middle) else f"{middle:,.1f}"


def _of(part: int, whole: int) -> str:
    """`part` with its share of `whole`: "70 (47%)"."""
    return f"{part:,} ({part / whole:.0%})" if whole else f"{part:,}"


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _listing(counts: dict[str, int], total: int, *, unit: str = "article") -> str:
    named = ", ".join(f"{name or '(no source)'} ({_count(n, unit)})" for name, n in counts.items())
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
        f"max {max(counts):,} ({process.labels:,} in all, and {_count(process.skips, 'skip')}).",
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
        f"{_count(process.sentences_labelled, 'sentence')} with stance labels"
        + (f" ({spread})." if spread else ".")
    )


def _suggestion_lines(
    target: Target, process: ProcessFigures, by_suggestion: dict[str, Figures]
) -> list[str]:
    lines = [
        "### Model suggestions",
        "",
        f"- **With a suggestion on screen**: {_of(process.shown, process.labels)} of the {process.labels:,} "
        f"stance labels; **accepted** with one key: {_of(process.accepted, process.labels)} "
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
        f"{_figure(with_.alpha)} | {_figure(with_.percent)} |",
        f"| without a suggestion | {without.labels:,} | {without.alpha_sentences:,} | "
        f"{_figure(without.alpha)} | {_figure(without.percent)} |",
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
        f"- **Adjudicated** by a curator: {_count(process.adjudicated, 'sentence')}.",
        f"- **Majority** (a strict majority of two or more labels): {_count(process.majority, 'sentence')}.",
        f"- **Single** label: {_count(process.single, 'sentence')}.",
        f"- **Ties** left out (two or more labels, no majority, not adjudicated): {_count(process.ties, 'sentence')}"
        + (" (their labels are in this file)." if spec.level == "annotations" else "."),
        f"- **Skips** left out: {_count(process.skips, 'skip')}; {_count(process.skipped_only, 'sentence')} "
        f"{'was' if process.skipped_only == 1 else 'were'} only skipped, so in neither level.",
        "",
    ]


def _span(first: str | None, last: str | None) -> str:
    return f"on {first}" if first == last else f"{first} to {last}"


def _provenance_lines(provenance: Provenance) -> list[str]:
    p = provenance
    published = (
        f"{p.published_first} to {p.published_last}" if p.published_first else "no publication dates"
    ) + (f" ({p.undated:,} undated)" if p.undated and p.published_first else "")
    origins = [f"{_count(p.file_count, 'file')}: {_listing(p.files, p.file_count)}"] if p.file_count else []
    origins += [f"{NOT_FILES[name]} ({_count(n, 'article')})" for name, n in p.other_origins.items()]
    lines = [
        "### Provenance",
        "",
        f"- **Articles**: {p.articles:,} (those with a stance label or an adjudication), from "
        f"{_count(p.source_count, 'source')}: {_listing(p.sources, p.source_count)}.",
        f"- **Published**: {published}.",
        f"- **Imported** {_span(p.imported_first, p.imported_last)}, from " + "; ".join(origins) + "."
        if p.imported_first
        else "- **Imported**: nothing yet.",
        f"- **Licence**: {_listing(p.licences, len(p.licences))}.",
    ]
    if UNKNOWN_LICENCE in p.licences:
        lines.append(
            f"  The licence of {_count(p.licences[UNKNOWN_LICENCE], 'article')} is {UNKNOWN_LICENCE}: check it "
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
        f"sentences of {_count(p.articles, 'news article')} from {_count(p.source_count, 'source')}{dated}, "
        "labelled in Stance.",
        f"{_count(len(process.annotators), 'annotator')} gave {_count(process.labels, 'stance label')} to "
        f"{_count(process.sentences_labelled, 'sentence')} (each sentence was to be labelled by {target.overlap}; "
        f"{process.sentences_shared:,} received two or more labels); {_count(process.skips, 'skip')} of sentences "
        "that take no stance (captions, credits) were left out.",
    ]
    if process.shown:
        sentences.append(
            f"A model suggestion was on screen for {_of(process.shown, process.labels)} of the labels and "
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
        f"({process.single:,}); {_count(process.ties, 'tie')} without a majority "
        + ("was" if process.ties == 1 else "were")
        + " left out."
        if target.gold_method == "majority"
        else f"Gold labels were a curator's adjudication ({process.adjudicated:,} sentences) or, for every "
        "other sentence, the most probable label under a Dawid-Skene model fitted by EM on all labels, "
        "with the adjudicated sentences held at their labels."
    )
    if duplicates is not None:
        sentences.append(
            f"Sentences with the same or near-identical text ({duplicates.groups:,} groups, "
            f"{duplicates.sentences:,} sentences) were kept within one split."
        )
    if evaluation is not None and evaluation.f_avg is not None:
        macro = f" and macro-F1 {evaluation.macro_f1:.3f}" if evaluation.macro_f1 is not None else ""
        sentences.append(
            f"On a random evaluation slice of {evaluation.sentences:,} sentences, labelled without "
            f"suggestions and never used for training, the model reached F_avg {evaluation.f_avg:.3f}{macro}."
        )
    if p.licences:
        sentences.append(f"Licence of the texts: {_listing(p.licences, len(p.licences))}.")
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
    """The card's "Annotation process" and "Methods" sections, as Markdown lines, from the
    target's summary (`figures`) and the export's row count; the optional figures go into
    the methods paragraph when given."""
    process = stored_process(figures.process, target=spec.target)
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
        "## Methods",
        "",
        "A paragraph to quote in a paper, its numbers those of this card:",
        "",
        "> " + paragraph,
        "",
    ]
