"""A one-widget footer: the active keys as one line of text, clickable like Textual's ``Footer``.

Textual's ``Footer`` recomposes a widget per key whenever focus moves, which cost ~0.15 s per
focus change on this app's screen (2 vCPU); this bar re-renders one line instead. It reads the same
``screen.active_bindings`` (so ``show=False`` and ``check_action`` work as usual) and a click
simulates the key, as ``FooterKey`` does.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import RenderResult
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget


class KeyBar(Widget):
    """The keys that work now, left to right, and the command palette's key on the right."""

    ALLOW_SELECT: ClassVar[bool] = False
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: list[tuple[str, str, str, bool]] = []  # key, display, description, enabled
        self._palette: tuple[str, str, str] | None = None
        self._hits: list[tuple[int, int, str]] = []  # x start, x end, key

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        app = self.app
        palette_key = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
        seen: set[str] = set()
        items: list[tuple[str, str, str, bool]] = []
        palette: tuple[str, str, str] | None = None
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if key == palette_key:
                palette = (key, app.get_key_display(binding), binding.description or "palette")
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            items.append((key, app.get_key_display(binding), binding.description, active.enabled))
        if items != self._items or palette != self._palette:
            self._items, self._palette = items, palette
            self.refresh()

    def render(self) -> RenderResult:
        parts: list[Content] = []
        hits: list[tuple[int, int, str]] = []
        x = 0
        for key, display, description, enabled in self._items:
            piece = Content.assemble(
                (f" {display} ", "bold $footer-key-foreground" + ("" if enabled else " dim")),
                (f"{description} ", "$footer-description-foreground" + ("" if enabled else " dim")),
            )
            hits.append((x, x + piece.cell_length, key))
            x += piece.cell_length
            parts.append(piece)
        line = Content.assemble(*parts)
        width = self.size.width
        if self._palette is not None:
            key, display, description = self._palette
            right = Content.assemble(
                ("▏", "$foreground 20%"),
                (f"{display} ", "bold $footer-key-foreground"),
                (f"{description} ", "$footer-description-foreground"),
            )
            room = width - right.cell_length
            if line.cell_length > room:
                line = line.truncate(max(0, room), ellipsis=True)
            hits = [h for h in hits if h[1] <= room]
            line = Content.assemble(line, " " * max(0, room - line.cell_length), right)
            hits.append((room, width, key))
        self._hits = hits
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._hits:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
