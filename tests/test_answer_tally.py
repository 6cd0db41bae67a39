"""The evaluation answers' tallies (annotate/answer_tally.py) stay what a count of the
answers gives, on every path that writes what an answer rests on: labels, items, gold
labels and lifts, one row at a time and in bulk, and through cascades."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.utils import timezone

from annotate import answer_tally
from annotate.adjudication import adjudication_record
from annotate.evaluation import evaluation_lift
from annotate.evaluation_items import evaluation_item_toggle
from annotate.models import Annotation, AnswerTally, EvaluationItem, Label, Target
from annotate.queue.record import annotation_record
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db


def tallied(target: Target) -> dict[tuple, int]:
    rows = AnswerTally.objects.filter(target=target, answers__gt=0)
    return {
        (r.annotator_id, r.gold, r.given, bool(r.since_lift)): r.answers
        for r in rows.order_by("annotator_id", "gold", "given")
    }


def recounted(target: Target) -> dict[tuple, int]:
    """What counting every answer afresh gives (the migration's backfill query)."""
    with connection.cursor() as cursor:
        cursor.execute(answer_tally.RECOUNT)
        rows = cursor.fetchall()
    return {(a, gold, given, bool(since)): n for t, a, gold, given, since, n in rows if t == target.pk}


def settled_item(target: Target, gold: str, *, curator=None):
    curator = curator or UserFactory(role="curator")
    sentence = SentenceFactory(article=ArticleFactory())
    adjudication_record(curator=curator, sentence=sentence, target=target, label=gold)
    evaluation_item_toggle(curator=curator, target=target, sentence=sentence)
    return sentence, curator


def label(annotator, sentence, target, value):
    annotation_record(annotator=annotator, sentence=sentence, target=target, label=value)


def test_an_answer_is_counted_by_gold_and_given_label_and_a_label_before_marking_is_not(huawei):
    before = UserFactory(role="annotator")
    sentence = SentenceFactory(article=ArticleFactory())
    label(before, sentence, huawei, Label.CONTRA)
    curator = UserFactory(role="curator")
    adjudication_record(curator=curator, sentence=sentence, target=huawei, label="contra")
    evaluation_item_toggle(curator=curator, target=huawei, sentence=sentence)
    after = UserFactory(role="annotator")
    label(after, sentence, huawei, Label.PRO)
    skipper = UserFactory(role="annotator")
    label(skipper, sentence, huawei, Label.SKIP)

    assert tallied(huawei) == {(after.pk, "contra", "pro", True): 1, (skipper.pk, "contra", "skip", True): 1}
    assert tallied(huawei) == recounted(huawei)


def test_a_relabel_moves_the_answer_and_a_removed_label_takes_it_away(huawei):
    sentence, _ = settled_item(huawei, "pro")
    annotator = UserFactory(role="annotator")
    label(annotator, sentence, huawei, Label.CONTRA)
    label(annotator, sentence, huawei, Label.PRO)  # a history edit
    assert tallied(huawei) == {(annotator.pk, "pro", "pro", True): 1}

    Annotation.objects.filter(annotator=annotator).delete()
    assert tallied(huawei) == {} == recounted(huawei)


def test_a_changed_gold_label_moves_the_answers_to_the_new_gold(huawei):
    sentence, curator = settled_item(huawei, "pro")
    annotator = UserFactory(role="annotator")
    label(annotator, sentence, huawei, Label.CONTRA)
    adjudication_record(curator=curator, sentence=sentence, target=huawei, label="contra")
    assert tallied(huawei) == {(annotator.pk, "contra", "contra", True): 1} == recounted(huawei)


def test_unmarking_an_item_takes_its_answers_away_and_marking_it_again_counts_only_later_ones(huawei):
    sentence, curator = settled_item(huawei, "neutral")
    first = UserFactory(role="annotator")
    label(first, sentence, huawei, Label.NEUTRAL)
    evaluation_item_toggle(curator=curator, target=huawei, sentence=sentence)  # unmark
    assert tallied(huawei) == {}

    evaluation_item_toggle(curator=curator, target=huawei, sentence=sentence)  # marked anew
    assert tallied(huawei) == {}  # the label came before this marking
    second = UserFactory(role="annotator")
    label(second, sentence, huawei, Label.PRO)
    assert tallied(huawei) == {(second.pk, "neutral", "pro", True): 1} == recounted(huawei)


def test_an_item_dated_back_takes_in_the_labels_given_since(huawei):
    sentence, _ = settled_item(huawei, "pro")
    annotator = UserFactory(role="annotator")
    label(annotator, sentence, huawei, Label.PRO)
    # The item's date moved before the label and after it again: its UPDATE trigger.
    EvaluationItem.objects.filter(sentence=sentence).update(
        created_at=timezone.now() + datetime.timedelta(days=1)
    )
    assert tallied(huawei) == {}
    EvaluationItem.objects.filter(sentence=sentence).update(
        created_at=timezone.now() - datetime.timedelta(days=1)
    )
    assert tallied(huawei) == {(annotator.pk, "pro", "pro", True): 1} == recounted(huawei)


def test_a_lift_moves_earlier_answers_out_of_the_count_since_the_lift(huawei):
    first, curator = settled_item(huawei, "pro")
    second, _ = settled_item(huawei, "contra", curator=curator)
    annotator = UserFactory(role="annotator")
    label(annotator, first, huawei, Label.CONTRA)
    evaluation_lift(curator=curator, annotator=annotator, target=huawei)
    label(annotator, second, huawei, Label.CONTRA)

    assert tallied(huawei) == {
        (annotator.pk, "contra", "contra", True): 1,
        (annotator.pk, "pro", "contra", False): 1,
    }
    assert tallied(huawei) == recounted(huawei)

    evaluation_lift(curator=curator, annotator=annotator, target=huawei)  # their row's UPDATE
    assert tallied(huawei) == {
        (annotator.pk, "contra", "contra", False): 1,
        (annotator.pk, "pro", "contra", False): 1,
    }
    assert tallied(huawei) == recounted(huawei)


def test_bulk_writes_of_labels_count_each_answer_once():
    target = TargetFactory()
    curator = UserFactory(role="curator")
    sentences = [settled_item(target, gold, curator=curator)[0] for gold in ("pro", "contra", "neutral") * 4]
    annotators = [UserFactory(role="annotator") for _ in range(3)]
    Annotation.objects.bulk_create(
        Annotation(annotator=a, sentence=s, target=target, label=("pro", "contra")[(i + j) % 2])
        for i, a in enumerate(annotators)
        for j, s in enumerate(sentences)
    )
    assert sum(tallied(target).values()) == 36
    assert tallied(target) == recounted(target)

    Annotation.objects.filter(target=target, label="pro").update(label="neutral")
    assert tallied(target) == recounted(target)
    assert sum(n for (_, _, given, _), n in tallied(target).items() if given == "pro") == 0

    Annotation.objects.filter(target=target, annotator=annotators[0]).delete()
    assert sum(tallied(target).values()) == 24
    assert tallied(target) == recounted(target)


def test_removals_never_bring_back_a_tally_row_emptied_before_them():
    """A cascade or the test database's flush empties tables in no fixed order: labels,
    items and gold labels deleted after their tallies must not write them again."""
    target = TargetFactory()
    sentence, _ = settled_item(target, "pro")
    annotator = UserFactory(role="annotator")
    label(annotator, sentence, target, Label.PRO)
    assert AnswerTally.objects.filter(annotator=annotator).exists()

    with transaction.atomic():
        AnswerTally.objects.filter(target=target).delete()
        Annotation.objects.filter(target=target).delete()
        EvaluationItem.objects.filter(target=target).delete()
    assert not AnswerTally.objects.filter(target=target).exists()
