"""Issue 16's "done when", end to end in the browser, from an admin account only: a new
target with guidelines and aliases, an article file imported, an invite link used by a new
annotator who labels by keyboard and changes their oldest label on My labels, and the
admin's JSONL export holding those labels; axe on the pages along the way."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from annotate.models import Annotation, Target
from tests.browser.axe_check import assert_accessible
from tests.browser.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KIM_PASSWORD = "a-fresh-stance-2026"
STORY = (
    "Nokia opened a new plant in Oulu. "
    "The Finnish firm hired four hundred engineers. "
    "Critics said Nokia was late to the market. "
    "The Finnish firm did not comment on the rumour."
)


def test_an_admin_sets_up_a_target_and_an_invited_annotator_labels_it_and_the_export_holds_the_labels(
    page: Page, browser: Browser, live_server, huawei: Target, tmp_path
):
    UserFactory(username="boss", role="admin", is_staff=True)  # all there is after `make run`
    nav = page.get_by_role("navigation", name="Main")

    # (1) The admin logs in and makes a target with guidelines and aliases.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard/\d+/"))
    nav.get_by_role("link", name="Targets").click()
    page.get_by_role("link", name="New target").click()
    page.wait_for_url(f"{live_server.url}/targets/new/")
    page.get_by_label("Name").fill("Nokia")
    page.get_by_label("Guidelines").fill("**pro**: praises Nokia.\n\n**contra**: blames Nokia.")
    page.get_by_label("Aliases").fill("Nokia\nthe Finnish firm")
    page.get_by_label("Overlap:", exact=True).fill("1")
    page.get_by_role("button", name="Create target").click()
    expect(page.get_by_role("status")).to_contain_text("Target Nokia created.")
    nokia = Target.objects.get(name="Nokia")

    # (2) An article file: previewed, confirmed, done (a small file imports in the request).
    news = tmp_path / "news.jsonl"
    news.write_text(json.dumps({"title": "Nokia in Oulu", "body": STORY}) + "\n")
    nav.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import files")).to_be_visible()
    page.get_by_label("Article files").set_input_files(news)
    page.get_by_role("button", name="Preview articles").click()
    expect(page.locator(".upload-summary")).to_have_text(
        "1 article; 4 sentences; 0 already stored (skipped)."
    )
    page.get_by_role("button", name="Confirm and import").click()
    expect(page.get_by_role("status")).to_contain_text("Done")
    expect(page.locator(".upload-messages")).to_contain_text("Imported 1 articles (4 sentences)")
    assert_accessible(page)

    # (3) An invite link for an annotator.
    nav.get_by_role("link", name="Team").click()
    page.wait_for_url(f"{live_server.url}/team/")
    page.select_option("#id_role", "annotator")
    page.get_by_role("button", name="Make an invite link").click()
    link_field = page.locator("#new-invite-link")
    expect(link_field).to_have_value(re.compile(rf"^{re.escape(live_server.url)}/invite/"))
    link = link_field.input_value()
    assert_accessible(page)

    # (4) Someone else, in a browser of their own, joins and labels three sentences by keyboard.
    kim_context = browser.new_context()
    try:
        kim = kim_context.new_page()
        kim.goto(link)
        expect(kim.get_by_role("heading", name="Join Stance")).to_be_visible()
        kim.fill("#id_username", "kim")
        kim.fill("#id_password1", KIM_PASSWORD)
        kim.fill("#id_password2", KIM_PASSWORD)
        kim.get_by_role("button", name="Make my account").click()
        kim.wait_for_url(re.compile(r"/label/\d+/$"))
        expect(kim.locator("#sentence-card")).to_be_visible()
        if not kim.url.endswith(f"/label/{nokia.pk}/"):
            kim.get_by_role("navigation", name="Targets").get_by_role("link", name="Nokia").click()
            kim.wait_for_url(f"{live_server.url}/label/{nokia.pk}/")
        expect(kim.locator(".card-target")).to_have_text("Stance toward Nokia")
        expect(kim.locator("#guidelines")).to_contain_text("praises Nokia")
        current = kim.locator("#current-sentence")
        labelled: list[str] = []
        for key in "123":
            expect(current.locator("mark.alias")).to_have_text(re.compile(r"^(Nokia|The Finnish firm)$"))
            text = current.inner_text()
            labelled.append(text)
            kim.keyboard.press(key)
            expect(current).not_to_have_text(text)
        assert len(set(labelled)) == 3 and all(text in STORY for text in labelled)
        assert_accessible(kim)

        # (5) My labels: the oldest label (the last row, newest first) changed in place.
        kim.get_by_role("navigation", name="Main").get_by_role("link", name="My labels").click()
        kim.wait_for_url(f"{live_server.url}/label/{nokia.pk}/mine/")
        rows = kim.locator(".my-label")
        expect(rows).to_have_count(3)
        oldest = rows.last
        expect(oldest.locator(".my-label-text")).to_have_text(labelled[0])
        # The button names its sentence by its first eight words (any sentence may come
        # first: the new target's order is random).
        first_words = re.escape(" ".join(labelled[0].split()[:5]))
        oldest.get_by_role("button", name=re.compile(f"^Change to contra: {first_words}")).focus()
        kim.keyboard.press("2")
        expect(kim.locator("#status")).to_contain_text("Changed to contra")
        expect(oldest.locator('button[value="contra"]')).to_have_attribute("aria-pressed", "true")
        expect(oldest).to_be_focused()
    finally:
        kim_context.close()

    # (6) The admin downloads the JSONL for Nokia: kim's labels, the changed one among them.
    nav.get_by_role("link", name="Export").click()
    page.wait_for_url(re.compile(r"/export/\d+/form/"))
    if not page.url.endswith(f"/export/{nokia.pk}/form/"):
        page.get_by_role("navigation", name="Targets").get_by_role("link", name="Nokia").click()
        page.wait_for_url(f"{live_server.url}/export/{nokia.pk}/form/")
    page.get_by_role("radio", name="annotations").check()
    page.get_by_role("radio", name="jsonl").check()
    expect(page.locator("#card-preview pre")).to_contain_text("# Nokia: stance dataset (annotations)")
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download", exact=True).click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows_out = [json.loads(line) for line in saved.read_text(encoding="utf-8").splitlines() if line]
    by_text = {row["text"]: row["label"] for row in rows_out}
    assert by_text == {labelled[0]: "contra", labelled[1]: "contra", labelled[2]: "neutral"}
    assert len({row["annotator"] for row in rows_out}) == 1
    assert set(Annotation.objects.filter(target=nokia).values_list("annotator__username", flat=True)) == {
        "kim"
    }
