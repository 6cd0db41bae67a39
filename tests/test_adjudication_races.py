"""Curators settling, changing and undoing one sentence at once, beside annotators
labelling it: every change keeps its event, and each event's old label is the label the
one before it left (the target's row lock of annotate/adjudication.py serialises them).
Meaningful on PostgreSQL; on SQLite the IMMEDIATE transactions serialise them anyway."""

from __future__ import annotations

import random
import threading

import pytest

from annotate.adjudication import (
    NothingToUndo,
    adjudication_record,
    adjudication_undo,
    open_count,
    open_disagreements,
)
from annotate.models import STANCE_LABELS, Adjudication, AdjudicationEvent
from annotate.queue.record import annotation_record
from tests.factories import SentenceFactory, TargetFactory, UserFactory
from tests.test_tallies import recount, stored
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 12


def replay(sentence, target) -> str:
    """Walk the history in order: each event starts from the label the one before left."""
    label = ""
    for old, new in (
        AdjudicationEvent.objects.filter(sentence=sentence, target=target)
        .order_by("id")
        .values_list("old_label", "new_label")
    ):
        assert old == label, "an event was lost or its old label is stale"
        label = new
    return label


def test_curators_at_once_on_one_sentence_lose_no_event_and_annotators_go_on():
    # A fresh target and users: a transactional test cannot rely on the migration's rows.
    target = TargetFactory(overlap=4)
    sentence = SentenceFactory()
    curators = [UserFactory() for _ in range(3)]
    annotators = [UserFactory() for _ in range(2)]
    written: list[int] = []
    lock = threading.Lock()

    def curator_work(curator, seed):
        def run():
            rng = random.Random(seed)
            for _ in range(ROUNDS):
                try:
                    if rng.random() < 0.6:
                        change = adjudication_record(
                            curator=curator, sentence=sentence, target=target, label=rng.choice(STANCE_LABELS)
                        )
                    else:
                        change = adjudication_undo(curator=curator, sentence=sentence, target=target)
                except NothingToUndo:
                    continue
                if change.event is not None:
                    with lock:
                        written.append(change.event.pk)

        return run

    def annotator_work(annotator, seed):
        def run():
            rng = random.Random(seed)
            for _ in range(ROUNDS):
                annotation_record(
                    annotator=annotator, sentence=sentence, target=target, label=rng.choice(STANCE_LABELS)
                )

        return run

    works = [curator_work(c, i) for i, c in enumerate(curators)]
    works += [annotator_work(a, 10 + i) for i, a in enumerate(annotators)]
    outcome = run_in_threads(works)

    assert not outcome.errors, outcome.errors
    events = set(AdjudicationEvent.objects.filter(sentence=sentence).values_list("pk", flat=True))
    assert events == set(written)
    current = Adjudication.objects.filter(sentence=sentence, target=target).values_list("label", flat=True)
    assert replay(sentence, target) == next(iter(current), "")
    assert stored(target) == recount(target)
    assert open_count(target=target) == open_disagreements(target=target).count()
