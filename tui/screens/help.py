"""``?``: every key in one place (the key bar shows only what fits).

The lists are read from the real ``BINDINGS`` of the screens and widgets (and the command
palette's commands from ``SessionCommands``), so a key added there shows up here; ``TEXT`` only
words them for a reader, and rows with the same words share a line ("[ ]  parent / child session").
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.modal import DismissOnTop

KEY_NAMES = {
    "down": "↓", "up": "↑", "left": "←", "right": "→",
    "left_square_bracket": "[", "right_square_bracket": "]",
    "slash": "/", "question_mark": "?", "escape": "esc", "enter": "enter",
    "pagedown": "pgdn", "pageup": "pgup", "space": "space",
}

# How each action reads in the help, per binding owner; None leaves the action out.
TEXT: dict[str, str | None] = {
    # the session list
    "cursor_down": "move", "cursor_up": "move",
    "page_down": "page down / up", "page_up": "page down / up",
    "first": "newest / oldest", "last": "newest / oldest",
    "choose": "open it in the conversation pane",
    "walk(-1)": "parent / child session",
    "walk(1)": "parent / child session",
    # the main screen
    "focus_search": "search every message, live",
    "back": "back; again clears search, then filter",
    "switch_pane": "switch list / conversation",
    "cycle_source": "cycle the source filter (all, cli, …)",
    "focus_filter": "filter sessions by title or id",
    "toggle_segments": "chains: one row each / every segment",
    "leave_input": None,  # ↓ out of the search bar: listed under Search
    "help": "this help",
    "rename": "rename in place (empty: no title)",
    "delete": "delete (asks first; keeps children)",
    "export": "export the session to a file",
    "stats": "activity statistics",
    "prune": "prune old ended sessions (shows what would go first)",
    "quit": "quit",
}
CONVERSATION_TEXT: dict[str, str | None] = {
    "toggle_fold": "fold / unfold the block at the cursor",
    "toggle_all": "fold / unfold everything",
    "cursor_down": "move between messages", "cursor_up": "move between messages",
    "page_down": "page down / up", "page_up": "page down / up",
    "first": "first / last message", "last": "first / last message",
    "next_hit": "next / previous search hit", "previous_hit": "next / previous search hit",
    "open_parent": "parent / child session", "open_child": "parent / child session",
}
SEARCH_TEXT: dict[str, str | None] = {
    "cursor_down": "move between hits", "cursor_up": "move between hits",
    "select": "open the conversation at the hit",
}
STATS_TEXT: dict[str, str | None] = {
    "window(30)": "the last 30 / 90 days", "window(90)": "the last 30 / 90 days",
    "toggle_window": "switch between 30 and 90 days",
    "reload": "read the store again",
    "close": "back to the sessions",
}

Row = tuple[str, str]


def key_name(key: str) -> str:
    return KEY_NAMES.get(key, key)


def binding_rows(bindings: Iterable[BindingType], text: dict[str, str | None]) -> list[Row]:
    """One row per wording, its keys in binding order (letters before arrows and names)."""
    rows: dict[str, list[str]] = {}
    for binding in Binding.make_bindings(bindings):
        words = text.get(binding.action, binding.tooltip or binding.description)
        if words is None:
            continue
        keys = rows.setdefault(words, [])
        if binding.key not in keys:
            keys.append(binding.key)
    return [
        (" ".join(key_name(k) for k in sorted(keys, key=lambda k: len(k) > 1)), words)
        for words, keys in rows.items()
    ]


class _Anything:
    """Stands in for the main screen when listing the palette's commands (nothing is called)."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def palette_rows() -> list[Row]:
    """The command palette's commands, named as the palette shows them."""
    from tui.commands import SessionCommands

    class Listing(SessionCommands):
        def __init__(self) -> None:  # no screen: only the names are wanted
            self._sources = []

        @property
        def main(self) -> Any:
            return _Anything()

    rows = [(name, help_text) for name, help_text, _ in Listing()._commands()]
    rows.append(("Filter: source NAME", "only sessions from that source (one per source)"))
    rows.append(("open ID", "open a session by id (3+ characters of it)"))
    return rows


