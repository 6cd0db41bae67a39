"""The team page: people with their role and labels, role changes, deactivation, reset links."""

from __future__ import annotations

import datetime
import json
import re
import time

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotate import team
from annotate.models import Annotation, Assignment
from annotate.progress import SHARE_INPUTS_KEY, share_inputs
from annotate.queue.record import annotation_record
from annotate.team import TeamRefused, person_active_set, person_role_set, team_members
from tests.factories import AssignmentFactory, SentenceFactory, TargetFactory, UserFactory, api_client
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db) -> User:
    """An admin by group, not a superuser: the last-admin rule counts them."""
    return UserFactory(username="adm", role="admin")


@pytest.fixture
def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def roles_of(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def htmx_post(client: Client, url: str, data: dict[str, str]):
    return client.post(url, data, HTTP_HX_REQUEST="true")


# The page ---------------------------------------------------------------------------------


def test_the_team_page_lists_everyone_with_role_account_and_labels_per_target(
    admin_client, annotator, curator, huawei
):
    zte = TargetFactory(name="ZTE")
    sentences = SentenceFactory.create_batch(3)
    for sentence in sentences:
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
    annotation_record(annotator=annotator, sentence=sentences[0], target=zte, label="skip")
    annotation_record(annotator=annotator, sentence=sentences[1], target=zte, label="contra")
    latest = Annotation.objects.filter(annotator=annotator).order_by("-updated_at").first().updated_at
    curator.is_active = False
    curator.save()

    response = admin_client.get(reverse("team"))

    assert response.status_code == 200
    people = {p.username: p for p in response.context["people"]}
    ann = people["ann"]
    assert (ann.role, ann.is_active, ann.labels, ann.skips) == ("annotator", True, 4, 1)
    assert [(t.target_name, t.labels, t.skips) for t in ann.targets] == [("Huawei", 3, 0), ("ZTE", 1, 1)]
    assert ann.last_label_at == latest
    assert (people["cur"].role, people["cur"].is_active, people["cur"].labels) == ("curator", False, 0)
    assert people["adm"].role == "admin" and people["adm"].last_label_at is None
    html = response.content.decode()
    assert f'id="person-{annotator.pk}"' in html
    assert "Huawei: 3" in html and "ZTE: 1 (+1)" in html
    assert "deactivated" in html


def test_someone_in_several_role_groups_is_shown_with_the_highest(admin_client, annotator):
    annotator.groups.add(Group.objects.get(name="curator"))
    people = {p.username: p for p in team_members()}
    assert people["ann"].role == "curator"


def test_the_header_links_the_team_page_for_admins_only(admin_client, curator):
    assert reverse("team") in admin_client.get(reverse("target-list")).content.decode()
    client = Client()
    client.force_login(curator)
    assert reverse("team") not in client.get(reverse("target-list")).content.decode()


def make_team(size: int, targets) -> None:
    for i in range(size):
        person = UserFactory(username=f"p{size}-{i}", role="annotator", email=f"p{i}@example.org")
        for target in targets:
            annotation_record(annotator=person, sentence=SentenceFactory(), target=target, label="pro")


@pytest.mark.parametrize("size", [2, 25])
def test_the_team_page_takes_a_bounded_number_of_queries_at_any_size(
    admin_client, huawei, size, django_assert_max_num_queries
):
    make_team(size, [huawei, TargetFactory(name="ZTE")])
    from annotate.invites import invite_create

    for _ in range(size):
        invite_create(created_by=User.objects.get(username="adm"), role="annotator")
    admin_client.get(reverse("team"))
    # session, user, the role check, people, their tallies, open invites, the header's groups
    # and its default target
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("team"))
    assert response.status_code == 200
    assert len(response.context["people"]) == size + 1


@pytest.mark.parametrize("size", [2, 25])
def test_a_role_change_takes_a_bounded_number_of_queries_at_any_size(
    admin_client, huawei, size, django_assert_max_num_queries
):
    make_team(size, [huawei])
    person = User.objects.get(username=f"p{size}-0")
    AssignmentFactory(annotator=person, target=huawei)
    # 13 to check and write (the admin group's lock, the count of the other admins, the
    # groups, the reservation with its target's lock), 5 for the row read again
    with django_assert_max_num_queries(18):
        response = htmx_post(admin_client, reverse("team-role", args=[person.pk]), {"role": "curator"})
    assert response.status_code == 200


# Roles --------------------------------------------------------------------------------------


