"""The labelling page in a real browser: keys, undo, history edits, the shared queue, no-JS."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotate.models import Annotation, AnnotationEvent
from tests.factories import SuggestionFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # pytest-playwright's base_url fixture, not ours.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

CURRENT = "#current-sentence"
DONE = ".done-message"


def press(page: Page, key: str, then_shows: str) -> None:
    """Press a key and wait until the card shows the expected sentence."""
    page.keyboard.press(key)
    expect(page.locator(CURRENT)).to_have_text(then_shows)


def labels(annotator) -> dict[int, str]:
    return dict(Annotation.objects.filter(annotator=annotator).values_list("sentence_id", "label"))


def history(annotator) -> list[tuple[int, str, str, str]]:
    return list(
        AnnotationEvent.objects.filter(annotator=annotator)
        .order_by("id")
        .values_list("sentence_id", "action", "old_label", "new_label")
    )


def test_keyboard_labelling_undo_and_skip_are_recorded_exactly(page, log_in, annotator, make_sentences):
    s = make_sentences(7)
    log_in(page, "ann")
    expect(page.locator(CURRENT)).to_have_text(s[0].text)
    page.evaluate("window.__marker = 'keys'")  # gone if any key reloads the page

    for i, key in enumerate(["1", "2", "3", "1", "2"]):
        press(page, key, then_shows=s[i + 1].text)
    press(page, "z", then_shows=s[4].text)  # undo the contra on sentence 4: it comes back
    statuses = [page.locator("#status").text_content()]
    press(page, "3", then_shows=s[5].text)  # label it again, neutral this time
    press(page, "Backspace", then_shows=s[4].text)  # Backspace undoes too
    statuses.append(page.locator("#status").text_content())
    press(page, "1", then_shows=s[5].text)
    press(page, "s", then_shows=s[6].text)  # skip sentence 5
    expect(page.locator("#history-panel li")).to_have_count(6)

    assert labels(annotator) == {
        s[0].id: "pro",
        s[1].id: "contra",
        s[2].id: "neutral",
        s[3].id: "pro",
        s[4].id: "pro",
        s[5].id: "skip",
    }
    assert history(annotator) == [
        (s[0].id, "create", "", "pro"),
        (s[1].id, "create", "", "contra"),
        (s[2].id, "create", "", "neutral"),
        (s[3].id, "create", "", "pro"),
        (s[4].id, "create", "", "contra"),
        (s[4].id, "undo", "contra", ""),
        (s[4].id, "create", "", "neutral"),
        (s[4].id, "undo", "neutral", ""),
        (s[4].id, "create", "", "pro"),
        (s[5].id, "skip", "", "skip"),
    ]
    for annotation in Annotation.objects.filter(annotator=annotator):
        assert annotation.spent_ms is not None, annotation
        assert annotation.spent_ms >= 0
        assert not annotation.accepted_suggestion
    # The card was swapped in place each time; the status line says what was undone and
    # which sentence is shown again.
    assert page.evaluate("window.__marker") == "keys"
    assert statuses == [
        f"Undid contra; the sentence is back. Next: {s[4].text}",
        f"Undid neutral; the sentence is back. Next: {s[4].text}",
    ]


def test_history_panel_changes_a_label_in_place_without_a_reload(page, log_in, annotator, make_sentences):
    s = make_sentences(5)
    log_in(page, "ann")
    press(page, "1", then_shows=s[1].text)
    press(page, "1", then_shows=s[2].text)
    press(page, "3", then_shows=s[3].text)
    first = Annotation.objects.get(annotator=annotator, sentence=s[0])
    row = page.locator(f"#history-{first.id}")
    expect(page.locator("#history-panel li").nth(2)).to_have_id(f"history-{first.id}")
    expect(row.get_by_role("button", name="Change to Pro")).to_have_attribute("aria-pressed", "true")
    page.evaluate("window.__marker = 'history'")  # gone if the page reloads

    row.get_by_role("button", name="Change to Contra").click()

    expect(row.get_by_role("button", name="Change to Contra")).to_have_attribute("aria-pressed", "true")
    expect(row.get_by_role("button", name="Change to Pro")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#history-panel li").nth(2)).to_have_id(f"history-{first.id}")  # in place
    expect(page.locator(CURRENT)).to_have_text(s[3].text)  # the card is untouched
    assert page.evaluate("window.__marker") == "history"
    first.refresh_from_db()
    assert first.label == "contra"

    # The same label again is a repeat in the history, not a second change.
    with page.expect_response(lambda r: r.url.endswith(f"/annotations/{first.id}/label/")):
        row.get_by_role("button", name="Change to Contra").click()
    expect(row.get_by_role("button", name="Change to Contra")).to_have_attribute("aria-pressed", "true")
    assert [event[1:] for event in history(annotator) if event[0] == s[0].id] == [
        ("create", "", "pro"),
        ("relabel", "pro", "contra"),
        ("repeat", "contra", "contra"),
    ]
    assert labels(annotator) == {s[0].id: "contra", s[1].id: "pro", s[2].id: "neutral"}

    # Keys still label the card after a click in the panel.
    press(page, "2", then_shows=s[4].text)
    assert labels(annotator)[s[3].id] == "contra"
    assert page.evaluate("window.__marker") == "history"


def test_the_history_keeps_the_latest_ten_labels_newest_first(page, log_in, annotator, make_sentences):
    s = make_sentences(13)
    log_in(page, "ann")
    expect(page.locator(".history-empty")).to_be_visible()
    for i in range(12):
        press(page, "123"[i % 3], then_shows=s[i + 1].text)

    # Each label response puts its row on top; the list keeps its length.
    rows = page.locator("#history-list > li")
    expect(rows).to_have_count(10)
    expect(page.locator(".history-empty")).to_be_hidden()
    newest = Annotation.objects.filter(annotator=annotator).order_by("-updated_at", "-id")[:10]
    assert [rows.nth(i).get_attribute("id") for i in range(10)] == [f"history-{a.id}" for a in newest]
    # A reload shows the same list, from the server.
    page.reload()
    expect(rows).to_have_count(10)
    assert [rows.nth(i).get_attribute("id") for i in range(10)] == [f"history-{a.id}" for a in newest]


def test_a_sentence_with_full_overlap_goes_to_one_annotator_only(
    new_context, log_in, huawei, annotator, other_annotator, make_sentences
):
    huawei.overlap = 1
    huawei.save(update_fields=["overlap"])
    s = make_sentences(4)
    pages = {}
    for username in ("ann", "bob"):
        page = new_context().new_page()
        log_in(page, username)
        pages[username] = page
    shown: dict[str, list[int]] = {"ann": [], "bob": []}

    for _ in range(10):  # more than enough rounds; each one labels at least one sentence
        busy = False
        for username, page in pages.items():
            current = page.locator(CURRENT)
            if current.count() == 0:
                continue
            busy = True
            sentence_id = current.get_attribute("data-sentence-id")
            shown[username].append(int(sentence_id))
            page.keyboard.press("1" if username == "ann" else "2")
            page.wait_for_function(
                """old => {
                    const el = document.querySelector('#current-sentence');
                    return !el || el.dataset.sentenceId !== old;
                }""",
                arg=sentence_id,
            )
        if not busy:
            break

    assert set(shown["ann"]).isdisjoint(shown["bob"]), shown
    assert sorted(shown["ann"] + shown["bob"]) == sorted(sentence.id for sentence in s)
    for page in pages.values():
        expect(page.locator(DONE)).to_contain_text("Nothing left to label")
        page.reload()
        expect(page.locator(DONE)).to_contain_text("Nothing left to label")
    assert sorted(labels(annotator)) == sorted(shown["ann"])
    assert sorted(labels(other_annotator)) == sorted(shown["bob"])
    assert Annotation.objects.count() == 4


def test_keys_do_nothing_while_typing_in_a_text_field(page, log_in, annotator, make_sentences):
    s = make_sentences(4)
    log_in(page, "ann")
    press(page, "1", then_shows=s[1].text)  # something that z or Backspace could undo
    page.evaluate(
        """() => {
            const input = document.createElement('input');
            input.id = 'scratch';
            const editable = document.createElement('div');
            editable.id = 'editable';
            editable.contentEditable = 'true';
            document.querySelector('main').prepend(input, editable);
        }"""
    )

    page.locator("#scratch").focus()
    page.keyboard.type("123s")
    page.keyboard.press("Backspace")
    page.keyboard.type("zg?")
    page.keyboard.press("Enter")
    expect(page.locator("#scratch")).to_have_value("123zg?")  # the keys went to the field
    page.locator("#editable").focus()
    page.keyboard.type("2z")
    expect(page.locator("#editable")).to_have_text("2z")
    expect(page.locator(CURRENT)).to_have_text(s[1].text)
    expect(page.locator("#keymap")).to_have_js_property("open", False)
    expect(page.locator("#guidelines")).to_have_js_property("open", False)

    page.evaluate("document.activeElement.blur()")
    press(page, "2", then_shows=s[2].text)  # out of the field, keys label again
    assert labels(annotator) == {s[0].id: "pro", s[1].id: "contra"}
    assert [event[1] for event in history(annotator)] == ["create", "create"]


def test_enter_accepts_the_suggestion(page, log_in, huawei, annotator, make_sentences):
    s = make_sentences(3)
    # The factory gives the target an active model version whose suggestions are shown.
    SuggestionFactory(
        sentence=s[0],
        target=huawei,
        label="contra",
        confidence=0.8,
        probabilities={"pro": 0.1, "contra": 0.8, "neutral": 0.1},
    )
    log_in(page, "ann")
    suggestion = page.locator("#sentence-card .suggestion")
    expect(suggestion).to_contain_text("contra")
    expect(suggestion).to_contain_text("80%")

    press(page, "Enter", then_shows=s[1].text)
    expect(suggestion).to_have_count(0)
    # Without a suggestion Enter does nothing; the next key labels the same sentence.
    page.keyboard.press("Enter")
    press(page, "3", then_shows=s[2].text)

    first = Annotation.objects.get(annotator=annotator, sentence=s[0])
    assert (first.label, first.accepted_suggestion) == ("contra", True)
    assert labels(annotator) == {s[0].id: "contra", s[1].id: "neutral"}
    assert not Annotation.objects.get(sentence=s[1]).accepted_suggestion
    assert list(
        AnnotationEvent.objects.filter(annotator=annotator)
        .order_by("id")
        .values_list("action", "new_label", "accepted_suggestion")
    ) == [("create", "contra", True), ("create", "neutral", False)]


def test_the_page_never_reloads_and_keys_toggle_the_key_map_and_guidelines(
    page, log_in, annotator, make_sentences
):
    keys = ["1", "2", "3", "s", "1", "2", "3", "1"]
    s = make_sentences(len(keys) + 1)
    log_in(page, "ann")
    url = page.url
    page.evaluate("window.__marker = 1")
    for i, key in enumerate(keys):
        press(page, key, then_shows=s[i + 1].text)
    assert page.evaluate("window.__marker") == 1
    assert page.url == url
    assert len(labels(annotator)) == len(keys)

    keymap, guidelines = page.locator("#keymap"), page.locator("#guidelines")
    expect(keymap).to_have_js_property("open", False)
    page.keyboard.press("?")
    expect(keymap).to_have_js_property("open", True)
    page.keyboard.press("?")
    expect(keymap).to_have_js_property("open", False)
    expect(guidelines).to_have_js_property("open", False)
    page.keyboard.press("g")
    expect(guidelines).to_have_js_property("open", True)
    expect(guidelines).to_contain_text("pro")
    page.keyboard.press("g")
    expect(guidelines).to_have_js_property("open", False)
    assert page.evaluate("window.__marker") == 1
    assert len(labels(annotator)) == len(keys)  # toggling labels nothing


def test_without_javascript_the_buttons_still_label(new_context, log_in, annotator, make_sentences):
    s = make_sentences(3)
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, "ann")
    expect(page.locator(CURRENT)).to_have_text(s[0].text)

    page.locator('#label-form button[value="pro"]').click()
    expect(page.locator(CURRENT)).to_have_text(s[1].text)
    annotation = Annotation.objects.get(annotator=annotator)
    assert (annotation.sentence_id, annotation.label) == (s[0].id, "pro")

    # The history panel and undo are plain forms too.
    page.locator(f"#history-{annotation.id}").get_by_role("button", name="Change to Neutral").click()
    expect(
        page.locator(f"#history-{annotation.id}").get_by_role("button", name="Change to Neutral")
    ).to_have_attribute("aria-pressed", "true")
    assert labels(annotator) == {s[0].id: "neutral"}
    page.locator("#undo-form button").click()
    expect(page.locator(CURRENT)).to_have_text(s[0].text)
    assert labels(annotator) == {}
    assert [event[1:] for event in history(annotator)] == [
        ("create", "", "pro"),
        ("relabel", "pro", "neutral"),
        ("undo", "neutral", ""),
    ]
