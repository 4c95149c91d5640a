"""Figures for issue 5, items 2 (another process holds the write lock) and 3 (the disk is full).

``python -m bench.soak_faults`` runs the same scenarios as ``tests/test_hardening_lock.py`` and
``tests/test_hardening_diskfull.py`` (it reuses their helpers) and prints one Markdown table:
how long the lock was held, how long writes waited or took to give up, the app's longest event
loop stall while it was held, how many faults were injected, and how many committed rows were lost
(always 0). About 30 s, most of it the 10 s hold in the app.
"""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from conftest import build_small_db, fixed_now  # noqa: E402
from test_hardening_diskfull import (  # noqa: E402
    add_ballast_trigger,
    fill_to_the_brim,
    make_room,
)
from test_hardening_lock import (  # noqa: E402
    LOCKED_RE,
    LONG_HOLD_S,
    LockProcess,
    long_lock_scenario,
    run_timed,
    snapshot,
)

import store.export  # noqa: E402
from store import DatabaseLockedError, DiskFullError, SessionDB  # noqa: E402
from tui.app import HermesBrowseApp  # noqa: E402
from tui.data import Browser  # noqa: E402

Row = tuple[str, str, str]


def _rows_lost(before: tuple[list[Any], list[Any]], after: tuple[list[Any], list[Any]]) -> int:
    return len(set(before[0]) - set(after[0])) + len(set(before[1]) - set(after[1]))


def store_lock(folder: Path) -> list[Row]:
    path = build_small_db(folder / "lock-store.db")
    rows: list[Row] = []
    holders: list[LockProcess] = []
    try:
        with SessionDB(path, lock_timeout=1.0) as db:
            before = snapshot(path)
            holder = LockProcess(path)
            holders.append(holder)
            start = time.monotonic()
            try:
                db.set_session_title("s-3h", "refused")
                refused = "no (it went through!)"
            except DatabaseLockedError as exc:
                match = LOCKED_RE.search(str(exc))
                said = match.group(1) if match else "?"
                refused = f"after {time.monotonic() - start:.2f} s (\"held the write lock for {said} s\")"
            rows.append(("2 store", "rename with a 1 s budget, lock held", refused))
            lost = _rows_lost(before, snapshot(path))
            slow = SessionDB(path, lock_timeout=30.0)
            try:
                waiting = run_timed(lambda: slow.set_session_title("s-3h", "after the lock"))
                time.sleep(2.0)
                held = holder.release()
                assert waiting.done is not None and waiting.done.wait(30)
            finally:
                slow.close()
            rows.append(("2 store", "lock held by another process", f"{held:.2f} s"))
            rows.append(("2 store", "rename issued under the lock (30 s budget) completed after",
                         f"{waiting.seconds:.2f} s ({'ok' if waiting.error is None else waiting.error})"))
            rows.append(("2 store", "committed rows lost", str(lost)))
    finally:
        for h in holders:
            h.kill()
    return rows


def app_lock(folder: Path) -> list[Row]:
    path = build_small_db(folder / "lock-app.db")
    holders: list[LockProcess] = []

    async def run() -> Any:
        browser = Browser.open_existing(path, now=fixed_now)
        app = HermesBrowseApp(browser=browser, path_label="~/.hermes/state.db")
        try:
            async with app.run_test(size=(120, 40), notifications=True) as pilot:
                return await long_lock_scenario(app, pilot, path, holders, LONG_HOLD_S)
        finally:
            browser.close()

    try:
        f = asyncio.run(run())
    finally:
        for h in holders:
            h.kill()
    return [
        ("2 app", "lock held by another process", f"{f.held_s:.1f} s"),
        ("2 app", "delete (modal) refused after (app budget 3 s)",
         f"{f.failed_after_s:.1f} s, message says {f.reported_s} s"),
        ("2 app", "rename (editor) refused, then retried under the lock: waited",
         f"{f.rename_waited_s:.1f} s, then saved"),
        ("2 app", "longest UI stall while held (p99; stalls > 100 ms)",
         f"{f.longest_stall_s * 1000:.0f} ms ({f.p99_stall_s * 1000:.0f} ms; {f.stalls_over_100ms})"),
        ("2 app", "browse, open, search while held", "all worked"),
    ]


def store_disk_full(folder: Path) -> list[Row]:
    path = build_small_db(folder / "full.db")
    rows: list[Row] = []
    with SessionDB(path) as db:
        faults = fill_to_the_brim(db)
        before = snapshot(path)
        refused = 0
        writes: list[Callable[[], Any]] = [
            lambda: db.set_session_title("s-3h", "A new title that needs a little room"),
            lambda: db.append_message("s-now", "user", "one more message " * 200),
            lambda: db.create_session("new", "cli"),
        ]
        add_ballast_trigger(db)
        writes.append(lambda: db.delete_session("s-yday"))
        for write in writes:
            try:
                write()
            except DiskFullError:
                refused += 1
        faults += refused
        lost = _rows_lost(before, snapshot(path))
        make_room(db)
        after_ok = all(fn() is not None for fn in writes)
    rows.append(("3 store", "SQLITE_FULL faults injected (max_page_count)", str(faults)))
    rows.append(("3 store", "writes refused with DiskFullError (rename, append, create, half-done delete)",
                 f"{refused} of {len(writes)}"))
    rows.append(("3 store", "committed rows lost", str(lost)))
    rows.append(("3 store", "the same writes once there is room", "all succeeded" if after_ok else "FAILED"))
    return rows


def export_disk_full(folder: Path) -> list[Row]:
    path = build_small_db(folder / "export.db")
    out = folder / "exports"
    out.mkdir()
    faults = 0
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        nonlocal faults
        faults += 1
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with SessionDB(path, read_only=True) as db:
        store.export.os.fsync = failing_fsync  # type: ignore[attr-defined]
        try:
            for export in (db.export_jsonl, db.export_markdown):
                try:
                    export(out / "history.out")
                except OSError:
                    pass
        finally:
            store.export.os.fsync = real_fsync  # type: ignore[attr-defined]
    left = sorted(p.name for p in out.iterdir())
    rows: list[Row] = [
        ("3 export", "ENOSPC faults injected (fsync)", str(faults)),
        ("3 export", "files or .part files left behind", str(len(left))),
    ]
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            proc = subprocess.run([sys.executable, "-m", "tui", "export", "--db", str(path), "--all", "-o", "-"],
                                  stdout=full, stderr=subprocess.PIPE, text=True, check=False, timeout=60)
        line = proc.stderr.strip().replace("|", "\\|")
        rows.append(("3 export", "CLI `export --all -o - > /dev/full` (real ENOSPC)",
                     f"exit {proc.returncode}, {len(proc.stderr.strip().splitlines())} line: `{line}`"))
    return rows


def main() -> None:
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="soak-faults-") as tmp:
        folder = Path(tmp)
        rows = store_lock(folder) + app_lock(folder) + store_disk_full(folder) + export_disk_full(folder)
    print("| item | figure | value |")
    print("|---|---|---|")
    for item, name, value in rows:
        print(f"| {item} | {name} | {value} |")
    print(f"\n({time.monotonic() - start:.0f} s in all; python {sys.version.split()[0]}, sqlite "
          f"{__import__('sqlite3').sqlite_version})")


if __name__ == "__main__":
    main()
