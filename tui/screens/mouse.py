"""``IgnoreDetached``: a screen whose mouse handling never picks a widget already removed from it.

Textual 8.2 finds the widget under the mouse in the screen's compositor map, which is only rebuilt at
the next layout. Between a widget's removal and that layout, a mouse button pressed over it found the
removed widget, whose parent is gone, and ``Screen._forward_event`` crashed the app on
``container.region`` (``AttributeError: 'NoneType' object has no attribute 'region'``). The monkey
(``tests/test_hardening_monkey.py``, seed 1, normal, events 317-964) clicked on the key panel that
the palette's "Keys" command had just closed; trimmed conversation turns and a closed title editor
leave the same window. With this mixin first among a screen's bases, a removed widget counts as
nothing there (the press goes to the screen, as over an empty cell).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.geometry import Offset
    from textual.screen import Screen
    from textual.widget import Widget

    _ScreenBase = Screen[Any]
else:
    _ScreenBase = object


def _detached(widget: Widget, screen: Screen[Any]) -> bool:
    """Removed (or being removed) from ``screen``: no parent, not attached, or pruning."""
    if widget is screen:
        return False
    return widget.parent is None or not widget.is_attached or widget._pruning


class IgnoreDetached(_ScreenBase):
    """Mixin for ``Screen`` subclasses: put it before ``Screen[T]`` / ``ModalScreen[T]`` in the bases."""

    def get_widget_and_offset_at(self, x: int, y: int) -> tuple[Widget | None, Offset | None]:
        widget, offset = super().get_widget_and_offset_at(x, y)
        if widget is not None and _detached(widget, self):
            return None, None
        return widget, offset
