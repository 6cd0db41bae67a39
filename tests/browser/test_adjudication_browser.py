"""The adjudication page in a real browser: settle by key, undo by key, the gold history,
focus on the new card and the status line's announcement, and axe on the result."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Adjudication, AdjudicationEvent
from annotate.queue.record import annotation_record
from tests.browser.axe_check import assert_accessible
from tests.browser.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

CURRENT = "#current-sentence"


@pytest.fixture
def disputed(huawei, annotator, other_annotator, make_sentences):
    """Two disagreements: sentence 0 (pro against contra) and sentence 1 (pro against neutral)."""
    s = make_sentences(3)
    for sentence, second in ((s[0], "contra"), (s[1], "neutral")):
        annotation_record(annotator=annotator, sentence=sentence, target=huawei, label="pro")
        annotation_record(annotator=other_annotator, sentence=sentence, target=huawei, label=second)
    UserFactory(username="cur", role="curator")
    return s


def open_page(page: Page, live_server, target) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "cur")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/dashboard/**")
    page.goto(f"{live_server.url}/adjudicate/{target.pk}/")  # waits for the load event: scripts in place


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def same_live_region(page: Page) -> bool:
    """Whether #status is still the node marked before the keys: a live region replaced by
    a swap is a new node, and screen readers announce nothing from it."""
    return page.evaluate(
        "window.__status === document.getElementById('status') && window.__status.isConnected"
    )


def history(sentence) -> list[tuple[str, str, str]]:
    return list(
        AdjudicationEvent.objects.filter(sentence=sentence)
        .order_by("id")
        .values_list("action", "old_label", "new_label")
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_undo_key_takes_back_a_settle_and_a_change_with_focus_and_announcement(
    page, live_server, huawei, disputed, scheme
):
    s = disputed
    page.emulate_media(color_scheme=scheme)
    open_page(page, live_server, huawei)
    page.evaluate("window.__marker = 'keys'")  # gone if any key reloads the page
    page.evaluate("window.__status = document.getElementById('status')")
    status = page.locator("#status")
    assert status.get_attribute("role") == "status"  # aria-live polite, outside the swapped card
    first = page.locator(CURRENT).text_content()
    settled_first = s[0] if first == s[0].text else s[1]
    other = s[1] if settled_first == s[0] else s[0]

    page.keyboard.press("1")
    expect(page.locator("#status")).to_have_text(f"Settled as pro: “{settled_first.text}”")
    expect(page.locator(CURRENT)).to_have_text(other.text)
    assert focused_id(page) == "adjudication-card"
    assert same_live_region(page)
    assert_accessible(page)

    page.keyboard.press("z")  # the newest gold change: the settle just made
    expect(page.locator("#status")).to_have_text(
        f"Undone: “{settled_first.text}” is unsettled again, back among the disagreements."
    )
    expect(page.locator(CURRENT)).to_have_text(first)
    expect(page.locator("#settled-panel")).to_contain_text("Nothing settled yet.")
    assert focused_id(page) == "adjudication-card"
    assert same_live_region(page)
    assert not Adjudication.objects.exists()
    assert history(settled_first) == [("settle", "", "pro"), ("undo", "pro", "")]
    # The card keeps what was decided on the reopened sentence.
    page.locator("#adjudication-card .gold-history summary").click()
    expect(page.locator("#adjudication-card .gold-history")).to_contain_text("undo, pro → none")

    # Settle it as contra, change it to neutral in the panel (a click), then undo by key.
    page.keyboard.press("2")
    expect(page.locator("#settled-panel .history-row")).to_have_count(1)
    page.get_by_role("button", name="Change gold label to neutral").click()
    expect(page.locator("#status")).to_have_text(f"Changed from contra to neutral: “{settled_first.text}”")
    page.keyboard.press("Backspace")
    expect(page.locator("#status")).to_have_text(f"Undone: “{settled_first.text}” is contra again.")
    assert focused_id(page) == "adjudication-card"  # the clicked panel was replaced: focus is not lost
    assert Adjudication.objects.get().label == "contra"
    assert history(settled_first)[2:] == [
        ("settle", "", "contra"),
        ("change", "contra", "neutral"),
        ("undo", "neutral", "contra"),
    ]
    page.locator("#settled-panel .gold-history summary").click()
    expect(page.locator("#settled-panel .gold-history li")).to_have_count(5)
    assert page.evaluate("window.__marker") == "keys"
    assert same_live_region(page)
    assert_accessible(page)
