"""Prune and export modals (tui/actions.py, tui/screens/{prune,export,progress,confirm}.py).

A small harness app holds the ``browser`` and a plain screen, so these tests exercise exactly the
contract the main screen calls (``open_prune`` / ``open_export``) without depending on it.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Button, Input, Select, Static

import store.cleanup
import store.export
from store import DatabaseLockedError, SessionDB
from tests.conftest import DAY, FIXED_TS, HOUR, MINUTE, _FrozenTime, fixed_now, screen_text, settle, store_clock, until
from tui.actions import open_export, open_prune
from tui.data import Browser
from tui.messages import HistoryChanged
from tui.screens.confirm import ConfirmScreen
from tui.screens.export import ExportScreen
from tui.screens.progress import ProgressScreen
from tui.screens.prune import PruneScreen

# id, source, age of the last message (s before FIXED_TS), messages, ended
ROWS: tuple[tuple[str, str, float, int, bool], ...] = (
    ("old-active", "cli", 200 * DAY, 1, False),  # old but never ended: a prune must spare it
    ("old-1", "cli", 100 * DAY, 2, True),
    ("old-2", "slack", 60 * DAY, 3, True),
    ("recent", "cli", 2 * DAY, 1, True),
    ("fresh", "telegram", HOUR, 2, False),
)


def build_prune_db(path: Path) -> Path:
    with store_clock() as clock, SessionDB(path) as db:
        for sid, source, age, n, ended in ROWS:
            clock.t = FIXED_TS - age - n * MINUTE
            db.create_session(sid, source, model="claude-sonnet-4")
            db.set_session_title(sid, f"Session {sid}")
            for i in range(n):
                clock.t = FIXED_TS - age - (n - 1 - i) * MINUTE
                role = "user" if i % 2 == 0 else "assistant"
                db.append_message(sid, role, f"{sid} message {i} [b]x[/]",
                                  reasoning="thinking it over" if role == "assistant" else None)
            if ended:
                db.end_session(sid, "user_exit")
    return path


class BaseScreen(Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.history: list[HistoryChanged] = []

    def compose(self) -> ComposeResult:
        yield Static("hermes-browse harness", markup=False)

    def on_history_changed(self, message: HistoryChanged) -> None:
        self.history.append(message)


class Harness(App[None]):
    def __init__(self, browser: Browser) -> None:
        super().__init__()
        self.browser = browser
        self.base = BaseScreen()

    def on_mount(self) -> None:
        self.push_screen(self.base)


@pytest.fixture
def frozen_prune_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store computes the prune cutoff from ``time.time()``: pin it to the fixtures' clock."""
    monkeypatch.setattr(store.cleanup, "time", _FrozenTime(FIXED_TS))


@pytest.fixture
def browser(tmp_path: Path, frozen_prune_clock: None) -> Iterator[Browser]:
    b = Browser(SessionDB(build_prune_db(tmp_path / "state.db")), now=fixed_now)
    yield b
    b.close()


@pytest.fixture
def out_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "out"
    d.mkdir()
    monkeypatch.chdir(d)
    return d


def ids(browser: Browser) -> set[str]:
    return {s.id for s in browser.sessions_page(0, 100)}


def notes(app: App[Any]) -> list[str]:
    return [n.message for n in app._notifications]


async def open_prune_modal(pilot: Any, source: str | None = None) -> PruneScreen:
    open_prune(pilot.app.base, source)
    await until(pilot, lambda: isinstance(pilot.app.screen, PruneScreen))
    await settle(pilot)
    return pilot.app.screen


async def set_age(pilot: Any, text: str) -> None:
    pilot.app.screen.query_one("#prune-age", Input).value = text
    await settle(pilot)


def confirm_button(app: App[Any], selector: str = "#prune-confirm") -> Button:
    return app.screen.query_one(selector, Button)


# ── prune ──────────────────────────────────────────────────────────────────────────────────


