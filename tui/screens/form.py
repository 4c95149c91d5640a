"""``FormDialog``: the frame the export and prune dialogs share.

One form, two buttons. Enter in the form's input, or the button with class ``form-confirm``, calls
``confirm()``; the button with class ``form-cancel``, or escape, closes the dialog with ``None``, except
while it is busy (a job is running or a question is open over it), when closing would lose the answer.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import on
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Button, Input

from tui.screens.modal import DismissOnTop

ResultT = TypeVar("ResultT")


class FormDialog(DismissOnTop, ModalScreen[ResultT]):
    """Subclasses compose the form (with the two classed buttons) and implement ``confirm``."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", show=False)]

    _busy: bool = False

    def confirm(self) -> None:
        """What Enter in the form and the confirm button do: each dialog defines it (export exports,
        prune prunes); the frame itself has nothing to confirm."""

    @on(Input.Submitted)
    def _form_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.confirm()

    @on(Button.Pressed, ".form-confirm")
    def _confirm_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.confirm()

    @on(Button.Pressed, ".form-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        if not self._busy:
            self.dismiss(None)
