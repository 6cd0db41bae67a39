"""Gold history: every settle, change and undo of a gold label is an AdjudicationEvent
written in the same transaction, and an undo takes back the newest change."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.db import IntegrityError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate import adjudication
from annotate.adjudication import (
    HistoryMoved,
    NothingToUndo,
    adjudication_record,
    adjudication_undo,
    open_count,
    open_disagreements,
)
from annotate.models import Adjudication, AdjudicationEvent, SentenceTally
from annotate.queue.record import annotation_record
from tests.factories import SentenceFactory, UserFactory
from tests.test_tallies import recount, stored

pytestmark = pytest.mark.django_db


def history(sentence) -> list[tuple[str, str, str, str]]:
    """(curator, action, old, new) of a sentence's gold history, oldest first."""
    return list(
        AdjudicationEvent.objects.filter(sentence=sentence)
        .order_by("id")
        .values_list("curator__username", "action", "old_label", "new_label")
    )


def gold(sentence, target) -> tuple[str, str] | None:
    found = Adjudication.objects.filter(sentence=sentence, target=target).select_related("curator").first()
    return (found.label, found.curator.username) if found else None


@pytest.fixture
def split(huawei, annotator, other_annotator):
    """A sentence its two annotators disagree on: an open disagreement."""
    sentence = SentenceFactory(text="Split down the middle.")
    annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    annotation_record(annotator=other_annotator, sentence=sentence, target=huawei, label="contra")
    return sentence


@pytest.fixture
def boss(admin_user):
    return admin_user


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def assert_counts_match_a_recount(target) -> None:
    assert stored(target) == recount(target)
    assert open_count(target=target) == open_disagreements(target=target).count()


# The service: who, when, old and new


def test_a_settle_records_who_when_and_the_new_label(huawei, split, curator):
    before = timezone.now()
    change = adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    event = AdjudicationEvent.objects.get()
    assert change.event == event
    assert (event.curator, event.target, event.sentence) == (curator, huawei, split)
    assert (event.action, event.old_label, event.new_label) == ("settle", "", "pro")
    assert before <= event.created_at <= timezone.now()


def test_a_change_records_the_old_and_new_label_and_who_changed_it(huawei, split, curator, boss):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    adjudication_record(curator=boss, sentence=split, target=huawei, label="contra")
    assert history(split) == [("cur", "settle", "", "pro"), ("boss", "change", "pro", "contra")]
    assert gold(split, huawei) == ("contra", "boss")


def test_the_same_label_again_changes_nothing_and_writes_no_event(huawei, split, curator, boss):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    change = adjudication_record(curator=boss, sentence=split, target=huawei, label="pro")
    assert change.event is None
    assert history(split) == [("cur", "settle", "", "pro")]
    assert gold(split, huawei) == ("pro", "cur")


def test_an_undo_restores_the_previous_label_and_its_curator(huawei, split, curator, boss):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    changed = adjudication_record(curator=boss, sentence=split, target=huawei, label="neutral")
    undo = adjudication_undo(curator=boss, sentence=split, target=huawei)
    assert gold(split, huawei) == ("pro", "cur")
    assert undo.event is not None and undo.event.undoes == changed.event
    assert history(split)[-1] == ("boss", "undo", "neutral", "pro")
    assert SentenceTally.objects.get(target=huawei, sentence=split).gold == "pro"
    assert_counts_match_a_recount(huawei)


def test_undoing_the_first_settle_reopens_the_disagreement(huawei, split, curator):
    assert open_count(target=huawei) == 1
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    assert open_count(target=huawei) == 0
    undo = adjudication_undo(curator=curator, sentence=split, target=huawei)
    assert undo.adjudication is None
    assert not Adjudication.objects.exists()
    assert history(split) == [("cur", "settle", "", "pro"), ("cur", "undo", "pro", "")]
    assert open_count(target=huawei) == 1
    assert [t.sentence_id for t in open_disagreements(target=huawei)] == [split.id]
    assert_counts_match_a_recount(huawei)


def test_undo_again_walks_back_through_the_changes_then_stops(huawei, split, curator, boss):
    for who, label in ((curator, "pro"), (boss, "contra"), (curator, "neutral")):
        adjudication_record(curator=who, sentence=split, target=huawei, label=label)
    seen = []
    for _ in range(3):
        adjudication_undo(curator=boss, sentence=split, target=huawei)
        seen.append(gold(split, huawei))
    assert seen == [("contra", "boss"), ("pro", "cur"), None]
    with pytest.raises(NothingToUndo):
        adjudication_undo(curator=boss, sentence=split, target=huawei)
    assert [action for _, action, _, _ in history(split)] == ["settle", "change", "change"] + ["undo"] * 3
    assert_counts_match_a_recount(huawei)


def test_an_undo_after_a_new_change_takes_back_that_change_not_the_undone_one(huawei, split, curator):
    for label in ("pro", "contra"):
        adjudication_record(curator=curator, sentence=split, target=huawei, label=label)
    adjudication_undo(curator=curator, sentence=split, target=huawei)  # back to pro
    adjudication_record(curator=curator, sentence=split, target=huawei, label="neutral")
    adjudication_undo(curator=curator, sentence=split, target=huawei)
    assert gold(split, huawei) == ("pro", "cur")


