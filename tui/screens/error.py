"""Screens shown before the store is open: while it opens, and when it cannot be opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Middle, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from store import CorruptDatabaseError, DatabaseLockedError, DatabaseMissingError, NotADatabaseError
from tui.text import one_line, safe
from tui.widgets.key_bar import KeyBar


def error_hint(error: BaseException) -> str:
    """What the user can do about an error opening the store."""
    if isinstance(error, DatabaseMissingError):
        return (
            "hermes-browse reads $HERMES_HOME/state.db (HERMES_HOME defaults to ~/.hermes).\n"
            "Point it at a database with --db PATH, or look around with: hermes-browse --demo"
        )
    if isinstance(error, NotADatabaseError):
        return "The file was left unchanged. Check the path given with --db."
    if isinstance(error, CorruptDatabaseError):
        return (
            "The file was left unchanged. See what is wrong with: hermes-browse doctor --db PATH\n"
            "Keep a copy of the file (and any -wal beside it) before trying a repair tool."
        )
    if isinstance(error, DatabaseLockedError) or (
        isinstance(error, sqlite3.OperationalError) and "locked" in str(error).lower()
    ):
        return "Another process is holding the database. Try again in a moment, or use --read-only."
    if isinstance(error, PermissionError):
        return "Check the file's permissions."
    return "Check the path given with --db, or look around with: hermes-browse --demo"


def error_line(error: BaseException) -> str:
    """One line for stderr."""
    return one_line(str(error) or type(error).__name__)


class OpeningScreen(Screen[None]):
    """The first paint: says what is being opened while a worker opens it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "app.quit", "Quit")]

    def __init__(self, path: Path, *, demo: bool = False) -> None:
        super().__init__()
        self.path = path
        self.demo = demo

    def compose(self) -> ComposeResult:
        what = "Generating demo data…" if self.demo else f"Opening {safe(str(self.path))}…"
        with Middle(), Center():
            yield Static(Content.assemble(("hermes-browse", "bold $accent"), "  ", (what, "$text-muted")))
        yield KeyBar()


class ErrorScreen(Screen[None]):
    """A clear, calm error instead of a traceback. q (or escape, or enter) quits with code 2."""

    DEFAULT_CSS = """
    ErrorScreen {
        align: center middle;
        #error-box {
            width: 80%;
            max-width: 96;
            height: auto;
            padding: 1 3;
            border: round $error;
            border-title-color: $error;
            border-title-style: bold;
            background: $surface;
        }
        #error-message { width: 1fr; text-style: bold; margin-bottom: 1; }
        #error-hint { width: 1fr; color: $text-muted; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_error", "Quit"),
        Binding("escape", "quit_error", "Quit", show=False),
        Binding("enter", "quit_error", "Quit", show=False),
    ]

    def __init__(self, error: BaseException, *, title: str = "Can't open the session history") -> None:
        super().__init__()
        self.error = error
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box") as box:
            box.border_title = f"✖ {self.title_text}"
            yield Static(Content(safe(str(self.error) or type(self.error).__name__)), id="error-message")
            yield Static(Content(error_hint(self.error)), id="error-hint")
        yield KeyBar()

    def action_quit_error(self) -> None:
        self.app.exit(return_code=2)
