from __future__ import annotations

import pytest

from annotate.gold import Method, decide, gold_labels
from annotate.models import Adjudication
from annotate.queue.record import annotation_record
from tests.factories import SentenceFactory, UserFactory

pytestmark = pytest.mark.django_db


def label(sentence, target, *labels):
    for i, value in enumerate(labels):
        annotator = UserFactory(username=f"voter{sentence.id}-{i}", role="annotator")
        annotation_record(annotator=annotator, sentence=sentence, target=target, label=value)


def test_a_single_label_counts_until_more_arrive():
    gold = decide(1, {"pro": 1})
    assert (gold.label, gold.method, gold.votes) == ("pro", Method.SINGLE, 1)


def test_a_strict_majority_decides():
    gold = decide(1, {"pro": 2, "contra": 1})
    assert (gold.label, gold.method, gold.votes) == ("pro", Method.MAJORITY, 3)


def test_a_tie_stays_unresolved():
    assert decide(1, {"pro": 1, "contra": 1}).label is None
    assert decide(1, {"pro": 2, "contra": 1, "neutral": 1}).method == Method.UNRESOLVED
    assert decide(1, {"pro": 1, "contra": 1, "neutral": 1}).resolved is False


def test_an_adjudication_wins_over_the_majority():
    gold = decide(1, {"pro": 3}, adjudicated="contra")
    assert (gold.label, gold.method, gold.votes) == ("contra", Method.ADJUDICATED, 3)


def test_gold_labels_leave_out_skips_and_read_adjudications(huawei, curator):
    huawei.overlap = 3  # three stance labels on one sentence
    huawei.save()
    skipped_only, majority, tie, adjudicated = (SentenceFactory() for _ in range(4))
    label(skipped_only, huawei, "skip", "skip")
    label(majority, huawei, "pro", "pro", "skip", "contra")
    label(tie, huawei, "pro", "neutral")
    Adjudication.objects.create(sentence=adjudicated, target=huawei, label="neutral", curator=curator)
    golds = {g.sentence_id: g for g in gold_labels(target=huawei)}
    assert set(golds) == {majority.id, tie.id, adjudicated.id}
    assert (golds[majority.id].label, golds[majority.id].votes) == ("pro", 3)
    assert golds[majority.id].counts == {"pro": 2, "contra": 1}
    assert golds[tie.id].method == Method.UNRESOLVED
    assert (golds[adjudicated.id].label, golds[adjudicated.id].method) == ("neutral", Method.ADJUDICATED)
