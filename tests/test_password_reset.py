"""The password reset end to end over each mail backend the settings choose: the console
(DEBUG without EMAIL_HOST) and SMTP (EMAIL_HOST). tests/test_security.py has the switch
itself and the reset through the tests' mail outbox."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^\s]+/)")


def set_password_through(link: str) -> None:
    visitor = Client()
    form = visitor.get(link)
    assert form.status_code == 302  # Django swaps the token for a session value
    done = visitor.post(
        form["Location"], {"new_password1": "a-fresh-stance-2026", "new_password2": "a-fresh-stance-2026"}
    )
    assert done["Location"] == reverse("password_reset_complete")
    login = Client().post(reverse("login"), {"username": "ann", "password": "a-fresh-stance-2026"})
    assert login.status_code == 302


@pytest.fixture
def ann_with_email(annotator):
    annotator.email = "ann@example.org"
    annotator.save()
    return annotator


def test_in_development_the_reset_mail_is_printed_with_a_link_that_sets_a_new_password(
    settings, ann_with_email, capsys
):
    settings.DEBUG = True
    settings.PASSWORD_RESET_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert b"Forgot your password?" in Client().get(reverse("login")).content

    response = Client().post(reverse("password_reset"), {"email": "ann@example.org"})

    assert response["Location"] == reverse("password_reset_done")
    printed = capsys.readouterr().out
    assert "To: ann@example.org" in printed
    set_password_through(LINK.search(printed).group(1))


def test_over_smtp_the_reset_mail_goes_to_the_configured_server_with_a_working_link(settings, ann_with_email):
    settings.PASSWORD_RESET_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "smtp.example.org", 587, True
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "stance", "mail-secret"
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "stance@example.org"

    with mock.patch("django.core.mail.backends.smtp.smtplib.SMTP") as smtp:
        response = Client().post(reverse("password_reset"), {"email": "ann@example.org"})

    assert response["Location"] == reverse("password_reset_done")
    smtp.assert_called_once()
    assert smtp.call_args.args == ("smtp.example.org", 587) and smtp.call_args.kwargs["timeout"] == 10
    server = smtp.return_value
    server.starttls.assert_called_once()
    server.login.assert_called_once_with("stance", "mail-secret")
    ((sender, recipients, message), _) = server.sendmail.call_args
    assert (sender, recipients) == ("stance@example.org", ["ann@example.org"])
    body = message.decode()
    set_password_through(LINK.search(body).group(1))
