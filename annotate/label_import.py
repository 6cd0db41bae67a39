"""Bootstrapping: load labelled texts from a CSV or JSONL file as one annotator's labels."""

from __future__ import annotations

import csv
import io
import itertools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Max

from annotate.corpus import CorpusError, content_hash, decode_text, jsonl_records, sentences_added, unstorable
from annotate.duplicate_groups import sentences_create
from annotate.models import STANCE_LABELS, Article, Label, Sentence, Target, Unit
from annotate.queue import rule, sql
from annotate.queue.locks import lock_target
from annotate.queue.record import SentenceFull, record_locked
from annotate.queue.reservations import release_locked

LABEL_SUFFIXES = (".csv", ".jsonl")
MATCH_BATCH = 500
#: Labels written in one transaction, under the target's lock: annotators wait for one
#: batch at most (the lock is let go between batches), never for the whole file. A batch
#: is at most this many rows, and takes no more rows once it has held the lock for
#: LABEL_BATCH_SECONDS: a label with its history took 2.3 ms on SQLite and 5 ms on a busy
#: PostgreSQL, so a count alone would let a loaded machine hold the lock for seconds.
LABEL_BATCH = 100
LABEL_BATCH_SECONDS = 0.2
#: SQLite keeps no queue for its write lock: a waiting label polls for it (every 100 ms
#: once it has waited a while), so an import that begins its next batch at once can keep
#: it out for good (the benchmark saw 31 s). A pause this long between batches lets it in.
#: PostgreSQL queues lock waiters, so there the import goes straight on.
SQLITE_PAUSE_S = 0.1


@dataclass(frozen=True)
class LabelRow:
    line: int
    text: str
    label: str


@dataclass
class LabelImportResult:
    rows: int = 0  # labels recorded
    matched: int = 0  # of them, on sentences that were there before
    new_sentences: int = 0
    article: Article | None = None
    #: (line, earlier line) of rows that repeat an earlier row's text and label: recorded once.
    repeats: list[tuple[int, int]] = field(default_factory=list)
    #: (line, reason) of rows whose sentence filled up between the check and their batch.
    not_recorded: list[tuple[int, str]] = field(default_factory=list)


def parse_mapping(spec: str) -> dict[str, str]:
    """ "FAVOR=pro,AGAINST=contra,NONE=neutral" → {"FAVOR": "pro", ...}."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        source, sep, label = part.partition("=")
        if not sep or label.strip() not in STANCE_LABELS:
            raise ValueError(f"Bad mapping {part!r}: write SOURCE=pro|contra|neutral.")
        mapping[source.strip()] = label.strip()
    return mapping


def _records(path: Path, text: str) -> Iterator[tuple[int, dict[str, object]]]:
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        try:
            for record in reader:
                yield reader.line_num, record
        except csv.Error as error:
            # The csv module's limit (131,072 characters a field, csv.field_size_limit()) is
            # kept: no sentence is that long, and a field that size is a broken quote.
            message = str(error)
            if "field limit" in message:
                message = f"field larger than {csv.field_size_limit():,} characters"
            elif "new-line character" in message:  # the module's hint speaks of open()
                message = "a carriage return inside an unquoted field (quote the field)"
            # DictReader.line_num is stale after an error; its inner reader counted the line.
            raise CorpusError(path, f"malformed CSV: {message}", reader.reader.line_num) from None
        return
    yield from jsonl_records(path, text)


def read_label_rows(
    path: Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    mapping: dict[str, str] | None = None,
) -> list[LabelRow]:
    """Every row of the file, validated; CorpusError names the first bad line."""
    _check_label_file(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CorpusError(path, f"cannot read: {error.strerror}") from None
    return _label_rows(path, raw, text_column=text_column, label_column=label_column, mapping=mapping)


def label_rows_from_bytes(
    path: Path,
    raw: bytes,
    *,
    text_column: str = "text",
    label_column: str = "label",
    mapping: dict[str, str] | None = None,
) -> list[LabelRow]:
    """read_label_rows for a file's bytes already in hand (an upload), `path` its name."""
    _check_label_file(path)
    return _label_rows(path, raw, text_column=text_column, label_column=label_column, mapping=mapping)


def _check_label_file(path: Path) -> None:
    if path.suffix.lower() not in LABEL_SUFFIXES:
        raise CorpusError(path, "unsupported file type (expected .csv or .jsonl)")


def _label_rows(
    path: Path, raw: bytes, *, text_column: str, label_column: str, mapping: dict[str, str] | None
) -> list[LabelRow]:
    rows = []
    for line, record in _records(path, decode_text(path, raw).lstrip("\ufeff")):
        text, label = record.get(text_column), record.get(label_column)
        if not isinstance(text, str) or not text.strip():
            raise CorpusError(path, f"no '{text_column}' value", line)
        problem = unstorable(text_column, text)
        if problem is not None:
            raise CorpusError(path, problem, line)
        if label is None or str(label).strip() == "":
            raise CorpusError(path, f"no '{label_column}' value", line)
        raw_label = str(label).strip()
        mapped = (mapping or {}).get(raw_label, raw_label)
        if mapped not in STANCE_LABELS:
            raise CorpusError(
                path, f"unknown label {raw_label!r} (expected pro, contra, neutral or a --map entry)", line
            )
        rows.append(LabelRow(line=line, text=" ".join(text.split()), label=mapped))
    if not rows:
        raise CorpusError(path, "the file holds no labelled rows")
    return rows


