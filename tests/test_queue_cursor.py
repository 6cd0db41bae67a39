"""The queue cursor: the in-order search starts where the annotator's finished stretch ends,
and moves back whenever a sentence behind it opens again."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from annotate.models import Assignment, QueueCursor
from annotate.queue.record import annotation_change, annotation_record, annotation_undo
from annotate.queue.reservations import next_sentence
from tests.factories import ArticleFactory, SentenceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    article = ArticleFactory()
    return [SentenceFactory(article=article, position=i) for i in range(5)]


@pytest.fixture
def single(huawei):
    huawei.overlap = 1
    huawei.save()
    return huawei


def label_next(annotator, target, label="pro"):
    sentence = next_sentence(annotator=annotator, target=target)
    annotation_record(annotator=annotator, sentence=sentence, target=target, label=label)
    return sentence


def cursor_of(annotator, target):
    cursor = QueueCursor.objects.get(annotator=annotator, target=target)
    return cursor.article_id, cursor.position


def test_the_cursor_moves_past_what_the_annotator_has_finished(annotator, huawei, corpus):
    for _ in range(3):
        label_next(annotator, huawei)
    assert next_sentence(annotator=annotator, target=huawei) == corpus[3]
    assert cursor_of(annotator, huawei) == (corpus[3].article_id, 3)


def test_an_undo_behind_the_cursor_reopens_the_sentence_for_others(
    annotator, other_annotator, single, corpus
):
    assert label_next(annotator, single) == corpus[0]
    assert label_next(other_annotator, single) == corpus[1]  # corpus[0] is full
    annotation_undo(annotator=annotator, target=single)
    assert next_sentence(annotator=other_annotator, target=single) == corpus[0]


def test_relabelling_to_skip_behind_the_cursor_reopens_the_sentence(
    annotator, other_annotator, single, corpus
):
    first = annotation_record(annotator=annotator, sentence=corpus[0], target=single, label="pro").annotation
    assert label_next(other_annotator, single) == corpus[1]
    annotation_change(annotator=annotator, annotation_id=first.id, label="skip")
    assert next_sentence(annotator=other_annotator, target=single) == corpus[0]


def test_raising_the_overlap_reopens_full_sentences(annotator, other_annotator, single, corpus):
    label_next(annotator, single)
    assert label_next(other_annotator, single) == corpus[1]
    single.overlap = 2
    single.save()
    assert next_sentence(annotator=other_annotator, target=single) == corpus[0]


def test_the_cursor_never_passes_a_sentence_that_is_only_reserved(annotator, other_annotator, single, corpus):
    assert next_sentence(annotator=annotator, target=single) == corpus[0]  # reserved, not labelled
    assert label_next(other_annotator, single) == corpus[1]
    Assignment.objects.filter(annotator=annotator).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert next_sentence(annotator=other_annotator, target=single) == corpus[0]


def test_sentences_imported_into_an_older_article_are_found_behind_the_cursor(annotator, huawei, tmp_path):
    # An older article whose one sentence the splitter left whole; a label file that splits
    # it into two texts reuses that article (same body up to whitespace) and appends them.
    older = ArticleFactory(body="One. Two.")
    SentenceFactory(article=older, position=0, text="One. Two.")
    later = ArticleFactory()
    for i in range(3):
        SentenceFactory(article=later, position=i)
    for _ in range(4):
        label_next(annotator, huawei)
    assert next_sentence(annotator=annotator, target=huawei) is None
    path = tmp_path / "split.csv"
    path.write_text("text,label\nOne.,pro\nTwo.,pro\n")
    call_command("import_labels", str(path), "--target", "Huawei", "--annotator", "importer")
    found = next_sentence(annotator=annotator, target=huawei)
    assert (found.article_id, found.text) == (older.id, "One.")
