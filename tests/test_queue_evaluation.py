"""The evaluation mix (annotate/queue/evaluation.py): evaluation items come silently into
each annotator's stream at the target's rate, after the onboarding block, never through the
ordinary orders, never with a suggestion, and outside the overlap."""

from __future__ import annotations

import pytest

from annotate.adjudication import adjudication_record, adjudication_undo
from annotate.evaluation_items import evaluation_item_toggle, evaluation_items_mark
from annotate.models import Annotation, EvaluationItem, Label, QueueCursor
from annotate.queue.card import read_card
from annotate.queue.evaluation import is_evaluation_place, shuffle_for
from annotate.queue.loop import label_and_next
from annotate.queue.record import annotation_record
from annotate.queue.reservations import next_sentence_id
from tests.factories import ArticleFactory, SentenceFactory, SuggestionFactory, UserFactory, api_client
from tests.test_views_labelling import HTMX, LABEL_ACTION_MAX_QUERIES, current_id, label_url, submit_url

pytestmark = pytest.mark.django_db


def corpus(n: int, *, per_article: int = 50) -> list:
    made = []
    for a in range(0, n, per_article):
        article = ArticleFactory()
        made += [SentenceFactory(article=article, position=p) for p in range(min(per_article, n - a))]
    return made


def settle_as_items(target, sentences, *, label=Label.CONTRA):
    """Two annotators label each sentence, a curator settles it, and it becomes an item."""
    curator = UserFactory(role="curator")
    first, second = UserFactory(role="annotator"), UserFactory(role="annotator")
    for sentence in sentences:
        annotation_record(annotator=first, sentence=sentence, target=target, label=Label.PRO)
        annotation_record(annotator=second, sentence=sentence, target=target, label=Label.NEUTRAL)
        adjudication_record(curator=curator, sentence=sentence, target=target, label=label)
    evaluation_items_mark(curator=curator, target=target, sentence_ids=[s.pk for s in sentences])
    return curator


def stream(annotator, target, n: int) -> list[int]:
    """The annotator labels n sentences from their queue; the ids they were shown."""
    target, current = next_sentence_id(annotator=annotator, target=target)
    shown = []
    while current is not None and len(shown) < n:
        shown.append(current)
        current = label_and_next(
            annotator=annotator, target_id=target.pk, sentence_id=current, label=Label.PRO, spent_ms=2000
        ).next_sentence_id
    return shown


def test_the_places_drawn_as_evaluation_items_come_at_the_targets_rate_over_many_draws(huawei):
    for rate in (0.05, 0.2):
        huawei.evaluation_rate = rate
        draws = 20_000
        hits = sum(is_evaluation_place(target=huawei, annotator_id=7, place=p) for p in range(draws))
        # Three standard errors of a binomial proportion.
        assert abs(hits / draws - rate) < 3 * (rate * (1 - rate) / draws) ** 0.5


def test_the_draw_is_the_same_every_time_for_an_annotator_and_different_between_annotators(huawei):
    places = range(2000)
    first = [is_evaluation_place(target=huawei, annotator_id=1, place=p) for p in places]
    again = [is_evaluation_place(target=huawei, annotator_id=1, place=p) for p in places]
    other = [is_evaluation_place(target=huawei, annotator_id=2, place=p) for p in places]
    assert first == again
    assert first != other


def test_the_onboarding_block_is_all_evaluation_items_and_a_zero_rate_none_after(huawei):
    huawei.evaluation_onboarding, huawei.evaluation_rate = 5, 0
    drawn = [is_evaluation_place(target=huawei, annotator_id=3, place=p) for p in range(200)]
    assert drawn == [True] * 5 + [False] * 195


def test_each_annotator_meets_the_items_in_an_order_of_their_own(huawei):
    assert len({shuffle_for(target_id=huawei.pk, annotator_id=a) for a in range(50)}) > 40
    assert all(1 <= shuffle_for(target_id=huawei.pk, annotator_id=a) < 65521 for a in range(50))


def test_an_annotator_stream_carries_evaluation_items_at_the_rate(huawei):
    sentences = corpus(600)
    items = sentences[:60]
    settle_as_items(huawei, items)
    huawei.evaluation_rate = 0.1
    huawei.save()
    annotator = UserFactory(role="annotator")

    shown = stream(annotator, huawei, 400)

    item_ids = {s.pk for s in items}
    served = [pk for pk in shown if pk in item_ids]
    expected = sum(is_evaluation_place(target=huawei, annotator_id=annotator.pk, place=p) for p in range(400))
    assert len(served) == expected  # exactly the drawn places, while items are left
    assert 20 <= len(served) <= 60  # 10 % of 400, give or take
    assert len(set(served)) == len(served)  # never the same item twice


