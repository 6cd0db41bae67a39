"""Dataset export: rows streamed from the database as JSON Lines or CSV.

Two levels:
  annotations  one row per annotator's current label;
  gold         one row per sentence with a resolved gold label, by the target's rule
               (annotate.aggregation: majority or Dawid-Skene), which each row names.
Skips (captions, credits, blurbs) are left out of both levels: a skip says that a sentence
is not a stance item, not which stance it takes, and training and agreement leave it out too.

The main query streams with .iterator(); each chunk of rows reads its sentences and its
suggestions with one query each. Memory stays flat, and the number of queries grows with
the number of chunks, never with the number of rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from django.utils.crypto import salted_hmac
from django.utils.text import slugify

from annotate.aggregation import target_gold
from annotate.agreement_figures import sentence_agreement
from annotate.duplicate_groups import units_of
from annotate.models import (
    STANCE_LABELS,
    Annotation,
    GoldMethod,
    Label,
    Sentence,
    Suggestion,
    Target,
)
from annotate.splits import DEFAULT_SEED, article_splits, parse_seed

FORMATS = ("jsonl", "csv")
LEVELS = ("annotations", "gold")
#: Each option's help, as the command (manage.py export_dataset) and the export form show it.
OPTION_HELP = {
    "format": "JSON Lines (one object a line) or CSV with a header row.",
    "level": "Every annotator's label (annotations) or one gold label per sentence (gold).",
    "split": "Add a train/dev/test split column: 80/10/10 by article, stratified, no duplicate in two splits.",
    "seed": "Seed of the split (ASCII digits).",
    "names": "Usernames instead of pseudonyms.",
}
#: What the browser's download, card and export form take for an option the query leaves out.
QUERY_DEFAULTS = {"level": "gold", "format": "jsonl", "split": "0", "seed": str(DEFAULT_SEED), "names": "0"}
#: The spellings of a flag in a query string (a checkbox sends "on").
TRUE, FALSE = frozenset({"1", "true", "on", "yes"}), frozenset({"0", "false", "off", "no", ""})
CHUNK_SIZE = 2000
CONTENT_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}

Row = dict[str, Any]
_JSON = json.JSONEncoder(ensure_ascii=False)  # UTF-8 text as is, not \u escapes
T = TypeVar("T")

#: Every field of each level, in file order, with its meaning (for the dataset card).
FIELD_DOCS = {
    "text": "the sentence",
    "label": "pro, contra or neutral",
    "sentence_id": "the sentence's id in Stance",
    "article_id": "the article's id in Stance",
    "title": "the article's title",
    "source": "the article's source",
    "position": "0-based position of the sentence in its article",
    "annotator": "a stable pseudonym of the annotator (or the username, when asked for names)",
    "created_at": "when the label was first given (ISO 8601, UTC)",
    "updated_at": "when the label was last changed (ISO 8601, UTC)",
    "spent_ms": "time from showing the sentence to the label, in ms (empty for imported labels)",
    "suggestion_shown": "whether a model suggestion was on screen",
    "accepted_suggestion": "whether the label accepted that suggestion",
    "method": "how the gold label was decided: adjudicated, majority, single or dawid_skene",
    "gold_method": "the rule that made the gold labels: majority or dawid_skene",
    "votes": "the number of non-skipped labels the decision rests on",
    "agreement": "share of agreeing label pairs on this sentence (empty below two labels)",
    "label_counts": "the number of labels of each stance (a JSON object in CSV)",
    "posterior": "the Dawid-Skene model's probability of each stance (a JSON object in CSV)",
    "suggestion": "the active model's suggested label (empty without a model)",
    "suggestion_probability": "the probability the active model gives its suggestion",
    "split": "train, dev or test: by article, articles sharing a duplicate sentence together",
}
_HEAD = ["text", "label", "sentence_id", "article_id", "title", "source", "position"]
_TAIL = ["suggestion", "suggestion_probability"]
FIELDS = {
    "annotations": [
        *_HEAD,
        "annotator",
        "created_at",
        "updated_at",
        "spent_ms",
        "suggestion_shown",
        "accepted_suggestion",
        *_TAIL,
    ],
    "gold": [*_HEAD, "method", "gold_method", "votes", "agreement", "label_counts", *_TAIL],
}
#: Under Dawid-Skene, the gold level's rows carry the posterior after the label counts.
POSTERIOR_AFTER = "label_counts"


class ExportError(ValueError):
    """An export that cannot be made as asked (unknown level or format, a flag that is not 1 or 0)."""


_CHOICES = {"level": LEVELS, "format": FORMATS}


def check_choice(option: str, value: str) -> str:
    """The value of the level or format option, if it is one of its choices."""
    choices = _CHOICES[option]
    if value not in choices:
        raise ExportError(f"{option} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def parse_flag(option: str, value: str) -> bool:
    """A yes/no option (split, names) in a query string: 1 or 0 and their spellings."""
    if value.lower() not in TRUE | FALSE:
        raise ExportError(f"{option} must be 1 or 0, not {value!r}.")
    return value.lower() in TRUE


@dataclass(frozen=True)
class ExportSpec:
    """What to export: the target, the level and format, and the options of the issue."""

    target: Target
    level: str
    format: str = "jsonl"
    split: bool = False
    seed: int = DEFAULT_SEED
    names: bool = False

    def __post_init__(self) -> None:
        check_choice("level", self.level)
        check_choice("format", self.format)

    @property
    def fields(self) -> list[str]:
        fields = list(FIELDS[self.level])
        if self.level == "gold" and self.target.gold_method == GoldMethod.DAWID_SKENE:
            fields.insert(fields.index(POSTERIOR_AFTER) + 1, "posterior")
        return fields + (["split"] if self.split else [])

    @property
    def stem(self) -> str:
        return f"{slugify(self.target.name) or f'target-{self.target.pk}'}-{self.level}"

    @property
    def filename(self) -> str:
        return f"{self.stem}.{self.format}"

    @property
    def card_filename(self) -> str:
        return f"{self.stem}.card.md"


def spec_from_query(*, target: Target, query: Mapping[str, str]) -> ExportSpec:
    """The export a query string asks for (?format=jsonl&level=gold&split=1&names=0&seed=13),
    QUERY_DEFAULTS for what it leaves out. Raises ExportError or annotate.splits.SeedError."""

    def given(option: str) -> str:
        return query.get(option, QUERY_DEFAULTS[option])

    return ExportSpec(
        target=target,
        level=given("level"),
        format=given("format"),
        split=parse_flag("split", given("split")),
        seed=parse_seed(given("seed")),
        names=parse_flag("names", given("names")),
    )


@dataclass
class ExportSummary:
    """What an export wrote: rows, and labels per split (the split "all" without --split)."""

    rows: int = 0
    labels: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def observe(self, rows: Iterable[Row]) -> Iterator[Row]:
        for row in rows:
            self.rows += 1
            self.labels[row.get("split") or "all"][row["label"]] += 1
            yield row

    @property
    def label_distribution(self) -> Counter[str]:
        return sum(self.labels.values(), Counter())


def annotator_pseudonym(user_id: int) -> str:
    """The same for a user in every export while SECRET_KEY stays, and not reversible without it."""
    digest = salted_hmac("annotate.export.annotator", str(user_id), algorithm="sha256").hexdigest()
    return f"annotator-{digest[:10]}"


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _sentences(ids: set[int]) -> dict[int, Row]:
    """The sentence and article fields of a chunk's sentences, in one query."""
    rows = (
        Sentence.objects.filter(id__in=ids)
        .order_by()
        .values_list("id", "text", "article_id", "article__title", "article__source", "position")
    )
    return {
        sentence_id: {
            "text": text,
            "sentence_id": sentence_id,
            "article_id": article_id,
            "title": title,
            "source": source,
            "position": position,
        }
        for sentence_id, text, article_id, title, source, position in rows
    }


