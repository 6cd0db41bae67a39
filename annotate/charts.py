"""Small server-rendered SVG charts: no JavaScript, no inline style, every text escaped.

Each builder returns a SafeString holding one <svg role="img"> with an aria-label and a
<title>. Colours and sizes are SVG presentation attributes, so a strict
Content-Security-Policy (no 'unsafe-inline' styles) leaves them alone. Titles, article
titles and source names are user data: they only ever pass through format_html.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

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


def _n(value: float) -> str:
    """A coordinate: one decimal, no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _join(parts: Iterable[SafeString]) -> SafeString:
    return mark_safe("".join(parts))  # every part was built by format_html


def svg(*, width: float, height: float, label: str, body: SafeString, css_class: str = "chart") -> SafeString:
    """The <svg> root: accessible name in aria-label and <title>, size in the viewBox."""
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="{}" viewBox="0 0 {} {}" width="{}" height="{}"'
        ' role="img" aria-label="{}" font-size="{}"><title>{}</title>{}</svg>',
        css_class,
        _n(width),
        _n(height),
        _n(width),
        _n(height),
        label,
        FONT_SIZE,
        label,
        body,
    )


def _row_label(y: float, text: str) -> SafeString:
    return format_html(
        '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" fill="#1d1d1f">{}</text>',
        LABEL_WIDTH - 8,
        _n(y),
        _shorten(text, LABEL_CHARS),
    )


def _legend(items: Sequence[tuple[str, str]], *, x: float = LABEL_WIDTH, y: float = 12) -> SafeString:
    parts = []
    for name, colour in items:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" fill="{}"/>'
                '<text x="{}" y="{}" dominant-baseline="middle" fill="#1d1d1f">{}</text>',
                _n(x),
                _n(y - 6),
                colour,
                _n(x + 16),
                _n(y),
                name,
            )
        )
        x += 24 + 7.5 * len(name)
    return _join(parts)


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
        parts.append(_row_label(y + ROW / 2 - 3, bar.label))
        if bar.value is not None:
            left, right = sorted((x(0), x(bar.value)))
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                    _n(left),
                    _n(y),
                    _n(max(right - left, 1)),
                    ROW - 6,
                    bar.colour,
                )
            )
        end = x(max(bar.value or 0, 0))
        parts.append(
            format_html(
                '<text x="{}" y="{}" dominant-baseline="middle" fill="#1d1d1f">{}</text></g>',
                _n(end + 6),
                _n(y + ROW / 2 - 3),
                shown,
            )
        )
    if low < 0:
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="0" y2="{}" stroke="{}"/>',
                _n(x(0)),
                _n(x(0)),
                _n(6 + len(bars) * ROW),
                AXIS,
            )
        )
    return svg(width=WIDTH, height=12 + len(bars) * ROW, label=title, body=_join(parts))


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
    parts = [_legend(legend)] if legend else []
    for i, row in enumerate(rows):
        y = top + i * ROW
        whole = row.whole
        parts.append(_row_label(y + ROW / 2 - 3, row.label))
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {} in all</title></rect>',
                LABEL_WIDTH,
                _n(y),
                _n(length),
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
                    _n(x),
                    _n(y),
                    _n(width),
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
                        _n(x + width / 2),
                        _n(y + ROW / 2 - 3),
                        round(100 * segment.value / whole),
                    )
                )
            x += width
        parts.append(
            format_html(
                '<text x="{}" y="{}" dominant-baseline="middle" fill="#1d1d1f">{}</text>',
                _n(LABEL_WIDTH + length + 6),
                _n(y + ROW / 2 - 3),
                row.text or f"n = {whole:g}",
            )
        )
    return svg(width=WIDTH, height=top + len(rows) * ROW + 4, label=title, body=_join(parts))


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