async def test_prune_previews_counts_and_spares_active_sessions(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_prune_modal(pilot)
        await set_age(pilot, "30d")
        text = screen_text(app)
        assert "Would delete 2 sessions · 5 messages" in text
        assert "1 active session that old is spared" in text
        # oldest / newest last activity, relative and absolute (the app's fixed clock)
        assert "Oldest last active: 2025-11-30 12:00" in text
        assert "Newest last active: Jan 09 (2026-01-09 12:00)" in text
        button = confirm_button(app)
        assert not button.disabled and "Prune 2 sessions" in str(button.label)
        assert ids(browser) == {r[0] for r in ROWS}  # nothing deleted by looking

        await set_age(pilot, "2w")
        assert "14 days" in screen_text(app) and "Would delete 2 sessions" in screen_text(app)
        await set_age(pilot, "5h")
        assert "Would delete 3 sessions · 6 messages" in screen_text(app)


async def test_prune_source_preselected_and_changed(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_prune_modal(pilot, source="slack")
        await set_age(pilot, "30")
        assert screen.query_one("#prune-source", Select).value == "slack"
        assert "Would delete 1 session · 3 messages" in screen_text(app)
        screen.query_one("#prune-source", Select).clear()
        await settle(pilot)
        assert "Would delete 2 sessions" in screen_text(app)
        screen.query_one("#prune-source", Select).value = "telegram"
        await settle(pilot)
        assert "Nothing would be deleted" in screen_text(app)
        assert confirm_button(app).disabled


async def test_bad_age_shows_error_and_disables_confirm(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_prune_modal(pilot)
        assert not confirm_button(app).disabled
        for bad in ("soon", "-3", "0", "12y", ""):
            await set_age(pilot, bad)
            assert confirm_button(app).disabled, bad
            error = app.screen.query_one("#prune-age-error", Static)
            assert error.has_class("-shown") and "age" in str(error.render()).lower(), bad
        await pilot.press("enter")  # enter does nothing while the age is bad
        await settle(pilot)
        assert isinstance(app.screen, PruneScreen) and len(ids(browser)) == len(ROWS)
        await set_age(pilot, "30d")
        assert not app.screen.query_one("#prune-age-error").has_class("-shown")
        assert not confirm_button(app).disabled


async def test_prune_deletes_exactly_the_previewed_sessions(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36), notifications=True) as pilot:
        await open_prune_modal(pilot)
        await set_age(pilot, "30d")
        preview = browser.prune_preview(30)
        assert preview.sessions == 2
        await pilot.click("#prune-confirm")
        await settle(pilot, rounds=2)
        assert app.screen is app.base
        assert ids(browser) == {"old-active", "recent", "fresh"}  # old-active: old, not ended, spared
        assert len(app.base.history) == 1
        assert app.base.history[0].session_ids is None and app.base.history[0].deleted
        assert any("Pruned 2 sessions" in n for n in notes(app)), notes(app)


async def test_prune_enter_confirms_and_escape_closes(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_prune_modal(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.base and not app.base.history
        await open_prune_modal(pilot)
        await set_age(pilot, "90d")
        await pilot.press("enter")
        await settle(pilot, rounds=2)
        assert app.screen is app.base
        assert ids(browser) == {"old-active", "old-2", "recent", "fresh"}
        assert len(app.base.history) == 1


async def test_prune_error_is_shown_and_the_count_is_fresh(browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    def locked(*args: Any, **kwargs: Any) -> int:
        raise DatabaseLockedError(5.0, 5.0)

    monkeypatch.setattr(browser, "prune", locked)
    app = Harness(browser)
    async with app.run_test(size=(100, 36), notifications=True) as pilot:
        await open_prune_modal(pilot)
        await set_age(pilot, "30d")
        await pilot.click("#prune-confirm")
        await settle(pilot, rounds=2)
        assert isinstance(app.screen, PruneScreen)
        error = app.screen.query_one("#prune-error", Static)
        assert error.has_class("-shown")
        assert "The prune stopped" in screen_text(app) and "locked" in screen_text(app)
        assert any("The prune stopped" in n for n in notes(app))
        assert len(ids(browser)) == len(ROWS) and not app.base.history
        assert not confirm_button(app).disabled  # counted again; the user may retry


async def test_prune_can_be_cancelled_between_steps(browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    """The prune deletes in steps (one session each here, with a long pause between them): escape
    stops it after the current step; what was deleted stays deleted, the rest is kept, and it says so."""
    monkeypatch.setattr(store.cleanup, "PRUNE_STEP_FIRST", 1)
    monkeypatch.setattr(store.cleanup, "PRUNE_STEP_MAX", 1)
    monkeypatch.setattr(store.cleanup, "PRUNE_STEP_PAUSE_S", 1.0)
    app = Harness(browser)
    async with app.run_test(size=(100, 36), notifications=True) as pilot:
        await open_prune_modal(pilot)
        await set_age(pilot, "30d")
        assert "can be cancelled" in screen_text(app)
        await pilot.click("#prune-confirm")
        await until(pilot, lambda: isinstance(app.screen, ProgressScreen))
        progress = app.screen
        await until(pilot, lambda: "1 of 2" in screen_text(app))  # the first step is done
        await pilot.press("escape")  # during the pause after the first step
        await until(pilot, lambda: app.screen is app.base, timeout=10)
        assert progress is not app.screen
        assert ids(browser) == {"old-active", "old-2", "recent", "fresh"}  # the longest idle went first
        await until(pilot, lambda: any("Prune cancelled: 1 session deleted before it stopped" in n for n in notes(app)))
        assert len(app.base.history) == 1  # the list is told to refresh


async def test_read_only_store_refuses_prune(tmp_path: Path) -> None:
    path = build_prune_db(tmp_path / "state.db")
    browser = Browser.open_existing(path, read_only=True, now=fixed_now)
    try:
        app = Harness(browser)
        async with app.run_test(size=(100, 36), notifications=True) as pilot:
            await pilot.pause()
            open_prune(app.base)
            await pilot.pause()
            assert app.screen is app.base
            assert any("read-only" in n for n in notes(app))
            open_export(app.base, everything=True)  # export only reads: allowed
            await until(pilot, lambda: isinstance(app.screen, ExportScreen))
            await settle(pilot)
            assert "Everything: 5 sessions" in screen_text(app)
    finally:
        browser.close()


# ── export ─────────────────────────────────────────────────────────────────────────────────


async def open_export_modal(pilot: Any, **scope: Any) -> ExportScreen:
    open_export(pilot.app.base, **scope)
    await until(pilot, lambda: isinstance(pilot.app.screen, ExportScreen))
    await settle(pilot)
    return pilot.app.screen


async def export_to(pilot: Any, dest: str | None = None) -> None:
    if dest is not None:
        pilot.app.screen.query_one("#export-dest", Input).value = dest
        await pilot.pause()
    await pilot.click("#export-confirm")
    await settle(pilot, rounds=2)


def error_text(app: App[Any]) -> str:
    error = app.screen.query_one("#export-error", Static)
    return str(error.render()) if error.has_class("-shown") else ""


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_export_jsonl_everything(browser: Browser, out_dir: Path) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36), notifications=True) as pilot:
        screen = await open_export_modal(pilot, everything=True)
        assert "Everything: 5 sessions" in screen_text(app)
        name = screen.query_one("#export-dest", Input).value
        assert name == "hermes-export-20260310-1200.jsonl"
        await export_to(pilot)
        assert app.screen is app.base
        out = out_dir / name
        assert files(out_dir) == [name]
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(records) == 5 and all(isinstance(r, dict) and "messages" in r for r in records)
        assert {r["id"] for r in records} == {r[0] for r in ROWS}
        assert any(n == f"Exported 5 sessions to {out}" for n in notes(app))


async def test_export_markdown_of_one_session(browser: Browser, out_dir: Path) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36), notifications=True) as pilot:
        screen = await open_export_modal(pilot, session_ids=["old-2"])
        assert "This session: Session old-2 · 3 messages" in screen_text(app)
        await pilot.click("#export-fmt-md")
        await pilot.pause()
        assert screen.query_one("#export-dest", Input).value == "hermes-export-20260310-1200.md"
        await export_to(pilot)
        out = out_dir / "hermes-export-20260310-1200.md"
        text = out.read_text()
        assert text.startswith("# Session old-2") and "<details>" in text
        assert "old-2 message 2 [b]x[/]" in text and "old-1" not in text
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert any(n == f"Exported 1 session to {out}" for n in notes(app))


async def test_export_source_scope_and_extension_rules(browser: Browser, out_dir: Path) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36)) as pilot:
        screen = await open_export_modal(pilot, source="cli")
        assert "Sessions from cli: 3 sessions" in screen_text(app)
        dest = screen.query_one("#export-dest", Input)
        dest.value = "mine.jsonl"  # our extension on the user's name follows the format
        await pilot.click("#export-fmt-md")
        await pilot.pause()
        assert dest.value == "mine.md"
        dest.value = "notes.txt"  # the user's own extension is kept
        await pilot.click("#export-fmt-jsonl")
        await pilot.pause()
        assert dest.value == "notes.txt"
        await export_to(pilot)
        records = [json.loads(line) for line in (out_dir / "notes.txt").read_text().splitlines()]
        assert sorted(r["id"] for r in records) == ["old-1", "old-active", "recent"]


