"""Horizontal bars: single values, and stacked segments (progress against a total)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString

from annotate.charts.svg import (
    ACCENT,
    AXIS,
    LABEL_WIDTH,
    ROW,
    TRACK,
    WIDTH,
    coord,
    join,
    legend_row,
    row_label,
    svg,
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None draws no bar and says "n/a"
    text: str = ""  # the value as shown; defaults to the number
    colour: str = ACCENT


def bar_chart(bars: Sequence[Bar], *, title: str, domain: tuple[float, float] | None = None) -> SafeString:
    """Horizontal bars with their values; negative values grow left from zero."""
    values = [b.value for b in bars if b.value is not None]
    low = min([0.0, *values, *(domain[:1] if domain else [])])
    high = max([0.0, *values, *(domain[1:] if domain else [])]) or 1.0
    span = WIDTH - LABEL_WIDTH - 70

    def x(value: float) -> float:
        return LABEL_WIDTH + span * (value - low) / (high - low)

    parts = []
    for i, bar in enumerate(bars):
        y = 6 + i * ROW
        shown = bar.text or ("n/a" if bar.value is None else f"{bar.value:g}")
        parts.append(format_html("<g><title>{}: {}</title>", bar.label, shown))
        parts.append(row_label(y + ROW / 2 - 3, bar.label))
        if bar.value is not None:
            left, right = sorted((x(0), x(bar.value)))
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                    coord(left),
                    coord(y),
                    coord(max(right - left, 1)),
                    ROW - 6,
                    bar.colour,
                )
            )
        end = x(max(bar.value or 0, 0))
        parts.append(
            format_html(
                '<text x="{}" y="{}" dominant-baseline="middle" fill="#1d1d1f">{}</text></g>',
                coord(end + 6),
                coord(y + ROW / 2 - 3),
                shown,
            )
        )
    if low < 0:
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="0" y2="{}" stroke="{}"/>',
                coord(x(0)),
                coord(x(0)),
                coord(6 + len(bars) * ROW),
                AXIS,
            )
        )
    return svg(width=WIDTH, height=12 + len(bars) * ROW, label=title, body=join(parts))


@dataclass(frozen=True)
class Segment:
    name: str
    value: float
    colour: str


@dataclass(frozen=True)
class StackedRow:
    label: str
    segments: list[Segment]
    total: float | None = None  # the full bar; the segments' sum when None
    text: str = ""  # shown after the bar

    @property
    def whole(self) -> float:
        return self.total if self.total is not None else sum(s.value for s in self.segments)


def stacked_bars(
    rows: Sequence[StackedRow],
    *,
    title: str,
    legend: Sequence[tuple[str, str]] = (),
    inside: bool = True,
) -> SafeString:
    """One full-width bar a row, split into segments by their share of the row's total.

    What the segments leave of the total shows as a grey track. `inside` writes each wide
    enough segment's percentage on it.
    """
    top = 26 if legend else 4
    length = WIDTH - LABEL_WIDTH - 110
    parts = [legend_row(legend)] if legend else []
    for i, row in enumerate(rows):
        y = top + i * ROW
        whole = row.whole
        parts.append(row_label(y + ROW / 2 - 3, row.label))
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {} in all</title></rect>',
                LABEL_WIDTH,
                coord(y),
                coord(length),
                ROW - 6,
                TRACK,
                row.label,
                f"{whole:g}",
            )
        )
        x = float(LABEL_WIDTH)
        for segment in row.segments:
            if not whole or segment.value <= 0:
                continue
            width = length * segment.value / whole
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {} {} of {} ({}%)</title></rect>',
                    coord(x),
                    coord(y),
                    coord(width),
                    ROW - 6,
                    segment.colour,
                    row.label,
                    segment.name,
                    f"{segment.value:g}",
                    f"{whole:g}",
                    round(100 * segment.value / whole),
                )
            )
            if inside and width >= 34:
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" text-anchor="middle" dominant-baseline="middle" fill="#fff">{}%</text>',
                        coord(x + width / 2),
                        coord(y + ROW / 2 - 3),
                        round(100 * segment.value / whole),
                    )
                )
            x += width
        parts.append(
            format_html(
                '<text x="{}" y="{}" dominant-baseline="middle" fill="#1d1d1f">{}</text>',
                coord(LABEL_WIDTH + length + 6),
                coord(y + ROW / 2 - 3),
                row.text or f"n = {whole:g}",
            )
        )
    return svg(width=WIDTH, height=top + len(rows) * ROW + 4, label=title, body=join(parts))


def progress_bars(
    rows: Sequence[StackedRow], *, title: str, legend: Sequence[tuple[str, str]] = ()
) -> SafeString:
    """Done against the total on a grey track, each bar as long as its own total."""
    fixed = [StackedRow(row.label, row.segments, row.total, row.text or _percent_text(row)) for row in rows]
    return stacked_bars(fixed, title=title, legend=legend, inside=False)


def _percent_text(row: StackedRow) -> str:
    done = sum(s.value for s in row.segments)
    whole = row.whole
    return f"{done:g} / {whole:g} ({round(100 * done / whole) if whole else 100}%)"