def _blend(share: float, colour: str = ACCENT) -> str:
    """White blended toward `colour` by share (0..1)."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 + (c - 255) * share):02x}" for c in rgb)


def heat_map(matrix: Sequence[Sequence[int]], classes: Sequence[str], *, title: str) -> SafeString:
    """A confusion matrix: rows gold, columns predicted, shaded by share of the row."""
    cell, left, top = 72, 110, 44
    n = len(classes)
    parts = [
        format_html(
            '<text x="{}" y="14" text-anchor="middle" fill="{}">predicted</text>',
            _n(left + cell * n / 2),
            AXIS,
        ),
        format_html(
            '<text x="14" y="{}" text-anchor="middle" fill="{}" transform="rotate(-90 14 {})">gold</text>',
            _n(top + cell * n / 2),
            AXIS,
            _n(top + cell * n / 2),
        ),
    ]
    for j, name in enumerate(classes):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="#1d1d1f">{}</text>',
                _n(left + cell * j + cell / 2),
                top - 8,
                name,
            )
        )
    for i, row in enumerate(matrix):
        total = sum(row)
        y = top + i * cell
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" fill="#1d1d1f">{}</text>',
                left - 8,
                _n(y + cell / 2),
                classes[i],
            )
        )
        for j, count in enumerate(row):
            share = count / total if total else 0
            parts.append(
                format_html(
                    "<g><title>gold {}, predicted {}: {} ({}% of {})</title>"
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#fff"/>'
                    '<text x="{}" y="{}" text-anchor="middle" dominant-baseline="middle" fill="{}"'
                    ' font-size="16">{}</text></g>',
                    classes[i],
                    classes[j],
                    count,
                    round(100 * share),
                    classes[i],
                    left + cell * j,
                    y,
                    cell,
                    cell,
                    _blend(share),
                    _n(left + cell * j + cell / 2),
                    _n(y + cell / 2),
                    "#fff" if share > 0.5 else "#1d1d1f",
                    count,
                )
            )
    return svg(width=left + cell * n + 10, height=top + cell * n + 10, label=title, body=_join(parts))


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[float, float]]
    tooltips: list[str] = field(default_factory=list)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    step = (high - low) / (count - 1)
    return [low + step * k for k in range(count)]


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    y_domain: tuple[float, float] = (0.0, 1.0),
) -> SafeString:
    """Lines with dots; each dot has a tooltip. One point draws a dot alone."""
    left, right, top, bottom = 56, 130, 14, 44
    width, height = WIDTH, 280
    xs = [x for s in series for x, _ in s.points]
    x_low, x_high = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_high == x_low:
        x_low, x_high = x_low - 1, x_high + 1
    y_low, y_high = y_domain
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + plot_w * (x - x_low) / (x_high - x_low)

    def py(y: float) -> float:
        return top + plot_h * (1 - (y - y_low) / (y_high - y_low))

    parts = []
    for tick in _ticks(y_low, y_high):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" fill="{}">{}</text>',
                left,
                left + plot_w,
                _n(py(tick)),
                _n(py(tick)),
                TRACK,
                left - 6,
                _n(py(tick)),
                AXIS,
                f"{tick:.2f}",
            )
        )
    distinct = sorted(set(xs))
    x_ticks = distinct if 0 < len(distinct) <= 8 else [round(t) for t in _ticks(x_low, x_high)]
    for tick in x_ticks:
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                _n(px(tick)),
                top + plot_h + 16,
                AXIS,
                f"{tick:g}",
            )
        )
    parts.append(
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
            '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>'
            '<text x="14" y="{}" text-anchor="middle" fill="{}" transform="rotate(-90 14 {})">{}</text>',
            left,
            left + plot_w,
            top + plot_h,
            top + plot_h,
            AXIS,
            _n(left + plot_w / 2),
            height - 6,
            AXIS,
            x_label,
            _n(top + plot_h / 2),
            AXIS,
            _n(top + plot_h / 2),
            y_label,
        )
    )
    for k, one in enumerate(series):
        colour, dash = SERIES_STYLES[k % len(SERIES_STYLES)]
        points = " ".join(f"{_n(px(x))},{_n(py(y))}" for x, y in one.points)
        if len(one.points) > 1:
            parts.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>',
                    points,
                    colour,
                    dash or "none",
                )
            )
        for i, (x, y) in enumerate(one.points):
            tip = one.tooltips[i] if i < len(one.tooltips) else f"{one.name}: {y:.3f} at {x:g}"
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="4" fill="{}"><title>{}</title></circle>',
                    _n(px(x)),
                    _n(py(y)),
                    colour,
                    tip,
                )
            )
        legend_y = top + 10 + 20 * k
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>'
                '<text x="{}" y="{}" dominant-baseline="middle" fill="#1d1d1f">{}</text>',
                left + plot_w + 12,
                left + plot_w + 36,
                legend_y,
                legend_y,
                colour,
                dash or "none",
                left + plot_w + 42,
                legend_y,
                one.name,
            )
        )
    return svg(width=width, height=height, label=title, body=_join(parts))


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
            f'<rect x="{_n(x + 0.75)}" y="0.75" width="{_n(width - 2.5)}" height="{_n(height - 1.5)}"'
            f' fill="#fff" stroke="{colour}" stroke-width="1.5" stroke-dasharray="3 2"/>'
        )
        letter, fill = letter.lower(), colour
    else:
        rect = f'<rect x="{_n(x)}" y="0" width="{width - 1}" height="{height}" fill="{colour}"/>'
        fill = "#fff"
    mark = (
        f'<text x="{_n(x + (width - 1) / 2)}" y="{_n(height / 2)}" text-anchor="middle"'
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
        body=_join(parts),
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
                '<text x="{}" y="9" dominant-baseline="central" fill="#1d1d1f">{}</text>', _n(x + 21), name
            )
        )
        x += 30 + 6.5 * len(name)
    return svg(
        width=x,
        height=20,
        label="Key to the stance profiles: P pro, C contra, N neutral (filled: gold label); "
        "a grey block without a letter has no label; a dashed outline with a small letter is "
        "the model's suggestion",
        body=_join(parts),
    )
