"""Pilot tests of the search panel's second pass: a live search cut by its time budget shows its
hits at once, says older messages are still being searched, and a longer search replaces them,
unless a newer query was typed meanwhile.

The store's budget is patched so the first pass stops early: a two-character CJK word is found by
a LIKE scan over the newest LIKE_SCAN_ROWS messages, and the second pass (a 2 s budget) may scan
proportionally more. The second pass is held on an event, so the test sees the state in between.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXED_TS, settle, until

from store import SessionDB
from store.search import collect as search_collect
from tui.app import HermesBrowseApp
from tui.data import SearchResult
from tui.screens.main import MainScreen
from tui.widgets.search_panel import LONG_BUDGET_S

SIZE = (120, 40)
N = 12_000
CJK_EVERY = 1_000  # 服务 in one message of every CJK_EVERY: 12 in all
MakeApp = Callable[..., HermesBrowseApp]


@pytest.fixture(scope="module")
def _deep_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("deep") / "state.db"
    with SessionDB(path):
        pass
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(
                "INSERT INTO sessions (id, source, model, title, started_at, message_count) "
                "VALUES ('big', 'cli', 'gpt-5', 'A long session', ?, ?)",
                (FIXED_TS - N, N),
            )
            con.executemany(
                "INSERT INTO messages (session_id, role, content, timestamp) VALUES ('big', 'user', ?, ?)",
                [
                    (f"请检查服务端 {i}" if i % CJK_EVERY == 5 else f"filler message {i}", FIXED_TS - N + i)
                    for i in range(N)
                ],
            )
    finally:
        con.close()
    return path


@pytest.fixture
def deep_db(_deep_template: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "state.db"
    dest.write_bytes(_deep_template.read_bytes())
    return dest


@pytest.fixture
def short_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live pass stops at once; its LIKE scan covers the newest 2,500 messages (2 hits)."""
    monkeypatch.setattr(search_collect, "SEARCH_BUDGET_S", -1.0)
    monkeypatch.setattr(search_collect, "EMPTY_BUDGET_S", -1.0)
    monkeypatch.setattr(search_collect, "LIKE_SCAN_ROWS", 2_500)


class Gate:
    """Wraps the app's search: records (query, budget) and holds second passes of ``held``."""

    def __init__(self, app: HermesBrowseApp, held: set[str]) -> None:
        self.calls: list[tuple[str, float | None]] = []
        self.open = threading.Event()
        self.held = held
        real = app.browser.search

        def search(query: str, **kwargs: Any) -> SearchResult:
            self.calls.append((query, kwargs.get("budget_s")))
            if kwargs.get("budget_s") is not None and query in self.held:
                self.open.wait(10)
            return real(query, **kwargs)

        app.browser.search = search  # type: ignore[method-assign]


def status(screen: MainScreen) -> str:
    return str(screen.search_panel.query_one("#search-status").render())


async def start(pilot: Any, app: HermesBrowseApp, query: str) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    screen.search_panel.debounce = 0
    screen.search_input.focus()
    screen.search_input.value = query
    return screen


async def test_an_incomplete_search_shows_its_hits_then_the_full_ones(
    deep_db: Path, make_app: MakeApp, short_budget: None
) -> None:
    app = make_app(deep_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        gate = Gate(app, {"服务"})
        screen = await start(pilot, app, "服务")
        panel = screen.search_panel
        await until(pilot, lambda: panel.applied == ["服务"] and "still searching" in status(screen))
        first = {h.message_id for h in panel.hits}
        assert len(first) == 2  # the newest ones, shown at once
        assert status(screen).startswith("2 hits for “服务”")
        assert gate.calls == [("服务", None), ("服务", LONG_BUDGET_S)]  # the second pass is running
        await pilot.press("down")  # the user moves on the first hits meanwhile
        await pilot.press("down")
        on = panel.highlighted_hit
        assert on is not None and on.message_id in first
        await until(pilot, lambda: screen.pane.session_id == "big")  # the pane shows that hit
        await settle(pilot)
        shown: list[Any] = []
        real_show = screen.pane.show_session
        screen.pane.show_session = lambda *a, **kw: (shown.append(a), real_show(*a, **kw))  # type: ignore[method-assign]
        gate.open.set()
        await until(pilot, lambda: panel.applied == ["服务", "服务"])
        await settle(pilot)
        hits = {h.message_id for h in panel.hits}
        assert len(hits) == N // CJK_EVERY and first < hits
        assert "still searching" not in status(screen) and "may hold more" not in status(screen)
        assert status(screen).startswith("12 hits for “服务”")
        assert panel.highlighted_hit is not None and panel.highlighted_hit.message_id == on.message_id
        assert shown == []  # the cursor stayed on the hit the pane shows: not loaded again
        assert panel.deep_searches == 1 and len(gate.calls) == 2  # one second pass, no third


async def test_a_newer_query_typed_during_the_second_pass_wins(
    deep_db: Path, make_app: MakeApp, short_budget: None
) -> None:
    app = make_app(deep_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        gate = Gate(app, {"服务"})
        screen = await start(pilot, app, "服务")
        panel = screen.search_panel
        await until(pilot, lambda: "still searching" in status(screen))
        screen.search_input.value = "filler"  # a full page: complete at once
        await until(pilot, lambda: panel.applied == ["服务", "filler"])
        gate.open.set()  # the older query's second pass finishes now
        await pilot.pause(0.3)
        await settle(pilot)
        assert panel.applied == ["服务", "filler"]
        assert len(panel.hits) == 50 and all("filler" in h.snippet for h in panel.hits)
        assert status(screen).startswith("50 hits (first 50) for “filler”")
        assert "still searching" not in status(screen)


async def test_a_second_pass_that_is_cut_too_says_older_messages_may_hold_more(
    deep_db: Path, make_app: MakeApp, short_budget: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_collect, "LIKE_SCAN_ROWS", 20)  # x80 for 2 s: still short of 12,000
    app = make_app(deep_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        gate = Gate(app, set())
        screen = await start(pilot, app, "服务")
        panel = screen.search_panel
        await until(pilot, lambda: len(panel.applied) == 2)
        await settle(pilot)
        assert gate.calls == [("服务", None), ("服务", LONG_BUDGET_S)]
        assert len(panel.hits) == 1  # the newest 1,600 messages hold 1
        assert "searched for 2 s: older messages may hold more" in status(screen)
        assert panel.deep_searches == 1


async def test_a_complete_search_runs_once(deep_db: Path, make_app: MakeApp) -> None:
    app = make_app(deep_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        gate = Gate(app, set())
        screen = await start(pilot, app, "服务")
        await until(pilot, lambda: screen.search_panel.applied == ["服务"])
        await settle(pilot)
        assert gate.calls == [("服务", None)] and len(screen.search_panel.hits) == N // CJK_EVERY
        assert screen.search_panel.deep_searches == 0