def test_an_admin_changes_a_role_and_the_row_is_swapped_with_an_announcement(admin_client, annotator):
    response = htmx_post(admin_client, reverse("team-role", args=[annotator.pk]), {"role": "curator"})

    assert response.status_code == 200
    assert roles_of(annotator) == ["curator"]
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="person-{annotator.pk}"')
    assert '<option value="curator" selected>' in html
    assert json.loads(response["HX-Trigger"]) == {"team-status": {"message": "ann is now curator."}}


def test_without_htmx_a_role_change_redirects_to_the_team_page_with_a_message(admin_client, annotator):
    response = admin_client.post(reverse("team-role", args=[annotator.pk]), {"role": "admin"}, follow=True)
    assert response.redirect_chain == [(reverse("team"), 302)]
    assert "ann is now admin." in response.content.decode()
    assert roles_of(annotator) == ["admin"]


def test_a_role_change_leaves_one_role_only(admin_client, annotator):
    annotator.groups.add(Group.objects.get(name="curator"))
    htmx_post(admin_client, reverse("team-role", args=[annotator.pk]), {"role": "admin"})
    assert roles_of(annotator) == ["admin"]


def test_an_unknown_role_is_refused_and_nothing_is_written(admin_client, annotator):
    response = htmx_post(admin_client, reverse("team-role", args=[annotator.pk]), {"role": "owner"})
    assert response.status_code == 400
    assert response.content.decode() == "Unknown role: choose one of annotator, curator, admin."
    assert roles_of(annotator) == ["annotator"]


def test_without_htmx_a_refusal_shows_the_page_with_the_message(admin_client, annotator):
    response = admin_client.post(reverse("team-role", args=[annotator.pk]), {"role": "owner"})
    assert response.status_code == 400
    assert "Unknown role: choose one of annotator, curator, admin." in response.content.decode()
    assert roles_of(annotator) == ["annotator"]


def test_the_service_refuses_an_unknown_role_too(admin, annotator):
    with pytest.raises(TeamRefused, match="Unknown role"):
        person_role_set(person_id=annotator.pk, role="owner")
    assert roles_of(annotator) == ["annotator"]


@pytest.mark.parametrize("url", ["team-role", "team-active", "team-reset"])
def test_a_change_for_a_person_who_is_not_there_is_a_404_and_writes_nothing(admin_client, annotator, url):
    before = list(User.objects.values_list("pk", "is_active"))
    response = htmx_post(
        admin_client, reverse(url, args=[annotator.pk + 1000]), {"role": "admin", "active": "0"}
    )
    assert response.status_code == 404
    assert list(User.objects.values_list("pk", "is_active")) == before
    assert roles_of(annotator) == ["annotator"]


def test_the_last_active_admin_cannot_demote_themselves(admin_client, admin):
    response = htmx_post(admin_client, reverse("team-role", args=[admin.pk]), {"role": "curator"})
    assert response.status_code == 400
    assert "adm is the last active admin" in response.content.decode()
    assert roles_of(admin) == ["admin"]


def test_an_inactive_admin_does_not_count_as_another_admin(admin_client, admin):
    UserFactory(username="gone", role="admin", is_active=False)
    response = htmx_post(admin_client, reverse("team-role", args=[admin.pk]), {"role": "annotator"})
    assert response.status_code == 400
    assert roles_of(admin) == ["admin"]


