"""Bar charts drawn on the server as SVG: readable by a screen reader (a title and a description, and the numbers
in a table beside every chart), told apart without colour (each series has its own pattern) and when printed in
black and white (every bar has an outline)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 56
# Fill patterns (and colours, for the screen) of up to three series.
PATTERNS = (
    ("solid", "#1d4f91", ""),
    ("stripes", "#b35900", '<path d="M0,6 L6,0" stroke="#b35900" stroke-width="2"/>'),
    ("dots", "#2e7d32", '<circle cx="3" cy="3" r="1.6" fill="#2e7d32"/>'),
)


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]


def _fill(index: int, chart_id: str) -> str:
    name, colour, _mark = PATTERNS[index % len(PATTERNS)]
    return colour if name == "solid" else f"url(#{chart_id}-{name})"


def bars(chart_id: str, title: str, description: str, categories: list[str], series: list[Series]) -> SafeString:
    """Grouped bars: one group per category, one bar per series; every ``label_every``-th category labelled."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = max([v for s in series for v in s.values] + [1])
    groups = max(len(categories), 1)
    group_w = plot_w / groups
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1)
    label_every = max(1, groups // 13)
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
        "<defs>",
    ]
    for name, _colour, mark in PATTERNS[1:]:
        parts.append(
            f'<pattern id="{chart_id}-{name}" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="#fff"/>{mark}</pattern>'
        )
    parts.append("</defs>")
    for step in range(5):  # the value axis: 0, a quarter … the top
        value = top * step / 4
        y = TOP + plot_h - plot_h * step / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>')
    for index, category in enumerate(categories):
        x0 = LEFT + group_w * index + group_w * 0.1
        for number, one in enumerate(series):
            value = one.values[index] if index < len(one.values) else 0
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + bar_w * number:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{_fill(number, chart_id)}" stroke="#222" stroke-width="0.6"/>'
            )
        if index % label_every == 0:
            x = LEFT + group_w * (index + 0.5)
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{escape(category)}</text>')
    legend_x = LEFT
    for number, one in enumerate(series):
        parts.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 24}" width="14" height="14" fill="{_fill(number, chart_id)}" '
            f'stroke="#222" stroke-width="0.6"/>'
            f'<text x="{legend_x + 20}" y="{HEIGHT - 12}">{escape(one.name)}</text>'
        )
        legend_x += 30 + 8 * len(one.name)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped; numbers are formatted here
