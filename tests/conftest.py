"""Fixtures for the app's tests (tests/test_app*.py, tests/test_cli.py).

Databases are built through ``SessionDB`` with the store's clock frozen (``store_clock``), so
every timestamp is chosen by the test; big ones are built once per run and copied per test.
Nothing here is autouse: other suites in tests/ are unaffected.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.app import App
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets import Input

import store.messages
import store.sessions
from store import SessionDB
from tui.app import HermesBrowseApp
from tui.data import Browser
from tui.testing import quiesce

FIXED_DT = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
FIXED_TS = FIXED_DT.timestamp()
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
PATH_LABEL = "~/.hermes/state.db"

HOSTILE_TITLE = "[bold red]x[/]"
OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
HOSTILE_CONTENT = f"paste this {OSC52} then [link=https://evil.example]click[/link] and \x1b[2J\r done"


def fixed_now() -> datetime:
    return FIXED_DT


class _FrozenTime:
    """Stands in for the ``time`` module inside the store's writer functions."""

    def __init__(self, t: float) -> None:
        self.t = t

    def time(self) -> float:
        return self.t


@contextmanager
def store_clock(t: float = FIXED_TS) -> Iterator[_FrozenTime]:
    """Make the store stamp rows with ``clock.t`` (set it before each write)."""
    clock = _FrozenTime(t)
    saved = store.sessions.time, store.messages.time
    store.sessions.time = clock  # type: ignore[assignment]
    store.messages.time = clock  # type: ignore[assignment]
    try:
        yield clock
    finally:
        store.sessions.time, store.messages.time = saved


@dataclass(frozen=True)
class Spec:
    id: str
    source: str
    title: str | None
    age: float  # seconds before FIXED_TS of the last message (or start, when empty)
    messages: tuple[tuple[str, str], ...] = ()
    parent: str | None = None
    model: str = "claude-sonnet-4"
    finish: str | None = None


SMALL: tuple[Spec, ...] = (
    Spec("s-now", "cli", "Fix the flaky login test", 10,
         (("user", "the login test fails on kubernetes sometimes"), ("assistant", "Retry the probe."))),
    Spec("s-5m", "telegram", None, 5 * MINUTE,
         (("user", "how do I rotate the API keys"), ("assistant", "Use the vault CLI."))),
    Spec("s-3h", "cli", "Deploy the docs site", 3 * HOUR,
         (("user", "deploy the docs"), ("assistant", "Deployed with kubernetes."))),
    Spec("s-yday", "discord", "Refactor the scheduler", 21 * HOUR,
         (("user", "refactor the cron scheduler"), ("assistant", "Done, kubernetes jobs now."))),
    Spec("s-3d", "cli", HOSTILE_TITLE, 3 * DAY, (("user", HOSTILE_CONTENT), ("assistant", "I will not."))),
    Spec("s-err", "cli", "Broken build", 4 * DAY,
         (("user", "why does the build break"), ("assistant", "upstream error")), finish="error"),
    Spec("chain-1", "cli", "Long research", 10 * DAY, (("user", "research vector databases"),
                                                         ("assistant", "Part one."))),
    Spec("chain-2", "cli", "Long research #2", 9 * DAY, (("user", "continue"), ("assistant", "Part two.")),
         parent="chain-1"),
    Spec("chain-3", "cli", "Long research #3", 8 * DAY, (("user", "continue again"),
                                                         ("assistant", "Part three.")), parent="chain-2"),
    Spec("s-empty", "cli", "Nothing said", 20 * DAY),
    Spec("s-old", "slack", "Plan the postgres migration", 40 * DAY,
         (("user", "plan the postgres migration"), ("assistant", "Here is a plan for postgres."))),
)


