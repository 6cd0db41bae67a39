"""Dynamic overlap by posterior: with the target's posterior threshold set, a sentence whose
labels agree but whose stored Dawid-Skene posterior is below it asks for one more annotator,
up to the target's most, like a disagreement (annotate/queue/rule.py's DISAGREED). The
summary keeps every posterior below the threshold and moves the search cursors back to the
sentences it reopens (annotate/review.py's posteriors_store)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import reverse

from annotate import summary
from annotate.adjudication import adjudication_record
from annotate.extra_annotators import extra_annotators
from annotate.models import (
    Annotation,
    QueueCursor,
    SentencePosterior,
    SentenceTally,
    Target,
)
from annotate.queue import statements
from annotate.queue.loop import label_and_next
from annotate.queue.record import SentenceFull
from annotate.queue.reservations import next_sentence
from annotate.review import Posterior, posteriors_store
from annotate.targets import target_update
from tests.dynamic_overlap import FULL, by_api, by_card, label, reliable_and_unreliable, stance_labels
from tests.factories import (
    ArticleFactory,
    ModelVersionFactory,
    SentenceFactory,
    SuggestionFactory,
    TargetFactory,
    UserFactory,
    api_client,
    target_settings,
)
from tests.records import snapshot
from tests.test_queue_statements import every_parameter, plan_of
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db


def stored(target, sentence, posterior: float) -> None:
    """A posterior as a summary run now would store it: on the sentence's stance labels now."""
    tally = SentenceTally.objects.filter(target=target, sentence=sentence).first()
    SentencePosterior.objects.update_or_create(
        target=target,
        sentence=sentence,
        defaults={"label": "pro", "posterior": posterior, "votes": tally.votes if tally else 0},
    )


@pytest.fixture
def dynamic(dynamic) -> Target:
    """conftest.py's dynamic target (Huawei at overlap 2, most 3) with a posterior threshold
    of 0.8."""
    return target_update(target_id=dynamic.pk, values={"posterior_threshold": 0.8})


# The rule


def test_an_agreed_pair_with_a_posterior_below_the_threshold_gets_a_third_annotator(
    dynamic, sentences, crowd
):
    a, b, c = crowd[:3]
    label(a, sentences[0], dynamic)
    label(b, sentences[0], dynamic)
    stored(dynamic, sentences[0], 0.6)
    assert next_sentence(annotator=c, target=dynamic) == sentences[0]
    label(c, sentences[0], dynamic, "contra")
    assert stance_labels(dynamic, sentences[0]) == ["contra", "pro", "pro"]


def test_an_agreed_pair_with_a_posterior_at_or_above_the_threshold_gets_no_third_annotator(
    dynamic, sentences, crowd
):
    a, b, c = crowd[:3]
    label(a, sentences[0], dynamic)
    label(b, sentences[0], dynamic)
    stored(dynamic, sentences[0], 0.8)
    assert next_sentence(annotator=c, target=dynamic) == sentences[1]
    before = snapshot()
    with pytest.raises(SentenceFull, match=re.escape(FULL)):
        label(c, sentences[0], dynamic)
    assert snapshot() == before


def test_a_low_posterior_never_takes_a_sentence_past_the_maximum(dynamic, sentences, crowd):
    target_update(target_id=dynamic.pk, values={"max_overlap": 4})
    for annotator in crowd[:4]:
        stored(dynamic, sentences[0], 0.5)  # a summary after every label, still low
        label(annotator, sentences[0], dynamic)
    stored(dynamic, sentences[0], 0.5)
    assert next_sentence(annotator=crowd[4], target=dynamic) == sentences[1]
    with pytest.raises(SentenceFull, match=re.escape("or up to 4 while they disagree")):
        label(crowd[4], sentences[0], dynamic)
    assert len(stance_labels(dynamic, sentences[0])) == 4


def test_without_a_threshold_a_low_posterior_changes_nothing(dynamic, sentences, crowd):
    target_update(target_id=dynamic.pk, values={"posterior_threshold": None})
    label(crowd[0], sentences[0], dynamic)
    label(crowd[1], sentences[0], dynamic)
    stored(dynamic, sentences[0], 0.1)
    assert next_sentence(annotator=crowd[2], target=dynamic) == sentences[1]
    with pytest.raises(SentenceFull):
        label(crowd[2], sentences[0], dynamic)


