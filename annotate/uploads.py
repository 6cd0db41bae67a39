"""Imports from the browser: an admin's uploaded files, previewed, then confirmed.

The third door onto the import services of `manage.py import_articles` and `import_labels`
(annotate.corpus, annotate.label_import): the files are read by the same functions, so a
bad file gets the command's message (CorpusError's str) naming the file and line, and
confirmed, they are stored by the same functions. A preview writes nothing but the
upload itself (its files and options, for the confirmation); confirming reads the files
again before anything is written. An upload larger than UPLOAD_INLINE_MAX_BYTES is
imported by the background worker (annotate.tasks.import_upload), its progress counted on
the Upload row for the page to poll.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotate.corpus import (
    CorpusError,
    ParsedArticle,
    articles_from_bytes,
    articles_import,
    articles_import_summary,
    licence_problem,
    text_problem,
    units_of,
)
from annotate.label_import import (
    MATCH_BATCH,
    LabelRow,
    label_rows_from_bytes,
    label_rows_unique,
    labels_import,
    labels_import_summary,
    parse_mapping,
)
from annotate.models import UNKNOWN_LICENCE, Article, Sentence, Target, Unit, Upload, UploadFile, column_size

#: The most characters a preview splits into sentences to count them (about 0.7 s of
#: splitting, as a web request's article): beyond, the count covers the first articles.
PREVIEW_SPLIT_CHARS = 200_000
#: Sentences (or label rows) the preview shows from the start of the upload.
PREVIEW_FIRST = 5
#: A preview not confirmed within this long is dropped (its files' bytes deleted) when the
#: next upload is stored: the bytes are kept for the confirmation only.
UNCONFIRMED_KEPT = datetime.timedelta(days=1)
UNCONFIRMED = "Not confirmed within a day: upload the file again to import it."
#: How often, at most, a running import writes its progress to the Upload row.
PROGRESS_EVERY_S = 0.5

NOTHING_WRITTEN = "Nothing was imported."
STOPPED = (
    "The import stopped partway: what it stored is kept, whole articles and batches of labels. "
    "Upload the file again to import the rest (what is stored is skipped or matched)."
)

Item = TypeVar("Item")


@dataclass(frozen=True)
class UploadedText:
    """One uploaded file: its name (no folders) and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class FilePreview:
    name: str
    records: int  # articles, or label rows
    units: int | None  # sentences (or texts kept whole) counted; None when not all were


@dataclass(frozen=True)
class Preview:
    """What an upload would import, or the first error (the command's message)."""

    kind: str
    error: str = ""
    files: list[FilePreview] = field(default_factory=list)
    records: int = 0  # articles, or label rows (each text once)
    units: int = 0  # sentences counted, in the first `units_of_records` articles
    units_of_records: int = 0
    already_stored: int = 0  # articles already stored (skipped), or texts that are sentences
    first: list[str] = field(default_factory=list)  # the first sentences, or "label: text"
    labels: dict[str, int] = field(default_factory=dict)
    repeats: int = 0  # label rows that repeat an earlier text with its label

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def units_complete(self) -> bool:
        return self.units_of_records == self.records


def size_problem(*, name: str, size: int) -> str | None:
    """Why a file is too large to upload (None when it is not)."""
    limit: int = settings.UPLOAD_MAX_BYTES
    if size <= limit:
        return None
    return f"{name}: the file is {size:,} bytes; an upload takes at most {limit:,} bytes a file (UPLOAD_MAX_BYTES)."


def _refused(kind: str, files: list[UploadedText]) -> Preview | None:
    if not files:
        return Preview(kind=kind, error="Choose a file to upload.")
    for file in files:
        problem = size_problem(name=file.name, size=len(file.data))
        if problem is not None:
            return Preview(kind=kind, error=problem)
    return None


def _parse_articles(files: list[UploadedText], unit: str) -> list[ParsedArticle]:
    """Every file's articles, the whole upload checked before anything is written."""
    return [parsed for file in files for parsed in articles_from_bytes(Path(file.name), file.data, unit=unit)]


def options_problem(*, source: str, licence: str) -> str | None:
    """The command's checks of --source and --licence, worded for the form."""
    if (problem := text_problem("source", source)) is not None:
        return f"Source: {problem}."
    if (problem := licence_problem(licence)) is not None:
        return f"Licence: {problem}."
    return None


