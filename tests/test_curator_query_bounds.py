"""Every page and endpoint a curator or admin opens takes the same number of queries at two
corpus sizes: none of them counts or reads labels one by one."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from annotate import summary
from annotate.models import Adjudication, Annotation, Sentence, Target
from tests.factories import ArticleFactory, SentenceFactory, SuggestionFactory, UserFactory, active_version

pytestmark = pytest.mark.django_db

LABELS = ["pro", "contra", "neutral", "pro", "skip"]


#: What a retrain stores: both scores with how they were computed (the card and the models page).
SCORED = {
    "accuracy": 0.7,
    "macro_f1": 0.6,
    "f_avg": 0.55,
    "cv": {"grouped": True, "folds": 5, "groups": 4, "n": 30, "seed": 0, "how": "grouped by article"},
    "evaluation_slice": {
        "n": 12,
        "scored": True,
        "f_avg": 0.5,
        "macro_f1": 0.5,
        "accuracy": 0.6,
        "share": 0.1,
    },
}


def build(target, *, articles: int, per_article: int) -> None:
    """Two annotators on every sentence (one in five disagrees), adjudications, suggestions;
    each odd article reprints the first sentence of the one before (a duplicate group)."""
    ann, bob = UserFactory(role="annotator"), UserFactory(role="annotator")
    curator = UserFactory(role="curator")
    version = active_version(target)
    version.metrics = SCORED
    version.save(update_fields=["metrics"])
    rows, n, reprinted = [], 0, None
    for a in range(articles):
        article = ArticleFactory(source=f"Outlet {a % 3}")
        for position in range(per_article):
            sentence = SentenceFactory(article=article, position=position)
            if position == 0 and a % 2:
                Sentence.objects.filter(pk__in=[reprinted, sentence.pk]).update(duplicate_group=reprinted)
            elif position == 0:
                reprinted = sentence.pk
            SuggestionFactory(target=target, sentence=sentence, model_version=version)
            label = LABELS[n % 4]
            other = LABELS[(n + 1) % 4] if n % 5 == 0 else label
            rows += [
                Annotation(annotator=ann, sentence=sentence, target=target, label=label, spent_ms=900),
                Annotation(annotator=bob, sentence=sentence, target=target, label=other, spent_ms=1200),
            ]
            if n % 10 == 0:
                Adjudication.objects.create(sentence=sentence, target=target, label="pro", curator=curator)
            n += 1
    Annotation.objects.bulk_create(rows)
    target.refresh_from_db()
    summary.compute(target=target)  # as the background task leaves it


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role, is_staff=role == "admin"))
    return client


SIZES = [pytest.param((2, 3), id="6-sentences"), pytest.param((8, 12), id="96-sentences")]


@pytest.fixture(params=SIZES)
def corpus(request, huawei):
    articles, per_article = request.param
    build(huawei, articles=articles, per_article=per_article)
    return huawei


# The header's target picker reads the targets in use (one query on every per-target page)
# and the guidelines their target's examples (one on the label and adjudication pages).
@pytest.mark.parametrize(
    ("role", "name", "query", "bound"),
    [
        ("curator", "dashboard", "", 21),  # 18 + the evaluation table (tallies, answers, items)
        ("curator", "dashboard-summary", "?changes=-2", 6),
        ("curator", "adjudicate", "", 19),
        ("admin", "models", "", 9),
        # 17, and one when the evaluation mix's hashed place (ids decide it) finds no item.
        ("annotator", "label", "", 18),
        ("curator", "label", "", 11),
        ("admin", "label", "", 12),
        ("curator", "api:target-agreement", "", 10),
        ("admin", "export-card", "?level=gold&split=1", 7),
        ("admin", "export-card", "?level=annotations", 7),
        ("admin", "export-card", "?level=annotations&names=1&format=csv", 8),
        # The card's queries, and the navigation's groups, first target and target picker.
        ("admin", "export-form", "", 10),
        ("admin", "export-form", "?level=annotations&names=on&split=on&seed=5&format=csv", 12),
        ("admin", "export-form", "?level=gold&split=on&seed=13", 10),
    ],
)
def test_each_page_takes_a_bounded_number_of_queries_at_any_size(
    corpus, role, name, query, bound, django_assert_max_num_queries
):
    client = client_for(role)
    url = reverse(name, args=[corpus.pk]) + query
    client.get(url)  # the first request of a session writes it
    with django_assert_max_num_queries(bound):
        response = client.get(url)
    assert response.status_code in (200, 204), response.content[:500]
    if name in ("export-card", "export-form"):  # the card holds every figure it has, at either size
        card = response.content.decode()
        pairs = Sentence.objects.filter(duplicate_group__isnull=False).count() // 2
        assert f"- **Found**: {pairs} group{'s' if pairs != 1 else ''} of two or more sentences" in card
        assert "- **Score** on 12 sentences: F_avg 0.500" in card
        assert "95% bootstrap confidence interval" in card


@pytest.mark.parametrize(
    ("query", "bound"),
    [("?level=gold&split=on&seed=13", 7), ("?level=annotations&names=on&split=on&seed=5", 9)],
)
def test_the_export_forms_card_preview_takes_the_cards_queries_at_any_size(
    corpus, query, bound, django_assert_max_num_queries
):
    client = client_for("admin")
    url = reverse("export-form", args=[corpus.pk]) + query
    client.get(url)
    with django_assert_max_num_queries(bound):
        response = client.get(url, HTTP_HX_REQUEST="true")
    assert "Card updated" in response.content.decode()


def test_each_settle_key_takes_a_bounded_number_of_queries_at_any_size(corpus, django_assert_max_num_queries):
    from annotate.adjudication import disagreements
    from annotate.retrain_policy import gold_changes

    client = client_for("curator")
    client.get(reverse("adjudicate", args=[corpus.pk]))
    # As if just retrained: the settle that crosses the policy's line and queues a retrain
    # costs 8 queries more, once a retrain (tests/test_retrain_policy.py pins it).
    Target.objects.filter(pk=corpus.pk).update(retrain_gold_mark=gold_changes(target_id=corpus.pk))
    for current in disagreements(target=corpus, limit=2):
        # 22, and background retraining's gold counter read after the commit.
        with django_assert_max_num_queries(23):
            response = client.post(
                reverse("adjudicate-settle", args=[corpus.pk]),
                {"sentence": current.sentence_id, "label": "neutral"},
                HTTP_HX_REQUEST="true",
            )
        assert response.status_code == 200


def test_each_undo_key_takes_a_bounded_number_of_queries_at_any_size(corpus, django_assert_max_num_queries):
    from annotate.adjudication import adjudication_record, disagreements

    client = client_for("curator")
    client.get(reverse("adjudicate", args=[corpus.pk]))
    curator = UserFactory(role="curator")
    for current in disagreements(target=corpus, limit=2):
        sentence = Sentence.objects.get(pk=current.sentence_id)
        for label in ("pro", "contra", "neutral"):  # a history longer than the page shows
            adjudication_record(curator=curator, sentence=sentence, target=corpus, label=label)
        with django_assert_max_num_queries(23):
            response = client.post(
                reverse("adjudicate-undo", args=[corpus.pk]),
                {"sentence": current.sentence_id},
                HTTP_HX_REQUEST="true",
            )
        assert response.status_code == 200


def test_the_agreement_command_takes_a_bounded_number_of_queries_at_any_size(
    corpus, django_assert_max_num_queries
):
    with django_assert_max_num_queries(9):
        call_command("agreement", "--target", corpus.name, stdout=io.StringIO())
