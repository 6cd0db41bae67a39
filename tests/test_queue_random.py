"""The random order: every annotator walks one fixed shuffle of the corpus (annotate/shuffle.py)
from their shuffle cursor, which moves up past finished sentences and back when one opens."""

from __future__ import annotations

from collections import Counter

import pytest

from annotate.corpus import sentences_added
from annotate.duplicate_groups import sentences_create
from annotate.models import Assignment, QueueCursor, QueueOrder, Sentence, Target
from annotate.queue.record import annotation_change, annotation_record, annotation_undo
from annotate.queue.reservations import next_sentence
from annotate.shuffle import shuffle_key, shuffled
from annotate.targets import target_create
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db


def corpus(articles: int = 6, per_article: int = 5) -> list[Sentence]:
    """Sentences in article order."""
    made = []
    for _ in range(articles):
        article = ArticleFactory()
        made += [SentenceFactory(article=article, position=i) for i in range(per_article)]
    return made


def in_shuffle(sentences: list[Sentence]) -> list[Sentence]:
    by_id = {sentence.pk: sentence for sentence in sentences}
    return [by_id[i] for i in shuffled(list(by_id))]


@pytest.fixture
def random_target(huawei) -> Target:
    Target.objects.filter(pk=huawei.pk).update(queue_order=QueueOrder.RANDOM)
    return Target.objects.get(pk=huawei.pk)


def someone():
    return UserFactory(password=None)


def label(annotator, sentence, target, value="pro"):
    return annotation_record(annotator=annotator, sentence=sentence, target=target, label=value).annotation


def handed_out(annotator, target) -> list[Sentence]:
    """Every sentence the annotator is given, labelling each, until the queue is empty."""
    given = []
    while (sentence := next_sentence(annotator=annotator, target=target)) is not None:
        assert sentence not in given, "a sentence was handed out twice"
        given.append(sentence)
        label(annotator, sentence, target)
    return given


def shuffle_cursor(annotator, target) -> tuple[int, int]:
    cursor = QueueCursor.objects.get(annotator=annotator, target=target)
    return cursor.shuffle_key, cursor.shuffle_sentence_id


# Defaults


def test_a_new_target_takes_the_random_order():
    assert Target.objects.create(name="Nordwind").queue_order == QueueOrder.RANDOM


def test_a_target_made_by_the_service_without_an_order_takes_the_random_order():
    target = target_create(values={"name": "Nordwind", "guidelines": "pro / contra / neutral"})

    assert Target.objects.get(pk=target.pk).queue_order == "random"


# What it hands out


def test_the_random_order_hands_out_every_open_sentence_once_in_the_shuffle(annotator, random_target):
    sentences = corpus()
    full = sentences[3:6]
    for sentence in full:
        label(someone(), sentence, random_target, "pro")
        label(someone(), sentence, random_target, "contra")
    mine = sentences[10:12]
    for sentence in mine:
        label(annotator, sentence, random_target, "skip")
    open_ones = [s for s in sentences if s not in full and s not in mine]

    assert handed_out(annotator, random_target) == in_shuffle(open_ones)


def test_the_random_order_is_not_article_order_on_a_corpus_the_size_of_the_seeds(annotator, random_target):
    # The seeds (fixtures/seeds): some 40 articles of about 10 sentences, the first ids.
    sentences = corpus(articles=40, per_article=10)
    article_of = {sentence.pk: sentence.article_id for sentence in sentences}

    first = [next_sentence(annotator=someone(), target=random_target) for _ in range(20)]

    # Overlap 2: two annotators each take a sentence before the walk moves on.
    walked = [sentence.pk for sentence in first[::2]]
    assert walked == shuffled([s.pk for s in sentences])[:10]
    assert walked != sorted(walked)
    # Over several articles (in article order all ten would be the first article's). How
    # evenly the key scatters is tests/test_shuffle.py's, at fixed ids: here the ids depend
    # on the database's sequences, and a uniform shuffle of them now and then puts ten picks
    # in few articles (seen on PostgreSQL: 4 of 40).
    assert len({article_of[pk] for pk in walked}) > 1


def test_annotators_walk_the_same_shuffle_so_the_overlap_fills_before_it_moves_on(
    annotator, other_annotator, random_target
):
    sentences = corpus(articles=2)

    mine = handed_out(annotator, random_target)
    theirs = handed_out(other_annotator, random_target)

    assert mine == theirs == in_shuffle(sentences)
    assert next_sentence(annotator=someone(), target=random_target) is None  # every one has 2


def test_with_overlap_one_two_annotators_share_out_the_shuffle(annotator, other_annotator, random_target):
    Target.objects.filter(pk=random_target.pk).update(overlap=1)
    sentences = corpus(articles=2)
    order = in_shuffle(sentences)

    assert next_sentence(annotator=annotator, target=random_target) == order[0]
    assert next_sentence(annotator=other_annotator, target=random_target) == order[1]


def test_the_random_order_needs_no_model(annotator, random_target):
    sentences = corpus(articles=1)
    assert random_target.active_version_id is None

    assert next_sentence(annotator=annotator, target=random_target) == in_shuffle(sentences)[0]


# The shuffle cursor