def test_the_onboarding_block_hands_out_evaluation_items_first(huawei):
    sentences = corpus(30)
    items = sentences[10:14]
    settle_as_items(huawei, items)
    huawei.evaluation_onboarding, huawei.evaluation_rate = 3, 0
    huawei.save()
    annotator = UserFactory(role="annotator")

    shown = stream(annotator, huawei, 8)

    item_ids = {s.pk for s in items}
    assert [pk in item_ids for pk in shown] == [True, True, True] + [False] * 5


def test_the_ordinary_orders_never_hand_out_an_evaluation_item_even_with_room(huawei):
    huawei.overlap, huawei.evaluation_rate = 3, 0
    huawei.save()
    sentences = corpus(6)
    settle_as_items(huawei, sentences[:3])  # two labels each: room for a third
    annotator = UserFactory(role="annotator")

    shown = stream(annotator, huawei, 10)

    assert shown == [s.pk for s in sentences[3:]]
    # Its search cursor passed them as finished, so no later search walks them again.
    cursor = QueueCursor.objects.get(annotator=annotator, target=huawei)
    assert (cursor.article_id, cursor.position) > (sentences[0].article_id, sentences[2].position)


@pytest.mark.parametrize("order", ["uncertainty", "mix"])
def test_the_uncertainty_and_random_orders_never_hand_out_an_evaluation_item_either(huawei, order):
    sentences = corpus(8)
    for sentence in sentences:
        SuggestionFactory(sentence=sentence, target=huawei, confidence=0.4 + sentence.position / 100)
    huawei.refresh_from_db()
    huawei.overlap, huawei.evaluation_rate, huawei.queue_order, huawei.random_share = 3, 0, order, 1.0
    huawei.save()
    settle_as_items(huawei, sentences[:3])  # the least confident, each with room for a third label

    shown = stream(UserFactory(role="annotator"), huawei, 10)

    assert sorted(shown) == sorted(s.pk for s in sentences[3:])


def test_with_no_item_left_for_the_annotator_an_evaluation_place_gets_an_ordinary_sentence(huawei):
    sentences = corpus(12)
    settle_as_items(huawei, sentences[:1])
    huawei.evaluation_onboarding, huawei.evaluation_rate = 5, 0
    huawei.save()
    annotator = UserFactory(role="annotator")

    shown = stream(annotator, huawei, 4)

    assert shown == [sentences[0].pk] + [s.pk for s in sentences[1:4]]


def test_an_evaluation_item_is_handed_out_to_everyone_beyond_the_overlap(huawei):
    sentences = corpus(10)
    item = sentences[0]
    settle_as_items(huawei, [item])  # already two labels: full at overlap 2
    huawei.evaluation_onboarding = 1
    huawei.save()
    for _ in range(4):
        annotator = UserFactory(role="annotator")
        assert stream(annotator, huawei, 1) == [item.pk]
    assert Annotation.objects.filter(sentence=item, target=huawei).exclude(label=Label.SKIP).count() == 6


def test_a_label_from_the_api_on_an_evaluation_item_is_never_refused_as_full(huawei):
    item = corpus(3)[0]
    settle_as_items(huawei, [item])
    annotator = UserFactory(role="annotator")
    recorded = annotation_record(annotator=annotator, sentence=item, target=huawei, label=Label.PRO)
    assert recorded.annotation.pk is not None


def test_an_evaluation_item_shows_no_suggestion_and_accept_is_refused(huawei, annotator_client, annotator):
    sentences = corpus(5)
    item = sentences[0]
    SuggestionFactory(sentence=item, target=huawei, label=Label.CONTRA)
    SuggestionFactory(sentence=sentences[1], target=huawei, label=Label.CONTRA)
    settle_as_items(huawei, [item])
    huawei.refresh_from_db()
    huawei.evaluation_onboarding = 1
    huawei.save()

    html = annotator_client.get(label_url(huawei), **HTMX).content.decode()
    assert current_id(html) == item.pk
    assert read_card(annotator=annotator, target=huawei, sentence_id=item.pk).suggestion is None
    refused = annotator_client.post(submit_url(huawei), {"sentence": item.pk, "label": "accept"}, **HTMX)
    assert refused.status_code == 400
    # The ordinary sentence after it shows its suggestion.
    assert read_card(annotator=annotator, target=huawei, sentence_id=sentences[1].pk).suggestion is not None