def test_an_undo_refuses_when_the_history_moved_since_the_page_was_shown(huawei, split, curator, boss):
    seen = adjudication_record(curator=curator, sentence=split, target=huawei, label="pro").event
    adjudication_record(curator=boss, sentence=split, target=huawei, label="contra")
    with pytest.raises(HistoryMoved):
        adjudication_undo(curator=curator, sentence=split, target=huawei, seen_event=seen.pk)
    assert gold(split, huawei) == ("contra", "boss")
    assert len(history(split)) == 2


def test_a_gold_label_written_outside_the_service_has_nothing_to_undo(huawei, split, curator):
    Adjudication.objects.create(sentence=split, target=huawei, label="pro", curator=curator)
    with pytest.raises(NothingToUndo):
        adjudication_undo(curator=curator, sentence=split, target=huawei)
    assert gold(split, huawei) == ("pro", "cur")


def test_a_failing_history_write_leaves_neither_adjudication_nor_event(huawei, split, curator, monkeypatch):
    def broken(**kwargs):
        raise IntegrityError("the history table refused the row")

    monkeypatch.setattr(adjudication, "_event", broken)
    with pytest.raises(IntegrityError):
        adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    assert not Adjudication.objects.exists()
    assert not AdjudicationEvent.objects.exists()
    assert SentenceTally.objects.get(target=huawei, sentence=split).adjudicated == ""
    assert open_count(target=huawei) == 1


def test_a_failing_undo_leaves_the_gold_label_and_its_history(huawei, split, curator, monkeypatch):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")

    def broken(**kwargs):
        raise IntegrityError("the history table refused the row")

    monkeypatch.setattr(adjudication, "_event", broken)
    with pytest.raises(IntegrityError):
        adjudication_undo(curator=curator, sentence=split, target=huawei)
    assert gold(split, huawei) == ("pro", "cur")
    assert history(split) == [("cur", "settle", "", "pro")]
    assert open_count(target=huawei) == 0


def test_the_history_is_append_only(huawei, split, curator):
    event = adjudication_record(curator=curator, sentence=split, target=huawei, label="pro").event
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AdjudicationEvent.objects.update(new_label="contra")
    with pytest.raises(TypeError):
        AdjudicationEvent.objects.all().delete()


def test_a_sentence_with_gold_history_cannot_be_deleted(huawei, split, curator):
    from django.db.models import ProtectedError

    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    Adjudication.objects.all().delete()  # even once its gold label is gone, the history stays
    with pytest.raises(ProtectedError):
        split.delete()


def test_the_migration_gives_each_existing_adjudication_one_settle_event(huawei, split, curator):
    migration = importlib.import_module("annotate.migrations.0015_adjudication_event")
    other = SentenceFactory()
    Adjudication.objects.create(sentence=split, target=huawei, label="contra", curator=curator)
    Adjudication.objects.create(sentence=other, target=huawei, label="neutral", curator=curator)
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)
    events = {
        e.sentence_id: (e.curator_id, e.action, e.old_label, e.new_label, e.created_at)
        for e in AdjudicationEvent.objects.all()
    }
    decided = {
        a.sentence_id: (a.curator_id, "settle", "", a.label, a.updated_at) for a in Adjudication.objects.all()
    }
    assert events == decided
    assert isinstance(events[split.id][4], datetime.datetime)
    adjudication_undo(curator=curator, sentence=split, target=huawei)  # an old label can be undone too
    assert gold(split, huawei) is None


# The adjudication page


