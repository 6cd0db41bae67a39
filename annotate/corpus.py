"""Reading articles from files, splitting them into sentences, importing them once."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pysbd
from django.db import transaction

from annotate.duplicate_groups import sentences_create
from annotate.embedding_store import embeddings_enqueue
from annotate.models import UNKNOWN_LICENCE, Article, Sentence, Target, Unit, column_size, is_http_url
from annotate.queue.cursors import rewind_cursors_locked
from annotate.queue.locks import lock_target
from annotate.shuffle import shuffled

SUPPORTED_SUFFIXES = (".txt", ".jsonl")
#: How an import reads texts into units to label (`import_articles --unit`): `sentence`
#: splits them (news articles); `text` keeps each record whole, a .jsonl record's body or a
#: whole .txt file; `line` reads a .txt file as one text a non-empty line (a file of posts),
#: each its own article, kept whole. An article stores its unit (Article.unit): `line` is
#: stored as `text`.
LINE = "line"
READ_UNITS = (Unit.SENTENCE.value, Unit.TEXT.value, LINE)
#: A first line this short that does not end like a sentence is taken as the headline.
HEADLINE_MAX_WORDS = 30
#: Sentences written in one transaction: an import commits this often, so annotators'
#: labels (which need the same write lock on SQLite) wait for one batch, never the run.
SENTENCE_BATCH = 500
#: The most characters pysbd is given at once. Its time grows with the square of its
#: input (a 47 KB paragraph took 3.3 s, a 2 MB one did not finish in 15 minutes), so a
#: longer paragraph goes to it in windows. Around 2,000 characters pysbd runs fastest
#: per character; a news paragraph is rarely that long.
SEGMENT_MAX_CHARS = 2000
#: The longest body split inside a web request (the API's POST /api/articles/ and the
#: admin's "add article"): about 0.7 s of splitting. Longer ones go through
#: `manage.py import_articles`, which has no request timeout to meet.
ONLINE_BODY_MAX_CHARS = 200_000
ONLINE_BODY_TOO_LONG = (
    "The body is {length:,} characters long; at most {limit:,} are split in a web request. "
    "Import longer articles with `manage.py import_articles`."
)
#: The longest title, source, URL and licence an article may have: its columns' sizes.
MAX_LENGTHS = {name: column_size(Article, name) for name in ("title", "source", "url", "licence")}
#: Half of a UTF-16 pair on its own: json.loads makes one of "\ud800", and no database
#: driver can encode it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class CorpusError(Exception):
    """A file that cannot be imported; str() is the one-line message for the user."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class ParsedArticle:
    title: str
    body: str
    source: str = ""
    url: str = ""
    published: datetime.date | None = None
    origin: str = ""  # file and line, for messages
    licence: str = ""  # the record's own; else the import's (articles_import's `licence`)
    file: str = ""  # the name of the file it was read from, kept as its provenance
    unit: str = Unit.SENTENCE  # split into sentences, or kept whole (Unit.TEXT)

    @property
    def content_hash(self) -> str:
        return content_hash(self.body)


