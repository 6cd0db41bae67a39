"""A confusion matrix as a shaded grid."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString

from annotate.charts.svg import ACCENT, AXIS, coord, join, svg


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
            coord(left + cell * n / 2),
            AXIS,
        ),
        format_html(
            '<text x="14" y="{}" text-anchor="middle" fill="{}" transform="rotate(-90 14 {})">gold</text>',
            coord(top + cell * n / 2),
            AXIS,
            coord(top + cell * n / 2),
        ),
    ]
    for j, name in enumerate(classes):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="#1d1d1f">{}</text>',
                coord(left + cell * j + cell / 2),
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
                coord(y + cell / 2),
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
                    coord(left + cell * j + cell / 2),
                    coord(y + cell / 2),
                    "#fff" if share > 0.5 else "#1d1d1f",
                    count,
                )
            )
    return svg(width=left + cell * n + 10, height=top + cell * n + 10, label=title, body=join(parts))
