"""Refusal paths of rename and delete the other tests do not reach: a database with a newer schema
(opened read-only by the store itself, so every write is refused with that reason), and a session
another process deleted while the app still shows it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import fixed_now, screen_text, settle, until

from store import SessionDB
from tui.app import HermesBrowseApp
from tui.data import Browser
from tui.screens.delete import DeleteScreen
from tui.screens.main import MainScreen

SIZE = (120, 40)


def main_screen(app: HermesBrowseApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


def notices(app: HermesBrowseApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def titles(path: Path) -> dict[str, str | None]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, title FROM sessions").fetchall())
    finally:
        conn.close()


async def test_newer_schema_refuses_rename_and_delete_saying_why(small_db: Path) -> None:
    conn = sqlite3.connect(small_db)
    with conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (99)")
    conn.close()
    before = titles(small_db)
    browser = Browser(SessionDB(small_db), now=fixed_now)  # not asked read-only: the store decides
    assert browser.read_only
    app = HermesBrowseApp(browser=browser, path_label="~/.hermes/state.db")
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            screen = main_screen(app)
            await pilot.press("r")
            await until(pilot, lambda: "Cannot rename sessions" in notices(app))
            assert screen.title_editor is None
            assert "schema version 99 is newer" in notices(app)
            await pilot.press("d")
            await until(pilot, lambda: "Cannot delete sessions" in notices(app))
            assert not isinstance(app.screen, DeleteScreen)
            assert notices(app).count("schema version 99 is newer") == 2
            # browsing still works: the list and the conversation are there
            assert screen.session_list.total and screen.session_list.current is not None
    finally:
        browser.close()
    assert titles(small_db) == before


def _delete_elsewhere(path: Path, session_id: str) -> None:
    """Another process (the agent, another hermes-browse) deletes a session."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE sessions SET parent_session_id = NULL WHERE parent_session_id = ?", (session_id,))
        conn.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
        conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
    conn.close()


async def test_delete_of_a_session_gone_meanwhile_says_so(small_db: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(small_db)  # no live refresh: the list still shows the session
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        current = screen.session_list.current
        assert current is not None
        _delete_elsewhere(small_db, current.id)
        await pilot.press("d")
        await until(pilot, lambda: "This session no longer exists." in notices(app))
        assert not isinstance(app.screen, DeleteScreen)
        assert app.is_running


async def test_rename_of_a_session_gone_meanwhile_says_so_under_the_editor(small_db: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(small_db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        current = screen.session_list.current
        assert current is not None
        await pilot.press("r")
        await until(pilot, lambda: screen.title_editor is not None)
        editor = screen.title_editor
        assert editor is not None
        _delete_elsewhere(small_db, current.id)
        editor.input.value = "A new name"
        await pilot.press("enter")
        await until(pilot, lambda: editor.error is not None)
        assert "no longer exists" in (editor.error or "")
        await until(pilot, lambda: "no longer exists" in screen_text(app))
        assert current.id not in titles(small_db)  # nothing was created in its place

