"""The adjudication service's rules: a gold label is a stance, never a skip, and the queue
shows the worst disagreement first."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from annotate.adjudication import adjudication_record
from annotate.models import Adjudication
from annotate.queue.record import annotation_record
from tests.factories import SentenceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def label(sentence, target, *labels):
    for i, value in enumerate(labels):
        annotator = UserFactory(username=f"voter{i}", role="annotator")
        annotation_record(annotator=annotator, sentence=sentence, target=target, label=value)


@pytest.fixture
def split(huawei):
    sentence = SentenceFactory(text="Split down the middle.")
    label(sentence, huawei, "pro", "contra")
    return sentence


def test_the_service_refuses_skip_as_a_gold_label(huawei, split, curator):
    with pytest.raises(ValidationError, match="Unknown label 'skip'"):
        adjudication_record(curator=curator, sentence=split, target=huawei, label="skip")
    assert not Adjudication.objects.exists()


def test_a_settled_label_cannot_be_changed_to_skip(huawei, split, curator):
    adjudication_record(curator=curator, sentence=split, target=huawei, label="pro")
    with pytest.raises(ValidationError):
        adjudication_record(curator=curator, sentence=split, target=huawei, label="skip")
    assert Adjudication.objects.get().label == "pro"


def test_the_settle_key_refuses_skip_with_a_400_and_leaves_the_sentence_open(curator_client, huawei, split):
    response = curator_client.post(
        reverse("adjudicate-settle", args=[huawei.id]),
        {"sentence": split.id, "label": "skip"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "label: Select a valid choice. skip is not one of the available choices." in response.text
    assert not Adjudication.objects.exists()
    page = curator_client.get(reverse("adjudicate", args=[huawei.id])).text
    assert f'data-sentence-id="{split.id}"' in page


def test_the_django_admin_refuses_skip_as_a_gold_label(admin_client_, huawei, split, admin_user):
    response = admin_client_.post(
        reverse("admin:annotate_adjudication_add"),
        {"sentence": split.id, "target": huawei.id, "label": "skip", "curator": admin_user.id},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "Select a valid choice. skip is not one of the available choices." in response.text
    assert not Adjudication.objects.exists()


def test_the_adjudication_page_shows_the_lowest_agreement_first(curator_client, huawei):
    """Worst first: lowest agreement, then the most labels, whatever order they came in."""
    huawei.overlap = 3
    huawei.save()
    mild, even, three_way = (
        SentenceFactory(text=text) for text in ("Mild dissent.", "Even split.", "Three ways.")
    )
    label(mild, huawei, "pro", "pro", "contra")  # agreement 1/3
    label(even, huawei, "pro", "contra")  # agreement 0, two labels
    label(three_way, huawei, "pro", "contra", "neutral")  # agreement 0, three labels
    page = curator_client.get(reverse("adjudicate", args=[huawei.id])).text
    assert f'data-sentence-id="{three_way.id}"' in page
    upcoming = page[page.index('<details class="upcoming">') :]
    assert upcoming.index("Even split.") < upcoming.index("Mild dissent.")
    assert "Three ways." not in upcoming
