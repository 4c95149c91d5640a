"""The stats screen: activity over the last 30 or 90 days, drawn.

Totals as big-number cards, sessions/messages/tokens/cost per day as bar charts (calendar gaps
filled with zero days), top models and sources as horizontal bars, and the largest sessions as a
table. One thread worker reads ``Browser.activity(days)``; the screen shows a loading state first
and a store error in place of the charts (no traceback). Reading only: a read-only store works.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from tui.data import Browser
from tui.screens.modal import DismissOnTop
from tui.text import human_count, money, one_line
from tui.widgets.charts import (
    BigNumber,
    DayBars,
    HBarChart,
    day_label,
    fill_days,
    fmt_count,
    fmt_money,
)
from tui.widgets.key_bar import KeyBar

WINDOWS = (30, 90)
TITLE_WIDTH = 44

# (key in per_day, chart id, caption, formatter)
METRICS: tuple[tuple[str, str, str, Any], ...] = (
    ("sessions", "chart-sessions", "Sessions per day", fmt_count),
    ("messages", "chart-messages", "Messages per day", fmt_count),
    ("tokens", "chart-tokens", "Tokens per day", fmt_count),
    ("cost_usd", "chart-cost", "Cost per day", fmt_money),
)


@dataclass(frozen=True)
class StatsData:
    """What the worker hands the UI: the store's ``activity_stats`` plus the filled calendar."""

    days: int
    activity: dict[str, Any]
    calendar: list[dict[str, Any]]

    @property
    def totals(self) -> dict[str, Any]:
        return self.activity["totals"]  # type: ignore[no-any-return]

    @property
    def empty(self) -> bool:
        return not self.totals.get("sessions")


def short_model(model: object, width: int = 20) -> str:
    """``anthropic/claude-sonnet-4`` → ``claude-sonnet-4`` (the table is narrow; the chart has it all)."""
    name = one_line(model or "?")
    return one_line(name.rsplit("/", 1)[-1] or name, width)


def load_stats(browser: Browser, days: int) -> StatsData:
    activity = browser.activity(days)
    offset = browser.now_dt().utcoffset()
    calendar = fill_days(
        activity.get("per_day", []), float(activity["since"]), float(activity["now"]),
        int(offset.total_seconds()) if offset else 0,
    )
    return StatsData(days, activity, calendar)


class StatsHeader(Static):
    """``Activity · last 30 days · Feb 08 – Mar 10`` and the window switch (clickable)."""

    DEFAULT_CSS = """
    StatsHeader {
        height: 1;
        width: 1fr;
        background: $panel;
        padding: 0 1;
    }
    """

    _spans: ClassVar[list[tuple[int, int, int]]] = []

    def show(self, days: int, span: str, status: str = "") -> None:
        """The window switch first (it must survive 80 columns), then what is shown."""
        parts: list[tuple[str, str] | str] = []
        spans: list[tuple[int, int, int]] = []
        x = 0
        for n, window in enumerate(WINDOWS, start=1):
            label = f" {n} {window} days "
            parts.append((label, "reverse bold $accent" if window == days else "$text-muted"))
            spans.append((x, x + len(label), window))
            parts.append(" ")
            x += len(label) + 1
        parts += [" ", ("Activity", "bold $accent"), f" · last {days} days"]
        if span:
            parts.append(f" · {span}")
        if status:
            parts += ["  ", (status, "$text-muted italic")]
        self._spans = spans
        self.update(Content.assemble(*parts))

    def on_click(self, event: events.Click) -> None:
        x = event.x - 1  # the padding
        for start, end, window in self._spans:
            if start <= x < end:
                self.screen.action_window(window)  # type: ignore[attr-defined]
                return


