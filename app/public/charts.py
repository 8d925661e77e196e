"""Charts drawn on the server as SVG: no script, readable at phone width.

The drawing's coordinates are a 360-unit-wide view box, about the width of a phone, so its
text stays legible when the page scales it to the screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 360, 200
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 12, 28
LEGEND_COLUMN = 150


def _legend_height(series: Sequence[object]) -> int:
    """Room below the axis for a two-column legend (none for a single series)."""
    return 0 if len(series) < 2 else 14 * ((len(series) + 1) // 2) + 4


@dataclass(frozen=True)
class Series:
    """One stacked part of the bars: a name for the legend, a CSS class, a value per day."""

    name: str
    css_class: str
    values: Sequence[int]


def bar_chart(title: str, days: Sequence[date], series: Sequence[Series]) -> Markup:
    """Bars per day (stacked when there are several series), an axis, a legend, a title."""
    totals = [sum(s.values[i] for s in series) for i in range(len(days))]
    peak = max([*totals, 1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.7, 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT + _legend_height(series)}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{peak}</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for i, day in enumerate(days):
        x = LEFT + i * step + (step - bar_w) / 2
        base = TOP + plot_h
        for s in series:
            value = s.values[i]
            if not value:
                continue
            height = plot_h * value / peak
            base -= height
            parts.append(
                f'<rect class="{s.css_class}" x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" '
                f'height="{height:.1f}"><title>{day.isoformat()}: {value} '
                f"{escape(s.name)}</title></rect>"
            )
        if day.day == 1 or day.day % 5 == 0:
            parts.append(
                f'<text class="tick" x="{x + bar_w / 2:.1f}" y="{TOP + plot_h + 14}" '
                f'text-anchor="middle">{day.day}</text>'
            )
    for n, s in enumerate(series if len(series) > 1 else ()):
        x = LEFT + (n % 2) * LEGEND_COLUMN
        y = HEIGHT - 6 + (n // 2) * 14
        parts.append(
            f'<rect class="{s.css_class}" x="{x}" y="{y}" width="9" height="9"/>'
            f'<text class="legend" x="{x + 12}" y="{y + 8}">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in it is escaped above)
