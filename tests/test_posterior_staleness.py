"""A low posterior asks for one more annotator once per computation.

A stored Dawid-Skene posterior (SentencePosterior) is as old as the summary that wrote it,
and it carries the count of stance labels it was computed on. Under dynamic overlap an
agreed sentence below the target's posterior threshold asks for one more annotator only
while its tally still counts those labels (annotate/queue/rule.py's `posterior_current`):
the label the posterior brought leaves it describing other labels, and the sentence waits
for the next summary instead of asking again, one annotator after another, up to the most."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from annotate import summary
from annotate.extra_annotators import extra_annotators
from annotate.models import Label, SentencePosterior, SentenceTally, Target
from annotate.queue.loop import label_and_next
from annotate.queue.record import SentenceFull
from annotate.queue.reservations import next_sentence
from annotate.review import Posterior, posteriors_store
from annotate.targets import target_update
from tests.dynamic_overlap import label, reliable_and_unreliable, stance_labels
from tests.factories import ArticleFactory, SentenceFactory, UserFactory

pytestmark = pytest.mark.django_db


def store(target, sentence, *, posterior: float, votes: int):
    """What a summary writes for one sentence: its posterior on `votes` stance labels."""
    posteriors = [Posterior(sentence_id=sentence.pk, label="pro", posterior=posterior, votes=votes)]
    return posteriors_store(target=Target.objects.get(pk=target.pk), posteriors=posteriors)


@pytest.fixture
def uncertain(huawei) -> Target:
    """Huawei at overlap 2, at most 4 labels a sentence, posterior threshold 0.9."""
    return target_update(
        target_id=huawei.pk,
        values={"overlap": 2, "dynamic_overlap": True, "max_overlap": 4, "posterior_threshold": 0.9},
    )


@pytest.fixture
def team(db):
    return UserFactory.create_batch(6, role="annotator", password=None)


# The rule


def test_an_agreed_pair_with_a_low_posterior_on_its_two_labels_goes_to_a_third_annotator_and_no_fourth(
    uncertain, sentences, team
):
    a, b, c, d = team[:4]
    label(a, sentences[0], uncertain)
    label(b, sentences[0], uncertain)
    store(uncertain, sentences[0], posterior=0.6, votes=2)
    assert next_sentence(annotator=c, target=uncertain) == sentences[0]
    label(c, sentences[0], uncertain)
    # The posterior was of two labels; the sentence has three now, all agreeing.
    assert next_sentence(annotator=d, target=uncertain) == sentences[1]
    with pytest.raises(SentenceFull):
        label(d, sentences[0], uncertain)
    assert stance_labels(uncertain, sentences[0]) == ["pro", "pro", "pro"]


def test_a_posterior_recomputed_on_the_third_label_asks_for_a_fourth_while_it_is_still_low(
    uncertain, sentences, team
):
    a, b, c, d, e = team[:5]
    for annotator in (a, b):
        label(annotator, sentences[0], uncertain)
    store(uncertain, sentences[0], posterior=0.6, votes=2)
    label(c, sentences[0], uncertain)
    assert next_sentence(annotator=d, target=uncertain) == sentences[1]

    store(uncertain, sentences[0], posterior=0.7, votes=3)

    assert next_sentence(annotator=e, target=uncertain) == sentences[0]
    label(e, sentences[0], uncertain)
    assert len(stance_labels(uncertain, sentences[0])) == 4


def test_a_posterior_computed_before_a_label_arrived_does_not_ask(uncertain, sentences, team):
    a, b, c, d = team[:4]
    label(a, sentences[0], uncertain)
    label(b, sentences[0], uncertain, "contra")
    # Computed on the first two labels while the third, split's, was being written.
    store(uncertain, sentences[0], posterior=0.6, votes=2)
    label(c, sentences[0], uncertain)
    label(b, sentences[0], uncertain)  # changed its mind: three that agree
    assert next_sentence(annotator=d, target=uncertain) == sentences[1]
    with pytest.raises(SentenceFull):
        label(d, sentences[0], uncertain)


def test_a_posterior_of_labels_since_removed_does_not_ask(uncertain, sentences, team):
    a, b, c, d = team[:4]
    for annotator in (a, b):
        label(annotator, sentences[0], uncertain)
    store(uncertain, sentences[0], posterior=0.6, votes=3)  # a third label, undone since
    assert next_sentence(annotator=d, target=uncertain) == sentences[1]
    with pytest.raises(SentenceFull):
        label(c, sentences[0], uncertain)


def test_a_skip_is_not_a_label_the_posterior_was_computed_on_and_asks_for_no_one(uncertain, sentences, team):
    a, b, c, d, e = team[:5]
    for annotator in (a, b):
        label(annotator, sentences[0], uncertain)
    label(c, sentences[0], uncertain, Label.SKIP)
    store(uncertain, sentences[0], posterior=0.6, votes=2)
    assert next_sentence(annotator=d, target=uncertain) == sentences[0]
    label(d, sentences[0], uncertain)
    with pytest.raises(SentenceFull):
        label(e, sentences[0], uncertain)


def test_the_dashboard_counts_a_sentence_waiting_on_its_low_posterior_until_the_label_it_asked_for(
    uncertain, sentences, team
):
    a, b, c = team[:3]
    for annotator in (a, b):
        label(annotator, sentences[0], uncertain)
    store(uncertain, sentences[0], posterior=0.6, votes=2)
    assert extra_annotators(target=uncertain).waiting == 1
    label(c, sentences[0], uncertain)
    extras = extra_annotators(target=uncertain)
    assert (extras.given, extras.waiting) == (1, 0)
    store(uncertain, sentences[0], posterior=0.6, votes=3)
    assert extra_annotators(target=uncertain).waiting == 1


# The store


def test_a_posterior_recomputed_on_more_labels_moves_back_a_cursor_that_passed_its_sentence(
    uncertain, sentences, team
):
    a, b, c, d = team[:4]
    for annotator in (a, b):
        label(annotator, sentences[0], uncertain)
    store(uncertain, sentences[0], posterior=0.6, votes=2)
    label(c, sentences[0], uncertain)
    # d's cursor passes sentences[0]: its posterior is of two labels, it has three.
    assert next_sentence(annotator=d, target=uncertain) == sentences[1]
    shown = label_and_next(annotator=d, target_id=uncertain.pk, sentence_id=sentences[1].pk, label="pro")
    assert shown.next_sentence_id == sentences[2].pk

    assert store(uncertain, sentences[0], posterior=0.7, votes=3).reopened == 1

    after = label_and_next(annotator=d, target_id=uncertain.pk, sentence_id=sentences[2].pk, label="pro")
    assert after.next_sentence_id == sentences[0].pk
    # Recomputed on the same three labels: open already, at that count.
    assert store(uncertain, sentences[0], posterior=0.6, votes=3).reopened == 0


# Through a real summary


def test_a_summary_stores_each_posterior_with_the_stance_labels_its_sentence_had(huawei, sentences, team):
    a, b, c = team[:3]
    label(a, sentences[0], huawei)
    label(b, sentences[0], huawei, "contra")
    label(c, sentences[0], huawei, Label.SKIP)
    label(a, sentences[1], huawei)

    summary.compute(target=huawei)

    stored = dict(SentencePosterior.objects.filter(target=huawei).values_list("sentence_id", "votes"))
    tallies = dict(SentenceTally.objects.filter(target=huawei).values_list("sentence_id", "votes"))
    assert stored == {sentences[0].pk: 2, sentences[1].pk: 1} == tallies


def test_through_the_summary_a_low_posterior_asks_once_and_again_only_after_the_next_summary(huawei):
    """Dawid-Skene learns from sentences the annotators share: `good` agree with each other,
    `bad` disagree with `good` wherever they meet. The bad pair then agrees on `doubtful`,
    whose posterior falls below the threshold; a newcomer's agreeing label leaves it low."""
    target = target_update(
        target_id=huawei.pk,
        values={"overlap": 2, "dynamic_overlap": True, "max_overlap": 4, "posterior_threshold": 0.9},
    )
    good, bad = UserFactory.create_batch(2), UserFactory.create_batch(2)
    third, fourth, fifth = UserFactory.create_batch(3)
    # First in the article: the history's disagreements ask for more annotators too.
    doubtful = SentenceFactory(article=ArticleFactory(), position=0)
    reliable_and_unreliable(target, good, bad, article=doubtful.article, start=1)
    for annotator in bad:
        label(annotator, doubtful, target)

    summary.compute(target=target)
    low = SentencePosterior.objects.get(target=target, sentence=doubtful)
    assert (low.posterior < 0.9, low.votes) == (True, 2)
    assert next_sentence(annotator=third, target=target) == doubtful
    label(third, doubtful, target)
    # Its posterior rests on two labels; it has three until the next summary.
    assert next_sentence(annotator=fourth, target=target) != doubtful
    with pytest.raises(SentenceFull):
        label(fourth, doubtful, target)

    summary.compute(target=target)
    again = SentencePosterior.objects.get(target=target, sentence=doubtful)
    assert (again.posterior < 0.9, again.votes) == (True, 3)
    label(fifth, doubtful, target)
    assert stance_labels(target, doubtful) == ["pro", "pro", "pro", "pro"]


# The migration


def test_the_migration_gives_the_posteriors_stored_before_it_their_sentences_stance_labels(
    huawei, sentences, team
):
    migration = importlib.import_module("annotate.migrations.0035_posterior_votes")
    label(team[0], sentences[0], huawei)
    label(team[1], sentences[0], huawei, "contra")
    label(team[2], sentences[0], huawei, Label.SKIP)
    label(team[0], sentences[1], huawei)
    for sentence in sentences[:3]:  # the third has no label, so no tally
        SentencePosterior.objects.create(
            target=huawei, sentence=sentence, label="pro", posterior=0.5, votes=99
        )
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)
    stored = dict(SentencePosterior.objects.filter(target=huawei).values_list("sentence_id", "votes"))
    assert stored == {sentences[0].pk: 2, sentences[1].pk: 1, sentences[2].pk: 0}
