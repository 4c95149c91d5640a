"""The app beside a live agent: does it keep up, does it stall, is anything lost?

A simulator process (``bench/agent_sim.py``: the demo generator's history replayed through the
store's write API, one call per message) writes into the database while hermes-browse runs
headless on it with live refresh on (the CLI's setting: the data version is polled every 0.5 s).
The app follows the simulator's long conversation in its conversation pane, at the end, as a
user reading along would. Every 20 ms this script looks at what the app shows:

- list lag: from a session's commit (the simulator's ledger) to its row in the session list;
- pane lag: from a message's commit to its turn in the conversation pane;
- stalls: how late the event loop ran a 10 ms timer (``tui.testing.StallMeter``); a stall is
  time in which a key press would not have been answered.

Afterwards it checks that every message the simulator acknowledged is in the database with the
same content (CRC of the text), that the list's count and its first page are exactly the
database's, and that the pane shows every message of the long conversation.

    python -m bench.soak_live                          # realistic 2 msg/s, then a burst of 50 msg/s, 60 s each
    python -m bench.soak_live --phases 50x10           # one 10 s burst (rate x seconds, comma-separated)

Prints a Markdown table. A measuring script, not a test: nothing fails on a slow figure; the
figures are kept in docs/hardening.md. ``tests/test_hardening_live.py`` runs a short burst and
checks the outcome (nothing lost, everything visible) without timing anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from bench.agent_sim import crc
from store import SessionDB
from store.demo import generate
from tui.app import HermesBrowseApp
from tui.screens.main import MainScreen
from tui.testing import StallMeter, quiesce

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 40)
LOOK_EVERY_S = 0.02


@dataclass
class LiveFigures:
    rate: float
    seconds: float
    messages: int = 0  # acknowledged by the store in the simulator
    sessions: int = 0
    list_lag: list[float] = field(default_factory=list)
    pane_lag: list[float] = field(default_factory=list)
    catch_up_s: float = 0.0  # after the simulator's last write, until the app showed everything
    stall_max: float = 0.0
    stall_p99: float = 0.0
    stalls_over_100ms: int = 0
    missing_in_db: int = 0
    wrong_in_db: int = 0
    list_matches_db: bool = False
    pane_complete: bool = False
    agent: dict[str, Any] = field(default_factory=dict)  # the simulator's own summary

    @property
    def lost(self) -> int:
        return self.missing_in_db + self.wrong_in_db


def _spawn_simulator(
    db: Path, ledger: Path, rate: float, seconds: float, seed: int, prefix: str
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(
        [sys.executable, "-m", "bench.agent_sim", str(db), "--rate", str(rate), "--seconds", str(seconds),
         "--ledger", str(ledger), "--seed", str(seed), "--prefix", prefix],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


class _Watcher:
    """Reads the ledger as it grows and notes when the app first shows each write."""

    def __init__(self, app: HermesBrowseApp, ledger: Path, main_id: str) -> None:
        self.app = app
        self.ledger = ledger
        self.main_id = main_id
        self.offset = 0
        self.sessions: dict[str, float] = {}  # committed at (wall clock)
        self.main_messages: dict[int, float] = {}
        self.all_messages: list[dict[str, Any]] = []
        self.unseen_sessions: set[str] = set()
        self.unseen_main: set[int] = set()
        self.list_lag: list[float] = []
        self.pane_lag: list[float] = []
        self.done: dict[str, Any] | None = None

    def read(self) -> None:
        with open(self.ledger, encoding="utf-8") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        complete = chunk[: chunk.rfind("\n") + 1]
        self.offset += len(complete.encode("utf-8"))
        for line in complete.splitlines():
            record = json.loads(line)
            if record["kind"] == "session":
                self.sessions[record["sid"]] = record["t"]
                self.unseen_sessions.add(record["sid"])
            elif record["kind"] == "msg":
                self.all_messages.append(record)
                if record["sid"] == self.main_id:
                    self.main_messages[record["mid"]] = record["t"]
                    self.unseen_main.add(record["mid"])
            elif record["kind"] == "done":
                self.done = record

    def look(self) -> None:
        now = time.time()
        screen = self.app.screen
        if not isinstance(screen, MainScreen):
            return
        lst = screen.session_list
        shown = {row.id for page in lst.loaded_pages() for i in range(lst.PAGE)
                 if (row := lst.row_at(page * lst.PAGE + i)) is not None}
        for sid in [s for s in self.unseen_sessions if s in shown]:
            self.unseen_sessions.discard(sid)
            self.list_lag.append(now - self.sessions[sid])
        pane = screen.pane
        if pane.session_id == self.main_id:
            heads = pane.heads()
            last = heads[-1].turn.last_id if heads else 0
            for mid in [m for m in self.unseen_main if m <= last]:
                self.unseen_main.discard(mid)
                self.pane_lag.append(now - self.main_messages[mid])

    @property
    def caught_up(self) -> bool:
        return not self.unseen_main and not self._newest_unseen()

    def _newest_unseen(self) -> bool:
        # Old sessions legitimately scroll off the loaded pages; only the newest must be shown.
        newest = sorted(self.sessions, key=self.sessions.__getitem__)[-5:]
        return any(sid in self.unseen_sessions for sid in newest)


async def _follow_main(pilot: Pilot[Any], main_id: str, deadline: float) -> None:
    """Put the list's cursor on the long conversation and the pane at its end (a user reading along)."""
    app = pilot.app
    screen = app.screen
    assert isinstance(screen, MainScreen)
    while time.monotonic() < deadline:
        if screen.session_list.select_id(main_id):
            break
        await pilot.pause(0.05)
    else:
        raise RuntimeError("the simulator's conversation never appeared in the list")
    while screen.pane.session_id != main_id or screen.pane.busy:
        if time.monotonic() > deadline:
            raise RuntimeError("the conversation pane never opened the simulator's conversation")
        await pilot.pause(0.05)
    screen.pane.focus()
    await pilot.press("end")
    screen.session_list.focus()


