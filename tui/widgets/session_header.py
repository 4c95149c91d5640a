"""The facts of one session above its conversation: title, ids, times, tokens, cost, lineage.

The parent's and the children's titles are links: a click posts ``LinkClicked`` (the pane opens it).

Facts are short ``Text`` chunks packed into lines at the width the header is drawn at, so a narrow
pane wraps between facts (``· started 3h ago (2026-11-20 09:00)`` stays whole), never inside one.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from tui.data import LineageLink, SessionDetail
from tui.render import plural
from tui.text import absolute_time, human_count, money, one_line, relative_time

ACCENT = "#ffc473"
GOOD = "#8ad4a1"
SEPARATOR = Text(" · ", style="dim")
MAX_CHILD_LINKS = 3


def _link_title(link: LineageLink, width: int = 48) -> str:
    return one_line(link.title, width) or one_line(link.id[:12])


def link_text(link: LineageLink, width: int) -> Text:
    """A session's title as a link: a click opens it (``SessionHeader.action_open_link``). The id goes
    in the action as a parameter, never parsed from a string, so any id is safe."""
    return Text(_link_title(link, width), style=Style(bold=True, meta={"@click": ("open_link", (link.id,))}))


def newest_child(detail: SessionDetail) -> LineageLink | None:
    if not detail.children:
        return None
    return max(detail.children, key=lambda c: (c.started_at, c.id))


class PackedFacts:
    """Rows of fact chunks; each row is packed into as few lines as fit, breaking between chunks
    (a chunk wider than the line is cut with an ellipsis)."""

    def __init__(self, rows: list[list[Text]], separator: Text = SEPARATOR) -> None:
        self.rows = rows
        self.separator = separator

    def lines(self, width: int) -> list[Text]:
        out: list[Text] = []
        sep = self.separator.cell_len
        for row in self.rows:
            line = Text()
            for chunk in row:
                if line.cell_len and line.cell_len + sep + chunk.cell_len > width:
                    out.append(line)
                    line = Text()
                if line.cell_len:
                    line.append_text(self.separator)
                line.append_text(chunk)
            if line.cell_len:
                out.append(line)
        for line in out:
            line.no_wrap = True
            line.overflow = "ellipsis"
            line.truncate(width, overflow="ellipsis")
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text("\n").join(self.lines(max(1, options.max_width)))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)


def header_facts(detail: SessionDetail, now: datetime) -> PackedFacts:
    """The facts of a session, every piece of stored text made safe."""
    title = one_line(detail.title, 200)
    first = [Text(title, style="bold") if title else Text("(untitled session)", style="bold italic dim"),
             Text(one_line(detail.id, 64), style="dim")]

    started = f"started {relative_time(detail.started_at, now)} ({absolute_time(detail.started_at, now)})"
    facts = [
        Text(one_line(detail.source, 32), style=f"bold {ACCENT}"),
        Text(one_line(detail.model, 60) or "unknown model"),
        Text(started),
    ]
    if detail.ended_at is not None:
        reason = one_line(detail.end_reason, 40)
        facts.append(Text(f"ended {absolute_time(detail.ended_at, now)}" + (f" ({reason})" if reason else "")))
    else:
        facts.append(Text("active", style=GOOD))
    facts.append(Text(plural(detail.message_count, "message")))

    def count(label: str, n: int) -> Text:
        return Text.assemble((f"{label} ", "dim"), (human_count(n), "bold"))

    cost = money(detail.cost_usd)
    if detail.cost_usd is not None and detail.cost_is_estimate:
        cost += " est."
    tokens = [
        Text.assemble(("tokens in ", "dim"), (human_count(detail.input_tokens), "bold")),
        count("out", detail.output_tokens),
        count("cache read", detail.cache_read_tokens),
        count("cache write", detail.cache_write_tokens),
        count("reasoning", detail.reasoning_tokens),
        Text.assemble(("cost ", "dim"), (cost, f"bold {ACCENT}" if detail.cost_usd else "bold")),
    ]

    lineage: list[Text] = []
    if detail.parent is not None:
        lineage.append(Text.assemble(("↑ parent: ", "dim"), link_text(detail.parent, 48),
                                     (" (", "dim"), ("[", f"bold {ACCENT}"), (")", "dim")))
    if detail.children:
        if len(detail.children) == 1:
            label = Text.assemble(("↓ child: ", "dim"), link_text(detail.children[0], 48))
        else:
            # Every child is a link (newest first); ] opens the newest.
            children = sorted(detail.children, key=lambda c: (c.started_at, c.id), reverse=True)
            label = Text.assemble((f"↓ {len(children)} children: ", "dim"))
            for i, child in enumerate(children[:MAX_CHILD_LINKS]):
                if i:
                    label.append(", ", style="dim")
                label.append_text(link_text(child, 24))
            if len(children) > MAX_CHILD_LINKS:
                label.append(f" +{len(children) - MAX_CHILD_LINKS} more", style="dim")
        lineage.append(label + Text.assemble((" (", "dim"), ("]", f"bold {ACCENT}"), (" newest)", "dim")))
    ids = [link.id for link in detail.lineage]
    if len(ids) > 1 and detail.id in ids:
        lineage.append(Text(f"segment {ids.index(detail.id) + 1} of {len(ids)}", style="dim"))

    rows = [first, facts, tokens] + ([lineage] if lineage else [])
    return PackedFacts(rows)


class SessionHeader(Static):
    """Shows a ``SessionDetail``; hidden until a session is shown."""

    DEFAULT_CSS = """
    SessionHeader {
        height: auto;
        padding: 0 1;
        background: $boost;
        border-bottom: solid $primary 40%;
        display: none;
    }
    SessionHeader.-shown { display: block; }
    """

    class LinkClicked(Message):
        """A parent or child title was clicked: open that session."""

        def __init__(self, session_id: str) -> None:
            super().__init__()
            self.session_id = session_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.detail: SessionDetail | None = None
        self.facts: PackedFacts | None = None

    def show(self, detail: SessionDetail, now: datetime) -> None:
        self.detail = detail
        self.facts = header_facts(detail, now)
        self.update(self.facts)
        self.add_class("-shown")

    def action_open_link(self, session_id: object) -> None:
        if isinstance(session_id, str) and self.detail is not None:
            self.post_message(self.LinkClicked(session_id))

    def hide(self) -> None:
        self.detail = None
        self.facts = None
        self.update("")
        self.remove_class("-shown")

    def plain(self, width: int = 200) -> str:
        """The header's text at ``width`` columns (for tests and copy)."""
        return "\n".join(line.plain for line in self.facts.lines(width)) if self.facts else ""
