"""One turn of a conversation as a few flat widgets: a head, and one-line folds.

A *turn* is a message and, for an assistant message, the tool messages answering its calls. It is
shown as sibling widgets of the conversation's scroll column (flat, no container per message: a
window of 100+ turns lays out about twice as fast as with one ``Vertical`` per message):

* ``MessageHead``: the header line (role, details, relative and absolute time) and the message's
  Markdown content (when no reasoning comes before it);
* ``Fold``: one-line statics (``▸ reasoning · 312 words``, ``▸ web_search(query="…")``,
  ``▸ result · 42 lines``) whose bodies are built only when first expanded (notes §2.3/§2.4);
* ``MessageContent``: the content, when a reasoning fold sits between it and the head.

All parts of a turn carry its role as a class (``-role-user``…), which colours the left border so a
turn reads as one block; the last part carries ``-last`` (the gap to the next turn). Every piece of
stored text goes through ``safe()`` in ``tui.render``; nothing here parses markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.style import Style
from rich.text import Text
from textual.events import Click
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from tui.data import MessageView, ToolCall
from tui.render import (
    Guarded,
    Terms,
    arguments_body,
    call_summary,
    count_lines,
    count_words,
    first_line,
    markdown_body,
    plural,
    raw_calls_body,
    reasoning_body,
    result_body,
    searchable_text,
)
from tui.text import absolute_time, human_count, one_line, relative_time

ROLES = ("user", "assistant", "tool", "system")
ROLE_LABEL_STYLES = {
    "user": "bold #57a5e2",
    "assistant": "bold #8ad4a1",
    "tool": "bold #ffc473",
    "system": "bold #c678dd",
}
QUIET_FINISH = frozenset({"", "stop", "end_turn", "tool_calls", "tool_use"})


@dataclass(frozen=True)
class Turn:
    """A message and, for its tool calls in order, the tool messages answering them."""

    message: MessageView
    results: tuple[MessageView | None, ...] = ()

    @property
    def message_ids(self) -> tuple[int, ...]:
        return (self.message.id, *(r.id for r in self.results if r is not None))

    @property
    def first_id(self) -> int:
        return self.message.id

    @property
    def last_id(self) -> int:
        return max(self.message_ids)


def pair_turns(messages: Sequence[MessageView]) -> list[Turn]:
    """Group messages (id order) into turns: the tool messages right after an assistant message
    with tool calls go under the call whose id they answer, or else under the next unanswered call.
    Tool messages left over stay turns of their own."""
    turns: list[Turn] = []
    i, n = 0, len(messages)
    while i < n:
        msg = messages[i]
        i += 1
        if not msg.tool_calls:
            turns.append(Turn(msg))
            continue
        following: list[MessageView] = []
        while i < n and messages[i].role == "tool":
            following.append(messages[i])
            i += 1
        results: list[MessageView | None] = [None] * len(msg.tool_calls)
        by_id = {call.id: k for k, call in enumerate(msg.tool_calls) if call.id}
        leftovers: list[MessageView] = []
        for tool in following:
            k = by_id.pop(tool.tool_call_id, None) if tool.tool_call_id else None
            if k is not None and results[k] is None:
                results[k] = tool
            else:
                leftovers.append(tool)
        alone: list[MessageView] = []
        for tool in leftovers:
            k = next((k for k, r in enumerate(results) if r is None), None)
            if k is None:
                alone.append(tool)
            else:
                results[k] = tool
        turns.append(Turn(msg, tuple(results)))
        turns.extend(Turn(tool) for tool in alone)
    return turns


def estimated_height(turn: Turn, width: int) -> int:
    """A cheap guess of a turn's height in lines (folds closed), to size the first mount."""
    msg = turn.message
    width = max(20, width)
    height = 2 + (1 if msg.reasoning else 0) + 2 * len(msg.tool_calls) + (1 if msg.tool_calls_raw else 0)
    if msg.role == "tool":
        return height + 1
    if msg.content:
        lines = msg.content[:8_000].split("\n")[:300]
        height += sum(1 + len(line) // width for line in lines) + msg.content.count("```") * 2
    return height


# ── messages ──────────────────────────────────────────────────────────────────────────────────


class CursorRequested(Message):
    """A click asked for the conversation cursor to move to ``target`` (a head or a fold)."""

    def __init__(self, target: Widget) -> None:
        super().__init__()
        self.target = target


# ── widgets ───────────────────────────────────────────────────────────────────────────────────


class HeaderLine:
    """``left ……… right`` on one line, the gap sized to the width it is rendered at."""

    def __init__(self, left: Text, right: Text, short_right: Text | None = None) -> None:
        self.left = left
        self.right = right
        self.short_right = short_right  # shown when ``right`` does not fit
        self.style: Style | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        right = self.right
        gap = width - self.left.cell_len - right.cell_len
        if gap < 2 and self.short_right is not None:
            right = self.short_right
            gap = width - self.left.cell_len - right.cell_len
        line = self.left.copy() if gap < 2 else Text.assemble(self.left, " " * gap, right)
        line.no_wrap = True
        line.overflow = "ellipsis"
        line.truncate(width, overflow="ellipsis", pad=True)
        if self.style is not None:
            line.stylize(self.style)
        yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)


