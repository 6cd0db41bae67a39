"""Flags and returned labels in a real browser: the annotator flags the shown sentence
with `f`, the curator finds it in the flagged order and returns the label with a comment,
and the annotator gets it first, reads the comment and relabels; focus after each swap,
the status line's announcement, and axe on every step."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Annotation, AnnotationEvent, Flag, LabelReturn
from annotate.queue.record import annotation_record
from tests.browser.axe_check import assert_accessible
from tests.browser.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

CURRENT = "#current-sentence"


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_flag_leads_the_curator_to_return_a_label_and_the_annotator_relabels_it_first(
    page, browser, live_server, huawei, annotator, other_annotator, make_sentences, log_in
):
    s = make_sentences(3)
    annotation_record(annotator=other_annotator, sentence=s[0], target=huawei, label="contra")
    UserFactory(username="cur", role="curator")

    # The annotator flags the sentence shown: f, a reason, a comment, Enter.
    log_in(page, "ann")
    expect(page.locator(CURRENT)).to_have_text(s[0].text)
    page.keyboard.press("f")
    expect(page.locator("#flag-panel")).to_have_attribute("open", "")
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.press("Escape")  # closes it, focus back to the card
    expect(page.locator("#flag-panel")).not_to_have_attribute("open", "")
    assert focused_id(page) == "sentence-card"
    page.keyboard.press("f")
    page.keyboard.press("ArrowDown")  # the next reason: bad sentence split
    page.keyboard.press("Tab")
    assert focused_id(page) == "flag-comment"
    page.keyboard.type("Cut in the middle of a quote")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Flagged as bad sentence split")
    expect(page.locator("#flag-panel summary")).to_contain_text("Flagged: bad sentence split")
    assert focused_id(page) == "sentence-card"
    expect(page.locator(CURRENT)).to_have_text(s[0].text)  # still theirs to label
    assert_accessible(page)
    flag = Flag.objects.get()
    assert (flag.reason, flag.comment, flag.sentence_id) == (
        "bad_split",
        "Cut in the middle of a quote",
        s[0].pk,
    )
    page.keyboard.press("1")
    expect(page.locator(CURRENT)).to_have_text(s[1].text)

    # The curator sees it in the flagged order, with reason and comment, and returns the label.
    curator_page = browser.new_context().new_page()
    sign_in(curator_page, live_server, "cur", lands="/dashboard/**")
    curator_page.goto(f"{live_server.url}/adjudicate/{huawei.pk}/?order=flagged")
    card = curator_page.locator("#adjudication-card")
    expect(card.locator(CURRENT)).to_have_text(s[0].text)
    expect(card).to_contain_text("Bad sentence split")
    expect(card).to_contain_text("Cut in the middle of a quote")
    assert_accessible(curator_page)
    card.get_by_text("Return to ann").click()
    curator_page.get_by_label("Comment for ann on their label pro").fill("It is a quote: whose stance is it?")
    curator_page.get_by_role("button", name="Return with comment").first.click()
    expect(curator_page.locator("#status")).to_contain_text("Returned ann's label pro with your comment")
    expect(card).to_contain_text("returned, waiting for ann")
    assert focused_id(curator_page) == "adjudication-card"
    assert_accessible(curator_page)

    # The annotator gets it first, with the comment, and relabels it by key.
    page.reload()
    expect(page.locator(CURRENT)).to_have_text(s[0].text)
    expect(page.locator("#sentence-card")).to_contain_text("Returned to you by a curator")
    expect(page.locator("#sentence-card")).to_contain_text("It is a quote: whose stance is it?")
    assert_accessible(page)
    page.keyboard.press("2")
    expect(page.locator("#status")).to_contain_text("Relabelled the returned sentence: Labelled contra")
    expect(page.locator(CURRENT)).to_have_text(s[1].text)
    assert focused_id(page) == "sentence-card"
    assert_accessible(page)
    assert Annotation.objects.get(annotator=annotator, sentence=s[0]).label == "contra"
    assert LabelReturn.objects.get().resolved_label == "contra"
    assert list(
        AnnotationEvent.objects.filter(annotator=annotator, sentence=s[0])
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["create", "return", "relabel"]
