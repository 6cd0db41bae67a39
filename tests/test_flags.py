"""Flags (annotate/flags.py): `f` on the labelling page flags the shown sentence for a
curator; it labels nothing and the sentence stays on the card."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate.flags import flag_create, flag_resolve
from annotate.models import Annotation, Assignment, Flag, Target
from tests.factories import AssignmentFactory, SentenceFactory, TargetFactory
from tests.test_views_labelling import HTMX, current_id, label_url

pytestmark = pytest.mark.django_db


def flag_url(target):
    return reverse("label-flag", args=[target.id])


def shown(client, target) -> int:
    return current_id(client.get(label_url(target)).content.decode())


def test_a_flag_keeps_its_reason_and_comment_and_the_sentence_stays_on_the_card(
    annotator, annotator_client, huawei, sentences
):
    current = shown(annotator_client, huawei)
    response = annotator_client.post(
        flag_url(huawei), {"sentence": current, "reason": "bad_split", "comment": " cut mid-quote "}, **HTMX
    )
    assert response.status_code == 200
    flag = Flag.objects.get()
    assert (flag.annotator, flag.sentence_id, flag.target, flag.reason, flag.comment) == (
        annotator,
        current,
        huawei,
        "bad_split",
        "cut mid-quote",
    )
    assert flag.resolved_at is None
    html = response.content.decode()
    # The panel comes back closed, saying what was flagged; the status line says it out of band.
    assert 'id="flag-panel"' in html and "Flagged: bad sentence split" in html
    assert 'id="status"' in html and "still yours to label" in html
    # Nothing labelled or skipped; the reservation holds and the page shows the same sentence.
    assert not Annotation.objects.exists()
    assert list(Assignment.objects.values_list("sentence_id", flat=True)) == [current]
    assert shown(annotator_client, huawei) == current


def test_flagging_again_while_the_flag_is_open_updates_it(annotator, annotator_client, huawei, sentences):
    current = shown(annotator_client, huawei)
    annotator_client.post(flag_url(huawei), {"sentence": current, "reason": "unsure"})
    response = annotator_client.post(
        flag_url(huawei), {"sentence": current, "reason": "discuss", "comment": "x"}
    )
    assert response.status_code == 302  # a plain form post goes back to the page
    assert list(Flag.objects.values_list("reason", "comment")) == [("discuss", "x")]


def test_a_resolved_flag_leaves_room_for_a_new_one(annotator, curator, huawei, sentences):
    AssignmentFactory(annotator=annotator, target=huawei, sentence=sentences[0])
    first = flag_create(annotator=annotator, target=huawei, sentence_id=sentences[0].pk, reason="unsure")
    flag_resolve(curator=curator, target=huawei, flag_id=first.pk)
    flag_create(annotator=annotator, target=huawei, sentence_id=sentences[0].pk, reason="discuss")
    assert sorted(Flag.objects.values_list("reason", "resolved_by")) == [
        ("discuss", None),
        ("unsure", curator.pk),
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"reason": "boring"}, "reason"),
        ({"reason": "unsure", "comment": "x" * 1001}, "comment"),
        ({"reason": "unsure", "sentence": ""}, "sentence"),
        ({"reason": "unsure", "sentence": "9" * 19}, "sentence"),
    ],
)
def test_bad_flag_input_is_refused_with_its_reason_and_writes_nothing(
    annotator_client, huawei, sentences, data, error
):
    current = shown(annotator_client, huawei)
    response = annotator_client.post(flag_url(huawei), {"sentence": current, **data}, **HTMX)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Flag.objects.exists()


def test_a_sentence_the_annotator_was_never_shown_cannot_be_flagged(annotator_client, huawei, sentences):
    shown(annotator_client, huawei)  # holds sentences[0]
    response = annotator_client.post(
        flag_url(huawei), {"sentence": sentences[3].pk, "reason": "unsure"}, **HTMX
    )
    assert response.status_code == 404
    assert not Flag.objects.exists()


def test_only_annotators_flag_and_only_by_post_with_csrf(curator, annotator, huawei, sentences):
    curator_client = Client()
    curator_client.force_login(curator)
    data = {"sentence": sentences[0].pk, "reason": "unsure"}
    assert curator_client.post(flag_url(huawei), data).status_code == 403
    assert Client().post(flag_url(huawei), data).status_code in (302, 401)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(annotator)
    shown(strict, huawei)
    assert strict.post(flag_url(huawei), data).status_code == 403
    assert strict.get(flag_url(huawei)).status_code == 405
    assert not Flag.objects.exists()


def test_an_archived_target_takes_no_flag(annotator, annotator_client, huawei, sentences):
    current = shown(annotator_client, huawei)
    Target.objects.filter(pk=huawei.pk).update(archived_at=timezone.now())
    response = annotator_client.post(flag_url(huawei), {"sentence": current, "reason": "unsure"}, **HTMX)
    assert response.status_code == 409
    assert not Flag.objects.exists()


def test_a_flag_on_another_target_is_not_the_curators_to_resolve_here(annotator, curator, huawei, sentences):
    other = TargetFactory(name="Other")
    sentence = SentenceFactory()
    Annotation.objects.create(annotator=annotator, sentence=sentence, target=other, label="pro")
    flag = flag_create(annotator=annotator, target=other, sentence_id=sentence.pk, reason="unsure")
    with pytest.raises(Flag.DoesNotExist):
        flag_resolve(curator=curator, target=huawei, flag_id=flag.pk)
    flag.refresh_from_db()
    assert flag.resolved_at is None


def test_the_label_page_offers_the_flag_form_and_lists_f_among_the_keys(annotator_client, huawei, sentences):
    html = annotator_client.get(label_url(huawei)).content.decode()
    assert 'id="flag-form"' in html and f'action="/label/{huawei.pk}/flag/"' in html
    for reason in ("unsure", "bad_split", "discuss"):
        assert f'value="{reason}"' in html
    assert "<dt><kbd>f</kbd></dt>" in html


def test_the_admin_lists_flags_and_returns_read_only(admin_client_, annotator, huawei, sentences):
    AssignmentFactory(annotator=annotator, target=huawei, sentence=sentences[0])
    flag_create(
        annotator=annotator, target=huawei, sentence_id=sentences[0].pk, reason="discuss", comment="ask"
    )
    for model in ("flag", "labelreturn"):
        assert admin_client_.get(reverse(f"admin:annotate_{model}_changelist")).status_code == 200
        assert admin_client_.get(reverse(f"admin:annotate_{model}_add")).status_code == 403
    flag = Flag.objects.get()
    assert (
        admin_client_.post(reverse("admin:annotate_flag_delete", args=[flag.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Flag.objects.filter(pk=flag.pk).exists()