def articles_preview(*, files: list[UploadedText], unit: str, source: str, licence: str) -> Preview:
    """What importing the files would do; nothing is written."""
    kind = Upload.Kind.ARTICLES
    refused = _refused(kind, files) or (
        Preview(kind=kind, error=problem)
        if (problem := options_problem(source=source, licence=licence or UNKNOWN_LICENCE))
        else None
    )
    if refused is not None:
        return refused
    try:
        per_file = [(file.name, articles_from_bytes(Path(file.name), file.data, unit=unit)) for file in files]
    except (CorpusError, ValueError) as error:
        return Preview(kind=kind, error=str(error))
    budget = PREVIEW_SPLIT_CHARS
    summaries: list[FilePreview] = []
    first: list[str] = []
    units = counted = 0
    for name, parsed in per_file:
        file_units: int | None = 0
        for article in parsed:
            # The first article is always counted; then as many as the budget allows.
            if counted and budget < len(article.body):
                budget = -1  # spent: no later article is counted, so the count is of the first ones
                file_units = None
                continue
            budget -= len(article.body)
            spans = units_of(article)
            first += [span.text for span in spans[: PREVIEW_FIRST - len(first)]]
            units, counted = units + len(spans), counted + 1
            file_units = None if file_units is None else file_units + len(spans)
        summaries.append(FilePreview(name=name, records=len(parsed), units=file_units))
    hashes = sorted({article.content_hash for _, parsed in per_file for article in parsed})
    stored = sum(
        Article.objects.filter(content_hash__in=hashes[start : start + MATCH_BATCH]).count()
        for start in range(0, len(hashes), MATCH_BATCH)
    )
    return Preview(
        kind=kind,
        files=summaries,
        records=sum(len(parsed) for _, parsed in per_file),
        units=units,
        units_of_records=counted,
        already_stored=stored,
        first=first,
    )


def _label_rows(file: UploadedText, label_map: str) -> tuple[list[LabelRow], list[tuple[int, int]]]:
    path = Path(file.name)
    rows = label_rows_from_bytes(path, file.data, mapping=parse_mapping(label_map))
    return label_rows_unique(path, rows)


def annotator_problem(annotator_name: str) -> str | None:
    limit = column_size(User, "username")
    if not annotator_name.strip():
        return "Annotator: give the username to record the labels under."
    if len(annotator_name) > limit or "\x00" in annotator_name:
        return f"Annotator: a username of at most {limit} characters, with no NUL."
    return None


def labels_preview(
    *, file: UploadedText, target: Target, annotator_name: str, label_map: str = ""
) -> Preview:
    """What importing the label file would do; nothing is written. Whether a sentence is
    already full is checked by the import itself, before it writes anything."""
    kind = Upload.Kind.LABELS
    refused = _refused(kind, [file])
    if refused is None and (problem := annotator_problem(annotator_name)) is not None:
        refused = Preview(kind=kind, error=problem)
    if refused is None and target.is_archived:
        refused = Preview(kind=kind, error=f"The target {target.name} is archived.")
    if refused is not None:
        return refused
    try:
        rows, repeats = _label_rows(file, label_map)
    except (CorpusError, ValueError) as error:
        return Preview(kind=kind, error=str(error))
    texts = sorted({row.text for row in rows})
    matched = sum(
        Sentence.objects.filter(text__in=texts[start : start + MATCH_BATCH]).values("text").distinct().count()
        for start in range(0, len(texts), MATCH_BATCH)
    )
    labels: dict[str, int] = {}
    for row in rows:
        labels[row.label] = labels.get(row.label, 0) + 1
    return Preview(
        kind=kind,
        files=[FilePreview(name=file.name, records=len(rows), units=len(rows))],
        records=len(rows),
        units=len(rows),
        units_of_records=len(rows),
        already_stored=matched,
        first=[f"{row.label}: {row.text}" for row in rows[:PREVIEW_FIRST]],
        labels=dict(sorted(labels.items())),
        repeats=len(repeats),
    )


def preview_of(upload: Upload) -> Preview:
    """The preview stored with an upload, for its page."""
    data = dict(upload.preview)
    data["files"] = [FilePreview(**item) for item in data.get("files", [])]
    return Preview(**data)


@transaction.atomic
def upload_store(
    *,
    preview: Preview,
    files: list[UploadedText],
    created_by: User,
    unit: str = Unit.SENTENCE,
    source: str = "",
    licence: str = UNKNOWN_LICENCE,
    target: Target | None = None,
    annotator_name: str = "",
    label_map: str = "",
) -> Upload:
    """Keep a previewed upload (its files and options) until it is confirmed."""
    if not preview.ok:
        raise ValueError("an upload that failed its preview is not stored")
    stale = Upload.objects.filter(
        status=Upload.Status.PREVIEWED, created_at__lt=timezone.now() - UNCONFIRMED_KEPT
    )
    UploadFile.objects.filter(upload__in=stale).delete()
    stale.update(status=Upload.Status.FAILED, error=UNCONFIRMED, finished_at=timezone.now())
    upload = Upload.objects.create(
        kind=preview.kind,
        created_by=created_by,
        unit=unit,
        source=source,
        licence=licence or UNKNOWN_LICENCE,
        target=target,
        annotator_name=annotator_name,
        label_map=label_map,
        names=[file.name for file in files],
        size=sum(len(file.data) for file in files),
        preview=asdict(preview),
        total=preview.records,
    )
    UploadFile.objects.bulk_create(UploadFile(upload=upload, name=f.name, data=f.data) for f in files)
    return upload


