from __future__ import annotations

import random

import pytest

from annotate.models import Assignment, QueueCursor, Sentence, Target
from annotate.queue.record import annotation_record, annotation_undo
from annotate.queue.reservations import next_sentence
from annotate.shuffle import shuffled
from tests.factories import (
    ArticleFactory,
    AssignmentFactory,
    ModelVersionFactory,
    SentenceFactory,
    SuggestionFactory,
    TargetFactory,
    UserFactory,
)
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

#: (confidence, margin, entropy) of the four sentences of an article, by position.
SCORES = [
    (0.90, 0.80, 0.50),
    (0.40, 0.30, 1.00),  # least confident
    (0.50, 0.05, 1.20),  # smallest margin
    (0.45, 0.20, 1.50),  # highest entropy
]
#: Positions in the order each measure hands them out, most uncertain first.
ORDERS = {
    "least_confident": [1, 3, 2, 0],
    "margin": [2, 3, 1, 0],
    "entropy": [3, 2, 1, 0],
}


@pytest.fixture
def annotator(db):
    """Annotators without a password: the queue never asks for one, and hashing one is slow."""
    return UserFactory(username="ann", password=None, role="annotator")


@pytest.fixture
def other_annotator(db):
    return UserFactory(username="bob", password=None, role="annotator")


def scored(target: Target, scores: list[tuple[float, float, float]] = SCORES) -> list[Sentence]:
    """An article whose sentences have suggestions of the target's active version with these scores."""
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(len(scores))]
    for sentence, (confidence, margin, entropy) in zip(sentences, scores, strict=True):
        SuggestionFactory(
            target=target, sentence=sentence, confidence=confidence, margin=margin, entropy=entropy
        )
    return sentences


def set_order(target: Target, **fields: object) -> None:
    """Change the target's row only: the Python object the caller holds goes stale."""
    Target.objects.filter(pk=target.pk).update(**fields)


def label(annotator, sentence, target, value="pro"):
    return annotation_record(annotator=annotator, sentence=sentence, target=target, label=value).annotation


def next_for(annotator, target):
    return next_sentence(annotator=annotator, target=target)


def handed_out(annotator, target) -> list[Sentence]:
    """Every sentence the annotator is given, labelling each, until the queue is empty."""
    given = []
    while (sentence := next_for(annotator, target)) is not None:
        assert sentence not in given, "a sentence was handed out twice"
        given.append(sentence)
        label(annotator, sentence, target)
    return given


def someone():
    return UserFactory(password=None)


# Uncertainty first


@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
def test_uncertainty_order_hands_out_the_most_uncertain_open_sentence_first(annotator, huawei, measure):
    sentences = scored(huawei)
    set_order(huawei, queue_order="uncertainty", uncertainty_measure=measure)

    assert handed_out(annotator, huawei) == [sentences[i] for i in ORDERS[measure]]


def test_in_order_ignores_the_suggestions(annotator, huawei):
    sentences = scored(huawei)
    set_order(huawei, queue_order="in_order", uncertainty_measure="margin")

    assert handed_out(annotator, huawei) == sentences


def test_without_an_active_version_uncertainty_order_hands_out_the_random_orders_walk(annotator, huawei):
    sentences = scored(huawei, [(0.5, i / 20, 1.0) for i in range(12)])
    set_order(huawei, queue_order="uncertainty", active_version=None)
    by_id = {s.pk: s for s in sentences}

    given = handed_out(annotator, huawei)

    assert given == [by_id[i] for i in shuffled(list(by_id))]
    assert given != sentences  # not article order


def test_only_the_active_versions_suggestions_decide_the_order(annotator, huawei):
    sentences = scored(huawei)
    newer = ModelVersionFactory(target=huawei)
    set_order(huawei, queue_order="uncertainty", uncertainty_measure="margin", active_version=newer)
    SuggestionFactory(model_version=newer, target=huawei, sentence=sentences[1], margin=0.5)

    assert handed_out(annotator, huawei) == [sentences[1], sentences[0], sentences[2], sentences[3]]


