"""A monkey at the keyboard (issue 5, item 7), and one regression test per defect it found.

The monkey (``bench/soak_monkey.py``) sends 2,000 seeded random keys, typed strings and clicks to the
app on a 60-session demo database, once read-write and once read-only, and checks: no exception, no
error logged or notified, escape always leads back to the main screen (every 100 events and at the
end), every screen and modal was visited, ``q`` still quits, the database passes integrity_check,
nothing was written outside the scratch folder. ``MONKEY_SEED`` / ``MONKEY_EVENTS`` override the seed
and the count; a failure prints the seed and the last events.

The regression tests send keys the way a fast typist (or a loaded machine) delivers them: several in
a row, before the app has handled the first (``Pilot.press`` waits after each key, which hides these).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import fixed_now, settle, until
from textual import events
from textual.command import CommandPalette
from textual.widgets import Button, Input, KeyPanel
from textual.widgets._key_panel import BindingsTable
from textual.widgets._select import SelectOverlay

from bench.soak_monkey import build_demo, key_event, run_monkey
from store import SessionDB
from tui.app import HermesBrowseApp
from tui.data import Browser
from tui.screens.confirm import ConfirmScreen
from tui.screens.delete import DeleteScreen
from tui.screens.export import ExportDone, ExportScreen
from tui.screens.main import MainScreen
from tui.screens.progress import JobOutcome, ProgressScreen
from tui.screens.prune import PruneScreen
from tui.screens.stats import StatsScreen

SIZE = (100, 30)
SEEDS = {"normal": 1, "read-only": 2}


def type_ahead(app: HermesBrowseApp, *keys: str) -> None:
    """Queue keys at once, as a terminal delivers fast typing (no waiting in between)."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        event = key_event(key)
        event.set_sender(app)
        driver.send_message(event)


def stack(app: HermesBrowseApp) -> list[str]:
    return [type(s).__name__ for s in app.screen_stack]


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return build_demo(tmp_path / "state.db")


@pytest.fixture
def app(demo: Path) -> Any:
    browser = Browser(SessionDB(demo), now=fixed_now)
    yield HermesBrowseApp(browser=browser, path_label="~/.hermes/state.db")
    browser.close()


# ── the monkey ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("mode", ["normal", "read-only"])
async def test_monkey(mode: str, demo: Path, tmp_path: Path) -> None:
    seed = int(os.environ.get("MONKEY_SEED", SEEDS[mode]))
    events = int(os.environ.get("MONKEY_EVENTS", 2000))
    work = tmp_path / "work"
    work.mkdir()
    result = await run_monkey(demo, seed=seed, events_count=events, read_only=mode == "read-only", workdir=work)
    assert result.ok, result.problems()
    assert result.events == events
    assert result.clicks > 0 and result.texts > 0


# ── regressions ───────────────────────────────────────────────────────────────────────────────


async def test_two_quick_enters_in_the_palette_keep_the_main_screen(app: HermesBrowseApp) -> None:
    # Each enter selected the command and dismissed the palette; the second dismiss popped the main
    # screen under it (seed 1, normal: "ctrl+p … enter enter"; then a crash on an empty stack).
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        type_ahead(app, "enter", "enter")
        await settle(pilot)
        assert "MainScreen" in stack(app)
        assert app._exception is None


async def test_the_palette_reopened_while_the_closed_one_is_still_being_removed(app: HermesBrowseApp) -> None:
    # The new palette was pushed with Textual's fixed id while the closed one (same id) was still
    # being removed: DuplicateIds crashed the app (seed 1, normal: "ctrl+p … escape ctrl+p").
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        app.screen.dismiss()
        app.action_command_palette()  # the same tick: the old palette is not removed yet
        await settle(pilot)
        assert app._exception is None
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_pagedown_in_the_palette_before_its_hits_show(app: HermesBrowseApp) -> None:
    # Textual's OptionList paged through a line map it cannot build while hidden: KeyError
    # (seed 1, normal: "ctrl+p text pagedown").
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        type_ahead(app, "ctrl+p", "pagedown", "pageup", "z", "pagedown")
        await settle(pilot)
        assert app._exception is None
        assert isinstance(app.screen, CommandPalette)