def upload_confirm(*, upload_id: int) -> Upload:
    """Import a previewed upload: in this request when it is small, else in the background.

    Only a previewed upload moves on (a second click does nothing); the files are read and
    checked again by the import before it writes anything.
    """
    moved = Upload.objects.filter(pk=upload_id, status=Upload.Status.PREVIEWED).update(
        status=Upload.Status.QUEUED
    )
    upload = Upload.objects.get(pk=upload_id)
    if not moved:
        return upload
    if upload.size > settings.UPLOAD_INLINE_MAX_BYTES:
        from annotate.tasks import import_upload

        import_upload.enqueue(upload.pk)
        return upload
    return upload_run(upload_id=upload.pk)


def _counting(upload_id: int, items: Iterable[Item]) -> Iterator[Item]:
    """The items, with how many have been taken written to the upload now and then."""
    last = time.monotonic()
    done = 0
    for done, item in enumerate(items, start=1):
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            Upload.objects.filter(pk=upload_id).update(done=done - 1)
            last = time.monotonic()
        yield item
    Upload.objects.filter(pk=upload_id).update(done=done)


def _progress(upload_id: int) -> Callable[[Iterable[Item]], Iterable[Item]]:
    return lambda items: _counting(upload_id, items)


def _finish(upload: Upload, *, status: str, messages: list[tuple[str, str]], error: str = "") -> Upload:
    upload.status, upload.error = status, error
    upload.messages = [list(pair) for pair in messages]  # as JSON gives them back
    upload.finished_at = timezone.now()
    if status == Upload.Status.DONE:
        upload.done = upload.total
    upload.save(update_fields=["status", "messages", "error", "finished_at", "done"])
    # The bytes were kept for this run only; the names and the outcome stay.
    UploadFile.objects.filter(upload=upload).delete()
    return upload


def upload_run(*, upload_id: int) -> Upload:
    """The import itself (the task's body, or the request's for a small upload)."""
    Upload.objects.filter(pk=upload_id).update(status=Upload.Status.RUNNING)
    upload = Upload.objects.select_related("target").get(pk=upload_id)
    files = [UploadedText(name=f.name, data=bytes(f.data)) for f in upload.files.all()]
    try:
        if upload.kind == Upload.Kind.ARTICLES:
            messages = _run_articles(upload, files)
        else:
            messages = _run_labels(upload, files)
    except (CorpusError, ValueError) as error:
        # Refused before anything was written: the command's message, as it gives it.
        return _finish(
            upload, status=Upload.Status.FAILED, messages=[("error", NOTHING_WRITTEN)], error=str(error)
        )
    except Exception as error:
        _finish(upload, status=Upload.Status.FAILED, messages=[("error", STOPPED)], error=str(error))
        raise
    return _finish(upload, status=Upload.Status.DONE, messages=messages)


def _run_articles(upload: Upload, files: list[UploadedText]) -> list[tuple[str, str]]:
    parsed = _parse_articles(files, upload.unit)
    Upload.objects.filter(pk=upload.pk).update(total=len(parsed))
    upload.total = len(parsed)
    result = articles_import(
        articles=parsed, source=upload.source, licence=upload.licence, progress=_progress(upload.pk)
    )
    return articles_import_summary(result, unit=upload.unit)


def _run_labels(upload: Upload, files: list[UploadedText]) -> list[tuple[str, str]]:
    from annotate.retrain_policy import retrain_if_due

    target = upload.target
    if target is None or target.is_archived:
        raise ValueError("The upload's target is archived or gone: nothing was imported.")
    (file,) = files
    path = Path(file.name)
    rows = label_rows_from_bytes(path, file.data, mapping=parse_mapping(upload.label_map))
    upload.total = len({row.text for row in rows})
    Upload.objects.filter(pk=upload.pk).update(total=upload.total)
    result = labels_import(
        path=path,
        rows=rows,
        target=target,
        annotator_name=upload.annotator_name,
        progress=_progress(upload.pk),
    )
    messages = labels_import_summary(result, path=path, target=target, annotator_name=upload.annotator_name)
    if retrain_if_due(target=target):
        messages.insert(0, ("info", "Enough new gold labels: a retrain is queued for the background worker."))
    return messages
