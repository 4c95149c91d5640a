"""Write SVG pictures of the real screens to screenshots/: ``python -m tui.screenshots [OUT_DIR]``.

Each scene runs the real app headless on generated demo data (``store.demo``, fixed seed) with a
fixed clock and blinking cursors off, so the pictures are the same on every run. The snapshot
tests (tests/test_app_snapshots.py) drive the same scenes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.app import App
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import Input

from store import SessionDB
from tui.actions import open_export, open_prune
from tui.app import HermesBrowseApp
from tui.data import Browser, SessionSummary
from tui.screens.confirm import ConfirmScreen
from tui.screens.delete import DeleteScreen
from tui.screens.export import ExportScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.screens.progress import ProgressScreen
from tui.screens.prune import PruneScreen
from tui.screens.stats import StatsScreen
from tui.testing import quiesce
from tui.widgets.conversation import ConversationPane

DEMO_NOW = 1795176000.0  # 2026-11-20 12:00 UTC, store.demo's default "now"
DEMO_SESSIONS = 60
DEMO_SEED = 7
SIZE = (120, 40)
PATH_LABEL = "~/.hermes/state.db"
SEARCH_QUERY = "docker compose"
MISSING_DB = Path("/nonexistent/.hermes/state.db")

Scene = Callable[[Pilot[Any]], Awaitable[None]]


def demo_now() -> datetime:
    return datetime.fromtimestamp(DEMO_NOW, UTC)


def build_demo(folder: Path) -> Path:
    from store.demo import generate

    path = folder / "state.db"
    if not path.exists():
        generate(path, sessions=DEMO_SESSIONS, seed=DEMO_SEED, now=DEMO_NOW)
    return path


def demo_app(path: Path) -> HermesBrowseApp:
    """The app on ``path`` with the fixed clock and a stable path in the header."""
    return HermesBrowseApp(browser=Browser(SessionDB(path), now=demo_now), path_label=PATH_LABEL)


def error_app() -> HermesBrowseApp:
    return HermesBrowseApp(MISSING_DB, now=demo_now)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Pause until ``condition()`` holds; fail loudly (a missing picture beats a wrong one)."""
    waited = 0.0
    while True:
        with suppress(NoMatches):
            if condition():
                return
        if waited >= timeout:
            raise RuntimeError("the scene did not reach the expected state in time")
        await pilot.pause(0.02)
        waited += 0.02


def _pane_idle(app: App[Any]) -> bool:
    panes = app.screen_stack[0].query(ConversationPane) if len(app.screen_stack) > 0 else []
    return not any(pane.busy for pane in panes)


async def settle(pilot: Pilot[Any], rounds: int = 2) -> None:
    """Let debounce timers fire, workers finish and the conversation pane go idle; then freeze
    blinking cursors."""
    for _ in range(rounds):
        await quiesce(pilot, first_pause=0.25)
        await until(pilot, lambda: _pane_idle(pilot.app))
        await pilot.pause()
    for inp in pilot.app.screen.query(Input):
        inp.cursor_blink = False
    await pilot.wait_for_scheduled_animations()


def main_screen(pilot: Pilot[Any]) -> MainScreen:
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


async def scene_main(pilot: Pilot[Any]) -> None:
    await settle(pilot)


async def scene_search(pilot: Pilot[Any]) -> None:
    await settle(pilot, 1)
    screen = pilot.app.screen
    screen.search_input.value = SEARCH_QUERY  # type: ignore[attr-defined]
    screen.search_input.focus()  # type: ignore[attr-defined]
    await settle(pilot)
    await pilot.press("down")  # to the results: the pane previews the highlighted hit
    await settle(pilot)


async def scene_conversation(pilot: Pilot[Any]) -> None:
    """A conversation with reasoning and tool calls to fold (the first such session in view)."""
    await settle(pilot, 1)
    rows = _rows(main_screen(pilot), 12)
    index = next(
        (i for i, row in enumerate(rows) if row.tool_call_count >= 2 and row.title and row.title.isascii()), 0
    )
    await pilot.press(*["j"] * index, "enter")
    await settle(pilot)


async def scene_conversation_open(pilot: Pilot[Any]) -> None:
    await scene_conversation(pilot)
    await pilot.press("f")
    await settle(pilot)


async def scene_error(pilot: Pilot[Any]) -> None:
    for _ in range(100):
        if pilot.app.screen.__class__.__name__ == "ErrorScreen":
            break
        await pilot.pause(0.02)
    await settle(pilot, 1)


async def scene_rename(pilot: Pilot[Any]) -> None:
    """The inline title editor refusing a title another session already has."""
    await settle(pilot, 1)
    screen = main_screen(pilot)
    rows = _rows(screen, 12)
    # a plain title another session has (legible in any font), typed on the session below it
    index = next((i for i, row in enumerate(rows) if row.title and row.title.isascii()), 0)
    taken = rows[index].title if rows else None
    await pilot.press(*["j"] * (index + 1), "r")
    await until(pilot, lambda: screen.title_editor is not None)
    editor = screen.title_editor
    assert editor is not None
    editor.input.value = taken or "a title in use"
    await pilot.press("enter")
    await until(pilot, lambda: editor.error is not None)
    await settle(pilot)


def _rows(screen: MainScreen, count: int) -> list[SessionSummary]:
    rows = (screen.session_list.row_at(i) for i in range(count))
    return [row for row in rows if row is not None]