def _check_db(db: Path, messages: list[dict[str, Any]]) -> tuple[int, int]:
    """(missing, wrong): acknowledged messages absent from the DB, or present with other content."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        missing = wrong = 0
        for record in messages:
            row = conn.execute("SELECT session_id, content FROM messages WHERE id = ?", (record["mid"],)).fetchone()
            if row is None:
                missing += 1
            elif row[0] != record["sid"] or crc(row[1]) != record["crc"]:
                wrong += 1
        return missing, wrong
    finally:
        conn.close()


def _list_matches_db(app: HermesBrowseApp, db: Path) -> bool:
    screen = app.screen
    assert isinstance(screen, MainScreen)
    lst = screen.session_list
    tips = lst.filters.chain_tips_only  # a compression chain is one row unless every segment is asked for
    with SessionDB(db, read_only=True) as store:
        total = store.count_sessions(chain_tips_only=tips)
        first = [str(r["id"]) for r in store.list_sessions_page(limit=lst.PAGE, chain_tips_only=tips)]
    # in the store's order: the row under the cursor may be drawn where it was (held) until the cursor moves
    shown = [row.id for i in range(min(lst.PAGE, lst.total or 0)) if (row := lst.row_in_order(i)) is not None]
    return lst.total == total and shown == first


async def live_run(db: Path, *, rate: float, seconds: float, workdir: Path, seed: int = 11,
                   prefix: str = "live-", catch_up_timeout: float = 15.0) -> LiveFigures:
    """Run the simulator beside a headless app on ``db`` and measure (see the module's text)."""
    figures = LiveFigures(rate=rate, seconds=seconds)
    ledger = workdir / f"ledger-{prefix.strip('-')}-{int(rate)}.jsonl"
    ledger.write_text("")
    main_id = f"{prefix}main"
    app = HermesBrowseApp(db, watch_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        await quiesce(pilot)
        watcher = _Watcher(app, ledger, main_id)
        sim = _spawn_simulator(db, ledger, rate, seconds, seed, prefix)
        try:
            async with StallMeter() as meter:
                await _follow_main(pilot, main_id, time.monotonic() + 30)
                while sim.poll() is None:
                    watcher.read()
                    watcher.look()
                    await asyncio.sleep(LOOK_EVERY_S)
                watcher.read()
                finished = time.time()
                deadline = time.monotonic() + catch_up_timeout
                while not watcher.caught_up and time.monotonic() < deadline:
                    watcher.look()
                    await asyncio.sleep(LOOK_EVERY_S)
                watcher.look()
                figures.catch_up_s = time.time() - finished
            await quiesce(pilot)
        finally:
            if sim.poll() is None:
                sim.kill()
            _out, err = sim.communicate()
        if sim.returncode != 0:
            raise RuntimeError(f"the simulator failed ({sim.returncode}): {err.strip()[-500:]}")
        figures.list_matches_db = _list_matches_db(app, db)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        detail = screen.pane.detail
        heads = screen.pane.heads()
        if os.environ.get("SOAK_DEBUG"):
            print("pane", screen.pane.session_id, detail and detail.message_count, len(watcher.main_messages),
                  heads and heads[-1].turn.last_id, max(watcher.main_messages, default=0), screen.pane.at_end,
                  sorted(watcher.unseen_main)[:5], file=sys.stderr)
        figures.pane_complete = (
            detail is not None and detail.message_count == len(watcher.main_messages)
            and bool(heads) and heads[-1].turn.last_id == max(watcher.main_messages, default=0)
        )
    figures.agent = watcher.done or {}
    figures.messages = len(watcher.all_messages)
    figures.sessions = len(watcher.sessions)
    figures.list_lag, figures.pane_lag = watcher.list_lag, watcher.pane_lag
    figures.stall_max = meter.longest
    figures.stall_p99 = meter.percentile(0.99)
    figures.stalls_over_100ms = meter.over(0.1)
    figures.missing_in_db, figures.wrong_in_db = _check_db(db, watcher.all_messages)
    return figures


def _ms(values: list[float], q: float | None = None) -> str:
    if not values:
        return "–"
    if q is None:
        return f"{statistics.median(values) * 1000:.0f}"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f}"


def table(rows: list[LiveFigures]) -> str:
    head = ("| rate (msg/s) × s | messages | sessions | list lag median / max (ms) | pane lag median / p99 / max (ms) "
            "| catch-up after last write (ms) | longest stall (ms) | stall p99 (ms) | stalls > 100 ms "
            "| agent append median / p99 / max (ms) | agent behind schedule (ms) | lost | list = DB | pane complete |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for f in rows:
        a = f.agent.get("append_ms", {})
        lines.append(
            f"| {f.rate:g} × {f.seconds:g} | {f.messages} | {f.sessions} | {_ms(f.list_lag)} / {_ms(f.list_lag, 1.0)} "
            f"| {_ms(f.pane_lag)} / {_ms(f.pane_lag, 0.99)} / {_ms(f.pane_lag, 1.0)} | {f.catch_up_s * 1000:.0f} "
            f"| {f.stall_max * 1000:.0f} | {f.stall_p99 * 1000:.0f} | {f.stalls_over_100ms} "
            f"| {a.get('median', '–')} / {a.get('p99', '–')} / {a.get('max', '–')} "
            f"| {f.agent.get('behind_s', 0) * 1000:.0f} | {f.lost} | {'yes' if f.list_matches_db else 'NO'} "
            f"| {'yes' if f.pane_complete else 'NO'} |"
        )
    return "\n".join(lines)


def _phases(text: str) -> list[tuple[float, float]]:
    out = []
    for part in text.split(","):
        rate, _, seconds = part.partition("x")
        out.append((float(rate), float(seconds)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="hermes-browse beside a live agent: lag, stalls, losses.")
    parser.add_argument("--phases", default="2x60,50x60", help="RATExSECONDS,... (default: 2x60,50x60)")
    parser.add_argument("--sessions", type=int, default=300, help="sessions in the starting demo database")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="soak-live-") as tmp:
        work = Path(tmp)
        db = work / "state.db"
        generate(db, sessions=args.sessions, seed=7, now=time.time())
        for n, (rate, seconds) in enumerate(_phases(args.phases)):
            print(f"phase {n + 1}: {rate:g} msg/s for {seconds:g} s …", file=sys.stderr)
            rows.append(asyncio.run(live_run(db, rate=rate, seconds=seconds, workdir=work, seed=11 + n,
                                             prefix=f"live{n + 1}-")))
    print(f"hermes-browse beside a simulated agent (python -m bench.soak_live --phases {args.phases}); "
          f"{os.cpu_count()} CPUs, SQLite {sqlite3.sqlite_version}\n")
    print(table(rows))
    return 0 if all(f.lost == 0 and f.list_matches_db and f.pane_complete for f in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
