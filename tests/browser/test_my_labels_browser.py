"""My labels in a real browser: label by keyboard, open My labels, filter, change an old
label in place with its row's key, hear it announced; axe on the page, light and dark."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Annotation, AnnotationEvent
from tests.browser.axe_check import assert_accessible

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


def test_an_annotator_changes_an_old_label_in_place_from_my_labels(
    page: Page, live_server, log_in, annotator, huawei, make_sentences
):
    sentences = make_sentences(5)
    log_in(page, "ann")
    for key, following in zip("1231", sentences[1:], strict=True):
        page.keyboard.press(key)
        expect(page.locator("#current-sentence")).to_have_text(following.text)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My labels").click()
    page.wait_for_url(f"{live_server.url}/label/{huawei.pk}/mine/")
    expect(page.locator(".my-label")).to_have_count(4)
    page.emulate_media(color_scheme="dark")
    assert_accessible(page)

    page.get_by_label("Label", exact=True).select_option("pro")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/mine/?**label=pro**")
    expect(page.locator(".my-label")).to_have_count(2)
    page.emulate_media(color_scheme="light")
    assert_accessible(page)

    oldest = Annotation.objects.get(annotator=annotator, sentence=sentences[0])
    row = page.locator(f"#mine-{oldest.pk}")
    row.get_by_role("button", name=f"Change to contra: {sentences[0].text}").focus()
    page.keyboard.press("2")

    expect(page.locator("#status")).to_contain_text("Changed to contra")
    expect(row.locator('button[value="contra"]')).to_have_attribute("aria-pressed", "true")
    expect(row).to_be_focused()
    oldest.refresh_from_db()
    assert oldest.label == "contra"
    event = AnnotationEvent.objects.filter(annotator=annotator).latest("id")
    assert (event.action, event.old_label, event.new_label) == ("relabel", "pro", "contra")
    assert_accessible(page)


def test_an_annotator_changes_a_label_on_the_article_page_and_unlabelled_sentences_have_no_buttons(
    page: Page, live_server, log_in, annotator, huawei, make_sentences
):
    sentences = make_sentences(4)
    log_in(page, "ann")
    page.keyboard.press("3")
    expect(page.locator("#current-sentence")).to_have_text(sentences[1].text)

    page.goto(f"{live_server.url}/articles/{sentences[0].article_id}/?target={huawei.pk}")
    labelled = page.locator(f"#s{sentences[0].pk}")
    expect(page.locator(f"#s{sentences[2].pk} button")).to_have_count(0)
    assert_accessible(page)
    labelled.get_by_role("button", name=f"Change to pro: {sentences[0].text}").focus()
    page.keyboard.press("1")

    expect(page.locator("#status")).to_contain_text("Changed to pro")
    expect(labelled).to_have_class("labelled-pro")
    expect(labelled).to_be_focused()
    assert Annotation.objects.get(annotator=annotator, sentence=sentences[0]).label == "pro"
    assert_accessible(page)
