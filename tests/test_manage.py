"""Pilot tests of managing history from the main screen: inline rename, delete, the export / prune /
stats wiring, and the live refresh when another process writes to the database."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXED_TS, fixed_now, screen_text, settle, store_clock, until
from textual.command import CommandInput, CommandPalette

from store import SessionDB
from tui.app import HermesBrowseApp
from tui.data import Browser
from tui.screens.delete import DeleteScreen
from tui.screens.main import MainScreen
from tui.widgets.conversation import ConversationPane
from tui.widgets.title_editor import TitleEditor

SIZE = (120, 40)
MakeApp = Callable[..., HermesBrowseApp]


def main_screen(app: HermesBrowseApp) -> MainScreen:
    assert isinstance(app.screen, MainScreen)
    return app.screen


def titles(path: Path) -> dict[str, str | None]:
    with SessionDB(path, read_only=True) as db:
        return {s.id: s.title for s in Browser(db).sessions_page(0, 100)}


def notices(app: HermesBrowseApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def open_editor(pilot, app: HermesBrowseApp, down: int = 0) -> TitleEditor:  # type: ignore[no-untyped-def]
    await settle(pilot)
    for _ in range(down):
        await pilot.press("j")
    await pilot.press("r")
    await pilot.pause()
    editor = main_screen(app).title_editor
    assert editor is not None
    assert app.focused is editor.input
    return editor


async def submit(pilot, editor: TitleEditor, value: str) -> None:  # type: ignore[no-untyped-def]
    editor.input.value = value
    await pilot.press("enter")
    await settle(pilot)


# ── rename ──────────────────────────────────────────────────────────────────────────────────


async def test_rename_saves_and_shows_in_list_and_header(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, app, down=2)  # s-3h "Deploy the docs site"
        screen = main_screen(app)
        assert editor.input.value == "Deploy the docs site"
        await submit(pilot, editor, "Ship the docs")
        assert screen.title_editor is None
        assert titles(small_db)["s-3h"] == "Ship the docs"
        await until(pilot, lambda: "Ship the docs" in screen_text(app))
        lst = screen.session_list
        assert lst.cursor == 2 and lst.current is not None and lst.current.title == "Ship the docs"
        await until(pilot, lambda: "Ship the docs" in screen.pane.query_one("#conversation-header").plain())
        assert app.focused is lst


async def test_rename_in_the_conversation_pane(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("enter")  # open s-now, focus the pane
        await settle(pilot)
        assert isinstance(app.focused, ConversationPane)
        await pilot.press("r")
        await pilot.pause()
        editor = screen.title_editor
        assert editor is not None and editor.parent is screen.pane
        assert editor.input.value == "Fix the flaky login test"
        await submit(pilot, editor, "Fix the login test for good")
        assert titles(small_db)["s-now"] == "Fix the login test for good"
        await until(pilot, lambda: "Fix the login test for good" in screen_text(app))
        assert isinstance(app.focused, ConversationPane)


async def test_rename_refusal_for_a_duplicate_title_keeps_the_editor(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, app)
        await submit(pilot, editor, "Deploy the docs site")  # s-3h's title
        screen = main_screen(app)
        assert screen.title_editor is editor and app.focused is editor.input
        assert editor.error is not None and "already in use" in editor.error
        assert "in use by session s-3h" in screen_text(app)  # shown under the editor
        assert titles(small_db)["s-now"] == "Fix the flaky login test"
        await pilot.press("escape")  # then give up
        await pilot.pause()
        assert screen.title_editor is None
        assert titles(small_db)["s-now"] == "Fix the flaky login test"


async def test_rename_refusal_for_a_too_long_title(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, app)
        await submit(pilot, editor, "x" * 150)
        assert editor.error is not None and "too long" in editor.error.lower()
        assert main_screen(app).title_editor is editor
        assert titles(small_db)["s-now"] == "Fix the flaky login test"
        await submit(pilot, editor, "\u200b\u200b")  # only invisible characters
        assert editor.error is not None and "invisible" in editor.error
        assert titles(small_db)["s-now"] == "Fix the flaky login test"


async def test_rename_lineage_titles_keep_working(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, app, down=6)  # chain-3 "Long research #3"
        assert editor.input.value == "Long research #3"
        await submit(pilot, editor, "Long research #2")  # chain-2's: refused
        assert editor.error is not None and "already in use" in editor.error
        await submit(pilot, editor, "Long research #4")
        assert titles(small_db)["chain-3"] == "Long research #4"


async def test_saving_an_empty_title_removes_it(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, app)
        await submit(pilot, editor, "   ")
        assert titles(small_db)["s-now"] is None
        screen = main_screen(app)
        assert screen.title_editor is None
        # an untitled session shows its first user message instead
        await until(pilot, lambda: "the login test fails on kubernetes" in screen_text(app))
        assert screen.session_list.cursor == 0


async def test_escape_cancels_a_rename(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, app)
        editor.input.value = "Something else"
        await pilot.press("escape")
        await settle(pilot)
        screen = main_screen(app)
        assert screen.title_editor is None
        assert app.focused is screen.session_list
        assert titles(small_db)["s-now"] == "Fix the flaky login test"
        assert "Something else" not in screen_text(app)


async def test_read_only_refuses_rename_and_delete_with_the_reason(small_db: Path) -> None:
    browser = Browser(SessionDB(small_db, read_only=True), now=fixed_now)
    app = HermesBrowseApp(browser=browser, path_label="~/.hermes/state.db")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = main_screen(app)
            await pilot.press("r")
            await pilot.pause()
            assert screen.title_editor is None
            assert "Cannot rename sessions: the database is read-only (opened read-only)" in notices(app)
            await pilot.press("d")
            await settle(pilot)
            assert not isinstance(app.screen, DeleteScreen)
            assert "Cannot delete sessions: the database is read-only (opened read-only)" in notices(app)
            assert screen.session_list.total == 9  # 11 sessions; the chain of three is one row
    finally:
        browser.close()
    assert titles(small_db)["s-now"] == "Fix the flaky login test"


# ── delete ──────────────────────────────────────────────────────────────────────────────────


async def test_delete_asks_then_deletes_and_keeps_the_cursor_index(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("j", "j")  # s-3h
        await settle(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteScreen))
        text = screen_text(app)
        assert "Delete the docs site" not in text
        assert "“Deploy the docs site”" in text and "2 messages will be deleted" in text
        assert "It has no child sessions." in text
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert "s-3h" not in titles(small_db)
        lst = screen.session_list
        await until(pilot, lambda: lst.total == 8 and lst.current is not None and lst.current.id == "s-yday")
        assert lst.cursor == 2
        await until(pilot, lambda: screen.pane.session_id == "s-yday" and screen.pane.detail is not None)
        assert "10 sessions" in screen_text(app)


async def test_cancel_keeps_everything(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteScreen))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteScreen))
        await pilot.click("#no")
        await settle(pilot)
        assert app.screen is screen
        assert len(titles(small_db)) == 11
        assert screen.session_list.total == 9 and screen.session_list.cursor == 0


async def test_deleting_a_parent_keeps_its_child_detached(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("c")  # every segment of the chain on its own row
        await settle(pilot)
        for _ in range(7):  # chain-2, parent of chain-3
            await pilot.press("j")
        await settle(pilot)
        assert screen.session_list.current is not None and screen.session_list.current.id == "chain-2"
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DeleteScreen))
        assert "1 child session is kept, and detached from it" in screen_text(app)
        await pilot.click("#yes")
        await settle(pilot)
        with SessionDB(small_db, read_only=True) as db:
            assert db.get_session("chain-2") is None
            child = db.get_session("chain-3")
            assert child is not None and child.get("parent_session_id") is None
        lst = screen.session_list
        await until(pilot, lambda: lst.total == 10 and lst.current is not None and lst.current.id == "chain-1")
        assert lst.cursor == 7


# ── live refresh ────────────────────────────────────────────────────────────────────────────


async def test_another_process_writing_shows_up_within_a_second(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db, watch_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        await pilot.press("j")  # s-5m, shown in the pane
        await settle(pilot)
        assert screen.pane.session_id == "s-5m"
        before_heads = len(screen.pane.heads())
        with store_clock(FIXED_TS + 5) as clock, SessionDB(small_db) as other:  # another connection set
            other.create_session("s-new", "cli", model="gpt-5")
            other.set_session_title("s-new", "Brand new session")
            other.append_message("s-new", "user", "hello from elsewhere")
            clock.t = FIXED_TS + 6
            other.append_message("s-5m", "user", "and one more question about keys")
        waited = 0.0
        while waited < 1.5 and not (
            lst.total == 10 and "and one more question about keys" in screen_text(app)
        ):
            await pilot.pause(0.05)
            waited += 0.05
        assert lst.total == 10, "the new session did not appear in time"  # 9 rows (a chain is one) + 1
        assert "and one more question about keys" in screen_text(app), "the new message did not appear"
        assert lst.current is not None and lst.current.id == "s-5m"  # the cursor stays on its session
        assert len(screen.pane.heads()) == before_heads + 1
        assert screen.pane.session_id == "s-5m"
        assert "3 messages" in screen.pane.query_one("#conversation-header").plain()


# ── the other engineers' screens ────────────────────────────────────────────────────────────

HAVE_ACTIONS = importlib.util.find_spec("tui.actions") is not None
HAVE_STATS = importlib.util.find_spec("tui.screens.stats") is not None


async def palette(pilot, app: HermesBrowseApp, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    app.screen.query_one(CommandInput).value = text
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause()


@pytest.mark.skipif(not HAVE_ACTIONS, reason="tui/actions.py is not there yet")
async def test_e_and_the_palette_open_export_and_prune(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        for keys in (["e"], ["palette", "Export: current filter"], ["palette", "Export: everything"],
                     ["palette", "Prune: old sessions"]):
            if keys[0] == "palette":
                await palette(pilot, app, keys[1])
            else:
                await pilot.press(*keys)
            await until(pilot, lambda: app.screen is not screen and not isinstance(app.screen, CommandPalette))
            await settle(pilot)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is screen)
        assert len(titles(small_db)) == 11


@pytest.mark.skipif(not HAVE_STATS, reason="tui/screens/stats.py is not there yet")
async def test_stats_opens_from_its_key_and_the_palette(small_db: Path, make_app: MakeApp) -> None:
    from tui.screens.stats import StatsScreen

    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, StatsScreen))
        await settle(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await palette(pilot, app, "Stats")
        await until(pilot, lambda: isinstance(app.screen, StatsScreen))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)


async def test_palette_renames_and_deletes(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await palette(pilot, app, "Rename session")
        await settle(pilot)
        editor = screen.title_editor
        assert editor is not None and app.focused is editor.input
        await pilot.press("escape")
        await pilot.pause()
        await palette(pilot, app, "Delete session")
        await until(pilot, lambda: isinstance(app.screen, DeleteScreen))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)


async def test_missing_actions_module_is_a_notification(small_db: Path, make_app: MakeApp,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "tui.actions", None)  # import fails
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert "Export is not available" in notices(app)
        assert isinstance(app.screen, MainScreen)



async def test_live_messages_follow_only_when_the_view_is_at_the_bottom(small_db: Path, make_app: MakeApp) -> None:
    with store_clock(FIXED_TS - 4 * 60) as clock, SessionDB(small_db) as db:
        for i in range(30):
            clock.t += 1
            db.append_message("s-5m", "user" if i % 2 == 0 else "assistant", f"filler {i}\n\nmore text")
    app = make_app(small_db, watch_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        await pilot.press("j")
        await settle(pilot, 2)
        pane = screen.pane
        scroller = pane.scroller
        assert pane.session_id == "s-5m" and scroller.max_scroll_y > 10
        assert scroller.scroll_y == scroller.max_scroll_y  # opened at the end

        def last_text() -> str:
            return pane.heads()[-1].turn.message.content or ""

        with SessionDB(small_db) as other:
            other.append_message("s-5m", "user", "live at the bottom")
        await until(pilot, lambda: last_text() == "live at the bottom", timeout=1.5)
        await pilot.pause(0.1)
        assert scroller.scroll_y == scroller.max_scroll_y  # followed

        scroller.scroll_to(y=3, animate=False, immediate=True)
        await pilot.pause()
        with SessionDB(small_db) as other:
            other.append_message("s-5m", "assistant", "live while reading above")
        await until(pilot, lambda: last_text() == "live while reading above", timeout=1.5)
        await pilot.pause(0.1)
        assert scroller.scroll_y == 3  # not moved
        assert screen.session_list.current is not None and screen.session_list.current.id == "s-5m"


async def test_a_new_session_at_the_top_does_not_move_the_view(many_db: Path, make_app: MakeApp) -> None:
    app = make_app(many_db, watch_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = main_screen(app).session_list
        await pilot.press("pagedown", "pagedown", "j", "j")
        await settle(pilot)
        before = lst.current
        assert before is not None and lst.scroll_offset.y > 0
        on_screen = lst.cursor * lst.ROW_HEIGHT - lst.scroll_offset.y
        total = lst.total
        with store_clock(FIXED_TS + 60), SessionDB(many_db) as other:
            other.create_session("m-new", "cli")
            other.append_message("m-new", "user", "fresh")
        await until(pilot, lambda: lst.total == total + 1, timeout=1.5)
        await pilot.pause()
        assert lst.current is not None and lst.current.id == before.id
        assert lst.cursor * lst.ROW_HEIGHT - lst.scroll_offset.y == on_screen
        assert lst.row_at(0) is not None and lst.row_at(0).id == "m-new"


async def test_the_list_editor_follows_its_row_when_a_session_arrives(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db, watch_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, app, down=1)  # s-5m
        lst = main_screen(app).session_list
        y = editor.region.y
        with store_clock(FIXED_TS + 60), SessionDB(small_db) as other:
            other.create_session("s-newer", "cli")
            other.append_message("s-newer", "user", "newest of all")
        await until(pilot, lambda: lst.total == 10, timeout=1.5)  # 9 rows (a chain is one) + 1
        await until(pilot, lambda: editor.region.y == y + lst.ROW_HEIGHT, timeout=0.5)
        assert lst.current is not None and lst.current.id == "s-5m"
        assert app.focused is editor.input
