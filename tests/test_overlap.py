"""The overlap is a hard limit: no sentence ends with more stance labels than its target's
overlap, whichever door a label comes through (card, history panel, API, undo, import)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from annotate.models import Annotation, Assignment, Label
from annotate.queue.loop import label_and_next, undo_and_next
from annotate.queue.record import SentenceFull, annotation_change, annotation_record, annotation_submit
from annotate.queue.reservations import next_sentence
from tests.factories import (
    ArticleFactory,
    AssignmentFactory,
    SentenceFactory,
    TargetFactory,
    UserFactory,
    api_client,
)
from tests.records import snapshot
from tests.test_views_labelling import LABEL_QUERIES
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
FULL = "This sentence already has its 2 labels."


def label(annotator, sentence, target, value="pro"):
    return annotation_record(annotator=annotator, sentence=sentence, target=target, label=value).annotation


def stance_counts(target) -> Counter:
    """Stance labels a sentence id."""
    return Counter(
        Annotation.objects.filter(target=target)
        .exclude(label=Label.SKIP)
        .values_list("sentence_id", flat=True)
    )


@pytest.fixture
def third_annotator(db):
    return UserFactory(username="cat", role="annotator")


@pytest.fixture
def skipped_then_full(annotator, other_annotator, third_annotator, huawei, sentences):
    """A skips X (the first sentence), then B and C label X: X is full for A."""
    x = sentences[0]
    skip = label(annotator, x, huawei, "skip")
    label(other_annotator, x, huawei, "pro")
    label(third_annotator, x, huawei, "contra")
    return skip


# The rule, at the service


def test_a_stance_label_on_a_sentence_full_of_others_labels_is_refused(
    annotator, other_annotator, third_annotator, huawei, sentences
):
    label(other_annotator, sentences[0], huawei, "pro")
    label(third_annotator, sentences[0], huawei, "neutral")
    before = snapshot()
    with pytest.raises(SentenceFull, match=FULL):
        label(annotator, sentences[0], huawei, "contra")
    assert snapshot() == before


def test_others_live_reservations_count_toward_full(
    annotator, other_annotator, third_annotator, huawei, sentences
):
    label(other_annotator, sentences[0], huawei, "pro")
    AssignmentFactory(annotator=third_annotator, target=huawei, sentence=sentences[0])
    with pytest.raises(SentenceFull):
        label(annotator, sentences[0], huawei, "pro")


def test_sentence_full_is_a_validation_error_the_import_path_also_gets(
    annotator, other_annotator, third_annotator, huawei, sentences
):
    # label_import calls annotation_record: it gets the same refusal.
    label(other_annotator, sentences[0], huawei, "pro")
    label(third_annotator, sentences[0], huawei, "pro")
    with pytest.raises(ValidationError):
        label(annotator, sentences[0], huawei, "pro")


def test_a_skip_of_a_full_sentence_is_recorded(
    annotator, other_annotator, third_annotator, huawei, sentences
):
    label(other_annotator, sentences[0], huawei, "pro")
    label(third_annotator, sentences[0], huawei, "pro")
    assert label(annotator, sentences[0], huawei, "skip").label == "skip"


def test_a_relabel_between_stance_labels_of_a_full_sentence_is_allowed(
    annotator, other_annotator, third_annotator, huawei, sentences
):
    label(annotator, sentences[0], huawei, "pro")
    label(other_annotator, sentences[0], huawei, "pro")
    AssignmentFactory(annotator=third_annotator, target=huawei, sentence=sentences[0])
    assert label(annotator, sentences[0], huawei, "contra").label == "contra"


def test_the_holder_of_the_live_reservation_may_label_its_sentence(
    annotator, other_annotator, third_annotator, huawei, sentences
):
    assert next_sentence(annotator=annotator, target=huawei) == sentences[0]
    label(other_annotator, sentences[0], huawei, "pro")
    # A third stance label only if the reservation was not counted: here it was.
    assert label(annotator, sentences[0], huawei, "neutral").label == "neutral"
    assert stance_counts(huawei)[sentences[0].pk] == 2


def test_an_expired_reservation_does_not_let_its_holder_past_a_full_sentence(
    annotator, other_annotator, third_annotator, huawei, sentences
):
    AssignmentFactory(
        annotator=annotator,
        target=huawei,
        sentence=sentences[0],
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    label(other_annotator, sentences[0], huawei, "pro")
    label(third_annotator, sentences[0], huawei, "pro")
    with pytest.raises(SentenceFull):
        label(annotator, sentences[0], huawei, "pro")


# The three reproductions of the issue


def test_a_skip_changed_to_a_label_from_the_history_is_refused_when_full(
    annotator, huawei, skipped_then_full
):
    before = snapshot()
    with pytest.raises(SentenceFull, match=FULL):
        annotation_change(annotator=annotator, annotation_id=skipped_then_full.pk, label="pro")
    assert snapshot() == before


def test_a_skip_changed_to_a_label_from_the_history_panel_is_a_409_with_the_reason(
    annotator_client, huawei, skipped_then_full
):
    url = reverse("annotation-relabel", args=[skipped_then_full.pk])
    response = annotator_client.post(url, {"label": "pro"}, **HTMX)
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == FULL
    assert Annotation.objects.get(pk=skipped_then_full.pk).label == "skip"


def test_a_skip_changed_to_a_label_through_the_api_is_a_409_json(annotator, huawei, skipped_then_full):
    response = api_client(annotator).patch(
        f"/api/annotations/{skipped_then_full.pk}/", {"label": "contra"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {"detail": FULL}
    assert Annotation.objects.get(pk=skipped_then_full.pk).label == "skip"


def test_undo_of_a_skip_does_not_hand_back_a_sentence_that_has_become_full(
    annotator, huawei, sentences, skipped_then_full
):
    result = undo_and_next(annotator=annotator, target_id=huawei.pk)
    undone, following = result.annotation, result.next_sentence_id
    assert undone.sentence == sentences[0]
    assert following == sentences[1].pk
    assert list(Assignment.objects.filter(annotator=annotator).values_list("sentence_id", flat=True)) == [
        sentences[1].pk
    ]
    with pytest.raises(SentenceFull):
        label_and_next(annotator=annotator, target_id=huawei.pk, sentence_id=sentences[0].pk, label="pro")


def test_undo_of_a_skip_hands_the_sentence_back_while_it_has_room(
    annotator, other_annotator, huawei, sentences
):
    label(annotator, sentences[0], huawei, "skip")
    label(other_annotator, sentences[0], huawei, "pro")
    following = undo_and_next(annotator=annotator, target_id=huawei.pk).next_sentence_id
    assert following == sentences[0].pk


def test_a_label_posted_from_the_form_for_a_full_sentence_is_a_409_with_the_reason(
    annotator_client, other_annotator, third_annotator, huawei, sentences
):
    label(other_annotator, sentences[3], huawei, "pro")
    label(third_annotator, sentences[3], huawei, "pro")
    before = snapshot()
    response = annotator_client.post(
        reverse("label-submit", args=[huawei.pk]), {"sentence": sentences[3].pk, "label": "neutral"}, **HTMX
    )
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == FULL
    assert snapshot() == before


def test_a_label_posted_through_the_api_for_a_full_sentence_is_a_409_json(
    annotator, other_annotator, third_annotator, huawei, sentences
):
    label(other_annotator, sentences[3], huawei, "pro")
    AssignmentFactory(annotator=third_annotator, target=huawei, sentence=sentences[3])
    before = snapshot()
    response = api_client(annotator).post(
        "/api/annotations/", {"sentence": sentences[3].pk, "label": "pro"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {"detail": FULL}
    assert snapshot() == before


def test_a_label_posted_for_a_sentence_never_handed_out_is_accepted_while_it_has_room(
    annotator, other_annotator, huawei, sentences
):
    label(other_annotator, sentences[3], huawei, "pro")
    response = api_client(annotator).post(
        "/api/annotations/", {"sentence": sentences[3].pk, "label": "pro"}, format="json"
    )
    assert response.status_code == 201


# Concurrency: real threads, real transactions, on SQLite and PostgreSQL


def in_threads(count, work):
    """Run work(i) in `count` threads released at once; return (results, SentenceFull count)."""
    outcome = run_in_threads([lambda i=i: work(i) for i in range(count)], expected=SentenceFull)
    assert not outcome.errors, outcome.errors
    return outcome.results, outcome.refused


def fresh(count, overlap=2):
    """A transactional test cannot rely on the data migration's rows: a new target and users."""
    target = TargetFactory(overlap=overlap)
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(3)]
    return target, sentences, UserFactory.create_batch(count)