def _suggestions(target: Target, ids: set[int]) -> dict[int, tuple[str, float]]:
    """The active model version's suggestions for a chunk's sentences, in one query."""
    if target.active_version_id is None:
        return {}
    rows = Suggestion.objects.filter(
        model_version_id=target.active_version_id, sentence_id__in=ids
    ).values_list("sentence_id", "label", "confidence")
    return {sentence_id: (label, confidence) for sentence_id, label, confidence in rows}


def _annotation_rows(spec: ExportSpec) -> Iterator[Row]:
    columns = ["sentence_id", "annotator_id", "label", "created_at", "updated_at", "spent_ms"]
    columns += ["suggestion_shown", "accepted_suggestion"]
    if spec.names:
        columns.append("annotator__username")
    queryset = (
        Annotation.objects.filter(target=spec.target)
        .exclude(label=Label.SKIP)
        .order_by("sentence_id", "id")
        .values_list(*columns)
    )
    pseudonyms: dict[int, str] = {}
    for chunk in _chunks(queryset.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE):
        ids = {row[0] for row in chunk}
        sentences, suggestions = _sentences(ids), _suggestions(spec.target, ids)
        for sentence_id, annotator_id, label, created, updated, spent, shown, accepted, *name in chunk:
            if sentence_id not in sentences:  # deleted while the export ran
                continue
            if not spec.names and annotator_id not in pseudonyms:
                pseudonyms[annotator_id] = annotator_pseudonym(annotator_id)
            row = {
                **sentences[sentence_id],
                "label": label,
                "annotator": name[0] if spec.names else pseudonyms[annotator_id],
                "created_at": created.isoformat(),
                "updated_at": updated.isoformat(),
                "spent_ms": spent,
                "suggestion_shown": shown,
                "accepted_suggestion": accepted,
            }
            yield _with_suggestion(row, suggestions.get(sentence_id))


