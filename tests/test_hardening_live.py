"""hermes-browse beside a live agent (issue 5, item 1).

A simulator process (bench/agent_sim.py: the demo generator's history replayed through the
store's write API at a set rate) writes while the app runs with live refresh. The checks here are
outcomes, not timings: every acknowledged message is in the database with its content, the list
shows exactly the database's sessions, the pane following the growing conversation shows all of
it. The lags and stalls are figures printed by ``python -m bench.soak_live`` (docs/hardening.md).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from conftest import settle, until

from bench.soak_live import live_run
from store import SessionDB
from store.demo import generate
from tui.app import HermesBrowseApp
from tui.screens.main import MainScreen
from tui.widgets.conversation import ConversationPane


async def test_a_burst_of_writes_is_all_in_the_db_and_all_on_screen(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    generate(db, sessions=40, seed=7, now=time.time())
    figures = await live_run(db, rate=50, seconds=6, workdir=tmp_path, seed=5)
    print(f"\nburst 50 msg/s x 6 s: {figures.messages} messages, {figures.sessions} sessions; "
          f"longest stall {figures.stall_max * 1000:.0f} ms; catch-up {figures.catch_up_s * 1000:.0f} ms")
    assert figures.messages == 300 and figures.agent["messages"] == 300
    assert figures.missing_in_db == 0 and figures.wrong_in_db == 0
    assert figures.list_matches_db, "the session list does not show the database's newest sessions"
    assert figures.pane_complete, "the pane following the live conversation did not show all of it"
    assert figures.list_lag and figures.pane_lag  # the app saw the writes while they happened
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_live_refresh_goes_on_after_a_turn_that_is_a_lone_tool_result(tmp_path: Path) -> None:
    """A tool message that answers no call (an interrupted turn; rows another program wrote) is a
    turn of its own. The live refresh re-reads from the last turn's first message; the page used to
    reach back past it to a non-tool message, so the refresh never matched its window again and
    the pane stopped following the conversation for good."""
    db = tmp_path / "state.db"
    with SessionDB(db) as store:
        store.create_session("s1", "cli")
        store.append_message("s1", "user", "run the tests")
        store.append_message("s1", "assistant", "running them")
        store.append_message("s1", "tool", "lone result", tool_call_id="call_gone")
    writer = SessionDB(db)
    app = HermesBrowseApp(db, watch_changes=True, watch_interval=0.1)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, MainScreen)
            pane = screen.pane
            await until(pilot, lambda: pane.session_id == "s1" and not pane.busy)
            for n in range(3):
                new_id = writer.append_message("s1", "assistant", f"live answer {n}")
                await until(pilot, lambda new_id=new_id: bool(pane.heads())
                            and pane.heads()[-1].turn.last_id == new_id)
            assert [h.turn.first_id for h in pane.heads()] == sorted({h.turn.first_id for h in pane.heads()})
            assert len(pane.heads()) == 6  # user, assistant, the lone result, three live answers
    finally:
        writer.close()
        app.close_store()


async def test_following_a_growing_conversation_keeps_the_window_bounded(tmp_path: Path) -> None:
    """Each live append lays out and renders the whole window, so it must not grow without end
    while the pane follows the agent (a 50 msg/s burst stalled the UI past a second after a
    minute); and trimming the top must not stop the view from following the end."""
    db = tmp_path / "state.db"
    with SessionDB(db) as store:
        store.create_session("s1", "cli")
        store.append_message("s1", "user", "start")
    writer = SessionDB(db)
    app = HermesBrowseApp(db, watch_changes=True, watch_interval=0.1)
    limit = ConversationPane.LIVE_MAX_TURNS
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, MainScreen)
            pane = screen.pane
            await until(pilot, lambda: pane.session_id == "s1" and not pane.busy)
            last = 0
            for batch in range(12):
                for n in range(12):
                    last = writer.append_message("s1", "assistant", f"answer {batch}.{n}\nsecond line")
                await until(pilot, lambda last=last: bool(pane.heads()) and pane.heads()[-1].turn.last_id == last)
                assert len(pane.heads()) <= limit + 12
            await settle(pilot)
            scroller = pane.scroller
            assert scroller.scroll_y == scroller.max_scroll_y  # still following the end
            assert len(pane.heads()) <= limit
    finally:
        writer.close()
        app.close_store()