async def scene_delete(pilot: Pilot[Any]) -> None:
    """The delete confirmation for a session that has children (they are kept)."""
    await settle(pilot, 1)
    await pilot.press("c")  # every segment of a chain on its own row: a chain is one row (its tip) by default
    await settle(pilot, 1)
    screen = main_screen(pilot)
    rows = _rows(screen, 20)
    index = next((i for i, row in enumerate(rows) if row.child_count and row.message_count), 1)
    await pilot.press(*["j"] * index)
    await settle(pilot, 1)
    await pilot.press("d")
    await until(pilot, lambda: isinstance(pilot.app.screen, DeleteScreen))
    await settle(pilot)


async def scene_prune(pilot: Pilot[Any]) -> None:
    """The prune modal with the preview of what 30 days would delete (the store's clock frozen)."""
    await settle(pilot, 1)
    open_prune(main_screen(pilot))
    await until(pilot, lambda: isinstance(pilot.app.screen, PruneScreen))
    await settle(pilot, 1)
    pilot.app.screen.query_one("#prune-age", Input).value = "30d"
    await settle(pilot)


async def scene_export(pilot: Pilot[Any]) -> None:
    """The export modal for everything."""
    await settle(pilot, 1)
    open_export(main_screen(pilot), everything=True)
    await until(pilot, lambda: isinstance(pilot.app.screen, ExportScreen))
    await settle(pilot)


async def scene_export_replace(pilot: Pilot[Any]) -> None:
    """The export modal asking before it replaces a file of the same name (in the scratch folder)."""
    await settle(pilot, 1)
    open_export(main_screen(pilot), everything=True)
    await until(pilot, lambda: isinstance(pilot.app.screen, ExportScreen))
    await settle(pilot)
    name = pilot.app.screen.query_one("#export-dest", Input).value
    Path(name).write_text("an earlier export\n")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    await settle(pilot)


async def scene_progress(pilot: Pilot[Any]) -> None:
    """The progress modal of a prune three steps in. The job is a stand-in that reports 3 of 8 and
    waits to be cancelled (a real prune would change the demo database the other scenes use)."""

    def job(report: Callable[[int, int | None], None], is_cancelled: Callable[[], bool]) -> int:
        report(3, 8)
        while not is_cancelled():
            time.sleep(0.02)
        return 3

    await settle(pilot, 1)
    pilot.app.push_screen(ProgressScreen(
        "Pruning 8 sessions", job, unit="sessions",
        note="In short steps; cancel stops after the current one and keeps what was deleted.",
    ))
    await until(pilot, lambda: isinstance(pilot.app.screen, ProgressScreen) and pilot.app.screen.query(
        "#progress-bar").first().progress == 3)
    await pilot.pause()  # not settle(): the stand-in job runs until the app exits
    await pilot.wait_for_scheduled_animations()


async def scene_stats(pilot: Pilot[Any]) -> None:
    """The stats screen (S) on the last 30 days."""
    await settle(pilot, 1)
    await pilot.press("S")
    await until(pilot, lambda: isinstance(pilot.app.screen, StatsScreen))
    screen = pilot.app.screen
    assert isinstance(screen, StatsScreen)
    await until(pilot, lambda: screen.data is not None and screen.data.days == 30 and screen.settled)
    await settle(pilot)


async def scene_help(pilot: Pilot[Any]) -> None:
    await settle(pilot, 1)
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    await settle(pilot, 1)


SCENES: dict[str, Scene] = {
    "main": scene_main,
    "search": scene_search,
    "conversation": scene_conversation,
    "conversation-open": scene_conversation_open,
    "error": scene_error,
    "rename": scene_rename,
    "delete": scene_delete,
    "prune": scene_prune,
    "export": scene_export,
    "export-replace": scene_export_replace,
    "progress": scene_progress,
    "stats": scene_stats,
    "help": scene_help,
}


class _FrozenTime:
    """Stands in for the ``time`` module in ``store.cleanup`` (the prune preview reads the clock)."""

    def time(self) -> float:
        return DEMO_NOW


@contextmanager
def frozen_store_clock() -> Iterator[None]:
    import store.cleanup

    saved = store.cleanup.time
    store.cleanup.time = _FrozenTime()  # type: ignore[assignment]
    try:
        yield
    finally:
        store.cleanup.time = saved


async def shoot(name: str, db: Path, out: Path) -> Path:
    app = error_app() if name == "error" else demo_app(db)
    try:
        with frozen_store_clock(), tempfile.TemporaryDirectory(prefix="hermes-browse-cwd-") as cwd:
            previous = os.getcwd()
            os.chdir(cwd)  # the export modal checks its default destination in the current folder
            try:
                async with app.run_test(size=SIZE) as pilot:
                    await SCENES[name](pilot)
                    return Path(app.save_screenshot(f"{name}.svg", path=str(out)))
            finally:
                os.chdir(previous)
    finally:
        app.close_store()


async def shoot_all(out: Path) -> list[Path]:
    out = out.resolve()  # shoot() runs each scene in a scratch current folder
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hermes-browse-shots-") as tmp:
        db = build_demo(Path(tmp))
        return [await shoot(name, db, out) for name in SCENES]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("screenshots")
    for path in asyncio.run(shoot_all(out)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
