from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotate import label_import
from annotate.label_import import labels_import, read_label_rows
from annotate.management.commands import import_labels as import_labels_command
from annotate.models import Annotation, AnnotationEvent, Article, QueueCursor, Sentence
from annotate.queue.record import annotation_record
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory
from tests.threads import label_from_another_connection

pytestmark = pytest.mark.django_db

EXISTING = "Huawei is a trusted partner for the network."
CSV = (
    "id,text,label,source\n"
    f"1,{EXISTING},pro,web\n"
    '2,"Huawei kit is a security risk, officials said.",contra,web\n'
    "3,The decision is due next week.,neutral,print\n"
)


@pytest.fixture
def existing(huawei) -> Sentence:
    return SentenceFactory(text=EXISTING, position=0)


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(*records: dict[str, object]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def import_labels(path: Path, *args: str, target: str = "Huawei", annotator: str = "semeval") -> str:
    out = StringIO()
    call_command("import_labels", str(path), "--target", target, "--annotator", annotator, *args, stdout=out)
    return out.getvalue()


def labels(annotator: str = "semeval") -> dict[str, str]:
    return dict(
        Annotation.objects.filter(annotator__username=annotator).values_list("sentence__text", "label")
    )


def snapshot() -> tuple[object, ...]:
    """Everything an import could write, to show that a refused one wrote nothing."""
    return (
        list(Annotation.objects.order_by("id").values_list("id", "label")),
        AnnotationEvent.objects.count(),
        list(Sentence.objects.order_by("id").values_list("id", "text")),
        list(Article.objects.order_by("id").values_list("id", "title")),
        list(get_user_model().objects.order_by("id").values_list("username", flat=True)),
    )


# Importing


def test_a_csv_labels_existing_sentences_and_adds_new_ones(existing, tmp_path):
    path = write(tmp_path, "stance.csv", CSV)

    output = import_labels(path)

    assert labels() == {
        EXISTING: "pro",
        "Huawei kit is a security risk, officials said.": "contra",
        "The decision is due next week.": "neutral",
    }
    assert Annotation.objects.get(sentence=existing).label == "pro"
    assert "Imported 3 labels for Huawei as semeval: 1 on existing sentences, 2 new sentences." in output


def test_new_texts_become_sentences_of_an_article_named_after_the_file(existing, tmp_path):
    import_labels(write(tmp_path, "stance.csv", CSV))

    article = Article.objects.exclude(pk=existing.article_id).get()
    assert article.title == "stance.csv"
    assert article.source == "imported labels"
    sentences = list(article.sentences.order_by("position"))
    assert [(s.position, s.text) for s in sentences] == [
        (0, "Huawei kit is a security risk, officials said."),
        (1, "The decision is due next week."),
    ]
    assert all(article.body[s.start : s.end] == s.text for s in sentences)
    assert Sentence.objects.filter(text=EXISTING).count() == 1


def test_a_jsonl_file_is_imported_like_a_csv(existing, tmp_path):
    path = write(
        tmp_path,
        "stance.jsonl",
        jsonl(
            {"text": EXISTING, "label": "contra", "id": 7, "meta": {"lang": "en"}},
            {"text": "Ministers welcomed the compromise.", "label": "pro"},
        ),
    )

    output = import_labels(path)

    assert labels() == {EXISTING: "contra", "Ministers welcomed the compromise.": "pro"}
    assert Article.objects.get(title="stance.jsonl").sentences.count() == 1
    assert "1 on existing sentences, 1 new sentences" in output


def test_blank_lines_in_a_jsonl_file_are_skipped(huawei, tmp_path):
    path = write(tmp_path, "stance.jsonl", "\n" + jsonl({"text": "One.", "label": "pro"}) + "\n\n")

    import_labels(path)

    assert labels() == {"One.": "pro"}


def test_whitespace_in_the_file_does_not_stop_a_text_matching_its_sentence(existing, tmp_path):
    spaced = EXISTING.replace(" ", "  ").replace("partner", "\tpartner")
    path = write(tmp_path, "stance.jsonl", jsonl({"text": f" {spaced} ", "label": "neutral"}))

    import_labels(path)

    assert Annotation.objects.get(sentence=existing).label == "neutral"
    assert Sentence.objects.count() == 1


def test_a_byte_order_mark_does_not_hide_the_text_column(existing, tmp_path):
    path = write(tmp_path, "excel.csv", "\ufefftext,label\n" + f"{EXISTING},pro\n")

    import_labels(path)

    assert labels() == {EXISTING: "pro"}


def test_map_translates_the_files_labels(huawei, tmp_path):
    path = write(
        tmp_path, "semeval.csv", "Tweet,Stance\nFirst.,FAVOR\nSecond.,AGAINST\nThird.,NONE\nFourth.,pro\n"
    )

    import_labels(
        path,
        "--text-column",
        "Tweet",
        "--label-column",
        "Stance",
        "--map",
        "FAVOR=pro,AGAINST=contra,NONE=neutral",
    )

    assert labels() == {"First.": "pro", "Second.": "contra", "Third.": "neutral", "Fourth.": "pro"}


def test_text_and_label_columns_can_be_named(existing, tmp_path):
    path = write(
        tmp_path,
        "renamed.jsonl",
        jsonl({"sentence": EXISTING, "stance": "contra", "text": "ignored", "label": "pro"}),
    )

    import_labels(path, "--text-column", "sentence", "--label-column", "stance")

    assert labels() == {EXISTING: "contra"}


def test_every_imported_label_is_written_to_the_history(existing, tmp_path):
    import_labels(write(tmp_path, "stance.csv", CSV))

    events = AnnotationEvent.objects.filter(annotator__username="semeval", target__name="Huawei")
    assert sorted(events.values_list("sentence__text", "action", "old_label", "new_label")) == sorted(
        [
            (EXISTING, "create", "", "pro"),
            ("Huawei kit is a security risk, officials said.", "create", "", "contra"),
            ("The decision is due next week.", "create", "", "neutral"),
        ]
    )


def test_a_new_annotator_is_created_without_a_usable_password(existing, tmp_path):
    import_labels(write(tmp_path, "stance.csv", CSV), annotator="semeval")

    user = get_user_model().objects.get(username="semeval")
    assert not user.has_usable_password()


def test_labels_go_to_an_existing_annotator(existing, tmp_path):
    annotator = UserFactory(username="ann", password=None, role="annotator")
    import_labels(write(tmp_path, "stance.csv", CSV), annotator=annotator.username)

    assert Annotation.objects.filter(annotator=annotator).count() == 3
    assert not get_user_model().objects.filter(username="semeval").exists()


def test_importing_the_same_file_again_adds_no_sentences_and_records_repeats(existing, tmp_path):
    path = write(tmp_path, "stance.csv", CSV)
    import_labels(path)
    after_first = (Sentence.objects.count(), Article.objects.count(), Annotation.objects.count())

    output = import_labels(path)

    assert (Sentence.objects.count(), Article.objects.count(), Annotation.objects.count()) == after_first
    actions = list(AnnotationEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["create"] * 3 + ["repeat"] * 3
    assert "3 on existing sentences, 0 new sentences" in output


def test_a_text_equal_to_a_whole_article_up_to_whitespace_is_imported(huawei, tmp_path):
    # Tweets imported as articles, then their labels: pysbd split this tweet in two, and the
    # file's text is the whole tweet with a space where the article has a line break.
    body = "Huawei is safe.\nHuawei is risky."
    tweet = ArticleFactory(body=body)
    SentenceFactory(article=tweet, position=0, text="Huawei is safe.", start=0, end=15)
    SentenceFactory(article=tweet, position=1, text="Huawei is risky.", start=16, end=32)
    path = write(tmp_path, "tweets.jsonl", jsonl({"text": body, "label": "contra"}))

    import_labels(path)

    [annotation] = Annotation.objects.select_related("sentence__article")
    sentence = annotation.sentence
    assert (sentence.text, annotation.label) == ("Huawei is safe. Huawei is risky.", "contra")
    assert " ".join(sentence.article.body[sentence.start : sentence.end].split()) == sentence.text


# Refusals write nothing


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", f"text,label\n{EXISTING},pro\nNew text.,maybe\n", ":3: unknown label 'maybe'"),
        ("bad.csv", "text,label\nNew text.,pro\n,contra\n", ":3: no 'text' value"),
        ("bad.csv", "text,label\nNew text.,pro\n   ,contra\n", ":3: no 'text' value"),
        ("bad.csv", "text,label\nNew text.,pro\nOther text.,\n", ":3: no 'label' value"),
        ("bad.csv", "words,label\nNew text.,pro\n", ":2: no 'text' value"),
        (
            "bad.jsonl",
            '{"text": "New text.", "label": "pro"}\n{"text": "Other", "label": \n',
            ":2: invalid JSON",
        ),
        ("bad.jsonl", '{"text": "New text.", "label": "pro"}\n{"label": "pro"}\n', ":2: no 'text' value"),
        (
            "bad.jsonl",
            '{"text": "New text.", "label": "pro"}\n{"text": 5, "label": "pro"}\n',
            ":2: no 'text' value",
        ),
        (
            "bad.jsonl",
            '{"text": "New text.", "label": "pro"}\n["Other", "pro"]\n',
            ":2: each line must be a JSON object",
        ),
        ("bad.jsonl", '{"text": "New text.", "label": "FAVOR"}\n', ":1: unknown label 'FAVOR'"),
        ("latin1.csv", b"text,label\nNew text.,pro\ncaf\xe9 society.,pro\n", ":3: not UTF-8 (byte 0xe9)"),
        ("empty.csv", b"", ": the file is empty"),
        ("blank.jsonl", b"\n \n", ": the file is empty"),
        ("header.csv", "text,label\n", ": the file holds no labelled rows"),
        ("labels.txt", f"{EXISTING}\tpro\n", ": unsupported file type"),
    ],
)
def test_a_bad_file_is_refused_naming_file_and_line_and_nothing_is_written(
    existing, tmp_path, name, content, message
):
    path = write(tmp_path, name, content)
    before = snapshot()

    with pytest.raises(CommandError, match=f"^{re.escape(str(path) + message)}"):
        import_labels(path)

    assert snapshot() == before


