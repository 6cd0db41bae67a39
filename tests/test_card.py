"""The labelling card's one read: the sentence, its neighbours, article, suggestion, progress."""

from __future__ import annotations

import pytest

from annotate.queue.card import read_card
from annotate.queue.record import annotation_record
from annotate.suggestions import suggestion_to_show
from tests.factories import ArticleFactory, SentenceFactory, SuggestionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    article = ArticleFactory(title="Huawei and 5G", source="Example News")
    return [SentenceFactory(article=article, position=i) for i in range(6)]


def test_the_card_holds_the_sentence_two_neighbours_each_side_article_and_suggestion_in_one_query(
    annotator, huawei, article, django_assert_num_queries
):
    SuggestionFactory(sentence=article[3], target=huawei, label="contra", confidence=0.75)
    SuggestionFactory(sentence=article[2], target=huawei, label="pro")  # a neighbour's: not shown
    huawei.refresh_from_db()
    read_card(annotator=annotator, target=huawei, sentence_id=article[0].id)  # caches the progress share

    with django_assert_num_queries(1):
        card = read_card(annotator=annotator, target=huawei, sentence_id=article[3].id)
        title = card.sentence.article.title

    assert card.sentence == article[3] and card.sentence.text == article[3].text
    assert (title, card.sentence.article.source) == ("Huawei and 5G", "Example News")
    assert card.before == article[1:3] and card.after == article[4:6]
    suggestion = suggestion_to_show(target=huawei, sentence=card.sentence)
    assert (suggestion.label, suggestion.confidence) == ("contra", 0.75)


def test_the_card_at_an_articles_edges_has_fewer_neighbours(annotator, huawei, article):
    first = read_card(annotator=annotator, target=huawei, sentence_id=article[0].id)
    assert (first.before, first.after) == ([], article[1:3])
    last = read_card(annotator=annotator, target=huawei, sentence_id=article[5].id)
    assert (last.before, last.after) == (article[3:5], [])


def test_the_card_counts_the_annotators_own_labels_done_and_today(
    annotator, other_annotator, huawei, article
):
    for sentence in article[:3]:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    annotation_record(annotator=other_annotator, sentence=article[3], target=huawei, label="pro")

    card = read_card(annotator=annotator, target=huawei, sentence_id=article[4].id)

    assert (card.progress.done, card.progress.today) == (3, 3)


def test_the_card_without_a_sentence_or_with_a_deleted_one_still_shows_progress(annotator, huawei, article):
    annotation_record(annotator=annotator, sentence=article[0], target=huawei, label="pro")
    empty = read_card(annotator=annotator, target=huawei, sentence_id=None)
    assert (empty.sentence, empty.progress.done) == (None, 1)
    gone = article[5].id
    article[5].delete()
    assert read_card(annotator=annotator, target=huawei, sentence_id=gone).sentence is None


def test_a_sentence_in_the_control_set_is_read_without_its_suggestion(annotator, huawei, article):
    huawei.control_share = 1.0  # every sentence in the control set
    huawei.save()
    SuggestionFactory(sentence=article[3], target=huawei)
    huawei.refresh_from_db()
    huawei.control_share = 1.0
    card = read_card(annotator=annotator, target=huawei, sentence_id=article[3].id)
    assert suggestion_to_show(target=huawei, sentence=card.sentence) is None