async def test_existing_file_declined_is_unchanged(browser: Browser, out_dir: Path) -> None:
    target = out_dir / "keep.jsonl"
    target.write_text("precious\n")
    app = Harness(browser)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_export_modal(pilot, everything=True)
        await export_to(pilot, "keep.jsonl")
        assert isinstance(app.screen, ConfirmScreen)
        assert "already exists" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExportScreen)
        assert "was kept" in screen_text(app)
        assert target.read_text() == "precious\n" and files(out_dir) == ["keep.jsonl"]
        await pilot.click("#export-confirm")
        await settle(pilot)
        await pilot.click("#confirm-no")
        await settle(pilot)
        assert target.read_text() == "precious\n" and files(out_dir) == ["keep.jsonl"]


async def test_existing_file_replaced_when_confirmed(browser: Browser, out_dir: Path) -> None:
    target = out_dir / "replace.jsonl"
    target.write_text("old\n")
    app = Harness(browser)
    async with app.run_test(size=(100, 36), notifications=True) as pilot:
        await open_export_modal(pilot, everything=True)
        await export_to(pilot, "replace.jsonl")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot, rounds=2)
        assert app.screen is app.base
        lines = target.read_text().splitlines()
        assert len(lines) == 5 and all("messages" in json.loads(x) for x in lines)
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert files(out_dir) == ["replace.jsonl"]


