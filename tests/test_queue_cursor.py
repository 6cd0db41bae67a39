"""The queue cursor: the in-order search starts where the annotator's finished stretch ends,
and moves back whenever a sentence behind it opens again."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from annotate.models import Assignment, QueueCursor, Sentence
from annotate.queue.cursors import move_cursor_locked
from annotate.queue.record import annotation_change, annotation_record, annotation_undo
from annotate.queue.reservations import next_sentence
from annotate.queue.rule import rule_params
from annotate.shuffle import shuffle_key
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


# Nothing open: the cursor stands past the end, and whatever reopens a sentence finds it


def test_with_nothing_unfinished_the_cursor_stands_past_the_last_sentence(annotator, huawei, corpus):
    for _ in corpus:
        label_next(annotator, huawei)
    assert next_sentence(annotator=annotator, target=huawei) is None
    assert cursor_of(annotator, huawei) == (corpus[-1].article_id, corpus[-1].position + 1)


def test_the_first_search_finding_nothing_leaves_the_cursor_past_the_end(annotator, huawei, corpus):
    for sentence in corpus:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    assert next_sentence(annotator=annotator, target=huawei) is None
    assert cursor_of(annotator, huawei) == (corpus[-1].article_id, corpus[-1].position + 1)


def test_an_undo_reopens_a_sentence_for_a_cursor_past_the_end(annotator, other_annotator, single, corpus):
    for sentence in corpus:
        annotation_record(annotator=annotator, sentence=sentence, target=single, label="pro")
    assert next_sentence(annotator=other_annotator, target=single) is None
    annotation_undo(annotator=annotator, target=single)
    assert next_sentence(annotator=other_annotator, target=single) == corpus[-1]


def test_a_skip_reopens_a_sentence_for_a_cursor_past_the_end(annotator, other_annotator, single, corpus):
    mine = [annotation_record(annotator=annotator, sentence=s, target=single, label="pro") for s in corpus]
    assert next_sentence(annotator=other_annotator, target=single) is None
    annotation_change(annotator=annotator, annotation_id=mine[1].annotation.pk, label="skip")
    assert next_sentence(annotator=other_annotator, target=single) == corpus[1]


def test_a_reservation_expiring_reopens_its_sentence_with_no_write(
    annotator, other_annotator, single, corpus
):
    for sentence in corpus[:-1]:
        annotation_record(annotator=annotator, sentence=sentence, target=single, label="pro")
    assert next_sentence(annotator=annotator, target=single) == corpus[-1]  # held, unlabelled
    assert next_sentence(annotator=other_annotator, target=single) is None
    assert next_sentence(annotator=other_annotator, target=single) is None  # asked again: still held
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    Assignment.objects.filter(annotator=annotator).update(shown_at=long_ago, expires_at=long_ago)
    assert next_sentence(annotator=other_annotator, target=single) == corpus[-1]


def test_a_new_article_is_found_by_a_cursor_past_the_end(annotator, huawei, corpus):
    for sentence in corpus:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    assert next_sentence(annotator=annotator, target=huawei) is None
    added = SentenceFactory(article=ArticleFactory(), position=0)
    assert next_sentence(annotator=annotator, target=huawei) == added


# Where a move lands, in both orders: the first unfinished sentence after the cursor, else
# past the last sentence, else (no sentences at all) where it stood

#: Each order's cursor columns, and a sentence's place in that order.
ORDERS = {
    "in order": (False, ("article_id", "position"), lambda s: (s.article_id, s.position)),
    "random": (True, ("shuffle_key", "shuffle_sentence_id"), lambda s: (shuffle_key(s.pk), s.pk)),
}


def moved_cursor(annotator, target, *, order: str, at: tuple[int, int]) -> tuple[int, int]:
    """The annotator's cursor placed `at` in the order, then moved once (both columns)."""
    shuffled, columns, _ = ORDERS[order]
    QueueCursor.objects.update_or_create(
        annotator=annotator, target=target, defaults=dict(zip(columns, at, strict=True))
    )
    moved = move_cursor_locked(
        rule_params(annotator=annotator, target=target, now=timezone.now()), shuffled=shuffled
    )
    assert cursor_columns(annotator, target, columns) == (moved.shuffled if shuffled else moved.in_order)
    return moved.shuffled if shuffled else moved.in_order


def cursor_columns(annotator, target, columns: tuple[str, str]) -> tuple[int, int]:
    return tuple(QueueCursor.objects.filter(annotator=annotator, target=target).values_list(*columns).get())


def in_order_of(order: str, sentences: list) -> list:
    return sorted(sentences, key=ORDERS[order][2])


@pytest.mark.parametrize("order", ORDERS)
def test_a_move_lands_on_the_first_unfinished_sentence_after_the_cursor(
    annotator, other_annotator, single, order
):
    article, other = ArticleFactory(), ArticleFactory()
    walk = in_order_of(
        order, [SentenceFactory(article=a, position=i) for a in (article, other) for i in range(4)]
    )
    place = ORDERS[order][2]
    annotation_record(annotator=annotator, sentence=walk[1], target=single, label="pro")  # mine
    annotation_record(annotator=other_annotator, sentence=walk[2], target=single, label="pro")  # full
    # walk[0], behind the cursor, is open: a move never goes back to it.
    assert moved_cursor(annotator, single, order=order, at=place(walk[1])) == place(walk[3])


@pytest.mark.parametrize("order", ORDERS)
def test_a_move_with_nothing_unfinished_after_the_cursor_lands_past_the_last_sentence(
    annotator, huawei, order
):
    walk = in_order_of(order, [SentenceFactory(article=ArticleFactory(), position=i) for i in range(5)])
    place = ORDERS[order][2]
    for sentence in walk[1:]:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    key, tiebreak = place(walk[-1])
    assert moved_cursor(annotator, huawei, order=order, at=place(walk[1])) == (key, tiebreak + 1)


@pytest.mark.parametrize("order", ORDERS)
def test_a_move_with_no_sentences_leaves_the_cursor_where_it_stood(annotator, huawei, order):
    assert not Sentence.objects.exists()
    assert moved_cursor(annotator, huawei, order=order, at=(7, 3)) == (7, 3)