def test_a_missing_file_is_refused(huawei, tmp_path):
    before = snapshot()

    with pytest.raises(CommandError, match=r"missing\.csv: cannot read"):
        import_labels(tmp_path / "missing.csv")

    assert snapshot() == before


@pytest.mark.parametrize("spec", ["FAVOR=yes", "FAVOR", "FAVOR=pro,AGAINST"])
def test_a_bad_map_is_refused_and_nothing_is_written(existing, tmp_path, spec):
    path = write(tmp_path, "semeval.csv", "text,label\nNew text.,FAVOR\n")
    before = snapshot()

    with pytest.raises(CommandError, match="Bad mapping"):
        import_labels(path, "--map", spec)

    assert snapshot() == before


def test_an_unknown_target_is_refused_and_nothing_is_written(existing, tmp_path):
    path = write(tmp_path, "stance.csv", CSV)
    before = snapshot()

    with pytest.raises(CommandError, match=r"No target named 'Nope'\."):
        import_labels(path, target="Nope")

    assert snapshot() == before


# Repeated texts


def test_a_text_repeated_with_the_same_label_is_recorded_once_and_reported(existing, tmp_path):
    path = write(tmp_path, "stance.csv", f"text,label\n{EXISTING},pro\nNew text.,contra\n{EXISTING},pro\n")

    output = import_labels(path)

    assert labels() == {EXISTING: "pro", "New text.": "contra"}
    assert AnnotationEvent.objects.count() == 2
    assert f"{path}:4: text already given on line 2 (same label, recorded once)" in output
    assert "Imported 2 labels for Huawei as semeval: 1 on existing sentences, 1 new sentences." in output


