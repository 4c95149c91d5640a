"""A monkey at the keyboard: random keys, typing and clicks on every screen of the app, seeded.

    python -m bench.soak_monkey [--events 20000] [--seeds 5] [--first-seed 1] [--modes normal,read-only]

Each run opens the app (fixed clock) on a fresh copy of a small demo database (60 sessions,
``store.demo.generate`` with a fixed seed and clock) inside a scratch folder that is also the
current folder and ``$HOME``, so an export or a screenshot can only land there. The event stream
is drawn from ``random.Random(f"{seed}:{mode}")`` alone (never from the app's state), so a seed
replays the same events; only the characters typed into the export path are filtered ("/", "~"
and "\\" become "_"), and every export is checked to stay inside the scratch folder.

Quitting is disarmed during the walk (``app.action_quit`` counts the request instead), so ``q``,
``ctrl+q`` and the palette's "Quit" stay in the alphabet; the check at the end restores it and
``q`` from the main screen must end the app. Every ``check_every`` events, escape (a bounded
number of presses) must lead back to the main screen with a focused widget: otherwise the modal
is reported as stuck. Printed: one Markdown table (seed, mode, events, keys, clicks, screens
visited, exceptions, stuck modals, longest UI stall, quit ok). The test
``tests/test_hardening_monkey.py`` runs the same engine with 2,000 events per mode.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import shutil
import sqlite3
import string
import tempfile
import time
import traceback
import unicodedata
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import CommandList, CommandPalette
from textual.geometry import Offset
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot
from textual.widgets import Input

from store import SessionDB
from tui.app import HermesBrowseApp
from tui.data import Browser
from tui.testing import StallMeter

FIXED_DT = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
FIXED_TS = FIXED_DT.timestamp()
SIZE = (80, 24)
FPS = 4
"""Frames a second while the monkey runs (Textual's default is 60): a headless frame of this app
costs tens of milliseconds on a 2-core machine, and fewer frames merge more changes into each."""
DEMO_SESSIONS = 60
MODES = ("normal", "read-only")

# What every run must have shown as ``app.screen`` at least once (read-only refuses delete and prune).
REQUIRED: dict[str, frozenset[str]] = {
    "normal": frozenset({"MainScreen", "StatsScreen", "HelpScreen", "DeleteScreen", "PruneScreen",
                         "ExportScreen", "ConfirmScreen", "CommandPalette"}),
    "read-only": frozenset({"MainScreen", "StatsScreen", "HelpScreen", "ExportScreen", "ConfirmScreen",
                            "CommandPalette"}),
}
NEVER: dict[str, frozenset[str]] = {"normal": frozenset(), "read-only": frozenset({"DeleteScreen", "PruneScreen"})}

UNSAFE_PATH_CHARS = {"/": "_", "~": "_", "\\": "_"}
TEXT_CHARS = string.ascii_letters + string.digits + " -_.:\"'*[]()/\\~#@!?%&=+,;<>{}|^`$" + "éü中文😀"
PALETTE_WORDS = ("prune", "export: every", "export: cur", "export: sess", "stats", "delete", "rename",
                 "filter: all", "clear", "newest", "oldest", "search", "titles", "source", "theme", "keys",
                 "quit", "open s", "open ", "sess", "go")

# Keys every screen and widget binds (read from BINDINGS), plus the keys a user presses anyway.
GENERIC_KEYS: tuple[str, ...] = (
    *string.ascii_lowercase, *string.ascii_uppercase, *string.digits,
    "enter", "escape", "tab", "shift+tab", "up", "down", "left", "right", "pageup", "pagedown",
    "home", "end", "space", "backspace", "delete", "ctrl+p", "slash", "ctrl+q", "ctrl+c",
)


def binding_keys() -> list[str]:
    """Every key bound by the app, its screens and its widgets (what the key bar and help list)."""
    from tui.screens.confirm import ConfirmScreen
    from tui.screens.delete import DeleteScreen
    from tui.screens.export import ExportScreen
    from tui.screens.help import HelpScreen
    from tui.screens.main import MainScreen
    from tui.screens.progress import ProgressScreen
    from tui.screens.prune import PruneScreen
    from tui.screens.stats import StatsScreen
    from tui.widgets.conversation import ConversationPane
    from tui.widgets.search_panel import ResultList
    from tui.widgets.session_list import SessionList
    from tui.widgets.title_editor import TitleEditor

    owners: list[type[Any]] = [HermesBrowseApp, MainScreen, StatsScreen, HelpScreen, DeleteScreen, ConfirmScreen,
                               ExportScreen, PruneScreen, ProgressScreen, SessionList, ConversationPane, ResultList,
                               TitleEditor]
    keys: list[str] = []
    for owner in owners:
        bindings: list[BindingType] = list(getattr(owner, "BINDINGS", []))
        for binding in Binding.make_bindings(bindings):
            if binding.key not in keys:
                keys.append(binding.key)
    return keys


def alphabet() -> list[str]:
    keys = list(GENERIC_KEYS)
    keys += [k for k in binding_keys() if k not in keys]
    return keys


# ── the event stream (from the seed alone) ───────────────────────────────────────────────────

Event = tuple[str, Any]
"""("key", name) · ("text", str) · ("click", (x, y)) · ("wait", "idle" | "palette" | "export" | "screen:Name")."""


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(TEXT_CHARS) for _ in range(rng.randint(1, 8)))


def seq(*items: str | Event) -> list[Event]:
    """A macro: plain strings are keys; tuples are other events."""
    return [("key", item) if isinstance(item, str) else item for item in items]


def event_stream(rng: random.Random, keys: list[str]) -> Iterator[list[Event]]:
    """Endless groups of events: single random keys and clicks, and short macros that open each
    screen and modal (so every one is visited many times) and then act in it. ``("wait", what)``
    waits (bounded) for the palette's hits, the export's count, or a screen to be on top, so a
    macro's enter has a target and the screen it opens is seen before the next key closes it."""
    w, h = SIZE
    idle: Event = ("wait", "idle")
    while True:
        roll = rng.random()
        if roll < 0.40:
            yield seq(rng.choice(keys))
        elif roll < 0.50:
            yield [("click", (rng.randrange(w), rng.randrange(h)))]
        elif roll < 0.56:
            yield [("text", random_text(rng))]
            continue
        macro = rng.choice(("help", "stats", "delete", "export", "export2", "prune", "palette", "palette_word",
                            "rename", "search", "filter", "yes", "pane"))
        if macro == "help":
            yield seq("question_mark", *rng.choices(("down", "pagedown", "end", "j", "tab"), k=2))
        elif macro == "stats":
            yield seq("S", idle, *rng.choices(("1", "2", "w", "r", "tab", "down"), k=3))
        elif macro == "delete":
            yield seq("escape", "d", idle, rng.choice(("n", "left", "right", "enter", "y", "tab")))
        elif macro == "export":
            tail = rng.choice((seq("enter"), [("text", random_text(rng))], seq("tab", "down", "space")))
            yield seq("escape", "e", ("wait", "export"), *tail)
        elif macro == "export2":  # the same default name twice: the overwrite question
            yield seq("escape", idle, "e", ("wait", "export"), "enter", ("wait", "screen:MainScreen|ConfirmScreen"),
                      "escape", idle, "e", ("wait", "export"), "enter", ("wait", "screen:ConfirmScreen"),
                      rng.choice(("n", "y", "enter", "tab", "escape")))
        elif macro == "prune":
            tail = rng.choice((seq("enter"), [("text", rng.choice(("1d", "2w", "0", "x", "90d", "5h")))],
                               seq("tab", "down", "enter")))
            # Not "escape ctrl+p" in one go: Textual checks an unhandled key's bindings when it bubbles back
            # to the app, by then against the palette, so the escape typed before ctrl+p closed it.
            yield seq("escape", idle, "ctrl+p", idle, ("text", "prune"), ("wait", "palette"), "enter",
                      ("wait", "screen:PruneScreen"), *tail)
        elif macro == "palette_word":
            yield seq("ctrl+p", idle, ("text", rng.choice(PALETTE_WORDS)), ("wait", "palette"),
                      rng.choice(("enter", "down", "escape", "tab")))
        elif macro == "palette":
            yield seq("ctrl+p", ("text", random_text(rng)), rng.choice(("enter", "down", "escape")))
        elif macro == "rename":
            yield seq("r", ("text", random_text(rng)), rng.choice(("enter", "escape", "tab", "backspace")))
        elif macro == "search":
            yield seq("slash", ("text", random_text(rng)), rng.choice(("enter", "down", "escape", "n")))
        elif macro == "filter":
            yield seq("t", ("text", random_text(rng)), rng.choice(("enter", "down", "escape")))
        elif macro == "yes":
            yield seq("y")
        else:  # the conversation pane
            yield seq("enter", *rng.choices(("space", "f", "n", "N", "j", "k", "home", "end",
                                             "left_square_bracket", "right_square_bracket"), k=3))


# ── running one monkey ────────────────────────────────────────────────────────────────────────


@dataclass
class MonkeyResult:
    seed: int
    mode: str
    events: int = 0
    keys: int = 0
    clicks: int = 0
    texts: int = 0
    visited: Counter[str] = field(default_factory=Counter)
    exceptions: list[str] = field(default_factory=list)
    errors_logged: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    quit_requests: int = 0
    quit_ok: bool = False
    integrity: str = ""
    longest_stall: float = 0.0
    seconds: float = 0.0
    spent: Counter[str] = field(default_factory=Counter)  # seconds per kind of step (where the time goes)
    trail: list[str] = field(default_factory=list)

    @property
    def missing(self) -> set[str]:
        return set(REQUIRED[self.mode]) - set(self.visited)

    @property
    def forbidden(self) -> set[str]:
        return set(NEVER[self.mode]) & set(self.visited)

    @property
    def ok(self) -> bool:
        return (not self.exceptions and not self.errors_logged and not self.stuck and not self.violations
                and self.quit_ok and self.integrity == "ok" and not self.missing and not self.forbidden)

    def problems(self) -> str:
        """Everything wrong, with the seed and the last events (to reproduce)."""
        lines = [f"monkey seed={self.seed} mode={self.mode} (rerun: MONKEY_SEED={self.seed} "
                 f"MONKEY_EVENTS={self.events})"]
        for name, items in (("exception", self.exceptions), ("logged error", self.errors_logged),
                            ("stuck", self.stuck), ("violation", self.violations)):
            lines += [f"{name}: {item}" for item in items]
        if not self.quit_ok:
            lines.append("q from the main screen did not end the app")
        if self.integrity != "ok":
            lines.append(f"integrity_check: {self.integrity}")
        if self.missing:
            lines.append(f"never visited: {sorted(self.missing)} (visited {dict(self.visited)})")
        if self.forbidden:
            lines.append(f"visited although refused in this mode: {sorted(self.forbidden)}")
        lines.append("last events: " + " ".join(self.trail[-60:]))
        return "\n".join(lines)


def fixed_now() -> datetime:
    return FIXED_DT


def build_demo(path: Path, sessions: int = DEMO_SESSIONS) -> Path:
    from store.demo import generate

    generate(path, sessions=sessions, seed=7, now=FIXED_TS)
    return path


def key_event(key: str) -> events.Key:
    """The event ``Pilot.press`` would send for ``key`` (a name, or one character)."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original = REPLACED_KEYS.get(key, key)
    char: str | None
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


def screen_name(app: App[Any]) -> str:
    try:
        screen = app.screen
        return "CommandPalette" if isinstance(screen, CommandPalette) else type(screen).__name__
    except Exception:  # no screen (shutting down)
        return "?"


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


@contextmanager
def frame_rate(fps: int) -> Iterator[None]:
    import textual.screen

    saved = textual.screen.UPDATE_PERIOD
    textual.screen.UPDATE_PERIOD = 1 / fps  # type: ignore[misc]  # read when each screen is created
    try:
        yield
    finally:
        textual.screen.UPDATE_PERIOD = saved  # type: ignore[misc]


@contextmanager
def scratch_world(workdir: Path) -> Iterator[dict[str, Path]]:
    """Run inside ``workdir``: it is the current folder and ``$HOME`` (restored afterwards)."""
    home, cwd = workdir / "home", workdir / "cwd"
    (home / "Downloads").mkdir(parents=True, exist_ok=True)  # where Textual's screenshot command saves
    cwd.mkdir(parents=True, exist_ok=True)
    saved_cwd, saved_env = os.getcwd(), {k: os.environ.get(k) for k in ("HOME", "XDG_DOWNLOAD_DIR")}
    os.chdir(cwd)
    os.environ["HOME"] = str(home)
    os.environ["XDG_DOWNLOAD_DIR"] = str(home / "Downloads")
    try:
        yield {"home": home, "cwd": cwd}
    finally:
        os.chdir(saved_cwd)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _listing(folder: Path) -> set[str]:
    with suppress(OSError):
        return set(os.listdir(folder))
    return set()


class Monkey:
    def __init__(self, app: HermesBrowseApp, pilot: Pilot[Any], result: MonkeyResult) -> None:
        self.app, self.pilot, self.result = app, pilot, result
        self.lost_main = False

    @property
    def crashed(self) -> bool:
        return self.app._exception is not None or not self.app.is_running

    async def send_key(self, key: str) -> None:
        driver = self.app._driver
        if driver is None:
            return
        event = key_event(key)
        event.set_sender(self.app)
        driver.send_message(event)
        self.result.keys += 1
        await asyncio.sleep(0)

    async def send_text(self, text: str) -> None:
        for ch in text:
            focused = self.app.focused
            if isinstance(focused, Input) and focused.id == "export-dest":
                ch = UNSAFE_PATH_CHARS.get(ch, ch)  # an export must stay in the scratch folder
            await self.send_key(ch)

    async def click(self, x: int, y: int) -> None:
        """A click (down, up, click) at a screen cell, without Pilot's idle waits between them. Each
        event goes to the screen on top when it is sent, as ``App.on_event`` forwards a real one."""
        self.app.mouse_position = Offset(x, y)
        for cls in (events.MouseDown, events.MouseUp, events.Click):
            if self.crashed or not self.app._screen_stack:
                return
            screen = self.app.screen
            try:
                widget, _ = self.app.get_widget_at(x, y)
            except Exception:  # nothing there (between two layouts)
                widget = screen
            base = {"widget": widget, "x": x, "y": y, "delta_x": 0, "delta_y": 0, "button": 1, "shift": False,
                    "meta": False, "ctrl": False, "screen_x": x, "screen_y": y}
            kwargs = {**base, "chain": 1} if cls is events.Click else base
            screen._forward_event(cls(**kwargs))
            await asyncio.sleep(0)
        self.result.clicks += 1

    async def wait(self, what: str, limit: float = 0.5) -> None:
        """Pause until idle; for "palette" and "export", also until its hits or its count are shown;
        for "screen:Name", until that screen is on top (at most ``limit`` seconds: the screen may not
        be the one expected, or never come)."""
        from tui.screens.export import ExportScreen

        await asyncio.sleep(0.02)
        if what.startswith("screen:"):  # "screen:A|B": until A or B is on top
            names = set(what[7:].split("|")) - NEVER[self.result.mode]  # a refused screen never comes
            deadline = time.monotonic() + limit
            while names and time.monotonic() < deadline and not self.crashed and screen_name(self.app) not in names:
                await asyncio.sleep(0.02)
            return
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not self.crashed:
            screen = self.app.screen
            if what == "palette" and isinstance(screen, CommandPalette):
                if self._palette_settled(screen):
                    return
            elif what == "export" and isinstance(screen, ExportScreen):
                if screen._info is not None:
                    return
            else:
                return
            await asyncio.sleep(0.02)

    def _palette_settled(self, palette: CommandPalette) -> bool:
        """The palette shows hits for what was typed: the hits list is filled and no search runs (the
        first hits shown are the discovery list, from before the text arrived)."""
        lists, inputs = palette.query(CommandList), palette.query(Input)
        if not lists or not inputs:
            return False
        if not inputs.first().value.strip():
            return bool(lists.first().option_count)
        return not any(w.group == CommandPalette._GATHER_COMMANDS_GROUP and not w.is_finished
                       for w in self.app.workers)  # done searching: hits, or none to wait for

    def see(self) -> None:
        self.result.visited[screen_name(self.app)] += 1
        if not self.lost_main and self.app.is_running and not any(
            type(s).__name__ == "MainScreen" for s in self.app.screen_stack
        ):
            self.lost_main = True
            self.result.stuck.append(f"the main screen was closed at event {self.result.events}, after: "
                                     + " ".join(self.result.trail[-25:]))

    async def back_to_main(self, limit: int = 8, *, out_of_inputs: bool = False) -> str | None:
        """Escape until the main screen (with the focus somewhere; with ``out_of_inputs``, not in a
        text field, where q would be typed); None, or what was stuck."""
        from tui.screens.main import MainScreen
        from tui.screens.progress import ProgressScreen

        presses = 0
        waited = 0
        while True:
            await self.pilot.pause()
            if self.crashed:
                return None
            screen = self.app.screen
            focused = self.app.focused
            if isinstance(screen, MainScreen) and focused is not None and not (
                out_of_inputs and isinstance(focused, Input)
            ):
                return None
            if isinstance(screen, ProgressScreen) and waited < 100:  # a prune runs to its end: wait for it
                waited += 1
                await self.pilot.pause(0.05)
                continue
            if presses >= limit:
                stack = " > ".join(type(s).__name__ for s in self.app.screen_stack)
                focused = self.app.focused
                return f"after {presses} escapes: {stack}, focus {focused!r}"
            await self.pilot.press("escape")
            presses += 1


async def run_monkey(
    db_path: Path,
    *,
    seed: int,
    events_count: int,
    read_only: bool,
    workdir: Path,
    check_every: int = 100,
    pause_every: int = 8,
    fps: int = FPS,
    pause_s: float = 0.01,
) -> MonkeyResult:
    """One monkey: ``events_count`` random events on the app over ``db_path`` (changed in place)."""
    mode = "read-only" if read_only else "normal"
    result = MonkeyResult(seed, mode)
    rng = random.Random(f"{seed}:{mode}")
    keys = alphabet()
    sessions_before = _count_sessions(db_path)
    watched = {p: _listing(p) for p in {Path.cwd(), Path.home(), Path("/")}}
    log_handler = _ErrorLog()
    logging.getLogger().addHandler(log_handler)
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    saved_handler = loop.get_exception_handler()

    def loop_error(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        result.errors_logged.append(f"event loop: {context.get('message')} {exc!r}")

    loop.set_exception_handler(loop_error)
    browser = Browser(SessionDB(db_path, read_only=read_only), now=fixed_now)
    try:
        with scratch_world(workdir) as world, frame_rate(fps):
            _guard_exports(browser, workdir, result)
            app = HermesBrowseApp(browser=browser, path_label="~/.hermes/state.db")
            _record_notifications(app, result)

            async def no_quit() -> None:
                result.quit_requests += 1

            app.action_quit = no_quit  # type: ignore[method-assign]
            try:
                async with app.run_test(size=SIZE) as pilot, StallMeter() as meter:
                    monkey = Monkey(app, pilot, result)
                    await pilot.pause()
                    stream = event_stream(rng, keys)
                    since_pause = since_check = 0
                    while result.events < events_count and not monkey.crashed and not monkey.lost_main:
                        for kind, arg in next(stream):
                            if result.events >= events_count or monkey.crashed:
                                break
                            result.trail.append(_describe(kind, arg))
                            t0 = time.perf_counter()
                            if kind == "wait":
                                await monkey.wait(arg)
                                monkey.see()
                                result.spent["wait"] += time.perf_counter() - t0
                                continue
                            result.events += 1
                            if kind == "key":
                                await monkey.send_key(arg)
                            elif kind == "text":
                                result.texts += 1
                                await monkey.send_text(arg)
                            else:
                                await monkey.click(*arg)
                            monkey.see()
                            result.spent[kind] += time.perf_counter() - t0
                            since_pause += 1
                            since_check += 1
                            if since_pause >= pause_every:
                                since_pause = 0
                                t0 = time.perf_counter()
                                await asyncio.sleep(pause_s)
                                monkey.see()
                                result.spent["pause"] += time.perf_counter() - t0
                            if since_check >= check_every:
                                since_check = 0
                                t0 = time.perf_counter()
                                stuck = await monkey.back_to_main()
                                result.spent["check"] += time.perf_counter() - t0
                                if stuck:
                                    result.stuck.append(f"at event {result.events}: {stuck}")
                                    break
                    if not monkey.crashed and not monkey.lost_main:
                        stuck = await monkey.back_to_main(out_of_inputs=True)
                        if stuck:
                            result.stuck.append(f"at the end: {stuck}")
                        del app.action_quit  # the real quit again
                        await pilot.press("q")
                        for _ in range(50):
                            if not app.is_running:
                                break
                            await pilot.pause(0.02)
                        result.quit_ok = not app.is_running and app._exception is None
                result.longest_stall = meter.longest
            except Exception as exc:  # the app crashed: run_test re-raises what panicked it
                result.exceptions.append("".join(traceback.format_exception(exc)).strip())
                result.quit_ok = False
            if app._exception is not None and not result.exceptions:
                result.exceptions.append(repr(app._exception))
            if app.return_code not in (None, 0):
                result.exceptions.append(f"return code {app.return_code}")
            for folder, before in watched.items():
                if folder.resolve() == workdir.resolve() or workdir.resolve() in folder.resolve().parents:
                    continue
                created = _listing(folder) - before
                if created:
                    result.violations.append(f"files created outside the scratch folder in {folder}: {created}")
            del world
    finally:
        browser.close()
        loop.set_exception_handler(saved_handler)
        logging.getLogger().removeHandler(log_handler)
    result.errors_logged += log_handler.records
    result.integrity = _integrity(db_path)
    if read_only and _count_sessions(db_path) != sessions_before:
        result.violations.append("the read-only run changed the database")
    result.seconds = time.perf_counter() - started
    return result


def _describe(kind: str, arg: Any) -> str:
    if kind == "key":
        return str(arg)
    if kind == "text":
        return f"text:{arg!r}"
    if kind == "click":
        return f"click@{arg[0]},{arg[1]}"
    return f"wait:{arg}"


def _record_notifications(app: HermesBrowseApp, result: MonkeyResult) -> None:
    real = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("severity") == "error":
            result.errors_logged.append(f"notified error: {message}")
        real(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]


def _guard_exports(browser: Browser, workdir: Path, result: MonkeyResult) -> None:
    real = browser.export
    root = workdir.resolve()

    def export(path: Path, *args: Any, **kwargs: Any) -> Any:
        target = Path(path).resolve()
        if root not in target.parents:
            result.violations.append(f"an export was aimed outside the scratch folder: {target}")
            raise PermissionError(f"the monkey refuses to write outside {root}: {target}")
        return real(path, *args, **kwargs)

    browser.export = export  # type: ignore[method-assign]


def _integrity(path: Path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return "; ".join(str(row[0]) for row in con.execute("PRAGMA integrity_check"))
    finally:
        con.close()


def _count_sessions(path: Path) -> int:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT count(*) FROM sessions").fetchone()[0])
    finally:
        con.close()


# ── the script ────────────────────────────────────────────────────────────────────────────────


def table(results: list[MonkeyResult]) -> str:
    head = ("| seed | mode | events | keys | clicks | screens visited | exceptions | errors logged | stuck modals "
            "| longest UI stall | quit ok | seconds |")
    lines = [head, "|" + "---|" * 12]
    for r in results:
        visited = ", ".join(f"{name} {n}" for name, n in sorted(r.visited.items()))
        lines.append(
            f"| {r.seed} | {r.mode} | {r.events:,} | {r.keys:,} | {r.clicks:,} | {visited} | {len(r.exceptions)} "
            f"| {len(r.errors_logged)} | {len(r.stuck)} | {r.longest_stall * 1000:.0f} ms "
            f"| {'yes' if r.quit_ok else 'NO'} | {r.seconds:.1f} |"
        )
    return "\n".join(lines)


async def soak(events_count: int, seeds: list[int], modes: list[str]) -> list[MonkeyResult]:
    results: list[MonkeyResult] = []
    with tempfile.TemporaryDirectory(prefix="monkey-") as tmp:
        template = build_demo(Path(tmp) / "template.db")
        for seed in seeds:
            for mode in modes:
                workdir = Path(tmp) / f"run-{seed}-{mode}"
                workdir.mkdir()
                db = workdir / "state.db"
                shutil.copyfile(template, db)
                result = await run_monkey(db, seed=seed, events_count=events_count,
                                          read_only=mode == "read-only", workdir=workdir)
                results.append(result)
                if not result.ok:
                    print(result.problems(), flush=True)
                spent = ", ".join(f"{k} {v:.1f}s" for k, v in result.spent.most_common())
                print(f"seed {seed} {mode}: {result.seconds:.1f}s ({spent})", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per run (default 20,000)")
    parser.add_argument("--seeds", type=int, default=5, help="how many seeds (default 5)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--modes", default=",".join(MODES), help="normal,read-only (default both)")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    results = asyncio.run(soak(args.events, seeds, modes))
    print(table(results))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
