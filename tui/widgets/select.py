"""``GuardedSelect``: Textual's ``Select`` whose drop-down list never pages through lines it has not built.

Textual 8.2's ``OptionList`` pages with a line map it builds only once it has a size: pagedown or
pageup on a list with no height (the drop-down before it has been laid out, or while it closes) looked
up line 0 of an empty map and crashed the app with ``KeyError: 0`` (the monkey, seed 1, normal, event
1718: the prune dialog's source list). The palette's hits list had the same fault (``tui.commands``).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Select
from textual.widgets._select import SelectCurrent, SelectOverlay


class GuardedSelectOverlay(SelectOverlay):
    """The drop-down list: page keys do nothing until its lines exist."""

    def _can_page(self) -> bool:
        return bool(self._lines) and bool(self.scrollable_content_region.height)

    def action_page_up(self) -> None:
        if self._can_page():
            super().action_page_up()

    def action_page_down(self) -> None:
        if self._can_page():
            super().action_page_down()


class GuardedSelect(Select[Any]):
    """``Select`` with ``GuardedSelectOverlay`` as its drop-down (found by Textual as ``SelectOverlay``)."""

    def compose(self) -> ComposeResult:
        yield SelectCurrent(self.prompt)
        yield GuardedSelectOverlay(type_to_search=self._type_to_search).data_bind(compact=Select.compact)
