"""Snapshots of the conversation pane (120x40, fixed clock, fixed data).

Accept new or changed pictures with ``pytest tests/test_conversation_snapshots.py --snapshot-update``
after looking at them (``snapshot_report.html``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from store import SessionDB
from tui.data import Browser
from tui.widgets.conversation import ConversationPane

try:
    from test_conversation import FIXED_DT, HOSTILE, MAIN, Harness, build_conversation_db, settle
except ImportError:  # tests/ imported as a package
    from tests.test_conversation import (  # type: ignore[no-redef]
        FIXED_DT,
        HOSTILE,
        MAIN,
        Harness,
        build_conversation_db,
        settle,
    )

SIZE = (120, 40)
SnapCompare = Callable[..., bool]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Harness]:
    path = tmp_path / "t.db"
    build_conversation_db(path)
    browser = Browser(SessionDB(path), now=lambda: FIXED_DT)
    yield Harness(browser)
    browser.close()


def opening(session_id: str, **kwargs: Any) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        pilot.app.query_one(ConversationPane).show_session(session_id, **kwargs)
        await settle(pilot, pilot.app)

    return run_before


def test_conversation_with_folds_closed(snap_compare: SnapCompare, app: Harness) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(MAIN))


def test_conversation_with_folds_open(snap_compare: SnapCompare, app: Harness) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(MAIN), press=["f", "home"])


def test_conversation_opened_at_a_search_hit(snap_compare: SnapCompare, app: Harness) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(MAIN, message_id=4, highlight="health"))


def test_conversation_with_hostile_content(snap_compare: SnapCompare, app: Harness) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(HOSTILE), press=["f", "home"])
