"""Two annotators who give the same label to every sentence they share agree perfectly:
their Cohen's kappa is 1.0, even when they used one label only, where the formula is 0/0
(scikit-learn's cohen_kappa_score gives NaN there) and would otherwise read as undefined."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from annotate.agreement import Vote, cohen_pairs, figures, kappa_from_contingency
from annotate.agreement_data import agreement_set
from annotate.queue.record import annotation_record
from tests.factories import SentenceFactory, api_client


def test_identical_labels_of_one_category_give_a_kappa_of_one():
    assert kappa_from_contingency({("pro", "pro"): 4}) == 1.0


def test_identical_labels_of_several_categories_give_a_kappa_of_one():
    assert kappa_from_contingency({("pro", "pro"): 2, ("contra", "contra"): 1}) == 1.0


def test_one_shared_sentence_with_the_same_label_gives_one_and_with_different_labels_none():
    """Agreement on one sentence is still agreement; one disagreement is too little to say
    how far from chance the pair is."""
    assert kappa_from_contingency({("neutral", "neutral"): 1}) == 1.0
    assert kappa_from_contingency({("pro", "contra"): 1}) is None


def test_vote_by_vote_identical_pairs_give_one():
    votes = [Vote(s, a, "pro") for s in range(3) for a in (1, 2)]
    [pair] = cohen_pairs(votes)
    assert (pair.kappa, pair.sentences) == (1.0, 3)


def test_with_one_category_alpha_is_one_and_fleiss_is_undefined():
    """Alpha takes 0/0 as perfect like Cohen's kappa; Fleiss' kappa stays undefined (None,
    shown as —) when chance agreement is 1, as statsmodels' fleiss_kappa computes it."""
    result = figures([Vote(s, a, "pro") for s in range(3) for a in (1, 2)], overlap=2)
    assert (result.alpha, result.percent, result.fleiss, result.fleiss_sentences) == (1.0, 1.0, None, 3)


@pytest.fixture
def same_labels(huawei, annotator, other_annotator):
    for _ in range(3):
        sentence = SentenceFactory()
        for who in (annotator, other_annotator):
            annotation_record(annotator=who, sentence=sentence, target=huawei, label="contra")


@pytest.mark.django_db
def test_the_targets_pair_kappa_is_one_from_the_database_counts(huawei, same_labels):
    [pair] = agreement_set(target=huawei).overall.pairs
    assert (pair.kappa, pair.sentences) == (1.0, 3)


@pytest.mark.django_db
def test_the_api_gives_the_pair_a_kappa_of_one(huawei, same_labels, curator, annotator, other_annotator):
    body = api_client(curator).get(f"/api/targets/{huawei.id}/agreement/").json()
    assert body["overall"]["pairs"] == [
        {"annotator_a": annotator.id, "annotator_b": other_annotator.id, "kappa": 1.0, "sentences": 3}
    ]


@pytest.mark.django_db
def test_the_agreement_command_prints_a_kappa_of_one(huawei, same_labels, capsys):
    call_command("agreement", "--target", "Huawei")
    assert "ann and bob: 1.000 on 3 sentences" in capsys.readouterr().out
    call_command("agreement", "--target", "Huawei", "--json")
    [pair] = json.loads(capsys.readouterr().out)["overall"]["pairs"]
    assert pair["kappa"] == 1.0
