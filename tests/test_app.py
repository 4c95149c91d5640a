"""Pilot tests of hermes-browse's main screen: list, paging, filters, search, lineage, errors."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import (
    FIXED_DT,
    FIXED_TS,
    HOSTILE_TITLE,
    build_small_db,
    fixed_now,
    screen_text,
    settle,
    store_clock,
    until,
)
from textual.command import CommandInput, CommandPalette
from textual.widgets import Input

from store import SessionDB
from tui.app import HermesBrowseApp
from tui.data import SearchResult
from tui.screens.error import ErrorScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.widgets.conversation import ConversationPane
from tui.widgets.search_panel import snippet_content
from tui.widgets.session_list import SessionList

SIZE = (120, 40)
MakeApp = Callable[..., HermesBrowseApp]


def main_screen(app: HermesBrowseApp) -> MainScreen:
    assert isinstance(app.screen, MainScreen)
    return app.screen


def spy_search(app: HermesBrowseApp, delay: dict[str, float] | None = None) -> list[str]:
    """Record every query the search panel sends to the store (optionally slowing some)."""
    calls: list[str] = []
    real = app.browser.search

    def search(query: str, **kwargs: Any) -> SearchResult:
        calls.append(query)
        if delay and query in delay:
            time.sleep(delay[query])
        return real(query, **kwargs)

    app.browser.search = search  # type: ignore[method-assign]
    return calls


def spy_pane(app: HermesBrowseApp) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    pane = main_screen(app).pane
    real = pane.show_session

    def show_session(session_id: str, **kwargs: Any) -> None:
        calls.append((session_id, kwargs))
        real(session_id, **kwargs)

    pane.show_session = show_session  # type: ignore[method-assign]
    return calls


# ── the session list ──────────────────────────────────────────────────────────────────────


async def test_list_is_newest_first_with_relative_times(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = main_screen(app).session_list
        assert lst.total == 9  # the chain of three is one row: its newest part
        ids = [row.id for i in range(lst.total) if (row := lst.row_at(i))]
        assert ids == ["s-now", "s-5m", "s-3h", "s-yday", "s-3d", "s-err", "chain-3", "s-empty", "s-old"]
        text = screen_text(app)
        for when in ("just now", "5m ago", "3h ago", "yesterday", "3d ago", "4d ago", "Jan 29"):
            assert when in text
        assert "how do I rotate the API keys" in text  # an untitled session shows its preview
        assert "⛓ 3 parts" in text and "#2 of 3" not in text and "#1 of 3" not in text
        assert "error" in text and "empty" in text
        assert "11 sessions" in text and "~/.hermes/state.db" in text  # the top bar counts every session
        assert app.focused is lst


async def test_highlight_shows_the_session_after_a_debounce(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.pane.session_id == "s-now"
        calls = spy_pane(app)
        await pilot.press("j", "j", "j")  # three quick moves: one load, for where the cursor rests
        await settle(pilot)
        assert [sid for sid, _ in calls] == ["s-yday"]
        await pilot.press("k")
        await settle(pilot)
        assert screen.pane.session_id == "s-3h"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.focused, ConversationPane)
        await pilot.press("tab")
        assert app.focused is screen.session_list
        await pilot.press("tab")
        assert isinstance(app.focused, ConversationPane)
        await pilot.press("escape")
        assert app.focused is screen.session_list


async def test_paging_jumps_to_the_end_and_loads_only_the_last_page(many_db: Path, make_app: MakeApp) -> None:
    app = make_app(many_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = main_screen(app).session_list
        assert lst.total == 3000
        assert lst.loaded_pages() == [0]
        assert "Session number 02999" in screen_text(app)
        await pilot.press("end")
        await settle(pilot)
        assert lst.cursor == 2999
        assert lst.current is not None and lst.current.id == "m00000"
        assert 29 in lst.loaded_pages() and len(lst.loaded_pages()) <= 3
        text = screen_text(app)
        assert "Session number 00000" in text and "…" not in text.split("Session number 00000")[0][-10:]
        await pilot.press("pageup", "home")
        await settle(pilot)
        assert lst.cursor == 0 and lst.scroll_offset.y == 0


async def test_source_filter_cycles_and_shows_itself(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        await pilot.press("s")  # sources in order: cli, discord, slack, telegram
        await settle(pilot)
        assert lst.filters.source == "cli" and lst.total == 6  # 8 sessions, a chain of 3 as one row
        assert "source cli" in screen_text(app)
        await pilot.press("s", "s")
        await settle(pilot)
        assert lst.filters.source == "slack" and lst.total == 1
        assert lst.current is not None and lst.current.id == "s-old"
        assert screen.pane.session_id == "s-old"
        await pilot.press("s", "s")
        await settle(pilot)
        assert lst.filters.source is None and lst.total == 9
        assert "source all" in screen_text(app)


async def test_type_to_filter_on_title_and_id(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        await pilot.press("t", *"research")
        assert app.focused is screen.filter_input
        await settle(pilot)
        assert lst.total == 3  # a title filter lists every segment of a chain, not only its tip
        assert {lst.row_at(i).id for i in range(3)} == {"chain-1", "chain-2", "chain-3"}  # type: ignore[union-attr]
        assert "↳ #2 of 3" in screen_text(app) and "⛓" not in screen_text(app)
        screen.filter_input.value = "zzz-nothing"
        await settle(pilot)
        assert lst.total == 0
        assert "No sessions match" in screen_text(app)
        await pilot.press("escape")  # back to the list, filter kept
        assert app.focused is lst and screen.filter_input.value == "zzz-nothing"
        await pilot.press("escape")  # clears it
        await settle(pilot)
        assert screen.filter_input.value == "" and lst.total == 9


async def test_walking_a_chain_from_its_one_row(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        assert lst.select_id("chain-3") and not lst.select_id("chain-2")  # the chain's row is its tip
        await settle(pilot)
        assert screen.pane.session_id == "chain-3"
        await pilot.press("left_square_bracket")  # [ from the row: the parent segment, in the pane
        await settle(pilot)
        assert screen.pane.session_id == "chain-2"
        assert app.focused is lst and lst.current is not None and lst.current.id == "chain-3"  # the row stays
        await pilot.press("left_square_bracket")  # again: on from the segment shown
        await settle(pilot)
        assert screen.pane.session_id == "chain-1" and lst.current.id == "chain-3"
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert any("no parent session" in str(n.message) for n in app._notifications)
        await pilot.press("right_square_bracket", "wait:50")
        await settle(pilot)
        assert screen.pane.session_id == "chain-2"
        await pilot.press("tab", "right_square_bracket")  # the pane's own ] goes on to the tip
        await settle(pilot)
        assert screen.pane.session_id == "chain-3" and lst.current.id == "chain-3"
        await pilot.press("tab", "j", "k")  # moving away and back shows the row's session again
        await settle(pilot)
        assert screen.pane.session_id == "chain-3"


async def test_the_cursor_follows_its_chain_when_the_agent_compresses_it_again(
    small_db: Path, make_app: MakeApp
) -> None:
    app = make_app(small_db, watch_changes=True, watch_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        assert lst.select_id("chain-3")
        await settle(pilot)
        with store_clock(FIXED_TS), SessionDB(small_db) as agent:  # the agent compresses: a new tip
            agent.end_session("chain-3", "compression")
            agent.create_session("chain-4", "cli", model="claude-sonnet-4", parent_session_id="chain-3")
            agent.append_message("chain-4", "user", "continue once more")
        cursor = lst.cursor
        # the chain's row stays where it is (tests/test_live_list.py), now showing the new tip
        await until(pilot, lambda: lst.current is not None and lst.current.id == "chain-4")
        await settle(pilot)
        assert lst.total == 9 and lst.cursor == cursor
        assert "⛓ 4 parts" in screen_text(app)
        await until(pilot, lambda: screen.pane.session_id == "chain-4")


async def test_the_segment_toggle_lists_every_part_of_a_chain(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        await pilot.press("c")
        await settle(pilot)
        assert lst.filters.every_segment and lst.total == 11
        ids = [row.id for i in range(lst.total) if (row := lst.row_at(i))]
        assert ids[6:9] == ["chain-3", "chain-2", "chain-1"]
        text = screen_text(app)
        assert "↳ #3 of 3" in text and "↳ #2 of 3" in text and "◇ #1 of 3" in text and "⛓" not in text
        assert "Sessions · every segment" in text and "11 sessions" in text
        await pilot.press("s")  # the toggle survives a source change
        await settle(pilot)
        assert lst.filters.every_segment and lst.filters.source == "cli" and lst.total == 8
        await pilot.press("s", "s", "s", "s")
        await settle(pilot)
        assert lst.filters.source is None and lst.total == 11
        await pilot.press("c")
        await settle(pilot)
        assert not lst.filters.every_segment and lst.total == 9 and "⛓ 3 parts" in screen_text(app)


async def test_the_palette_toggles_chain_segments(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = main_screen(app).session_list
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        app.screen.query_one(CommandInput).value = "chain segments"
        await pilot.pause(0.4)
        await pilot.press("enter")
        await settle(pilot)
        assert lst.filters.every_segment and lst.total == 11


async def test_the_title_filter_finds_an_old_segment_by_its_id(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        await pilot.press("t", *"chain-1")
        await settle(pilot)
        assert lst.total == 1 and lst.current is not None and lst.current.id == "chain-1"
        assert "◇ #1 of 3" in screen_text(app)
        await pilot.press("enter")  # to the list
        await settle(pilot)
        assert screen.pane.session_id == "chain-1"
        await pilot.press("right_square_bracket")  # its row is that segment: ] is its child
        await settle(pilot)
        assert screen.pane.session_id == "chain-2"


async def test_typing_an_unbound_letter_on_the_list_starts_the_filter(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        assert "m" not in screen.active_bindings and "l" not in screen.active_bindings
        await pilot.press(*"long")
        assert app.focused is screen.filter_input and screen.filter_input.value == "long"
        assert screen.filter_input.cursor_position == 4 and screen.filter_input.selected_text == ""
        await settle(pilot)
        assert lst.total == 3  # "Long research" and its two sequels: every segment, as a filter is typed
        await pilot.press("escape", "escape")  # to the list, then clear the filter
        await settle(pilot)
        assert lst.total == 9 and app.focused is lst
        await pilot.press("M")  # capitals too
        assert app.focused is screen.filter_input and screen.filter_input.value == "M"


async def test_a_bound_letter_on_the_list_keeps_its_action(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        await pilot.press("j")
        assert app.focused is lst and lst.cursor == 1 and screen.filter_input.value == ""
        await pilot.press("s")
        await settle(pilot)
        assert app.focused is lst and lst.filters.source == "cli" and screen.filter_input.value == ""
        await pilot.press("space")  # blanks and keys that are not characters do nothing here
        assert app.focused is lst and screen.filter_input.value == ""


async def test_fast_typing_on_the_list_lands_whole_in_the_filter(small_db: Path, make_app: MakeApp) -> None:
    """Keys queued before the filter has the focus follow the first one, bound or not ("merge":
    e and r are bound to export and rename)."""
    from test_hardening_monkey import type_ahead

    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        type_ahead(app, *"merge")
        await until(pilot, lambda: screen.filter_input.value == "merge")
        await settle(pilot)
        assert app.focused is screen.filter_input and app.screen is screen
        assert screen.title_editor is None and screen.session_list.total == 0


async def test_walking_the_lineage_from_the_list_and_the_pane(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        await pilot.press("c")  # every segment on its own row
        await settle(pilot)
        assert lst.select_id("chain-2")
        await settle(pilot)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.pane.session_id == "chain-1"
        assert lst.current is not None and lst.current.id == "chain-1"
        await pilot.press("right_square_bracket", "wait:50")
        await settle(pilot)
        assert screen.pane.session_id == "chain-2"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.pane.session_id == "chain-3" and lst.current.id == "chain-3"  # type: ignore[union-attr]
        # the pane asks too (its own [ and ] keys post OpenSessionRequested)
        screen.pane.post_message(ConversationPane.OpenSessionRequested("s-old"))
        await settle(pilot)
        assert screen.pane.session_id == "s-old" and lst.current.id == "s-old"  # type: ignore[union-attr]
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert any("no child session" in str(n.message) for n in app._notifications)


# ── search ────────────────────────────────────────────────────────────────────────────────


async def test_search_is_debounced_to_the_last_query(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        calls = spy_search(app)
        screen = main_screen(app)
        screen.search_panel.debounce = 0.5  # keys from Pilot on a busy 2-core CI box can be 200 ms apart
        await pilot.press("slash", *"kuber")
        assert app.focused is screen.search_input
        await settle(pilot)
        assert calls == ["kuber"]  # five fast keys, one query: the last one (prefix on the last word)
        assert screen.search_panel.applied == ["kuber"]
        assert {h.session_id for h in screen.search_panel.hits} == {"s-now", "s-3h", "s-yday"}
        text = screen_text(app)
        assert "3 hits for “kuber”" in text
        assert "Search" in text
        await pilot.press("escape")  # from the search bar: back to the list, the query kept
        assert app.focused is screen.session_list and not screen.searching
        assert screen.search_input.value == "kuber"
        await pilot.press("slash")  # and back to the results
        assert screen.searching and app.focused is screen.search_input


async def test_an_older_query_never_replaces_a_newer_one(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        calls = spy_search(app, delay={"postgres": 0.8})
        screen = main_screen(app)
        screen.search_input.focus()
        screen.search_input.value = "postgres"
        await until(pilot, lambda: calls == ["postgres"])  # the slow query is running
        screen.search_input.value = "kubernetes"
        await until(pilot, lambda: screen.search_panel.applied == ["kubernetes"])
        await pilot.pause(1.0)  # the slow, older query finishes meanwhile
        await settle(pilot)
        assert screen.search_panel.applied == ["kubernetes"]
        assert screen.search_panel.stale_dropped <= 1
        assert {h.session_id for h in screen.search_panel.hits} == {"s-now", "s-3h", "s-yday"}


async def test_zero_results_say_so_and_say_when_a_filter_hides_hits(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.search_input.value = "qqqzzznothing"
        await settle(pilot)
        assert "No results for “qqqzzznothing”." in screen_text(app)
        screen.set_source("cli")
        screen.search_input.value = "postgres"
        await settle(pilot)
        text = screen_text(app)
        assert "No results for “postgres” in source cli" in text
        assert "in other sources" in text


async def test_search_errors_show_in_the_panel(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        def broken(query: str, **kwargs: Any) -> SearchResult:
            raise sqlite3.OperationalError("disk I/O error [bold]x[/]")

        app.browser.search = broken  # type: ignore[method-assign]
        screen = main_screen(app)
        screen.search_input.value = "anything"
        await settle(pilot)
        assert "Search failed: disk I/O error [bold]x[/]" in screen_text(app)


async def test_enter_on_a_hit_opens_the_conversation_at_that_message(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        calls = spy_pane(app)
        await pilot.press("slash", *"kubernetes", "enter")
        await settle(pilot)
        assert app.focused is screen.search_panel.results
        await pilot.press("down", "enter")
        await settle(pilot)
        hit = screen.search_panel.hits[1]
        assert calls[-1] == (hit.session_id, {"message_id": hit.message_id, "highlight": "kubernetes"})
        assert isinstance(app.focused, ConversationPane)
        assert screen.pane.session_id == hit.session_id
        await pilot.press("escape")  # back to the results
        assert app.focused is screen.search_panel.results
        await pilot.press("escape")  # back to the list, search kept
        assert app.focused is screen.session_list and screen.search_input.value == "kubernetes"
        await pilot.press("escape")  # clears the search
        assert screen.search_input.value == "" and not screen.searching


async def test_reads_go_on_while_another_process_holds_the_write_lock(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    writer = sqlite3.connect(small_db, isolation_level=None)
    try:
        async with app.run_test(size=SIZE) as pilot:
            writer.execute("BEGIN IMMEDIATE")
            await settle(pilot)
            screen = main_screen(app)
            assert screen.session_list.total == 9
            screen.search_input.value = "kubernetes"
            await settle(pilot)
            assert len(screen.search_panel.hits) == 3
    finally:
        writer.execute("ROLLBACK")
        writer.close()


async def test_new_sessions_from_another_process_appear_without_moving_the_cursor(
    small_db: Path, make_app: MakeApp
) -> None:
    app = make_app(small_db, watch_changes=True, watch_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        await pilot.press("j")  # on s-5m
        await settle(pilot)
        with store_clock(FIXED_TS), SessionDB(small_db) as agent:  # the agent, writing meanwhile
            agent.create_session("s-new", "cli", model="gpt-5")
            agent.append_message("s-new", "user", "a brand new question")
        await until(pilot, lambda: lst.total == 10)  # 9 rows (a chain of three is one) and the new one
        await settle(pilot)
        assert lst.current is not None and lst.current.id == "s-5m"
        assert lst.row_at(0).id == "s-new"  # type: ignore[union-attr]
        assert screen.pane.session_id == "s-5m"


async def test_clicking_a_row_highlights_it_and_a_second_click_opens_it(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        lst = screen.session_list
        await pilot.click(SessionList, offset=(10, 2 * SessionList.ROW_HEIGHT))
        assert lst.cursor == 2
        await settle(pilot)
        assert screen.pane.session_id == "s-3h"
        await pilot.click(SessionList, offset=(10, 2 * SessionList.ROW_HEIGHT + 1))
        await settle(pilot)
        assert isinstance(app.focused, ConversationPane)


async def test_read_only_flag_is_shown_and_nothing_is_written(tmp_path: Path) -> None:
    path = build_small_db(tmp_path / "state.db")
    before = path.stat().st_mtime_ns, path.read_bytes()
    app = HermesBrowseApp(path, read_only=True, now=fixed_now)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await settle(pilot)
        assert "read-only: opened read-only" in screen_text(app)
        main_screen(app).search_input.value = "kubernetes"
        await settle(pilot)
        assert len(main_screen(app).search_panel.hits) == 3
    app.close_store()
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


# ── untrusted text ────────────────────────────────────────────────────────────────────────


async def test_markup_and_escape_sequences_render_literally(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        assert screen.session_list.select_id("s-3d")
        await settle(pilot)
        text = screen_text(app)
        assert HOSTILE_TITLE in text
        assert "\x1b" not in text and "\x07" not in text
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\x07" not in svg
        lst = screen.session_list
        for y in range(lst.size.height):
            assert "\x1b" not in lst.render_line(y).text
        screen.search_input.value = "paste"
        await settle(pilot)
        text = screen_text(app)
        assert "[link=https://evil.example]click[/link]" in text
        assert "\x1b" not in text and "\x1b" not in app.export_screenshot()
        await pilot.press("enter")  # the hit in the pane: literal there too
        await settle(pilot)
        assert "\x1b" not in screen_text(app) and "\x1b" not in app.export_screenshot()


# ── palette, opening, errors, quitting ────────────────────────────────────────────────────


async def test_command_palette_filters_by_source_and_opens_by_id(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(app)

        async def palette(text: str) -> None:
            await pilot.press("ctrl+p")
            await until(pilot, lambda: isinstance(app.screen, CommandPalette))
            app.screen.query_one(CommandInput).value = text
            await pilot.pause(0.4)
            await pilot.press("enter")
            await settle(pilot)

        await palette("source slack")
        assert screen.session_list.filters.source == "slack"
        await palette("clear filters")
        assert screen.session_list.filters.source is None and screen.session_list.total == 9
        await palette("chain-2")
        assert screen.pane.session_id == "chain-2"


async def test_store_opens_in_a_worker_and_a_newer_schema_opens_read_only(tmp_path: Path) -> None:
    path = build_small_db(tmp_path / "state.db")
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO schema_version (version) VALUES (99)")
    con.close()
    app = HermesBrowseApp(path, now=fixed_now)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await settle(pilot)
        assert app.browser.read_only
        text = screen_text(app)
        assert "read-only: schema version 99 is newer" in text
        assert "11 sessions" in text
    app.close_store()


async def test_a_missing_database_shows_an_error_screen_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "state.db"
    app = HermesBrowseApp(path, now=fixed_now)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await settle(pilot)
        assert str(app.screen.error) == f"no database at {path}"  # type: ignore[attr-defined]
        text = screen_text(app)
        assert "Can't open the session history" in text and "no database at" in text and "--demo" in text
        await pilot.press("q")
    assert app.return_code == 2
    assert not path.exists() and not path.parent.exists()


async def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE notes (x TEXT)")
    con.close()
    before = path.read_bytes()
    app = HermesBrowseApp(path, now=fixed_now)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        await settle(pilot)
        assert "holds no Hermes session tables" in str(app.screen.error)  # type: ignore[attr-defined]
        assert "holds no Hermes" in screen_text(app)
    assert path.read_bytes() == before


async def test_question_mark_shows_every_key(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.pause()
        text = screen_text(app)
        assert "next / previous search hit" in text and "parent / child session" in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


def test_snippet_markers_are_split_before_text_is_made_safe() -> None:
    snippet = "a \x1b]52;c;eA==\x07 [b]x[/b] \x02hit\x03 and \x02more\x03\r\nend"
    content = snippet_content(snippet)
    assert "\x1b" not in content.plain and "\x07" not in content.plain and "\x02" not in content.plain
    assert "[b]x[/b]" in content.plain
    marked = [content.plain[span.start : span.end] for span in content.spans]
    assert marked == ["hit", "more"]
    assert "\n" not in content.plain


async def test_q_quits(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_q_types_into_the_search_bar_instead_of_quitting(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "q")
        assert app.is_running and app.screen.query_one("#search", Input).value == "q"


async def test_the_clock_is_the_injected_one(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    assert app.browser.now_dt() == FIXED_DT
    assert isinstance(SessionList.ROW_HEIGHT, int)


async def test_interrupted_sessions_say_so_in_the_list(small_db: Path, make_app: MakeApp) -> None:
    """A session whose last message is the user's (no answer came) is 'interrupted', with its glyph."""
    with store_clock(FIXED_TS), SessionDB(small_db) as agent:
        agent.create_session("s-cut", "cli", model="claude-sonnet-4")
        agent.set_session_title("s-cut", "Cut off mid-turn")
        agent.append_message("s-cut", "user", "are you still there?")
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lst = main_screen(app).session_list
        assert lst.row_at(0) is not None and lst.row_at(0).status == "interrupted"
        text = screen_text(app)
        assert "◐Cutoffmid-turn" in text.replace(" ", "") and "cli · interrupted · 1 msg" in text


async def test_the_key_bar_shows_the_keys_of_the_focused_pane(small_db: Path, make_app: MakeApp) -> None:
    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = screen_text(app).splitlines()[-1]
        for hint in ("⏎ Open", "[ Parent", "] Child", "/ Search", "s Source", "t Filter", "? Help", "q Quit"):
            assert hint in bar, (hint, bar)
        await pilot.press("tab")  # the conversation pane
        await settle(pilot)
        bar = screen_text(app).splitlines()[-1]
        for hint in ("space Fold", "f Fold all", "n Next hit", "q Quit"):
            assert hint in bar, (hint, bar)
        assert "s Source" not in bar
