"""Messages the app's widgets post upward (they bubble to the screen that composes them)."""

from __future__ import annotations

from textual.message import Message

from tui.data import SearchHit, SessionSummary


class SessionHighlighted(Message):
    """The session list's cursor rests on a (loaded) session; ``session`` is None when empty."""

    def __init__(self, session: SessionSummary | None, index: int) -> None:
        super().__init__()
        self.session = session
        self.index = index


class SessionChosen(Message):
    """Enter (or a click on the cursor row) in the session list: open it in the pane."""

    def __init__(self, session: SessionSummary) -> None:
        super().__init__()
        self.session = session


class ListCounted(Message):
    """The session list learned how many sessions match its filters."""

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total


class WalkLineage(Message):
    """``[`` / ``]`` on the list: open the parent (-1) or child (+1) of ``session_id``."""

    def __init__(self, session_id: str, step: int) -> None:
        super().__init__()
        self.session_id = session_id
        self.step = step


class HitChosen(Message):
    """Enter on a search hit: open its conversation at the hit, highlighting ``query``."""

    def __init__(self, hit: SearchHit, query: str) -> None:
        super().__init__()
        self.hit = hit
        self.query = query


class SearchFinished(Message):
    """A search's results were applied (``count`` hits shown) — the panel's title follows it."""

    def __init__(self, query: str, count: int) -> None:
        super().__init__()
        self.query = query
        self.count = count


class HistoryChanged(Message):
    """Sessions were renamed, deleted, pruned or written by another process: refresh views.

    ``session_ids`` names the sessions touched when known (None: anything may have changed);
    ``deleted`` is True when they no longer exist.
    """

    def __init__(self, session_ids: tuple[str, ...] | None = None, *, deleted: bool = False) -> None:
        super().__init__()
        self.session_ids = session_ids
        self.deleted = deleted