def test_sentences_without_a_suggestion_come_after_the_suggested_ones(annotator, huawei):
    earlier = ArticleFactory()
    unsuggested = [SentenceFactory(article=earlier, position=i) for i in range(2)]
    sentences = scored(huawei)
    set_order(huawei, queue_order="uncertainty", uncertainty_measure="entropy")

    assert handed_out(annotator, huawei) == [sentences[i] for i in ORDERS["entropy"]] + unsuggested


def test_the_uncertainty_order_breaks_ties_by_sentence(annotator, huawei):
    sentences = scored(huawei, [(0.5, 0.1, 1.0)] * 3)
    set_order(huawei, queue_order="uncertainty", uncertainty_measure="margin")

    assert handed_out(annotator, huawei) == sentences


# Overlap rules in uncertainty order


@pytest.fixture
def by_margin(huawei) -> list[Sentence]:
    sentences = scored(huawei)
    set_order(huawei, queue_order="uncertainty", uncertainty_measure="margin")
    return sentences


def test_a_sentence_with_overlap_labels_is_not_handed_out_in_uncertainty_order(annotator, huawei, by_margin):
    label(someone(), by_margin[2], huawei, "pro")
    label(someone(), by_margin[2], huawei, "contra")

    assert next_for(annotator, huawei) == by_margin[3]


def test_a_sentence_with_fewer_labels_than_the_overlap_is_still_first(annotator, huawei, by_margin):
    label(someone(), by_margin[2], huawei)

    assert next_for(annotator, huawei) == by_margin[2]


def test_skips_do_not_fill_a_slot_in_uncertainty_order(annotator, huawei, by_margin):
    label(someone(), by_margin[2], huawei, "skip")
    label(someone(), by_margin[2], huawei, "skip")

    assert next_for(annotator, huawei) == by_margin[2]


@pytest.mark.parametrize("value", ["pro", "skip"])
def test_an_annotator_never_gets_a_sentence_they_labelled_in_uncertainty_order(
    annotator, huawei, by_margin, value
):
    label(annotator, by_margin[2], huawei, value)

    assert handed_out(annotator, huawei) == [by_margin[3], by_margin[1], by_margin[0]]


def test_a_sentence_reserved_by_another_annotator_counts_in_uncertainty_order(annotator, huawei, by_margin):
    set_order(huawei, overlap=1)
    AssignmentFactory(annotator=someone(), target=huawei, sentence=by_margin[2])

    assert next_for(annotator, huawei) == by_margin[3]


def test_two_annotators_take_the_two_most_uncertain_sentences_with_overlap_one(
    annotator, other_annotator, huawei, by_margin
):
    set_order(huawei, overlap=1)

    assert next_for(annotator, huawei) == by_margin[2]
    assert next_for(other_annotator, huawei) == by_margin[3]


def test_the_reserved_sentence_is_kept_when_the_order_changes(annotator, huawei, by_margin):
    assert next_for(annotator, huawei) == by_margin[2]
    set_order(huawei, queue_order="in_order")

    assert next_for(annotator, huawei) == by_margin[2]


# The ranked cursor: the uncertainty walk starts where the annotator's finished stretch ends


def ranked_cursor(annotator, target):
    cursor = QueueCursor.objects.get(annotator=annotator, target=target)
    return cursor.ranked_measure, cursor.ranked_sentence_id


def test_the_ranked_cursor_moves_past_what_the_annotator_has_finished(annotator, huawei, by_margin):
    order = [by_margin[i] for i in ORDERS["margin"]]
    for sentence in order[:2]:
        assert next_for(annotator, huawei) == sentence
        label(annotator, sentence, huawei)

    assert next_for(annotator, huawei) == order[2]
    assert ranked_cursor(annotator, huawei) == ("margin", order[2].id)