def test_a_label_on_an_evaluation_item_records_that_no_suggestion_was_shown(huawei, annotator):
    item = corpus(3)[0]
    SuggestionFactory(sentence=item, target=huawei, label=Label.CONTRA)
    settle_as_items(huawei, [item])
    huawei.refresh_from_db()
    huawei.evaluation_onboarding = 1
    huawei.save()
    _, current = next_sentence_id(annotator=annotator, target=huawei)
    assert current == item.pk
    label_and_next(annotator=annotator, target_id=huawei.pk, sentence_id=item.pk, label=Label.CONTRA)
    assert Annotation.objects.get(annotator=annotator, sentence=item).suggestion_shown is False


def test_unmarking_an_item_the_cursors_passed_hands_it_out_again(huawei):
    huawei.overlap, huawei.evaluation_rate = 3, 0
    huawei.save()
    sentences = corpus(4)
    curator = settle_as_items(huawei, sentences[:1])
    annotator = UserFactory(role="annotator")
    assert stream(annotator, huawei, 2) == [s.pk for s in sentences[1:3]]

    evaluation_item_toggle(curator=curator, target=huawei, sentence=sentences[0])

    # The item had room for a third label; its annotator's cursor went back to it.
    assert not EvaluationItem.objects.exists()
    _, current = next_sentence_id(annotator=annotator, target=huawei)
    assert current == sentences[3].pk  # the reservation they hold stays theirs
    annotation_record(annotator=annotator, sentence=sentences[3], target=huawei, label=Label.PRO)
    assert stream(annotator, huawei, 1) == [sentences[0].pk]


@pytest.mark.parametrize("size", [10, 2000], ids=["10", "2000"])
def test_a_label_action_that_hands_out_an_evaluation_item_takes_no_more_queries(
    huawei, annotator, annotator_client, size, django_assert_max_num_queries
):
    sentences = corpus(size, per_article=100)
    settle_as_items(huawei, sentences[5:8])
    huawei.evaluation_onboarding = 2  # the second sentence shown is an item
    huawei.save()
    first = current_id(annotator_client.get(label_url(huawei), **HTMX).content.decode())

    with django_assert_max_num_queries(LABEL_ACTION_MAX_QUERIES):
        response = annotator_client.post(
            submit_url(huawei), {"sentence": first, "label": "pro", "spent_ms": 900}, **HTMX
        )
    following = current_id(response.content.decode())
    assert following in {s.pk for s in sentences[5:8]}

    with django_assert_max_num_queries(LABEL_ACTION_MAX_QUERIES):
        response = annotator_client.post(
            submit_url(huawei), {"sentence": following, "label": "pro", "spent_ms": 900}, **HTMX
        )
    assert response.status_code == 200


def test_undoing_an_item_first_settle_hands_it_out_again_to_those_who_passed_it(huawei):
    huawei.overlap, huawei.evaluation_rate = 3, 0
    huawei.save()
    sentences = corpus(4)
    curator = settle_as_items(huawei, sentences[:1])
    annotator = UserFactory(role="annotator")
    stream(annotator, huawei, 3)  # passes the item, ends holding nothing new

    adjudication_undo(curator=curator, sentence=sentences[0], target=huawei)

    assert not EvaluationItem.objects.exists()
    assert stream(annotator, huawei, 1) == [sentences[0].pk]


def test_the_api_shows_an_annotator_no_suggestion_for_an_evaluation_item(huawei, annotator):
    item, other = corpus(2)
    SuggestionFactory(sentence=item, target=huawei)
    SuggestionFactory(sentence=other, target=huawei)
    settle_as_items(huawei, [item])
    api = api_client(annotator)
    assert api.get(f"/api/suggestions/?sentence={item.pk}").json()["results"] == []
    assert len(api.get(f"/api/suggestions/?sentence={other.pk}").json()["results"]) == 1
    suggestion = item.suggestions.get()
    assert api.get(f"/api/suggestions/{suggestion.pk}/").status_code == 404