def _annotator(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        # An imported dataset's annotator does not log in.
        user = User(username=username)
        user.set_unusable_password()
        user.save()
    return user


def label_rows_unique(path: Path, rows: list[LabelRow]) -> tuple[list[LabelRow], list[tuple[int, int]]]:
    """The rows with each text once, and (line, earlier line) of the repeats dropped.

    A repeat with the same label is harmless (datasets carry duplicates); one with
    another label is a contradiction the file must settle, so it is a CorpusError.
    """
    first: dict[str, LabelRow] = {}
    repeats: list[tuple[int, int]] = []
    for row in rows:
        earlier = first.setdefault(row.text, row)
        if earlier is row:
            continue
        if earlier.label != row.label:
            raise CorpusError(
                path,
                f"text already given on line {earlier.line} (as {earlier.label}, here {row.label})",
                row.line,
            )
        repeats.append((row.line, earlier.line))
    return list(first.values()), repeats


def _full_sentences(*, sentence_ids: list[int], target: Target, annotator_name: str) -> dict[int, int]:
    """The sentences that want no more stance labels (rule.py's FULL, the queue's own
    condition, dynamic overlap included) and hold none of the importer's, with their stance
    labels: each one a row the import would be refused."""
    importer = User.objects.filter(username=annotator_name).values_list("pk", flat=True).first()
    params: dict[str, object] = {
        **rule.overlap_params(target),
        "annotator": -1 if importer is None else importer,
        "skip": Label.SKIP,
    }
    found: dict[int, int] = {}
    for start in range(0, len(sentence_ids), MATCH_BATCH):
        part = sentence_ids[start : start + MATCH_BATCH]
        ids = {f"id{number}": sentence_id for number, sentence_id in enumerate(part)}
        # The one piece built here: the list of ids (%(id0)s, %(id1)s, ...); the condition
        # is the rule's.
        query = f"""SELECT "sentence"."id", COALESCE("tally"."votes", 0) FROM "annotate_sentence" "sentence"
LEFT JOIN "annotate_sentencetally" "tally" ON "tally"."target_id" = %(target)s
    AND "tally"."sentence_id" = "sentence"."id"
WHERE "sentence"."id" IN ({", ".join(f"%({name})s" for name in ids)})
    AND {rule.full_of_labels('"sentence"."id"')}
    AND NOT {rule.evaluation_item('"sentence"."id"')}
    AND NOT EXISTS (SELECT 1 FROM "annotate_annotation" "own" WHERE "own"."sentence_id" = "sentence"."id"
        AND "own"."target_id" = %(target)s AND "own"."annotator_id" = %(annotator)s
        AND "own"."label" <> %(skip)s)"""
        found.update(sql.fetch(query, {**params, **ids}))
    return found


def _full_reason(labels: int, target: Target) -> str:
    if target.most_labels == target.overlap:
        return f"the sentence is full: {labels} other annotators labelled it (overlap {target.overlap})"
    return (
        f"the sentence is full: {labels} other annotators labelled it (overlap {target.overlap}, "
        f"up to {target.most_labels} while they disagree)"
    )


def labels_import(
    *,
    path: Path,
    rows: list[LabelRow],
    target: Target,
    annotator_name: str,
    progress: Callable[[Iterable[LabelRow]], Iterable[LabelRow]] | None = None,
    batch_size: int = LABEL_BATCH,
) -> LabelImportResult:
    """Store the rows as the annotator's labels, with their history.

    A text equal to an existing sentence labels that sentence; other texts become
    sentences of an article named after the file. Everything is checked before anything
    is written (a CorpusError names the line): repeated texts, and sentences that already
    hold the target's overlap of other annotators' labels. Then the new sentences are
    stored in one transaction and the labels in batches, each under the target's lock
    (taken first, before any annotation row), so annotators label between batches. A
    sentence that fills up meanwhile leaves its row out, listed in `not_recorded`. A run
    stopped between batches can be run again: what it stored is matched and repeated.
    """
    rows, repeats = label_rows_unique(path, rows)
    result = LabelImportResult(repeats=repeats)
    known: dict[str, Sentence] = {}
    texts = sorted({row.text for row in rows})
    for start in range(0, len(texts), MATCH_BATCH):
        for sentence in Sentence.objects.filter(text__in=texts[start : start + MATCH_BATCH]).order_by("id"):
            known.setdefault(sentence.text, sentence)
    current = Target.objects.get(pk=target.pk)
    full = _full_sentences(
        sentence_ids=[sentence.pk for sentence in known.values()],
        target=current,
        annotator_name=annotator_name,
    )
    for row in rows:
        if row.text in known and known[row.text].pk in full:
            raise CorpusError(path, _full_reason(full[known[row.text].pk], current), row.line)
    new_texts = [row.text for row in rows if row.text not in known]
    body = "\n".join(new_texts)
    existing: Article | None = None
    if new_texts:
        # Placed before the transaction: finding 20,000 spans took seconds.
        existing = Article.objects.filter(content_hash=content_hash(body)).first()
        spans = _spans(path, existing, new_texts)

    with transaction.atomic():
        annotator = _annotator(annotator_name)
        if new_texts:
            result.article = _article_for(path, body)
            if existing is None and result.article.body != body:  # stored meanwhile, spaced otherwise
                spans = _spans(path, result.article, new_texts)
            created = sentences_create(_new_sentences(result.article, new_texts, spans))
            known.update((sentence.text, sentence) for sentence in created)
            # New sentences may sit in an older article that annotators' searches have passed.
            sentences_added(created=created)
            result.new_sentences = len(created)

    fresh = set(new_texts)
    source = iter(progress(rows) if progress else rows)
    pending: list[LabelRow] = []
    while True:
        # Rows are taken from the source (and the progress bar moves) between transactions.
        pending += itertools.islice(source, batch_size - len(pending))
        if not pending:
            return result
        pending = _label_batch(
            pending, known=known, fresh=fresh, target=target, annotator=annotator, result=result
        )
        if connection.vendor == "sqlite":
            time.sleep(SQLITE_PAUSE_S)


def labels_import_summary(
    result: LabelImportResult, *, path: Path, target: Target, annotator_name: str
) -> list[tuple[str, str]]:
    """What a label import says when it is done, as (level, text): "success", "info" or
    "warning". The command prints these lines and the upload page shows them."""
    lines = [
        (
            "success",
            f"Imported {result.rows} labels for {target.name} as {annotator_name}: "
            f"{result.matched} on existing sentences, {result.new_sentences} new sentences.",
        )
    ]
    lines += [
        ("info", f"{path}:{line}: text already given on line {earlier} (same label, recorded once)")
        for line, earlier in result.repeats
    ]
    lines += [("warning", f"{path}:{line}: not recorded: {reason}") for line, reason in result.not_recorded]
    return lines


def _label_batch(
    batch: list[LabelRow],
    *,
    known: dict[str, Sentence],
    fresh: set[str],
    target: Target,
    annotator: User,
    result: LabelImportResult,
) -> list[LabelRow]:
    """One transaction: the target's lock first, then the rows' labels and history.

    Returns the rows left for the next batch when LABEL_BATCH_SECONDS ran out first.
    """
    started = time.monotonic()
    with transaction.atomic():
        target = lock_target(target.pk)
        for done, row in enumerate(batch):
            if done and time.monotonic() - started > LABEL_BATCH_SECONDS:
                return batch[done:]
            # The overlap rule is record_locked's, as on every path; a refusal writes
            # nothing, so the batch's transaction goes on without a savepoint.
            sentence = known[row.text]
            recorded = record_locked(annotator=annotator, sentence=sentence, target=target, label=row.label)
            if recorded is None:
                result.not_recorded.append((row.line, " ".join(SentenceFull(target).messages)))
                continue
            release_locked(annotator=annotator, target=target, sentence_id=sentence.pk)
            result.rows += 1
            result.matched += row.text not in fresh
    return []


def _article_for(path: Path, body: str) -> Article:
    existing = Article.objects.filter(content_hash=content_hash(body)).first()
    if existing:
        return existing
    return Article.objects.create(
        title=path.name,
        source="imported labels",
        body=body,
        content_hash=content_hash(body),
        imported_from=path.name[:300],
        # Each labelled text is one unit, a line of the body: none was split.
        unit=Unit.TEXT,
    )


def _spans(path: Path, article: Article | None, texts: list[str]) -> list[tuple[int, int]]:
    """Where each text lies in the body of `article`, or of a new one (the texts, one a line).

    An existing article's body equals the texts only up to whitespace, so there the spans
    are searched whitespace-tolerantly.
    """
    spans = []
    cursor = 0
    if article is None:
        for text in texts:
            spans.append((cursor, cursor + len(text)))
            cursor += len(text) + 1
        return spans
    for text in texts:
        found = re.compile(r"\s+".join(map(re.escape, text.split()))).search(article.body, cursor)
        if found is None:
            raise CorpusError(path, f"cannot place {text[:40]!r} in article {article.pk}")
        cursor = found.end()
        spans.append((found.start(), cursor))
    return spans


def _new_sentences(article: Article, texts: list[str], spans: list[tuple[int, int]]) -> list[Sentence]:
    """Sentences for the texts at their spans, placed after the article's last one."""
    last = article.sentences.aggregate(n=Max("position"))["n"]
    first = 0 if last is None else last + 1
    return [
        Sentence(article=article, position=first + number, text=text, start=start, end=end)
        for number, (text, (start, end)) in enumerate(zip(texts, spans, strict=True))
    ]