def _gold_rows(spec: ExportSpec) -> Iterator[Row]:
    resolved = (gold for gold in target_gold(target=spec.target) if gold.resolved)
    for chunk in _chunks(resolved, CHUNK_SIZE):
        ids = {gold.sentence_id for gold in chunk}
        sentences, suggestions = _sentences(ids), _suggestions(spec.target, ids)
        for gold in chunk:
            if gold.sentence_id not in sentences:
                continue
            row = {
                **sentences[gold.sentence_id],
                "label": gold.label,
                "method": gold.method,
                "gold_method": spec.target.gold_method,
                "votes": gold.votes,
                "agreement": sentence_agreement(gold.counts),
                "label_counts": {label: gold.counts.get(label, 0) for label in STANCE_LABELS},
                "posterior": gold.posterior,
            }
            yield _with_suggestion(row, suggestions.get(gold.sentence_id))


def _with_suggestion(row: Row, suggestion: tuple[str, float] | None) -> Row:
    row["suggestion"], row["suggestion_probability"] = suggestion or (None, None)
    return row


def export_splits(*, target: Target, seed: int) -> dict[int, str]:
    """Each exported article's split (annotate.splits): the articles with a stance label or
    an adjudication, joined into units by their shared duplicate groups, stratified by their
    gold labels. Both levels use the gold counts, so both put every article in one split."""
    # Imported here: the summary imports the card's modules, which import this one.
    from annotate.summary import article_counts

    articles = article_counts(target=target)
    return article_splits(
        ids=articles["ids"], strata=articles["gold"], units=units_of(article_ids=articles["ids"]), seed=seed
    )


def export_rows(spec: ExportSpec) -> Iterator[Row]:
    """The export's rows as dicts with the fields of spec.fields, in that order."""
    splits = export_splits(target=spec.target, seed=spec.seed) if spec.split else {}
    fields = spec.fields
    rows = _gold_rows(spec) if spec.level == "gold" else _annotation_rows(spec)
    for row in rows:
        if spec.split:
            row["split"] = splits.get(row["article_id"])
        yield {name: row[name] for name in fields}


def jsonl_chunks(rows: Iterable[Row], *, rows_per_chunk: int = 500) -> Iterator[str]:
    """JSON Lines: one object a line, UTF-8, as pandas.read_json(lines=True) and the Hugging
    Face json loader read it."""
    for chunk in _chunks(rows, rows_per_chunk):
        yield "".join(_JSON.encode(row) + "\n" for row in chunk)


#: What a spreadsheet reads as the start of a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


CSV_FORMULA_NOTE = (
    "A text that begins with `=`, `+`, `-`, `@`, a tab or a carriage return has a `'` put before "
    "it in this CSV, so that a spreadsheet shows it instead of running it as a formula; the "
    "JSONL export has every text unchanged."
)


def csv_cell(value: object) -> object:
    """A value as a CSV cell: a dict as JSON, and a text a spreadsheet would run as a
    formula (a sentence "=HYPERLINK(...)") behind a single quote, which shows it as text."""
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(rows: Iterable[Row], *, fields: list[str], rows_per_chunk: int = 500) -> Iterator[str]:
    """CSV with a header row; label_counts is written as a JSON object, None as an empty
    cell, a text starting with = + - @, tab or carriage return with a ' before it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for chunk in _chunks(rows, rows_per_chunk):
        writer.writerows([csv_cell(value) for value in row.values()] for row in chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _no_progress(rows: Iterator[Row]) -> Iterator[Row]:
    return rows


def export_stream(
    spec: ExportSpec,
    *,
    summary: ExportSummary | None = None,
    progress: Callable[[Iterator[Row]], Iterator[Row]] = _no_progress,
) -> Iterator[str]:
    """The export as chunks of text in the spec's format, counted into summary if given."""
    rows = progress(export_rows(spec))
    if summary is not None:
        rows = summary.observe(rows)
    if spec.format == "csv":
        return csv_chunks(rows, fields=spec.fields)
    return jsonl_chunks(rows)


def export_to_path(
    *,
    spec: ExportSpec,
    path: Path,
    progress: Callable[[Iterator[Row]], Iterator[Row]] = _no_progress,
) -> ExportSummary:
    """Write the export to path, whole or not at all; what it wrote."""
    summary = ExportSummary()
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            for chunk in export_stream(spec, summary=summary, progress=progress):
                out.write(chunk)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return summary


def export_summary(*, spec: ExportSpec) -> ExportSummary:
    """Count an export's rows without writing them: every row read (tests check the card's
    fast path, summary_from_counts, against it)."""
    summary = ExportSummary()
    for _ in summary.observe(export_rows(spec)):
        pass
    return summary
