"""annotate.uploads: the browser's import previews and runs the commands' services."""

from __future__ import annotations

import datetime
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from annotate.models import Annotation, AnnotationEvent, Article, Sentence, Upload, UploadFile
from annotate.uploads import (
    UNCONFIRMED,
    UploadedText,
    articles_preview,
    labels_preview,
    upload_confirm,
    upload_store,
)
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db

NEWS = (
    json.dumps(
        {"title": "Huawei denies spying", "body": "Huawei denied it. Ministers met on Monday.\nA ban is due."}
    )
    + "\n"
    + json.dumps(
        {"title": "5G auction", "body": "The auction opens in May.", "source": "Wire", "licence": "CC0"}
    )
    + "\n"
)
LABELS_CSV = "text,label\nHuawei is a trusted partner.,pro\nThe kit is a security risk.,contra\n"


def command_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes, *args: str) -> str:
    """The message `manage.py <command> name` gives for the file, run where it lies."""
    (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError) as refused:
        call_command(*args[:1], name, *args[1:], stdout=StringIO())
    return str(refused.value)


def preview_articles(
    *files: tuple[str, bytes], unit: str = "sentence", source: str = "", licence: str = "unknown"
):
    texts = [UploadedText(name=name, data=data) for name, data in files]
    return articles_preview(files=texts, unit=unit, source=source, licence=licence), texts


def stored_articles() -> list[tuple]:
    return [
        (a.title, a.body, a.source, a.url, a.licence, a.imported_from, a.unit, a.content_hash)
        for a in Article.objects.order_by("content_hash")
    ] + [
        (s.article.content_hash, s.position, s.text, s.start, s.end)
        for s in Sentence.objects.select_related("article").order_by("article__content_hash", "position")
    ]


@pytest.mark.parametrize(
    ("name", "data", "unit"),
    [
        ("news.jsonl", b'{"title": "A", "body": "Fine."}\n{"title": "B", "body": \n', "sentence"),
        ("news.jsonl", b'{"title": "A", "body": "Fine."}\n\n["a list"]\n', "sentence"),
        ("news.jsonl", b'{"title": "A"}\n', "sentence"),
        ("news.jsonl", NEWS.encode(), "line"),
        ("news.csv", b"title,body\nA,B\n", "sentence"),
        ("news.txt", b"", "sentence"),
        ("news.txt", b"Headline\n\xff\xfe body", "sentence"),
    ],
)
def test_an_article_files_preview_error_is_the_commands_message(tmp_path, monkeypatch, name, data, unit):
    preview, _ = preview_articles((name, data), unit=unit)
    expected = command_error(tmp_path, monkeypatch, name, data, "import_articles", "--unit", unit)
    assert preview.error == expected
    assert name in preview.error


def test_a_malformed_jsonl_line_is_named_by_its_number():
    preview, _ = preview_articles(("news.jsonl", b'{"title": "A", "body": "Fine."}\n\n{"title": \n'))
    assert preview.error.startswith("news.jsonl:3: invalid JSON")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("labels.csv", b"text,label\nHuawei is fine.,pro\nHuawei is bad.,FAVOR\n"),
        ("labels.jsonl", b'{"text": "Huawei is fine.", "label": "maybe"}\n'),
        ("labels.txt", b"Huawei is fine.\n"),
        ("labels.csv", b"text,label\nSame text.,pro\nSame text.,contra\n"),
    ],
)
def test_a_label_files_preview_error_is_the_commands_message(tmp_path, monkeypatch, huawei, name, data):
    preview = labels_preview(file=UploadedText(name=name, data=data), target=huawei, annotator_name="semeval")
    command = ("import_labels", "--target", "Huawei", "--annotator", "semeval")
    if b"Same text" in data:
        # A contradiction is found by the import's check before it writes (the command has no preview).
        assert preview.error == "labels.csv:3: text already given on line 2 (as pro, here contra)"
    else:
        assert preview.error == command_error(tmp_path, monkeypatch, name, data, *command)
    assert Annotation.objects.count() == 0


