from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotate.models import Annotation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_htmx_labelling_works_under_the_content_security_policy(page, log_in, annotator, make_sentences):
    """The strict CSP (no inline script, no eval) is on, and the label loop still swaps."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    sentences = make_sentences(4)
    log_in(page, "ann")
    response_headers = page.request.get(page.url).headers
    assert "script-src 'self'" in response_headers["content-security-policy"]
    page.evaluate("window.__still_here = true")
    for i, key in enumerate(["1", "2", "3"]):
        expect(page.locator("#current-sentence")).to_have_text(sentences[i].text)
        page.keyboard.press(key)
        expect(page.locator("#current-sentence")).to_have_text(sentences[i + 1].text)
    assert page.evaluate("window.__still_here") is True
    assert Annotation.objects.filter(annotator=annotator).count() == 3
    assert violations == []