def test_an_undo_behind_the_ranked_cursor_reopens_the_sentence_for_others(
    annotator, other_annotator, huawei, by_margin
):
    set_order(huawei, overlap=1)
    order = [by_margin[i] for i in ORDERS["margin"]]
    assert next_for(annotator, huawei) == order[0]
    label(annotator, order[0], huawei)
    assert next_for(other_annotator, huawei) == order[1]  # order[0] is full
    label(other_annotator, order[1], huawei)
    assert next_for(other_annotator, huawei) == order[2]
    assert ranked_cursor(other_annotator, huawei) == ("margin", order[2].id)

    annotation_undo(annotator=annotator, target=Target.objects.get(pk=huawei.pk))
    Assignment.objects.filter(annotator=other_annotator).delete()  # as if it expired

    assert ranked_cursor(other_annotator, huawei) == ("margin", order[0].id)
    assert next_for(other_annotator, huawei) == order[0]


def test_relabelling_to_skip_behind_the_ranked_cursor_reopens_the_sentence(
    annotator, other_annotator, huawei, by_margin
):
    set_order(huawei, overlap=1)
    order = [by_margin[i] for i in ORDERS["margin"]]
    label(annotator, order[0], huawei)
    assert handed_out(other_annotator, huawei) == order[1:]

    label(annotator, order[0], huawei, "skip")

    assert next_for(other_annotator, huawei) == order[0]


def test_a_new_version_or_measure_starts_its_ranking_from_the_beginning(annotator, huawei, by_margin):
    order = [by_margin[i] for i in ORDERS["margin"]]
    label(annotator, next_for(annotator, huawei), huawei)
    label(annotator, next_for(annotator, huawei), huawei)  # order[0] and order[1] are done
    assert next_for(annotator, huawei) == order[2]
    assert ranked_cursor(annotator, huawei) == ("margin", order[2].id)
    Assignment.objects.filter(annotator=annotator).delete()

    set_order(huawei, uncertainty_measure="least_confident")
    expected = [by_margin[i] for i in ORDERS["least_confident"] if by_margin[i] not in order[:2]]
    assert next_for(annotator, huawei) == expected[0]
    Assignment.objects.filter(annotator=annotator).delete()

    newer = ModelVersionFactory(target=huawei)
    for sentence, confidence in zip(by_margin, [0.1, 0.9, 0.9, 0.2], strict=True):
        SuggestionFactory(model_version=newer, target=huawei, sentence=sentence, confidence=confidence)
    set_order(huawei, active_version=newer)
    # Open are positions 0 and 1: the old ranking would give 1 (0.40 < 0.90), the new one 0.
    assert next_for(annotator, huawei) == by_margin[0]


# The mixed order


def test_mix_with_random_share_one_hands_out_open_sentences_in_the_random_orders_shuffle(annotator, huawei):
    sentences = scored(huawei, [((i * 7) % 20 / 40 + 0.4, (i * 7) % 20 / 20, 1.0) for i in range(20)])
    set_order(huawei, queue_order="mix", uncertainty_measure="margin", random_share=1)
    full = sentences[4:8]
    for sentence in full:
        label(someone(), sentence, huawei, "pro")
        label(someone(), sentence, huawei, "contra")
    mine = sentences[10:12]
    for sentence in mine:
        label(annotator, sentence, huawei)
    open_ones = [s for s in sentences if s not in full and s not in mine]
    by_margin = sorted(open_ones, key=lambda s: ((sentences.index(s) * 7) % 20, s.pk))
    by_id = {s.pk: s for s in open_ones}

    given = handed_out(annotator, huawei)

    assert given == [by_id[i] for i in shuffled(list(by_id))]
    assert given != open_ones  # not article order
    assert given != by_margin  # not uncertainty order


def test_the_mix_orders_random_picks_are_the_same_walk_for_every_annotator(huawei):
    sentences = scored(huawei, [(0.5, i / 20, 1.0) for i in range(20)])
    set_order(huawei, queue_order="mix", random_share=1, overlap=3)
    first = shuffled([s.pk for s in sentences])

    given = [next_for(someone(), huawei).pk for _ in range(6)]

    # Overlap 3: three annotators take the walk's first sentence, the next three its second.
    assert given == [first[0]] * 3 + [first[1]] * 3


