"""The stored summary: fresh when nothing changed, stale with the changes it misses, and
recomputed in the background for a large target (inline for a small one)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from annotate import summary
from annotate.corpus import ParsedArticle, articles_import
from annotate.duplicate_groups import duplicates_refresh
from annotate.models import Sentence, TargetSummary
from annotate.queue.record import annotation_record
from tests.factories import SentenceFactory
from tests.tasks import run_queued_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(huawei, annotator, other_annotator):
    sentences = SentenceFactory.create_batch(3)
    for sentence in sentences:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
        annotation_record(annotator=other_annotator, sentence=sentence, target=huawei, label="contra")
    return sentences


@pytest.fixture
def large(monkeypatch):
    """Every target counts as large: stale summaries are recomputed in the background."""
    monkeypatch.setattr(summary, "INLINE_LABELS", 0)


def test_a_small_target_gets_a_fresh_summary_in_the_request(huawei, labelled, annotator):
    first = summary.summary_for(target=huawei)
    assert first.fresh and first.agreement.labels == 6
    annotation_record(annotator=annotator, sentence=labelled[0], target=huawei, label="contra")
    again = summary.summary_for(target=huawei)
    assert again.fresh and again.changes == first.changes + 1
    assert again.agreement.percent == pytest.approx(1 / 3)


def test_a_large_targets_first_summary_is_queued_and_the_page_says_it_is_being_computed(
    huawei, labelled, large, curator_client
):
    assert summary.summary_for(target=huawei) is None
    assert DBTaskResult.objects.ready().count() == 1
    html = curator_client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    assert "are being computed in the background" in html
    assert DBTaskResult.objects.ready().count() == 1  # queued once, not once a request
    run_queued_task()
    status = curator_client.get(
        reverse("dashboard-summary", args=[huawei.pk]) + "?changes=-1", HTTP_HX_REQUEST="true"
    )
    assert status.status_code == 204 and status["HX-Refresh"] == "true"
    html = curator_client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    assert "and are up to date" in html


def test_a_stale_summary_says_how_many_changes_it_misses_until_the_recompute_ran(
    huawei, labelled, large, annotator, curator_client
):
    summary.compute(target=huawei)
    annotation_record(annotator=annotator, sentence=labelled[0], target=huawei, label="neutral")
    stale = summary.summary_for(target=huawei)
    assert (stale.fresh, stale.changes_since, stale.recomputing) == (False, 1, True)
    assert stale.agreement.labels == 6  # what it was computed on
    html = curator_client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    assert f"<strong>1 change since then is not included</strong> ({summary.CHANGES_COUNTED})" in html
    assert DBTaskResult.objects.ready().count() == 1
    changes = TargetSummary.objects.get(target=huawei).changes
    status = curator_client.get(reverse("dashboard-summary", args=[huawei.pk]) + f"?changes={changes}")
    assert status.status_code == 200 and b"a recompute is running" in status.content
    run_queued_task()
    fresh = summary.summary_for(target=huawei)
    assert fresh.fresh and fresh.changes == changes + 1


def test_the_stale_line_counts_a_duplicate_scan_that_joined_sentences_as_a_change(
    huawei, annotator, large, curator_client
):
    text = "The minister said the network would stay open to every supplier this year."
    articles_import(
        articles=[
            ParsedArticle(title="A", body=text),
            ParsedArticle(title="B", body=text.replace("supplier", "vendor")),
        ]
    )
    for sentence in Sentence.objects.all():
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    summary.compute(target=huawei)
    assert duplicates_refresh() is not None  # joins the near-identical pair: no label moved
    html = curator_client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    assert "<strong>1 change since then is not included</strong>" in html
    assert "a duplicate scan that joined or parted sentences" in html


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (1, "1 change since then is not included"),
        (2, "2 changes since then are not included"),
        (1200, "1,200 changes since then are not included"),
    ],
)
def test_the_changes_a_stale_summary_misses_are_counted_in_words(count, words):
    assert summary.changes_missed(count) == words


def test_the_agreement_command_says_what_a_stale_summary_misses(huawei, labelled, large, annotator, capsys):
    summary.compute(target=huawei)
    annotation_record(annotator=annotator, sentence=labelled[0], target=huawei, label="neutral")
    call_command("agreement", "--target", huawei.name)
    out = " ".join(capsys.readouterr().out.split())
    assert f"; 1 change since then is not included ({summary.CHANGES_COUNTED}; a recompute is queued" in out


def test_recompute_now_queues_one_recompute_for_a_curator(
    huawei, labelled, large, curator_client, annotator_client
):
    summary.compute(target=huawei)
    url = reverse("dashboard-recompute", args=[huawei.pk])
    assert annotator_client.post(url).status_code == 403
    assert curator_client.post(url).status_code == 302
    assert curator_client.post(url).status_code == 302
    assert DBTaskResult.objects.ready().count() == 1


def test_the_summary_figures_survive_their_round_trip_through_the_database(huawei, labelled):
    computed = summary.compute(target=huawei)
    decoded = summary.decode(computed, changes_now=computed.changes)
    stored = summary.decode(TargetSummary.objects.get(target=huawei), changes_now=computed.changes)
    assert stored == decoded
    assert stored.agreement.pairs[0].sentences == 3


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client
