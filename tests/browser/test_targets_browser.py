"""The target picker and the target form in the browser, with axe-core, light and dark."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Target
from tests.browser.axe_check import assert_accessible
from tests.browser.conftest import PASSWORD
from tests.factories import ArticleFactory, SentenceFactory, TargetFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCHEMES = ["light", "dark"]


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/(dashboard|label)/\d+/"))


@pytest.fixture
def two_targets(huawei) -> tuple[Target, Target]:
    zte = TargetFactory(name="ZTE", aliases=["ZTE", "the Shenzhen firm"])
    TargetFactory(name="Old target", archived_at="2026-01-01T00:00:00Z")
    article = ArticleFactory(title="Telecoms")
    SentenceFactory(article=article, position=0, text="The Shenzhen firm denied it.")
    SentenceFactory(article=article, position=1, text="ZTE and Huawei both bid.")
    return huawei, zte


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_picker_moves_to_the_same_page_for_another_target(page, live_server, two_targets, scheme):
    huawei, zte = two_targets
    UserFactory(username="cur", role="curator")
    page.emulate_media(color_scheme=scheme)
    log_in(page, live_server, "cur")
    picker = page.get_by_role("navigation", name="Targets")
    expect(picker.locator("[aria-current=page]")).to_have_text("Huawei")
    expect(picker).not_to_contain_text("Old target")
    assert_accessible(page)
    picker.get_by_role("link", name="ZTE").click()
    page.wait_for_url(f"{live_server.url}/dashboard/{zte.pk}/")
    expect(page.get_by_role("navigation", name="Targets").locator("[aria-current=page]")).to_have_text("ZTE")
    page.goto(f"{live_server.url}/adjudicate/{zte.pk}/")
    page.get_by_role("navigation", name="Targets").get_by_role("link", name="Huawei").click()
    page.wait_for_url(f"{live_server.url}/adjudicate/{huawei.pk}/")
    assert_accessible(page)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_card_names_its_target_and_marks_its_aliases(page, live_server, two_targets, annotator, scheme):
    _, zte = two_targets
    page.emulate_media(color_scheme=scheme)
    log_in(page, live_server, "ann")
    page.goto(f"{live_server.url}/label/{zte.pk}/")
    expect(page.locator(".card-target")).to_have_text("Stance toward ZTE")
    expect(page.locator("#current-sentence mark.alias")).to_have_text("The Shenzhen firm")
    expect(page.locator(".context-sentence mark.alias")).to_have_text("ZTE")
    # Screen readers hear where a mark starts and ends (the CSS's hidden ::before/::after).
    before = page.locator("#current-sentence mark.alias").evaluate(
        "m => getComputedStyle(m, '::before').content"
    )
    assert "target" in before
    assert_accessible(page)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_an_admin_creates_a_target_fixing_a_bad_field_then_archives_it(page, live_server, huawei, scheme):
    UserFactory(username="boss", role="admin", is_staff=True)
    page.emulate_media(color_scheme=scheme)
    log_in(page, live_server, "boss")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Targets").click()
    page.get_by_role("link", name="New target").click()
    page.get_by_label("Name").fill("Nokia")
    page.get_by_label("Guidelines").fill("**pro**: praises Nokia.\n\n<script>alert(1)</script>")
    page.get_by_label("Aliases").fill("Nokia\nthe Finnish firm")
    page.locator("#id_examples-0-label").select_option("pro")
    page.locator("#id_examples-0-text").fill("Nokia builds fine networks.")
    page.get_by_label("Overlap:", exact=True).fill("0")
    page.get_by_role("button", name="Create target").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Nothing was saved")
    expect(summary).to_contain_text("Overlap: Ensure this value is greater than or equal to 1.")
    expect(page.get_by_label("Overlap:", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("Nokia")  # what was typed stays
    assert not Target.objects.filter(name="Nokia").exists()
    assert_accessible(page)

    page.get_by_label("Overlap:", exact=True).fill("2")
    page.get_by_role("button", name="Create target").click()
    expect(page.get_by_role("status")).to_contain_text("Target Nokia created.")
    nokia = Target.objects.get(name="Nokia")
    assert nokia.aliases == ["Nokia", "the Finnish firm"]
    assert list(nokia.examples.values_list("label", "text")) == [("pro", "Nokia builds fine networks.")]
    expect(page.get_by_role("navigation", name="Targets").locator("[aria-current=page]")).to_have_text(
        "Nokia"
    )
    assert_accessible(page)

    page.get_by_role("button", name="Archive Nokia").click()
    expect(page.get_by_role("status")).to_contain_text("Nokia is archived")
    expect(page.get_by_role("navigation", name="Targets").locator("[aria-current=page]")).to_have_text(
        "Nokia (archived)"
    )
    page.goto(f"{live_server.url}/dashboard/{huawei.pk}/")
    expect(page.get_by_role("navigation", name="Targets")).not_to_contain_text("Nokia")
    page.goto(f"{live_server.url}/targets/")
    expect(page.locator("table.archived")).to_contain_text("Nokia")
    assert_accessible(page)
