"""The conversation pane: a session's header and a window of its messages.

Windowing (notes §2.4). The pane shows a window of about ``PAGE`` messages (the newest, those
around a search hit, or the first), as flat widgets (see ``message_view``). Opening mounts only
the turns that fill about two screens, so the first paint is fast; the rest of the page follows in
chunks of ``CHUNK`` turns, one frame each, so the UI never stalls. Nearing the top (or bottom)
loads the previous (next) page, prepended in chunks with the view kept in place (by the growth of
the virtual height, which needs no full-map layout); past ``MAX_TURNS`` the turns far from the view
are removed. Pages come from ``Browser.conversation_page``, cut at turn boundaries, so a tool call
and its results are always in the same window.

Every read runs in a thread worker and its result is applied on the UI thread only if no newer
request superseded it (``_generation``). The worker also renders the Markdown of the turns that are
not on screen (``Guarded.prerender``, at the width they will be drawn), so mounting them later costs
the UI thread only layout. Mounting runs in async workers that check the generation before each
chunk, so a stale one simply stops.

The pane holds the focus: a cursor (``-cursor``) rests on a message head or a fold and moves with
j/k; space toggles the fold under it, f folds or unfolds everything.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import ClassVar

from rich.console import ConsoleOptions
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.geometry import Region, Size
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui.data import ConversationPage, MessageView, SessionDetail
from tui.render import Guarded, Terms, searchable_text
from tui.text import one_line
from tui.widgets.message_view import (
    CursorRequested,
    Fold,
    MessageHead,
    Turn,
    TurnPart,
    content_bodies,
    estimated_height,
    pair_turns,
    turn_widgets,
)
from tui.widgets.session_header import SessionHeader, newest_child

MOVE = Binding.Group("move")
JUMP = Binding.Group("first/last")
HITS = Binding.Group("hits")
LINEAGE = Binding.Group("parent/child")

LOAD_GROUP = "conversation"
LIVE_GROUP = "conversation-live"
OLDER_GROUP = "conversation-older"
NEWER_GROUP = "conversation-newer"
FIND_GROUP = "conversation-find"
MOUNT_GROUP = "conversation-mount"
FOLD_GROUP = "conversation-folds"
READ_GROUPS = (LOAD_GROUP, OLDER_GROUP, NEWER_GROUP, FIND_GROUP)

EMPTY_TEXT = "Select a session to read its conversation."


PART_GUTTER = 3
"""Columns a turn widget takes around its content: the left border and a cell of padding each side."""


def core_slice(turns: list[Turn], where: str, index: int | None, view: Size) -> tuple[int, int]:
    """The turns to mount first: a little more than the view shows where it will be (the end,
    the start, or around ``index``, a quarter down)."""
    width = max(20, view.width - PART_GUTTER)
    budget = max(24, view.height + view.height // 4)
    if not turns:
        return 0, 0
    if where == "end":
        lo, used = len(turns), 0
        while lo > 0 and used < budget:
            lo -= 1
            used += estimated_height(turns[lo], width)
        return lo, len(turns)
    if where == "home" or index is None:
        hi, used = 0, 0
        while hi < len(turns) and used < budget:
            used += estimated_height(turns[hi], width)
            hi += 1
        return 0, hi
    lo, hi, used = index, index + 1, estimated_height(turns[index], width)
    while lo > 0 and used < budget // 4:
        lo -= 1
        used += estimated_height(turns[lo], width)
    while hi < len(turns) and used < budget:
        used += estimated_height(turns[hi], width)
        hi += 1
    return lo, hi


@dataclass
class Window:
    """A window read by a worker, ready to show: its turns, their content renderables, the slice
    to mount first, and two events between the UI and the worker rendering the rest."""

    detail: SessionDetail | None
    page: ConversationPage | None
    turns: list[Turn]
    bodies: dict[int, Guarded]
    where: str  # end / home / center
    target_index: int | None
    lo: int
    hi: int
    painted: threading.Event = field(default_factory=threading.Event)  # the first screen is up
    ready: threading.Event = field(default_factory=threading.Event)  # the rest is rendered

    @classmethod
    def build(
        cls, detail: SessionDetail | None, page: ConversationPage | None, mode: str, terms: Terms | None,
        view: Size,
    ) -> Window:
        turns = pair_turns(page.messages) if page is not None else []
        target_index: int | None = None
        if page is not None and page.target_id is not None:
            target_index = next((i for i, t in enumerate(turns) if page.target_id in t.message_ids), None)
        where = "center" if target_index is not None else ("home" if mode == "head" else "end")
        lo, hi = core_slice(turns, where, target_index, view)
        return cls(detail, page, turns, content_bodies(turns, terms), where, target_index, lo, hi)


class MessageScroll(VerticalScroll, can_focus=False):
    """The scrolling column of turn widgets; says when its scroll position changed."""

    DEFAULT_CSS = """
    MessageScroll { height: 1fr; padding: 0 1 0 0; scrollbar-gutter: stable; }
    """

    class Scrolled(Message):
        def can_replace(self, message: Message) -> bool:
            return isinstance(message, MessageScroll.Scrolled)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.post_message(self.Scrolled())


class ConversationPane(Widget, can_focus=True):
    """A session's header and messages. Finds the store at ``self.app.browser``."""

    PAGE: ClassVar[int] = 60
    """Messages per page read (a page is extended to a turn boundary)."""
    CHUNK: ClassVar[int] = 20
    """Turns mounted per frame (each frame lays out the whole window: fewer, larger chunks)."""
    MAX_TURNS: ClassVar[int] = 120
    """Past this many mounted turns (1–4 widgets each), the ones far from the view are removed…"""
    TRIM_TO: ClassVar[int] = 80
    """…down to this many at least…"""
    FAR: ClassVar[int] = 3
    """…and only those more than this many screens away from the view."""
    LIVE_MAX_TURNS: ClassVar[int] = 60
    LIVE_TRIM_TO: ClassVar[int] = 30
    """The same, after each live append: every refresh lays out and renders the whole window, so a
    conversation the agent writes fast keeps a smaller one (bench/soak_live.py, 50 msg/s: the
    longest stall 246 ms with 120/80, 113 ms with 60/30). Scrolling up reads the rest back."""
    FOLD_CHUNK: ClassVar[int] = 24
    """Folds opened or closed per frame by f (the nearest first)."""

    DEFAULT_CSS = """
    ConversationPane { height: 1fr; width: 1fr; layout: vertical; }
    ConversationPane > #conversation-empty {
        width: 1fr; height: 1fr; content-align: center middle; color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_fold", "Fold"),
        Binding("enter", "toggle_fold", "Fold", show=False),
        Binding("f", "toggle_all", "Fold all"),
        Binding("j", "cursor_down", "Down", group=MOVE),
        Binding("k", "cursor_up", "Up", group=MOVE),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home", "first", "First", group=JUMP),
        Binding("end", "last", "Last", group=JUMP),
        Binding("n", "next_hit", "Next hit", group=HITS),
        Binding("N", "previous_hit", "Previous hit", group=HITS),
        Binding("left_square_bracket", "open_parent", "Parent", group=LINEAGE),
        Binding("right_square_bracket", "open_child", "Child", group=LINEAGE),
    ]

    class OpenSessionRequested(Message):
        """The user asked to open another session of the lineage ([ parent, ] newest child)."""

        def __init__(self, session_id: str) -> None:
            super().__init__()
            self.session_id = session_id

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._session_id: str | None = None
        self._detail: SessionDetail | None = None
        self._generation = 0
        self._terms: Terms | None = None
        self._at_start = True
        self._at_end = True
        self._loading_older = False
        self._loading_newer = False
        self._settling = False
        self._expand_all = False
        self._cursor: TurnPart | None = None
        self._move_after_load = 0
        self._loading_timer: Timer | None = None
        self._live_timer: Timer | None = None
        self._empty = True
        self._binding_state: tuple[bool, bool, bool] = (False, False, False)

    # ── composition and public API ──────────────────────────────────────────────────────────

    def compose(self) -> ComposeResult:
        yield SessionHeader(id="conversation-header")
        yield Static(EMPTY_TEXT, id="conversation-empty", markup=False)
        yield MessageScroll(id="conversation-messages")

    def on_mount(self) -> None:
        self._show_empty(EMPTY_TEXT)

    @property
    def session_id(self) -> str | None:
        return self._session_id

    @property
    def detail(self) -> SessionDetail | None:
        return self._detail

    @property
    def terms(self) -> Terms | None:
        return self._terms

    @property
    def cursor(self) -> TurnPart | None:
        return self._cursor

    @property
    def at_start(self) -> bool:
        return self._at_start

    @property
    def at_end(self) -> bool:
        return self._at_end

    @property
    def busy(self) -> bool:
        """Whether reading or mounting is under way."""
        return self._settling or self._loading_older or self._loading_newer

    @property
    def scroller(self) -> MessageScroll:
        return self.query_one(MessageScroll)

    def heads(self) -> list[MessageHead]:
        """The head of every mounted turn, top to bottom."""
        return [w for w in self.scroller.children if isinstance(w, MessageHead)]

    def show_session(
        self, session_id: str, *, message_id: int | None = None, highlight: str | None = None
    ) -> None:
        """Load a session: its newest messages, or those around ``message_id`` with ``highlight``'s
        words painted. Returns at once; the reading happens in a worker."""
        if not self.is_mounted:
            self.call_after_refresh(self.show_session, session_id, message_id=message_id, highlight=highlight)
            return
        terms = Terms.parse(highlight)
        if message_id is not None and session_id == self._session_id and terms == self._terms and not self.busy:
            head = self._head_holding(message_id)
            if head is not None:  # already in the window: just go there
                self._jump_to_hit(head, message_id, center=True)
                return
        if session_id != self._session_id:
            self._expand_all = False
        self._begin(session_id, terms)
        self._load(session_id, "around" if message_id is not None else "tail", message_id, self._generation)

    def clear(self) -> None:
        """Show nothing but the empty-state text."""
        self._generation += 1
        self._cancel_reads()
        self._session_id = None
        self._detail = None
        self._terms = None
        self._cursor = None
        self._settling = False
        self._stop_loading_indicator()
        self.query_one(SessionHeader).hide()
        self.scroller.remove_children()
        self._show_empty(EMPTY_TEXT)
        self._refresh_bindings_if_changed()

    # ── changes: a rename here, or another process writing ──────────────────────────────────

    def refresh_live(self) -> None:
        """Re-read the header (title, counts) and, when the window shows the session's end, the
        messages after it: new ones are appended; the view follows them only if it was at the
        bottom. While a window is being read or mounted, it tries again a little later."""
        if self._session_id is None or not self.is_mounted:
            return
        if self.busy:
            self._retry_live()
            return
        heads = self.heads()
        after = (heads[-1].turn.first_id - 1 if heads else 0) if self._at_end else None
        self._read_live(self._session_id, self._generation, after, self._terms, self._render_target()[1])

    def _retry_live(self) -> None:
        if self._live_timer is None:
            def again() -> None:
                self._live_timer = None
                self.refresh_live()
            self._live_timer = self.set_timer(0.25, again)

    @work(thread=True, exclusive=True, group=LIVE_GROUP, exit_on_error=False)
    def _read_live(
        self, session_id: str, generation: int, after: int | None, terms: Terms | None,
        options: ConsoleOptions | None,
    ) -> None:
        worker = get_current_worker()
        browser = self.app.browser
        detail = browser.session_detail(session_id)
        page = turns = bodies = None
        if detail is not None and after is not None:
            page = browser.conversation_page(session_id, after_id=after, limit=self.PAGE)
            turns = pair_turns(page.messages)
            bodies = content_bodies(turns, terms)
            self._prerender(worker, turns, bodies, options)
        if not worker.is_cancelled:
            self._call_ui(self._live_read, worker, generation, detail, page, turns, bodies)

    def _live_read(
        self, worker: Worker[None], generation: int, detail: SessionDetail | None, page: ConversationPage | None,
        turns: list[Turn] | None, bodies: dict[int, Guarded] | None,
    ) -> None:
        if self._stale(worker, generation):
            return
        if self.busy:
            self._retry_live()
            return
        if detail is None:  # deleted meanwhile
            self.query_one(SessionHeader).hide()
            self.scroller.remove_children()
            self._cursor = None
            self._detail = None
            self._show_empty("This session no longer exists.")
            self._refresh_bindings_if_changed()
            return
        self._detail = detail
        self.query_one(SessionHeader).show(detail, self.app.browser.now_dt())
        self._refresh_bindings_if_changed()
        heads = self.heads()
        if page is None or turns is None or not turns or not self._at_end:
            return
        if heads and turns[0].first_id != heads[-1].turn.first_id:
            return  # the window changed meanwhile
        if heads and turns[0] == heads[-1].turn and len(turns) == 1:
            return  # nothing new
        self._settling = True
        self.run_worker(self._append_live(turns, bodies, page.at_end, generation), group=MOUNT_GROUP,
                        exit_on_error=False)

    async def _append_live(
        self, turns: list[Turn], bodies: dict[int, Guarded] | None, at_end: bool, generation: int
    ) -> None:
        """Replace the last turn (it may have gained tool results) and append the new ones."""
        scroller = self.scroller
        try:
            follow = scroller.max_scroll_y - scroller.scroll_y <= 1
            heads = self.heads()
            cursor_on_last = False
            if heads:
                old_parts = self._parts(heads[-1])
                cursor_on_last = self._cursor in old_parts
                with self.app.batch_update():
                    await scroller.remove_children(old_parts)
                    await scroller.mount_all(self._widgets_for(turns, bodies))
            else:
                await scroller.mount_all(self._widgets_for(turns, bodies))
            self._show_empty(None)
            self._at_end = at_end
            if generation != self._generation:
                return
            new_heads = self.heads()
            if new_heads and (cursor_on_last or self._cursor is None or not self._cursor.is_attached):
                target = new_heads[-1] if follow else new_heads[len(heads) - 1 if heads else 0]
                self._set_cursor(target, scroll=False)
            await self._next_frame()
            # Following a conversation the agent keeps writing mounts turns without end: every
            # layout and render then grew with them (a 50 msg/s burst stalled the UI for > 1 s
            # after a minute). Past LIVE_MAX_TURNS the top, far from the view, goes, as when
            # paging; before following to the end, so the trim's own scroll adjustment cannot
            # leave the view short of it (it stopped following).
            await self._trim(generation, keep_top=False, most=self.LIVE_MAX_TURNS, least=self.LIVE_TRIM_TO)
            if generation == self._generation and follow:
                scroller.scroll_end(animate=False, immediate=True)
        finally:
            if generation == self._generation:
                self._settling = False

    # ── reading ─────────────────────────────────────────────────────────────────────────────

    def _begin(self, session_id: str, terms: Terms | None) -> None:
        self._generation += 1
        self._cancel_reads()
        self._session_id = session_id
        self._terms = terms
        self._start_loading_indicator()

    def _cancel_reads(self) -> None:
        for group in (*READ_GROUPS, LIVE_GROUP):
            self.workers.cancel_group(self, group)
        self._loading_older = self._loading_newer = False
        self._move_after_load = 0

    def _start_loading_indicator(self) -> None:
        if self._loading_timer is not None:
            self._loading_timer.stop()
        self._loading_timer = self.set_timer(0.25, self._show_loading)

    def _show_loading(self) -> None:
        if self._empty:
            self.query_one("#conversation-empty", Static).update("Loading…")
        else:
            self.scroller.loading = True

    def _stop_loading_indicator(self) -> None:
        if self._loading_timer is not None:
            self._loading_timer.stop()
            self._loading_timer = None
        self.scroller.loading = False

    def _call_ui(self, callback: object, *args: object) -> None:
        try:
            self.app.call_from_thread(callback, *args)  # type: ignore[arg-type]
        except RuntimeError:
            pass  # the app is shutting down

    def _stale(self, worker: Worker[object], generation: int) -> bool:
        return worker.is_cancelled or generation != self._generation

    def _render_target(self) -> tuple[Size, ConsoleOptions | None]:
        """The view's size, and the console options a turn's content is drawn with (so worker
        threads can render it ahead), read on the UI thread."""
        region = self.scroller.scrollable_content_region
        width = region.width - PART_GUTTER
        if width < 10 or region.height < 1:
            return Size(max(20, width), max(10, region.height)), None
        return region.size, self.app.console_options.update_width(width).update(highlight=False)

    def _prerender(
        self, worker: Worker[None], turns: list[Turn], bodies: dict[int, Guarded], options: ConsoleOptions | None
    ) -> None:
        """In a worker thread: render the content of ``turns`` (in order) before they are mounted."""
        if options is None:
            return
        console = self.app.console
        for turn in turns:
            if worker.is_cancelled:
                return
            body = bodies.get(turn.message.id)
            if body is not None:
                body.prerender(console, options)

    def _load(self, session_id: str, mode: str, message_id: int | None, generation: int) -> None:
        """Read a window in a worker (the view's size and drawing options are read here)."""
        self._load_window(session_id, mode, message_id, generation, self._terms, *self._render_target())

    @work(thread=True, exclusive=True, group=LOAD_GROUP, exit_on_error=False)
    def _load_window(
        self, session_id: str, mode: str, message_id: int | None, generation: int, terms: Terms | None,
        view: Size, options: ConsoleOptions | None,
    ) -> None:
        """Read a window; hand it to the UI; render the part not on screen while it paints."""
        worker = get_current_worker()
        browser = self.app.browser
        detail = browser.session_detail(session_id)
        page: ConversationPage | None = None
        if detail is not None and not worker.is_cancelled:
            if mode == "around" and message_id is not None:
                page = browser.conversation_page(session_id, around_id=message_id, limit=self.PAGE)
            elif mode == "head":
                page = browser.conversation_page(session_id, after_id=0, limit=self.PAGE)
            else:
                page = browser.conversation_page(session_id, limit=self.PAGE)
        if worker.is_cancelled:
            return
        window = Window.build(detail, page, mode, terms, view)
        self._call_ui(self._loaded, worker, generation, window)
        try:
            if window.turns and window.painted.wait(2.0):
                rest = window.turns[window.hi :] + window.turns[: window.lo][::-1]  # nearest first
                self._prerender(worker, rest, window.bodies, options)
        finally:
            window.ready.set()

    @work(thread=True, exclusive=True, group=OLDER_GROUP, exit_on_error=False)
    def _fetch_older(
        self, session_id: str, before_id: int, generation: int, terms: Terms | None, options: ConsoleOptions | None
    ) -> None:
        self._fetch_page(session_id, generation, -1, terms, options, before_id=before_id)

    @work(thread=True, exclusive=True, group=NEWER_GROUP, exit_on_error=False)
    def _fetch_newer(
        self, session_id: str, after_id: int, generation: int, terms: Terms | None, options: ConsoleOptions | None
    ) -> None:
        self._fetch_page(session_id, generation, +1, terms, options, after_id=after_id)

    def _fetch_page(
        self, session_id: str, generation: int, direction: int, terms: Terms | None,
        options: ConsoleOptions | None, **where: int,
    ) -> None:
        """In a worker thread: read the page before/after the window and render its content."""
        worker = get_current_worker()
        page = self.app.browser.conversation_page(session_id, limit=self.PAGE, **where)  # type: ignore[arg-type]
        turns = pair_turns(page.messages)
        bodies = content_bodies(turns, terms)
        self._prerender(worker, turns if direction > 0 else turns[::-1], bodies, options)
        if not worker.is_cancelled:
            self._call_ui(self._page_loaded, worker, generation, page, turns, bodies, direction)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or worker.group not in (*READ_GROUPS, MOUNT_GROUP):
            return
        if worker.group == OLDER_GROUP:
            self._loading_older = False
        elif worker.group == NEWER_GROUP:
            self._loading_newer = False
        elif worker.group == MOUNT_GROUP:
            self._settling = self._loading_older = self._loading_newer = False
        message = f"Could not show the session: {one_line(worker.error, 200)}"
        if worker.group == LOAD_GROUP:
            self._stop_loading_indicator()
            self._settling = False
            self._show_empty(message)
        self.notify(message, severity="error", markup=False)

    # ── showing a window ────────────────────────────────────────────────────────────────────

    def _loaded(self, worker: Worker[None], generation: int, window: Window) -> None:
        if self._stale(worker, generation):
            window.painted.set()
            return
        self._detail = window.detail
        self._settling = True
        self._cursor = None
        self.run_worker(self._show_window(generation, window), group=MOUNT_GROUP, exit_on_error=False)

    async def _next_frame(self) -> None:
        """Wait until the screen has been refreshed (layout done) once."""
        done = asyncio.get_running_loop().create_future()
        self.call_after_refresh(lambda: done.done() or done.set_result(None))
        await done

    async def _show_window(self, generation: int, window: Window) -> None:
        """Mount the part of the page that fills the screen, paint, then mount the rest (which a
        worker thread renders meanwhile)."""
        try:
            await self._show_window_parts(generation, window)
        finally:
            window.painted.set()

    async def _show_window_parts(self, generation: int, window: Window) -> None:
        scroller = self.scroller
        header = self.query_one(SessionHeader)
        if generation != self._generation:
            return
        self._stop_loading_indicator()
        detail, page, turns, lo, hi = window.detail, window.page, window.turns, window.lo, window.hi
        if detail is None or page is None:
            header.hide()
            await scroller.remove_children()
            self._show_empty("This session no longer exists.")
            self._settling = False
            self._refresh_bindings_if_changed()
            return
        header.show(detail, self.app.browser.now_dt())
        self._at_start, self._at_end = page.at_start, page.at_end
        self._show_empty(None if turns else "This session has no messages.")
        with self.app.batch_update():
            await scroller.remove_children()
            if generation != self._generation:
                return
            await scroller.mount_all(self._widgets_for(turns[lo:hi], window.bodies))
        heads = self.heads()
        if not heads:
            self._settling = False
            self._refresh_bindings_if_changed()
            return
        target: TurnPart = heads[-1] if window.where == "end" else heads[0]
        if window.target_index is not None and page.target_id is not None:
            head = heads[window.target_index - lo]
            target = self._stop_for(head, page.target_id)
            self._open_hits(head, page.target_id)
        self._set_cursor(target, scroll=False)
        self._loading_older, self._loading_newer = lo > 0, hi < len(turns)
        await self._next_frame()
        if generation != self._generation:
            return
        if window.where == "end":
            scroller.scroll_end(animate=False, immediate=True)
        elif window.where == "home":
            scroller.scroll_home(animate=False, immediate=True)
        else:
            self._reveal(target, top_quarter=True)
        await self._next_frame()  # painted: now the footer (recomposed: slow), then the rest
        if generation != self._generation:
            return
        self._settling = False
        self._refresh_bindings_if_changed()
        if hi < len(turns) or lo > 0:
            window.painted.set()
            while not window.ready.is_set() and generation == self._generation:
                await asyncio.sleep(0.01)  # the worker renders the rest; the UI stays free
        if hi < len(turns):
            await self._mount_turns(turns[hi:], generation, at_top=False, bodies=window.bodies)
        if lo > 0:
            await self._mount_turns(turns[:lo], generation, at_top=True, bodies=window.bodies)
        if generation == self._generation:
            self._loading_older = self._loading_newer = False
            self._check_edges()

    def _widgets_for(self, turns: list[Turn], bodies: dict[int, Guarded] | None = None) -> list[TurnPart]:
        now = self.app.browser.now_dt()
        return [w for turn in turns for w in turn_widgets(turn, now=now, terms=self._terms,
                                                          expanded=self._expand_all, bodies=bodies)]

    def _page_loaded(
        self,
        worker: Worker[None],
        generation: int,
        page: ConversationPage,
        turns: list[Turn],
        bodies: dict[int, Guarded],
        direction: int,
    ) -> None:
        if self._stale(worker, generation):
            return
        if direction < 0:
            self._at_start = page.at_start
        else:
            self._at_end = page.at_end
        self.run_worker(self._extend(turns, bodies, generation, direction), group=MOUNT_GROUP,
                        exit_on_error=False)

    async def _extend(self, turns: list[Turn], bodies: dict[int, Guarded], generation: int, direction: int) -> None:
        await self._mount_turns(turns, generation, at_top=direction < 0, bodies=bodies)
        if generation != self._generation:
            return
        if direction < 0:
            self._loading_older = False
        else:
            self._loading_newer = False
        if self._move_after_load == direction:
            self._move_after_load = 0
            self._move_cursor(direction)
        self._check_edges()

    async def _mount_turns(
        self, turns: list[Turn], generation: int, *, at_top: bool, bodies: dict[int, Guarded] | None = None
    ) -> None:
        """Mount turns above or below the window, ``CHUNK`` per frame, keeping the view in place;
        then remove the turns far from the view."""
        scroller = self.scroller
        chunks = [turns[i : i + self.CHUNK] for i in range(0, len(turns), self.CHUNK)]
        if at_top:
            chunks.reverse()  # the turns nearest the view first
        for chunk in chunks:
            if generation != self._generation:
                return
            height = scroller.virtual_size.height
            self._settling = at_top
            if at_top:
                await scroller.mount_all(self._widgets_for(chunk, bodies), before=0)
            else:
                await scroller.mount_all(self._widgets_for(chunk, bodies))
            await self._next_frame()
            if generation != self._generation:
                return
            if at_top:
                grown = scroller.virtual_size.height - height
                scroller.scroll_to(y=scroller.scroll_y + grown, animate=False, immediate=True)
            self._settling = False
        await self._trim(generation, keep_top=at_top)

    async def _trim(
        self, generation: int, *, keep_top: bool, most: int | None = None, least: int | None = None
    ) -> None:
        """Past ``most`` (``MAX_TURNS``), remove turns at the end far from the view: the bottom after
        prepending, the top after appending (the view kept in place). Only turns more than
        ``FAR`` screens away go, keeping at least ``least`` (``TRIM_TO``), so the trimmed end never
        comes near enough to be read back at once (no ping-pong between the ends)."""
        heads = self.heads()
        most = self.MAX_TURNS if most is None else most
        least = self.TRIM_TO if least is None else least
        if generation != self._generation or len(heads) <= most:
            return
        scroller = self.scroller
        screen = max(1, scroller.scrollable_content_region.height)
        top, bottom = scroller.scroll_y - self.FAR * screen, scroller.scroll_y + (self.FAR + 1) * screen
        children = list(scroller.children)
        if keep_top:
            first = next((h for h in heads[least:] if h.virtual_region.y >= bottom), None)
            if first is None:
                return
            doomed = children[children.index(first) :]
            self._at_end = False
        else:
            keep = len(heads) - least
            first = next((h for h in reversed(heads[1 : keep + 1]) if h.virtual_region.y <= top), None)
            if first is None:
                return
            doomed = children[: children.index(first)]
            self._at_start = False
        if self._cursor is not None and self._cursor in doomed:
            survivors = [w for w in children if w not in doomed and isinstance(w, MessageHead)]
            self._set_cursor(survivors[-1] if keep_top else survivors[0], scroll=False)
        height = scroller.virtual_size.height
        self._settling = True
        await scroller.remove_children(doomed)
        await self._next_frame()
        if generation != self._generation:
            return
        if not keep_top:
            shrunk = height - scroller.virtual_size.height
            scroller.scroll_to(y=scroller.scroll_y - shrunk, animate=False, immediate=True)
        self._settling = False

    def _show_empty(self, text: str | None) -> None:
        """Show ``text`` in place of the messages; None shows the messages."""
        self._empty = text is not None
        empty = self.query_one("#conversation-empty", Static)
        if text is not None:
            empty.update(text)
        empty.display = self._empty
        self.scroller.display = not self._empty

    def _refresh_bindings_if_changed(self) -> None:
        """Refreshing bindings recomposes the Footer (costly): only when availability changed."""
        detail = self._detail
        state = (
            self._terms is not None and self._session_id is not None,
            detail is not None and detail.parent is not None,
            detail is not None and bool(detail.children),
        )
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    # ── windowing ───────────────────────────────────────────────────────────────────────────

    def on_message_scroll_scrolled(self, event: MessageScroll.Scrolled) -> None:
        event.stop()
        self._check_edges()

    def _check_edges(self) -> None:
        """Near the top (bottom) of the window, read the previous (next) page."""
        if self._settling or self._session_id is None or self._empty:
            return
        scroller = self.scroller
        margin = max(4, scroller.scrollable_content_region.height)
        heads = self.heads()
        if not heads:
            return
        if not self._at_start and not self._loading_older and scroller.scroll_y <= margin:
            self._loading_older = True
            self._fetch_older(self._session_id, heads[0].turn.first_id, self._generation, self._terms,
                              self._render_target()[1])
        if not self._at_end and not self._loading_newer and scroller.max_scroll_y - scroller.scroll_y <= margin:
            self._loading_newer = True
            self._fetch_newer(self._session_id, heads[-1].turn.last_id, self._generation, self._terms,
                              self._render_target()[1])

    def _y_of(self, widget: Widget) -> int:
        """A turn widget's top in the scroller's virtual space (a child's ``virtual_region``)."""
        return widget.virtual_region.y

    # ── turns and cursor ────────────────────────────────────────────────────────────────────

    def _stops(self) -> list[TurnPart]:
        """Where the cursor can rest: every head and fold, top to bottom."""
        return [w for w in self.scroller.children if isinstance(w, (MessageHead, Fold))]

    def _parts(self, head: MessageHead) -> list[TurnPart]:
        children = list(self.scroller.children)
        start = children.index(head)
        parts: list[TurnPart] = [head]
        for widget in children[start + 1 :]:
            if isinstance(widget, MessageHead) or not isinstance(widget, TurnPart):
                break
            parts.append(widget)
        return parts

    def _folds(self, head: MessageHead) -> list[Fold]:
        return [w for w in self._parts(head) if isinstance(w, Fold)]

    def _head_of(self, part: TurnPart) -> MessageHead | None:
        return next((h for h in self.heads() if h.turn is part.turn), None)

    def _head_holding(self, message_id: int) -> MessageHead | None:
        return next((h for h in self.heads() if message_id in h.turn.message_ids), None)

    def _stop_for(self, head: MessageHead, message_id: int) -> TurnPart:
        """The head, or the result fold showing ``message_id`` (a tool message in the turn)."""
        if message_id != head.turn.message.id:
            for fold in self._folds(head):
                if fold.kind == "result" and fold.message_id == message_id:
                    return fold
        return head

    def _open_hits(self, head: MessageHead, message_id: int | None = None) -> None:
        """Expand the folds of a turn holding search hits (of ``message_id`` only, when given)."""
        for fold in self._folds(head):
            if fold.has_hit and (message_id is None or fold.message_id == message_id):
                fold.set_expanded(True)

    def _set_cursor(self, part: TurnPart, *, scroll: bool = True) -> None:
        old = self._cursor
        if old is not None and old is not part:
            old.remove_class("-cursor", "-active")
            if isinstance(old, MessageHead):
                old.set_cursor(0)
        self._cursor = part
        part.add_class("-cursor")
        part.set_class(self.has_focus, "-active")
        if isinstance(part, MessageHead):
            part.set_cursor(2 if self.has_focus else 1)
        if scroll:
            self._reveal(part)

    def _reveal(self, widget: Widget, top_quarter: bool = False) -> None:
        """Scroll the least needed to show the widget's top and as much of it as fits (or put its
        top a quarter down the view)."""
        if not widget.is_attached:
            return
        scroller = self.scroller
        height = scroller.scrollable_content_region.height
        y = self._y_of(widget)
        if top_quarter:
            scroller.scroll_to(y=max(0, y - height // 4), animate=False, immediate=True)
            return
        region = Region(0, y, 1, max(1, min(widget.outer_size.height, height)))
        scroller.scroll_to_region(region, animate=False, immediate=True)

    def _cursor_message_id(self) -> int | None:
        return self._cursor.message_id if self._cursor is not None else None

    def _move_cursor(self, delta: int) -> None:
        stops = self._stops()
        if not stops:
            return
        if self._cursor is None or self._cursor not in stops:
            self._set_cursor(stops[-1] if delta < 0 else stops[0])
            return
        index = stops.index(self._cursor) + delta
        if 0 <= index < len(stops):
            self._set_cursor(stops[index])
            return
        # past either end of the window: show that end, and move on once the next page is in
        if index < 0:
            self.scroller.scroll_home(animate=False, immediate=True)
        else:
            self.scroller.scroll_end(animate=False, immediate=True)
        if not (self._at_start if index < 0 else self._at_end):
            self._move_after_load = -1 if index < 0 else 1
            self._check_edges()

    def on_focus(self) -> None:
        if self._cursor is not None:
            self._set_cursor(self._cursor, scroll=False)

    def on_blur(self) -> None:
        if self._cursor is not None:
            self._cursor.remove_class("-active")
            if isinstance(self._cursor, MessageHead):
                self._cursor.set_cursor(1)

    def on_cursor_requested(self, event: CursorRequested) -> None:
        event.stop()
        if isinstance(event.target, TurnPart):
            self.focus()
            self._set_cursor(event.target, scroll=False)

    # ── actions ─────────────────────────────────────────────────────────────────────────────

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("next_hit", "previous_hit"):
            return True if self._terms is not None and self._session_id is not None else None
        if action == "open_parent":
            return True if self._detail is not None and self._detail.parent is not None else None
        if action == "open_child":
            return True if self._detail is not None and self._detail.children else None
        return True

    def action_cursor_down(self) -> None:
        self._move_cursor(+1)

    def action_cursor_up(self) -> None:
        self._move_cursor(-1)

    def action_page_down(self) -> None:
        self._page(+1)

    def action_page_up(self) -> None:
        self._page(-1)

    def _page(self, direction: int) -> None:
        scroller = self.scroller
        height = scroller.scrollable_content_region.height
        scroller.scroll_to(y=scroller.scroll_y + direction * max(1, height - 2), animate=False, immediate=True)
        top = scroller.scroll_y
        for stop in self._stops():
            if self._y_of(stop) >= top:
                self._set_cursor(stop, scroll=False)
                break

    def action_toggle_fold(self) -> None:
        cursor = self._cursor
        if isinstance(cursor, Fold):
            cursor.toggle()
            self.call_after_refresh(self._reveal, cursor)
        elif isinstance(cursor, MessageHead):
            folds = self._folds(cursor)
            expand = not any(fold.expanded for fold in folds)
            for fold in folds:
                fold.set_expanded(expand)

    def action_toggle_all(self) -> None:
        """Fold or unfold every fold: those nearest the cursor at once, the rest a chunk per
        frame (an unfolded body must be rendered to be laid out), the cursor kept in place."""
        folds = [w for w in self.scroller.children if isinstance(w, Fold)]
        self._expand_all = not any(fold.expanded for fold in folds) if folds else not self._expand_all
        stops = self._stops()
        here = stops.index(self._cursor) if self._cursor in stops else len(stops)
        order = {id(w): abs(i - here) for i, w in enumerate(stops)}
        folds.sort(key=lambda fold: order.get(id(fold), 0))
        self._set_folds(folds[: self.FOLD_CHUNK], self._expand_all)
        rest = folds[self.FOLD_CHUNK :]
        if rest:
            self.run_worker(self._set_folds_gradually(rest, self._expand_all, self._generation),
                            group=FOLD_GROUP, exclusive=True, exit_on_error=False)
        else:
            self.workers.cancel_group(self, FOLD_GROUP)

    def _set_folds(self, folds: list[Fold], expanded: bool) -> None:
        anchor = self._cursor if self._cursor is not None and self._cursor.is_attached else None
        offset = self._y_of(anchor) - self.scroller.scroll_y if anchor is not None else 0
        with self.app.batch_update():
            for fold in folds:
                if fold.is_attached:
                    fold.set_expanded(expanded)
        if anchor is not None:
            def keep() -> None:
                if anchor.is_attached:
                    self.scroller.scroll_to(y=self._y_of(anchor) - offset, animate=False, immediate=True)
            self.call_after_refresh(keep)

    async def _set_folds_gradually(self, folds: list[Fold], expanded: bool, generation: int) -> None:
        for start in range(0, len(folds), self.FOLD_CHUNK):
            await self._next_frame()
            await self._next_frame()
            if generation != self._generation or expanded != self._expand_all:
                return
            self._set_folds(folds[start : start + self.FOLD_CHUNK], expanded)

    def action_first(self) -> None:
        if self._session_id is None:
            return
        if self._at_start:
            stops = self._stops()
            if stops:
                self._set_cursor(stops[0], scroll=False)
            self.scroller.scroll_home(animate=False, immediate=True)
            return
        self._begin(self._session_id, self._terms)
        self._load(self._session_id, "head", None, self._generation)

    def action_last(self) -> None:
        if self._session_id is None:
            return
        if self._at_end:
            heads = self.heads()
            if heads:
                self._set_cursor(heads[-1], scroll=False)
            self.scroller.scroll_end(animate=False, immediate=True)
            return
        self._begin(self._session_id, self._terms)
        self._load(self._session_id, "tail", None, self._generation)

    @on(SessionHeader.LinkClicked)
    def _header_link(self, event: SessionHeader.LinkClicked) -> None:
        event.stop()
        self.post_message(self.OpenSessionRequested(event.session_id))

    def action_open_parent(self) -> None:
        if self._detail is not None and self._detail.parent is not None:
            self.post_message(self.OpenSessionRequested(self._detail.parent.id))
        else:
            self.notify("This session has no parent.", markup=False)

    def action_open_child(self) -> None:
        child = newest_child(self._detail) if self._detail is not None else None
        if child is not None:
            self.post_message(self.OpenSessionRequested(child.id))
        else:
            self.notify("This session has no children.", markup=False)

    # ── search hits ─────────────────────────────────────────────────────────────────────────

    def action_next_hit(self) -> None:
        self._goto_hit(+1)

    def action_previous_hit(self) -> None:
        self._goto_hit(-1)

    def _goto_hit(self, direction: int) -> None:
        """Move to the next (previous) message holding the terms; read further pages if needed."""
        if self._terms is None or self._session_id is None:
            return
        heads = self.heads()
        current = self._cursor_message_id()
        if current is None:
            current = -1 if direction > 0 else 2**62
        candidates = [(mid, head) for head in heads for mid in sorted(head.hit_ids)]
        if direction < 0:
            candidates.reverse()
        for mid, head in candidates:
            if (mid > current) if direction > 0 else (mid < current):
                self._jump_to_hit(head, mid)
                return
        more = not self._at_end if direction > 0 else not self._at_start
        if not more or not heads:
            self.notify("No more matches in this session.", markup=False)
            return
        edge = heads[-1].turn.last_id if direction > 0 else heads[0].turn.first_id
        self._find_hit(self._session_id, self._terms, direction, edge, self._generation)

    def _jump_to_hit(self, head: MessageHead, message_id: int, *, center: bool = False) -> None:
        self._open_hits(head, message_id)
        stop = self._stop_for(head, message_id)
        terms = self._terms
        if stop is head and terms is not None and not terms.found_in(head.turn.message.content):
            # the hit is only in a fold (reasoning, arguments): rest on that fold
            stop = next((f for f in self._folds(head) if f.has_hit and f.message_id == message_id), head)
        self._set_cursor(stop, scroll=False)
        self.call_after_refresh(self._reveal, stop, center)

    @work(thread=True, exclusive=True, group=FIND_GROUP, exit_on_error=False)
    def _find_hit(self, session_id: str, terms: Terms, direction: int, edge: int, generation: int) -> None:
        worker = get_current_worker()

        def predicate(message: MessageView) -> bool:
            return terms.matches(searchable_text(message))

        found = self.app.browser.find_message(
            session_id, predicate, after_id=edge if direction > 0 else None,
            before_id=edge if direction < 0 else None, should_stop=lambda: worker.is_cancelled,
        )
        if not worker.is_cancelled:
            self._call_ui(self._found_hit, worker, generation, found)

    def _found_hit(self, worker: Worker[None], generation: int, found: int | None) -> None:
        if self._stale(worker, generation) or self._session_id is None:
            return
        if found is None:
            self.notify("No more matches in this session.", markup=False)
            return
        self._begin(self._session_id, self._terms)
        self._load(self._session_id, "around", found, self._generation)
