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

PINNED_ACTIONS = frozenset({"app.quit", "quit"})
"""Actions whose keys stay at the right edge, whatever the width."""


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
        self._pinned: list[tuple[str, str, str, bool]] = []  # quit: kept at the right edge
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
        pinned: list[tuple[str, str, str, bool]] = []
        palette: tuple[str, str, str] | None = None
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if key == palette_key:
                palette = (key, app.get_key_display(binding), binding.description or "palette")
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            item = (key, app.get_key_display(binding), binding.description, active.enabled)
            (pinned if binding.action in PINNED_ACTIONS else items).append(item)
        if items != self._items or pinned != self._pinned or palette != self._palette:
            self._items, self._pinned, self._palette = items, pinned, palette
            self.refresh()

    @staticmethod
    def _piece(display: str, description: str, enabled: bool) -> Content:
        dim = "" if enabled else " dim"
        return Content.assemble(
            (f" {display} ", "bold $footer-key-foreground" + dim),
            (f"{description} ", "$footer-description-foreground" + dim),
        )

    def render(self) -> RenderResult:
        """Keys from the left; the pinned keys (quit) and the palette's key always at the right edge.

        When the keys do not all fit, the middle ones give way to "…" rather than the last ones.
        """
        width = self.size.width
        middle, pinned = self._items, self._pinned
        right_parts: list[tuple[Content, str | None]] = [
            (self._piece(display, description, enabled), key) for key, display, description, enabled in pinned
        ]
        if self._palette is not None:
            key, display, description = self._palette
            right_parts.append((
                Content.assemble(
                    ("▏", "$foreground 20%"),
                    (f"{display} ", "bold $footer-key-foreground"),
                    (f"{description} ", "$footer-description-foreground"),
                ),
                key,
            ))
        right_width = sum(piece.cell_length for piece, _ in right_parts)
        room = max(0, width - right_width)
        hits: list[tuple[int, int, str]] = []
        parts: list[Content] = []
        x = 0
        pieces = [(self._piece(d, desc, en), k) for k, d, desc, en in middle]
        total = sum(piece.cell_length for piece, _ in pieces)
        ellipsis = Content.styled(" … ", "$footer-description-foreground")
        limit = room if total <= room else room - ellipsis.cell_length
        for piece, key in pieces:
            if x + piece.cell_length > limit:
                if x + ellipsis.cell_length <= room:
                    parts.append(ellipsis)
                    x += ellipsis.cell_length
                break
            parts.append(piece)
            hits.append((x, x + piece.cell_length, key))
            x += piece.cell_length
        parts.append(Content(" " * max(0, room - x)))
        x = max(x, room)
        for piece, key in right_parts:
            if key is not None:
                hits.append((x, x + piece.cell_length, key))
            parts.append(piece)
            x += piece.cell_length
        line = Content.assemble(*parts)
        if line.cell_length > width:  # narrower than even the pinned keys: keep their right end
            line = line[line.cell_length - width :] if width > 0 else Content("")
            shift = x - line.cell_length
            hits = [(max(0, s - shift), e - shift, k) for s, e, k in hits if e - shift > 0]
        self._hits = hits
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._hits:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
