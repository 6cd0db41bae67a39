"""The adjudication page in a real browser: settle by key, undo by key, the gold history,
focus on the new card and the status line's announcement, and axe on the result."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from annotate.models import AdjudicationEvent
from annotate.queue.record import annotation_record
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


def history(sentence) -> list[tuple[str, str, str]]:
    return list(
        AdjudicationEvent.objects.filter(sentence=sentence)
        .order_by("id")
        .values_list("action", "old_label", "new_label")
    )
