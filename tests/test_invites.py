"""Invite links: made on the team page, used once by a visitor who is not logged in."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate.invites import InviteRefused, invite_accept, invite_create
from annotate.models import Invite
from tests.factories import UserFactory
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

GOOD = {"username": "newbie", "password1": "a-fresh-stance-2026", "password2": "a-fresh-stance-2026"}


@pytest.fixture
def admin(db) -> User:
    return UserFactory(username="adm", role="admin")


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def link_of(token: str) -> str:
    return reverse("invite", args=[token])


# Making an invite ---------------------------------------------------------------------------


def test_an_admin_makes_an_invite_and_sees_its_link_once(admin_client, admin, settings):
    settings.INVITE_EXPIRY_DAYS = 3
    before = timezone.now()
    response = admin_client.post(
        reverse("team-invite"), {"role": "curator", "email": "new@example.org", "note": "Kim, from the lab"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("team")

    page = admin_client.get(reverse("team")).content.decode()
    invite = Invite.objects.get()
    assert (invite.role, invite.email, invite.note, invite.created_by) == (
        "curator",
        "new@example.org",
        "Kim, from the lab",
        admin,
    )
    assert (
        before + datetime.timedelta(days=3)
        <= invite.expires_at
        <= timezone.now() + datetime.timedelta(days=3)
    )
    start = page.index('id="new-invite-link"')
    token = page[start:].split("/invite/", 1)[1].split("/", 1)[0]
    assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invite.token_hash
    assert "Kim, from the lab" in page  # among the open invites
    assert "/invite/" not in admin_client.get(reverse("team")).content.decode()  # shown once


def test_the_token_is_not_stored(admin):
    made = invite_create(created_by=admin, role="annotator")
    (row,) = Invite.objects.filter(pk=made.invite.pk).values()
    assert all(made.token not in str(value) for value in row.values())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role": "owner"}, "Select a valid choice. owner is not one of the available choices."),
        ({"role": "annotator", "email": "not-an-address"}, "Enter a valid email address."),
        ({"role": "annotator", "note": "x" * 201}, "Ensure this value has at most 200 characters"),
    ],
)
def test_a_bad_invite_is_refused_with_a_message_and_nothing_is_made(admin_client, data, message):
    response = admin_client.post(reverse("team-invite"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Invite.objects.exists()


def test_the_service_refuses_an_unknown_role(admin):
    with pytest.raises(InviteRefused, match="Unknown role"):
        invite_create(created_by=admin, role="owner")
    assert not Invite.objects.exists()


@pytest.mark.parametrize("role", ["annotator", "curator"])
def test_only_admins_make_invites(db, role):
    client = Client()
    client.force_login(UserFactory(username="someone", role=role))
    assert client.post(reverse("team-invite"), {"role": "admin"}).status_code == 403
    assert not Invite.objects.exists()


def test_making_an_invite_needs_the_csrf_token(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(reverse("team-invite"), {"role": "admin"}).status_code == 403
    assert not Invite.objects.exists()


def test_an_admin_revokes_an_open_invite(admin_client, admin):
    made = invite_create(created_by=admin, role="annotator")
    response = admin_client.post(reverse("team-invite-revoke", args=[made.invite.pk]))
    assert response.status_code == 302
    assert Client().get(link_of(made.token)).status_code == 410


def test_a_used_invite_cannot_be_revoked(admin_client, admin):
    made = invite_create(created_by=admin, role="annotator")
    invite_accept(token=made.token, username="newbie", password=GOOD["password1"])
    response = admin_client.post(reverse("team-invite-revoke", args=[made.invite.pk]))
    assert response.status_code == 400
    assert "used already" in response.content.decode()


# Using an invite ----------------------------------------------------------------------------


def test_a_visitor_opens_the_link_chooses_a_password_and_is_labelling_as_annotator(admin, huawei, sentences):
    made = invite_create(created_by=admin, role="annotator", email="new@example.org")
    visitor = Client()

    page = visitor.get(link_of(made.token))
    assert page.status_code == 200
    assert "You are invited as <strong>annotator</strong>" in page.content.decode()

    response = visitor.post(link_of(made.token), GOOD, follow=True)

    assert response.redirect_chain[0] == (reverse("home"), 302)
    assert response.request["PATH_INFO"] == reverse("label", args=[huawei.pk])
    user = User.objects.get(username="newbie")
    assert list(user.groups.values_list("name", flat=True)) == ["annotator"]
    assert user.email == "new@example.org"
    assert user.check_password(GOOD["password1"])
    invite = Invite.objects.get()
    assert invite.used_by == user and invite.used_at is not None
    again = Client().post(reverse("login"), {"username": "newbie", "password": GOOD["password1"]})
    assert again.status_code == 302


@pytest.mark.parametrize("role", ["curator", "admin"])
def test_the_account_gets_the_invites_role(admin, role):
    made = invite_create(created_by=admin, role=role)
    Client().post(link_of(made.token), GOOD)
    assert list(User.objects.get(username="newbie").groups.values_list("name", flat=True)) == [role]


def test_a_used_link_does_not_work_again(admin):
    made = invite_create(created_by=admin, role="admin")
    Client().post(link_of(made.token), GOOD)
    page = Client().get(link_of(made.token))
    assert page.status_code == 410
    assert "has been used already" in page.content.decode()
    second = Client().post(link_of(made.token), {**GOOD, "username": "second"})
    assert second.status_code == 410
    assert not User.objects.filter(username="second").exists()


def test_an_expired_link_does_not_work(admin):
    made = invite_create(created_by=admin, role="annotator")
    Invite.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    page = Client().get(link_of(made.token))
    assert page.status_code == 410
    assert "has expired" in page.content.decode()
    assert Client().post(link_of(made.token), GOOD).status_code == 410
    assert not User.objects.filter(username="newbie").exists()
    with pytest.raises(InviteRefused, match="expired"):
        invite_accept(token=made.token, username="newbie", password=GOOD["password1"])


def test_an_unknown_link_does_not_work(db):
    page = Client().get(link_of("made-up-token"))
    assert page.status_code == 410
    assert "not valid" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**GOOD, "password1": "short", "password2": "short"}, "This password is too short."),
        ({**GOOD, "password1": "password123", "password2": "password123"}, "This password is too common."),
        (
            {**GOOD, "password1": "8675309142", "password2": "8675309142"},
            "This password is entirely numeric.",
        ),
        ({**GOOD, "password2": "something-else-2026"}, "The two password fields didn"),
        ({**GOOD, "username": "adm"}, "A user with that username already exists."),
        ({**GOOD, "username": "ADM"}, "A user with that username already exists."),
        ({**GOOD, "username": "no spaces"}, "Enter a valid username."),
    ],
)
def test_a_bad_username_or_password_is_refused_and_the_link_still_works(admin, data, message):
    made = invite_create(created_by=admin, role="annotator")
    users = User.objects.count()
    response = Client().post(link_of(made.token), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.count() == users
    assert Invite.objects.get().used_at is None
    assert Client().get(link_of(made.token)).status_code == 200


def test_a_username_taken_meanwhile_leaves_the_invite_unused(admin):
    made = invite_create(created_by=admin, role="annotator")
    with pytest.raises(InviteRefused, match="taken"):
        invite_accept(token=made.token, username="ADM", password=GOOD["password1"])
    assert Invite.objects.get().used_at is None


def test_the_invite_page_is_open_without_a_login_but_the_team_page_is_not(admin):
    made = invite_create(created_by=admin, role="annotator")
    assert Client().get(link_of(made.token)).status_code == 200
    assert Client().get(reverse("team"))["Location"].startswith(reverse("login"))


def test_accepting_needs_the_csrf_token(admin):
    made = invite_create(created_by=admin, role="annotator")
    response = Client(enforce_csrf_checks=True).post(link_of(made.token), GOOD)
    assert response.status_code == 403
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.django_db(transaction=True)
def test_two_visitors_using_one_link_at_once_make_one_account():
    for name in ("annotator", "curator", "admin"):
        Group.objects.get_or_create(name=name)
    made = invite_create(created_by=UserFactory(username="adm", role="admin"), role="annotator")
    outcome = run_in_threads(
        [
            lambda: invite_accept(token=made.token, username="first", password=GOOD["password1"]),
            lambda: invite_accept(token=made.token, username="second", password=GOOD["password1"]),
        ],
        expected=InviteRefused,
    )
    assert outcome.errors == []
    assert outcome.refused == 1
    assert User.objects.filter(username__in=["first", "second"]).count() == 1
    invite = Invite.objects.get()
    assert invite.used_by is not None and invite.used_by.username in ("first", "second")