class TurnPart(Static):
    """A widget showing part of a turn; knows its turn and which message it shows."""

    DEFAULT_CSS = """
    TurnPart {
        height: auto;
        width: 1fr;
        padding: 0 1;
        border-left: outer $panel-lighten-2;
    }
    TurnPart.-role-user { border-left: outer $primary; }
    TurnPart.-role-assistant { border-left: outer $success; }
    TurnPart.-role-tool { border-left: outer $warning; }
    TurnPart.-role-system { border-left: outer #c678dd; }
    TurnPart.-last { margin-bottom: 1; }
    """

    def __init__(
        self, turn: Turn, message_id: int, content: RenderableType = "", *, classes: str = ""
    ) -> None:
        role = turn.message.role
        role_class = f"-role-{role if role in ROLES else 'other'}"
        super().__init__(content, markup=False, classes=" ".join(f"{role_class} {classes}".split()))
        self.turn = turn
        self.message_id = message_id


class MessageHead(TurnPart):
    """The first part of a turn: the header line, and the content unless a fold precedes it.

    It is the turn's cursor stop; under the cursor its header line is highlighted.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"message-head--cursor", "message-head--cursor-active"}
    DEFAULT_CSS = """
    MessageHead > .message-head--cursor { background: $boost; }
    MessageHead > .message-head--cursor-active { background: $primary 30%; }
    MessageHead:hover { background: $boost; }
    """

    def __init__(
        self,
        turn: Turn,
        *,
        now: datetime,
        body: Guarded | None,
        hit_ids: frozenset[int],
        classes: str = "",
    ) -> None:
        super().__init__(turn, turn.message.id, classes=classes)
        self.hit_ids = hit_ids
        self._header = header_line(turn.message, now)
        self._body = body
        self._cursor_state = 0  # 0 none, 1 cursor, 2 cursor in the focused pane
        self._refresh_content()

    def set_cursor(self, state: int) -> None:
        if state != self._cursor_state:
            self._cursor_state = state
            if self.is_mounted:
                self._refresh_content()

    def on_mount(self) -> None:
        if self._cursor_state:
            self._refresh_content()

    def _refresh_content(self) -> None:
        if self._cursor_state and self.is_mounted:
            name = "message-head--cursor-active" if self._cursor_state == 2 else "message-head--cursor"
            self._header.style = Style(bgcolor=self.get_component_rich_style(name).bgcolor)
        else:
            self._header.style = None
        body = self._body
        self.update(self._header if body is None else Group(self._header, body), layout=False)

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(CursorRequested(self))


class MessageContent(TurnPart):
    """A message's Markdown content, when it does not sit in the head (reasoning comes first)."""


