"""Charts as server-rendered SVG: no script, nothing fetched, nothing the page's policy forbids.

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` for screen readers, axes with
labelled ticks, and a `<title>` on every bar (its exact figures, shown on hover). Colours come
from classes styled in static/style.css. Every text is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 16, 48
MAX_X_LABELS = 12
ROW_HEIGHT = 28  # each operation's row in a horizontal chart
LABEL_WIDTH = 260


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float]
    css_class: str


def _number(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^n at least `value`: round figures on the axis."""
    if value <= 0:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _frame(title: str, description: str, height: int, body: list[str], ident: str) -> Markup:
    head = (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{ident}-title" aria-describedby="{ident}-desc" '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # every text in it was escaped above


def column_chart(
    ident: str, title: str, labels: Sequence[str], series: Sequence[Series], unit: str
) -> Markup:
    """Columns over time, the series drawn over one another from the baseline (the later a
    part of the earlier, as refusals are of requests), with a value axis and period labels."""
    top = nice_ceiling(max((max(s.values, default=0) for s in series), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(labels), 1)
    body = _value_axis(top, plot_height, unit)
    for index, label in enumerate(labels):
        x = LEFT + index * slot
        parts = ", ".join(f"{_number(s.values[index])} {s.name}" for s in series)
        for s in series:
            height = plot_height * s.values[index] / top
            body.append(
                f'<rect class="{s.css_class}" x="{x + slot * 0.1:.1f}" '
                f'y="{TOP + plot_height - height:.1f}" width="{slot * 0.8:.1f}" '
                f'height="{height:.1f}"><title>{escape(label)}: {escape(parts)}</title></rect>'
            )
    every = max(1, -(-len(labels) // MAX_X_LABELS))
    for index in range(0, len(labels), every):
        x = LEFT + (index + 0.5) * slot
        body.append(
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(labels[index][5:])}</text>'
        )
    body.append(_legend(series, HEIGHT - 12))
    total = ", ".join(f"{_number(sum(s.values))} {s.name}" for s in series)
    description = f"{len(labels)} periods from {labels[0]} to {labels[-1]}: {total}."
    return _frame(title, description if labels else "No periods.", HEIGHT, body, ident)


def _value_axis(top: float, plot_height: float, unit: str) -> list[str]:
    axis = [
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_height}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_height}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_height}"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_height * (1 - fraction)
        axis.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(top * fraction)}</text>"
        )
    axis.append(f'<text class="tick" x="{LEFT + 6}" y="{TOP + 4}">{escape(unit)}</text>')
    return axis


def _legend(series: Sequence[Series], y: float) -> str:
    items = []
    for index, s in enumerate(series):
        x = LEFT + index * 160
        items.append(
            f'<rect class="{s.css_class}" x="{x}" y="{y - 9}" width="10" height="10"/>'
            f'<text class="tick" x="{x + 14}" y="{y}">{escape(s.name)}</text>'
        )
    return "".join(items)


def bar_chart(
    ident: str, title: str, labels: Sequence[str], series: Sequence[Series], unit: str
) -> Markup:
    """Horizontal bars, one row per label (an operation), one bar per series in each row."""
    height = TOP + ROW_HEIGHT * max(len(labels), 1) + BOTTOM
    top = nice_ceiling(max((max(s.values, default=0) for s in series), default=0))
    plot_width = WIDTH - LABEL_WIDTH - RIGHT - 40
    bar = (ROW_HEIGHT - 8) / max(len(series), 1)
    body: list[str] = []
    for index, label in enumerate(labels):
        y = TOP + index * ROW_HEIGHT
        shown = label if len(label) <= 40 else "…" + label[-39:]
        body.append(
            f'<text class="tick" x="{LABEL_WIDTH - 6}" y="{y + ROW_HEIGHT / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(shown)}</text>'
        )
        for position, s in enumerate(series):
            width = plot_width * s.values[index] / top
            figure = f"{_number(s.values[index])} {unit}"
            body.append(
                f'<rect class="{s.css_class}" x="{LABEL_WIDTH}" '
                f'y="{y + 4 + position * bar:.1f}" width="{width:.1f}" height="{bar:.1f}">'
                f"<title>{escape(label)}: {escape(s.name)} {escape(figure)}</title></rect>"
            )
    axis_y = TOP + ROW_HEIGHT * max(len(labels), 1)
    body.append(
        f'<line class="axis" x1="{LABEL_WIDTH}" y1="{axis_y}" x2="{LABEL_WIDTH + plot_width}" '
        f'y2="{axis_y}"/>'
    )
    for fraction in (0.0, 0.5, 1.0):
        body.append(
            f'<text class="tick" x="{LABEL_WIDTH + plot_width * fraction:.1f}" '
            f'y="{axis_y + 16}" text-anchor="middle">{_number(top * fraction)} {escape(unit)}'
            "</text>"
        )
    body.append(_legend(series, height - 8))
    description = f"{len(labels)} operations; " + "; ".join(
        f"highest {s.name} {_number(max(s.values, default=0))} {unit}" for s in series
    )
    return _frame(title, description, height, body, ident)
