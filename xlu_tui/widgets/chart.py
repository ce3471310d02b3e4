"""A line chart drawn with braille dots: accuracy per language (or per run) over evaluations.

Each terminal cell holds 2x4 dots, so an 60x12 chart has 120x48 points of resolution. Series
keep their own colour; where two cross in one cell the later one colours it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from xlu_tui.format import theme_colors

# Dot bit of the braille pattern at (column 0-1, row 0-3) of a cell.
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BRAILLE = 0x2800

# Categorical colours that stay readable on dark and light backgrounds (mid lightness).
DARK_PALETTE = ("#5fa8e8", "#f28e2b", "#59c26b", "#e15759", "#b07aa1", "#edc948", "#76b7b2",
                "#ff9da7", "#c49c7a", "#9da3ff", "#bab0ac", "#8cd17d")
LIGHT_PALETTE = ("#1f5fa8", "#c45a00", "#23803a", "#b8282b", "#7a3f8f", "#8a6d00", "#2a7b77",
                 "#c2185b", "#7a5230", "#3f4fcf", "#666666", "#4a7f1f")


@dataclass
class Series:
    label: str
    values: list[float | None]
    color: str = ""
    bold: bool = False  # the mean: drawn last, on top, and named in bold


@dataclass
class ChartData:
    x_labels: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    title: str = ""
    empty_text: str = "no evaluation yet"


def nice_range(values: list[float]) -> tuple[float, float]:
    """A y range around `values` with round ends, at least 10 points tall, within 0-100."""
    lo, hi = min(values), max(values)
    lo = math.floor(lo / 10) * 10
    hi = math.ceil(hi / 10) * 10
    if hi - lo < 10:
        hi = lo + 10
    if hi > 100:
        hi, lo = 100, min(lo, 90)
    return max(lo, 0.0), hi


def tick_values(lo: float, hi: float, rows: int) -> list[float]:
    """Round values for the y axis: as many as fit with two empty rows between labels."""
    most = max(2, (rows - 1) // 3 + 1)
    for step in (1, 2, 2.5, 5, 10, 20, 25, 50):
        if (hi - lo) / step + 1 <= most:
            break
    first = math.ceil(lo / step) * step
    values = []
    v = first
    while v <= hi + 1e-9:
        values.append(v)
        v += step
    return values or [lo, hi]


class LineChart(Widget):
    """Call `update(ChartData)`; the chart redraws at its size on the next refresh."""

    DEFAULT_CSS = """
    LineChart {
        height: 1fr;
        min-height: 5;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data = ChartData()

    def update(self, data: ChartData) -> None:
        self.data = data
        self.refresh()

    def palette(self) -> tuple[str, ...]:
        return DARK_PALETTE if self.app.current_theme.dark else LIGHT_PALETTE

    def render(self) -> Text:
        w, h = self.content_size.width, self.content_size.height
        return render_chart(self.data, w, h, self.palette(), muted=theme_colors(self.app).get("foreground-muted", ""),
                            text_color=theme_colors(self.app).get("foreground", ""))


def render_chart(data: ChartData, width: int, height: int, palette: tuple[str, ...],
                 muted: str = "", text_color: str = "") -> Text:
    """The chart as text lines: legend, plot with a y axis, x labels."""
    muted_style = Style(color=muted or None, dim=not muted)
    out = Text(no_wrap=True, overflow="crop")
    if width < 12 or height < 4:
        return out
    colors = [s.color or (text_color if s.bold else palette[i % len(palette)]) for i, s in enumerate(data.series)]
    points = [v for s in data.series for v in s.values if v is not None]

    # Legend: the title, then each series' name in its colour; on two lines when one is too
    # short and the chart is tall enough to spare a row.
    items = []
    if data.title:
        items.append(Text(data.title + "  ", style="bold"))
    for s, color in zip(data.series, colors):
        item = Text("━ " if s.bold else "● ", style=Style(color=color or None, bold=s.bold))
        item.append(s.label + "  ", style=Style(bold=s.bold))
        items.append(item)
    lines = [Text(no_wrap=True, overflow="ellipsis")]
    for item in items:
        if lines[-1].cell_len + item.cell_len > width and len(lines) == 1 and height >= 12 and lines[-1].cell_len:
            lines.append(Text(no_wrap=True, overflow="ellipsis"))
        lines[-1].append_text(item)
    for line in lines:
        line.truncate(width, overflow="ellipsis")
        out.append_text(line)
        out.append("\n")
    if not points:
        out.append(data.empty_text, style=muted_style)
        return out
    height -= len(lines) - 1

    lo, hi = nice_range(points)
    axis_w = 4
    pw = max(width - axis_w - 1, 4)
    ph = max(height - 2, 2)
    dots_w, dots_h = pw * 2, ph * 4
    n = max(len(data.x_labels), max((len(s.values) for s in data.series), default=0))

    def x_of(i: int) -> int:
        return (dots_w - 1) // 2 if n <= 1 else round(i * (dots_w - 1) / (n - 1))

    def y_of(v: float) -> int:
        return round((hi - v) / (hi - lo) * (dots_h - 1))

    # cell -> {series index: dot bits}
    cells: dict[tuple[int, int], dict[int, int]] = {}

    def dot(x: int, y: int, si: int) -> None:
        if 0 <= x < dots_w and 0 <= y < dots_h:
            key = (y // 4, x // 2)
            bits = cells.setdefault(key, {})
            bits[si] = bits.get(si, 0) | _DOTS[y % 4][x % 2]

    order = [i for i, s in enumerate(data.series) if not s.bold] + [i for i, s in enumerate(data.series) if s.bold]
    markers: dict[tuple[int, int], int] = {}
    show_markers = n > 0 and pw // max(n, 1) >= 4
    for si in order:
        s = data.series[si]
        prev: tuple[int, int] | None = None
        for i, v in enumerate(s.values):
            if v is None:
                prev = None
                continue
            pt = (x_of(i), y_of(v))
            if prev is None:
                dot(*pt, si)
            else:
                _line(prev, pt, lambda x, y: dot(x, y, si))
            if show_markers:
                markers[(pt[1] // 4, pt[0] // 2)] = si
            prev = pt

    ticks = {}
    for v in tick_values(lo, hi, ph):
        ticks.setdefault(round((hi - v) / (hi - lo) * (ph - 1)), v)
    for row in range(ph):
        label = f"{ticks[row]:>{axis_w - 1}g}┤" if row in ticks else " " * (axis_w - 1) + "│"
        out.append(label, style=muted_style)
        line = Text(no_wrap=True)
        for col in range(pw):
            if (row, col) in markers:
                si = markers[(row, col)]
                line.append("●", style=Style(color=colors[si] or None, bold=True))
                continue
            bits = cells.get((row, col))
            if not bits:
                line.append(" ")
                continue
            top = max(bits, key=lambda k: (data.series[k].bold, order.index(k)))
            mask = 0
            for b in bits.values():
                mask |= b
            line.append(chr(_BRAILLE + mask), style=Style(color=colors[top] or None))
        out.append_text(line)
        out.append("\n")

    # x axis: as many labels as fit, first and last always.
    axis = [" "] * pw
    if data.x_labels:
        widest = max(len(x) for x in data.x_labels) + 1
        step = max(1, math.ceil(n * widest / max(pw, 1)))
        chosen = list(range(0, n, step))
        if n - 1 not in chosen:
            if chosen and (x_of(n - 1) // 2 - x_of(chosen[-1]) // 2) < widest:
                chosen.pop()
            chosen.append(n - 1)
        for i in chosen:
            label = data.x_labels[i]
            col = min(max(x_of(i) // 2 - len(label) // 2, 0), pw - len(label))
            if all(c == " " for c in axis[max(col - 1, 0):col + len(label) + 1]):
                axis[col:col + len(label)] = list(label)
    out.append(" " * axis_w + "".join(axis), style=muted_style)
    return out


def _line(a: tuple[int, int], b: tuple[int, int], plot) -> None:  # noqa: ANN001
    """Bresenham between two dot positions."""
    (x0, y0), (x1, y1) = a, b
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err = dx + dy
    while True:
        plot(x0, y0)
        if x0 == x1 and y0 == y1:
            return
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x0 += sx
        if e2 <= dx:
            err += dx
            y0 += sy
