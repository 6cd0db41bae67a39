from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from annotate.models import Annotation, AnnotationEvent, Assignment, Sentence, Target
from annotate.queue import sql, statements
from annotate.queue.locks import lock_target, target_and_sentence
from annotate.queue.record import annotation_record
from annotate.queue.reservations import next_sentence, reserve_again_locked
from annotate.queue.rule import ASSIGNMENT_TIMEOUT, rule_params
from tests.factories import (
    ArticleFactory,
    AssignmentFactory,
    SentenceFactory,
    TargetFactory,
    UserFactory,
)
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db


def label(annotator, sentence, target, value="pro"):
    return annotation_record(annotator=annotator, sentence=sentence, target=target, label=value).annotation


def next_for(annotator, target):
    return next_sentence(annotator=annotator, target=target)


def in_threads(count, work):
    """Run work(i) in `count` threads released at the same moment; return results in order."""
    outcome = run_in_threads([lambda i=i: work(i) for i in range(count)])
    assert not outcome.errors, outcome.errors
    return outcome.results


# Order and reloading


def test_sentences_are_handed_out_by_article_then_position(annotator, huawei):
    first_article, second_article = ArticleFactory(), ArticleFactory()
    later = SentenceFactory(article=second_article, position=0)
    second = SentenceFactory(article=first_article, position=1)
    first = SentenceFactory(article=first_article, position=0)
    given = []
    for _ in range(3):
        sentence = next_for(annotator, huawei)
        given.append(sentence)
        label(annotator, sentence, huawei)
    assert given == [first, second, later]
    assert next_for(annotator, huawei) is None


def test_reloading_without_labelling_returns_the_same_sentence(annotator, huawei, sentences):
    first = next_for(annotator, huawei)
    assert next_for(annotator, huawei) == first
    assert next_for(annotator, huawei) == first
    assert Assignment.objects.filter(annotator=annotator).count() == 1


def test_reloading_keeps_the_reserved_sentence_even_if_an_earlier_one_opens(
    annotator, other_annotator, huawei, sentences
):
    huawei.overlap = 1
    huawei.save()
    label(other_annotator, sentences[0], huawei)
    assert next_for(annotator, huawei) == sentences[1]
    Annotation.objects.filter(sentence=sentences[0]).delete()
    assert next_for(annotator, huawei) == sentences[1]


def test_labelling_the_reserved_sentence_moves_on_to_the_next(annotator, huawei, sentences):
    label(annotator, next_for(annotator, huawei), huawei)
    assert next_for(annotator, huawei) == sentences[1]
    assert Assignment.objects.get(annotator=annotator).sentence == sentences[1]


# What an annotator may be given


@pytest.mark.parametrize("value", ["pro", "contra", "neutral", "skip"])
def test_an_annotator_is_never_given_a_sentence_they_labelled_or_skipped(annotator, huawei, sentences, value):
    label(annotator, sentences[0], huawei, value)
    assert next_for(annotator, huawei) == sentences[1]


def test_a_sentence_with_fewer_labels_than_the_overlap_is_still_handed_out(
    annotator, other_annotator, huawei, sentences
):
    assert huawei.overlap == 2
    label(other_annotator, sentences[0], huawei)
    assert next_for(annotator, huawei) == sentences[0]


def test_a_sentence_with_overlap_labels_is_not_handed_out(annotator, other_annotator, huawei, sentences):
    label(other_annotator, sentences[0], huawei)
    label(UserFactory(role="annotator"), sentences[0], huawei, "contra")
    assert next_for(annotator, huawei) == sentences[1]


def test_the_overlap_is_per_target(annotator, other_annotator, huawei, sentences):
    huawei.overlap = 1
    huawei.save()
    label(other_annotator, sentences[0], TargetFactory(overlap=1))
    assert next_for(annotator, huawei) == sentences[0]


def test_a_skip_does_not_fill_a_slot_for_others(annotator, other_annotator, huawei, sentences):
    huawei.overlap = 1
    huawei.save()
    label(other_annotator, sentences[0], huawei, "skip")
    assert next_for(annotator, huawei) == sentences[0]


def test_a_target_with_a_larger_overlap_hands_a_sentence_to_more_annotators(huawei, sentences):
    huawei.overlap = 3
    huawei.save()
    annotators = UserFactory.create_batch(4, role="annotator")
    for annotator in annotators[:3]:
        assert next_for(annotator, huawei) == sentences[0]
    assert next_for(annotators[3], huawei) == sentences[1]


