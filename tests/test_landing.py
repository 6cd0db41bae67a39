"""Where a login lands (`/`), and who takes a reservation on the labelling page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate.models import Assignment, Target
from tests.factories import AnnotationFactory, SentenceFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def sentences(huawei):
    return [SentenceFactory(position=i) for i in range(3)]


def log_in(username: str) -> tuple[Client, str]:
    """Log in through the login form, follow every redirect, and return the landing path."""
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    return client, response.request["PATH_INFO"]


def test_an_annotators_login_lands_on_the_first_targets_queue_with_a_reservation(
    annotator, huawei, sentences
):
    _, landing = log_in(annotator.username)
    assert landing == reverse("label", args=[huawei.pk])
    assert Assignment.objects.filter(annotator=annotator).count() == 1


def test_a_curators_login_lands_on_the_dashboard_without_a_reservation(curator, huawei, sentences):
    _, landing = log_in(curator.username)
    assert landing == reverse("dashboard", args=[huawei.pk])
    assert not Assignment.objects.exists()


def test_an_admins_login_lands_on_the_dashboard_without_a_reservation(admin_user, huawei, sentences):
    """Superusers hold every role but labelling: they are not in the annotator group."""
    _, landing = log_in(admin_user.username)
    assert landing == reverse("dashboard", args=[huawei.pk])
    assert not Assignment.objects.exists()


def test_a_curator_who_also_annotates_lands_on_the_queue(huawei, sentences):
    both = UserFactory(username="both", role="curator")
    both.groups.add(*UserFactory(username="helper", role="annotator").groups.all())
    _, landing = log_in("both")
    assert landing == reverse("label", args=[huawei.pk])
    assert Assignment.objects.filter(annotator=both).count() == 1


def test_home_sends_curators_to_the_first_targets_dashboard(curator, huawei):
    TargetFactory(name="Later target")
    client = Client()
    client.force_login(curator)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard", args=[huawei.pk])


def test_a_curator_opening_the_label_page_sees_it_read_only_and_reserves_nothing(curator, huawei, sentences):
    client = Client()
    client.force_login(curator)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get(reverse("label", args=[huawei.pk]), **headers)
        assert response.status_code == 200
        html = response.content.decode()
        assert "You are not an annotator for this target." in html
        assert 'id="current-sentence"' not in html
    assert not Assignment.objects.exists()


def test_the_label_link_is_shown_to_annotators_only(annotator_client, curator, huawei):
    label_link = f'href="{reverse("home")}">Label</a>'
    assert label_link in annotator_client.get(reverse("article-list")).content.decode()
    client = Client()
    client.force_login(curator)
    assert label_link not in client.get(reverse("article-list")).content.decode()


def test_an_annotator_lands_on_the_first_target_with_a_sentence_open_to_them(annotator, huawei):
    sentence = SentenceFactory()
    second = TargetFactory(name="ZTE")
    AnnotationFactory(annotator=annotator, sentence=sentence, target=huawei)  # Huawei: all done
    client = Client()
    client.force_login(annotator)
    response = client.get(reverse("home"))
    assert response["Location"] == reverse("label", args=[second.pk])
    assert not Assignment.objects.exists()  # finding the target reserves nothing


def test_an_annotator_lands_on_the_first_target_when_none_has_open_work(annotator, huawei):
    TargetFactory(name="ZTE")
    client = Client()
    client.force_login(annotator)
    assert client.get(reverse("home"))["Location"] == reverse("label", args=[huawei.pk])


def test_a_full_sentence_is_not_open_work(annotator, other_annotator, huawei):
    huawei.overlap = 1
    huawei.save()
    sentence = SentenceFactory()
    second = TargetFactory(name="ZTE")
    AnnotationFactory(annotator=other_annotator, sentence=sentence, target=huawei)
    client = Client()
    client.force_login(annotator)
    assert client.get(reverse("home"))["Location"] == reverse("label", args=[second.pk])


def test_home_leaves_archived_targets_out(curator, huawei):
    second = TargetFactory(name="ZTE")
    huawei.archived_at = timezone.now()
    huawei.save()
    client = Client()
    client.force_login(curator)
    assert client.get(reverse("home"))["Location"] == reverse("dashboard", args=[second.pk])


def test_with_no_target_an_admin_is_told_to_create_one(admin_client_, huawei):
    Target.objects.all().delete()
    response = admin_client_.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is no target to work on yet" in html
    assert f'href="{reverse("target-new")}"' in html


@pytest.mark.parametrize("role", ["annotator", "curator"])
def test_with_no_target_others_are_told_to_ask_an_admin(role, huawei):
    huawei.archived_at = timezone.now()  # archived only: nothing in use
    huawei.save()
    client = Client()
    client.force_login(UserFactory(username=f"x-{role}", role=role))
    html = client.get(reverse("home")).content.decode()
    assert "Ask an admin to create one." in html
    assert reverse("target-new") not in html


def test_a_user_with_no_role_is_told_so(huawei):
    client = Client()
    client.force_login(UserFactory(username="nobody"))
    html = client.get(reverse("home")).content.decode()
    assert "Your account has no role yet" in html


def test_an_admin_opening_the_label_page_reserves_nothing(admin_client_, huawei, sentences):
    html = admin_client_.get(reverse("label", args=[huawei.pk])).content.decode()
    assert "You are not an annotator for this target." in html
    assert not Assignment.objects.exists()
