from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def test_pages_carry_a_content_security_policy_without_inline_script(annotator_client, huawei, sentences):
    response = annotator_client.get(reverse("label", args=[huawei.id]))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("name", ["label", "article-list", "login", "adjudicate", "models"])
def test_no_page_has_an_inline_script(admin_client_, huawei, sentences, name):
    url = reverse(name, args=[huawei.id]) if name in {"label", "adjudicate", "models"} else reverse(name)
    html = admin_client_.get(url).content.decode()
    assert INLINE_SCRIPT.findall(html) == []
    assert " on" + "click=" not in html.lower()


def test_security_headers_are_set(annotator_client):
    response = annotator_client.get(reverse("article-list"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_hsts_is_sent_over_https(annotator_client):
    response = annotator_client.get(reverse("article-list"), secure=True)
    assert "max-age=31536000" in response["Strict-Transport-Security"]


def test_repeated_wrong_passwords_lock_the_login_out(annotator):
    client = Client()
    for _ in range(4):
        response = client.post(reverse("login"), {"username": "ann", "password": "wrong"})
        assert response.status_code == 200
    assert client.post(reverse("login"), {"username": "ann", "password": "wrong"}).status_code == 429
    locked = client.post(reverse("login"), {"username": "ann", "password": "correct-horse-battery"})
    assert locked.status_code == 429
    assert b"Too many failed log-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_a_lockout_does_not_block_other_users(annotator, other_annotator):
    client = Client()
    for _ in range(6):
        client.post(reverse("login"), {"username": "ann", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "bob", "password": "correct-horse-battery"})
    assert response.status_code == 302
