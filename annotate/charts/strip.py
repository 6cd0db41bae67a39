"""Stance strips: one block a sentence, in article order, marked by its label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from annotate.charts.svg import LABEL_COLOURS, coord, join, svg

#: Letters on the stance strips' blocks, so pro and contra differ without colour too.
LABEL_LETTERS = {"pro": "P", "contra": "C", "neutral": "N", None: ""}


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
