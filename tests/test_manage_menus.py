"""Reaching prune and export from the keys and the palette: the scope "current filter" is what the
list shows (source and title/id filters), and prune has its own key besides the palette."""

from __future__ import annotations

from pathlib import Path

from conftest import screen_text, settle, until

from tui.app import HermesBrowseApp
from tui.screens.main import MainScreen

SIZE = (120, 40)


def main_screen(app: HermesBrowseApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def test_export_of_the_current_filter_takes_the_title_filter_too(small_db: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    """'Export: current filter' exported everything when only a title filter was set (an audit); it
    now exports what the filter lists: here every segment of the "Long research" chain."""
    from tui.screens.export import ExportScreen

    app = make_app(small_db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        screen.filter_input.value = "Long research"
        await until(pilot, lambda: screen.session_list.total == 3)
        screen.export_filtered()
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        export = app.screen
        assert isinstance(export, ExportScreen)
        assert export.scope.session_ids is not None
        assert sorted(export.scope.session_ids) == ["chain-1", "chain-2", "chain-3"]
        await until(pilot, lambda: "3 sessions" in screen_text(app))


async def test_shift_p_opens_the_prune_dialog(small_db: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    from tui.screens.prune import PruneScreen

    app = make_app(small_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, PruneScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