def test_the_undo_key_takes_back_a_settle_and_answers_with_card_status_and_panel(
    curator_client, huawei, split, curator
):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    response = curator_client.post(
        reverse("adjudicate-undo", args=[huawei.id]), {"sentence": split.id}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html
    assert f'data-sentence-id="{split.id}"' in html  # the reopened disagreement is the card again
    assert (
        '<p id="status" class="status" role="status" hx-swap-oob="innerHTML">Undone: “Split down the middle.” is unsettled again'
        in html
    )
    assert 'id="settled-panel" class="history" aria-labelledby="settled-heading" hx-swap-oob="true"' in html
    assert "Nothing settled yet." in html
    assert not Adjudication.objects.exists()


def test_without_htmx_an_undo_redirects_back(curator_client, huawei, split, curator):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    response = curator_client.post(reverse("adjudicate-undo", args=[huawei.id]), {"sentence": split.id})
    assert response.status_code == 302
    assert response["Location"] == reverse("adjudicate", args=[huawei.id])
    assert not Adjudication.objects.exists()


def test_an_undo_with_nothing_to_undo_or_a_moved_history_is_a_409(
    curator_client, huawei, split, curator, boss
):
    url = reverse("adjudicate-undo", args=[huawei.id])
    response = curator_client.post(url, {"sentence": split.id}, headers={"HX-Request": "true"})
    assert (response.status_code, response.text) == (409, "This sentence has no gold change to undo.")
    seen = adjudication_record(curator=curator, sentence=split, target=huawei, label="pro").event
    adjudication_record(curator=boss, sentence=split, target=huawei, label="contra")
    response = curator_client.post(url, {"sentence": split.id, "seen_event": seen.pk})
    assert response.status_code == 409
    assert gold(split, huawei) == ("contra", "boss")


@pytest.mark.parametrize("data", [{}, {"sentence": "x"}, {"sentence": 1, "seen_event": "y"}])
def test_a_malformed_undo_is_a_400(curator_client, huawei, data):
    assert curator_client.post(reverse("adjudicate-undo", args=[huawei.id]), data).status_code == 400


def test_an_annotator_or_a_user_without_a_role_cannot_undo(annotator_client, huawei, split, curator):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    nobody = Client()
    nobody.force_login(UserFactory(username="nobody"))
    for client in (annotator_client, nobody):
        response = client.post(reverse("adjudicate-undo", args=[huawei.id]), {"sentence": split.id})
        assert response.status_code == 403
    assert gold(split, huawei) == ("pro", "cur")
    assert len(history(split)) == 1


def test_an_undo_must_be_a_post(curator_client, huawei):
    assert curator_client.get(reverse("adjudicate-undo", args=[huawei.id])).status_code == 405


def test_a_change_in_the_panel_says_what_it_changed(curator_client, huawei, split, curator):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    response = curator_client.post(
        reverse("adjudicate-settle", args=[huawei.id]),
        {"sentence": split.id, "label": "neutral"},
        headers={"HX-Request": "true"},
    )
    assert "Changed from pro to neutral: “Split down the middle.”" in response.text


def test_the_page_shows_each_settled_sentences_history_and_its_undo(
    curator_client, huawei, split, curator, boss
):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    latest = adjudication_record(curator=boss, sentence=split, target=huawei, label="contra").event
    html = curator_client.get(reverse("adjudicate", args=[huawei.id])).text
    assert "settle, none → pro" in html
    assert "change, pro → contra" in html
    assert html.index("change, pro → contra") < html.index("settle, none → pro")  # newest first
    assert f'<input type="hidden" name="seen_event" value="{latest.pk}">' in html
    assert 'id="undo-form"' in html and 'data-key="z"' in html


def test_a_reopened_disagreement_shows_its_gold_history_on_the_card(curator_client, huawei, split, curator):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    adjudication_undo(curator=curator, sentence=split, target=huawei)
    response = curator_client.get(reverse("adjudicate", args=[huawei.id]), headers={"HX-Request": "true"})
    assert "<summary>Gold history</summary>" in response.text
    assert "undo, pro → none" in response.text


def test_the_page_shows_at_most_five_history_lines_a_sentence(curator_client, huawei, split, curator):
    for label in ["pro", "contra"] * 4:
        adjudication_record(curator=curator, sentence=split, target=huawei, label=label)
    html = curator_client.get(reverse("adjudicate", args=[huawei.id])).text
    assert html.count("change, ") == 5


# The Django admin


def test_the_admin_settles_and_changes_through_the_service_so_history_is_written(
    admin_client_, huawei, split
):
    response = admin_client_.post(
        reverse("admin:annotate_adjudication_add"),
        {"sentence": split.id, "target": huawei.id, "label": "pro"},
    )
    assert response.status_code == 302, response.text[:2000]
    decided = Adjudication.objects.get()
    response = admin_client_.post(
        reverse("admin:annotate_adjudication_change", args=[decided.pk]), {"label": "neutral"}
    )
    assert response.status_code == 302
    assert history(split) == [("boss", "settle", "", "pro"), ("boss", "change", "pro", "neutral")]
    assert gold(split, huawei) == ("neutral", "boss")
    page = admin_client_.get(reverse("admin:annotate_adjudication_change", args=[decided.pk])).text
    assert "boss" in page and "change, pro → neutral" in page


def test_the_admin_cannot_delete_a_gold_label(admin_client_, huawei, split, curator):
    decided = adjudication_record(curator=curator, sentence=split, target=huawei, label="pro").adjudication
    response = admin_client_.post(
        reverse("admin:annotate_adjudication_delete", args=[decided.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert gold(split, huawei) == ("pro", "cur")


def test_the_admin_cannot_add_change_or_delete_history_events(admin_client_, huawei, split, curator):
    event = adjudication_record(curator=curator, sentence=split, target=huawei, label="pro").event
    listing = admin_client_.get(reverse("admin:annotate_adjudicationevent_changelist"))
    assert listing.status_code == 200 and "settle" in listing.text
    assert admin_client_.get(reverse("admin:annotate_adjudicationevent_add")).status_code == 403
    change_url = reverse("admin:annotate_adjudicationevent_change", args=[event.pk])
    assert admin_client_.get(change_url).status_code == 200  # shown, read-only
    admin_client_.post(change_url, {"action": "undo", "new_label": "contra"})
    delete_url = reverse("admin:annotate_adjudicationevent_delete", args=[event.pk])
    assert admin_client_.post(delete_url, {"post": "yes"}).status_code == 403
    assert history(split) == [("cur", "settle", "", "pro")]
