"""Entry points the main screen (and the command palette) call to prune and export history.

``open_export(screen, session_ids=…, source=…, everything=…)`` pushes the export modal for that
scope and notifies "Exported N sessions to PATH" when done. ``open_prune(screen, source)`` pushes
the prune modal (refusing at once on a read-only store, saying why); after a prune that deleted
something it posts ``HistoryChanged(None, deleted=True)`` to ``screen`` so views refresh.
Both use ``screen.app.browser``.
"""

from __future__ import annotations

from textual.screen import Screen

from tui.data import Browser
from tui.messages import HistoryChanged
from tui.screens.export import ExportDone, ExportScreen
from tui.screens.prune import PruneDone, PruneScreen, describe_age, plural


def _browser(screen: Screen[object]) -> Browser | None:
    browser = getattr(screen.app, "browser", None)
    if browser is None:
        screen.notify("The session store is not open yet.", severity="warning", markup=False)
    return browser


def open_export(
    screen: Screen[object],
    *,
    session_ids: list[str] | None = None,
    source: str | None = None,
    everything: bool = False,
) -> None:
    """Export ``session_ids``, else the sessions of ``source``, else (or with ``everything``) all."""
    browser = _browser(screen)
    if browser is None:
        return
    if everything:
        session_ids, source = None, None

    def done(result: ExportDone | None) -> None:
        if result is None:
            return
        what = plural(result.count, "session")
        screen.notify(f"Exported {what} to {result.path}", title="Export", markup=False)

    screen.app.push_screen(ExportScreen(browser, session_ids=session_ids, source=source), done)


def open_prune(screen: Screen[object], source: str | None = None) -> None:
    """Prune old ended sessions (``source`` preselected); refuses at once when read-only."""
    browser = _browser(screen)
    if browser is None:
        return
    if browser.read_only:
        reason = browser.read_only_reason or "it was opened read-only"
        screen.notify(f"Can't prune: the session store is read-only ({reason}).",
                      title="Read-only", severity="warning", markup=False)
        return

    def done(result: PruneDone | None) -> None:
        if result is None:
            return
        if result.deleted:
            screen.post_message(HistoryChanged(None, deleted=True))
        if result.stopped:
            screen.notify(
                f"Prune cancelled: {plural(result.deleted, 'session')} deleted before it stopped, each whole; "
                "the rest were kept.", title="Prune", markup=False,
            )
        elif result.deleted:
            screen.notify(
                f"Pruned {plural(result.deleted, 'session')} idle for more than "
                f"{describe_age(result.preview.older_than_days)}.",
                title="Prune", markup=False,
            )
        else:
            screen.notify("Nothing was pruned: no session was old enough any more.", markup=False)

    screen.app.push_screen(PruneScreen(browser, source=source), done)