@dataclass
class ImportResult:
    articles_created: int = 0
    articles_skipped: int = 0
    sentences_created: int = 0
    #: Of the skipped, those stored with another unit than this import's: they keep theirs.
    skipped_other_unit: int = 0


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def content_hash(body: str) -> str:
    normalised = " ".join(body.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def _segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence pysbd finds in the text, whitespace trimmed."""
    found: list[tuple[int, int]] = []
    cursor = 0
    for segment in _segmenter().segment(text):
        sentence = segment.strip()
        if not sentence:
            continue
        start = text.find(sentence, cursor)
        if start < 0:  # pysbd never rewrites text with clean=False; guard regardless
            continue
        cursor = start + len(sentence)
        found.append((start, cursor))
    return found


def _paragraph_sentences(text: str, limit: int) -> Iterator[tuple[int, int]]:
    """(start, end) of the sentences of one paragraph, pysbd seeing `limit` characters at most.

    A window's last sentence may be cut off by the window, so it is not taken: the next
    window starts where it starts. A sentence longer than a window is cut at its last
    space (or at the limit). Each window moves on by all but one sentence, so the work
    grows with the paragraph's length, not its square.
    """
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        found = _segments(window)
        if len(found) > 1:
            yield from ((start + s, start + e) for s, e in found[:-1])
            start += found[-1][0]
            continue
        cut = window.rfind(" ", limit // 2) + 1 or limit
        yield from ((start + s, start + e) for s, e in _segments(window[:cut]))
        start += cut
    yield from ((start + s, start + e) for s, e in _segments(text[start:]))


def split_sentences(body: str) -> list[Span]:
    """Sentences of a body with their offsets, so that body[start:end] == text.

    Each line is a paragraph (captions and credits included); pysbd splits within it.
    """
    spans: list[Span] = []
    for paragraph in re.finditer(r"[^\n]+", body):
        for start, end in _paragraph_sentences(paragraph.group(), SEGMENT_MAX_CHARS):
            offset = paragraph.start()
            spans.append(
                Span(start=offset + start, end=offset + end, text=body[offset + start : offset + end])
            )
    return spans


def whole_text(body: str) -> list[Span]:
    """The body as one unit, its whitespace normalised as import_labels normalises a label
    file's texts (so a file of the same posts labels these units); the span covers the body
    but for its outer whitespace, though body[start:end] keeps the inner as it was."""
    text = " ".join(body.split())
    if not text:
        return []
    return [Span(start=len(body) - len(body.lstrip()), end=len(body.rstrip()), text=text)]


def units_of(parsed: ParsedArticle) -> list[Span]:
    """The units to label of a parsed article: its sentences, or its whole text."""
    return whole_text(parsed.body) if parsed.unit == Unit.TEXT else split_sentences(parsed.body)


def decode_text(path: Path, raw: bytes) -> str:
    if not raw.strip():
        raise CorpusError(path, "the file is empty")
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise CorpusError(path, "binary data (NUL byte), not a text file", line)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise CorpusError(path, f"not UTF-8 (byte 0x{raw[error.start]:02x})", line) from None


def _parse_lines(path: Path, text: str) -> list[ParsedArticle]:
    """One article a non-empty line, kept whole: a file of posts, one a line."""
    articles = [
        ParsedArticle(
            title=text_title(line),
            body=line.strip(),
            origin=f"{path}:{number}",
            file=path.name,
            unit=Unit.TEXT,
        )
        for number, line in enumerate(text.split("\n"), start=1)
        if line.strip()
    ]
    if not articles:
        raise CorpusError(path, "the file holds no texts")
    return articles


def _parse_txt(path: Path, text: str, unit: str) -> list[ParsedArticle]:
    text = text.lstrip("\ufeff")
    if unit == LINE:
        return _parse_lines(path, text)
    if not text.strip():
        raise CorpusError(path, "the file is empty")
    lines = text.strip().split("\n")
    first = lines[0].strip()
    # A first line too long for the title column is not a headline, however few its words
    # (a long URL, say): it stays in the body, which keeps every character of the file.
    # A post's first line is no headline: kept whole, the file is one text.
    is_headline = (
        unit == Unit.SENTENCE
        and len(lines) > 1
        and len(first.split()) <= HEADLINE_MAX_WORDS
        and len(first) <= MAX_LENGTHS["title"]
        and not first.endswith((".", "!", "?"))
    )
    if is_headline:
        title, body = first, "\n".join(lines[1:]).strip()
    else:
        title, body = _shorten(first), text.strip()
    if not body:
        raise CorpusError(path, "no article body after the headline", 1)
    return [ParsedArticle(title=title, body=body, origin=str(path), file=path.name, unit=unit)]


def text_title(body: str) -> str:
    """A title for a text kept whole: the opening words of its first line."""
    return _shorten(body.split("\n", 1)[0].strip())


def _shorten(text: str, limit: int = 100) -> str:
    """A title for a headless article: its opening words."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _parse_date(value: object, path: Path, line: int) -> datetime.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise CorpusError(path, "'published' must be an ISO date string", line)
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        raise CorpusError(path, f"'published' is not an ISO date: {value!r}", line) from None


def unstorable(name: str, value: str) -> str | None:
    """Why no database stores the text (PostgreSQL refuses NUL with a DataError, and no
    driver encodes a lone surrogate), or None; `name` is for the message."""
    if "\x00" in value:
        return f"NUL character in '{name}'"
    if LONE_SURROGATE.search(value):
        return f"'{name}' is not valid Unicode (a lone surrogate)"
    return None


def text_problem(name: str, value: str) -> str | None:
    """Why a text cannot be stored as the article field `name` (None when it can): the
    database would refuse it, or, for the URL, a page would link to it."""
    if (problem := unstorable(name, value)) is not None:
        return problem
    limit = MAX_LENGTHS.get(name)
    if limit is not None and len(value) > limit:
        return f"'{name}' is longer than {limit} characters"
    if name == "url" and value and not is_http_url(value):
        return "'url' must be an http(s) URL"
    return None


def _text_field(record: dict, name: str, path: Path, line: int) -> str:
    value = record.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CorpusError(path, f"'{name}' must be a string", line)
    value = value.strip()
    problem = text_problem(name, value)
    if problem is not None:
        raise CorpusError(path, problem, line)
    return value


def jsonl_records(path: Path, text: str) -> Iterator[tuple[int, dict[str, object]]]:
    """(line number, object) for each non-blank line of a JSON Lines text.

    A line that is not a JSON object is a CorpusError naming the file and the line.
    """
    for number, line in enumerate(text.lstrip("\ufeff").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise CorpusError(path, f"invalid JSON: {error.msg}", number) from None
        if not isinstance(record, dict):
            raise CorpusError(path, "each line must be a JSON object", number)
        yield number, record


def _parse_jsonl(path: Path, text: str, unit: str) -> list[ParsedArticle]:
    if unit == LINE:
        raise CorpusError(
            path,
            f"unit {LINE!r} reads .txt files, a text a line; to keep each .jsonl record whole, use 'text'",
        )
    articles = []
    for number, record in jsonl_records(path, text):
        body = _text_field(record, "body", path, number)
        if not body:
            raise CorpusError(path, "record has no 'body'", number)
        # A post or a comment has no title of its own: its opening words serve.
        title = _text_field(record, "title", path, number)
        if not title and unit == Unit.TEXT:
            title = text_title(body)
        if not title:
            raise CorpusError(path, "record has no 'title'", number)
        articles.append(
            ParsedArticle(
                title=title,
                body=body,
                source=_text_field(record, "source", path, number),
                url=_text_field(record, "url", path, number),
                published=_parse_date(record.get("published"), path, number),
                origin=f"{path}:{number}",
                licence=_text_field(record, "licence", path, number),
                file=path.name,
                unit=unit,
            )
        )
    if not articles:
        raise CorpusError(path, "the file holds no articles")
    return articles


def _check_article_file(path: Path, unit: str) -> None:
    if unit not in READ_UNITS:
        raise ValueError(f"unknown unit {unit!r} (expected one of {', '.join(READ_UNITS)})")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise CorpusError(path, f"unsupported file type (expected {', '.join(SUPPORTED_SUFFIXES)})")


def read_articles(path: Path, *, unit: str = Unit.SENTENCE) -> list[ParsedArticle]:
    """Parse one .txt or .jsonl file, into units as `unit` (one of READ_UNITS) says; raises
    CorpusError naming the file and line."""
    _check_article_file(path, unit)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CorpusError(path, f"cannot read: {error.strerror}") from None
    return _parse_articles(path, raw, unit)


def articles_from_bytes(path: Path, raw: bytes, *, unit: str = Unit.SENTENCE) -> list[ParsedArticle]:
    """read_articles for a file's bytes already in hand (an upload): `path` is its name, for
    the messages, which are the ones the command gives for a file of that name."""
    _check_article_file(path, unit)
    return _parse_articles(path, raw, unit)


def _parse_articles(path: Path, raw: bytes, unit: str) -> list[ParsedArticle]:
    text = decode_text(path, raw)
    if path.suffix.lower() == ".txt":
        return _parse_txt(path, text, unit)
    return _parse_jsonl(path, text, unit)


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files named directly, and the supported files inside named folders, in name order."""
    files: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            files.extend(sorted(p for p in item.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES))
        elif item.exists():
            files.append(item)
        else:
            raise CorpusError(item, "no such file or folder")
    return files


def parse_files(paths: Iterable[Path | str], *, unit: str = Unit.SENTENCE) -> Iterator[ParsedArticle]:
    for path in expand_paths(paths):
        yield from read_articles(path, unit=unit)


def licence_problem(value: str) -> str | None:
    """Why `value` cannot be an import's licence (None when it can): the one check of the
    command's --licence and the API's `licence`."""
    return text_problem("licence", value)


def articles_import(
    *,
    articles: Iterable[ParsedArticle],
    source: str = "",
    licence: str = UNKNOWN_LICENCE,
    progress: Callable[[Iterable[ParsedArticle]], Iterable[ParsedArticle]] | None = None,
    batch_size: int = SENTENCE_BATCH,
) -> ImportResult:
    """Store articles and their sentences; known bodies (by content hash) are skipped.

    Pass articles already parsed (a bad file is refused before anything is written).
    Sentences are split outside any transaction, then written in transactions of about
    `batch_size` sentences, so annotators' labels get the write lock between batches. An
    article and its sentences always go in the same transaction: a run stopped between
    batches leaves whole articles only, and running it again skips what is stored and
    imports the rest.

    `source` and `licence` are given to articles whose record names none; an article already
    stored keeps its own.
    """
    result = ImportResult()
    seen: set[str] = set()
    batch: list[tuple[ParsedArticle, list[Span]]] = []
    size = 0
    items = progress(articles) if progress else articles
    for parsed in items:
        digest = parsed.content_hash
        if digest in seen:
            result.articles_skipped += 1
            continue
        seen.add(digest)
        spans = units_of(parsed)
        batch.append((parsed, spans))
        size += len(spans) + 1
        if size >= batch_size:
            _write_batch(batch, source=source, licence=licence, result=result)
            batch, size = [], 0
    if batch:
        _write_batch(batch, source=source, licence=licence, result=result)
    if result.sentences_created:
        embeddings_enqueue()  # the task worker embeds the new sentences, once
    return result


def _write_batch(
    batch: list[tuple[ParsedArticle, list[Span]]], *, source: str, licence: str, result: ImportResult
) -> None:
    """One transaction: the batch's new articles, their sentences, the cursors rewound."""
    with transaction.atomic():
        stored = dict(
            Article.objects.filter(content_hash__in=[parsed.content_hash for parsed, _ in batch]).values_list(
                "content_hash", "unit"
            )
        )
        new = [(parsed, spans) for parsed, spans in batch if parsed.content_hash not in stored]
        result.articles_skipped += len(batch) - len(new)
        result.skipped_other_unit += sum(
            stored.get(parsed.content_hash, parsed.unit) != parsed.unit for parsed, _ in batch
        )
        articles = Article.objects.bulk_create(
            Article(
                title=parsed.title,
                body=parsed.body,
                source=parsed.source or source,
                url=parsed.url,
                published=parsed.published,
                content_hash=parsed.content_hash,
                licence=parsed.licence or licence or UNKNOWN_LICENCE,
                imported_from=(parsed.file or parsed.origin)[:300],
                unit=parsed.unit,
            )
            for parsed, _ in new
        )
        result.articles_created += len(articles)
        sentences = [
            Sentence(article=article, position=position, text=span.text, start=span.start, end=span.end)
            for article, (_, spans) in zip(articles, new, strict=True)
            for position, span in enumerate(spans)
        ]
        created = sentences_create(sentences, batch_size=SENTENCE_BATCH)
        result.sentences_created += len(created)
        sentences_added(created=created)


def articles_import_summary(result: ImportResult, *, unit: str) -> list[tuple[str, str]]:
    """What an import says when it is done, as (level, text): "success" or "warning". The
    command prints these lines and the upload page shows them."""
    units = "sentences" if unit == Unit.SENTENCE else "texts kept whole"
    lines = [
        (
            "success",
            f"Imported {result.articles_created} articles ({result.sentences_created} {units}); "
            f"skipped {result.articles_skipped} already present.",
        )
    ]
    if result.skipped_other_unit:
        stored = "kept whole" if unit == Unit.SENTENCE else "split into sentences"
        lines.append(
            (
                "warning",
                f"{result.skipped_other_unit} of the skipped articles are stored {stored}, not as "
                f"--unit {unit} asks: they keep their units (delete them, and their labels, to import "
                "them again this way).",
            )
        )
    return lines


def sentences_added(*, created: Sequence[Sentence]) -> None:
    """New sentences (`created`, in article order): every target's searches must see them,
    from the first in article order and the first in the random order on.

    Call inside the transaction that stores them. Each target's lock is taken (in id
    order, then nothing else: the order annotate/queue/__init__.py documents) before its cursors move back.
    """
    if not created:
        return
    first_shuffled = shuffled([sentence.pk for sentence in created])[0]
    for target_id in Target.objects.order_by("id").values_list("id", flat=True):
        target = lock_target(target_id, archived_ok=True)  # no label is written
        rewind_cursors_locked(target=target, sentence=created[0], first_shuffled=first_shuffled)


def article_import_one(*, parsed: ParsedArticle) -> tuple[Article, bool]:
    """Import one article (the API, the admin): the stored article and whether it is new.
    Its licence is the parsed one's, else unknown."""
    result = articles_import(articles=[parsed])
    return Article.objects.get(content_hash=parsed.content_hash), result.articles_created > 0


def sentence_neighbours(sentence: Sentence, *, around: int = 2) -> tuple[list[Sentence], list[Sentence]]:
    """The sentences just before and after one sentence in its article, in one query."""
    nearby = Sentence.objects.filter(
        article_id=sentence.article_id,
        position__gte=sentence.position - around,
        position__lte=sentence.position + around,
    ).only("id", "position", "text")
    before = [s for s in nearby if s.position < sentence.position]
    return before, [s for s in nearby if s.position > sentence.position]