def test_without_dynamic_overlap_a_threshold_changes_nothing(dynamic, sentences, crowd):
    target_update(target_id=dynamic.pk, values={"dynamic_overlap": False})
    label(crowd[0], sentences[0], dynamic)
    label(crowd[1], sentences[0], dynamic)
    stored(dynamic, sentences[0], 0.1)
    with pytest.raises(SentenceFull, match=re.escape("This sentence already has its 2 labels.")):
        label(crowd[2], sentences[0], dynamic)


def test_a_settled_sentence_with_a_low_posterior_asks_for_no_one_more(dynamic, sentences, crowd, curator):
    label(crowd[0], sentences[0], dynamic)
    label(crowd[1], sentences[0], dynamic)
    stored(dynamic, sentences[0], 0.1)
    adjudication_record(curator=curator, sentence=sentences[0], target=dynamic, label="pro")
    with pytest.raises(SentenceFull):
        label(crowd[2], sentences[0], dynamic)


def test_a_low_posterior_short_of_the_overlap_wants_only_the_overlap(dynamic, sentences, crowd):
    label(crowd[0], sentences[0], dynamic)
    stored(dynamic, sentences[0], 0.1)
    assert next_sentence(annotator=crowd[1], target=dynamic) == sentences[0]
    assert next_sentence(annotator=crowd[2], target=dynamic) == sentences[1]  # one slot, held


def test_a_pair_the_model_judges_unreliable_gets_a_third_annotator_and_a_reliable_pair_none(huawei):
    """Dawid-Skene learns from the sentences both pairs share with others: `good` agree with
    each other, `bad` disagree with `good` wherever they meet. Each pair then agrees on one
    sentence; only the bad pair's posterior falls below the threshold."""
    target = target_update(
        target_id=huawei.pk, values={"overlap": 2, "dynamic_overlap": True, "posterior_threshold": 0.75}
    )
    good, bad, third = UserFactory.create_batch(2), UserFactory.create_batch(2), UserFactory()
    sentence = reliable_and_unreliable(target, good, bad)
    good_pair, bad_pair = sentence(), sentence()
    for annotator in good:
        label(annotator, good_pair, target)
    for annotator in bad:
        label(annotator, bad_pair, target)

    summary.compute(target=target)

    posterior = dict(SentencePosterior.objects.filter(target=target).values_list("sentence_id", "posterior"))
    assert posterior[bad_pair.pk] < 0.75 <= posterior[good_pair.pk]
    with pytest.raises(SentenceFull):
        label(third, good_pair, target)
    label(third, bad_pair, target)
    assert stance_labels(target, bad_pair) == ["pro", "pro", "pro"]


# The summary's posteriors


def posteriors(*pairs: tuple[object, float]) -> list[Posterior]:
    """Posteriors as a summary now would compute them: on each sentence's stance labels now
    (the tests here have one target)."""
    votes = dict(SentenceTally.objects.values_list("sentence_id", "votes"))
    return [Posterior(sentence_id=s.pk, label="pro", posterior=p, votes=votes.get(s.pk, 0)) for s, p in pairs]


def test_every_posterior_below_the_threshold_is_kept_beyond_the_lowest_kept(dynamic, monkeypatch):
    monkeypatch.setattr("annotate.review.POSTERIORS_KEPT", 2)
    sentences = [SentenceFactory() for _ in range(6)]
    values = [0.3, 0.5, 0.7, 0.79, 0.8, 0.95]
    result = posteriors_store(target=dynamic, posteriors=posteriors(*zip(sentences, values, strict=True)))
    kept = SentencePosterior.objects.filter(target=dynamic).order_by("posterior")
    assert [p.posterior for p in kept] == [0.3, 0.5, 0.7, 0.79]
    assert result.written == 4