def sections() -> list[tuple[str, list[Row]]]:
    """(title, rows) for every group of keys, read from the real bindings."""
    from tui.app import HermesBrowseApp
    from tui.screens.main import MainScreen
    from tui.screens.stats import StatsScreen
    from tui.widgets.conversation import ConversationPane
    from tui.widgets.search_panel import ResultList
    from tui.widgets.session_list import SessionList

    sessions = binding_rows([*SessionList.BINDINGS, *MainScreen.BINDINGS], TEXT)
    sessions.insert(-1, ("ctrl+p", "command palette (commands below)"))
    sessions.insert(-1, ("type", "another key starts the title/id filter"))
    sessions += binding_rows(HermesBrowseApp.BINDINGS, TEXT)
    search = [
        ("type", "after /: search as you type"),
        ("↓", "from the search bar to the results"),
        *binding_rows(ResultList.BINDINGS, SEARCH_TEXT),
        ("esc", "back to the list; again clears it"),
    ]
    return [
        ("Sessions", sessions),
        ("Conversation", binding_rows(ConversationPane.BINDINGS, CONVERSATION_TEXT)),
        ("Search", search),
        ("Stats screen (S)", binding_rows(StatsScreen.BINDINGS, STATS_TEXT)),
        ("Command palette (ctrl+p)", palette_rows()),
    ]


def section_content(title: str, rows: list[Row], key_width: int = 13, text_width: int = 38) -> Content:
    """A title, then "key  what it does" rows; long words wrap under the words, not the keys."""
    lines = [Content.styled(title, "bold $accent")]
    for key, what in rows:
        wrapped = textwrap.wrap(what, text_width) or [""]
        lines.append(Content.assemble((f"{key:<{key_width}} ", "bold"), (wrapped[0], "")))
        lines.extend(Content(" " * (key_width + 1) + more) for more in wrapped[1:])
    return Content("\n").join(lines)


def help_content() -> Content:
    """Every section, one after the other (what the screen shows, as one block)."""
    return Content("\n\n").join(
        section_content(title, rows, 30, 70) if title.startswith("Command") else section_content(title, rows)
        for title, rows in sections()
    )


def names_in_columns(title: str, rows: list[Row], columns: int = 3, width: int = 37) -> Content:
    """Just the names, in columns, down then across (the palette shows each one's description)."""
    depth = -(-len(rows) // columns)
    lines = [Content.styled(title, "bold $accent")]
    for line in range(depth):
        cells = [rows[i][0] for i in range(line, len(rows), depth)]
        lines.append(Content.assemble(*((f"{cell:<{width}}", "") for cell in cells)).rstrip())
    return Content("\n").join(lines)


class HelpScreen(DismissOnTop, ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help {
            width: 116;
            max-width: 98%;
            height: auto;
            max-height: 96%;
            border: round $accent;
            border-title-style: bold;
            border-subtitle-color: $text-muted;
            background: $surface;
            padding: 0 1;
            scrollbar-size-vertical: 1;
        }
        #help-columns { height: auto; }
        .help-column { width: 1fr; height: auto; }
        #help-left { margin-right: 2; }
        #help-palette { margin-top: 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        parts = dict(sections())
        with VerticalScroll(id="help") as box:
            box.border_title = "hermes-browse keys"
            box.border_subtitle = "esc closes"
            with Horizontal(id="help-columns"):
                with Vertical(id="help-left", classes="help-column"):
                    yield Static(section_content("Sessions", parts["Sessions"]))
                with Vertical(id="help-right", classes="help-column"):
                    yield Static(Content("\n\n").join(
                        section_content(title, parts[title])
                        for title in ("Conversation", "Search", "Stats screen (S)")
                    ))
            title = "Command palette (ctrl+p): type part of a name"
            yield Static(names_in_columns(title, parts["Command palette (ctrl+p)"]), id="help-palette")
