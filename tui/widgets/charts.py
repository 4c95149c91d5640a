"""Small hand-drawn charts for the stats screen: per-day vertical bars, horizontal bars, big numbers.

Every chart is a ``Widget`` whose ``render()`` returns ``rich.text.Text`` built from plain strings
(labels go through ``one_line()``: model names and sources are untrusted), so no markup is parsed.
Bars use the eighth blocks (▁▂▃▄▅▆▇█ vertically, ▏▎▍▌▋▊▉█ horizontally). Colours come from CSS:
a chart's bars take the widget's ``color``, axes and labels the ``*--axis`` / ``*--label`` component
classes, so each instance can be themed with ``$accent``, ``$success``…
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Digits, Label

from tui.text import human_count, one_line

V_BLOCKS = " ▁▂▃▄▅▆▇█"
H_BLOCKS = " ▏▎▍▌▋▊▉█"
ZERO_MARK = "·"

Formatter = Callable[[float], str]


def fmt_count(value: float) -> str:
    return human_count(value)


def fmt_money(value: float) -> str:
    """Short dollars for axes and bar values: $0, $0.012, $1.23, $1.2k."""
    if not value:
        return "$0"
    if value < 0.1:
        return f"${value:.3f}"
    if value < 1000:
        return f"${value:.2f}"
    return "$" + human_count(value)


# ── data ──────────────────────────────────────────────────────────────────────────────────


def calendar_days(since: float, now: float, utc_offset_s: int = 0) -> list[date]:
    """Every calendar day (at ``utc_offset_s`` from UTC) from the one holding ``since`` to today."""
    tz = timezone(timedelta(seconds=utc_offset_s)) if utc_offset_s else UTC
    first = datetime.fromtimestamp(since, tz).date()
    last = datetime.fromtimestamp(now, tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def fill_days(
    per_day: Sequence[dict[str, Any]], since: float, now: float, utc_offset_s: int = 0
) -> list[dict[str, Any]]:
    """``per_day`` with the calendar gaps filled by zero days, oldest first (one row per day)."""
    known = {str(row["day"]): row for row in per_day}
    out: list[dict[str, Any]] = []
    for day in calendar_days(since, now, utc_offset_s):
        key = day.isoformat()
        row = known.get(key)
        out.append({
            "day": key,
            "sessions": int(row["sessions"]) if row else 0,
            "messages": int(row["messages"]) if row else 0,
            "tokens": int(row["tokens"]) if row else 0,
            "cost_usd": float(row["cost_usd"]) if row else 0.0,
        })
    return out


def day_label(iso_day: str) -> str:
    try:
        return date.fromisoformat(iso_day).strftime("%b %d")
    except ValueError:
        return one_line(iso_day, 10)


@dataclass(frozen=True)
class Series:
    """One metric over consecutive days."""

    days: tuple[str, ...] = ()
    values: tuple[float, ...] = ()

    @property
    def peak(self) -> float:
        return max(self.values, default=0.0)


def bucket(values: Sequence[float], columns: int) -> tuple[list[float], int]:
    """Sum consecutive values so that they fit in ``columns``; returns (sums, days per column)."""
    if not values or columns <= 0 or len(values) <= columns:
        return list(values), 1
    per = math.ceil(len(values) / columns)
    return [sum(values[i : i + per]) for i in range(0, len(values), per)], per


# ── per-day bars ──────────────────────────────────────────────────────────────────────────


class DayBars(Widget):
    """A per-day vertical bar chart with a y axis (the peak labelled) and the first/last day below.

    Rows: the bars (all but the last two lines), the x axis, then the day labels. Days with no
    activity are drawn as a dim ``·`` on the baseline, so gaps read as zero rather than missing.
    """

    ALLOW_SELECT: ClassVar[bool] = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"day-bars--axis", "day-bars--label", "day-bars--zero"}
    DEFAULT_CSS = """
    DayBars {
        height: 8;
        width: 1fr;
        color: $accent;
        & > .day-bars--axis { color: $text-muted; }
        & > .day-bars--label { color: $text-muted; }
        & > .day-bars--zero { color: $text-disabled; }
    }
    """

    series: reactive[Series] = reactive(Series, layout=False)

    def __init__(
        self, formatter: Formatter = fmt_count, *, name: str | None = None, id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.formatter = formatter

    def set_series(self, days: Sequence[str], values: Sequence[float]) -> None:
        self.series = Series(tuple(days), tuple(float(v) for v in values))

    def render(self) -> Text:
        return self.draw(self.size.width, self.size.height)

    def draw(self, width: int, height: int) -> Text:
        """The chart as ``height`` lines of ``width`` cells (public for tests)."""
        series = self.series
        bar_style = self.rich_style
        axis = self.get_component_rich_style("day-bars--axis", partial=True)
        label = self.get_component_rich_style("day-bars--label", partial=True)
        zero = self.get_component_rich_style("day-bars--zero", partial=True)
        return draw_day_bars(series, width, height, self.formatter, bar_style, axis, label, zero)


def draw_day_bars(
    series: Series, width: int, height: int, formatter: Formatter = fmt_count,
    bar_style: Style | None = None, axis: Style | None = None, label: Style | None = None,
    zero: Style | None = None,
) -> Text:
    bar_style, axis, label, zero = (s or Style() for s in (bar_style, axis, label, zero))
    rows = max(1, height - 2)
    probe_gutter = max(len(formatter(series.peak)), len(formatter(0))) + 1
    values, per = bucket(series.values, max(1, width - probe_gutter - 1))
    top = max(values, default=0.0)  # the daily peak, or the largest bucket when days are summed
    top_label = formatter(top)
    gutter = max(len(top_label), len(formatter(0))) + 1
    plot = max(1, width - gutter - 1)
    n = len(values)
    # Column widths: spread the days over the plot (at most 6 cells a day); with 2+ cells each,
    # the last cell of every column is a gap.
    span = min(plot, n * 6)
    edges = [round(i * span / n) for i in range(n + 1)] if n else [0]
    widths = [b - a for a, b in pairwise(edges)]
    gap = 1 if widths and min(widths) >= 2 else 0
    eighths = [0 if v <= 0 or top <= 0 else max(1, round(v / top * rows * 8)) for v in values]

    text = Text(no_wrap=True, overflow="crop", end="")
    for r in range(rows):
        level = rows - 1 - r  # 0 = the bottom row
        if r == 0:
            text.append(top_label.rjust(gutter - 1) + " ┤", axis)
        else:
            text.append(" " * gutter + "│", axis)
        line = Text(end="")
        for e, cell in zip(eighths, widths, strict=False):
            bar_w = cell - gap
            filled = e - level * 8
            if filled > 0:
                line.append(V_BLOCKS[min(filled, 8)] * bar_w, bar_style)
            elif e == 0 and level == 0:
                line.append(ZERO_MARK.center(bar_w), zero)
            else:
                line.append(" " * bar_w)
            if gap:
                line.append(" " * gap)
        line.truncate(plot, pad=True)
        text.append_text(line)
        text.append("\n")
    used = span if n else 0
    text.append(formatter(0).rjust(gutter - 1) + " └" + "─" * used + " " * (plot - used), axis)
    text.append("\n")
    first = day_label(series.days[0]) if series.days else ""
    last = day_label(series.days[-1]) if series.days and len(series.days) > 1 else ""
    row = [" "] * max(width, gutter + 1 + max(used, len(first) + len(last) + 1))
    def put(x: int, s: str) -> None:
        row[x : x + len(s)] = list(s)
    put(gutter + 1, first)
    if last:
        put(gutter + 1 + max(used, len(first) + len(last) + 1) - len(last), last)
    if per > 1:  # say that bars are sums, in the middle when there is room
        note = f"{per} days/bar"
        x = gutter + 1 + (used - len(note)) // 2
        if x > gutter + len(first) + 2 and x + len(note) < gutter + used - len(last):
            put(x, note)
    labels = "".join(row)
    text.append(labels[:width].ljust(width), label)
    return text


# ── horizontal bars ───────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class HBar:
    label: str
    value: float
    shown: str


class HBarChart(Widget):
    """Label, bar, value: one row per item, bars scaled to the largest value."""

    ALLOW_SELECT: ClassVar[bool] = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {"hbar-chart--label", "hbar-chart--value", "hbar-chart--track"}
    DEFAULT_CSS = """
    HBarChart {
        height: auto;
        width: 1fr;
        color: $primary;
        & > .hbar-chart--label { color: $text; }
        & > .hbar-chart--value { color: $text-muted; }
        & > .hbar-chart--track { color: $text-disabled; }
    }
    """

    items: reactive[tuple[HBar, ...]] = reactive(tuple, layout=True)

    def __init__(self, *, empty: str = "no data", id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.empty = empty

    def set_items(self, items: Sequence[tuple[str, float, str]]) -> None:
        self.items = tuple(HBar(one_line(label), float(value), shown) for label, value, shown in items)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return max(1, len(self.items))

    def render(self) -> Text:
        width = self.size.width
        if not self.items:
            return Text(self.empty, style=self.get_component_rich_style("hbar-chart--value"), end="")
        label_style = self.get_component_rich_style("hbar-chart--label", partial=True)
        value_style = self.get_component_rich_style("hbar-chart--value", partial=True)
        track = self.get_component_rich_style("hbar-chart--track", partial=True)
        label_w = min(max(len(i.label) for i in self.items), max(6, width * 2 // 5))
        value_w = max(len(i.shown) for i in self.items)
        bar_w = max(1, width - label_w - value_w - 3)
        peak = max((i.value for i in self.items), default=0.0)
        text = Text(no_wrap=True, overflow="crop", end="")
        for n, item in enumerate(self.items):
            if n:
                text.append("\n")
            text.append(one_line(item.label, label_w).ljust(label_w) + " ", label_style)
            eighths = 0 if peak <= 0 or item.value <= 0 else max(1, round(item.value / peak * bar_w * 8))
            full, part = divmod(eighths, 8)
            bar = V_FULL * full + (H_BLOCKS[part] if part else "")
            text.append(bar, self.rich_style)
            text.append("╌" * (bar_w - len(bar)), track)
            text.append("  " + item.shown.rjust(value_w), value_style)
        return text


V_FULL = "█"


# ── big-number cards ──────────────────────────────────────────────────────────────────────


def big_number(value: float, *, dollars: bool = False) -> tuple[str, str]:
    """A number short enough for ``Digits`` (no letters) and its unit word: (``57.5``, ``k``)."""
    if dollars:
        if value < 1:
            return f"${value:.2f}" if value >= 0.01 or value == 0 else f"${value:.3f}", ""
        if value < 10_000:
            return f"${value:,.0f}" if value >= 1000 else f"${value:.2f}", ""
        value /= 1000
        for unit in ("k", "M", "B"):
            if value < 1000:
                return f"${value:.1f}", unit
            value /= 1000
        return f"${value:.0f}", "T"
    if value < 10_000:
        return f"{value:,.0f}", ""
    for unit in ("k", "M", "B", "T"):
        value /= 1000
        if value < 1000:
            return (f"{value:.1f}" if value < 100 else f"{value:.0f}"), unit
    return f"{value:.0f}", "T"


class BigNumber(Vertical):
    """A card: a caption, the number in ``Digits`` (3 rows) with its unit, and a detail line."""

    DEFAULT_CSS = """
    BigNumber {
        height: auto;
        width: 1fr;
        padding: 0 1;
        border: round $border-blurred;
        border-title-color: $text-muted;
        background: $surface;
        color: $accent;
        & > Horizontal { height: 3; width: auto; }
        & Digits { width: auto; color: $accent; text-style: bold; }
        & .unit { width: auto; height: 3; content-align: left bottom; color: $text-muted; padding-left: 1; }
        & .detail { color: $text-muted; height: 1; width: 1fr; }
    }
    """

    def __init__(self, caption: str, *, dollars: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caption = caption
        self.dollars = dollars
        self.value: float = 0
        self.border_title = caption

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Digits("0")
            yield Label("", classes="unit", markup=False)
        yield Label("", classes="detail", markup=False)

    def show(self, value: float, detail: str = "", exact: str = "") -> None:
        shown, unit = big_number(value, dollars=self.dollars)
        self.value = value
        self.query_one(Digits).update(shown)
        self.tooltip = exact or None
        self.query_one(".unit", Label).update(unit)
        self.query_one(".detail", Label).update(detail)
