"""A target's guidelines, written in Markdown and shown as sanitised HTML; its aliases
marked in the sentences.

Raw HTML in the Markdown is never passed through: Python-Markdown's HTML readers are
switched off, so `<b>` is shown as text, and nh3 (the Ammonia sanitiser) then keeps only
the tags and link schemes below, whatever the Markdown produced.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from annotate.mentions import alias_pattern

__all__ = ["alias_pattern", "guidelines_html", "mark_aliases"]

TAGS = {
    "p", "br", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code", "pre",
    "blockquote", "a", "hr",
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto"}
#: Headings move down two levels: the page has its own h1 and h2 around the guidelines.
HEADING_SHIFT = 2


def guidelines_html(text: str) -> SafeString:
    """The guidelines as HTML safe to put in a page."""
    import markdown  # only pages that show guidelines pay for the import
    import nh3
    from markdown.treeprocessors import Treeprocessor

    class ShiftHeadings(Treeprocessor):
        def run(self, root: Element) -> None:
            for element in root.iter():
                if re.fullmatch(r"h[1-6]", element.tag):
                    element.tag = f"h{min(6, int(element.tag[1]) + HEADING_SHIFT)}"

    converter = markdown.Markdown(extensions=["sane_lists"])
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    converter.treeprocessors.register(ShiftHeadings(converter), "shift_headings", 0)
    html = nh3.clean(converter.convert(text), tags=TAGS, url_schemes=URL_SCHEMES)
    return mark_safe(html)


def mark_aliases(text: str, pattern: re.Pattern[str] | None) -> SafeString:
    """The text, escaped, with each alias in a <mark class="alias"> (announced by its CSS
    ::before and ::after, which screen readers read out and copying leaves behind)."""
    if pattern is None:
        return escape(text)
    parts: list[str] = []
    last = 0
    for found in pattern.finditer(text):
        parts.append(escape(text[last : found.start()]))
        parts.append(f'<mark class="alias">{escape(found.group(0))}</mark>')
        last = found.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))
