from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from annotate.adjudication import adjudication_record, disagreements
from annotate.gold import Method, gold_labels
from annotate.models import Adjudication, SentenceTally
from annotate.queue.record import annotation_record
from tests.factories import SentenceFactory, SuggestionFactory

pytestmark = pytest.mark.django_db


def label(sentence, target, votes):
    for annotator, value in votes:
        annotation_record(annotator=annotator, sentence=sentence, target=target, label=value)


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


@pytest.fixture
def disputed(huawei, annotator, other_annotator, curator):
    """Three sentences: one agreed, two disputed (the second worse: three-way split)."""
    huawei.overlap = 3  # the three-way split has three stance labels
    huawei.save()
    agreed, split, three_way = (SentenceFactory(text=f"Sentence {i}") for i in range(3))
    third = curator  # curators may label too
    label(agreed, huawei, [(annotator, "pro"), (other_annotator, "pro")])
    label(split, huawei, [(annotator, "pro"), (other_annotator, "contra")])
    label(three_way, huawei, [(annotator, "pro"), (other_annotator, "contra"), (third, "neutral")])
    return agreed, split, three_way


def test_disagreements_list_the_worst_first_and_leave_out_agreed_and_settled(huawei, disputed, curator):
    _, split, three_way = disputed
    assert [d.sentence_id for d in disagreements(target=huawei, limit=10)] == [three_way.id, split.id]
    adjudication_record(curator=curator, sentence=three_way, target=huawei, label="neutral")
    assert [d.sentence_id for d in disagreements(target=huawei, limit=10)] == [split.id]
    settled = SentenceTally.objects.filter(target=huawei, agreement__lt=1).exclude(adjudicated="")
    assert [t.sentence_id for t in settled] == [three_way.id]


def test_an_adjudication_sets_the_gold_label_and_can_be_changed(huawei, disputed, curator, admin_user):
    _, split, _ = disputed
    assert {g.sentence_id: g.method for g in gold_labels(target=huawei)}[split.id] == Method.UNRESOLVED
    adjudication_record(curator=curator, sentence=split, target=huawei, label="contra")
    adjudication_record(curator=admin_user, sentence=split, target=huawei, label="pro")
    decided = Adjudication.objects.get()
    assert (decided.label, decided.curator) == ("pro", admin_user)
    gold = {g.sentence_id: g for g in gold_labels(target=huawei)}[split.id]
    assert (gold.label, gold.method, gold.votes) == ("pro", Method.ADJUDICATED, 2)


def test_the_curator_page_shows_names_labels_and_the_model_suggestion(curator_client, huawei, disputed):
    _, _, three_way = disputed
    SuggestionFactory(sentence=three_way, target=huawei, label="contra", confidence=0.61)
    html = curator_client.get(reverse("adjudicate", args=[huawei.id])).content.decode()
    assert "Sentence 2" in html
    for name in ("ann", "bob", "cur"):
        assert f'<span class="who">{name}</span>' in html
    assert "61%" in html
    assert "<strong>2</strong> disagreements to settle" in html


def test_one_key_settles_and_returns_the_next_disagreement(curator_client, huawei, disputed, curator):
    _, split, three_way = disputed
    response = curator_client.post(
        reverse("adjudicate-settle", args=[huawei.id]),
        {"sentence": three_way.id, "label": "neutral"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert f'data-sentence-id="{split.id}"' in html
    assert 'id="settled-panel" class="history" aria-labelledby="settled-heading" hx-swap-oob="true"' in html
    assert Adjudication.objects.get().curator == curator


def test_without_htmx_settling_redirects_back(curator_client, huawei, disputed):
    response = curator_client.post(
        reverse("adjudicate-settle", args=[huawei.id]), {"sentence": disputed[1].id, "label": "pro"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("adjudicate", args=[huawei.id])


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"label": "pro"}, 400),
        ({"sentence": "x", "label": "pro"}, 400),
        ({"sentence": 1, "label": "skip"}, 400),
    ],
)
def test_bad_settlements_are_refused_and_change_nothing(curator_client, huawei, disputed, data, status):
    response = curator_client.post(reverse("adjudicate-settle", args=[huawei.id]), data)
    assert response.status_code == status
    assert not Adjudication.objects.exists()


def test_an_unknown_sentence_is_a_404(curator_client, huawei):
    response = curator_client.post(
        reverse("adjudicate-settle", args=[huawei.id]), {"sentence": 999999, "label": "pro"}
    )
    assert response.status_code == 404


def test_annotators_cannot_see_or_settle_disagreements(annotator_client, huawei, disputed):
    assert annotator_client.get(reverse("adjudicate", args=[huawei.id])).status_code == 403
    response = annotator_client.post(
        reverse("adjudicate-settle", args=[huawei.id]), {"sentence": disputed[1].id, "label": "pro"}
    )
    assert response.status_code == 403
    assert not Adjudication.objects.exists()


def test_the_agreement_command_prints_the_dashboard_figures(huawei, disputed, capsys):
    call_command("agreement", "--target", "Huawei")
    out = capsys.readouterr().out
    assert "Overall" in out and "By source" in out and "With and without a suggestion shown" in out
    assert "ann and bob" in out
    call_command("agreement", "--target", "Huawei", "--json")
    payload = json.loads(capsys.readouterr().out)
    assert payload["overall"]["alpha_sentences"] == 3
    assert payload["overall"]["labels"] == 7


def test_the_agreement_command_refuses_an_unknown_target():
    with pytest.raises(CommandError, match="No target named 'Nope'"):
        call_command("agreement", "--target", "Nope")