def test_the_mix_orders_coin_still_chooses_between_uncertainty_and_the_walk(annotator, huawei):
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(4)]
    walk = shuffled([s.pk for s in sentences])
    for sentence in sentences:  # the smallest margin: the walk's last sentence
        SuggestionFactory(target=huawei, sentence=sentence, margin=0.05 if sentence.pk == walk[-1] else 0.5)
    set_order(huawei, queue_order="mix", uncertainty_measure="margin", random_share=0.5, overlap=20)
    random.seed(5)

    firsts = {next_for(someone(), huawei).pk for _ in range(12)}

    assert firsts == {walk[0], walk[-1]}


@pytest.mark.parametrize("measure", ["least_confident", "margin", "entropy"])
def test_mix_with_random_share_zero_is_the_uncertainty_order(annotator, huawei, measure):
    sentences = scored(huawei)
    set_order(huawei, queue_order="mix", uncertainty_measure=measure, random_share=0)

    assert handed_out(annotator, huawei) == [sentences[i] for i in ORDERS[measure]]


@pytest.mark.parametrize("share", [0, 1])
def test_mix_without_an_active_version_is_the_random_orders_walk_whatever_its_share(annotator, huawei, share):
    sentences = scored(huawei, [(0.5, i / 20, 1.0) for i in range(12)])
    set_order(huawei, queue_order="mix", random_share=share, active_version=None)
    by_id = {s.pk: s for s in sentences}

    assert handed_out(annotator, huawei) == [by_id[i] for i in shuffled(list(by_id))]


# Switching without a restart


def test_switching_the_order_takes_effect_on_the_next_sentence(annotator, huawei):
    sentences = scored(huawei)
    stale = Target.objects.get(pk=huawei.pk)
    assert stale.queue_order == "in_order"

    first = next_for(annotator, stale)
    label(annotator, first, stale)
    set_order(huawei, queue_order="uncertainty", uncertainty_measure="entropy")
    second = next_for(annotator, stale)
    label(annotator, second, stale)
    set_order(huawei, uncertainty_measure="least_confident")
    third = next_for(annotator, stale)
    label(annotator, third, stale)
    set_order(huawei, queue_order="in_order")
    fourth = next_for(annotator, stale)

    assert [first, second, third, fourth] == [sentences[0], sentences[3], sentences[1], sentences[2]]
    assert stale.queue_order == "in_order"  # the caller's object was never refreshed


# Concurrency: real threads, real transactions


@pytest.mark.django_db(transaction=True)
def test_annotators_asking_at_once_in_uncertainty_order_never_exceed_the_overlap():
    target = TargetFactory(overlap=1, queue_order="uncertainty", uncertainty_measure="margin")
    sentences = scored(target)
    annotators = UserFactory.create_batch(6, password=None)
    outcome = run_in_threads([lambda i=i: next_for(annotators[i], target) for i in range(len(annotators))])
    given = outcome.results

    assert not outcome.errors, outcome.errors
    assert sorted(s.pk for s in given if s is not None) == sorted(s.pk for s in sentences)
    assert given.count(None) == 2


def test_an_undo_behind_the_ranked_cursor_reopens_the_sentence_under_the_entropy_order(
    annotator, other_annotator, huawei
):
    sentences = scored(huawei)
    set_order(huawei, queue_order="uncertainty", uncertainty_measure="entropy", overlap=1)
    order = [sentences[i] for i in ORDERS["entropy"]]
    assert next_for(annotator, huawei) == order[0]
    label(annotator, order[0], huawei)
    assert handed_out(other_annotator, huawei) == order[1:]
    assert ranked_cursor(other_annotator, huawei) == ("entropy", order[-1].id)

    annotation_undo(annotator=annotator, target=Target.objects.get(pk=huawei.pk))

    # Highest entropy first: the cursor moves back up the descending ranking to order[0].
    assert ranked_cursor(other_annotator, huawei) == ("entropy", order[0].id)
    assert next_for(other_annotator, huawei) == order[0]
