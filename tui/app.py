"""hermes-browse: the Textual app to explore an agent's session history."""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import CommandListItem, CommandPalette, SimpleProvider
from textual.theme import ThemeProvider
from textual.widget import AwaitMount
from textual.worker import Worker, WorkerState

from store import default_db_path
from tui.commands import GuardedCommandPalette
from tui.data import Browser, Clock, system_clock
from tui.screens.error import ErrorScreen, OpeningScreen
from tui.screens.main import MainScreen

DEMO_SESSIONS = 300



def settle_garbage_collector() -> None:
    """Move everything alive after start-up out of the collector's sight.

    Measured (bench/bench_tui.py): full collections of Textual's and Rich's long-lived objects
    paused the UI 135-200 ms while a 5,000-message conversation opened; with them frozen, every
    opening took 64-104 ms. The young generation keeps Python's default threshold: raised to 10,000
    (as it was), each young collection took 3-6 ms and one of 20 ms landed inside a search's frame;
    with the default, keystroke to painted results went from p95 86-107 ms to 84-93 ms in two runs
    each, for openings of a 5,000-message session about 12% slower (p50 ~110 ms, target 300 ms).
    """
    gc.collect()
    gc.freeze()

class HermesBrowseApp(App[None]):
    """Opens the store in a worker (the first paint never waits on SQLite), then the main screen."""

    CSS_PATH = "app.tcss"
    TITLE = "hermes-browse"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit", tooltip="Quit hermes-browse")]

    browser: Browser
    """The store, once open (the conversation pane and every widget read it from here)."""

    def __init__(
        self,
        db_path: Path | str | None = None,
        *,
        read_only: bool = False,
        browser: Browser | None = None,
        now: Clock | None = None,
        demo: bool = False,
        demo_sessions: int = DEMO_SESSIONS,
        path_label: str | None = None,
        watch_changes: bool = False,
        watch_interval: float = 0.5,
    ) -> None:
        super().__init__()
        if browser is not None:
            self.browser = browser
            self.db_path = browser.path
        else:
            self.db_path = Path(db_path).expanduser() if db_path else default_db_path()
        self.read_only = read_only
        self.now: Clock = now or (browser.now if browser is not None else system_clock)
        self.demo = demo
        self.demo_sessions = demo_sessions
        self.watch_changes = watch_changes  # poll for other processes' writes (the CLI turns it on)
        self.watch_interval = watch_interval
        self.path_label = path_label  # shown instead of the path (tests and screenshots: stable)
        self.open_error: BaseException | None = None
        self.timings: dict[str, float] = {"created": time.perf_counter()}

    @property
    def is_open(self) -> bool:
        return hasattr(self, "browser")

    # The command palette, as Textual opens it, but one that closes only itself (tui.commands), and
    # without Textual's fixed id: escape then ctrl+p typed quickly opened the new palette while the
    # closed one (same id) was still being removed, and the app crashed on DuplicateIds.
    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(GuardedCommandPalette())

    def search_commands(
        self, commands: Sequence[CommandListItem], placeholder: str = "Search for commands…"
    ) -> AwaitMount:
        return self.push_screen(
            GuardedCommandPalette(providers=[SimpleProvider(self.screen, commands)], placeholder=placeholder)
        )

    def search_themes(self) -> None:
        self.push_screen(GuardedCommandPalette(providers=[ThemeProvider], placeholder="Search for themes…"))

    def on_mount(self) -> None:
        self.timings["mounted"] = time.perf_counter()
        if self.is_open:
            self.push_screen(MainScreen())
            self.call_after_refresh(settle_garbage_collector)
        else:
            self.push_screen(OpeningScreen(self.db_path, demo=self.demo))
            self.run_worker(self._open_store, thread=True, group="open", exit_on_error=False)

    def _open_store(self) -> Browser:
        if self.demo:
            from store.demo import generate

            generate(self.db_path, sessions=self.demo_sessions, seed=7, now=time.time())
        return Browser.open_existing(self.db_path, read_only=self.read_only, now=self.now)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "open":
            if event.state is WorkerState.ERROR and worker.error is not None:
                self.notify(str(worker.error), title="Error", severity="error", markup=False)
            return
        if event.state is WorkerState.SUCCESS and isinstance(worker.result, Browser):
            self.browser = worker.result
            self.timings["opened"] = time.perf_counter()
            self.switch_screen(MainScreen())
            self.call_after_refresh(settle_garbage_collector)
        elif event.state is WorkerState.ERROR:
            self.open_error = worker.error or RuntimeError("the session store could not be opened")
            self.switch_screen(ErrorScreen(self.open_error))

    def close_store(self) -> None:
        if self.is_open:
            self.browser.close()