class StatsScreen(DismissOnTop, Screen[None]):
    """Activity over the last 30/90 days: totals, per-day charts, top models/sources, largest sessions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", tooltip="Back to the sessions"),
        Binding("q", "close", "Back", show=False),
        Binding("1", "window(30)", "30 days", tooltip="The last 30 days"),
        Binding("2", "window(90)", "90 days", tooltip="The last 90 days"),
        Binding("w", "toggle_window", "Switch window", show=False),
        Binding("r", "reload", "Reload", tooltip="Read the store again"),
    ]

    DEFAULT_CSS = """
    StatsScreen {
        layout: vertical;
        background: $background;
    }
    StatsScreen #stats-body {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    StatsScreen #stats-message {
        height: auto;
        padding: 0 2;
        color: $text-muted;
        display: none;
        &.-shown { display: block; }
        &.-error { color: $error; text-style: bold; }
    }
    StatsScreen #cards {
        height: auto;
        margin: 0 0;
    }
    StatsScreen #card-sessions { color: $accent; }
    StatsScreen #card-sessions Digits { color: $accent; }
    StatsScreen #card-messages Digits { color: $primary; }
    StatsScreen #card-tokens Digits { color: $secondary-lighten-2; }
    StatsScreen #card-cost Digits { color: $success; }
    StatsScreen #charts {
        grid-size: 2 2;
        grid-gutter: 0 0;
        height: 18;
    }
    StatsScreen .panel {
        border: round $border-blurred;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
    }
    StatsScreen #charts DayBars { height: 1fr; }
    StatsScreen #chart-sessions { color: $accent; }
    StatsScreen #chart-messages { color: $primary; }
    StatsScreen #chart-tokens { color: $secondary-lighten-2; }
    StatsScreen #chart-cost { color: $success; }
    StatsScreen #bottom {
        height: auto;
        min-height: 14;
    }
    StatsScreen #tops {
        width: 40%;
        min-width: 30;
        max-width: 46;
        height: auto;
    }
    StatsScreen #tops .panel { height: auto; min-height: 7; }
    StatsScreen #top-models { color: $primary; }
    StatsScreen #top-sources { color: $warning-darken-1; }
    StatsScreen #largest-panel {
        width: 1fr;
        height: 100%;
        padding: 0;
    }
    StatsScreen #largest {
        height: auto;
        max-height: 100%;
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.days = WINDOWS[0]
        self.data: StatsData | None = None
        self.error: str | None = None
        self._table_width = 0
        self._width_retries = 0
        self._filled_laid_out = False  # the last fill of the table knew the table's real width

    @property
    def browser(self) -> Browser:
        return self.app.browser  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        yield StatsHeader(id="stats-header")
        with VerticalScroll(id="stats-body"):
            yield Static(id="stats-message", markup=False)
            with Horizontal(id="cards"):
                yield BigNumber("Sessions", id="card-sessions")
                yield BigNumber("Messages", id="card-messages")
                yield BigNumber("Tokens", id="card-tokens")
                yield BigNumber("Cost", dollars=True, id="card-cost")
            with Grid(id="charts"):
                for _key, chart_id, caption, formatter in METRICS:
                    with Vertical(classes="panel", id=f"{chart_id}-panel") as panel:
                        panel.border_title = caption
                        yield DayBars(formatter, id=chart_id)
            with Horizontal(id="bottom"):
                with Vertical(id="tops"):
                    with Vertical(classes="panel", id="top-models-panel") as panel:
                        panel.border_title = "Top models"
                        yield HBarChart(id="top-models")
                    with Vertical(classes="panel", id="top-sources-panel") as panel:
                        panel.border_title = "Top sources"
                        yield HBarChart(id="top-sources")
                with Vertical(classes="panel", id="largest-panel") as panel:
                    panel.border_title = "Largest sessions"
                    yield DataTable(id="largest", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#largest", DataTable)
        table.add_column("Title", key="title")
        table.add_column("Source", key="source")
        table.add_column("Model", key="model")
        table.add_column(Text("Msgs", justify="right"), key="messages")
        table.add_column(Text("Tokens", justify="right"), key="tokens")
        table.add_column(Text("Cost", justify="right"), key="cost")
        self.load(self.days)

    # ── loading ───────────────────────────────────────────────────────────────────────────

    def load(self, days: int) -> None:
        self.days = days
        self.error = None
        self.query_one(StatsHeader).show(days, "", "loading…")
        self.query_one("#stats-body").loading = True
        self._fetch(days)

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def _fetch(self, days: int) -> StatsData:
        return load_stats(self.browser, days)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "stats":
            return
        event.stop()
        if worker.is_cancelled:
            return
        if event.state is WorkerState.SUCCESS and isinstance(worker.result, StatsData):
            if worker.result.days == self.days:
                self.show(worker.result)
        elif event.state is WorkerState.ERROR:
            self.show_error(worker.error)

    # ── drawing ───────────────────────────────────────────────────────────────────────────

    def show(self, data: StatsData) -> None:
        self.data = data
        self.query_one("#stats-body").loading = False
        calendar = data.calendar
        span = f"{day_label(calendar[0]['day'])} – {day_label(calendar[-1]['day'])}" if calendar else ""
        self.query_one(StatsHeader).show(data.days, span)

        message = self.query_one("#stats-message", Static)
        message.remove_class("-error")
        message.set_class(data.empty, "-shown")
        if data.empty:
            message.update(Content(f"No sessions in the last {data.days} days."))

        totals = data.totals
        n_days = max(1, len(calendar))
        active = sum(1 for d in calendar if d["sessions"])
        sessions, messages = int(totals["sessions"]), int(totals["messages"])
        tokens, cost = int(totals["tokens"]), float(totals["cost_usd"])
        self.query_one("#card-sessions", BigNumber).show(sessions, f"{active} active days", f"{sessions:,} sessions")
        self.query_one("#card-messages", BigNumber).show(
            messages, f"{messages / sessions:.1f}/session" if sessions else "none", f"{messages:,} messages"
        )
        self.query_one("#card-tokens", BigNumber).show(
            tokens, f"{human_count(tokens / n_days)}/day", f"{tokens:,} tokens"
        )
        self.query_one("#card-cost", BigNumber).show(cost, f"{money(cost / n_days)}/day", money(cost))

        days = [d["day"] for d in calendar]
        for key, chart_id, _caption, formatter in METRICS:
            values = [d[key] for d in calendar]
            self.query_one(f"#{chart_id}", DayBars).set_series(days, values)
            panel = self.query_one(f"#{chart_id}-panel")
            peak = max(values, default=0)
            if peak:
                peak_day = day_label(days[values.index(peak)])
                panel.border_subtitle = f"total {formatter(sum(values))} · peak {formatter(peak)} {peak_day}"
            else:
                panel.border_subtitle = "no activity"

        per_model = data.activity.get("per_model", [])[:5]
        names = [one_line(m["model"]) for m in per_model]
        short = [short_model(n, 40) for n in names]
        if len(set(short)) == len(short):  # drop the provider when the names stay distinct
            names = short
        self.query_one("#top-models", HBarChart).set_items(
            [(name, m["sessions"], f"{m['sessions']} · {human_count(m['tokens'])} tok")
             for name, m in zip(names, per_model, strict=False)]
        )
        self.query_one("#top-sources", HBarChart).set_items(
            [(one_line(s["source"]), s["sessions"], f"{s['sessions']} · {human_count(s['tokens'])} tok")
             for s in data.activity.get("per_source", [])[:5]]
        )
        self.query_one("#top-models-panel").border_subtitle = "by sessions"
        self.query_one("#top-sources-panel").border_subtitle = "by sessions"

        self._fill_table()
        self.call_after_refresh(self._fill_table)  # again once laid out (hidden while loading)

    def _fill_table(self) -> None:
        data = self.data
        tables = list(self.query("#largest").results(DataTable))
        if data is None or not tables:  # no table: the screen closed before this (timer, after-refresh) ran
            return
        table = tables[0]
        rows = data.activity.get("largest_sessions", [])
        models = [short_model(r.get("model")) for r in rows]
        sources = [one_line(r.get("source") or "?", 10) for r in rows]
        msgs = [f"{int(r.get('message_count') or 0):,}" for r in rows]
        tokens = [human_count(r.get("tokens") or 0) for r in rows]
        costs = [money(float(r.get("cost_usd") or 0)) for r in rows]
        # the title takes what the other columns (and 2 cells of padding each) leave
        others = sum(
            max([len(head), *map(len, col)])
            for head, col in (("Source", sources), ("Model", models), ("Msgs", msgs), ("Tokens", tokens),
                              ("Cost", costs))
        )
        self._filled_laid_out = bool(table.size.width)
        if table.size.width:
            self._table_width = table.size.width
        elif self._width_retries < 40:  # still hidden (loading): fill again once it has a width
            self._width_retries += 1
            self.set_timer(0.05, self._fill_table)
        available = (self._table_width or self.size.width // 2) - 1  # a vertical scrollbar, perhaps
        title_w = max(12, min(TITLE_WIDTH, available - others - 12))
        table.clear()
        for row, source, model, n, tok, cost in zip(rows, sources, models, msgs, tokens, costs, strict=False):
            title = Text(one_line(row.get("title") or "") or one_line(row.get("id")),
                         style="" if row.get("title") else "italic dim")
            title.truncate(title_w, overflow="ellipsis")  # in cells: wide (CJK) titles fit too
            table.add_row(
                title,
                Text(source),
                Text(model),
                Text(n, justify="right"),
                Text(tok, justify="right"),
                Text(cost, justify="right"),
                key=str(row.get("id")),
            )
        self.query_one("#largest-panel").border_subtitle = (
            "by messages" if table.row_count else f"no sessions in {data.days} days"
        )

    @property
    def settled(self) -> bool:
        """Loaded (or failed) and drawn at its real size: what tests and screenshots wait for."""
        return self.error is not None or (self.data is not None and self._filled_laid_out)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._fill_table)

    def show_error(self, error: BaseException | None) -> None:
        self.error = one_line(str(error) or type(error).__name__) if error else "unknown error"
        self.query_one("#stats-body").loading = False
        self.query_one(StatsHeader).show(self.days, "", "error")
        message = self.query_one("#stats-message", Static)
        message.update(Content(f"Could not read the statistics: {self.error}  (r to retry)"))
        message.add_class("-shown", "-error")

    # ── actions ───────────────────────────────────────────────────────────────────────────

    def action_window(self, days: int) -> None:
        if days != self.days or self.data is None or self.data.days != days:
            self.load(days)

    def action_toggle_window(self) -> None:
        self.load(WINDOWS[(WINDOWS.index(self.days) + 1) % len(WINDOWS)] if self.days in WINDOWS else WINDOWS[0])

    def action_reload(self) -> None:
        self.load(self.days)

    def action_close(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected, "#largest")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