def test_the_shuffle_cursor_moves_past_what_the_annotator_has_finished(annotator, random_target):
    order = in_shuffle(corpus(articles=2))
    for sentence in order[:3]:
        assert next_sentence(annotator=annotator, target=random_target) == sentence
        label(annotator, sentence, random_target)

    assert next_sentence(annotator=annotator, target=random_target) == order[3]
    assert shuffle_cursor(annotator, random_target) == (shuffle_key(order[3].pk), order[3].pk)


def test_the_shuffle_cursor_does_not_pass_a_sentence_another_annotator_only_holds(
    annotator, other_annotator, random_target
):
    Target.objects.filter(pk=random_target.pk).update(overlap=1)
    order = in_shuffle(corpus(articles=1))
    assert next_sentence(annotator=other_annotator, target=random_target) == order[0]  # held, unlabelled

    assert next_sentence(annotator=annotator, target=random_target) == order[1]
    assert shuffle_cursor(annotator, random_target) == (shuffle_key(order[0].pk), order[0].pk)


def test_when_nothing_is_left_the_shuffle_cursor_stands_past_the_last_sentence(annotator, random_target):
    order = in_shuffle(corpus(articles=1))
    handed_out(annotator, random_target)

    last = Sentence.objects.order_by("shuffle_key", "id").last()
    assert last is not None
    assert shuffle_cursor(annotator, random_target) == (last.shuffle_key, last.pk + 1)
    assert order[-1] == last


def test_the_random_order_walks_its_own_cursor_and_leaves_the_in_order_one_where_it_stood(
    annotator, random_target
):
    corpus(articles=2)
    first = next_sentence(annotator=annotator, target=random_target)
    cursor = QueueCursor.objects.get(annotator=annotator, target=random_target)
    in_order = (cursor.article_id, cursor.position)
    label(annotator, first, random_target)
    handed_out(annotator, random_target)

    cursor.refresh_from_db()
    # Every sentence is finished: a walk in article order would have moved past the last.
    assert (cursor.article_id, cursor.position) == in_order
    assert cursor.shuffle_sentence_id == Sentence.objects.order_by("shuffle_key", "id").last().pk + 1


def test_an_undo_behind_the_shuffle_cursor_reopens_the_sentence_for_others(
    annotator, other_annotator, random_target
):
    Target.objects.filter(pk=random_target.pk).update(overlap=1)
    random_target.refresh_from_db()
    order = in_shuffle(corpus(articles=2))
    assert next_sentence(annotator=annotator, target=random_target) == order[0]
    label(annotator, order[0], random_target)
    assert handed_out(other_annotator, random_target) == order[1:]

    annotation_undo(annotator=annotator, target=random_target)

    assert shuffle_cursor(other_annotator, random_target) == (shuffle_key(order[0].pk), order[0].pk)
    assert next_sentence(annotator=other_annotator, target=random_target) == order[0]


def test_a_label_changed_to_skip_behind_the_shuffle_cursor_reopens_the_sentence(
    annotator, other_annotator, random_target
):
    Target.objects.filter(pk=random_target.pk).update(overlap=1)
    random_target.refresh_from_db()
    order = in_shuffle(corpus(articles=2))
    assert next_sentence(annotator=annotator, target=random_target) == order[0]
    mine = label(annotator, order[0], random_target)
    assert handed_out(other_annotator, random_target) == order[1:]

    annotation_change(annotator=annotator, annotation_id=mine.id, label="skip")

    assert next_sentence(annotator=other_annotator, target=random_target) == order[0]


def test_new_sentences_come_back_into_the_walk_of_an_annotator_who_had_finished(annotator, random_target):
    old = corpus(articles=3)
    handed_out(annotator, random_target)
    last = max(shuffle_key(s.pk) for s in old)
    assert shuffle_cursor(annotator, random_target)[0] == last  # past the last sentence
    # New ids whose first in article order comes late in the shuffle, and others before the
    # cursor: rewinding to the first in article order would leave those out.
    ids = range(max(s.pk for s in old) + 1, max(s.pk for s in old) + 40)
    late = max(ids, key=shuffle_key)
    early = sorted((i for i in ids if shuffle_key(i) < min(last, shuffle_key(late))), key=shuffle_key)[:5]
    assert early
    article = ArticleFactory()
    new = sentences_create(
        [
            Sentence(id=sentence_id, article=article, position=i, text=f"New {i}.", start=0, end=1)
            for i, sentence_id in enumerate([late, *early])
        ]
    )
    sentences_added(created=new)

    assert handed_out(annotator, random_target) == in_shuffle(new)


# The lock


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("overlap", "asking", "sentence_count"), [(1, 6, 3), (2, 6, 2)])
def test_annotators_asking_at_once_in_random_order_never_exceed_the_overlap(overlap, asking, sentence_count):
    # A fresh target: a transactional test cannot rely on the data migration's rows.
    target = TargetFactory(overlap=overlap, queue_order=QueueOrder.RANDOM)
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(sentence_count)]
    annotators = UserFactory.create_batch(asking, password=None)

    outcome = run_in_threads(
        [lambda i=i: next_sentence(annotator=annotators[i], target=target) for i in range(asking)]
    )

    assert not outcome.errors, outcome.errors
    given = Counter(sentence.pk for sentence in outcome.results if sentence is not None)
    assert given == {sentence.pk: overlap for sentence in sentences}
    assert outcome.results.count(None) == asking - overlap * sentence_count
    assert Assignment.objects.count() == overlap * sentence_count