@pytest.fixture
def slow_export(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """After the first session is written, the export waits (up to 5 s) until it is cancelled."""
    started = threading.Event()
    real: Callable[..., int] = store.export.write_records

    def write_records(fh: Any, records: Any, **kw: Any) -> int:
        should_cancel = kw["should_cancel"]

        def slow() -> Iterator[Any]:
            for i, record in enumerate(records):
                if i == 1:
                    started.set()
                    deadline = time.monotonic() + 5
                    while not should_cancel() and time.monotonic() < deadline:
                        time.sleep(0.01)
                yield record

        return real(fh, slow(), **kw)

    monkeypatch.setattr(store.export, "write_records", write_records)
    return started


async def test_cancel_mid_export_leaves_no_file(browser: Browser, out_dir: Path, slow_export: threading.Event) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36), notifications=True) as pilot:
        await open_export_modal(pilot, everything=True)
        app.screen.query_one("#export-dest", Input).value = "big.jsonl"
        await pilot.click("#export-confirm")
        await until(pilot, lambda: isinstance(app.screen, ProgressScreen) and slow_export.is_set())
        assert [p.name for p in out_dir.iterdir() if p.name.endswith(".part")]  # the temp file exists now
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        await settle(pilot)
        assert "Export cancelled" in screen_text(app)
        assert files(out_dir) == []  # no file and no temporary file
        assert not any(n.startswith("Exported") for n in notes(app))