async def test_a_search_started_after_the_palette_closed_does_not_crash(app: HermesBrowseApp) -> None:
    # A keystroke still queued when the palette closed started Textual's search worker on a palette
    # without widgets: NoMatches("CommandList") in the worker crashed the app (seed 1, normal).
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        palette.dismiss()
        await pilot.pause()
        palette._gather_commands("stats")
        await settle(pilot)
        assert app._exception is None
        assert isinstance(app.screen, MainScreen)


async def test_a_job_ending_under_the_palette_does_not_close_the_palette(app: HermesBrowseApp) -> None:
    # ``dismiss`` pops whatever screen is on top: an export ending while the palette was open over its
    # progress closed the palette instead, and left the progress screen stuck with its job done
    # (seed 1, read-only: "e enter … ctrl+p"; then NoMatches in the palette's worker).
    release = threading.Event()
    outcomes: list[JobOutcome | None] = []

    def job(report: Any, is_cancelled: Any) -> int:
        release.wait(10)
        return 7

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ProgressScreen("Exporting", job), outcomes.append)
        await until(pilot, lambda: isinstance(app.screen, ProgressScreen))
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        release.set()
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        assert app._exception is None
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert [o.result for o in outcomes if o is not None] == [7]


async def test_escape_before_the_progress_screen_composed(app: HermesBrowseApp) -> None:
    # Escape typed right after the enter that started an export reached the progress screen before
    # its widgets existed: NoMatches("#progress-status") crashed the app (seed 1, read-only).
    release = threading.Event()
    outcomes: list[JobOutcome | None] = []

    def job(report: Any, is_cancelled: Any) -> int:
        while not is_cancelled() and not release.wait(0.01):
            pass
        if is_cancelled():
            raise InterruptedError("cancelled")
        return 1

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = ProgressScreen("Exporting", job)
        app.push_screen(screen, outcomes.append)
        screen.action_cancel_job()  # before compose
        await until(pilot, lambda: bool(outcomes))
        release.set()
        assert app._exception is None
        assert outcomes[0] is not None and not outcomes[0].ok
        assert isinstance(app.screen, MainScreen)


async def test_stats_table_refill_after_the_screen_closed(app: HermesBrowseApp) -> None:
    # The table is filled again after a refresh (or a 50 ms timer while hidden); when the screen had
    # closed by then, NoMatches("#largest") crashed the app (seed 1, normal: "S … escape").
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, StatsScreen) and app.screen.data is not None)
        stats = app.screen
        assert isinstance(stats, StatsScreen)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.pause()
        stats._fill_table()
        await settle(pilot)
        assert app._exception is None


async def test_a_button_press_queued_under_the_palette_answers_once_the_palette_closes(
    app: HermesBrowseApp,
) -> None:
    # Enter pressed a dialog's button; ctrl+p, already queued, opened the palette before the press was
    # handled, and the dialog's dismiss popped the palette in its place; the dialog's next answer then
    # set its result twice (InvalidStateError) or closed the main screen (seed 2, read-only, and seed 1).
    answers: list[bool | None] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        confirm = ConfirmScreen("Replace it?")
        app.push_screen(confirm, answers.append)
        await until(pilot, lambda: app.screen is confirm and confirm.is_mounted)
        confirm.query_one("#confirm-yes", Button).press()
        app.action_command_palette()  # the same tick: the press is handled under the palette
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        assert confirm in app.screen_stack and answers == []
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert answers == [True]
        assert app._exception is None


async def test_a_dialog_dismissed_twice_closes_only_itself(app: HermesBrowseApp) -> None:
    # Two answers in one tick (y, then enter on the focused button): the second dismiss popped the main
    # screen under the dialog (then a crash on an empty screen stack).
    answers: list[bool | None] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        confirm = ConfirmScreen("Replace it?")
        app.push_screen(confirm, answers.append)
        await until(pilot, lambda: app.screen is confirm and confirm.is_mounted)
        confirm.dismiss(True)
        confirm.dismiss(False)
        await settle(pilot)
        assert stack(app)[-1] == "MainScreen"
        assert answers == [True]
        assert app._exception is None


