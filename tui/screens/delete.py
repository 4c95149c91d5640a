"""Asks before a session is deleted: what it is, how many messages go, how many children stay.

A ``ModalScreen[bool]``: True deletes (the caller does it, in a worker), False (Escape, Cancel)
keeps everything. The facts come from ``Browser.delete_info``, read before the screen opens.
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

from tui.data import DeleteInfo
from tui.render import plural
from tui.screens.modal import DismissOnTop
from tui.text import one_line


def delete_lines(info: DeleteInfo) -> list[Content]:
    """What the dialog says, every stored text made safe."""
    if info.title:
        name = Content.assemble(("“", "$text-muted"), (one_line(info.title, 80), "bold"), ("”", "$text-muted"))
    elif info.preview:
        name = Content.assemble(("untitled: ", "$text-muted"), (one_line(info.preview, 70), "italic"))
    else:
        name = Content.styled("untitled, no messages", "italic $text-muted")
    lines = [
        name,
        Content.styled(one_line(info.id, 80), "$text-muted"),
        Content(""),
        Content.assemble("Its ", (plural(info.message_count, "message"), "bold"), " will be deleted."),
    ]
    if info.child_count:
        which = "child session" if info.child_count == 1 else "child sessions"
        verb = "is" if info.child_count == 1 else "are"
        lines.append(Content.assemble(
            (f"{info.child_count} {which}", "bold"), f" {verb} kept, and detached from it (no parent)."
        ))
    else:
        lines.append(Content.styled("It has no child sessions.", "$text-muted"))
    lines.append(Content.styled("This cannot be undone.", "$text-warning"))
    return lines


class DeleteScreen(DismissOnTop, ModalScreen[bool]):
    """Delete this session? y / enter on Delete confirms, n / escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "dismiss(False)", "Cancel"),
        Binding("y", "dismiss(True)", "Delete"),
        Binding("left,right", "switch_button", show=False),
    ]

    DEFAULT_CSS = """
    DeleteScreen {
        align: center middle;
        background: $background 60%;
    }
    DeleteScreen > Vertical {
        width: 64;
        height: auto;
        padding: 1 2;
        border: thick $error 70%;
        border-title-color: $text;
        border-title-style: bold;
        background: $surface;
    }
    DeleteScreen #delete-facts { height: auto; width: 1fr; }
    DeleteScreen #delete-buttons { height: auto; width: 1fr; align-horizontal: right; margin-top: 1; }
    DeleteScreen Button { margin-left: 2; min-width: 12; }
    """

    def __init__(self, info: DeleteInfo) -> None:
        super().__init__()
        self.info = info

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Delete session?"
            yield Static(Content("\n").join(delete_lines(self.info)), id="delete-facts", markup=False)
            with Horizontal(id="delete-buttons"):
                yield Button("Cancel", id="no")
                yield Button("Delete", id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # the safe choice has the focus

    def action_switch_button(self) -> None:
        # left/right typed right after "d" can arrive before the buttons exist (seed 1, normal).
        buttons = {button.id: button for button in self.query(Button)}
        if "yes" in buttons and "no" in buttons:
            (buttons["yes"] if self.focused is buttons["no"] else buttons["no"]).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")
