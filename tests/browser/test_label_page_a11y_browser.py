"""The labelling page for people who do not use it as its authors do: screen readers,
keyboard settings (WCAG 2.1.4), phones, the dark scheme; axe-core checks each state."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Annotation
from tests.browser.axe_check import assert_accessible
from tests.factories import ArticleFactory, SentenceFactory, SuggestionFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

CURRENT = "#current-sentence"
LONG_TEXT = (
    "The operators said on Tuesday that replacing the equipment already in their networks would "
    "take years and cost billions, and asked the government for more time."
)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def press(page: Page, key: str, then_shows: str) -> None:
    page.keyboard.press(key)
    expect(page.locator(CURRENT)).to_have_text(then_shows)


def focus_is_in_card(page: Page) -> bool:
    return page.evaluate("!!document.activeElement && !!document.activeElement.closest('#sentence-card')")


def submits(page: Page) -> list[str]:
    """The label requests the page sends from now on (the list fills as they go)."""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/submit/" in request.url else None)
    return sent


def background(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def save_shortcuts(page: Page, choice: str) -> None:
    page.locator("#keymap summary").click()
    page.get_by_label(choice).check()
    page.locator("#shortcut-settings").get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    expect(page.locator("#sentence-card")).to_be_visible()


# Screen readers: the live region, focus, names


def test_after_a_key_focus_stays_in_the_card_and_the_status_line_outside_it_says_what_happened(
    page, log_in, annotator, make_sentences
):
    s = make_sentences(4)
    log_in(page, "ann")
    status = page.get_by_role("status")
    assert page.locator("#sentence-card #status").count() == 0  # not swapped away with the card

    press(page, "1", then_shows=s[1].text)
    assert focus_is_in_card(page)
    expect(status).to_have_text(f"Labelled pro: “{s[0].text}” Next: {s[1].text}")

    page.locator('#label-form button[value="skip"]').click()  # a click, not a key
    expect(page.locator(CURRENT)).to_have_text(s[2].text)
    assert focus_is_in_card(page)
    expect(status).to_have_text(f"Skipped: “{s[1].text}” Next: {s[2].text}")

    press(page, "z", then_shows=s[1].text)
    assert focus_is_in_card(page)
    expect(status).to_have_text(f"Undid skip; the sentence is back. Next: {s[1].text}")


def test_a_relabel_from_the_history_is_announced(page, log_in, annotator, make_sentences):
    s = make_sentences(3)
    log_in(page, "ann")
    press(page, "1", then_shows=s[1].text)
    first = Annotation.objects.get(annotator=annotator)

    page.locator(f"#history-{first.id}").get_by_role("button", name="Change to Contra").click()

    expect(page.get_by_role("status")).to_have_text(f"Changed to contra: “{s[0].text}”")
    expect(page.locator(CURRENT)).to_have_text(s[1].text)


def test_the_sentence_to_label_has_a_heading_and_the_history_buttons_name_their_sentence(
    page, log_in, annotator, make_sentences
):
    s = make_sentences(4)
    log_in(page, "ann")
    press(page, "1", then_shows=s[1].text)
    press(page, "2", then_shows=s[2].text)
    heading = page.get_by_role("heading", name="Sentence to label")
    expect(heading).to_have_count(1)
    assert heading.evaluate("h => h.nextElementSibling.id") == "current-sentence"
    for sentence in s[:2]:
        expect(page.get_by_role("button", name=f"Change to Pro: {sentence.text}")).to_have_count(1)


# WCAG 2.1.4: shortcuts can be turned off or need a modifier, and that is remembered


def test_shortcuts_turned_off_label_nothing_and_stay_off_after_logging_in_again(
    page, log_in, annotator, make_sentences
):
    s = make_sentences(3)
    log_in(page, "ann")
    save_shortcuts(page, "Off")
    sent = submits(page)

    for key in ("1", "s", "z", "?"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert sent == []
    expect(page.locator(CURRENT)).to_have_text(s[0].text)
    expect(page.locator("#keymap")).to_have_js_property("open", False)
    expect(page.locator("#label-form button[value=pro]")).not_to_have_attribute("aria-keyshortcuts", "1")
    assert not Annotation.objects.exists()
    page.locator("#label-form button[value=pro]").click()  # the buttons still work
    expect(page.locator(CURRENT)).to_have_text(s[1].text)
    sent.clear()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/**")
    log_in(page, "ann")
    expect(page.get_by_label("Off")).to_be_checked()
    page.keyboard.press("2")
    page.wait_for_timeout(300)
    assert sent == []
    assert list(Annotation.objects.values_list("label", flat=True)) == ["pro"]


def test_with_the_alt_setting_only_alt_and_a_key_labels(page, log_in, annotator, make_sentences):
    s = make_sentences(3)
    log_in(page, "ann")
    save_shortcuts(page, "Only with Alt held")
    sent = submits(page)

    page.keyboard.press("1")
    page.wait_for_timeout(300)
    assert sent == []
    expect(page.locator(CURRENT)).to_have_text(s[0].text)
    expect(page.locator("#label-form button[value=pro]")).to_have_attribute("aria-keyshortcuts", "Alt+1")

    press(page, "Alt+1", then_shows=s[1].text)
    press(page, "Alt+s", then_shows=s[2].text)
    assert dict(Annotation.objects.values_list("sentence_id", "label")) == {s[0].id: "pro", s[1].id: "skip"}


# The look: neutral and skip, phones, the dark scheme


def test_each_chosen_label_looks_different_not_only_by_colour(page, log_in, annotator, make_sentences):
    s = make_sentences(3)
    log_in(page, "ann")
    press(page, "3", then_shows=s[1].text)
    press(page, "s", then_shows=s[2].text)
    style = """e => { const c = getComputedStyle(e), b = getComputedStyle(e, '::before');
        return [c.borderTopStyle, c.fontStyle, b.content]; }"""
    neutral, skip = (
        page.locator(f"#history-{Annotation.objects.get(sentence=sentence).id} [aria-pressed=true]")
        for sentence in s[:2]
    )
    assert neutral.evaluate(style) == ["solid", "normal", '"✓ "']
    assert skip.evaluate(style) == ["dashed", "italic", '"✓ "']
    unchosen = page.locator(f"#history-{Annotation.objects.get(sentence=s[0]).id} .label-pro")
    assert unchosen.evaluate(style)[2] == "none"
    buttons = [
        page.locator(f"#label-form button[value={value}]").evaluate(style) for value in ("neutral", "skip")
    ]
    assert buttons[0][:2] != buttons[1][:2]


def test_on_a_phone_the_header_and_the_label_buttons_fit_and_key_hints_are_hidden(new_context, log_in, roles):
    # An admin who also annotates: the widest header (every link) above the labelling card.
    UserFactory(username="boss", role="annotator", is_staff=True, is_superuser=True)
    article = ArticleFactory(title="Huawei and the 5G networks of Europe: what the operators say")
    for position in range(6):  # sentences of a real article's length, two either side
        SentenceFactory(article=article, position=position, text=f"Sentence {position}: " + LONG_TEXT)
    page = new_context(**PHONE).new_page()
    log_in(page, "boss")
    page.keyboard.press("1")  # the third sentence, with two before and two after it
    expect(page.locator(CURRENT)).to_have_text(f"Sentence 1: {LONG_TEXT}")
    page.keyboard.press("1")
    expect(page.locator(CURRENT)).to_have_text(f"Sentence 2: {LONG_TEXT}")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows sideways
    logout = page.get_by_role("button", name="Log out").bounding_box()
    assert logout is not None and logout["x"] >= 0 and logout["x"] + logout["width"] <= 390
    for value in ("pro", "contra", "neutral", "skip"):
        box = page.locator(f"#label-form button[value={value}]").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, value
    expect(page.locator("#label-form button[value=pro] kbd")).to_be_hidden()
    expect(page.locator("#undo-form kbd")).to_be_hidden()
    assert_accessible(page)


def test_the_dark_scheme_changes_the_page_and_keeps_its_contrast(page, log_in, annotator, make_sentences):
    s = make_sentences(4)
    log_in(page, "ann")
    press(page, "1", then_shows=s[1].text)
    light = background(page)
    page.emulate_media(color_scheme="dark")
    dark = background(page)
    assert light != dark
    assert page.evaluate(f"getComputedStyle(document.querySelector('{CURRENT}')).color") != "rgb(29, 29, 31)"
    assert_accessible(page)


# axe-core on every state of the page, light and dark


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_login_page_has_no_serious_accessibility_violation(page, live_server, huawei, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{live_server.url}/accounts/login/")
    assert_accessible(page)
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_labelling_page_has_no_serious_accessibility_violation_in_any_state(
    page, log_in, huawei, annotator, make_sentences, scheme
):
    s = make_sentences(6)
    SuggestionFactory(
        sentence=s[2],
        target=huawei,
        label="contra",
        confidence=0.8,
        probabilities={"pro": 0.1, "contra": 0.8, "neutral": 0.1},
    )
    page.emulate_media(color_scheme=scheme)
    log_in(page, "ann")
    assert_accessible(page)  # before any swap, history empty

    press(page, "3", then_shows=s[1].text)
    press(page, "s", then_shows=s[2].text)  # now a suggestion is shown, the history has chips
    assert_accessible(page)

    page.keyboard.press("?")
    page.keyboard.press("g")
    expect(page.locator("#keymap")).to_have_js_property("open", True)
    expect(page.locator("#guidelines")).to_have_js_property("open", True)
    assert_accessible(page)

    press(page, "z", then_shows=s[1].text)  # the undo answer swaps the whole history panel
    assert_accessible(page)
