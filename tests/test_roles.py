"""Who holds which role (annotate/roles.py): a superuser in no group is an admin (and so a
curator) but not an annotator."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotate.models import Assignment
from tests.factories import UserFactory, api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    """A superuser created with createsuperuser: in no group."""
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert not user.groups.exists()
    return user


@pytest.fixture
def root_client(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


def test_a_superuser_without_a_group_is_an_admin_on_the_admin_pages(root_client, huawei):
    for name in ("models", "export-card", "dashboard", "adjudicate"):
        response = root_client.get(reverse(name, args=[huawei.id]))
        assert response.status_code == 200, name


def test_a_superuser_without_a_group_sees_the_curator_and_admin_links_but_not_label(root_client, huawei):
    page = root_client.get(reverse("dashboard", args=[huawei.id])).text
    assert f'href="{reverse("models", args=[huawei.id])}">Models</a>' in page
    assert f'href="{reverse("adjudicate", args=[huawei.id])}">Adjudicate</a>' in page
    assert f'href="{reverse("home")}">Label</a>' not in page


def test_a_superuser_without_a_group_lands_on_the_dashboard_and_reserves_nothing(
    root_client, huawei, sentences
):
    response = root_client.get(reverse("home"))
    assert response["Location"] == reverse("dashboard", args=[huawei.id])
    page = root_client.get(reverse("label", args=[huawei.id])).text
    assert "You are not an annotator for this target." in page
    assert not Assignment.objects.exists()


def test_a_superuser_without_a_group_is_a_curator_in_the_api(root, huawei):
    response = api_client(root).get(f"/api/targets/{huawei.id}/agreement/")
    assert response.status_code == 200
