"""Annotators against the evaluation items (annotate/evaluation.py): the statistics against
known answers, what counts as an answer, the flag, the pause and its lift."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import proportion_confint

from annotate import summary
from annotate.adjudication import adjudication_record
from annotate.evaluation import evaluation_lift, evaluations, kappa_against_gold, wilson_interval
from annotate.evaluation_items import evaluation_items_mark
from annotate.models import STANCE_LABELS, Annotation, EvaluationPause, Label
from annotate.queue.loop import label_and_next
from annotate.queue.record import annotation_record
from annotate.queue.reservations import next_sentence_id
from tests.factories import ArticleFactory, SentenceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_wilson_interval_matches_a_worked_example():
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 gives 0.2553-0.3662.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


@pytest.mark.parametrize(
    ("successes", "trials"), [(0, 1), (1, 1), (0, 10), (10, 10), (7, 10), (3, 25), (480, 500)]
)
def test_the_wilson_interval_matches_statsmodels(successes, trials):
    expected = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    assert wilson_interval(successes, trials) == pytest.approx(expected, abs=1e-12)


def test_the_wilson_interval_of_no_trials_is_none():
    assert wilson_interval(0, 0) is None


def confusion_of(given: list[str], gold: list[str]) -> dict[str, dict[str, int]]:
    table = {g: dict.fromkeys(STANCE_LABELS, 0) for g in STANCE_LABELS}
    for answer, truth in zip(given, gold, strict=True):
        table[truth][answer] += 1
    return table


def test_kappa_against_gold_matches_scikit_learn_on_random_answers():
    rng = random.Random(15)
    for _ in range(50):
        n = rng.randint(5, 60)
        gold = [rng.choice(STANCE_LABELS) for _ in range(n)]
        given = [g if rng.random() < 0.6 else rng.choice(STANCE_LABELS) for g in gold]
        if len(set(given)) == 1 and len(set(gold)) == 1:
            continue
        assert kappa_against_gold(confusion_of(given, gold)) == pytest.approx(cohen_kappa_score(given, gold))


def test_kappa_against_gold_is_one_when_every_answer_is_right_and_none_without_answers():
    assert kappa_against_gold(confusion_of(["pro", "pro"], ["pro", "pro"])) == 1.0
    assert kappa_against_gold(confusion_of([], [])) is None


# --- answers in the database ------------------------------------------------------------


def items(target, golds: list[str]):
    """Settled sentences (two original labels each), marked as evaluation items."""
    curator = UserFactory(role="curator")
    first, second = UserFactory(role="annotator"), UserFactory(role="annotator")
    article = ArticleFactory()
    made = []
    for position, gold in enumerate(golds):
        sentence = SentenceFactory(article=article, position=position)
        annotation_record(annotator=first, sentence=sentence, target=target, label=Label.PRO)
        annotation_record(annotator=second, sentence=sentence, target=target, label=Label.NEUTRAL)
        adjudication_record(curator=curator, sentence=sentence, target=target, label=gold)
        made.append(sentence)
    evaluation_items_mark(curator=curator, target=target)
    return made, (first, second)


def answer(annotator, target, sentences, labels, *, spent_ms=2000):
    for sentence, label in zip(sentences, labels, strict=True):
        annotation_record(
            annotator=annotator, sentence=sentence, target=target, label=label, spent_ms=spent_ms
        )


def one(target, annotator):
    (found,) = evaluations(target=target, annotator_id=annotator.pk)
    return found


def test_accuracy_confusion_and_kappa_come_from_the_answers_against_gold(huawei):
    golds = ["pro", "pro", "contra", "contra", "neutral", "neutral"]
    sentences, _ = items(huawei, golds)
    annotator = UserFactory(role="annotator")
    given = ["pro", "contra", "contra", "contra", "neutral", "pro"]
    answer(annotator, huawei, sentences, given)

    found = one(huawei, annotator)

    assert (found.answered, found.correct) == (6, 4)
    assert found.accuracy == pytest.approx(4 / 6)
    assert found.interval == pytest.approx(proportion_confint(4, 6, method="wilson"))
    assert found.kappa == pytest.approx(cohen_kappa_score(given, golds))
    assert found.confusion["pro"] == {"pro": 1, "contra": 1, "neutral": 0}
    assert found.confusion["neutral"] == {"pro": 1, "contra": 0, "neutral": 1}


def test_labels_given_before_the_sentence_was_marked_are_not_answers(huawei):
    _, (first, _) = items(huawei, ["contra", "contra"])
    assert one(huawei, first).answered == 0  # their labels were what the curator settled


def test_a_skip_of_an_evaluation_item_is_counted_apart_from_the_accuracy(huawei):
    sentences, _ = items(huawei, ["contra", "pro"])
    annotator = UserFactory(role="annotator")
    answer(annotator, huawei, sentences, ["contra", "skip"])
    found = one(huawei, annotator)
    assert (found.answered, found.correct, found.skipped) == (1, 1, 1)


def test_a_changed_gold_label_changes_the_accuracy(huawei):
    sentences, _ = items(huawei, ["contra"])
    annotator = UserFactory(role="annotator")
    answer(annotator, huawei, sentences, ["pro"])
    assert one(huawei, annotator).correct == 0
    adjudication_record(
        curator=UserFactory(role="curator"), sentence=sentences[0], target=huawei, label="pro"
    )
    assert one(huawei, annotator).correct == 1


def test_an_annotator_is_flagged_below_the_threshold_only_after_the_minimum_of_answers(huawei):
    huawei.evaluation_min_items, huawei.evaluation_threshold = 4, 0.7
    huawei.save()
    sentences, _ = items(huawei, ["contra"] * 5)
    annotator = UserFactory(role="annotator")
    answer(annotator, huawei, sentences[:3], ["pro", "pro", "pro"])
    assert not one(huawei, annotator).flagged  # 3 answers: too few to judge
    answer(annotator, huawei, sentences[3:4], ["contra"])
    assert one(huawei, annotator).flagged  # 1 of 4
    good = UserFactory(role="annotator")
    answer(good, huawei, sentences[:4], ["contra", "contra", "contra", "pro"])
    assert not one(huawei, good).flagged  # 3 of 4 = 0.75


def test_speed_figures_come_from_the_summary_and_follow_a_new_minimum(huawei):
    sentences, _ = items(huawei, ["contra"] * 4)
    annotator = UserFactory(role="annotator")
    for sentence, spent in zip(sentences, [400, 800, 1200, 3000], strict=True):
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro", spent_ms=spent)
    found = one(huawei, annotator)
    assert (found.timed, found.fast) == (4, 3)
    assert found.median_seconds == pytest.approx(1.0)
    assert found.too_fast  # a median of 1 s under the minimum of 1.5 s
    huawei.min_label_ms = 500
    huawei.save()
    found = one(huawei, annotator)
    assert (found.fast, found.too_fast) == (1, False)
    assert summary.summary_for(target=huawei).speed["min_ms"] == 1500  # counted now instead


# --- the pause --------------------------------------------------------------------------


def paused_setup(target, *, n_items=3):
    target.evaluation_min_items, target.evaluation_threshold = 2, 0.7
    target.evaluation_pause, target.evaluation_onboarding = True, n_items
    target.save()
    sentences, _ = items(target, ["contra"] * n_items)
    article = ArticleFactory()
    for position in range(5):
        SentenceFactory(article=article, position=position)
    return sentences


def run(annotator, target, label):
    """Label whatever the queue shows; the next sentence's id."""
    _, current = next_sentence_id(annotator=annotator, target=target)
    assert current is not None
    return label_and_next(annotator=annotator, target_id=target.pk, sentence_id=current, label=label)