async def test_a_dialog_dismissed_while_it_composes(app: HermesBrowseApp) -> None:
    # Escape typed right after the key that opened a dialog dismissed it while it composed: its widgets
    # were removed before its on_mount focused one (NoMatches "#confirm-no", seed 2, read-only).
    answers: list[bool | None] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        confirm = ConfirmScreen("Replace it?")
        app.push_screen(confirm, answers.append)
        confirm.dismiss(False)  # the same tick: not composed yet
        await settle(pilot)
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert answers == [False]
        assert app._exception is None


async def test_left_right_before_the_delete_dialog_composed(app: HermesBrowseApp) -> None:
    # "d" then "right" typed quickly: the key reached the dialog before its buttons existed
    # (NoMatches "#no", seed 1, normal).
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        row = main.session_list.current
        assert row is not None
        info = app.browser.delete_info(row.id)
        assert info is not None
        screen = DeleteScreen(info)
        app.push_screen(screen)
        screen.action_switch_button()  # before compose
        await until(pilot, lambda: app.screen is screen and screen.is_mounted)
        await until(pilot, lambda: screen.focused is screen.query_one("#no"))
        screen.action_switch_button()
        await until(pilot, lambda: screen.focused is screen.query_one("#yes"))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert app._exception is None


async def test_replacing_an_existing_export_file(app: HermesBrowseApp, tmp_path: Path) -> None:
    # Yes to "Replace the file?" pushed the progress screen from inside the question's dismiss, so the
    # progress screen was popped in the question's place: no export, and a stuck export dialog.
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    done: list[Any] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        row = main.session_list.current
        assert row is not None
        export = ExportScreen(app.browser, session_ids=[row.id])
        app.push_screen(export, done.append)
        await until(pilot, lambda: export._info is not None)
        export.query_one("#export-dest", Input).value = str(target)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm-yes")
        await until(pilot, lambda: bool(done))
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert isinstance(done[0], ExportDone) and done[0].count == 1
        assert target.read_text() != "old\n" and target.read_text().strip()
        assert app._exception is None


async def test_a_press_over_a_widget_just_removed(app: HermesBrowseApp) -> None:
    # The compositor's map keeps a removed widget until the next layout: a mouse button pressed over
    # the key panel just closed found it without a parent, and Textual's text selection crashed the
    # app on ``container.region`` (AttributeError; seed 1, normal, events 317-964, "… click").
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_show_help_panel()
        await until(pilot, lambda: bool(app.screen.query(KeyPanel)))
        await settle(pilot)
        panel = app.screen.query_one(KeyPanel)
        table = panel.query_one(BindingsTable)
        x, y = table.region.x + 2, table.region.y + 1
        screen = app.screen
        await panel.remove()  # no layout since: the map still has the table there
        screen._forward_event(events.MouseDown(table, x, y, 0, 0, 1, False, False, False, screen_x=x, screen_y=y))
        await settle(pilot)
        assert app._exception is None
        assert isinstance(app.screen, MainScreen)


async def test_pagedown_in_the_prune_source_list_before_it_is_laid_out(app: HermesBrowseApp) -> None:
    # The prune dialog's source drop-down paged through a line map Textual builds only once the list
    # has a size: KeyError: 0 crashed the app (seed 1, normal, event 1718).
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prune = PruneScreen(app.browser)
        app.push_screen(prune)
        await until(pilot, lambda: app.screen is prune and prune.is_mounted)
        overlay = prune.query_one(SelectOverlay)
        overlay.highlighted = 0  # as after a key, before the list was shown
        overlay.action_page_down()
        overlay.action_page_up()
        await settle(pilot)
        assert app._exception is None
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))


async def test_rename_twice_before_the_title_editor_composed(app: HermesBrowseApp) -> None:
    # A second r (or one typed while the editor closed) focused the editor's input before it existed:
    # NoMatches("#title-input") crashed the app (seed 5, normal, event 1424).
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        main.action_rename()
        main.action_rename()  # the same tick: the editor is mounting, its input not composed yet
        await settle(pilot)
        assert app._exception is None
        assert main.title_editor is not None
        await pilot.press("escape")
        await until(pilot, lambda: main.title_editor is None)
        assert app._exception is None
