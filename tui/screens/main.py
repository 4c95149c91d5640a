"""The main screen: search bar and session list (or search results) on the left, the conversation
on the right, a one-line header with the database, and the footer with the keys.

The screen only wires widgets together: each widget does its own store reads in thread workers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Region
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Input, OptionList, Static

from store import ReadOnlyError
from tui.commands import SessionCommands
from tui.data import Browser, DeleteInfo
from tui.messages import (
    HistoryChanged,
    HitChosen,
    ListCounted,
    SearchFinished,
    SessionChosen,
    SessionHighlighted,
    WalkLineage,
)
from tui.screens.delete import DeleteScreen
from tui.screens.help import HelpScreen
from tui.screens.mouse import IgnoreDetached
from tui.text import one_line, safe
from tui.widgets.conversation import ConversationPane
from tui.widgets.key_bar import KeyBar
from tui.widgets.search_panel import SearchPanel
from tui.widgets.session_list import SessionList
from tui.widgets.title_editor import TitleEditor

HIGHLIGHT_DEBOUNCE_S = 0.15
FILTER_DEBOUNCE_S = 0.15
WATCH_INTERVAL_S = 0.5
SLOW_WRITE_S = 0.6  # a write still waiting after this long is said to be waiting (the lock is held)


def display_path(path: Path) -> str:
    try:
        return safe("~/" + str(path.relative_to(Path.home())))
    except ValueError:
        return safe(str(path))


class TopBar(Horizontal):
    """hermes-browse · the database path · read-only (and why) · how many sessions."""

    DEFAULT_CSS = """
    TopBar {
        height: 1;
        background: $panel;
        #topbar-left { width: 1fr; }
        #topbar-right { width: auto; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="topbar-left")
        yield Static(id="topbar-right")

    def show(self, browser: Browser | None, total: int | None = None) -> None:
        label = getattr(self.app, "path_label", None)
        path = safe(label) if label else display_path(browser.path) if browser is not None else ""
        left = Content.assemble((" hermes-browse ", "bold $accent"), ("  ", ""), (path, ""))
        right: list[tuple[str, str] | str] = []
        if browser is not None and browser.read_only:
            reason = one_line(browser.read_only_reason or "", 80)
            right.append((f"read-only: {reason}" if reason else "read-only", "bold $warning"))
            right.append("  ")
        if total is not None:
            right.append((f"{total:,} session{'s' if total != 1 else ''} ", "$text-muted"))
        self.query_one("#topbar-left", Static).update(left)
        self.query_one("#topbar-right", Static).update(Content.assemble(*right))


class SourceLabel(Static):
    """The active source filter; a click cycles it like the s key."""

    class Clicked(Message):
        """The label was clicked: cycle the source."""

    def show(self, source: str | None) -> None:
        self.update(
            Content.assemble(
                ("source ", "$text-muted"),
                (one_line(source, 18) if source else "all", "bold $accent" if source else "bold"),
                (" ▾", "$text-muted"),
            )
        )
        self.tooltip = "s cycles the source filter"

    def on_click(self) -> None:
        self.post_message(self.Clicked())


class MainScreen(IgnoreDetached, Screen[None]):
    """Sessions, search and the conversation."""

    AUTO_FOCUS = "SessionList"
    COMMANDS: ClassVar = {SessionCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search", tooltip="Search every message"),
        Binding("escape", "back", "Back", tooltip="Back to the list; again clears the search"),
        Binding("tab", "switch_pane", "Switch pane", tooltip="Move between the list and the conversation"),
        Binding("shift+tab", "switch_pane", "Switch pane", show=False),
        Binding("s", "cycle_source", "Source", tooltip="Cycle the source filter"),
        Binding("t", "focus_filter", "Filter", tooltip="Filter sessions by title or id"),
        Binding("c", "toggle_segments", "Segments", show=False,
                tooltip="Compression chains: one row each (their newest part), or every segment"),
        Binding("down", "leave_input", "To the list", show=False),
        Binding("question_mark", "help", "Help", tooltip="Every key"),
        Binding("r", "rename", "Rename", tooltip="Rename the session (empty removes the title)"),
        Binding("d", "delete", "Delete", tooltip="Delete the session (asks first; children are kept)"),
        Binding("e", "export", "Export", tooltip="Export the session to a file", show=False),
        Binding("S", "stats", "Stats", tooltip="Activity statistics", show=False),
        Binding("P", "prune", "Prune", tooltip="Delete ended sessions older than an age (asks first)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._sources: list[str] = []
        self._source: str | None = None
        self._shown: tuple[str, int | None] | None = None
        self._pending: tuple[str, int | None, str | None] | None = None
        self._highlight_timer: Timer | None = None
        self._filter_timer: Timer | None = None
        self._total: int | None = None
        self._data_version: int | None = None

    @property
    def browser(self) -> Browser:
        return self.app.browser  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield Input(placeholder="/ search every message", id="search", compact=True)
                with Horizontal(id="filterbar"):
                    yield SourceLabel(id="source-label")
                    yield Input(placeholder="t filter titles and ids", id="filter", compact=True)
                with ContentSwitcher(initial="sessions", id="left-switch"):
                    yield SessionList(id="sessions")
                    yield SearchPanel(id="search-panel")
            yield ConversationPane(id="conversation")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(TopBar).show(self.browser)
        self.query_one(SourceLabel).show(None)
        self._update_left_title()
        self._load_sources()
        if getattr(self.app, "watch_changes", False):
            self.set_interval(getattr(self.app, "watch_interval", WATCH_INTERVAL_S), self._check_for_changes)

    def _ui(self, callback: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Run ``callback`` on the UI thread from a worker; quietly drop it while the app shuts down."""
        try:
            self.app.call_from_thread(callback, *args, **kwargs)
        except RuntimeError:
            pass

    # ── changes made by other processes (the agent writing) ───────────────────────────────

    def _check_for_changes(self) -> None:
        self._poll_data_version()

    @work(thread=True, group="watch", exclusive=True, exit_on_error=False)
    def _poll_data_version(self) -> None:
        try:
            version = self.browser.data_version()
        except Exception:
            return  # a busy or vanished file: try again at the next tick
        self._ui(self._data_version_seen, version)

    def _data_version_seen(self, version: int) -> None:
        previous, self._data_version = self._data_version, version
        if previous is not None and version != previous:
            self._history_changed(None, deleted=False, keep="session")

    @on(HistoryChanged)
    def _on_history_changed(self, event: HistoryChanged) -> None:
        event.stop()
        self._history_changed(event.session_ids, deleted=event.deleted, keep="index" if event.deleted else "session")

    def _history_changed(self, session_ids: tuple[str, ...] | None, *, deleted: bool, keep: str) -> None:
        """Refresh what may show changed sessions: the list (its place kept), the pane, search."""
        self.session_list.refresh_data(keep=keep)
        shown = self.pane.session_id
        if shown is not None and (session_ids is None or shown in session_ids):
            if deleted and session_ids is not None:
                self.pane.clear()  # the list's cursor, now on the next session, shows that one
                self._shown = None
            else:
                self.pane.refresh_live()
        if self.searching and self.search_input.value.strip() and (deleted or session_ids is not None):
            self.search_panel.search(self.search_input.value, self._source)
        self._load_sources()

    # ── managing history: rename, delete, export, prune, stats ────────────────────────────

    def _target_session_id(self) -> str | None:
        """The session the keys act on: the pane's when it has the focus (or during a search),
        else the list's highlighted one."""
        if self._pane_has_focus() or self.searching:
            return self.pane.session_id
        row = self.session_list.current
        return row.id if row is not None else None

    def _refused(self, what: str) -> bool:
        """Refuse a write on a read-only store, saying why; True when refused."""
        browser = self.browser
        if not browser.read_only:
            return False
        reason = one_line(browser.read_only_reason or "opened read-only", 200)
        self.notify(f"Cannot {what}: the database is read-only ({reason}).", title="Read-only",
                    severity="warning", markup=False)
        return True

    @property
    def title_editor(self) -> TitleEditor | None:
        editors = self.query(TitleEditor)
        return editors.first() if editors else None

    def action_rename(self) -> None:
        editor = self.title_editor
        if editor is not None:
            # r again while the editor composes (two quick r) or while it is being removed: its input
            # may not exist (NoMatches crashed the app, seed 5, normal, event 1424).
            field = editor.query("#title-input")
            if field and not editor._pruning:
                field.first().focus()
            return
        if self._refused("rename sessions"):
            return
        session_id = self._target_session_id()
        if session_id is None:
            self.notify("No session is selected.", markup=False)
            return
        in_pane = self._pane_has_focus() or self.searching
        if in_pane:
            detail = self.pane.detail
            if detail is None or detail.id != session_id:
                self.notify("The session is still loading; try again.", markup=False)
                return
            editor = TitleEditor(session_id, detail.title, return_focus=self.pane)
            editor.styles.offset = (1, 0)  # over the header's title (the header has a cell of padding)
            editor.styles.width = max(10, self.pane.content_region.width - 2)
            self.pane.mount(editor)
            return
        lst = self.session_list
        row = lst.current
        region = lst.cursor_line_region()
        if row is None or region is None:
            self.notify("The session is still loading; try again.", markup=False)
            return
        editor = TitleEditor(session_id, row.title, return_focus=lst)
        editor.styles.padding = (0, 1, 0, 4)  # the text where the title is (after " ●  ")
        self._place_list_editor(editor, region)
        self.query_one("#left").mount(editor)

    def _place_list_editor(self, editor: TitleEditor, region: Region | None = None) -> None:
        """Lay the editor over the cursor row (again after the list refreshed under it)."""
        region = region or self.session_list.cursor_line_region()
        if region is None:
            return
        origin = self.query_one("#left").content_region
        editor.styles.offset = (region.x - origin.x, region.y - origin.y)
        editor.styles.width = region.width

    @on(TitleEditor.Submitted)
    def _title_submitted(self, event: TitleEditor.Submitted) -> None:
        event.stop()
        self._save_title(event.editor, event.session_id, event.value)

    @on(TitleEditor.Cancelled)
    def _title_cancelled(self, event: TitleEditor.Cancelled) -> None:
        event.stop()
        self._close_editor(event.editor)

    def _close_editor(self, editor: TitleEditor) -> None:
        editor.finish()
        back = editor.return_focus
        refocus = editor.input.has_focus or self.focused is None
        editor.remove()
        if refocus and back is not None and back.is_attached:
            back.focus()

    @work(thread=True, group="rename", exclusive=True, exit_on_error=False)
    def _save_title(self, editor: TitleEditor, session_id: str, value: str) -> None:
        try:
            stored = self.browser.rename(session_id, value)
        except ValueError as exc:  # the store's refusal: too long, in use, invisible characters
            self._ui(editor.show_error, str(exc) or "the title was refused")
            return
        except ReadOnlyError as exc:
            self._ui(self._close_editor, editor)
            self._ui(self.notify, f"Cannot rename: {exc}", severity="warning", markup=False)
            return
        except Exception as exc:
            self._ui(editor.show_error, f"Could not save: {exc}")
            return
        self._ui(self._title_saved, editor, session_id, stored)

    def _title_saved(self, editor: TitleEditor, session_id: str, stored: str | None) -> None:
        if editor.is_attached:
            self._close_editor(editor)
        text = f"Renamed to “{one_line(stored, 60)}”." if stored else "Title removed."
        self.notify(text, markup=False, timeout=3)
        self.post_message(HistoryChanged((session_id,)))

    def action_delete(self) -> None:
        if self._refused("delete sessions"):
            return
        session_id = self._target_session_id()
        if session_id is None:
            self.notify("No session is selected.", markup=False)
            return
        self._read_delete_info(session_id)

    @work(thread=True, group="delete", exclusive=True, exit_on_error=False)
    def _read_delete_info(self, session_id: str) -> None:
        try:
            info = self.browser.delete_info(session_id)
        except Exception as exc:
            self._ui(self.notify, f"Could not read the session: {exc}", severity="error", markup=False)
            return
        if info is None:
            self._ui(self.notify, "This session no longer exists.", markup=False)
            return
        self._ui(self._confirm_delete, info)

    def _confirm_delete(self, info: DeleteInfo) -> None:
        def answered(ok: bool | None) -> None:
            if ok:
                self._delete(info.id)
                self._say_if_slow("delete", "Deleting: the database is busy (another program is writing to it); "
                                            "waiting for it…")

        self.app.push_screen(DeleteScreen(info), answered)

    def _say_if_slow(self, group: str, text: str, after: float = SLOW_WRITE_S) -> None:
        """Tell the user a write is waiting (another process holds the lock) when this screen's worker
        ``group`` is still running ``after`` seconds from now; a quick write says nothing."""
        def check() -> None:
            if any(w.group == group and w.node is self and not w.is_finished for w in self.app.workers):
                self.notify(text, title="Waiting", markup=False, timeout=4)

        self.set_timer(after, check)

    @work(thread=True, group="delete", exclusive=True, exit_on_error=False)
    def _delete(self, session_id: str) -> None:
        try:
            deleted = self.browser.delete(session_id)
        except ReadOnlyError as exc:
            self._ui(self.notify, f"Cannot delete: {exc}", severity="warning", markup=False)
            return
        except Exception as exc:
            self._ui(self.notify, f"Could not delete: {exc}", severity="error", markup=False)
            return
        self._ui(self._deleted, session_id, deleted)

    def _deleted(self, session_id: str, deleted: bool) -> None:
        self.notify("Session deleted." if deleted else "It was already gone.", markup=False, timeout=3)
        self.post_message(HistoryChanged((session_id,), deleted=True))

    def action_export(self) -> None:
        session_id = self._target_session_id()
        if session_id is None:
            self.notify("No session is selected.", markup=False)
            return
        try:
            from tui.actions import open_export
        except ImportError as exc:
            self.notify(f"Export is not available: {exc}", severity="error", markup=False)
            return
        open_export(self, session_ids=[session_id])

    def export_filtered(self, *, everything: bool = False) -> None:
        """Export the sessions of the active source filter (or, without one, everything)."""
        try:
            from tui.actions import open_export
        except ImportError as exc:
            self.notify(f"Export is not available: {exc}", severity="error", markup=False)
            return
        if everything:
            open_export(self, everything=True)
            return
        text = self.filter_input.value.strip()
        if text:
            self._export_matching(text, self._source)  # the sessions the title/id filter lists
            return
        open_export(self, source=self._source, everything=self._source is None)

    @work(thread=True, group="export-scope", exclusive=True, exit_on_error=False)
    def _export_matching(self, text: str, source: str | None) -> None:
        """Every session (each chain segment) whose title or id matches, within the source filter."""
        try:
            total = self.browser.count_sessions(source=source, text=text)
            ids = [s.id for s in self.browser.sessions_page(0, total, source=source, text=text)] if total else []
        except Exception as exc:
            self._ui(self.notify, f"Could not read the filtered sessions: {exc}", severity="error", markup=False)
            return
        if not ids:
            self._ui(self.notify, "No session matches the filter: nothing to export.", markup=False)
            return
        from tui.actions import open_export

        self._ui(open_export, self, session_ids=ids)

    def action_prune(self) -> None:
        self.prune()

    def prune(self) -> None:
        if self._refused("prune sessions"):
            return
        try:
            from tui.actions import open_prune
        except ImportError as exc:
            self.notify(f"Pruning is not available: {exc}", severity="error", markup=False)
            return
        open_prune(self, source=self._source)

    def action_stats(self) -> None:
        try:
            from tui.screens.stats import StatsScreen
        except ImportError as exc:
            self.notify(f"Statistics are not available: {exc}", severity="error", markup=False)
            return
        self.app.push_screen(StatsScreen())

    # ── widgets ───────────────────────────────────────────────────────────────────────────

    @property
    def session_list(self) -> SessionList:
        return self.query_one(SessionList)

    @property
    def search_panel(self) -> SearchPanel:
        return self.query_one(SearchPanel)

    @property
    def pane(self) -> ConversationPane:
        return self.query_one(ConversationPane)

    @property
    def search_input(self) -> Input:
        return self.query_one("#search", Input)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#filter", Input)

    @property
    def searching(self) -> bool:
        return self.query_one(ContentSwitcher).current == "search-panel"

    def _update_left_title(self) -> None:
        left = self.query_one("#left")
        if self.searching:
            result = self.search_panel.result
            left.border_title = "Search"
            left.border_subtitle = f"{len(result.hits)} hits" if result and not result.error else ""
        else:
            every = self.session_list.filters.every_segment
            left.border_title = "Sessions · every segment" if every else "Sessions"
            total = self._total
            left.border_subtitle = "" if total is None else f"{total:,}"

    # ── sources and filters ───────────────────────────────────────────────────────────────

    @work(thread=True, group="sources", exclusive=True, exit_on_error=False)
    def _load_sources(self) -> None:
        try:
            sources = self.browser.sources()
        except Exception as exc:
            self._ui(
                self.notify, f"Could not list sources: {exc}", severity="error", markup=False
            )
            return
        self._ui(self._sources_loaded, sources)

    def _sources_loaded(self, sources: list[str]) -> None:
        self._sources = sources

    def set_source(self, source: str | None) -> None:
        self._source = source
        self.query_one(SourceLabel).show(source)
        self.session_list.set_filters(source=source, text=self.filter_input.value)
        if self.search_input.value.strip():
            self.search_panel.search(self.search_input.value, source)

    def action_cycle_source(self) -> None:
        options: list[str | None] = [None, *self._sources]
        try:
            index = options.index(self._source)
        except ValueError:
            index = 0
        self.set_source(options[(index + 1) % len(options)])

    def clear_filters(self) -> None:
        self.filter_input.value = ""
        self.set_source(None)
        self.session_list.set_filters(source=None, text="")

    def action_focus_filter(self) -> None:
        self._show_list()
        self.filter_input.focus()

    def focus_filter(self) -> None:
        self.action_focus_filter()

    def action_toggle_segments(self) -> None:
        """Compression chains as one row (the tip), or every segment on its own row."""
        lst = self.session_list
        every = not lst.filters.every_segment
        lst.set_filters(source=self._source, text=self.filter_input.value, every_segment=every)
        self._update_left_title()  # "Sessions · every segment" says which it is

    def toggle_segments(self) -> None:
        self.action_toggle_segments()

    @on(SessionList.FilterTyped)
    def _filter_typed(self, event: SessionList.FilterTyped) -> None:
        """A key typed on the list: into the title/id filter, which gets the focus."""
        event.stop()
        self._show_list()
        field = self.filter_input
        field.value = event.text if event.start else field.value + event.text
        if not field.has_focus:
            self.set_focus(field)  # now: its Focus event is queued before the call below
        field.call_later(field.action_end)  # after focusing, which selects everything

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DEBOUNCE_S, self._apply_filter)

    def _apply_filter(self) -> None:
        self.session_list.set_filters(source=self._source, text=self.filter_input.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._apply_filter()
        self.session_list.focus()

    @on(SourceLabel.Clicked)
    def _source_clicked(self) -> None:
        self.action_cycle_source()

    # ── the list ──────────────────────────────────────────────────────────────────────────

    @on(ListCounted)
    def _counted(self, event: ListCounted) -> None:
        editor = self.title_editor
        if editor is not None and editor.return_focus is self.session_list:
            self.call_after_refresh(self._place_list_editor, editor)  # rows may have moved under it
        lst = self.session_list
        if not lst.filters.active:  # every session, even when chains show as one row
            total = lst.sessions_total if lst.sessions_total is not None else event.total
            self.query_one(TopBar).show(self.browser, total)
        self._total = event.total
        self._update_left_title()

    @on(SessionHighlighted)
    def _session_highlighted(self, event: SessionHighlighted) -> None:
        session = event.session
        self._schedule_show((session.id, None, None) if session else None)

    @on(SessionChosen)
    def _session_chosen(self, event: SessionChosen) -> None:
        self.open_session(event.session.id, focus=True)

    @on(WalkLineage)
    def _walk(self, event: WalkLineage) -> None:
        # The list shows a chain as its tip; after [ the pane shows an older segment, and the
        # cursor stays on the chain's row: the next [ or ] goes on from the segment shown.
        # (A highlight still waiting for its debounce is what the pane is about to show.)
        shown = self._pending[0] if self._pending is not None else self.pane.session_id
        self._find_neighbour(event.session_id, event.step, None if self.searching else shown)

    @work(thread=True, group="lineage", exclusive=True, exit_on_error=False)
    def _find_neighbour(self, session_id: str, step: int, shown: str | None = None) -> None:
        try:
            target = self.browser.neighbour(session_id, step, start=shown)
        except Exception as exc:
            self._ui(self.notify, str(exc), severity="error", markup=False)
            return
        if target is None:
            which = "parent" if step < 0 else "child"
            self._ui(self.notify, f"This session has no {which} session.", markup=False)
            return
        self._ui(self.open_session, target)

    @on(ConversationPane.OpenSessionRequested)
    def _pane_requested(self, event: ConversationPane.OpenSessionRequested) -> None:
        event.stop()
        self.open_session(event.session_id)

    # ── the conversation pane ─────────────────────────────────────────────────────────────

    def _schedule_show(self, target: tuple[str, int | None, str | None] | None) -> None:
        self._pending = target
        if self._highlight_timer is not None:
            self._highlight_timer.stop()
        self._highlight_timer = self.set_timer(HIGHLIGHT_DEBOUNCE_S, self._show_pending)

    def _show_pending(self) -> None:
        target = self._pending
        if target is None:
            if self._shown is not None:
                self.pane.clear()
                self._shown = None
            return
        self._show(*target)

    def _show(self, session_id: str, message_id: int | None = None, highlight: str | None = None) -> None:
        if self._highlight_timer is not None:
            self._highlight_timer.stop()
        if self._shown == (session_id, message_id) and message_id is None:
            return
        self._shown = (session_id, message_id)
        self.pane.show_session(session_id, message_id=message_id, highlight=highlight)

    def open_session(self, session_id: str, *, focus: bool = False) -> None:
        """Show a session in the pane and put the list cursor on it when its row is loaded."""
        self._pending = None
        if not self.searching:
            self.session_list.select_id(session_id)
        self._show(session_id)
        if focus:
            self._focus_pane()

    def _focus_pane(self) -> None:
        pane = self.pane
        if pane.focusable:
            pane.focus()
            return
        for widget in pane.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def _pane_has_focus(self) -> bool:
        focused = self.focused
        return focused is not None and (focused is self.pane or self.pane in focused.ancestors)

    # ── search ────────────────────────────────────────────────────────────────────────────

    def _show_search(self) -> None:
        self.query_one(ContentSwitcher).current = "search-panel"
        self._update_left_title()

    def _show_list(self) -> None:
        self.query_one(ContentSwitcher).current = "sessions"
        self._update_left_title()

    def action_focus_search(self) -> None:
        if self.search_input.value.strip():
            self._show_search()
        self.search_input.focus()

    def focus_search(self) -> None:
        self.action_focus_search()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self._show_search()
        self.search_panel.search(event.value, self._source)
        if not event.value.strip() and self.search_input.has_focus:
            self._show_list()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._show_search()
            self.search_panel.results.focus()

    @on(SearchFinished)
    def _search_finished(self, event: SearchFinished) -> None:
        self._update_left_title()

    @on(OptionList.OptionHighlighted, "#search-results")
    def _hit_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        hit = self.search_panel.highlighted_hit
        if hit is not None and self.searching:
            self._schedule_show((hit.session_id, hit.message_id, self.search_panel.query_text))

    @on(HitChosen)
    def _hit_chosen(self, event: HitChosen) -> None:
        self._pending = None
        self._show(event.hit.session_id, event.hit.message_id, event.query)
        self._focus_pane()

    # ── keys ──────────────────────────────────────────────────────────────────────────────

    def action_back(self) -> None:
        focused = self.focused
        if focused is self.search_input or focused is self.search_panel.results:
            self._show_list()
            self.session_list.focus()
        elif focused is self.filter_input:
            self.session_list.focus()
        elif self._pane_has_focus():
            (self.search_panel.results if self.searching else self.session_list).focus()
        elif self.search_input.value:
            self.search_input.value = ""
            self._show_list()
        elif self.filter_input.value:
            self.filter_input.value = ""
        else:
            self._show_list()
            self.session_list.focus()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_leave_input(self) -> None:
        """Down from the search bar goes to the results; from the filter, to the list."""
        if self.focused is self.search_input and self.searching:
            self.search_panel.results.focus()
        elif self.focused in (self.search_input, self.filter_input):
            self.session_list.focus()

    def action_switch_pane(self) -> None:
        if self._pane_has_focus():
            (self.search_panel.results if self.searching else self.session_list).focus()
        else:
            self._focus_pane()

    def jump_newest(self) -> None:
        self._show_list()
        self.session_list.action_first()
        self.session_list.focus()

    def jump_oldest(self) -> None:
        self._show_list()
        self.session_list.action_last()
        self.session_list.focus()
