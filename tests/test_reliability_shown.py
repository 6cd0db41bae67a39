"""Alpha's interval, alpha per label and with each annotator left out, where curators read
them: the dashboard, `manage.py agreement` (text and JSON) and the agreement API."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from annotate.agreement_data import agreement_set
from annotate.models import TargetSummary
from annotate.queue.record import annotation_record
from annotate.summary import compute, summary_for
from tests.factories import ArticleFactory, SentenceFactory, UserFactory, api_client

pytestmark = pytest.mark.django_db

# Three annotators on eight sentences; carol disagrees with the other two on four of them.
LABELS = {
    "ann": ["pro", "pro", "contra", "contra", "neutral", "neutral", "pro", "contra"],
    "bob": ["pro", "pro", "contra", "contra", "neutral", "neutral", "pro", "contra"],
    "carol": ["pro", "contra", "contra", "neutral", "neutral", "pro", "pro", "neutral"],
}


@pytest.fixture
def labelled(huawei, curator):
    huawei.overlap = 3
    huawei.save(update_fields=["overlap"])
    article = ArticleFactory(source="Daily")
    sentences = [SentenceFactory(article=article, position=i) for i in range(8)]
    people = {name: UserFactory(username=name) for name in LABELS}
    for name, labels in LABELS.items():
        for sentence, label in zip(sentences, labels, strict=True):
            annotation_record(annotator=people[name], sentence=sentence, target=huawei, label=label)
    return people


def test_the_dashboard_shows_alpha_with_its_interval_per_label_and_without_each_annotator(
    huawei, labelled, curator
):
    client = Client()
    client.force_login(curator)
    html = client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    found = agreement_set(target=huawei)
    overall = found.overall
    assert f"95 % CI {overall.alpha_low:.3f}–{overall.alpha_high:.3f}" in html
    assert "1000 resamples" in html
    assert "α per label (that label against the rest)" in html
    for row in found.reliability.per_label:
        assert f'<th scope="row">{row.label}</th><td class="num">{row.alpha:.3f}</td>' in html
    carol = next(r for r in found.reliability.left_out if r.annotator == labelled["carol"].pk)
    assert carol.alpha == 1.0  # ann and bob always agree
    assert (
        f'<th scope="row">carol</th><td class="num">1.000</td><td class="num">+{1 - overall.alpha:.3f}</td>'
        in html
    )
    assert '<th scope="row">ann</th>' in html and '<th scope="row">bob</th>' in html


def test_the_agreement_command_prints_the_interval_and_both_tables(huawei, labelled, capsys):
    call_command("agreement", "--target", "Huawei")
    out = capsys.readouterr().out
    overall = agreement_set(target=huawei).overall
    assert f"{overall.alpha_low:.3f}–{overall.alpha_high:.3f}" in out
    assert "Alpha per label (one against the rest)" in out
    assert "Alpha with each annotator left out" in out
    assert "carol" in out and "1.000  on 8 sentences, 16 labels (8 of theirs left out)" in out
    call_command("agreement", "--target", "Huawei", "--articles", "0")  # no by-article table
    assert "Alpha with each annotator left out" in capsys.readouterr().out
    call_command("agreement", "--target", "Huawei", "--json")
    payload = json.loads(capsys.readouterr().out)
    assert payload["overall"]["alpha_replicates"] == 1000
    assert payload["overall"]["alpha_low"] == pytest.approx(overall.alpha_low)
    assert [row["label"] for row in payload["reliability"]["per_label"]] == ["pro", "contra", "neutral"]
    assert {row["annotator"] for row in payload["reliability"]["left_out"]} == {
        u.pk for u in labelled.values()
    }
    assert payload["reliability"]["seed"] == 14


def test_the_agreement_api_gives_the_interval_and_the_reliability_tables(huawei, labelled, curator):
    body = api_client(curator).get(f"/api/targets/{huawei.id}/agreement/").json()
    found = agreement_set(target=huawei)
    assert body["overall"]["alpha_low"] == pytest.approx(found.overall.alpha_low)
    assert body["overall"]["alpha_high"] == pytest.approx(found.overall.alpha_high)
    assert body["overall"]["alpha_replicates"] == 1000
    assert body["by_source"]["Daily"]["alpha_replicates"] == 1000
    by_article = next(iter(body["by_article"].values()))
    assert (by_article["alpha_low"], by_article["alpha_replicates"]) == (None, 0)
    reliability = body["reliability"]
    assert reliability["per_label"][0] == {
        "label": "pro",
        "alpha": pytest.approx(found.reliability.per_label[0].alpha),
        "sentences": 8,
        "labels": 9,  # three pro labels each
    }
    assert len(reliability["left_out"]) == 3 and reliability["left_out_limit"] == 200
    assert reliability["replicates"] == 1000 and "percentile bootstrap" in reliability["method"]


def test_a_summary_stored_before_the_reliability_figures_is_read_and_then_recomputed(huawei, labelled):
    stored = compute(target=huawei)
    old = dict(stored.figures)
    del old["reliability"]
    old["agreement"] = {
        k: v for k, v in old["agreement"].items() if k not in ("alpha_low", "alpha_high", "alpha_replicates")
    }
    TargetSummary.objects.filter(pk=stored.pk).update(figures=old)
    summary = summary_for(target=huawei, recompute=False)
    assert summary is not None and summary.reliability is None and summary.agreement.alpha_low is None
    summary = summary_for(target=huawei)  # a small target: recomputed in the request
    assert summary is not None and summary.reliability is not None
    assert summary.agreement.alpha_replicates == 1000
