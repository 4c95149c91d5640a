"""An inline title editor laid over a title (the list's cursor row, or the conversation header).

It is mounted on demand (notes §3: a hidden ``Input`` would steal the focus and the letter keys),
absolutely positioned by its host, and removed when done. Enter posts ``Submitted`` (the screen
saves it in a worker and either removes the editor or shows the store's refusal under it); Escape
or leaving the editor posts ``Cancelled``. While a save is under way the line under the field says
so (and, after a moment, that it waits for the database); Escape then cannot take the save back and
says that instead of closing. It never writes anything itself.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from tui.text import one_line


class TitleEditor(Vertical):
    """An ``Input`` prefilled with the title, and a line under it for the store's refusal."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", tooltip="Keep the title as it was"),
    ]

    DEFAULT_CSS = """
    TitleEditor {
        position: absolute;
        height: auto;
        width: 1fr;
        background: $panel;
        & > Input {
            height: 1;
            width: 1fr;
            padding: 0;
            background: $boost;
            border: none;
            &:focus { background: $boost; }
        }
        & > #title-hint {
            height: 1;
            width: 1fr;
            padding: 0;
            color: $text-muted;
            background: $panel;
        }
        &.-error > #title-hint {
            height: auto;
            color: $text-error;
            background: $error-muted;
            text-style: bold;
        }
    }
    """

    class Submitted(Message):
        def __init__(self, editor: TitleEditor, session_id: str, value: str) -> None:
            super().__init__()
            self.editor, self.session_id, self.value = editor, session_id, value

    class Cancelled(Message):
        def __init__(self, editor: TitleEditor, session_id: str) -> None:
            super().__init__()
            self.editor, self.session_id = editor, session_id

    HINT = "enter saves · empty removes the title · esc cancels"
    WAITING = "saving… the database is busy (another program is writing to it); waiting for it"
    CANNOT_CANCEL = "saving… it can no longer be cancelled: it is saved, or refused, once the database is free"
    SLOW_SAVE_S = 0.6  # after this long, a save still under way says it is waiting for the lock

    def __init__(
        self, session_id: str, title: str | None, *, return_focus: Widget | None = None,
        id: str | None = "title-editor",
    ) -> None:
        super().__init__(id=id)
        self.session_id = session_id
        self.return_focus = return_focus  # focused again when the editor closes
        self.original = title or ""
        self.saving = False
        self.error: str | None = None
        self._done = False

    def compose(self) -> ComposeResult:
        yield Input(one_line(self.original), id="title-input", select_on_focus=False, compact=True,
                    placeholder="(no title)")
        yield Static(Content(self.HINT), id="title-hint", markup=False)

    def on_mount(self) -> None:
        self.input.focus()
        self.input.cursor_position = len(self.input.value)

    @property
    def input(self) -> Input:
        return self.query_one("#title-input", Input)

    @property
    def value(self) -> str:
        return self.input.value

    def show_error(self, message: str) -> None:
        """Show why the store refused the title; the editor stays open for another try."""
        self.saving = False
        self.error = message
        self.add_class("-error")
        self._hint(f"✖ {one_line(message, 300)}")
        self.input.focus()

    @on(Input.Changed, "#title-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.error is not None:
            self.error = None
            self.remove_class("-error")
            self._hint(self.HINT)

    @on(Input.Submitted, "#title-input")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        if self._done or self.saving:
            return
        self.saving = True
        self._hint("saving…")
        self.set_timer(self.SLOW_SAVE_S, self._still_saving)
        self.post_message(self.Submitted(self, self.session_id, event.value))

    def _hint(self, text: str) -> None:
        self.query_one("#title-hint", Static).update(Content(text))

    def _still_saving(self) -> None:
        if self.saving and not self._done and self.is_attached:
            self._hint(self.WAITING)

    @on(Input.Blurred, "#title-input")
    def _blurred(self, event: Input.Blurred) -> None:
        event.stop()
        if not self.saving and self.is_attached and self.app.focused is not None:
            self.action_cancel()  # the user moved elsewhere (a click, tab): give up the edit

    def action_cancel(self) -> None:
        if self._done:
            return
        if self.saving:
            # The title is in the store's write queue: it can no longer be taken back. Say so, and
            # keep the editor until the save is done or refused (it then closes or shows why).
            self._hint(self.CANNOT_CANCEL)
            return
        self._done = True
        self.post_message(self.Cancelled(self, self.session_id))

    def finish(self) -> None:
        """Saved or cancelled: the host removes the editor."""
        self._done = True