def test_a_flagged_annotator_queue_pauses_when_the_target_says_so(huawei):
    paused_setup(huawei)
    annotator = UserFactory(role="annotator")
    assert run(annotator, huawei, "pro").next_sentence_id is not None  # 0 of 1: too few
    assert run(annotator, huawei, "pro").next_sentence_id is None  # 0 of 2: paused
    assert next_sentence_id(annotator=annotator, target=huawei)[1] is None
    assert EvaluationPause.objects.get(annotator=annotator).paused_at is not None


def test_without_the_pause_setting_a_flagged_annotator_goes_on(huawei):
    paused_setup(huawei)
    huawei.evaluation_pause = False
    huawei.save()
    annotator = UserFactory(role="annotator")
    run(annotator, huawei, "pro")
    assert run(annotator, huawei, "pro").next_sentence_id is not None
    assert one(huawei, annotator).flagged and not one(huawei, annotator).paused


def test_lifting_the_pause_starts_the_count_afresh(huawei):
    paused_setup(huawei, n_items=5)
    annotator = UserFactory(role="annotator")
    run(annotator, huawei, "pro")
    assert run(annotator, huawei, "pro").next_sentence_id is None

    evaluation_lift(curator=UserFactory(role="curator"), annotator=annotator, target=huawei)

    found = one(huawei, annotator)
    assert (found.paused, found.flagged, found.recent, found.answered) == (False, False, 0, 2)
    assert next_sentence_id(annotator=annotator, target=huawei)[1] is not None
    run(annotator, huawei, "contra")  # one right answer since the lift: not judged yet
    assert not one(huawei, annotator).flagged


def test_answers_since_the_lift_are_counted_from_the_lift(huawei):
    sentences, _ = items(huawei, ["contra"] * 3)
    annotator = UserFactory(role="annotator")
    answer(annotator, huawei, sentences[:2], ["pro", "pro"])
    lifted = Annotation.objects.filter(annotator=annotator).latest("created_at").created_at
    EvaluationPause.objects.create(target=huawei, annotator=annotator, lifted_at=lifted)
    answer(annotator, huawei, sentences[2:], ["contra"])
    found = one(huawei, annotator)
    assert (found.answered, found.recent, found.recent_correct) == (3, 1, 1)