def build_small_db(path: Path) -> Path:
    """Eleven sessions with known ages, sources, a chain of three, an empty and a hostile one."""
    with store_clock() as clock, SessionDB(path) as db:
        for spec in sorted(SMALL, key=lambda s: -s.age):
            start = FIXED_TS - spec.age - MINUTE * max(1, len(spec.messages))
            clock.t = start
            db.create_session(spec.id, spec.source, model=spec.model, parent_session_id=spec.parent)
            if spec.title:
                db.set_session_title(spec.id, spec.title)
            for i, (role, content) in enumerate(spec.messages):
                clock.t = FIXED_TS - spec.age - MINUTE * (len(spec.messages) - 1 - i)
                last = i == len(spec.messages) - 1
                db.append_message(spec.id, role, content, finish_reason=spec.finish if last else None)
            if spec.parent:
                clock.t = start
                db.end_session(spec.parent, "compression")
    return path


def build_many_db(path: Path, n: int = 3000) -> Path:
    """``n`` sessions, one message each, minutes apart: the schema via ``SessionDB``, rows in bulk."""
    with SessionDB(path):
        pass
    con = sqlite3.connect(path)
    try:
        with con:
            con.executemany(
                "INSERT INTO sessions (id, source, model, title, started_at, message_count) "
                "VALUES (?, ?, 'gpt-5', ?, ?, 1)",
                [(f"m{i:05d}", ("cli", "telegram", "slack")[i % 3], f"Session number {i:05d}",
                  FIXED_TS - (n - i) * MINUTE) for i in range(n)],
            )
            con.executemany(
                "INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, 'user', ?, ?)",
                [(f"m{i:05d}", f"message {i} about topic{i % 7}", FIXED_TS - (n - i) * MINUTE) for i in range(n)],
            )
    finally:
        con.close()
    return path


def build_demo_db(path: Path, sessions: int = 60) -> Path:
    from store.demo import generate

    generate(path, sessions=sessions, seed=7, now=FIXED_TS)
    return path


def _copy(template: Path, dest_dir: Path) -> Path:
    dest = dest_dir / "state.db"
    shutil.copyfile(template, dest)
    return dest


@pytest.fixture(scope="session")
def _many_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_many_db(tmp_path_factory.mktemp("many") / "state.db")


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_db(tmp_path_factory.mktemp("demo") / "state.db")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's store lives (not created yet)."""
    return tmp_path / "state.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[SessionDB]:
    """A fresh store at ``db_path``, closed after the test."""
    d = SessionDB(db_path)
    yield d
    d.close()


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    return build_small_db(tmp_path / "state.db")


@pytest.fixture
def many_db(_many_template: Path, tmp_path: Path) -> Path:
    return _copy(_many_template, tmp_path)


@pytest.fixture
def demo_db(_demo_template: Path, tmp_path: Path) -> Path:
    return _copy(_demo_template, tmp_path)


@pytest.fixture
def make_app() -> Iterator[Callable[..., HermesBrowseApp]]:
    """``make_app(path)``: the app on an open store with the fixed clock; closed after the test."""
    browsers: list[Browser] = []

    def make(path: Path, **kwargs: Any) -> HermesBrowseApp:
        browser = Browser(SessionDB(path), now=fixed_now)
        browsers.append(browser)
        return HermesBrowseApp(browser=browser, path_label=PATH_LABEL, **kwargs)

    yield make
    for browser in browsers:
        browser.close()


async def settle(pilot: Pilot[Any], rounds: int = 1) -> None:
    """Let debounce timers fire and every worker finish, then let the UI catch up."""
    for _ in range(rounds):
        await quiesce(pilot)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Pause until ``condition()`` holds (fails the test after ``timeout`` seconds)."""
    def holds() -> bool:
        try:
            return condition()
        except NoMatches:  # the screen is still composing
            return False

    waited = 0.0
    while not holds():
        if waited >= timeout:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)
        waited += 0.02


def freeze_cursors(app: App[Any]) -> None:
    for inp in app.screen.query(Input):
        inp.cursor_blink = False


def screen_text(app: App[Any]) -> str:
    """The screen as plain text (what a user reads), for assertions."""
    console = Console(
        width=app.size.width, height=app.size.height, file=io.StringIO(), record=True,
        color_system=None, legacy_windows=False, safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text(styles=False)