def test_the_queue_is_empty_when_every_sentence_is_full(annotator, other_annotator, huawei, sentences):
    huawei.overlap = 1
    huawei.save()
    for sentence in sentences:
        label(other_annotator, sentence, huawei)
    assert next_for(annotator, huawei) is None
    assert not Assignment.objects.filter(annotator=annotator).exists()


def test_the_queue_is_empty_when_the_annotator_has_labelled_everything(annotator, huawei, sentences):
    next_for(annotator, huawei)
    for sentence in sentences:
        label(annotator, sentence, huawei)
    assert next_for(annotator, huawei) is None
    assert not Assignment.objects.exists()


# Reservations


def test_a_sentence_reserved_by_another_annotator_counts_toward_the_overlap(
    annotator, other_annotator, huawei, sentences
):
    huawei.overlap = 1
    huawei.save()
    assert next_for(other_annotator, huawei) == sentences[0]
    assert next_for(annotator, huawei) == sentences[1]


def test_a_reservation_and_a_label_together_fill_the_overlap(annotator, other_annotator, huawei, sentences):
    label(UserFactory(role="annotator"), sentences[0], huawei)
    assert next_for(other_annotator, huawei) == sentences[0]
    assert next_for(annotator, huawei) == sentences[1]


def test_an_annotators_label_and_own_reservation_count_once(annotator, other_annotator, huawei, sentences):
    # The annotator labelled the sentence they were shown but has not asked for the next one
    # yet (between the POST and the next card, or a client that records without asking).
    assert next_for(annotator, huawei) == sentences[0]
    label(annotator, sentences[0], huawei)
    assert next_for(other_annotator, huawei) == sentences[0]


def test_an_expired_reservation_no_longer_counts(annotator, other_annotator, huawei, sentences):
    huawei.overlap = 1
    huawei.save()
    AssignmentFactory(
        annotator=other_annotator,
        target=huawei,
        sentence=sentences[0],
        expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )
    assert next_for(annotator, huawei) == sentences[0]


def test_an_abandoned_sentence_is_handed_out_again_after_the_timeout(
    annotator, other_annotator, huawei, sentences
):
    huawei.overlap = 1
    huawei.save()
    assert next_for(other_annotator, huawei) == sentences[0]
    assert next_for(annotator, huawei) == sentences[1]
    # The other annotator walked away; their reservation runs out.
    long_ago = timezone.now() - ASSIGNMENT_TIMEOUT - datetime.timedelta(seconds=1)
    Assignment.objects.filter(annotator=other_annotator).update(
        shown_at=long_ago, expires_at=long_ago + ASSIGNMENT_TIMEOUT
    )
    label(annotator, sentences[1], huawei)
    assert next_for(annotator, huawei) == sentences[0]


def test_an_annotator_whose_reservation_expired_gets_a_fresh_one(annotator, huawei, sentences):
    AssignmentFactory(
        annotator=annotator,
        target=huawei,
        sentence=sentences[3],
        expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )
    assert next_for(annotator, huawei) == sentences[0]
    assignment = Assignment.objects.get(annotator=annotator)
    assert assignment.sentence == sentences[0]
    assert assignment.expires_at > timezone.now()


def test_a_reservation_lasts_the_assignment_timeout(annotator, huawei, sentences):
    next_for(annotator, huawei)
    assignment = Assignment.objects.get(annotator=annotator)
    assert assignment.expires_at - assignment.shown_at == ASSIGNMENT_TIMEOUT


def test_reserve_again_reserves_a_given_sentence_in_place_of_the_current_one(annotator, huawei, sentences):
    next_for(annotator, huawei)
    assert reserve_again_locked(annotator=annotator, target=huawei, sentence_id=sentences[3].pk)
    assert Assignment.objects.get(annotator=annotator).sentence == sentences[3]
    assert next_for(annotator, huawei) == sentences[3]


def open_sentences(*, annotator, target, now):
    """Every sentence open to the annotator at `now`, in queue order (statements.OPEN_IN_ORDER)."""
    params = {
        **rule_params(annotator=annotator, target=target, now=now),
        "start_article": 0,
        "start_position": 0,
    }
    ids = [row[0] for row in sql.fetch(statements.OPEN_IN_ORDER, params)]
    return sorted(Sentence.objects.filter(pk__in=ids), key=lambda sentence: ids.index(sentence.pk))