class Fold(TurnPart):
    """A one-line summary (``▸ …``) that expands to a body built on first expansion."""

    DEFAULT_CSS = """
    Fold { color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    Fold:hover { background: $boost; }
    Fold.-expanded { color: $text; }
    Fold.-nested { padding: 0 1 0 3; }
    Fold.-hit { color: $text; }
    Fold.-cursor { background: $boost; }
    Fold.-cursor.-active { background: $primary 30%; }
    """

    def __init__(
        self,
        turn: Turn,
        message_id: int,
        summary: Text,
        body: Callable[[], RenderableType],
        *,
        kind: str,
        fallback: str | None = None,
        terms: Terms | None = None,
        has_hit: bool = False,
        expanded: bool = False,
        classes: str = "",
    ) -> None:
        state = f"{'-hit' if has_hit else ''} {'-expanded' if expanded else ''}"
        super().__init__(turn, message_id, classes=f"{classes} -{kind} {state}")
        self.kind = kind
        self.has_hit = has_hit
        self._summary = terms.paint(summary) if terms is not None else summary
        self._factory = body
        self._fallback = fallback
        self._terms = terms
        self._body: Guarded | None = None
        self._expanded = expanded
        self._set(expanded)

    @property
    def expanded(self) -> bool:
        return self._expanded

    @property
    def body_built(self) -> bool:
        return self._body is not None

    def set_expanded(self, expanded: bool) -> None:
        if expanded != self._expanded:
            self._set(expanded)

    def toggle(self) -> None:
        self._set(not self._expanded)

    def _set(self, expanded: bool) -> None:
        if expanded != self._expanded:
            self._expanded = expanded
            self.set_class(expanded, "-expanded")
        head = Text.assemble(("▾ " if expanded else "▸ ", "bold"), self._summary, no_wrap=True,
                             overflow="ellipsis")
        if not expanded:
            self.update(head)
            return
        if self._body is None:
            self._body = Guarded(self._factory, fallback=self._fallback or "", terms=self._terms)
        self.update(Group(head, Padding(self._body, (0, 0, 0, 2))))

    def on_click(self, event: Click) -> None:
        event.stop()
        self.toggle()
        self.post_message(CursorRequested(self))


# ── building a turn ───────────────────────────────────────────────────────────────────────────


def header_line(msg: MessageView, now: datetime) -> HeaderLine:
    role = msg.role or "?"
    left = Text.assemble((one_line(role, 24) or "?", ROLE_LABEL_STYLES.get(role, "bold")))
    details: list[str] = []
    if msg.tool_name and role == "tool":
        details.append(one_line(msg.tool_name, 60))
    if msg.tool_calls:
        details.append(plural(len(msg.tool_calls), "tool call"))
    finish = one_line(msg.finish_reason, 24)
    if finish and finish not in QUIET_FINISH:
        details.append(f"finish: {finish}")
    if msg.token_count:
        details.append(f"{human_count(msg.token_count)} tokens")
    if details:
        left.append("  " + " · ".join(details), style="dim")
    ago = relative_time(msg.timestamp, now)
    right = Text(f"{ago} · {absolute_time(msg.timestamp, now)}", style="dim")
    return HeaderLine(left, right, Text(ago, style="dim"))


def reasoning_fold(turn: Turn, terms: Terms | None, expanded: bool, classes: str = "") -> Fold:
    msg = turn.message
    text = msg.reasoning or ""
    summary = Text.assemble(("reasoning", "italic"), (f" · {plural(count_words(text), 'word')}", "dim"))
    return Fold(turn, msg.id, summary, lambda: reasoning_body(text), kind="reasoning", fallback=text,
                terms=terms, has_hit=terms is not None and terms.found_in(text), expanded=expanded,
                classes=classes)


def call_fold(turn: Turn, call: ToolCall, terms: Terms | None, expanded: bool, classes: str = "") -> Fold:
    hit = terms is not None and (terms.found_in(call.name) or terms.found_in(call.arguments))
    return Fold(turn, turn.message.id, call_summary(call), lambda: arguments_body(call), kind="call",
                fallback=call.arguments, terms=terms, has_hit=hit, expanded=expanded, classes=classes)


