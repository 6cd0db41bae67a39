"""The "after" suggestion mode in a real browser: label by key without the suggestion, see it
revealed on the same card (focus and the live region follow), change the label, and both
the first label and the final one are recorded; axe-core checks the revealing card."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Annotation, AnnotationEvent, SuggestionMode
from tests.browser.axe_check import assert_accessible
from tests.factories import SuggestionFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

CURRENT = "#current-sentence"
SUGGESTION = "#sentence-card .suggestion"


def focus_is_in_card(page: Page) -> bool:
    return page.evaluate("!!document.activeElement && !!document.activeElement.closest('#sentence-card')")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_in_after_mode_the_annotator_labels_sees_the_suggestion_changes_it_and_both_are_recorded(
    page, log_in, annotator, huawei, make_sentences, scheme
):
    s = make_sentences(3)
    for sentence in s:
        SuggestionFactory(sentence=sentence, target=huawei, label="contra", confidence=0.87)
    huawei.refresh_from_db()
    huawei.suggestion_mode = SuggestionMode.AFTER
    huawei.save(update_fields=["suggestion_mode"])
    page.emulate_media(color_scheme=scheme)
    log_in(page, "ann")
    page.evaluate("window.__marker = 'after'")  # gone if any key reloads the page
    status = page.get_by_role("status")
    expect(page.locator(CURRENT)).to_have_text(s[0].text)
    expect(page.locator(SUGGESTION)).to_have_text(
        "The model's suggestion, when there is one, is shown after your label."
    )
    expect(page.locator('#label-form button[value="accept"]')).to_have_count(0)
    page.keyboard.press("Enter")  # nothing to accept yet: no request, nothing recorded
    page.wait_for_timeout(300)
    assert not Annotation.objects.exists()

    page.keyboard.press("1")

    # The same sentence, its suggestion now on screen; focus in the card, the live region says it.
    expect(page.locator("#sentence-card .suggestion.revealed")).to_contain_text("You labelled pro.")
    expect(page.locator(SUGGESTION)).to_contain_text("Model suggests contra with 87% confidence.")
    expect(page.locator(CURRENT)).to_have_text(s[0].text)
    expect(page.get_by_role("button", name="Keep pro 1")).to_be_visible()
    expect(status).to_have_text(
        f"Labelled pro: “{s[0].text}” The model suggests contra with 87% confidence: keep pro or change it."
    )
    assert focus_is_in_card(page)
    assert_accessible(page)
    first = Annotation.objects.get(annotator=annotator)
    assert (first.label, first.suggestion_shown, first.first_label) == ("pro", False, None)

    page.keyboard.press("2")  # changes it, to the suggestion

    expect(page.locator(CURRENT)).to_have_text(s[1].text)
    expect(page.locator(SUGGESTION)).not_to_contain_text("Model suggests")
    expect(status).to_have_text(f"Changed pro to contra: “{s[0].text}” Next: {s[1].text}")
    assert focus_is_in_card(page)
    final = Annotation.objects.get(annotator=annotator)
    assert (final.label, final.first_label, final.suggestion_shown, final.accepted_suggestion) == (
        "contra",
        "pro",
        True,
        False,
    )
    assert final.spent_ms is not None and final.spent_ms >= first.spent_ms
    assert list(
        AnnotationEvent.objects.filter(annotator=annotator)
        .order_by("id")
        .values_list("action", "old_label", "new_label")
    ) == [("create", "", "pro"), ("relabel", "pro", "contra")]
    # One history row for the sentence, showing the final label.
    row = page.locator(f"#history-{final.id}")
    expect(page.locator("#history-panel li")).to_have_count(1)
    expect(row.get_by_role("button", name="Change to Contra")).to_have_attribute("aria-pressed", "true")

    page.keyboard.press("3")  # the next sentence: first label, then Enter takes the suggestion
    expect(page.get_by_role("button", name="Keep neutral 3")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator(CURRENT)).to_have_text(s[2].text)
    expect(status).to_have_text(f"Accepted contra (first neutral): “{s[1].text}” Next: {s[2].text}")
    accepted = Annotation.objects.get(annotator=annotator, sentence=s[1])
    assert (accepted.label, accepted.first_label, accepted.accepted_suggestion) == ("contra", "neutral", True)
    assert page.evaluate("window.__marker") == "after"