def test_an_admin_may_step_down_when_another_admin_remains_and_is_sent_home(admin_client, admin):
    UserFactory(username="adm2", role="admin")
    response = htmx_post(admin_client, reverse("team-role", args=[admin.pk]), {"role": "curator"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("home")
    assert roles_of(admin) == ["curator"]


def test_without_htmx_an_admin_who_steps_down_is_sent_home(admin_client, admin):
    UserFactory(username="adm2", role="admin")
    response = admin_client.post(reverse("team-role", args=[admin.pk]), {"role": "annotator"})
    assert response["Location"] == reverse("home")
    assert roles_of(admin) == ["annotator"]


def test_a_superusers_role_is_not_changed_here(admin_client, admin_user):
    response = htmx_post(admin_client, reverse("team-role", args=[admin_user.pk]), {"role": "annotator"})
    assert response.status_code == 400
    assert "superuser" in response.content.decode()
    assert roles_of(admin_user) == ["admin"]


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin(monkeypatch):
    for name in ("annotator", "curator", "admin"):
        Group.objects.get_or_create(name=name)
    counted = team._active_admins_besides

    def slow_count(person_id: int) -> int:
        found = counted(person_id)
        time.sleep(0.5)  # both have counted before either writes, unless one waits for the other
        return found

    monkeypatch.setattr(team, "_active_admins_besides", slow_count)
    first, second = UserFactory(username="a1", role="admin"), UserFactory(username="a2", role="admin")
    outcome = run_in_threads(
        [
            lambda: person_role_set(person_id=second.pk, role="curator"),
            lambda: person_role_set(person_id=first.pk, role="curator"),
        ],
        expected=TeamRefused,
    )
    assert outcome.errors == []
    assert outcome.refused == 1
    assert User.objects.filter(groups__name="admin", is_active=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_admins_deactivating_each_other_at_once_leave_one_active_admin(monkeypatch):
    for name in ("annotator", "curator", "admin"):
        Group.objects.get_or_create(name=name)
    counted = team._active_admins_besides

    def slow_count(person_id: int) -> int:
        found = counted(person_id)
        time.sleep(0.5)
        return found

    monkeypatch.setattr(team, "_active_admins_besides", slow_count)
    first, second = UserFactory(username="a1", role="admin"), UserFactory(username="a2", role="admin")
    outcome = run_in_threads(
        [
            lambda: person_active_set(actor=first, person_id=second.pk, active=False),
            lambda: person_active_set(actor=second, person_id=first.pk, active=False),
        ],
        expected=TeamRefused,
    )
    assert outcome.errors == []
    assert outcome.refused == 1
    assert User.objects.filter(groups__name="admin", is_active=True).count() == 1


def test_leaving_the_annotator_role_releases_their_reservations(admin_client, annotator, huawei):
    AssignmentFactory(annotator=annotator, target=huawei)
    htmx_post(admin_client, reverse("team-role", args=[annotator.pk]), {"role": "curator"})
    assert not Assignment.objects.filter(annotator=annotator).exists()


def test_a_role_change_refreshes_the_progress_bars_annotator_count(
    admin_client, annotator, other_annotator, django_capture_on_commit_callbacks
):
    assert share_inputs()[1] == 2
    with django_capture_on_commit_callbacks(execute=True):
        htmx_post(admin_client, reverse("team-role", args=[other_annotator.pk]), {"role": "curator"})
    assert cache.get(SHARE_INPUTS_KEY) is None
    assert share_inputs()[1] == 1


# Deactivation -------------------------------------------------------------------------------


def test_deactivating_keeps_the_labels_releases_every_reservation_and_stops_the_login(
    admin_client, annotator, other_annotator, huawei
):
    zte = TargetFactory(name="ZTE")
    annotation_record(annotator=annotator, sentence=SentenceFactory(), target=huawei, label="pro")
    AssignmentFactory(annotator=annotator, target=huawei)
    AssignmentFactory(annotator=annotator, target=zte)
    theirs = AssignmentFactory(annotator=other_annotator, target=huawei)
    signed_in = Client()
    signed_in.force_login(annotator)

    response = htmx_post(admin_client, reverse("team-active", args=[annotator.pk]), {"active": "0"})

    assert response.status_code == 200
    assert "deactivated" in response.content.decode()
    annotator.refresh_from_db()
    assert annotator.is_active is False
    assert Annotation.objects.filter(annotator=annotator).count() == 1
    assert list(Assignment.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert signed_in.get(reverse("home"))["Location"].startswith(reverse("login"))
    login = Client().post(reverse("login"), {"username": "ann", "password": "correct-horse-battery"})
    assert login.status_code == 200  # the form again: the account cannot log in


def test_a_deactivated_persons_api_token_stops_working(admin_client, annotator):
    client = api_client(annotator)
    assert client.get("/api/targets/").status_code == 200
    htmx_post(admin_client, reverse("team-active", args=[annotator.pk]), {"active": "0"})
    assert client.get("/api/targets/").status_code == 401


def test_a_deactivated_person_can_be_reactivated(admin_client, annotator):
    annotator.is_active = False
    annotator.save()
    response = htmx_post(admin_client, reverse("team-active", args=[annotator.pk]), {"active": "1"})
    assert json.loads(response["HX-Trigger"]) == {"team-status": {"message": "ann is active again."}}
    annotator.refresh_from_db()
    assert annotator.is_active is True


def test_an_admin_cannot_deactivate_themselves(admin_client, admin):
    UserFactory(username="adm2", role="admin")
    response = htmx_post(admin_client, reverse("team-active", args=[admin.pk]), {"active": "0"})
    assert response.status_code == 400
    assert "your own account" in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active is True


def test_a_bad_active_value_is_refused_and_nothing_is_written(admin_client, annotator):
    response = htmx_post(admin_client, reverse("team-active", args=[annotator.pk]), {"active": "maybe"})
    assert response.status_code == 400
    annotator.refresh_from_db()
    assert annotator.is_active is True


# The rules for every write ------------------------------------------------------------------

WRITES = [
    ("team-role", {"role": "curator"}),
    ("team-active", {"active": "0"}),
    ("team-reset", {}),
]


@pytest.mark.parametrize(("name", "data"), WRITES)
def test_a_write_without_the_csrf_token_is_refused_and_writes_nothing(admin, annotator, name, data, settings):
    settings.PASSWORD_RESET_ENABLED = True
    annotator.email = "ann@example.org"
    annotator.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post(reverse(name, args=[annotator.pk]), data)
    assert response.status_code == 403
    annotator.refresh_from_db()
    assert (roles_of(annotator), annotator.is_active, mail.outbox) == (["annotator"], True, [])


@pytest.mark.parametrize(("name", "data"), WRITES)
@pytest.mark.parametrize("role", ["annotator", "curator"])
def test_a_write_by_someone_not_an_admin_is_a_403_and_writes_nothing(
    other_annotator, curator, name, data, role, settings
):
    settings.PASSWORD_RESET_ENABLED = True
    person = UserFactory(username="target-person", role="annotator", email="t@example.org")
    client = Client()
    client.force_login(other_annotator if role == "annotator" else curator)
    response = client.post(reverse(name, args=[person.pk]), data)
    assert response.status_code == 403
    person.refresh_from_db()
    assert (roles_of(person), person.is_active, mail.outbox) == (["annotator"], True, [])


@pytest.mark.parametrize(("name", "data"), WRITES)
def test_a_write_must_be_a_post(admin_client, annotator, name, data):
    assert admin_client.get(reverse(name, args=[annotator.pk])).status_code == 405


# Password reset from the team page --------------------------------------------------------


def test_an_admin_sends_a_reset_link_that_sets_a_new_password(admin_client, annotator, settings):
    settings.PASSWORD_RESET_ENABLED = True
    annotator.email = "ann@example.org"
    annotator.save()
    UserFactory(username="same-address", email="ann@example.org")  # only the one person is mailed

    response = htmx_post(admin_client, reverse("team-reset", args=[annotator.pk]), {})

    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {
        "team-status": {"message": "A password-reset link is on its way to ann@example.org."}
    }
    assert [m.to for m in mail.outbox] == [["ann@example.org"]]
    assert "Stance account ann" in mail.outbox[0].body
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    visitor = Client()
    form = visitor.get(link)
    assert form.status_code == 302
    done = visitor.post(
        form["Location"], {"new_password1": "a-fresh-stance-2026", "new_password2": "a-fresh-stance-2026"}
    )
    assert done["Location"] == reverse("password_reset_complete")
    login = Client().post(reverse("login"), {"username": "ann", "password": "a-fresh-stance-2026"})
    assert login.status_code == 302


def test_a_reset_link_for_a_person_without_an_email_is_refused(admin_client, annotator, settings):
    settings.PASSWORD_RESET_ENABLED = True
    response = htmx_post(admin_client, reverse("team-reset", args=[annotator.pk]), {})
    assert response.status_code == 400
    assert response.content.decode() == "ann has no e-mail address to send the link to."
    assert mail.outbox == []


def test_without_email_configured_no_reset_link_is_sent_and_no_button_shown(
    admin_client, annotator, settings
):
    settings.PASSWORD_RESET_ENABLED = False
    annotator.email = "ann@example.org"
    annotator.save()
    assert f'id="reset-{annotator.pk}"' not in admin_client.get(reverse("team")).content.decode()
    response = htmx_post(admin_client, reverse("team-reset", args=[annotator.pk]), {})
    assert response.status_code == 400
    assert mail.outbox == []


def test_the_reset_button_is_shown_for_a_person_with_an_email(admin_client, annotator, settings):
    settings.PASSWORD_RESET_ENABLED = True
    annotator.email = "ann@example.org"
    annotator.save()
    assert f'id="reset-{annotator.pk}"' in admin_client.get(reverse("team")).content.decode()


def test_the_last_label_date_is_the_latest_over_targets(admin_client, annotator, huawei):
    zte = TargetFactory(name="ZTE")
    annotation_record(annotator=annotator, sentence=SentenceFactory(), target=huawei, label="pro")
    later = annotation_record(
        annotator=annotator, sentence=SentenceFactory(), target=zte, label="pro"
    ).annotation
    Annotation.objects.filter(pk=later.pk).update(updated_at=timezone.now() + datetime.timedelta(days=1))
    (ann,) = [p for p in team_members() if p.username == "ann"]
    assert ann.last_label_at == Annotation.objects.get(pk=later.pk).updated_at