def test_without_a_threshold_only_the_lowest_are_kept(dynamic, monkeypatch):
    target_update(target_id=dynamic.pk, values={"posterior_threshold": None})
    monkeypatch.setattr("annotate.review.POSTERIORS_KEPT", 2)
    sentences = [SentenceFactory() for _ in range(4)]
    target = Target.objects.get(pk=dynamic.pk)
    posteriors_store(target=target, posteriors=posteriors(*zip(sentences, [0.3, 0.5, 0.7, 0.9], strict=True)))
    assert sorted(SentencePosterior.objects.filter(target=dynamic).values_list("posterior", flat=True)) == [
        0.3,
        0.5,
    ]


def test_a_few_below_the_threshold_are_topped_up_with_the_lowest_above(dynamic, monkeypatch):
    monkeypatch.setattr("annotate.review.POSTERIORS_KEPT", 3)
    sentences = [SentenceFactory() for _ in range(5)]
    posteriors_store(
        target=dynamic, posteriors=posteriors(*zip(sentences, [0.95, 0.5, 0.85, 0.9, 0.99], strict=True))
    )
    assert sorted(SentencePosterior.objects.filter(target=dynamic).values_list("posterior", flat=True)) == [
        0.5,
        0.85,
        0.9,
    ]


def test_a_posterior_newly_below_the_threshold_moves_back_a_cursor_that_passed_its_sentence(
    dynamic, sentences, crowd
):
    a, b, c = crowd[:3]
    label(a, sentences[0], dynamic)
    label(b, sentences[0], dynamic)
    assert next_sentence(annotator=c, target=dynamic) == sentences[1]
    shown = label_and_next(annotator=c, target_id=dynamic.pk, sentence_id=sentences[1].pk, label="pro")
    assert shown.next_sentence_id == sentences[2].pk
    # c's cursor passed sentences[0], agreed and full; the summary finds it uncertain.
    result = posteriors_store(target=dynamic, posteriors=posteriors((sentences[0], 0.6)))
    assert result.reopened == 1
    after = label_and_next(annotator=c, target_id=dynamic.pk, sentence_id=sentences[2].pk, label="pro")
    assert after.next_sentence_id == sentences[0].pk


def test_a_posterior_below_the_threshold_already_reopens_nothing_again(dynamic, sentences, crowd):
    label(crowd[0], sentences[0], dynamic)
    label(crowd[1], sentences[0], dynamic)
    assert posteriors_store(target=dynamic, posteriors=posteriors((sentences[0], 0.6))).reopened == 1
    assert posteriors_store(target=dynamic, posteriors=posteriors((sentences[0], 0.5))).reopened == 0


def test_only_sentences_that_may_ask_for_one_more_reopen(dynamic, sentences, crowd, curator):
    """Short of the overlap (open anyway), at the most already, or settled: none reopens."""
    label(crowd[0], sentences[0], dynamic)
    for annotator, value in zip(crowd, ["pro", "contra", "pro"], strict=False):
        label(annotator, sentences[1], dynamic, value)
    for annotator in crowd[:2]:
        label(annotator, sentences[2], dynamic)
    adjudication_record(curator=curator, sentence=sentences[2], target=dynamic, label="pro")
    low = posteriors(*((s, 0.5) for s in sentences[:3]))
    assert posteriors_store(target=dynamic, posteriors=low).reopened == 0


def test_without_dynamic_overlap_no_cursor_moves(dynamic, sentences, crowd):
    target_update(target_id=dynamic.pk, values={"dynamic_overlap": False})
    label(crowd[0], sentences[0], dynamic)
    label(crowd[1], sentences[0], dynamic)
    target = Target.objects.get(pk=dynamic.pk)
    assert posteriors_store(target=target, posteriors=posteriors((sentences[0], 0.5))).reopened == 0


def test_the_ranked_cursor_moves_back_to_the_first_reopened_sentence_in_its_ranking(dynamic, crowd):
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(4)]
    version = ModelVersionFactory(target=dynamic)
    # Smallest margin first: sentences[3], [2], [1], [0].
    for sentence, margin in zip(sentences, [0.9, 0.6, 0.3, 0.1], strict=True):
        SuggestionFactory(model_version=version, sentence=sentence, target=dynamic, margin=margin)
    Target.objects.filter(pk=dynamic.pk).update(
        active_version=version, queue_order="uncertainty", uncertainty_measure="margin"
    )
    a, b, c = crowd[:3]
    for sentence in sentences[2:]:
        label(a, sentence, dynamic)
        label(b, sentence, dynamic)
    assert next_sentence(annotator=c, target=dynamic) == sentences[1]
    cursor = QueueCursor.objects.get(annotator=c, target=dynamic)
    assert cursor.ranked_sentence_id == sentences[1].pk
    target = Target.objects.get(pk=dynamic.pk)
    posteriors_store(target=target, posteriors=posteriors((sentences[2], 0.5), (sentences[3], 0.6)))
    cursor.refresh_from_db()
    assert (cursor.ranked_sentence_id, cursor.ranked_score) == (sentences[3].pk, 0.1)
    assert (cursor.article_id, cursor.position) == (article.pk, 0)  # before both: unmoved