def _card(annotator, target, sentence):
    return label_and_next(annotator=annotator, target_id=target.pk, sentence_id=sentence.pk, label="pro")


def _api(annotator, target, sentence):
    return annotation_submit(annotator=annotator, sentence=sentence, target=target, label="pro").annotation


def _history(annotator, target, sentence):
    mine = Annotation.objects.get(annotator=annotator, target=target, sentence=sentence)
    return annotation_change(annotator=annotator, annotation_id=mine.pk, label="pro").annotation


def _import(annotator, target, sentence):
    return annotation_record(annotator=annotator, sentence=sentence, target=target, label="pro").annotation


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", [_card, _api, _history, _import], ids=["card", "api", "history", "import"])
def test_annotators_labelling_one_sentence_at_once_never_exceed_the_overlap(path):
    count = 6
    target, sentences, annotators = fresh(count)
    x = sentences[0]
    if path is _history:
        for annotator in annotators:
            label(annotator, x, target, "skip")

    _, refused = in_threads(count, lambda i: path(annotators[i], target, x))

    assert stance_counts(target)[x.pk] == 2
    assert refused == count - 2


@pytest.mark.django_db(transaction=True)
def test_annotators_undoing_skips_at_once_get_the_sentence_back_only_up_to_the_overlap():
    count = 6
    target, sentences, annotators = fresh(count)
    x = sentences[0]
    for annotator in annotators:
        label(annotator, x, target, "skip")

    given, _ = in_threads(
        count, lambda i: undo_and_next(annotator=annotators[i], target_id=target.pk).next_sentence_id
    )

    assert Counter(given)[x.pk] == 2
    assert Assignment.objects.filter(sentence=x).count() == 2


