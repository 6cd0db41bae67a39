"""Background retraining: every N new gold labels, no more often than every M minutes,
never two model tasks of one target at once, and the annotator never waits for it."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from annotate import classifier
from annotate.adjudication import adjudication_record
from annotate.models import Annotation, GoldChanges, ModelVersion, Sentence, Target
from annotate.queue.record import annotation_change, annotation_record
from annotate.retrain_policy import (
    BUSY,
    RETRAIN_TASK_PATH,
    activation_enqueue,
    gold_changes,
    retrain_enqueue,
    retrain_if_due,
)
from tests.factories import (
    ArticleFactory,
    ModelVersionFactory,
    SentenceFactory,
    UserFactory,
    stance_text,
    train_once,
)
from tests.tasks import run_queued_task
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def training_once(monkeypatch) -> None:
    monkeypatch.setattr(classifier, "train", train_once)


@pytest.fixture
def corpus(db) -> list[Sentence]:
    article = ArticleFactory()
    return [SentenceFactory(article=article, position=i) for i in range(12)]


def policy(target: Target, every: int, floor: int = 10) -> Target:
    Target.objects.filter(pk=target.pk).update(retrain_every=every, retrain_floor_minutes=floor)
    target.refresh_from_db()
    return target


def retrain_tasks() -> int:
    return DBTaskResult.objects.filter(task_path=RETRAIN_TASK_PATH).count()


def label(client: Client, target: Target, sentence: Sentence, value: str = "pro"):
    return client.post(
        reverse("label-submit", args=[target.id]), {"sentence": sentence.id, "label": value}, **HTMX
    )


# The gold change counter


def test_the_counter_moves_when_a_gold_label_appears_changes_or_goes(huawei, corpus):
    first, second = UserFactory(password=None), UserFactory(password=None)
    curator = UserFactory(password=None, role="curator")
    sentence = corpus[0]

    one = annotation_record(annotator=first, sentence=sentence, target=huawei, label="pro").annotation
    assert gold_changes(target_id=huawei.pk) == 1  # one label is its own majority
    annotation_record(annotator=second, sentence=sentence, target=huawei, label="pro")
    assert gold_changes(target_id=huawei.pk) == 1  # agreeing: the gold label did not move
    annotation_change(annotator=first, annotation_id=one.pk, label="contra")
    assert gold_changes(target_id=huawei.pk) == 2  # a tie: it went
    adjudication_record(curator=curator, sentence=sentence, target=huawei, label="contra")
    assert gold_changes(target_id=huawei.pk) == 3  # settled: it came back
    annotation_record(annotator=first, sentence=corpus[1], target=huawei, label="skip")
    assert gold_changes(target_id=huawei.pk) == 3  # a skip is no gold label


def test_the_counter_is_per_target(huawei, corpus):
    other = Target.objects.create(name="Nuclear")
    annotation_record(annotator=UserFactory(password=None), sentence=corpus[0], target=other, label="pro")

    assert gold_changes(target_id=huawei.pk) == 0
    assert GoldChanges.objects.get(target=other).changes == 1


# Crossing N new gold labels


def test_crossing_n_new_gold_labels_enqueues_exactly_one_retrain(annotator_client, huawei, corpus):
    policy(huawei, every=5)

    for sentence in corpus[:4]:
        assert label(annotator_client, huawei, sentence).status_code == 200
    assert retrain_tasks() == 0

    label(annotator_client, huawei, corpus[4])  # the fifth new gold label
    assert retrain_tasks() == 1
    task = DBTaskResult.objects.get()
    assert task.args_kwargs == {"args": [huawei.pk], "kwargs": {}}

    for sentence in corpus[5:11]:  # N more, but the floor's minutes have not passed
        label(annotator_client, huawei, sentence)
    assert retrain_tasks() == 1


def test_labels_crossing_the_line_again_while_the_retrain_runs_queue_no_second_one(
    annotator_client, huawei, corpus
):
    """What a busy target sees: the floor has passed, N more gold labels come in while the
    worker is still training, and only once it has finished does the next label queue one."""
    policy(huawei, every=2, floor=0)
    for sentence in corpus[:2]:
        label(annotator_client, huawei, sentence)
    assert retrain_tasks() == 1
    DBTaskResult.objects.update(status="RUNNING")  # the worker has picked it up

    for sentence in corpus[2:8]:  # three times N more, through the label view
        assert label(annotator_client, huawei, sentence).status_code == 200
    assert retrain_tasks() == 1

    DBTaskResult.objects.update(status="SUCCESSFUL")
    label(annotator_client, huawei, corpus[8])  # the labels since the mark are due at once
    assert retrain_tasks() == 2
    assert DBTaskResult.objects.filter(status="READY").count() == 1


def test_the_m_minute_floor_holds_and_then_the_next_label_enqueues(huawei, corpus):
    huawei = policy(huawei, every=2, floor=10)
    annotator = UserFactory(password=None)
    start = timezone.now()
    for sentence in corpus[:2]:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    assert retrain_if_due(target=huawei, now=start)
    DBTaskResult.objects.update(status="SUCCESSFUL")  # the worker has trained it
    for sentence in corpus[2:6]:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="contra")
    huawei.refresh_from_db()

    assert not retrain_if_due(target=huawei, now=start + datetime.timedelta(minutes=9, seconds=59))
    assert retrain_tasks() == 1
    assert retrain_if_due(target=huawei, now=start + datetime.timedelta(minutes=10))
    assert retrain_tasks() == 2


def test_a_policy_of_zero_never_enqueues(annotator_client, huawei, corpus):
    policy(huawei, every=0)

    for sentence in corpus:
        label(annotator_client, huawei, sentence)

    assert retrain_tasks() == 0


def test_a_retrain_counts_the_new_labels_from_the_ones_it_trained_on(huawei, corpus):
    huawei = policy(huawei, every=3)
    annotators = [UserFactory(password=None) for _ in range(2)]
    for i, sentence in enumerate(corpus):
        for annotator in annotators:
            annotation_record(
                annotator=annotator,
                sentence=sentence,
                target=huawei,
                label=("pro", "contra", "neutral")[i % 3],
            )
    Target.objects.filter(pk=huawei.pk).update(control_share=0)
    from annotate.training import retrain

    retrain(target=Target.objects.get(pk=huawei.pk), min_labels=6)

    huawei.refresh_from_db()
    assert huawei.retrain_gold_mark == gold_changes(target_id=huawei.pk) == 12
    assert not retrain_if_due(target=huawei)


def test_an_adjudication_counts_toward_the_policy(curator, huawei, corpus):
    huawei = policy(huawei, every=1)
    client = Client()
    client.force_login(curator)

    client.post(reverse("adjudicate-settle", args=[huawei.id]), {"sentence": corpus[0].id, "label": "pro"})

    assert retrain_tasks() == 1


# Never two at once


def test_two_enqueues_make_one_task(huawei):
    first = retrain_enqueue(target_id=huawei.pk)
    second = retrain_enqueue(target_id=huawei.pk)

    assert first.queued and not second.queued
    assert second.reason == BUSY
    assert retrain_tasks() == 1


def test_a_running_retrain_blocks_another_and_a_finished_one_does_not(huawei):
    retrain_enqueue(target_id=huawei.pk)
    DBTaskResult.objects.update(status="RUNNING")
    assert not retrain_enqueue(target_id=huawei.pk).queued

    DBTaskResult.objects.update(status="FAILED")
    assert retrain_enqueue(target_id=huawei.pk).queued


def test_a_task_abandoned_for_hours_no_longer_blocks(huawei):
    retrain_enqueue(target_id=huawei.pk)
    DBTaskResult.objects.update(status="RUNNING", enqueued_at=timezone.now() - datetime.timedelta(hours=7))

    assert retrain_enqueue(target_id=huawei.pk).queued


def test_another_targets_retrain_does_not_block(huawei):
    other = Target.objects.create(name="Nuclear")
    retrain_enqueue(target_id=other.pk)

    assert retrain_enqueue(target_id=huawei.pk).queued


def test_a_queued_activation_blocks_a_retrain_and_the_other_way_round(huawei):
    version = ModelVersionFactory(target=huawei)
    assert activation_enqueue(version=version, by_id=None).queued
    assert not retrain_enqueue(target_id=huawei.pk).queued
    DBTaskResult.objects.update(status="SUCCESSFUL")

    assert retrain_enqueue(target_id=huawei.pk).queued
    assert not activation_enqueue(version=version, by_id=None).queued


def test_the_retrain_button_does_not_queue_a_second_retrain(admin_client_, huawei):
    admin_client_.post(reverse("model-retrain", args=[huawei.id]))
    admin_client_.post(reverse("model-retrain", args=[huawei.id]))

    assert retrain_tasks() == 1


def test_a_background_retrain_runs_in_the_worker_and_activates_the_first_version(annotator_client, huawei):
    article = ArticleFactory()
    corpus = [
        SentenceFactory(article=article, position=i, text=stance_text(("pro", "contra", "neutral")[i % 3], i))
        for i in range(24)
    ]
    policy(huawei, every=len(corpus))
    Target.objects.filter(pk=huawei.pk).update(control_share=0)
    for i, sentence in enumerate(corpus):
        label(annotator_client, huawei, sentence, ("pro", "contra", "neutral")[i % 3])
    assert retrain_tasks() == 1
    assert not ModelVersion.objects.exists()  # nothing was trained in the annotator's request

    task = run_queued_task()

    assert task.status == "SUCCESSFUL", task.traceback
    huawei.refresh_from_db()
    assert huawei.active_version is not None
    assert task.return_value["activated"] is True


# The policy form


def policy_url(target: Target) -> str:
    return reverse("retrain-policy", args=[target.id])


def test_an_admin_sets_the_policy(admin_client_, huawei):
    response = admin_client_.post(policy_url(huawei), {"retrain_every": 20, "retrain_floor_minutes": 30})

    assert response.status_code == 302
    huawei.refresh_from_db()
    assert (huawei.retrain_every, huawei.retrain_floor_minutes) == (20, 30)
    html = admin_client_.get(reverse("models", args=[huawei.id])).content.decode()
    assert "after 20 new or changed gold labels, at most every 30 minutes" in html


def test_an_invalid_policy_is_a_400_and_changes_nothing(admin_client_, huawei):
    response = admin_client_.post(policy_url(huawei), {"retrain_every": -1, "retrain_floor_minutes": 10})

    assert response.status_code == 400
    huawei.refresh_from_db()
    assert huawei.retrain_every == 50


def test_curators_may_not_set_the_policy_and_it_needs_a_csrf_token(curator, admin_user, huawei):
    curator_client = Client()
    curator_client.force_login(curator)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    given = {"retrain_every": 5, "retrain_floor_minutes": 1}

    assert curator_client.post(policy_url(huawei), given).status_code == 403
    assert strict.post(policy_url(huawei), given).status_code == 403
    huawei.refresh_from_db()
    assert (huawei.retrain_every, huawei.retrain_floor_minutes) == (50, 10)


@pytest.mark.django_db(transaction=True)
def test_two_enqueues_at_the_same_moment_from_two_connections_make_one_task():
    target = Target.objects.create(name="Racing", control_share=0)

    outcome = run_in_threads([lambda: retrain_enqueue(target_id=target.pk) for _ in range(2)])

    assert not outcome.errors, outcome.errors
    assert sorted(result.queued for result in outcome.results) == [False, True]
    assert DBTaskResult.objects.filter(task_path=RETRAIN_TASK_PATH).count() == 1


def test_bulk_statements_count_each_sentence_whose_gold_label_moved(huawei, corpus):
    """One UPDATE or DELETE over many labels counts as the row-by-row writes would (on
    PostgreSQL the counter's triggers fire once a statement, annotate/tally_pg.py)."""
    annotator = UserFactory(password=None)
    for sentence in corpus[:5]:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    assert gold_changes(target_id=huawei.pk) == 5

    # A relabel takes the old label out, then puts the new one in: a sentence's only label
    # going from pro to contra is its gold label going, then coming back: two changes.
    Annotation.objects.filter(target=huawei).update(label="contra")
    assert gold_changes(target_id=huawei.pk) == 15
    Annotation.objects.filter(target=huawei, sentence__in=corpus[:2]).update(suggestion_shown=True)
    assert gold_changes(target_id=huawei.pk) == 19  # out and back in, for each of the two
    Annotation.objects.filter(target=huawei).delete()
    assert gold_changes(target_id=huawei.pk) == 24


#: Queueing the retrain, once per N gold labels: BEGIN, the target's lock, the policy and the
#: counter read again under it, the unfinished-task check, the task's INSERT, the target's
#: mark, COMMIT.
ENQUEUE_QUERIES = 8


def test_the_label_that_queues_a_retrain_costs_a_fixed_few_queries_more(
    annotator_client, huawei, corpus, django_assert_max_num_queries
):
    from tests.test_views_labelling import LABEL_ACTION_MAX_QUERIES

    policy(huawei, every=2)
    label(annotator_client, huawei, corpus[0])

    with django_assert_max_num_queries(LABEL_ACTION_MAX_QUERIES + ENQUEUE_QUERIES):
        label(annotator_client, huawei, corpus[1])

    assert retrain_tasks() == 1
