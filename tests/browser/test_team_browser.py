"""The team page in the browser: an invite used from a second browser, a role change and a
deactivation swapped in place with their announcements and focus kept, axe on both pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from annotate.models import Target
from tests.browser.axe_check import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-fresh-stance-2026"


def log_in_as_admin(page: Page, live_server) -> None:
    sign_in(page, live_server, "adm", lands="/dashboard/**")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    page.wait_for_url(f"{live_server.url}/team/")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_admin_invites_someone_who_then_labels_and_changes_and_deactivates_a_person(
    page: Page, browser: Browser, live_server, huawei: Target, make_sentences, other_annotator, scheme
):
    make_sentences(3)
    UserFactory(username="adm", role="admin")
    bob = other_annotator
    page.emulate_media(color_scheme=scheme)
    log_in_as_admin(page, live_server)
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    assert_accessible(page)

    # The invite: made here, used from another browser that is not logged in.
    page.select_option("#id_role", "annotator")
    page.fill("#id_note", "Kim, from the lab")
    page.get_by_role("button", name="Make an invite link").click()
    link = page.locator("#new-invite-link").input_value()
    assert link.startswith(f"{live_server.url}/invite/")
    assert_accessible(page)

    visitor_context = browser.new_context(color_scheme=scheme)
    visitor = visitor_context.new_page()
    visitor.goto(link)
    expect(visitor.get_by_role("heading", name="Join Stance")).to_be_visible()
    assert_accessible(visitor)
    visitor.fill("#id_username", "kim")
    visitor.fill("#id_password1", "short")
    visitor.fill("#id_password2", "short")
    visitor.get_by_role("button", name="Make my account").click()
    expect(visitor.locator("#password2-errors, #password1-errors").first).to_contain_text("too short")
    assert_accessible(visitor)
    visitor.fill("#id_username", "kim")
    visitor.fill("#id_password1", NEW_PASSWORD)
    visitor.fill("#id_password2", NEW_PASSWORD)
    visitor.get_by_role("button", name="Make my account").click()
    visitor.wait_for_url(f"{live_server.url}/label/{huawei.pk}/")
    expect(visitor.locator("#sentence-card")).to_be_visible()
    expect(visitor.locator(".who")).to_have_text("kim")
    visitor_context.close()

    # A role change, swapped in place: announced, focus kept on the button.
    page.reload()
    expect(page.locator("#person-" + str(bob.pk))).to_be_visible()
    page.select_option(f"#role-{bob.pk}", "curator")
    page.locator(f"#role-save-{bob.pk}").click()
    status = page.locator("#team-status")
    expect(status).to_have_text("bob is now curator.")
    expect(page.locator(f"#role-{bob.pk}")).to_have_value("curator")
    expect(page.locator(f"#role-save-{bob.pk}")).to_be_focused()

    # A deactivation: the same.
    page.locator(f"#active-{bob.pk}").click()
    expect(status).to_have_text("bob is deactivated; their labels are kept.")
    expect(page.locator(f"#person-{bob.pk}")).to_contain_text("deactivated")
    expect(page.locator(f"#active-{bob.pk}")).to_have_text("Reactivate bob")
    expect(page.locator(f"#active-{bob.pk}")).to_be_focused()

    # A refusal leaves the row and says why: the last admin cannot step down.
    me = page.locator("tr", has_text="adm").first.get_attribute("id")
    assert me is not None
    my_id = me.removeprefix("person-")
    page.select_option(f"#role-{my_id}", "annotator")
    page.locator(f"#role-save-{my_id}").click()
    expect(status).to_have_text("adm is the last active admin: make someone else admin first.")
    expect(page.locator("#person-" + str(bob.pk))).to_contain_text("deactivated")
    expect(page.get_by_role("row", name="kim")).to_contain_text("annotator")
    assert_accessible(page)
