"""Write SVG pictures of the real screens to screenshots/: ``python -m tui.screenshots [OUT_DIR]``.

Each scene runs the real app headless on generated demo data (``store.demo``, fixed seed) with a
fixed clock and blinking cursors off, so the pictures are the same on every run. The snapshot
tests (tests/test_app_snapshots.py) drive the same scenes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from store import SessionDB
from tui.app import HermesBrowseApp
from tui.data import Browser

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


async def settle(pilot: Pilot[Any], rounds: int = 2) -> None:
    """Let debounce timers fire and workers finish; then freeze blinking cursors."""
    for _ in range(rounds):
        await pilot.pause(0.25)
        with suppress(WorkerCancelled, WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for inp in pilot.app.screen.query(Input):
        inp.cursor_blink = False
    await pilot.wait_for_scheduled_animations()


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
    await settle(pilot, 1)
    await pilot.press("enter")
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


SCENES: dict[str, Scene] = {
    "main": scene_main,
    "search": scene_search,
    "conversation": scene_conversation,
    "conversation-open": scene_conversation_open,
    "error": scene_error,
}


async def shoot(name: str, db: Path, out: Path) -> Path:
    app = error_app() if name == "error" else demo_app(db)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await SCENES[name](pilot)
            return Path(app.save_screenshot(f"{name}.svg", path=str(out)))
    finally:
        app.close_store()


async def shoot_all(out: Path) -> list[Path]:
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
