"""403 and 404 pages in the site's layout (tests run with DEBUG off); the API keeps JSON."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

SITE_HEADER = '<header class="site-header">'


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def test_a_curator_refused_the_export_gets_the_styled_403_page_with_its_reason(curator_client, huawei):
    response = curator_client.get(reverse("export", args=[huawei.pk]))
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert SITE_HEADER in html
    assert "Exporting datasets is for admins." in html
    assert f'href="{reverse("home")}"' in html  # a way back
    assert "{#" not in html and "{%" not in html


def test_an_annotator_refused_the_dashboard_gets_the_styled_403_page(annotator_client, huawei):
    response = annotator_client.get(reverse("dashboard", args=[huawei.pk]))
    assert response.status_code == 403
    assert SITE_HEADER in response.content.decode()
    assert "The dashboard is for curators and admins." in response.content.decode()


def test_an_unknown_page_gets_the_styled_404_page(curator_client):
    response = curator_client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert SITE_HEADER in html
    assert "/no/such/page/" in html
    assert f'href="{reverse("home")}"' in html
    assert "{#" not in html and "{%" not in html


def test_an_unknown_target_gets_the_styled_404_page(curator_client):
    response = curator_client.get(reverse("dashboard", args=[987654]))
    assert response.status_code == 404
    assert SITE_HEADER in response.content.decode()


def test_the_apis_403_stays_json(curator_client):
    response = curator_client.get(reverse("api:export"))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_the_apis_404_stays_json(curator_client):
    for url in ("/api/no-such-endpoint/", reverse("api:target-agreement", args=[987654])):
        response = curator_client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json", url
        assert "detail" in response.json()
