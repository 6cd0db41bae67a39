"""Importing a .jsonl from the browser: file input, preview, confirm, progress to done; axe."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Article
from tests.browser.axe_check import assert_accessible
from tests.browser.conftest import PASSWORD
from tests.factories import UserFactory
from tests.tasks import run_queued_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_uploads_a_jsonl_previews_it_and_sees_the_import_reach_done(
    page: Page, live_server, huawei, settings, tmp_path
):
    settings.UPLOAD_INLINE_MAX_BYTES = 10  # so small a file still goes to the background worker
    UserFactory(username="boss", role="admin", is_staff=True)
    news = tmp_path / "news.jsonl"
    news.write_text(
        "".join(
            json.dumps({"title": f"Story {n}", "body": f"Huawei story {n}. It goes on."}) + "\n"
            for n in range(4)
        )
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import files")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Article files").set_input_files(news)
    page.get_by_label("Licence").fill("CC-BY-4.0")
    page.get_by_role("button", name="Preview articles").click()
    expect(page.locator(".upload-summary")).to_have_text(
        "4 articles; 8 sentences; 0 already stored (skipped)."
    )
    expect(page.locator(".upload-first li").first).to_have_text("Huawei story 0.")
    assert_accessible(page)
    assert Article.objects.count() == 0

    page.get_by_role("button", name="Confirm and import").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Queued")
    task = run_queued_task()
    assert task.status == "SUCCESSFUL", task.traceback
    expect(status).to_contain_text("Done", timeout=15_000)
    expect(page.locator("#upload-progress")).to_have_attribute("value", "4")
    expect(page.locator(".upload-messages")).to_contain_text(
        "Imported 4 articles (8 sentences); skipped 0 already present."
    )
    assert_accessible(page)
    assert set(Article.objects.values_list("licence", flat=True)) == {"CC-BY-4.0"}


def test_a_refused_file_shows_the_error_and_the_page_passes_axe_in_the_dark(
    page: Page, live_server, huawei, tmp_path
):
    UserFactory(username="boss", role="admin", is_staff=True)
    bad = tmp_path / "news.jsonl"
    bad.write_text('{"title": "A", "body": "B."}\n{"title": \n')
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server.url}/accounts/login/?next=/uploads/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Article files").set_input_files(bad)
    page.get_by_role("button", name="Preview articles").click()
    expect(page.get_by_role("alert")).to_contain_text("news.jsonl:2: invalid JSON: Expecting value")
    assert_accessible(page)
    assert Article.objects.count() == 0
