"""``DismissOnTop``: a screen that dismisses at most once, and only while it is the screen on top.

Textual 8.2's ``Screen.dismiss`` calls the screen's result callback and then pops **whatever screen is on
top**. So a dismiss that arrives late closes the wrong screen. The monkey (``tests/test_hardening_monkey.py``)
found three routes: a button press still queued when ctrl+p opened the command palette over a dialog
closed the palette in the dialog's place (the dialog then answered twice: ``InvalidStateError``, or the main
screen closed under it); two quick answers (``y``, then enter on the focused button) dismissed one dialog
twice; and a key typed right after the one that opened a dialog dismissed it while it was still composing,
so its ``on_mount`` found its widgets removed (``NoMatches``).

With this mixin first among a screen's bases, ``dismiss(result)``:
- on top, mounted, not yet dismissed: dismisses, once;
- under another screen (a palette opened over it), or still composing: keeps the first result and dismisses
  when the screen is on top again (``ScreenResume``, which a pushed screen also receives once mounted);
- already dismissed, or no longer on the stack: does nothing.
"""

from __future__ import annotations

from typing import Any

from textual.await_complete import AwaitComplete

from tui.screens.mouse import IgnoreDetached


class DismissOnTop(IgnoreDetached):
    """Mixin for ``Screen`` subclasses: put it before ``ModalScreen[T]`` / ``Screen[T]`` in the bases.
    (It also ignores removed widgets under the mouse: ``tui.screens.mouse``.)"""

    _dismiss_done: bool = False
    _dismiss_pending: tuple[Any] | None = None  # (result,) waiting for this screen to be on top again

    def dismiss(self, result: Any = None) -> AwaitComplete:
        if self._dismiss_done or not self.is_attached or self not in self.app.screen_stack:
            return AwaitComplete()
        if self.app.screen is not self or not self.is_mounted:
            if self._dismiss_pending is None:
                self._dismiss_pending = (result,)
            return AwaitComplete()
        self._dismiss_done = True
        self._dismiss_pending = None
        return super().dismiss(result)

    def on_screen_resume(self) -> None:
        # Textual calls every class's own handler along the MRO, so a subclass's on_screen_resume runs too.
        if self._dismiss_pending is not None and not self._dismiss_done:
            (result,) = self._dismiss_pending
            self._dismiss_pending = None
            self.dismiss(result)