def result_fold(
    turn: Turn, result: MessageView, terms: Terms | None, expanded: bool, *, nested: bool, classes: str = ""
) -> Fold:
    text = result.content or ""
    summary = Text.assemble(("result", "bold"), (f" · {plural(count_lines(text), 'line')}", "dim"))
    preview = first_line(text, 90)
    if preview:
        summary.append(f"  {preview}", style="dim")
    return Fold(turn, result.id, summary, lambda: result_body(text), kind="result", fallback=text,
                terms=terms, has_hit=terms is not None and terms.found_in(text), expanded=expanded,
                classes=f"{'-nested' if nested else ''} {classes}")


def raw_calls_fold(turn: Turn, terms: Terms | None, expanded: bool, classes: str = "") -> Fold:
    msg = turn.message
    raw = msg.tool_calls_raw or ""
    summary = Text.assemble(("tool calls (not a call list)", "bold"), (f" · {len(raw):,} chars", "dim"))
    return Fold(turn, msg.id, summary, lambda: raw_calls_body(raw), kind="raw", fallback=raw,
                terms=terms, has_hit=terms is not None and terms.found_in(raw), expanded=expanded,
                classes=classes)


def content_body(msg: MessageView, terms: Terms | None) -> Guarded | None:
    """A message's Markdown content, built and rendered on first use (possibly in a worker thread,
    see ``Guarded.prerender``); None when it has none (a tool result is a fold instead)."""
    text = msg.content or ""
    if msg.role == "tool" or not text.strip():
        return None
    return Guarded(lambda: markdown_body(text), fallback=text, terms=terms)


def content_bodies(turns: Sequence[Turn], terms: Terms | None) -> dict[int, Guarded]:
    bodies = {turn.message.id: content_body(turn.message, terms) for turn in turns}
    return {mid: body for mid, body in bodies.items() if body is not None}


def turn_widgets(
    turn: Turn,
    *,
    now: datetime,
    terms: Terms | None = None,
    expanded: bool = False,
    bodies: Mapping[int, Guarded] | None = None,
) -> list[TurnPart]:
    """The widgets showing one turn, head first; the last one has the ``-last`` class. ``bodies``
    may hold the content renderables already made (and rendered) for its message.

    Classes are given to constructors (a class added to a widget later restyles it: slow)."""
    msg = turn.message
    hit_ids: frozenset[int] = frozenset()
    if terms is not None:
        msgs = [msg, *(r for r in turn.results if r is not None)]
        hit_ids = frozenset(m.id for m in msgs if terms.matches(searchable_text(m)))
    body = bodies.get(msg.id) if bodies is not None else None
    if body is None:
        body = content_body(msg, terms)
    has_content = body is not None
    makers: list[Callable[[str], TurnPart]] = [
        lambda c: MessageHead(turn, now=now, body=None if msg.reasoning else body, hit_ids=hit_ids, classes=c)
    ]
    if msg.reasoning:
        makers.append(lambda c: reasoning_fold(turn, terms, expanded, c))
        if body is not None:
            makers.append(lambda c: MessageContent(turn, msg.id, body, classes=c))
    if msg.role == "tool":
        makers.append(lambda c: result_fold(turn, msg, terms, expanded, nested=False, classes=c))
    for call, result in zip(msg.tool_calls, turn.results, strict=False):
        makers.append(lambda c, call=call: call_fold(turn, call, terms, expanded, c))  # type: ignore[misc]
        if result is not None:
            makers.append(lambda c, result=result: result_fold(  # type: ignore[misc]
                turn, result, terms, expanded, nested=True, classes=c))
    if msg.tool_calls_raw:
        makers.append(lambda c: raw_calls_fold(turn, terms, expanded, c))
    if len(makers) == 1 and not has_content:
        makers.append(lambda c: MessageContent(
            turn, msg.id, Text("(empty message)", style="dim italic"), classes=f"-empty {c}"))
    last = len(makers) - 1
    return [make("-last" if i == last else "") for i, make in enumerate(makers)]
