"""Every page links an icon that is served, so browsers do not ask for a missing one."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def icon_href(html: str) -> str:
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert link, "no icon link"
    return link.group(1)


def test_the_login_page_links_an_icon_that_is_served(db):
    client = Client()
    href = icon_href(client.get(reverse("login")).content.decode())
    response = client.get(href)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.lstrip().startswith(b"<svg")


def test_the_labelling_page_links_the_same_icon(annotator_client, huawei):
    login = icon_href(Client().get(reverse("login")).content.decode())
    assert icon_href(annotator_client.get(reverse("label", args=[huawei.id])).content.decode()) == login
