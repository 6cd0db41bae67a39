"""Stance strips: one block a sentence, in article order, marked by its label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Protocol

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from annotate.charts.svg import LABEL_COLOURS, coord, join, svg

#: Letters on the stance strips' blocks, so pro and contra differ without colour too.
LABEL_LETTERS = {"pro": "P", "contra": "C", "neutral": "N", None: ""}


class TextCell(Protocol):
    """A sentence of a strip as its text list needs it (annotate.dashboard.ProfileCell)."""

    @property
    def sentence_id(self) -> int: ...
    @property
    def position(self) -> int: ...
    @property
    def label(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class StripCell:
    label: str | None
    tooltip: str
    faint: bool = False  # a model suggestion rather than a gold label


def _strip_block(x: float, cell: StripCell, *, width: int, height: int) -> SafeString:
    """One sentence: a filled block with a white capital for a gold label, an outlined
    block with a coloured small letter for a suggestion, a grey block for neither.

    Built with one escape() of the tooltip, not format_html: a dashboard draws a block for
    every sentence of a page of articles (5,000 here), and four format_html calls a block
    took most of its second."""
    colour = LABEL_COLOURS.get(cell.label, LABEL_COLOURS[None])
    letter = LABEL_LETTERS.get(cell.label, "")
    if cell.faint:
        rect = (
            f'<rect x="{coord(x + 0.75)}" y="0.75" width="{coord(width - 2.5)}" height="{coord(height - 1.5)}"'
            f' fill="#fff" stroke="{colour}" stroke-width="1.5" stroke-dasharray="3 2"/>'
        )
        letter, fill = letter.lower(), colour
    else:
        rect = f'<rect x="{coord(x)}" y="0" width="{width - 1}" height="{height}" fill="{colour}"/>'
        fill = "#fff"
    mark = (
        f'<text x="{coord(x + (width - 1) / 2)}" y="{coord(height / 2)}" text-anchor="middle"'
        f' dominant-baseline="central" fill="{fill}" font-size="11" font-weight="700">{letter}</text>'
        if letter
        else ""
    )
    # colour, fill and letter come from the constants above; only the tooltip is user data.
    return mark_safe(f"<g><title>{escape(cell.tooltip)}</title>{rect}{mark}</g>")


def stance_strip(cells: Sequence[StripCell], *, title: str, cell_width: int = 16) -> SafeString:
    """One block a sentence, in order, marked by its label (colour and letter); outlined for
    suggestions. The sentences themselves are listed as text beside the strip."""
    height = 24
    parts = [
        _strip_block(i * cell_width, cell, width=cell_width, height=height) for i, cell in enumerate(cells)
    ]
    return svg(
        width=max(len(cells) * cell_width, 1),
        height=height,
        label=title,
        body=join(parts),
        css_class="chart strip",
    )


def label_legend() -> SafeString:
    """The key shared by the stance strips, as a small SVG, drawn as the strips draw."""
    keys = [
        (StripCell("pro", "pro"), "pro"),
        (StripCell("contra", "contra"), "contra"),
        (StripCell("neutral", "neutral"), "neutral"),
        (StripCell(None, "no label"), "no label"),
        (StripCell("pro", "suggested pro", faint=True), "dashed, small letter: suggested by the model"),
    ]
    parts, x = [], 4.0
    for cell, name in keys:
        parts.append(_strip_block(x, cell, width=17, height=18))
        parts.append(
            format_html(
                '<text x="{}" y="9" dominant-baseline="central" fill="#1d1d1f">{}</text>', coord(x + 21), name
            )
        )
        x += 30 + 6.5 * len(name)
    return svg(
        width=x,
        height=20,
        label="Key to the stance profiles: P pro, C contra, N neutral (filled: gold label); "
        "a grey block without a letter has no label; a dashed outline with a small letter is "
        "the model's suggestion",
        body=join(parts),
    )


def sentence_list(cells: Sequence[TextCell], *, article_url: str) -> SafeString:
    """A stance strip's detail as text, for keyboards and screen readers (its tooltips are
    neither): one item a sentence, its label and a link to it in the article.

    Built here with one escape() a field rather than in the template: the dashboard lists
    every sentence of a page of articles (5,000 at 100 articles of 50), and the template's
    loop took about a second of the page."""
    url = escape(article_url)
    items = []
    for c in cells:
        label = (
            f'<strong class="label-{escape(c.label)}">{escape(c.label)}</strong>' if c.label else "no label"
        )
        suggested = " (suggested)" if c.kind == "suggestion" else ""
        items.append(
            f'<li value="{c.position + 1}"><a href="{url}#s{c.sentence_id}">{label}{suggested}</a>: {escape(c.text)}</li>'
        )
    return mark_safe("<ol>" + "".join(items) + "</ol>")  # every field escaped above
