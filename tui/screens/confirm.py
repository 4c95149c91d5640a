"""A small yes/no question: ``ConfirmScreen(question, yes_label, no_label)`` → ``ModalScreen[bool]``.

Enter presses the focused button (the safe answer is focused first), ``y`` answers yes, ``n`` and
escape answer no. The question is shown as plain text (no markup), so paths and titles are safe.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.screens.modal import DismissOnTop
from tui.text import safe


class ConfirmScreen(DismissOnTop, ModalScreen[bool]):
    """Dismisses with True (yes) or False (no, escape)."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        #confirm-box {
            width: 64;
            max-width: 95%;
            height: auto;
            padding: 1 2;
            border: round $warning;
            border-title-color: $warning;
            border-title-style: bold;
            border-subtitle-color: $text-muted;
            background: $surface;
        }
        #confirm-question { width: 1fr; margin-bottom: 1; }
        #confirm-buttons { height: auto; align-horizontal: right; }
        #confirm-buttons Button { margin-left: 2; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No", show=False),
        Binding("y", "answer(True)", "Yes", show=False),
    ]

    def __init__(
        self, question: str, yes_label: str = "Yes", no_label: str = "No", *, title: str = "Confirm"
    ) -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes_label
        self.no_label = no_label
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box") as box:
            box.border_title = safe(self.title_text, keep_newlines=False)
            box.border_subtitle = "y yes · n/esc no"
            yield Static(Content(safe(self.question)), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.no_label, id="confirm-no")
                yield Button(self.yes_label, id="confirm-yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
