"""The search page in a real browser: a curator searches, sees the matches marked and the
count announced by the live region (the same node after the swap), pages on, follows a
result to adjudication; axe on the page, light and dark."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotate.queue.record import annotation_record
from tests.browser.axe_check import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import ArticleFactory, SentenceFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


@pytest.fixture
def corpus(huawei, annotator, other_annotator):
    article = ArticleFactory(title="Huawei and 5G", source="Times")
    texts = [f"Filler sentence {i} on the Huawei ban." for i in range(23)]
    texts.insert(3, "Officials called Huawei a trusted partner.")
    sentences = [
        SentenceFactory(article=article, position=i, text=text, end=len(text)) for i, text in enumerate(texts)
    ]
    partner = sentences[3]
    annotation_record(annotator=annotator, sentence=partner, target=huawei, label="pro")
    annotation_record(annotator=other_annotator, sentence=partner, target=huawei, label="contra")
    UserFactory(username="cur", role="curator")
    return partner


def log_in(page: Page, live_server) -> None:
    sign_in(page, live_server, "cur", lands="/dashboard/**")


def test_a_curator_searches_and_follows_a_result_to_adjudication(page: Page, live_server, huawei, corpus):
    log_in(page, live_server)
    page.get_by_role("link", name="Search", exact=True).click()
    page.wait_for_url(f"{live_server.url}/search/{huawei.pk}/")
    assert_accessible(page)
    page.evaluate("window.__count = document.getElementById('search-count')")
    page.locator("#id_q").fill('"trusted partner"')
    page.locator("#id_q").press("Enter")
    expect(page.locator("#search-count")).to_have_text("1 sentence found.")
    assert page.evaluate("window.__count === document.getElementById('search-count')")
    marks = page.locator("#search-results mark")
    expect(marks.first).to_be_visible()
    # The phrase is marked whole on SQLite (FTS5's match), a word at a time on PostgreSQL
    # (its lexemes); either way exactly the phrase's words and nothing else.
    assert " ".join(marks.all_inner_texts()) == "trusted partner"
    expect(page.locator("#search-results")).to_contain_text("pro 1, contra 1")
    assert "q=%22trusted%20partner%22" in page.url  # pushed: the search can be linked and reloaded
    assert_accessible(page)
    page.emulate_media(color_scheme="dark")
    assert_accessible(page)
    page.emulate_media(color_scheme="light")

    page.locator("#search-results").get_by_role("link", name="Adjudicate").click()
    page.wait_for_url(f"{live_server.url}/adjudicate/{huawei.pk}/?sentence={corpus.pk}")
    expect(page.locator("#current-sentence")).to_have_text("Officials called Huawei a trusted partner.")


def test_the_next_page_replaces_the_results_and_takes_the_focus(page: Page, live_server, huawei, corpus):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/search/{huawei.pk}/?q=huawei")
    expect(page.locator(".search-hit")).to_have_count(20)
    expect(page.locator("#search-count")).to_have_text("24 sentences found.")
    page.get_by_role("link", name="Next 20 results").click()
    expect(page.locator(".search-hit")).to_have_count(4)
    expect(page.locator("#search-count")).to_have_text("24 sentences found, a further page shown.")
    expect(page.locator("#search-results")).to_be_focused()  # moved once the swap settles
    assert_accessible(page)