def test_an_unknown_label_is_named_with_its_line(huawei):
    file = UploadedText(name="labels.csv", data=b"text,label\nHuawei is fine.,pro\nHuawei is bad.,FAVOR\n")
    preview = labels_preview(file=file, target=huawei, annotator_name="semeval")
    assert preview.error == (
        "labels.csv:3: unknown label 'FAVOR' (expected pro, contra, neutral or a --map entry)"
    )


def test_a_preview_writes_nothing_even_when_the_file_is_good(huawei):
    preview, _ = preview_articles(("news.jsonl", NEWS.encode()))
    assert preview.ok
    assert (Article.objects.count(), Sentence.objects.count(), Upload.objects.count()) == (0, 0, 0)


def test_a_preview_counts_articles_and_sentences_and_shows_the_first_ones():
    ArticleFactory(body="The auction opens in May.")
    preview, _ = preview_articles(("news.jsonl", NEWS.encode()), ("old.txt", b"Old news\nIt rained."))
    assert (preview.records, preview.units, preview.units_complete) == (3, 5, True)
    assert [(f.name, f.records, f.units) for f in preview.files] == [("news.jsonl", 2, 4), ("old.txt", 1, 1)]
    assert preview.first == [
        "Huawei denied it.",
        "Ministers met on Monday.",
        "A ban is due.",
        "The auction opens in May.",
        "It rained.",
    ]
    assert preview.already_stored == 1


def test_a_preview_of_a_long_upload_counts_the_sentences_of_its_first_articles(monkeypatch):
    monkeypatch.setattr("annotate.uploads.PREVIEW_SPLIT_CHARS", 60)
    preview, _ = preview_articles(("news.jsonl", NEWS.encode()))
    assert (preview.records, preview.units_of_records, preview.units, preview.units_complete) == (
        2,
        1,
        3,
        False,
    )
    assert preview.files[0].units is None


def test_a_file_over_the_size_limit_is_refused_with_the_limit_named(settings):
    settings.UPLOAD_MAX_BYTES = 100
    preview, _ = preview_articles(("news.jsonl", NEWS.encode()))
    assert preview.error == (
        f"news.jsonl: the file is {len(NEWS.encode()):,} bytes; an upload takes at most 100 bytes a file "
        "(UPLOAD_MAX_BYTES)."
    )


def test_a_source_longer_than_its_column_is_refused():
    preview, _ = preview_articles(("news.jsonl", NEWS.encode()), source="x" * 201)
    assert preview.error == "Source: 'source' is longer than 200 characters."


def test_confirming_writes_the_same_rows_as_the_command(tmp_path, monkeypatch):
    admin = UserFactory(username="boss", role="admin")
    files = {"news.jsonl": NEWS.encode(), "post.txt": b"Huawei again.\nNot buying it."}
    options = {"unit": "text", "source": "Forum", "licence": "CC-BY-4.0"}
    preview, texts = preview_articles(*files.items(), **options)
    upload = upload_confirm(
        upload_id=upload_store(preview=preview, files=texts, created_by=admin, **options).pk
    )
    assert upload.status == Upload.Status.DONE
    assert upload.messages == [
        ["success", "Imported 3 articles (3 texts kept whole); skipped 0 already present."]
    ]
    assert (upload.done, upload.total) == (3, 3)
    from_upload = stored_articles()
    Article.objects.all().delete()
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    call_command("import_articles", *files, "--unit", "text", "--source", "Forum", "--licence", "CC-BY-4.0")
    assert stored_articles() == from_upload
    assert len(from_upload) == 6