def test_reopening_many_sentences_takes_a_bounded_number_of_queries(
    dynamic, crowd, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr("annotate.queue.cursors.REWIND_BATCH", 10)
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(40)]
    for sentence in sentences:
        for annotator in crowd[:2]:
            Annotation.objects.create(annotator=annotator, sentence=sentence, target=dynamic, label="pro")
    next_sentence(annotator=crowd[2], target=dynamic)  # a cursor past all of them
    low = posteriors(*((s, 0.5) for s in sentences))
    # The lock, the old rows, the delete, one insert, 4 batches of tallies, whether a cursor
    # exists, the rankings in use, 4 batches of first sentences, the firsts, one rewind (4
    # updates), and the SAVEPOINT pair inside the test's transaction: 21, for 40 sentences.
    with django_assert_max_num_queries(21):
        result = posteriors_store(target=dynamic, posteriors=low)
    assert result.reopened == 40
    cursor = QueueCursor.objects.get(annotator=crowd[2], target=dynamic)
    assert (cursor.article_id, cursor.position) == (article.pk, 0)


# Settings


def test_the_queue_settings_save_the_posterior_threshold(admin_client_, huawei):
    response = admin_client_.post(
        reverse("queue-settings", args=[huawei.pk]),
        target_settings(dynamic_overlap=True, posterior_threshold="0.85"),
    )
    assert response.status_code == 302
    assert Target.objects.get(pk=huawei.pk).posterior_threshold == 0.85


