"""A refused label in a real browser: the reason in the page's error line, nothing changed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Annotation
from annotate.queue.record import annotation_record
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]


def test_changing_a_skip_to_a_label_on_a_full_sentence_shows_the_refusal(
    page: Page, log_in, annotator, other_annotator, huawei, make_sentences
):
    s = make_sentences(3)
    log_in(page, "ann")
    expect(page.locator("#current-sentence")).to_have_text(s[0].text)
    page.keyboard.press("s")
    expect(page.locator("#current-sentence")).to_have_text(s[1].text)
    # Two others label the skipped sentence meanwhile: it is full for ann.
    annotation_record(annotator=other_annotator, sentence=s[0], target=huawei, label="pro")
    annotation_record(annotator=UserFactory(role="annotator"), sentence=s[0], target=huawei, label="contra")
    skip = Annotation.objects.get(annotator=annotator, sentence=s[0])

    page.locator(f"#history-{skip.id}").get_by_role("button", name="Change to Pro").click()

    expect(page.locator("#errors")).to_have_text("This sentence already has its 2 labels.")
    assert Annotation.objects.get(pk=skip.pk).label == "skip"
    expect(page.locator("#current-sentence")).to_have_text(s[1].text)
