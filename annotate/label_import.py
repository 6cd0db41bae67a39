"""Bootstrapping: load labelled texts from a CSV or JSONL file as one annotator's labels."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max

from annotate.corpus import CorpusError, content_hash, decode_text, jsonl_records, unstorable
from annotate.labelling import annotation_record
from annotate.models import STANCE_LABELS, Article, Sentence, Target
from annotate.queue import lock_target, rewind_cursors

MATCH_BATCH = 500


@dataclass(frozen=True)
class LabelRow:
    line: int
    text: str
    label: str


@dataclass
class LabelImportResult:
    rows: int = 0
    matched: int = 0
    new_sentences: int = 0
    article: Article | None = None


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
    if path.suffix.lower() not in (".csv", ".jsonl"):
        raise CorpusError(path, "unsupported file type (expected .csv or .jsonl)")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CorpusError(path, f"cannot read: {error.strerror}") from None
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


def _annotator(username: str) -> AbstractBaseUser:
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        # An imported dataset's annotator does not log in.
        user = User(username=username)
        user.set_unusable_password()
        user.save()
    return user


def labels_import(
    *, path: Path, rows: list[LabelRow], target: Target, annotator_name: str
) -> LabelImportResult:
    """Store the rows as the annotator's labels, in one transaction with their history.

    A text equal to an existing sentence labels that sentence; other texts become
    sentences of an article named after the file.
    """
    result = LabelImportResult(rows=len(rows))
    with transaction.atomic():
        lock_target(target.pk)
        annotator = _annotator(annotator_name)
        known: dict[str, Sentence] = {}
        texts = sorted({row.text for row in rows})
        for start in range(0, len(texts), MATCH_BATCH):
            for sentence in Sentence.objects.filter(text__in=texts[start : start + MATCH_BATCH]).order_by(
                "id"
            ):
                known.setdefault(sentence.text, sentence)
        new_texts = [text for text in dict.fromkeys(row.text for row in rows) if text not in known]
        if new_texts:
            result.article = _article_for(path, new_texts)
            created = _new_sentences(path, result.article, new_texts)
            for sentence in Sentence.objects.bulk_create(created):
                known[sentence.text] = sentence
            # New sentences may sit in an older article that annotators' searches have passed.
            rewind_cursors(target=target, sentence=created[0])
            result.new_sentences = len(created)
        for row in rows:
            annotation_record(annotator=annotator, sentence=known[row.text], target=target, label=row.label)
        fresh = set(new_texts)
        result.matched = sum(1 for row in rows if row.text not in fresh)
    return result


def _article_for(path: Path, texts: list[str]) -> Article:
    body = "\n".join(texts)
    digest = content_hash(body)
    existing = Article.objects.filter(content_hash=digest).first()
    if existing:
        return existing
    return Article.objects.create(title=path.name, source="imported labels", body=body, content_hash=digest)


def _new_sentences(path: Path, article: Article, texts: list[str]) -> list[Sentence]:
    """Sentences for the texts, placed after the article's last one, spans found in its body.

    The article may be an existing one whose body equals the texts up to whitespace, so
    spans are searched whitespace-tolerantly.
    """
    last = article.sentences.aggregate(n=Max("position"))["n"]
    position = -1 if last is None else last
    cursor = 0
    created = []
    for text in texts:
        found = re.compile(r"\s+".join(map(re.escape, text.split()))).search(article.body, cursor)
        if found is None:
            raise CorpusError(path, f"cannot place {text[:40]!r} in article {article.pk}")
        position += 1
        cursor = found.end()
        created.append(
            Sentence(article=article, position=position, text=text, start=found.start(), end=cursor)
        )
    return created
