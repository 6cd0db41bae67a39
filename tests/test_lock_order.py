"""One lock order for every path that changes labels (annotate/queue/__init__.py's docstring): the
target's row first, then the annotation's. Two paths taking them in opposite orders
deadlock on PostgreSQL (SQLite's IMMEDIATE transactions take one write lock at BEGIN)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import connection

from annotate.models import Annotation, AnnotationEvent
from annotate.queue import loop, record
from annotate.queue.loop import label_and_next, undo_and_next
from annotate.queue.record import annotation_change, annotation_record
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*works):
    """Run each work in its own thread (own connection); the errors they raised."""
    return run_in_threads(works, together=False).errors


def test_a_repeated_label_racing_a_skip_of_the_same_sentence_both_succeed(monkeypatch):
    # A fresh target and user: a transactional test cannot rely on the migration's rows.
    target = TargetFactory()
    article = ArticleFactory()
    sentence, _ = SentenceFactory(article=article, position=0), SentenceFactory(article=article, position=1)
    annotator = UserFactory()
    mine = annotation_record(annotator=annotator, sentence=sentence, target=target, label="pro").annotation

    # Hold the card's transaction right after it has read (and locked) the annotation,
    # until the skip has started: the interleaving that deadlocked.
    card_has_the_row = threading.Event()
    card_thread = []
    event = record._event

    def slow_event(annotation, **kwargs):
        written = event(annotation, **kwargs)
        if threading.current_thread() in card_thread and not card_has_the_row.is_set():
            card_has_the_row.set()
            time.sleep(1.5)  # the skip takes what locks it can meanwhile
        return written

    monkeypatch.setattr(record, "_event", slow_event)

    def card():
        card_thread.append(threading.current_thread())
        label_and_next(annotator=annotator, target_id=target.pk, sentence_id=sentence.pk, label="pro")

    def skip():
        assert card_has_the_row.wait(timeout=10)
        annotation_change(annotator=annotator, annotation_id=mine.pk, label="skip")

    errors = run_together(card, skip)

    assert not errors, errors
    assert Annotation.objects.get().label == "skip"
    changes = list(AnnotationEvent.objects.order_by("id").values_list("old_label", "new_label"))
    assert changes == [("", "pro"), ("pro", "pro"), ("pro", "skip")]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's row locks; SQLite's IMMEDIATE transaction takes one write lock at BEGIN",
)
def test_a_repeated_label_holding_the_targets_lock_and_a_skip_of_its_sentence_do_not_deadlock(monkeypatch):
    """The card's path holds the target's lock (its first statement) and has not yet reached
    the annotation's row when the skip starts: a skip that took the annotation's row before
    the target's would now wait for the card while the card waits for that row."""
    target = TargetFactory()
    article = ArticleFactory()
    sentence, _ = SentenceFactory(article=article, position=0), SentenceFactory(article=article, position=1)
    annotator = UserFactory()
    mine = annotation_record(annotator=annotator, sentence=sentence, target=target, label="pro").annotation

    card_holds_the_target = threading.Event()
    card_thread = []
    locked_read = loop.target_and_sentence

    def slow_read(**kwargs):
        read = locked_read(**kwargs)
        if threading.current_thread() in card_thread:
            card_holds_the_target.set()
            time.sleep(1.5)  # the skip takes what locks it can meanwhile
        return read

    monkeypatch.setattr(loop, "target_and_sentence", slow_read)

    def card():
        card_thread.append(threading.current_thread())
        label_and_next(annotator=annotator, target_id=target.pk, sentence_id=sentence.pk, label="pro")

    def skip():
        assert card_holds_the_target.wait(timeout=10)
        annotation_change(annotator=annotator, annotation_id=mine.pk, label="skip")

    errors = run_together(card, skip)

    assert not errors, errors
    assert Annotation.objects.get().label == "skip"
    changes = list(AnnotationEvent.objects.order_by("id").values_list("old_label", "new_label"))
    assert changes == [("", "pro"), ("pro", "pro"), ("pro", "skip")]


def test_every_label_path_at_once_on_one_sentence_ends_without_an_error():
    """Label, relabel, skip, undo and history edits of one annotator's sentence at once."""
    target = TargetFactory()
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(3)]
    annotator = UserFactory()
    mine = annotation_record(
        annotator=annotator, sentence=sentences[0], target=target, label="pro"
    ).annotation
    barrier = threading.Barrier(6)

    def at_once(work):
        def run():
            barrier.wait(timeout=10)
            for _ in range(5):
                work()

        return run

    def card(value):
        return at_once(
            lambda: label_and_next(
                annotator=annotator, target_id=target.pk, sentence_id=sentences[0].pk, label=value
            )
        )

    def change(value):
        def work():
            current = Annotation.objects.filter(annotator=annotator, sentence=sentences[0]).first()
            if current is not None:
                annotation_change(annotator=annotator, annotation_id=current.pk, label=value)

        return at_once(work)

    errors = run_together(
        card("pro"),
        card("skip"),
        change("skip"),
        change("contra"),
        at_once(lambda: undo_and_next(annotator=annotator, target_id=target.pk)),
        at_once(
            lambda: annotation_record(annotator=annotator, sentence=sentences[0], target=target, label="skip")
        ),
    )

    assert not errors, errors
    assert mine.pk is not None
    assert Counter(Annotation.objects.values_list("annotator_id", flat=True))[annotator.pk] <= 1