async def test_cancel_button_on_progress(browser: Browser, out_dir: Path, slow_export: threading.Event) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_export_modal(pilot, everything=True)
        await pilot.click("#export-fmt-md")
        await pilot.click("#export-confirm")
        await until(pilot, lambda: isinstance(app.screen, ProgressScreen))
        await pilot.click("#progress-cancel")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        assert files(out_dir) == []


async def test_missing_folder_is_a_clear_error(browser: Browser, out_dir: Path) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_export_modal(pilot, everything=True)
        await export_to(pilot, str(out_dir / "nope" / "x.jsonl"))
        assert isinstance(app.screen, ExportScreen)
        text = error_text(app)
        assert "does not exist" in text and "nope" in text
        assert files(out_dir) == []
        await export_to(pilot, str(out_dir))  # a folder, not a file
        assert "is a folder" in error_text(app) and files(out_dir) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
async def test_unwritable_folder_is_a_clear_error(browser: Browser, out_dir: Path) -> None:
    locked = out_dir / "locked"
    locked.mkdir(mode=0o500)
    app = Harness(browser)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_export_modal(pilot, everything=True)
        await export_to(pilot, str(locked / "x.jsonl"))
        assert "permission denied" in error_text(app)
        assert list(locked.iterdir()) == []


async def test_failed_export_says_why_and_leaves_no_file(
    browser: Browser, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real: Callable[..., int] = store.export.write_records

    def disk_full(fh: Any, records: Any, **kw: Any) -> int:
        def failing() -> Iterator[Any]:
            for i, record in enumerate(records):
                if i == 2:
                    raise OSError(errno.ENOSPC, "No space left on device")
                yield record
        return real(fh, failing(), **kw)

    monkeypatch.setattr(store.export, "write_records", disk_full)
    app = Harness(browser)
    async with app.run_test(size=(100, 36), notifications=True) as pilot:
        await open_export_modal(pilot, everything=True)
        await export_to(pilot, "full.jsonl")
        assert isinstance(app.screen, ExportScreen)
        assert "disk is full" in screen_text(app)
        assert any("Export failed" in n for n in notes(app))
        assert files(out_dir) == []


async def test_export_of_a_vanished_session(browser: Browser, out_dir: Path) -> None:
    app = Harness(browser)
    async with app.run_test(size=(100, 36)) as pilot:
        await open_export_modal(pilot, session_ids=["no-such-session"])
        assert "no longer exists" in screen_text(app)
        assert confirm_button(app, "#export-confirm").disabled
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.base


async def test_confirm_screen_answers() -> None:
    answers: list[bool | None] = []

    class ConfirmApp(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ConfirmScreen("Replace [b]x[/]?", "Replace", "Keep"), answers.append)

    for keys, expected in ((["y"], True), (["n"], False), (["escape"], False), (["enter"], False),
                           (["tab", "enter"], True)):
        app = ConfirmApp()
        async with app.run_test() as pilot:
            await pilot.pause()
            assert "Replace [b]x[/]?" in screen_text(app)
            await pilot.press(*keys)
            await pilot.pause()
        assert answers[-1] is expected, keys


def test_default_name_follows_the_clock_and_format() -> None:
    from tui.screens.export import default_name

    assert default_name(fixed_now(), "jsonl") == "hermes-export-20260310-1200.jsonl"
    assert default_name(fixed_now(), "md") == "hermes-export-20260310-1200.md"
