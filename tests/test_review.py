"""The adjudication page's review orders (annotate/review.py): disagreements, lowest
posterior, suspicious labels and flagged, each read through an index in a bounded number
of queries."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate import summary
from annotate.adjudication import adjudication_record
from annotate.flags import flag_resolve
from annotate.models import Adjudication, Annotation, CrossValidatedPrediction, Flag, SentencePosterior
from annotate.queue.record import annotation_record
from annotate.returns import label_return
from annotate.review import SUSPICIOUS_CONFIDENCE, by_flag, by_posterior, by_suspicion
from tests.factories import (
    ArticleFactory,
    CrossValidatedPredictionFactory,
    ModelVersionFactory,
    SentenceFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def page(client, target, order=""):
    query = f"?order={order}" if order else ""
    return client.get(reverse("adjudicate", args=[target.pk]) + query)


def current(html: str) -> int:
    marker = 'data-sentence-id="'
    start = html.index(marker) + len(marker)
    return int(html[start : html.index('"', start)])


def vote(target, sentence, *labels, annotators=None):
    annotators = annotators or [UserFactory(role="annotator") for _ in labels]
    for annotator, label in zip(annotators, labels, strict=True):
        annotation_record(annotator=annotator, sentence=sentence, target=target, label=label)
    return annotators


# Lowest posterior


def test_the_summary_stores_each_unsettled_sentences_posterior_and_the_order_reads_the_lowest_first(
    huawei, curator, curator_client
):
    huawei.overlap = 3
    huawei.save()
    team = [UserFactory(role="annotator") for _ in range(3)]
    agreed = [SentenceFactory() for _ in range(8)]  # from which the model learns the team is good
    for i, sentence in enumerate(agreed):
        label = ("pro", "contra", "neutral")[i % 3]
        vote(huawei, sentence, label, label, label, annotators=team)
    split, three_way, settled = SentenceFactory(), SentenceFactory(), SentenceFactory()
    vote(huawei, split, "pro", "pro", "contra", annotators=team)
    vote(huawei, three_way, "pro", "contra", "neutral", annotators=team)
    vote(huawei, settled, "pro", "contra", "contra", annotators=team)
    adjudication_record(curator=curator, sentence=settled, target=huawei, label="pro")
    summary.compute(target=huawei)
    stored = dict(SentencePosterior.objects.filter(target=huawei).values_list("sentence_id", "posterior"))
    assert set(stored) == {
        *(s.pk for s in agreed),
        split.pk,
        three_way.pk,
    }  # the settled one is held at its gold
    # Lowest first, ties by sentence: the three-way split is the least sure of all.
    lowest_first = sorted(stored, key=lambda sentence_id: (stored[sentence_id], sentence_id))
    assert lowest_first[0] == three_way.pk and stored[three_way.pk] < stored[split.pk]
    assert [i.sentence_id for i in by_posterior(target=huawei, limit=20)] == lowest_first
    html = page(curator_client, huawei, "posterior").content.decode()
    assert current(html) == three_way.pk
    assert 'aria-current="page">Lowest posterior' in html
    # Settled after the summary: it leaves the order at once, not at the next summary.
    adjudication_record(curator=curator, sentence=three_way, target=huawei, label="neutral")
    assert [i.sentence_id for i in by_posterior(target=huawei, limit=20)] == lowest_first[1:]


def test_only_the_lowest_posteriors_are_stored_so_a_summary_writes_a_bounded_number_of_rows(
    huawei, monkeypatch
):
    monkeypatch.setattr("annotate.review.POSTERIORS_KEPT", 2)
    huawei.overlap = 3
    huawei.save()
    team = [UserFactory(role="annotator") for _ in range(3)]
    agreed = [SentenceFactory() for _ in range(6)]
    for i, sentence in enumerate(agreed):
        label = ("pro", "contra", "neutral")[i % 3]
        vote(huawei, sentence, label, label, label, annotators=team)
    split, three_way = SentenceFactory(), SentenceFactory()
    vote(huawei, split, "pro", "pro", "contra", annotators=team)
    vote(huawei, three_way, "pro", "contra", "neutral", annotators=team)

    summary.compute(target=huawei)

    stored = SentencePosterior.objects.filter(target=huawei).order_by("posterior")
    assert [p.sentence_id for p in stored] == [three_way.pk, split.pk]


def test_a_settle_in_an_order_answers_with_the_next_card_of_that_order(huawei, curator_client):
    huawei.overlap = 3
    huawei.save()
    low, high = SentenceFactory(), SentenceFactory()
    vote(huawei, low, "pro", "contra", "neutral")
    vote(huawei, high, "pro", "pro", "contra")
    summary.compute(target=huawei)
    response = curator_client.post(
        reverse("adjudicate-settle", args=[huawei.pk]),
        {"sentence": low.pk, "label": "pro", "order": "posterior"},
        **HTMX,
    )
    html = response.content.decode()
    assert current(html) == high.pk
    assert 'name="order" value="posterior"' in html


# Suspicious labels


def test_a_label_the_cross_validation_contradicts_with_high_confidence_is_suspicious(huawei, curator):
    huawei.overlap = 3
    huawei.save()
    sure, less_sure, borderline, agreeing, settled, returned = (SentenceFactory() for _ in range(6))
    for sentence, confidence in (
        (sure, 0.97),
        (less_sure, 0.85),
        (borderline, SUSPICIOUS_CONFIDENCE - 0.01),
        (agreeing, 0.99),
        (settled, 0.99),
        (returned, 0.99),
    ):
        CrossValidatedPredictionFactory(target=huawei, sentence=sentence, label="pro", confidence=confidence)
    _, bob = vote(huawei, sure, "pro", "contra")
    vote(huawei, less_sure, "neutral", "pro")
    vote(huawei, borderline, "contra", "contra")
    vote(huawei, agreeing, "pro", "pro")
    vote(huawei, settled, "contra", "pro")
    adjudication_record(curator=curator, sentence=settled, target=huawei, label="pro")
    (carol,) = vote(huawei, returned, "contra")
    label_return(
        curator=curator,
        target=huawei,
        annotation_id=Annotation.objects.get(annotator=carol, sentence=returned).pk,
        comment="really?",
    )
    items = by_suspicion(target=huawei, limit=10)
    assert [i.sentence_id for i in items] == [sure.pk, less_sure.pk]
    assert (items[0].model_label, items[0].model_confidence, items[0].suspicious) == (
        "pro",
        0.97,
        [(bob.pk, "contra")],
    )


def test_the_suspicious_order_never_reads_the_suggestions_whose_model_trained_on_the_labels(huawei):
    sentence = SentenceFactory()
    SuggestionFactory(target=huawei, sentence=sentence, label="pro", confidence=0.99)
    vote(huawei, sentence, "contra")
    assert by_suspicion(target=huawei, limit=10) == []


def test_only_the_active_versions_out_of_fold_predictions_count(huawei):
    sentence = SentenceFactory()
    vote(huawei, sentence, "contra")
    CrossValidatedPredictionFactory(target=huawei, sentence=SentenceFactory(), label="pro")
    older = ModelVersionFactory(target=huawei)
    CrossValidatedPrediction.objects.create(
        model_version=older, sentence=sentence, label="pro", confidence=0.99
    )
    assert by_suspicion(target=huawei, limit=10) == []


def test_the_suspicious_order_says_which_versions_cross_validation_it_rests_on(huawei, curator_client):
    sentence = SentenceFactory()
    CrossValidatedPredictionFactory(target=huawei, sentence=sentence, label="pro", confidence=0.95)
    vote(huawei, sentence, "contra")
    version = huawei.active_version
    version.train_size, version.metrics = 120, {**version.metrics, "folds": 5}
    version.save()
    html = page(curator_client, huawei, "suspicious").content.decode()
    assert current(html) == sentence.pk
    assert f"cross-validated predictions of v{version.pk} (5 folds, trained on 120 labels" in html
    assert "sentences labelled since then" in html
    assert "Cross-validated, the model predicts" in html and "95% confidence" in html
    assert "contradicted" in html


def test_a_version_trained_before_out_of_fold_predictions_were_stored_says_to_retrain(huawei, curator_client):
    sentence = SentenceFactory()
    SuggestionFactory(target=huawei, sentence=sentence, label="pro", confidence=0.95)
    vote(huawei, sentence, "contra")
    html = page(curator_client, huawei, "suspicious").content.decode()
    assert 'id="current-sentence"' not in html
    assert f"v{huawei.active_version_id}, the active version, was trained before" in html
    assert "retrain to fill this order" in html


# Flagged


def test_open_flags_come_first_oldest_first_with_reason_and_comment_then_resolved_ones(
    huawei, curator, curator_client, annotator
):
    first, second, resolved = (SentenceFactory() for _ in range(3))
    flags = [
        Flag.objects.create(annotator=annotator, sentence=s, target=huawei, reason=r, comment=c)
        for s, r, c in ((resolved, "unsure", ""), (first, "bad_split", "cut at Mr."), (second, "discuss", ""))
    ]
    flag_resolve(curator=curator, target=huawei, flag_id=flags[0].pk)
    assert [i.sentence_id for i in by_flag(target=huawei, limit=10)] == [first.pk, second.pk, resolved.pk]
    html = page(curator_client, huawei, "flagged").content.decode()
    assert current(html) == first.pk
    assert "Bad sentence split" in html and "cut at Mr." in html
    assert "<strong>2</strong> open flags" in html
    response = curator_client.post(
        reverse("adjudicate-flag-resolve", args=[huawei.pk]),
        {"flag": flags[1].pk, "order": "flagged"},
        **HTMX,
    )
    assert current(response.content.decode()) == second.pk
    assert Flag.objects.get(pk=flags[1].pk).resolved_by == curator


def test_with_no_open_flag_the_flagged_order_lists_the_resolved_ones(
    huawei, curator, curator_client, annotator
):
    sentence = SentenceFactory()
    flag = Flag.objects.create(annotator=annotator, sentence=sentence, target=huawei, reason="unsure")
    flag_resolve(curator=curator, target=huawei, flag_id=flag.pk)
    html = page(curator_client, huawei, "flagged").content.decode()
    assert "No open flags" in html and "Recently resolved flags" in html
    assert 'id="current-sentence"' not in html


def test_only_curators_resolve_flags_and_another_targets_flag_is_404(
    huawei, annotator, annotator_client, curator_client
):
    from tests.factories import TargetFactory

    other = TargetFactory(name="Other")
    flag = Flag.objects.create(annotator=annotator, sentence=SentenceFactory(), target=other, reason="unsure")
    url = reverse("adjudicate-flag-resolve", args=[huawei.pk])
    assert annotator_client.post(url, {"flag": flag.pk}).status_code == 403
    assert curator_client.post(url, {"flag": flag.pk}).status_code == 404
    assert curator_client.post(url, {"flag": "x"}).status_code == 400
    assert Flag.objects.get().resolved_at is None


# Bad input


def test_an_unknown_order_is_400_and_a_post_with_one_writes_nothing(huawei, curator_client):
    sentence = SentenceFactory()
    vote(huawei, sentence, "pro", "contra")
    response = page(curator_client, huawei, "loudest")
    assert response.status_code == 400 and "disagreements" in response.content.decode()
    response = curator_client.post(
        reverse("adjudicate-settle", args=[huawei.pk]),
        {"sentence": sentence.pk, "label": "pro", "order": "x"},
    )
    assert response.status_code == 400
    assert not Adjudication.objects.exists()


# Query bounds


def build(target, *, sentences: int) -> None:
    """Disagreements, suggestions and out-of-fold predictions that contradict labels, flags
    and a return, then the summary."""
    target.overlap = 3
    target.save()
    ann, bob, carol = (UserFactory(role="annotator") for _ in range(3))
    curator = UserFactory(role="curator")
    article = ArticleFactory()
    rows, flags, predictions = [], [], []
    for i in range(sentences):
        sentence = SentenceFactory(article=article, position=i)
        SuggestionFactory(target=target, sentence=sentence, label="pro", confidence=0.8 + (i % 20) / 100)
        predictions.append(
            CrossValidatedPrediction(
                model_version_id=target.active_version_id,
                sentence=sentence,
                label="pro",
                confidence=0.8 + (i % 20) / 100,
            )
        )
        labels = ["pro", "contra", "neutral"] if i % 2 else ["pro", "pro", "contra"]
        rows += [
            Annotation(annotator=who, sentence=sentence, target=target, label=label)
            for who, label in zip((ann, bob, carol), labels, strict=True)
        ]
        flags.append(Flag(annotator=ann, sentence=sentence, target=target, reason="unsure", comment=f"c{i}"))
        if i % 3 == 0:
            flags[-1].resolved_at, flags[-1].resolved_by = timezone.now(), curator
    Annotation.objects.bulk_create(rows)
    Flag.objects.bulk_create(flags)
    CrossValidatedPrediction.objects.bulk_create(predictions)
    first = Annotation.objects.filter(target=target).order_by("id").first()
    label_return(curator=curator, target=target, annotation_id=first.pk, comment="look")
    summary.compute(target=target)


#: Each order's page: the session, user and role, the target, the order's list and its
#: tallies (disagreements: one, the tallies themselves), the texts of the next ones, its
#: count or its summary's time, the card's sentence, neighbours, votes with names,
#: suggestion, gold history, returns and flags, the settled panel (two), the navigation and
#: the guidelines' examples. The flagged order reads the resolved flags too while the open
#: ones do not fill the list; suspicious labels read the sentences' labels and the version
#: whose cross-validation the order rests on.
PAGE_QUERIES = {"disagreements": 19, "posterior": 20, "suspicious": 21, "flagged": 21}
#: The card alone (an htmx GET): no settled panel, navigation or guidelines.
CARD_QUERIES = {order: n - 5 for order, n in PAGE_QUERIES.items()}


@pytest.mark.parametrize("order", list(PAGE_QUERIES))
@pytest.mark.parametrize("sentences", [6, 60])
def test_each_order_takes_a_bounded_number_of_queries_at_any_size(
    huawei, curator_client, order, sentences, django_assert_max_num_queries
):
    build(huawei, sentences=sentences)
    url = reverse("adjudicate", args=[huawei.pk]) + f"?order={order}"
    curator_client.get(url)
    with django_assert_max_num_queries(PAGE_QUERIES[order]):
        response = curator_client.get(url)
    assert response.status_code == 200
    assert 'id="current-sentence"' in response.content.decode()
    with django_assert_max_num_queries(CARD_QUERIES[order]):
        response = curator_client.get(url, **HTMX)  # the card alone
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("read", "index"),
    [
        (by_posterior, "posterior_lowest"),
        (by_suspicion, "cross_validated_confident"),
        (by_flag, "flag_open"),
    ],
    ids=["posterior", "suspicious", "flagged"],
)
def test_each_orders_list_walks_its_index_in_order_without_a_sort(huawei, read, index):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plan names the index; PostgreSQL's planner picks by table size")
    build(huawei, sentences=6)
    with CaptureQueriesContext(connection) as captured:
        read(target=huawei, limit=21)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + captured.captured_queries[0]["sql"])
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert index in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