def test_confirming_labels_writes_the_same_labels_as_the_command(tmp_path, monkeypatch, huawei):
    admin = UserFactory(username="boss", role="admin")
    SentenceFactory(text="Huawei is a trusted partner.", position=0)
    file = UploadedText(name="labels.csv", data=LABELS_CSV.encode())
    options = {"target": huawei, "annotator_name": "semeval", "label_map": ""}
    preview = labels_preview(file=file, **options)
    assert (preview.records, preview.already_stored, preview.labels) == (2, 1, {"contra": 1, "pro": 1})
    upload = upload_confirm(
        upload_id=upload_store(preview=preview, files=[file], created_by=admin, **options).pk
    )
    assert upload.status == Upload.Status.DONE, upload.error
    assert upload.messages == [
        ["success", "Imported 2 labels for Huawei as semeval: 1 on existing sentences, 1 new sentences."]
    ]

    def written(target) -> list[tuple]:
        events = AnnotationEvent.objects.filter(target=target)
        return sorted(
            events.values_list("annotator__username", "sentence_id", "action", "new_label")
        ) + sorted(
            Annotation.objects.filter(target=target).values_list(
                "annotator__username", "sentence_id", "label"
            )
        )

    # The command, for a second target, labels the same sentences with the same rows.
    zte = TargetFactory(name="ZTE")
    (tmp_path / "labels.csv").write_text(LABELS_CSV)
    monkeypatch.chdir(tmp_path)
    call_command(
        "import_labels", "labels.csv", "--target", "ZTE", "--annotator", "semeval", stdout=StringIO()
    )
    from_upload = written(huawei)
    assert written(zte) == from_upload
    assert Sentence.objects.count() == 2
    assert len(from_upload) == 4


def test_confirming_reads_the_files_again_and_writes_nothing_when_they_fail():
    admin = UserFactory(username="boss", role="admin")
    preview, texts = preview_articles(("news.jsonl", NEWS.encode()))
    upload = upload_store(preview=preview, files=texts, created_by=admin)
    UploadFile.objects.filter(upload=upload).update(data=b'{"title": "A", "body": "B."}\n{oops\n')
    upload = upload_confirm(upload_id=upload.pk)
    assert upload.status == Upload.Status.FAILED
    assert upload.error == "news.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes"
    assert Article.objects.count() == 0
    assert not UploadFile.objects.exists()  # the bytes go once the upload has ended


def test_confirming_labels_for_a_target_archived_since_the_preview_writes_nothing(huawei):
    admin = UserFactory(username="boss", role="admin")
    file = UploadedText(name="labels.csv", data=LABELS_CSV.encode())
    preview = labels_preview(file=file, target=huawei, annotator_name="semeval")
    upload = upload_store(
        preview=preview, files=[file], created_by=admin, target=huawei, annotator_name="semeval"
    )
    huawei.archived_at = "2026-01-01T00:00:00Z"
    huawei.save()
    upload = upload_confirm(upload_id=upload.pk)
    assert upload.status == Upload.Status.FAILED
    assert (Annotation.objects.count(), Sentence.objects.count()) == (0, 0)


def test_a_labels_preview_for_an_archived_target_is_refused():
    old = TargetFactory(name="Old", archived_at="2026-01-01T00:00:00Z")
    file = UploadedText(name="labels.csv", data=LABELS_CSV.encode())
    assert (
        labels_preview(file=file, target=old, annotator_name="semeval").error == "The target Old is archived."
    )


def test_a_confirmed_upload_is_imported_once_however_often_it_is_confirmed():
    admin = UserFactory(username="boss", role="admin")
    preview, texts = preview_articles(("news.jsonl", NEWS.encode()))
    upload = upload_store(preview=preview, files=texts, created_by=admin)
    upload_confirm(upload_id=upload.pk)
    again = upload_confirm(upload_id=upload.pk)
    assert again.status == Upload.Status.DONE
    assert again.messages[0][1].startswith("Imported 2 articles")
    assert Article.objects.count() == 2


def test_a_failed_preview_is_never_stored():
    preview, texts = preview_articles(("news.csv", b"x"))
    with pytest.raises(ValueError):
        upload_store(preview=preview, files=texts, created_by=UserFactory())


def test_a_preview_left_unconfirmed_for_a_day_is_dropped_when_the_next_is_stored():
    admin = UserFactory(username="boss", role="admin")
    preview, texts = preview_articles(("news.jsonl", NEWS.encode()))
    old = upload_store(preview=preview, files=texts, created_by=admin)
    Upload.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(hours=25))
    new = upload_store(preview=preview, files=texts, created_by=admin)
    old.refresh_from_db()
    assert (old.status, old.error) == (Upload.Status.FAILED, UNCONFIRMED)
    assert list(UploadFile.objects.values_list("upload_id", flat=True)) == [new.pk]
    assert upload_confirm(upload_id=old.pk).status == Upload.Status.FAILED
    assert Article.objects.count() == 0