@pytest.mark.django_db(transaction=True)
def test_annotators_labelling_undoing_relabelling_and_skipping_at_random_never_exceed_the_overlap():
    """The issue's load test in small: every door at once, at random, on a few sentences."""
    count, rounds = 6, 25
    target = TargetFactory(overlap=2)
    article = ArticleFactory()
    sentences = [SentenceFactory(article=article, position=i) for i in range(6)]
    annotators = UserFactory.create_batch(count)

    def work(i):
        rng = random.Random(i)
        annotator = annotators[i]
        for _ in range(rounds):
            action = rng.choice(["card", "card", "skip", "undo", "history", "any"])
            try:
                if action in ("card", "skip"):
                    shown = next_sentence(annotator=annotator, target=target)
                    if shown is not None:
                        value = "skip" if action == "skip" else rng.choice(["pro", "contra", "neutral"])
                        label_and_next(
                            annotator=annotator, target_id=target.pk, sentence_id=shown.pk, label=value
                        )
                elif action == "undo":
                    following = undo_and_next(annotator=annotator, target_id=target.pk).next_sentence_id
                    if following is not None and rng.random() < 0.5:
                        label_and_next(
                            annotator=annotator, target_id=target.pk, sentence_id=following, label="pro"
                        )
                elif action == "history":
                    mine = Annotation.objects.filter(annotator=annotator, target=target).order_by("?").first()
                    if mine is not None:
                        annotation_change(
                            annotator=annotator, annotation_id=mine.pk, label=rng.choice(Label.values)
                        )
                else:
                    sentence = rng.choice(sentences)
                    annotation_submit(annotator=annotator, sentence=sentence, target=target, label="contra")
            except SentenceFull:
                pass

    in_threads(count, work)

    assert max(stance_counts(target).values(), default=0) <= 2


#: A label on a sentence other than the one shown: the one shown stays reserved, so nothing
#: is found and reserved, one query fewer than LABEL_QUERIES["label"]. A refusal: the role
#: check (the user's groups), the transaction, the target, the INSERT whose room test refused, the read of why it did
#: nothing (no label of the annotator's there), rolled back; no event, cursor or card.
UNRESERVED_LABEL_QUERIES = LABEL_QUERIES["label"] - 1
REFUSED_LABEL_QUERIES = 9


def test_the_room_test_costs_the_label_form_no_extra_query(
    annotator_client, other_annotator, huawei, sentences, django_assert_num_queries
):
    # The room test is in the label's INSERT: a sentence never handed out costs what a
    # reserved one does, and a refusal less.
    annotator_client.get(reverse("label", args=[huawei.pk]))
    label(other_annotator, sentences[3], huawei, "pro")
    url = reverse("label-submit", args=[huawei.pk])
    with django_assert_num_queries(UNRESERVED_LABEL_QUERIES):
        assert (
            annotator_client.post(url, {"sentence": sentences[3].pk, "label": "pro"}, **HTMX).status_code
            == 200
        )
    AssignmentFactory(target=huawei, sentence=sentences[4])
    label(other_annotator, sentences[4], huawei, "pro")
    with django_assert_num_queries(REFUSED_LABEL_QUERIES):
        assert (
            annotator_client.post(url, {"sentence": sentences[4].pk, "label": "pro"}, **HTMX).status_code
            == 409
        )


def test_the_undo_message_says_when_the_sentence_is_not_back(
    annotator_client, huawei, sentences, skipped_then_full
):
    response = annotator_client.post(reverse("label-undo", args=[huawei.pk]), **HTMX)
    html = response.content.decode()
    assert "Undid skip; that sentence already has its labels, so here is the next one." in html
    assert f'data-sentence-id="{sentences[1].pk}"' in html
