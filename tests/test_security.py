from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Annotation
from tests.factories import api_token

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


SETTINGS_FILE = Path(__file__).resolve().parent.parent / "stance" / "settings.py"


@pytest.fixture
def behind_one_proxy(settings, monkeypatch):
    """The client-address settings that stance/settings.py makes of AXES_PROXY_COUNT=1."""
    monkeypatch.setenv("AXES_PROXY_COUNT", "1")
    made = runpy.run_path(str(SETTINGS_FILE))
    for name, value in made.items():
        if name.startswith(("AXES_IPWARE_", "IPWARE_")):
            setattr(settings, name, value)


def through_the_proxy(client_address: str) -> Client:
    """A browser behind the reverse proxy: every request comes from the proxy's address,
    with the client's own in X-Forwarded-For."""
    return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client_address)


def fail_five_times(client: Client, username: str) -> None:
    for _ in range(5):
        client.post(reverse("login"), {"username": username, "password": "wrong"})


def test_behind_a_proxy_one_clients_wrong_passwords_do_not_lock_out_another(behind_one_proxy, annotator):
    attacker, user = through_the_proxy("203.0.113.66"), through_the_proxy("198.51.100.7")
    fail_five_times(attacker, "ann")
    assert (
        attacker.post(reverse("login"), {"username": "ann", "password": "correct-horse-battery"}).status_code
        == 429
    )
    response = user.post(reverse("login"), {"username": "ann", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert user.session["_auth_user_id"] == str(annotator.pk)


def test_behind_a_proxy_a_forged_x_forwarded_for_does_not_dodge_the_lockout(behind_one_proxy, annotator):
    # The proxy appends the address it saw; whatever the client sent stands to its left.
    for forged in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"):
        forging = through_the_proxy(f"{forged}, 203.0.113.66")
        forging.post(reverse("login"), {"username": "ann", "password": "wrong"})
    attacker = through_the_proxy("10.0.0.6, 203.0.113.66")
    assert (
        attacker.post(reverse("login"), {"username": "ann", "password": "correct-horse-battery"}).status_code
        == 429
    )


def test_wrong_passwords_from_one_address_lock_that_address_out_not_the_user(annotator):
    fail_five_times(Client(REMOTE_ADDR="203.0.113.66"), "ann")
    # The Django admin's login counts toward the same lockout.
    admin_login = Client(REMOTE_ADDR="203.0.113.66").post(
        reverse("admin:login"), {"username": "ann", "password": "correct-horse-battery"}
    )
    assert admin_login.status_code == 429
    own = Client(REMOTE_ADDR="198.51.100.7")
    response = own.post(reverse("login"), {"username": "ann", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert own.session["_auth_user_id"] == str(annotator.pk)


RESET_PAGES = ["password_reset", "password_reset_done", "password_reset_complete"]


def settings_made_of(monkeypatch, **environment: str) -> dict[str, object]:
    """The settings stance/settings.py makes of this environment (on top of the test one)."""
    for name in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "DEFAULT_FROM_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_without_debug_or_an_email_host_no_mail_can_be_sent_and_the_reset_is_off(monkeypatch):
    made = settings_made_of(monkeypatch, DEBUG="0")
    assert made["PASSWORD_RESET_ENABLED"] is False
    assert made["EMAIL_BACKEND"] == "django.core.mail.backends.dummy.EmailBackend"


def test_with_debug_reset_mails_are_printed_on_the_console(monkeypatch):
    made = settings_made_of(monkeypatch, DEBUG="1")
    assert made["PASSWORD_RESET_ENABLED"] is True
    assert made["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_an_email_host_sends_reset_mails_over_smtp_as_configured(monkeypatch):
    made = settings_made_of(
        monkeypatch, DEBUG="0", EMAIL_HOST="smtp.example.org", EMAIL_PORT="465", EMAIL_USE_TLS="no"
    )
    assert made["PASSWORD_RESET_ENABLED"] is True
    assert made["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (made["EMAIL_HOST"], made["EMAIL_PORT"], made["EMAIL_USE_TLS"]) == ("smtp.example.org", 465, False)


@pytest.mark.parametrize("name", RESET_PAGES)
def test_without_email_the_reset_pages_are_404(settings, annotator, name):
    settings.PASSWORD_RESET_ENABLED = False
    assert Client().get(reverse(name)).status_code == 404


def test_without_email_a_reset_request_is_404_and_tries_no_mail_server(settings, annotator):
    settings.PASSWORD_RESET_ENABLED = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    annotator.email = "ann@example.org"
    annotator.save()
    with mock.patch("smtplib.SMTP") as smtp:
        response = Client().post(reverse("password_reset"), {"email": "ann@example.org"})
        confirm = Client().get(reverse("password_reset_confirm", args=["MQ", "set-password"]))
    assert (response.status_code, confirm.status_code) == (404, 404)
    smtp.assert_not_called()
    assert b"Forgot your password?" not in Client().get(reverse("login")).content


def test_with_email_a_reset_link_is_mailed_and_sets_a_new_password(settings, annotator):
    settings.PASSWORD_RESET_ENABLED = True  # the tests' mail backend keeps mails in mail.outbox
    annotator.email = "ann@example.org"
    annotator.save()
    client = Client()
    assert b"Forgot your password?" in client.get(reverse("login")).content
    assert client.get(reverse("password_reset")).status_code == 200
    response = client.post(reverse("password_reset"), {"email": "ann@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ann@example.org"]
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link)  # Django swaps the token for a session value and redirects
    assert form.status_code == 302
    page = client.get(form["Location"])
    assert page.status_code == 200 and b"Choose a new password" in page.content
    done = client.post(
        form["Location"], {"new_password1": "a-fresh-stance-2026", "new_password2": "a-fresh-stance-2026"}
    )
    assert done["Location"] == reverse("password_reset_complete")
    assert client.get(done["Location"]).status_code == 200
    login = Client().post(reverse("login"), {"username": "ann", "password": "a-fresh-stance-2026"})
    assert login.status_code == 302
    assert Client().get(link).status_code == 200  # used once: the link now says it does not work
    assert b"This link does not work" in Client().get(link).content


def test_a_reset_for_an_unknown_address_sends_nothing_and_tells_nothing(settings, annotator):
    settings.PASSWORD_RESET_ENABLED = True
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


@pytest.mark.parametrize("login", ["token", "session"])
def test_an_api_body_over_the_upload_limit_is_a_json_413(settings, annotator, huawei, sentences, login):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = APIClient()
    if login == "token":
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(annotator)}")
    else:
        client.force_login(annotator)
    body = {"sentence": sentences[0].id, "target": huawei.id, "label": "pro", "note": "x" * 1000}
    response = client.post("/api/annotations/", json.dumps(body), content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than the limit of 1000 bytes."}
    assert not Annotation.objects.exists()
