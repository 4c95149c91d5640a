"""``?``: every key in one place (the key bar shows only what fits)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Anywhere", (
        ("/", "search every message (live, as you type)"),
        ("tab", "switch between the list and the conversation"),
        ("esc", "back to the list; again clears the search, then the filter"),
        ("s", "cycle the source filter (all, cli, telegram, …)"),
        ("t", "filter sessions by title or id"),
        ("ctrl+p", "commands: source filters, newest, open a session by id"),
        ("?", "this help"),
        ("q", "quit"),
    )),
    ("Session list", (
        ("j k ↑ ↓", "move"),
        ("pgup pgdn home end", "page, newest, oldest"),
        ("enter", "open the session in the conversation pane"),
        ("[ ]", "parent / child session of a compression chain"),
    )),
    ("Search results", (
        ("↓", "from the search bar to the results"),
        ("enter", "open the conversation at the hit, highlighted"),
    )),
    ("Conversation", (
        ("j k ↑ ↓", "move between messages"),
        ("space", "fold or unfold the block under the cursor"),
        ("f", "fold or unfold everything"),
        ("n N", "next / previous search hit"),
        ("[ ]", "parent / child session"),
    )),
)


def help_content() -> Content:
    lines: list[Content] = []
    for title, keys in KEYS:
        if lines:
            lines.append(Content(""))
        lines.append(Content.styled(title, "bold $accent"))
        for key, what in keys:
            lines.append(Content.assemble((f"  {key:<20}", "bold"), (what, "")))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help {
            width: 88;
            max-width: 95%;
            height: auto;
            max-height: 90%;
            border: round $accent;
            border-title-style: bold;
            background: $surface;
            padding: 1 2;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as box:
            box.border_title = "hermes-browse keys"
            box.border_subtitle = "esc closes"
            yield Static(help_content())
