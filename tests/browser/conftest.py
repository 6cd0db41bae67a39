"""Browser tests: Debian's Chromium, driven by Playwright, against Django's live server.

`playwright install` cannot download browsers here, so the session's browser is the
system Chromium. The live server needs a transactional database, whose flush wipes the
groups and the Huawei target the data migration made, so the fixtures create them
(get_or_create: they are reused when they are there).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from annotate.models import Sentence, Target
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory

PASSWORD = "correct-horse-battery"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options, pointed at the system Chromium."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_ARGS}


@pytest.fixture
def roles(transactional_db) -> None:
    for name in ("annotator", "curator", "admin"):
        Group.objects.get_or_create(name=name)


@pytest.fixture
def huawei(roles) -> Target:
    """The Huawei target: the migration's row when it survived, else a fresh one."""
    return TargetFactory(name="Huawei")


@pytest.fixture
def annotator(roles):
    return UserFactory(username="ann", role="annotator")


@pytest.fixture
def other_annotator(roles):
    return UserFactory(username="bob", role="annotator")


@pytest.fixture
def make_sentences(transactional_db) -> Callable[[int], list[Sentence]]:
    """`n` sentences of one article, in queue order, each with a text of its own."""

    def make(n: int) -> list[Sentence]:
        article = ArticleFactory(title="Huawei and 5G")
        return [
            SentenceFactory(article=article, position=i, text=f"Sentence {i} of the Huawei article.")
            for i in range(n)
        ]

    return make


def sign_in(page: Page, live_server, username: str, *, lands: str) -> None:
    """Log in through the real login form and wait for the page it lands on (`lands`, a
    URL pattern under the live server: curators and admins land on their dashboard)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}{lands}")


@pytest.fixture
def log_in(live_server, huawei) -> Callable[[Page, str], None]:
    """Log in through the real login form and land on the labelling page for Huawei."""

    def do(page: Page, username: str) -> None:
        response = page.goto(f"{live_server.url}/accounts/login/")
        assert response is not None and response.ok, f"login page: HTTP {response and response.status}"
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        # wait_for_url waits for the load event, so label.js and htmx are in place.
        page.wait_for_url(f"{live_server.url}/label/{huawei.pk}/")
        expect(page.locator("#sentence-card")).to_be_visible()

    return do