def test_a_text_repeated_with_another_label_is_refused_and_nothing_is_written(existing, tmp_path):
    path = write(
        tmp_path, "stance.csv", f"text,label\n{EXISTING},pro\nNew text.,contra\n{EXISTING}  ,neutral\n"
    )
    before = snapshot()

    with pytest.raises(CommandError, match=f"^{re.escape(str(path))}:4: text already given on line 2"):
        import_labels(path)

    assert snapshot() == before


# Full sentences (overlap)


def label_by_others(sentence, target, count: int = 2) -> None:
    for annotator in UserFactory.create_batch(count):
        annotation_record(annotator=annotator, sentence=sentence, target=target, label="contra")


def test_a_row_on_a_full_sentence_is_refused_before_anything_is_written(existing, huawei, tmp_path):
    huawei.overlap = 2
    huawei.save()
    label_by_others(existing, huawei)
    path = write(tmp_path, "stance.csv", f"text,label\nNew text.,pro\n{EXISTING},pro\n")
    before = snapshot()

    with pytest.raises(
        CommandError, match=f"^{re.escape(str(path))}:3: the sentence is full: 2 other annotators"
    ):
        import_labels(path)

    assert snapshot() == before


def test_a_sentence_that_fills_up_during_the_import_leaves_its_row_out_and_is_reported(
    existing, huawei, tmp_path
):
    huawei.overlap = 2
    huawei.save()
    path = write(tmp_path, "stance.csv", f"text,label\nNew text.,pro\n{EXISTING},pro\nOther text.,neutral\n")
    rows = read_label_rows(path)

    def two_others_label_meanwhile(items):
        for number, row in enumerate(items):
            if number == 1:  # after the first batch, before the second
                label_by_others(existing, huawei)
            yield row

    result = labels_import(
        path=path,
        rows=rows,
        target=huawei,
        annotator_name="semeval",
        progress=two_others_label_meanwhile,
        batch_size=1,
    )

    assert labels() == {"New text.": "pro", "Other text.": "neutral"}
    assert result.not_recorded == [(3, "This sentence already has its 2 labels.")]
    assert (result.rows, result.matched, result.new_sentences) == (2, 0, 2)


