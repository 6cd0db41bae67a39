"""The header's target picker: on every page about one target, linking to the same page
for each other target in use, the current one marked."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import SentenceFactory, TargetFactory

pytestmark = pytest.mark.django_db


def picker(html: str) -> str:
    found = re.search(r'<nav class="target-picker" aria-label="Targets">(.*?)</nav>', html, re.S)
    assert found, "no target picker on the page"
    return found.group(1)


@pytest.fixture
def second(huawei):
    return TargetFactory(name="ZTE")


@pytest.fixture
def archived(huawei):
    return TargetFactory(name="Old target", archived_at=timezone.now())


@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("annotator", "label"),
        ("curator", "label"),
        ("curator", "dashboard"),
        ("curator", "adjudicate"),
        ("admin", "models"),
        ("admin", "target-edit"),
    ],
)
def test_each_per_target_page_links_to_itself_for_every_target_in_use(
    role, name, huawei, second, archived, annotator, curator, admin_user
):
    SentenceFactory()
    client = Client()
    client.force_login({"annotator": annotator, "curator": curator, "admin": admin_user}[role])
    response = client.get(reverse(name, args=[second.pk]))
    assert response.status_code == 200
    nav = picker(response.content.decode())
    assert f'href="{reverse(name, args=[huawei.pk])}">Huawei</a>' in nav
    assert f'<a href="{reverse(name, args=[second.pk])}" aria-current="page"><strong>ZTE</strong></a>' in nav
    assert "Old target" not in nav  # archived: hidden from the picker's list
    assert nav.count("aria-current") == 1


def test_the_article_page_picks_its_target_by_query(annotator_client, huawei, second):
    sentence = SentenceFactory()
    url = reverse("article-detail", args=[sentence.article_id])
    nav = picker(annotator_client.get(url, {"target": second.pk}).content.decode())
    assert f'href="{url}?target={huawei.pk}">Huawei</a>' in nav
    assert f'href="{url}?target={second.pk}" aria-current="page"' in nav


def test_an_archived_target_is_in_its_own_pages_picker_marked_archived(curator, huawei, archived):
    client = Client()
    client.force_login(curator)
    nav = picker(client.get(reverse("dashboard", args=[archived.pk])).content.decode())
    assert 'aria-current="page"><strong>Old target</strong> (archived)</a>' in nav
    assert "Huawei" in nav


def test_pages_about_no_one_target_have_no_picker(annotator_client, huawei, second):
    html = annotator_client.get(reverse("article-list")).content.decode()
    assert "target-picker" not in html


def test_the_card_names_its_target(annotator_client, huawei, second):
    SentenceFactory()
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        html = annotator_client.get(reverse("label", args=[second.pk]), **headers).content.decode()
        assert '<p class="card-target">Stance toward <strong>ZTE</strong>' in html
        assert 'aria-label="Sentence to label for ZTE"' in html


def test_an_archived_targets_pages_say_it_is_archived(curator, admin_client_, huawei, archived):
    client = Client()
    client.force_login(curator)
    badge = '<span class="badge">archived</span>'
    assert badge in client.get(reverse("dashboard", args=[archived.pk])).content.decode()
    assert badge in admin_client_.get(reverse("models", args=[archived.pk])).content.decode()
    assert badge not in client.get(reverse("dashboard", args=[huawei.pk])).content.decode()
    html = client.get(reverse("adjudicate", args=[archived.pk])).content.decode()
    assert "Old target is archived: its gold labels can be read but not changed." in html
