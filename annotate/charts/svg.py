"""The charts' shared parts: palette, sizes, the <svg> root, row labels and legends."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

LABEL_COLOURS = {"pro": "#1e7a34", "contra": "#b3261e", "neutral": "#5f6368", None: "#d0d0d0"}
ACCENT = "#0b57d0"
TRACK = "#ececec"
AXIS = "#6b6b70"
#: Line colours and dash patterns, so the lines differ without colour too.
SERIES_STYLES = [(ACCENT, ""), ("#e37400", "6 3"), ("#6a1b9a", "2 3"), ("#00796b", "8 3 2 3")]

FONT_SIZE = 12
ROW = 24  # height of one bar row
LABEL_WIDTH = 190  # left column for row labels
LABEL_CHARS = 26  # what fits in it at FONT_SIZE; the full label is in the row's tooltip
WIDTH = 640


def coord(value: float) -> str:
    """A coordinate: one decimal, no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def join(parts: Iterable[SafeString]) -> SafeString:
    return mark_safe("".join(parts))  # every part was built by format_html


def svg(*, width: float, height: float, label: str, body: SafeString, css_class: str = "chart") -> SafeString:
    """The <svg> root: accessible name in aria-label and <title>, size in the viewBox."""
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="{}" viewBox="0 0 {} {}" width="{}" height="{}"'
        ' role="img" aria-label="{}" font-size="{}"><title>{}</title>{}</svg>',
        css_class,
        coord(width),
        coord(height),
        coord(width),
        coord(height),
        label,
        FONT_SIZE,
        label,
        body,
    )


def row_label(y: float, text: str) -> SafeString:
    return format_html(
        '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" fill="#1d1d1f">{}</text>',
        LABEL_WIDTH - 8,
        coord(y),
        shorten(text, LABEL_CHARS),
    )


def legend_row(items: Sequence[tuple[str, str]], *, x: float = LABEL_WIDTH, y: float = 12) -> SafeString:
    parts = []
    for name, colour in items:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" fill="{}"/>'
                '<text x="{}" y="{}" dominant-baseline="middle" fill="#1d1d1f">{}</text>',
                coord(x),
                coord(y - 6),
                colour,
                coord(x + 16),
                coord(y),
                name,
            )
        )
        x += 24 + 7.5 * len(name)
    return join(parts)
