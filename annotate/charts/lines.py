"""Line charts: metrics against a number (the learning curve)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html
from django.utils.safestring import SafeString

from annotate.charts.svg import AXIS, SERIES_STYLES, TRACK, WIDTH, coord, join, svg


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
                coord(py(tick)),
                coord(py(tick)),
                TRACK,
                left - 6,
                coord(py(tick)),
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
                coord(px(tick)),
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
            coord(left + plot_w / 2),
            height - 6,
            AXIS,
            x_label,
            coord(top + plot_h / 2),
            AXIS,
            coord(top + plot_h / 2),
            y_label,
        )
    )
    for k, one in enumerate(series):
        colour, dash = SERIES_STYLES[k % len(SERIES_STYLES)]
        points = " ".join(f"{coord(px(x))},{coord(py(y))}" for x, y in one.points)
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
                    coord(px(x)),
                    coord(py(y)),
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
    return svg(width=width, height=height, label=title, body=join(parts))