def test_open_sentences_lists_what_the_annotator_may_be_given_in_queue_order(
    annotator, other_annotator, huawei
):
    huawei.overlap = 1
    huawei.save()
    first_article, second_article = ArticleFactory(), ArticleFactory()
    b0 = SentenceFactory(article=second_article, position=0)
    a1 = SentenceFactory(article=first_article, position=1)
    a0 = SentenceFactory(article=first_article, position=0)
    a2 = SentenceFactory(article=first_article, position=2)
    label(annotator, a1, huawei, "skip")
    AssignmentFactory(annotator=other_annotator, target=huawei, sentence=a2)
    now = timezone.now()
    assert list(open_sentences(annotator=annotator, target=huawei, now=now)) == [a0, b0]
    later = now + ASSIGNMENT_TIMEOUT + datetime.timedelta(seconds=1)
    assert list(open_sentences(annotator=annotator, target=huawei, now=later)) == [a0, a2, b0]


def test_open_sentences_does_not_count_the_annotators_own_reservation(annotator, huawei, sentences):
    huawei.overlap = 1
    huawei.save()
    AssignmentFactory(annotator=annotator, target=huawei, sentence=sentences[0])
    assert list(open_sentences(annotator=annotator, target=huawei, now=timezone.now())) == sentences


# Concurrency: real threads, real transactions


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("overlap", "asking", "sentence_count"), [(1, 2, 1), (1, 6, 3), (2, 6, 2)])
def test_annotators_asking_at_once_never_exceed_the_overlap(overlap, asking, sentence_count):
    # A fresh target and users without roles: a transactional test cannot rely on the rows
    # the data migration made, since the flush after each such test removes them.
    target = TargetFactory(overlap=overlap)
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(sentence_count)]
    annotators = UserFactory.create_batch(asking)

    given = in_threads(asking, lambda i: next_for(annotators[i], target))

    handed_out = Counter(sentence.pk for sentence in given if sentence is not None)
    assert handed_out == {sentence.pk: overlap for sentence in sentences}
    assert given.count(None) == asking - overlap * sentence_count
    assert Assignment.objects.count() == overlap * sentence_count


@pytest.mark.django_db(transaction=True)
def test_a_label_submitted_from_several_threads_at_once_is_stored_once_with_full_history():
    target = TargetFactory()
    sentence = SentenceFactory()
    annotator = UserFactory()
    count = 6

    in_threads(
        count,
        lambda i: annotation_record(annotator=annotator, sentence=sentence, target=target, label="pro"),
    )

    assert list(Annotation.objects.values_list("annotator_id", "sentence_id", "label")) == [
        (annotator.pk, sentence.pk, "pro")
    ]
    actions = Counter(AnnotationEvent.objects.values_list("action", flat=True))
    assert actions == {"create": 1, "repeat": count - 1}


# Rows read with SQL written once become instances through the ORM's converters


def test_the_target_read_under_its_lock_has_aware_datetimes(huawei):
    with transaction.atomic():
        locked = lock_target(huawei.pk)
    assert timezone.is_aware(locked.created_at)
    assert locked.created_at == Target.objects.get(pk=huawei.pk).created_at
    assert locked.created_at <= timezone.now()


def test_the_target_read_with_a_sentence_has_aware_datetimes(huawei, sentences):
    with transaction.atomic():
        locked = target_and_sentence(target_id=huawei.pk, sentence_id=sentences[1].pk)
    target, sentence = locked.target, locked.sentence
    assert target.created_at == Target.objects.get(pk=huawei.pk).created_at
    assert target.created_at <= timezone.now()
    assert (sentence.pk, sentence.position, sentence.text) == (sentences[1].pk, 1, sentences[1].text)


def test_a_label_for_another_target_does_not_hide_a_sentence_from_this_targets_queue(
    annotator, other_annotator, huawei, sentences
):
    huawei.overlap = 1
    huawei.save()
    five_g = TargetFactory(name="5G", overlap=1)
    annotation_record(annotator=annotator, sentence=sentences[0], target=five_g, label="pro")
    annotation_record(annotator=other_annotator, sentence=sentences[1], target=five_g, label="pro")
    # Neither the annotator's own label nor another's fills the sentence for Huawei.
    assert next_sentence(annotator=annotator, target=huawei) == sentences[0]
    annotation_record(annotator=annotator, sentence=sentences[0], target=huawei, label="pro")
    assert next_sentence(annotator=annotator, target=huawei) == sentences[1]
