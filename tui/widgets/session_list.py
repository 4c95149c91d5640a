"""The session list: a Line-API ``ScrollView`` over page-cached store reads.

Only the visible rows are drawn; a row whose page is not cached yet draws a placeholder and asks a
thread worker for that page (one worker per page). A small LRU keeps recent pages, so 100,000
sessions cost what 100 do: one count and one page read to open, one page read per jump.
Each session takes two lines: title and time, then source · model · messages · status · lineage.

A compression chain is one conversation, so by default it is one row: its tip (the newest segment,
labelled "⛓ 5 parts"); ``[``/``]`` walk its older segments in the pane. A title/id filter, or the
"every segment" toggle, lists each segment on its own row ("↳ #3 of 5").

Type-to-filter: a printable key that nothing on the focused list is bound to opens the title/id
filter with that character (the screen moves the focus there; keys typed before it got there follow).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.data import Browser, SessionSummary
from tui.messages import ListCounted, SessionChosen, SessionHighlighted, WalkLineage
from tui.text import one_line, relative_time

STATUS_GLYPHS: dict[str, str] = {"done": "●", "interrupted": "◐", "error": "✖", "empty": "○"}


def fit(text: str, width: int) -> str:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


TYPE_AHEAD_S = 1.0  # keys typed right after the one that opened the filter follow it, for this long at most


def lineage_label(row: SessionSummary, position: tuple[int, int] | None, *, chains_as_one: bool = False) -> str:
    """How a row says it belongs to a compression chain; ``chains_as_one``: the list shows only
    tips, so a tip stands for its whole chain ("⛓ 5 parts")."""
    if position is not None:
        index, length = position
        if chains_as_one and index == length:
            return f"⛓ {length} parts"
        return f"◇ #1 of {length}" if index == 1 else f"↳ #{index} of {length}"
    if row.parent_id:
        return "↳ continued"
    if row.child_count:
        return "◇ continues"
    return ""


@dataclass(frozen=True)
class ListFilters:
    source: str | None = None
    text: str = ""
    every_segment: bool = False  # list each segment of a compression chain, not only its tip

    @property
    def active(self) -> bool:
        return bool(self.source or self.text.strip())

    @property
    def chain_tips_only(self) -> bool:
        """One row per chain: unless asked for every segment, or a title/id filter is typed (it
        must find an old segment by its id or title too)."""
        return not self.every_segment and not self.text.strip()

    def describe(self) -> str:
        parts = []
        if self.source:
            parts.append(f"source {self.source}")
        if self.text.strip():
            parts.append(f"“{one_line(self.text, 30)}”")
        return " · ".join(parts)


class SessionList(ScrollView, can_focus=True):
    """Every session, newest activity first, drawn lazily from cached pages."""

    ROW_HEIGHT: ClassVar[int] = 2
    PAGE: ClassVar[int] = 100
    CACHE_PAGES: ClassVar[int] = 30

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Open", tooltip="Open the session in the conversation pane"),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home,g", "first", "Newest", show=False),
        Binding("end,G", "last", "Oldest", show=False),
        Binding("left_square_bracket", "walk(-1)", "Parent", tooltip="Open the parent session"),
        Binding("right_square_bracket", "walk(1)", "Child", tooltip="Open the child session"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "session-list--cursor",
        "session-list--title",
        "session-list--meta",
        "session-list--time",
        "session-list--lineage",
        "session-list--placeholder",
        "session-list--done",
        "session-list--interrupted",
        "session-list--error",
        "session-list--empty",
    }

    DEFAULT_CSS = """
    SessionList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        background: $surface;
        & > .session-list--cursor { background: $block-cursor-blurred-background; }
        &:focus > .session-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
        & > .session-list--title { text-style: bold; }
        & > .session-list--meta { color: $text-muted; }
        & > .session-list--time { color: $text-muted; }
        & > .session-list--lineage { color: $accent; }
        & > .session-list--placeholder { color: $text-disabled; }
        & > .session-list--done { color: $success; }
        & > .session-list--interrupted { color: $warning; }
        & > .session-list--error { color: $error; }
        & > .session-list--empty { color: $text-disabled; }
    }
    """

    cursor: reactive[int] = reactive(0, init=False)

    class _PageLoaded(Message):
        def __init__(
            self, generation: int, page: int, rows: list[SessionSummary], positions: dict[str, tuple[int, int]]
        ) -> None:
            super().__init__()
            self.generation, self.page, self.rows, self.positions = generation, page, rows, positions

    class _PageFailed(Message):
        def __init__(self, generation: int, page: int, error: str) -> None:
            super().__init__()
            self.generation, self.page, self.error = generation, page, error

    class _Refreshed(Message):
        def __init__(
            self, generation: int, total: int, pages: dict[int, list[SessionSummary]],
            positions: dict[str, tuple[int, int]], sessions: int | None = None,
        ) -> None:
            super().__init__()
            self.generation, self.total, self.pages, self.positions = generation, total, pages, positions
            self.sessions = sessions

    class _Counted(Message):
        def __init__(
            self, generation: int, total: int | None, error: str | None = None, sessions: int | None = None
        ) -> None:
            super().__init__()
            self.generation, self.total, self.error, self.sessions = generation, total, error, sessions

    class FilterTyped(Message):
        """A key typed on the list goes to the title/id filter: ``start`` opens the filter with
        ``text``; otherwise ``text`` follows what the filter holds (typed before it had the focus)."""

        def __init__(self, text: str, *, start: bool) -> None:
            super().__init__()
            self.text, self.start = text, start

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.total: int | None = None  # None until the first count arrives
        # every session (each chain segment) when the unfiltered list shows chains as one row
        self.sessions_total: int | None = None
        self._type_ahead_until = 0.0  # keys before this monotonic time follow into the filter
        self.filters = ListFilters()
        self.error: str | None = None
        self._generation = 0
        self._pages: OrderedDict[int, list[SessionSummary]] = OrderedDict()
        self._positions: dict[str, tuple[int, int]] = {}
        self._pending: set[int] = set()
        self._failed: dict[int, str] = {}
        self._last_posted: str | bool | None = False  # False: nothing posted yet
        self._reselect: str | None = None  # after a refresh, keep the cursor on this session
        self._keep_session = True  # refresh_data: keep the session (True) or the index under the cursor
        # (shown at, stored at): the session under the cursor got new activity and sorts higher now,
        # at store index ``stored``; it stays drawn where it was (``shown``) until the cursor moves.
        self._hold: tuple[int, int] | None = None
        self._fg_cache: dict[str, Style] = {}
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(2048)

    # ── public API ────────────────────────────────────────────────────────────────────────

    @property
    def browser(self) -> Browser:
        return self.app.browser  # type: ignore[attr-defined,no-any-return]

    @property
    def current(self) -> SessionSummary | None:
        """The session under the cursor, if its page is loaded."""
        return self.row_at(self.cursor) if self.total else None

    def row_at(self, index: int) -> SessionSummary | None:
        """The cached row drawn at ``index`` (None when its page is not loaded); never queries."""
        return self.row_in_order(self._stored_at(index))

    def row_in_order(self, index: int) -> SessionSummary | None:
        """The cached row the store orders at ``index`` (drawn elsewhere while a row is held)."""
        return self._stored_row(self._pages, index)

    def _stored_at(self, index: int) -> int:
        """The store's index of the row drawn at ``index`` (they differ only while a row is held)."""
        if self._hold is None:
            return index
        shown, stored = self._hold
        if index == shown:
            return stored
        return index + 1 if stored <= index < shown else index

    def _shown_at(self, stored_index: int) -> int:
        """Where the row at the store's ``stored_index`` is drawn."""
        if self._hold is None:
            return stored_index
        shown, stored = self._hold
        if stored_index == stored:
            return shown
        return stored_index - 1 if stored < stored_index <= shown else stored_index

    def _release_hold(self) -> None:
        """Back to the store's order, keeping the row under the cursor where it is on the screen."""
        if self._hold is None:
            return
        cursor = self.cursor
        stored = self._stored_at(cursor)
        self._hold = None
        self._strips.clear()
        if stored != cursor:
            self.set_reactive(SessionList.cursor, stored)
            y = max(0, round(self.scroll_offset.y) + (stored - cursor) * self.ROW_HEIGHT)
            self.scroll_to(y=y, animate=False, force=True, immediate=True)
        self.refresh()

    def position_of(self, session_id: str) -> tuple[int, int] | None:
        return self._positions.get(session_id)

    def cursor_line_region(self) -> Region | None:
        """Where the cursor row's title line is on the screen (None when it is scrolled away)."""
        if not self.total:
            return None
        y = self.cursor * self.ROW_HEIGHT - round(self.scroll_offset.y)
        region = self.content_region
        if y < 0 or y >= self.scrollable_content_region.height:
            return None
        return Region(region.x, region.y + y, self.scrollable_content_region.width, 1)

    def loaded_pages(self) -> list[int]:
        return sorted(self._pages)

    def reload(self, *, keep_cursor: bool = False) -> None:
        """Forget every cached page and count again (after a filter change or new data).

        ``keep_cursor`` (new data arrived): the cursor stays on the same session when it is
        found in the page the cursor lands on, so the conversation pane does not jump.
        """
        self._reselect = (self.current.id if self.current else None) if keep_cursor else None
        self._release_hold()
        self._generation += 1
        self._pages.clear()
        self._positions.clear()
        self._pending.clear()
        self._failed.clear()
        self.error = None
        self.workers.cancel_group(self, "session-pages")
        if not keep_cursor:
            self._last_posted = False
            self.set_reactive(SessionList.cursor, 0)
            self.scroll_to(y=0, animate=False, immediate=True)
        self._count(self._generation, self.filters)
        self._request(self.cursor // self.PAGE)
        self.refresh()

    def refresh_data(self, *, keep: str = "session") -> None:
        """Read the count and the visible pages again without blanking the list (new data, a
        rename, a delete): the old rows stay drawn until the new ones arrive, all at once.

        ``keep="session"``: the session under the cursor stays under it, at the same place on
        the screen (rows inserted above it move the scroll offset with it, so a new session at
        the top never yanks the view; at the very top the view stays at the top).
        ``keep="index"``: the cursor stays at the same index (clamped), e.g. after a delete.
        """
        if self.total is None or self._pending:
            self.reload(keep_cursor=True)  # still opening (or paging): simply start over
            return
        self._keep_session = keep == "session"
        if not self._keep_session:
            self._release_hold()
        y = round(self.scroll_offset.y)
        self._generation += 1
        self.workers.cancel_group(self, "session-pages")
        view_rows = max(1, self.scrollable_content_region.height // self.ROW_HEIGHT + 1)
        first = y // self.ROW_HEIGHT
        pages = sorted({first // self.PAGE, (first + view_rows) // self.PAGE, self.cursor // self.PAGE})
        self._refresh_pages(self._generation, self.filters, pages)

    def _count_both(self, filters: ListFilters) -> tuple[int, int | None]:
        """The list's row count and, when it shows chains as one row unfiltered, every session's."""
        browser = self.browser
        tips = filters.chain_tips_only
        total = browser.count_sessions(source=filters.source, text=filters.text or None, chain_tips_only=tips)
        sessions = browser.count_sessions() if tips and not filters.active else None
        return total, sessions

    def _read_page(self, page: int, filters: ListFilters) -> list[SessionSummary]:
        return self.browser.sessions_page(
            page * self.PAGE, self.PAGE, source=filters.source, text=filters.text or None,
            chain_tips_only=filters.chain_tips_only,
        )

    @work(thread=True, group="session-refresh", exclusive=True, exit_on_error=False)
    def _refresh_pages(self, generation: int, filters: ListFilters, pages: list[int]) -> None:
        """Count and read ``pages`` in one go, so they are applied together (the anchor is read on
        the UI thread when they land: the cursor may have moved meanwhile)."""
        browser = self.browser
        try:
            total, sessions = self._count_both(filters)
            loaded: dict[int, list[SessionSummary]] = {}
            positions: dict[str, tuple[int, int]] = {}
            for page in pages:
                if page * self.PAGE >= max(total, 1):
                    continue
                rows = self._read_page(page, filters)
                loaded[page] = rows
                positions.update(browser.lineage_positions(rows))
        except Exception as exc:
            self.post_message(self._PageFailed(generation, -1, str(exc) or type(exc).__name__))
            return
        self.post_message(self._Refreshed(generation, total, loaded, positions, sessions))

    @on(_Refreshed)
    def _refreshed(self, message: _Refreshed) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        current = self.current
        old_cursor, old_y = self.cursor, round(self.scroll_offset.y)
        anchor_id = current.id if current is not None and self._keep_session else None
        held = self._hold is not None
        self._hold = None
        self._pages.clear()
        self._positions.clear()
        self._failed.clear()
        self._strips.clear()
        self.error = None
        self._pages.update(message.pages)
        self._positions.update(message.positions)
        self.total = message.total
        self.sessions_total = message.sessions
        self.virtual_size = Size(self.scrollable_content_region.width, self.total * self.ROW_HEIGHT + 1)
        new_cursor = min(old_cursor, max(0, self.total - 1))
        if anchor_id is not None:
            found = next((page * self.PAGE + i for page, rows in message.pages.items()
                          for i, row in enumerate(rows) if row.id == anchor_id), None)
            if found is None and self.filters.chain_tips_only:
                # the chain under the cursor was compressed again: its row is now the new tip
                found = next((page * self.PAGE + i for page, rows in message.pages.items()
                              for i, row in enumerate(rows) if row.parent_id == anchor_id), None)
            if found is not None:
                new_cursor = found
                row = self._stored_row(message.pages, found)
                newer = current is not None and row is not None and row.last_active > current.last_active
                if found < old_cursor and (newer or held):
                    # Its own new activity sorts it higher (the agent writing to the session being
                    # read): it stays drawn where it was, the view does not move, until the cursor does.
                    self._hold = (old_cursor, found)
                    new_cursor = old_cursor
        shift = (new_cursor - old_cursor) * self.ROW_HEIGHT
        view = self.scrollable_content_region.height
        at_top_still_shown = old_y == 0 and (new_cursor + 1) * self.ROW_HEIGHT <= view
        y = old_y if at_top_still_shown else max(0, old_y + shift)
        self.set_reactive(SessionList.cursor, new_cursor)
        if self.total and self._hold is not None and self._hold[0] >= self.total:
            self._hold = None  # rows went away under it: nothing to hold any more
        self.scroll_to(y=y, animate=False, force=True, immediate=True)
        self.post_message(ListCounted(self.total))
        self._maybe_post_highlight()
        self.refresh()

    def _stored_row(self, pages: dict[int, list[SessionSummary]], index: int) -> SessionSummary | None:
        rows = pages.get(index // self.PAGE)
        return rows[index % self.PAGE] if rows is not None and index % self.PAGE < len(rows) else None

    def set_filters(self, *, source: str | None = None, text: str = "", every_segment: bool | None = None) -> None:
        """Change the filters (``every_segment`` None keeps the chain toggle as it is)."""
        every = self.filters.every_segment if every_segment is None else every_segment
        new = ListFilters(source, text, every)
        if new != self.filters:
            self.filters = new
            self.reload()

    def select_id(self, session_id: str) -> bool:
        """Move the cursor to a session if its row is cached; True if it was found."""
        for page, rows in self._pages.items():
            for offset, row in enumerate(rows):
                if row.id == session_id:
                    self.cursor = self._shown_at(page * self.PAGE + offset)
                    return True
        return False

    # ── loading ───────────────────────────────────────────────────────────────────────────

    def on_mount(self) -> None:
        self.reload()

    def _request(self, page: int) -> None:
        if page < 0 or page in self._pages or page in self._pending or page in self._failed:
            return
        if self.total is not None and page * self.PAGE >= max(self.total, 1):
            return
        self._pending.add(page)
        self._load_page(self._generation, page, self.filters)

    @work(thread=True, group="session-count", exclusive=True, exit_on_error=False)
    def _count(self, generation: int, filters: ListFilters) -> None:
        try:
            total, sessions = self._count_both(filters)
        except Exception as exc:  # the store's errors are clear sentences; show, never raise
            self.post_message(self._Counted(generation, None, str(exc) or type(exc).__name__))
            return
        self.post_message(self._Counted(generation, total, sessions=sessions))

    @work(thread=True, group="session-pages", exit_on_error=False)
    def _load_page(self, generation: int, page: int, filters: ListFilters) -> None:
        try:
            rows = self._read_page(page, filters)
            positions = self.browser.lineage_positions(rows)
        except Exception as exc:
            self.post_message(self._PageFailed(generation, page, str(exc) or type(exc).__name__))
            return
        self.post_message(self._PageLoaded(generation, page, rows, positions))

    @on(_Counted)
    def _counted(self, message: _Counted) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        if message.total is None:
            self.error = message.error
            self.total = self.total or 0
            self.app.notify(f"Could not count sessions: {message.error}", severity="error", markup=False)
        else:
            self.total = message.total
            self.sessions_total = message.sessions
        if not self.total:
            self._reselect = None
        # one spare line, so the bottom row can always be shown whole below whole rows
        self.virtual_size = Size(self.scrollable_content_region.width, self.total * self.ROW_HEIGHT + 1)
        if self.total and self.cursor >= self.total:
            self.cursor = self.total - 1
        self.post_message(ListCounted(self.total))
        self._maybe_post_highlight()
        self.refresh()

    @on(_PageLoaded)
    def _page_loaded(self, message: _PageLoaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._pending.discard(message.page)
        self._pages[message.page] = message.rows
        self._positions.update(message.positions)
        if self._reselect is not None and message.page == self.cursor // self.PAGE:
            target, self._reselect = self._reselect, None
            for offset, row in enumerate(message.rows):
                if row.id == target:
                    self.cursor = message.page * self.PAGE + offset
                    break
        while len(self._pages) > self.CACHE_PAGES:
            _old, rows = self._pages.popitem(last=False)
            for row in rows:
                self._positions.pop(row.id, None)
        self._maybe_post_highlight()
        self.refresh()

    @on(_PageFailed)
    def _page_failed(self, message: _PageFailed) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._pending.discard(message.page)
        self._failed[message.page] = message.error
        self._reselect = None
        self.app.notify(f"Could not load sessions: {message.error}", severity="error", markup=False)
        self.refresh()

    def _maybe_post_highlight(self) -> None:
        if self._reselect is not None:
            return  # wait until the refreshed page shows where the session went
        if self.total == 0:
            if self._last_posted is not None:
                self._last_posted = None
                self.post_message(SessionHighlighted(None, 0))
            return
        row = self.current
        if row is not None and row.id != self._last_posted:
            self._last_posted = row.id
            self.post_message(SessionHighlighted(row, self.cursor))

    # ── cursor ────────────────────────────────────────────────────────────────────────────

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, (self.total or 1) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        if self._hold is not None:
            self._release_hold()  # the row chosen stays on screen where it was; the held one sorts in
            new = self.cursor
        h = self.ROW_HEIGHT
        self.refresh_lines(old * h, h)
        self.refresh_lines(new * h, h)
        top, view = new * h, self.scrollable_content_region.height
        y = round(self.scroll_offset.y)
        if top < y:
            y = top
        elif view > 0 and top + h > y + view:
            y = -(-(top + h - view) // h) * h  # whole rows at the top, never half of one
        if y != self.scroll_offset.y:
            self.scroll_to(y=y, animate=False, force=True, immediate=True)
        self._request(new // self.PAGE)
        self._maybe_post_highlight()

    @property
    def _rows_per_page(self) -> int:
        return max(1, self.scrollable_content_region.height // self.ROW_HEIGHT)

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_page_down(self) -> None:
        self.cursor += self._rows_per_page

    def action_page_up(self) -> None:
        self.cursor -= self._rows_per_page

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = max(0, (self.total or 1) - 1)

    def action_choose(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(SessionChosen(row))

    def action_walk(self, step: int) -> None:
        row = self.current
        if row is not None:
            self.post_message(WalkLineage(row.id, step))

    # ── type-to-filter ────────────────────────────────────────────────────────────────────

    def on_key(self, event: events.Key) -> None:
        """A printable key bound to nothing here opens the title/id filter with it; bound keys
        keep their meaning. Keys that arrive before the filter has the focus follow the first."""
        char = event.character
        if not event.is_printable or not char or not char.isprintable() or char.isspace():
            return
        if time.monotonic() < self._type_ahead_until:
            event.stop()
            event.prevent_default()
            self.post_message(self.FilterTyped(char, start=False))
            return
        if event.key in self.screen.active_bindings:
            return
        event.stop()
        event.prevent_default()
        self._type_ahead_until = time.monotonic() + TYPE_AHEAD_S
        self.post_message(self.FilterTyped(char, start=True))

    def on_blur(self) -> None:
        self._type_ahead_until = 0.0

    def on_focus(self) -> None:
        self._type_ahead_until = 0.0

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or not self.total:
            return
        index = (offset.y + self.scroll_offset.y) // self.ROW_HEIGHT
        if index >= self.total:
            return
        if index == self.cursor or event.chain > 1:
            self.cursor = index
            self.action_choose()
        else:
            self.cursor = index

    # ── drawing ───────────────────────────────────────────────────────────────────────────

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._fg_cache.clear()
        self._strips.clear()
        self.refresh()  # focus moved: the cursor row's component style changed

    def render_lines(self, crop: Region) -> list[Strip]:
        if self.total:
            first = (self.scroll_offset.y + crop.y) // self.ROW_HEIGHT
            last = (self.scroll_offset.y + crop.bottom) // self.ROW_HEIGHT + 1  # + 1: a held row shifts
            for page in range(first // self.PAGE, last // self.PAGE + 1):
                self._request(page)
            if self._hold is not None:
                self._request(self._hold[1] // self.PAGE)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        line = self.scroll_offset.y + y
        if not self.total:
            return self._message_line(line, width, base)
        index, sub = divmod(line, self.ROW_HEIGHT)
        if index >= self.total:
            return Strip.blank(width, base)
        is_cursor = index == self.cursor
        style = self.get_visual_style("session-list--cursor").rich_style if is_cursor else base
        row = self.row_at(index)
        if row is None:
            page = index // self.PAGE
            text = f"  ⚠ {self._failed[page]}" if page in self._failed else "  …"
            ph = style + self._fg("session-list--placeholder")
            return Strip([Segment(fit(text if sub == 0 else "", width), ph)], width)
        now = self.browser.now_dt()
        key = (self._generation, row.id, sub, is_cursor, self.has_focus, width, now.timestamp() // 60)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._row_line(row, sub, width, style, now)
        return strip

    def _message_line(self, line: int, width: int, base: Style) -> Strip:
        ph = base + self._fg("session-list--placeholder")
        if self.total is None:
            lines = ["", "  Loading sessions…"]
        elif self.error:
            lines = ["", f"  ⚠ {one_line(self.error)}"]
        elif self.filters.active:
            lines = ["", f"  No sessions match {self.filters.describe()}.", "  esc clears the title filter,",
                     "  s cycles the source."]
        else:
            lines = ["", "  No sessions yet.", "  They appear here as the agent works."]
        text = lines[line] if line < len(lines) else ""
        return Strip([Segment(fit(text, width), ph)], width)

    def _fg(self, name: str) -> Style:
        """A component's foreground (colour blended like Textual does, bold, italic), no background."""
        style = self._fg_cache.get(name)
        if style is None:
            full = self.get_visual_style(name).rich_style
            style = Style(color=full.color, bold=full.bold, italic=full.italic, dim=full.dim)
            self._fg_cache[name] = style
        return style

    def _part(self, name: str, style: Style) -> Style:
        return style + self._fg(name)

    def _row_line(self, row: SessionSummary, sub: int, width: int, style: Style, now: datetime) -> Strip:
        segments: list[Segment]
        if sub == 0:
            when = relative_time(row.last_active, now)
            glyph = STATUS_GLYPHS.get(row.status, "·")
            title_width = max(1, width - 4 - cell_len(when) - 2)
            title = one_line(row.title) if row.title else one_line(row.preview) or "(no messages)"
            title_style = self._part("session-list--title", style) if row.title else style
            segments = [
                Segment(" ", style),
                Segment(glyph, self._part(f"session-list--{row.status}", style)
                        if row.status in STATUS_GLYPHS else style),
                Segment("  ", style),
                Segment(fit(title, title_width), title_style),
                Segment(" ", style),
                Segment(when, self._part("session-list--time", style)),
                Segment(" ", style),
            ]
        else:
            lineage = lineage_label(row, self._positions.get(row.id),
                                    chains_as_one=self.filters.chain_tips_only)
            n = row.message_count
            bits = [one_line(row.source, 16), row.status or "?", f"{n} msg" if n == 1 else f"{n} msgs"]
            if row.model:
                bits.append(one_line(row.model.rsplit("/", 1)[-1], 32))
            meta = " · ".join(bits)
            meta_width = max(1, width - 4 - (cell_len(lineage) + 1 if lineage else 0))
            segments = [
                Segment("    ", style),
                Segment(fit(meta, meta_width), self._part("session-list--meta", style)),
            ]
            if lineage:
                segments += [
                    Segment(lineage, self._part("session-list--lineage", style)),
                    Segment(" ", style),
                ]
        strip = Strip(segments)
        return strip.adjust_cell_length(width, style).crop(0, width)