def test_a_row_refused_during_the_import_is_named_by_the_command_and_the_rest_recorded(
    existing, huawei, tmp_path, monkeypatch
):
    huawei.overlap = 2
    huawei.save()
    path = write(tmp_path, "stance.csv", f"text,label\n{EXISTING},pro\nOther text.,neutral\n")
    real = label_import._label_batch

    def others_fill_it_first(batch, **kwargs):
        label_by_others(existing, huawei)  # after the file was checked, before its batch
        monkeypatch.setattr(label_import, "_label_batch", real)
        return real(batch, **kwargs)

    monkeypatch.setattr(label_import, "_label_batch", others_fill_it_first)

    output = import_labels(path)

    assert labels() == {"Other text.": "neutral"}
    assert f"{path}:2: not recorded: This sentence already has its 2 labels." in output


# Batches: annotators label while a long label import runs


@pytest.mark.django_db(transaction=True)
def test_a_label_commits_while_a_label_import_is_between_batches(tmp_path):
    # Fresh rows: a transactional test cannot rely on the data migration's target.
    target, annotator = TargetFactory(), UserFactory()
    sentence = SentenceFactory()
    path = write(tmp_path, "stance.csv", "text,label\n" + "".join(f"Text {n}.,pro\n" for n in range(6)))
    during = []

    def progress(items):
        for number, row in enumerate(items):
            if number == 4:  # two batches of two stored, one to come
                during.append(
                    label_from_another_connection(annotator=annotator, target=target, sentence=sentence)
                )
            yield row

    result = labels_import(
        path=path,
        rows=read_label_rows(path),
        target=target,
        annotator_name="semeval",
        progress=progress,
        batch_size=2,
    )

    assert [in_time for in_time, _ in during] == [True]
    assert result.rows == 6
    assert Annotation.objects.filter(annotator=annotator).get().label == "pro"
    assert Annotation.objects.filter(annotator__username="semeval").count() == 6


def test_the_import_command_shows_a_progress_bar(existing, tmp_path, monkeypatch):
    bars = []
    real = import_labels_command.tqdm

    def recording(*args, **kwargs):
        bars.append(kwargs.get("desc"))
        return real(*args, **kwargs)

    monkeypatch.setattr(import_labels_command, "tqdm", recording)
    import_labels(write(tmp_path, "stance.csv", CSV))

    assert bars == ["Labelling"]


def test_new_sentences_rewind_the_cursors_of_every_target(huawei, annotator, tmp_path):
    # Labels for one target add sentences that every target's annotators must be given.
    older = ArticleFactory(body="One. Two.")
    SentenceFactory(article=older, position=0, text="One. Two.")
    other = TargetFactory(name="ZTE")
    QueueCursor.objects.create(annotator=annotator, target=other, article_id=older.pk + 1, position=0)

    import_labels(write(tmp_path, "split.csv", "text,label\nOne.,pro\nTwo.,pro\n"))

    first = Sentence.objects.get(article=older, text="One.")
    cursor = QueueCursor.objects.get(target=other)
    assert (cursor.article_id, cursor.position) == (older.pk, first.position)