def test_an_empty_posterior_threshold_is_off(admin_client_, dynamic):
    response = admin_client_.post(
        reverse("queue-settings", args=[dynamic.pk]), target_settings(dynamic_overlap=True)
    )
    assert response.status_code == 302
    assert Target.objects.get(pk=dynamic.pk).posterior_threshold is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("0", "The posterior threshold must be above 0 and at most 1 (leave it empty for off)."),
        ("-0.5", "The posterior threshold must be above 0 and at most 1 (leave it empty for off)."),
        ("1.01", "The posterior threshold must be above 0 and at most 1 (leave it empty for off)."),
        ("high", "Enter a number."),
        ("nan", "Enter a number."),
    ],
)
def test_a_bad_posterior_threshold_is_refused_with_the_reason_and_nothing_saved(
    admin_client_, dynamic, value, error
):
    before = Target.objects.filter(pk=dynamic.pk).values().get()
    cursors = QueueCursor.objects.count()
    response = admin_client_.post(
        reverse("queue-settings", args=[dynamic.pk]),
        target_settings(dynamic_overlap=True, overlap=3, posterior_threshold=value),
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Target.objects.filter(pk=dynamic.pk).values().get() == before
    assert QueueCursor.objects.count() == cursors


def test_a_threshold_of_one_is_allowed(admin_client_, huawei):
    response = admin_client_.post(
        reverse("queue-settings", args=[huawei.pk]),
        target_settings(dynamic_overlap=True, posterior_threshold="1"),
    )
    assert response.status_code == 302
    assert Target.objects.get(pk=huawei.pk).posterior_threshold == 1.0


def test_the_target_form_shows_and_saves_the_posterior_threshold(admin_client_, huawei):
    url = reverse("target-edit", args=[huawei.pk])
    assert 'name="posterior_threshold"' in admin_client_.get(url).content.decode()
    data = {
        "name": "Huawei",
        **target_settings(dynamic_overlap=True, posterior_threshold="0.7"),
        "examples-TOTAL_FORMS": 0,
        "examples-INITIAL_FORMS": 0,
        "examples-MIN_NUM_FORMS": 0,
        "examples-MAX_NUM_FORMS": 60,
    }
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Target.objects.get(pk=huawei.pk).posterior_threshold == 0.7


def test_the_target_form_refuses_a_threshold_of_zero(admin_client_, huawei):
    url = reverse("target-edit", args=[huawei.pk])
    data = {
        "name": "Huawei",
        **target_settings(dynamic_overlap=True, posterior_threshold="0"),
        "examples-TOTAL_FORMS": 0,
        "examples-INITIAL_FORMS": 0,
        "examples-MIN_NUM_FORMS": 0,
        "examples-MAX_NUM_FORMS": 60,
    }
    response = admin_client_.post(url, data)
    assert response.status_code == 400
    assert "The posterior threshold must be above 0 and at most 1" in response.content.decode()
    assert Target.objects.get(pk=huawei.pk).posterior_threshold is None


def test_the_admin_refuses_a_threshold_above_one(admin_client_, huawei):
    url = reverse("admin:annotate_target_change", args=[huawei.pk])
    data = {"name": "Huawei", "description": "", "guidelines": "", **target_settings(posterior_threshold="2")}
    response = admin_client_.post(url, data)
    assert response.status_code == 200  # the admin shows its form again
    assert "The posterior threshold must be above 0 and at most 1" in response.content.decode()
    assert Target.objects.get(pk=huawei.pk).posterior_threshold is None


def test_changing_the_threshold_drops_the_cursors_and_queues_a_summary(
    dynamic, sentences, crowd, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    next_sentence(annotator=crowd[0], target=dynamic)
    assert QueueCursor.objects.filter(target=dynamic).exists()
    with django_capture_on_commit_callbacks(execute=True):
        target_update(target_id=dynamic.pk, values={"posterior_threshold": 0.9})
    assert not QueueCursor.objects.filter(target=dynamic).exists()
    assert DBTaskResult.objects.filter(task_path="annotate.tasks.summarise_target").count() == 1


def test_the_api_tells_a_script_the_posterior_threshold(dynamic, crowd):
    row = api_client(crowd[0]).get("/api/targets/").json()["results"][0]
    assert row["posterior_threshold"] == 0.8
    target_update(target_id=dynamic.pk, values={"posterior_threshold": None})
    assert api_client(crowd[0]).get("/api/targets/").json()["results"][0]["posterior_threshold"] is None


# The dashboard


def test_the_dashboard_counts_an_agreed_sentence_below_the_threshold_as_waiting(dynamic, sentences, crowd):
    label(crowd[0], sentences[0], dynamic)
    label(crowd[1], sentences[0], dynamic)
    label(crowd[0], sentences[1], dynamic)
    label(crowd[1], sentences[1], dynamic, "contra")
    assert extra_annotators(target=dynamic).waiting == 1
    stored(dynamic, sentences[0], 0.5)
    stored(dynamic, sentences[1], 0.5)  # split and low: counted once
    extras = extra_annotators(target=dynamic)
    assert (extras.waiting, extras.waiting_first, extras.asked) == (2, 2, 2)
    label(crowd[2], sentences[0], dynamic)
    extras = extra_annotators(target=dynamic)
    assert (extras.given, extras.waiting) == (1, 1)


def test_the_dashboard_tells_a_first_extra_annotator_from_a_later_one(dynamic, sentences, crowd):
    """Up to 4 labels: a split pair and an agreed pair below the threshold wait for their
    first extra annotator; a split three and an agreed three below it for a second."""
    target = target_update(target_id=dynamic.pk, values={"max_overlap": 4})
    split_two, low_two, split_three, low_three = sentences[:4]
    for sentence, values in (
        (split_two, ["pro", "contra"]),
        (low_two, ["pro", "pro"]),
        (split_three, ["pro", "contra", "neutral"]),
        (low_three, ["pro", "pro"]),
    ):
        for annotator, value in zip(crowd, values, strict=False):
            label(annotator, sentence, target, value)
    stored(target, low_three, 0.5)  # asks for a third label
    label(crowd[2], low_three, target, "pro")
    stored(target, low_two, 0.5)
    stored(target, low_three, 0.5)  # computed again, on its three labels
    extras = extra_annotators(target=target)
    assert (extras.given, extras.waiting, extras.waiting_first, extras.asked) == (2, 4, 2, 4)


# The plan


def test_the_posterior_test_seeks_the_sentences_row_not_the_range_below_the_threshold(
    annotator, dynamic, sentences
):
    version = ModelVersionFactory(target=dynamic)
    params = every_parameter(annotator=annotator, target=dynamic, sentence=sentences[1], version=version)
    plan = "\n".join(plan_of(statements.OPEN_IN_ORDER, params))
    assert "posterior_lowest" not in plan, plan
    if connection.vendor == "postgresql":
        assert "posterior_one_per_sentence on annotate_sentenceposterior" in plan, plan
    else:
        assert "SEARCH post USING INDEX sqlite_autoindex_annotate_sentenceposterior_1" in plan, plan


# Concurrency: real threads, real transactions, on SQLite and PostgreSQL


def agreed_but_uncertain(count: int):
    """A fresh dynamic target (overlap 2, threshold 0.8) whose first sentence has two agreeing
    labels and a stored posterior of 0.6."""
    target = TargetFactory(overlap=2, dynamic_overlap=True, posterior_threshold=0.8)
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(3)]
    first, second, *annotators = UserFactory.create_batch(count + 2, password=None)
    label(first, sentences[0], target)
    label(second, sentences[0], target)
    stored(target, sentences[0], 0.6)
    return target, sentences, annotators


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", [by_card, by_api], ids=["card", "api"])
def test_annotators_racing_for_the_extra_slot_of_an_uncertain_sentence_leave_exactly_the_maximum(path):
    count = 6
    target, sentences, annotators = agreed_but_uncertain(count)
    x = sentences[0]

    outcome = run_in_threads(
        [lambda i=i: path(annotators[i], target, x) for i in range(count)], expected=SentenceFull
    )

    assert not outcome.errors, outcome.errors
    assert len(stance_labels(target, x)) == 3
    assert outcome.refused == count - 1


@pytest.mark.django_db(transaction=True)
def test_a_summary_racing_labels_leaves_the_reopened_sentence_to_one_more_annotator_only():
    """Posteriors stored while annotators label: the store takes the target's lock first, so
    each label sees the old rows or the new ones and the rewound cursors, never a mix."""
    count = 4
    target = TargetFactory(overlap=2, dynamic_overlap=True, posterior_threshold=0.8)
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(3)]
    first, second, *annotators = UserFactory.create_batch(count + 2, password=None)
    label(first, sentences[0], target)
    label(second, sentences[0], target)

    def store():
        return posteriors_store(target=target, posteriors=posteriors((sentences[0], 0.6)))

    def work(i):
        try:
            return by_card(annotators[i], target, sentences[0])
        except SentenceFull:
            return None

    outcome = run_in_threads([store, *[lambda i=i: work(i) for i in range(count)]])

    assert not outcome.errors, outcome.errors
    assert len(stance_labels(target, sentences[0])) <= 3
    assert SentencePosterior.objects.filter(target=target).count() == 1


def test_the_admin_saves_a_threshold_and_queues_a_summary(
    admin_client_, huawei, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    url = reverse("admin:annotate_target_change", args=[huawei.pk])
    data = {
        "name": "Huawei",
        "description": "",
        "guidelines": "",
        **target_settings(posterior_threshold="0.9"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Target.objects.get(pk=huawei.pk).posterior_threshold == 0.9
    assert DBTaskResult.objects.filter(task_path="annotate.tasks.summarise_target").count() == 1


def test_without_a_cursor_reopening_reads_only_the_tallies(
    dynamic, sentences, crowd, django_assert_num_queries
):
    label(crowd[0], sentences[0], dynamic)
    label(crowd[1], sentences[0], dynamic)
    assert not QueueCursor.objects.filter(target=dynamic).exists()
    # The lock, the old rows, the delete, the insert, the tallies, whether a cursor exists,
    # and the SAVEPOINT pair inside the test's transaction.
    computed = posteriors((sentences[0], 0.6))
    with django_assert_num_queries(8):
        assert posteriors_store(target=dynamic, posteriors=computed).reopened == 1
