"""Live refresh of the session list when the agent writes to the session under the cursor.

The list is ordered by last activity, so a new message sorts that session to the top. Following it
there moved the view to the top (an audit found cursor 30, scroll 30 become 0 and 0). The issue asks
that new data arrive "without moving the cursor or the scroll position": the session stays drawn
where it was until the cursor moves, then sorts in, with the row the user moved to kept in place.
"""

from __future__ import annotations

from pathlib import Path

from conftest import FIXED_TS, settle, store_clock, until

from store import SessionDB
from tui.app import HermesBrowseApp
from tui.screens.main import MainScreen
from tui.widgets.session_list import SessionList

SIZE = (120, 40)


def session_list(app: HermesBrowseApp) -> SessionList:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen.session_list


def on_screen_row(lst: SessionList) -> float:
    return lst.cursor * lst.ROW_HEIGHT - lst.scroll_offset.y


async def scrolled_down(pilot, app: HermesBrowseApp) -> SessionList:  # type: ignore[no-untyped-def]
    await settle(pilot)
    lst = session_list(app)
    await pilot.press("pagedown", "pagedown", "k", "k", "k", "k", "k")  # down the list, mid-view
    await settle(pilot)
    assert lst.scroll_offset.y > 0 and lst.cursor > 20
    view = lst.scrollable_content_region.height
    assert 2 * lst.ROW_HEIGHT <= on_screen_row(lst) <= view - 3 * lst.ROW_HEIGHT
    return lst


def agent_writes(path: Path, session_id: str, at: float = FIXED_TS + 60) -> None:
    with store_clock(at), SessionDB(path) as agent:
        agent.append_message(session_id, "assistant", "the agent goes on")


async def test_new_activity_in_the_session_under_the_cursor_moves_nothing(many_db: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(many_db, watch_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        lst = await scrolled_down(pilot, app)
        before = lst.current
        assert before is not None
        cursor, scroll = lst.cursor, lst.scroll_offset.y
        below, above = lst.row_at(cursor + 1), lst.row_at(cursor - 1)
        assert below is not None and above is not None
        count = before.message_count
        agent_writes(many_db, before.id)
        await until(pilot, lambda: lst.current is not None and lst.current.message_count == count + 1, timeout=3)
        await pilot.pause()
        # the same session, at the same place; nothing else on screen moved
        assert lst.current.id == before.id
        assert (lst.cursor, lst.scroll_offset.y) == (cursor, scroll)
        assert lst.row_at(cursor + 1).id == below.id and lst.row_at(cursor - 1).id == above.id
        # the agent goes on writing: still held
        agent_writes(many_db, before.id, FIXED_TS + 120)
        await until(pilot, lambda: lst.current is not None and lst.current.message_count == count + 2, timeout=3)
        await pilot.pause()
        assert (lst.current.id, lst.cursor, lst.scroll_offset.y) == (before.id, cursor, scroll)
        # moving the cursor: the row moved to stays where it is on screen; the session sorts in at the top
        row_below_on_screen = on_screen_row(lst) + lst.ROW_HEIGHT
        await pilot.press("j")
        await pilot.pause()
        assert lst.current is not None and lst.current.id == below.id
        assert on_screen_row(lst) == row_below_on_screen
        assert lst.row_at(0) is not None and lst.row_at(0).id == before.id


async def test_moving_up_from_a_held_row_keeps_the_row_moved_to_in_place(many_db: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(many_db, watch_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        lst = await scrolled_down(pilot, app)
        before = lst.current
        above = lst.row_at(lst.cursor - 1)
        assert before is not None and above is not None
        agent_writes(many_db, before.id)
        await until(pilot, lambda: lst.current is not None and lst.current.message_count == before.message_count + 1,
                    timeout=3)
        await pilot.pause()
        row_above_on_screen = on_screen_row(lst) - lst.ROW_HEIGHT
        await pilot.press("k")
        await pilot.pause()
        assert lst.current is not None and lst.current.id == above.id
        assert on_screen_row(lst) == row_above_on_screen
        assert lst.row_at(0).id == before.id


async def test_a_session_that_did_not_move_itself_is_followed_as_before(many_db: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    """Another session's activity (rows above change) keeps the cursor's session at its place on
    screen by scrolling, as before; nothing is held."""
    app = make_app(many_db, watch_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        lst = await scrolled_down(pilot, app)
        before = lst.current
        assert before is not None
        on_screen = on_screen_row(lst)
        far_below = lst.row_at(lst.cursor + 5)
        assert far_below is not None
        agent_writes(many_db, far_below.id)  # sorts to the top, above the cursor's session
        await until(pilot, lambda: lst.row_at(0) is not None and lst.row_at(0).id == far_below.id, timeout=3)
        await pilot.pause()
        assert lst.current is not None and lst.current.id == before.id
        assert on_screen_row(lst) == on_screen
        assert lst._hold is None
