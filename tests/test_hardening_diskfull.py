"""Issue 5, item 3: the disk is full.

The database side is simulated with SQLite's own limit, ``PRAGMA max_page_count``, set on the
store's writer connection (it is per connection): once the file may not grow, SQLite fails the
write with SQLITE_FULL exactly as on a full disk. ``fill_to_the_brim`` then uses the last free
bytes, so even a small rename needs a page it cannot have. For a failure in the *middle* of a
multi-statement write (a delete: messages first, then the session row) a TEMP trigger on the
writer connection makes the session-row delete first write 64 KB of ballast, which hits the same
real SQLITE_FULL after the messages were already deleted inside the transaction.

Exports: ENOSPC is injected into the file the store writes (a write that stops part way, or an
fsync that fails, as delayed allocation does), and a real ENOSPC comes from ``/dev/full``.

What must hold: the write fails with a clear "disk is full" message (``DiskFullError``; the app
shows it, never a traceback), nothing committed before is lost (every row compared), the app keeps
running and later writes succeed once there is room again; a failed export leaves no file and no
temporary ``.part`` file, the CLI exits non-zero with one line, the app says so.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import fixed_now, screen_text, settle, until
from test_hardening_lock import (
    integrity_ok,
    main_screen,
    no_traceback,
    notices,
    open_rename_editor,
    press_delete,
    session_state,
    snapshot,
    title_of,
)
from textual.widgets import Input, Static

import store.export
from store import DiskFullError, SessionDB
from tui.actions import open_export
from tui.app import HermesBrowseApp
from tui.cli import main as cli_main
from tui.data import Browser
from tui.screens.export import ExportScreen

SIZE = (120, 40)
ROOMY = 1_073_741_823  # pages: room again
BALLAST_SESSION = "s-old"  # grows to fill the file; shown nowhere the tests look

# ── faults ──────────────────────────────────────────────────────────────────────────────────


def set_max_pages(db: SessionDB, pages: int | None = None) -> int:
    """Limit the writer connection's file to ``pages`` (default: its current size); return it."""
    def limit(c: sqlite3.Connection) -> int:
        n = pages if pages is not None else int(c.execute("PRAGMA page_count").fetchone()[0])
        return int(c.execute(f"PRAGMA max_page_count = {int(n)}").fetchone()[0])
    return db._execute_write(limit)


def fill_to_the_brim(db: SessionDB) -> int:
    """Cap the file at its size, then grow the ballast until not one more byte fits.
    Returns how many disk-full errors filling it took (faults injected)."""
    db.wait_for_maintenance()
    set_max_pages(db)
    faults, size = 0, 4096
    while size >= 1:
        try:
            db._execute_write(lambda c, n=size: c.execute(  # type: ignore[misc]
                "UPDATE sessions SET system_prompt = coalesce(system_prompt, '') || ? WHERE id = ?",
                ("b" * n, BALLAST_SESSION)))
        except DiskFullError:
            faults += 1
            size //= 2
    return faults


def add_ballast_trigger(db: SessionDB) -> None:
    """On the writer connection only: deleting a session first writes 64 KB of ballast."""
    db._execute_write(lambda c: c.execute(
        "CREATE TEMP TRIGGER IF NOT EXISTS ballast BEFORE DELETE ON main.sessions "
        f"WHEN old.id != '{BALLAST_SESSION}' BEGIN "
        f"UPDATE sessions SET system_prompt = coalesce(system_prompt, '') || hex(zeroblob(32768)) "
        f"WHERE id = '{BALLAST_SESSION}'; END"))


def make_room(db: SessionDB) -> None:
    db._execute_write(lambda c: c.execute("DROP TRIGGER IF EXISTS temp.ballast"))
    set_max_pages(db, ROOMY)


def fts_ok(path: Path) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("INSERT INTO messages_fts(messages_fts) VALUES('integrity-check')")
    finally:
        con.close()


class _FullFile:
    """Wraps the export's file: ``room`` characters get written, then ENOSPC, as on a full disk."""

    def __init__(self, fh: IO[str], room: int) -> None:
        self._fh, self._room = fh, room

    def write(self, text: str) -> int:
        if len(text) > self._room:
            self._fh.write(text[: self._room])
            self._fh.flush()
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(text)
        return self._fh.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __enter__(self) -> _FullFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


def full_disk_on_write(monkeypatch: pytest.MonkeyPatch, room: int = 2000) -> list[int]:
    """Every file the export opens fills up after ``room`` characters; returns the fault count."""
    faults: list[int] = []
    real = os.fdopen

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        faults.append(fd)
        return _FullFile(real(fd, *args, **kwargs), room)

    monkeypatch.setattr(store.export.os, "fdopen", fdopen)
    return faults


def full_disk_on_fsync(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    faults: list[int] = []

    def fsync(fd: int) -> None:
        faults.append(fd)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store.export.os, "fsync", fsync)
    return faults


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ── the store ───────────────────────────────────────────────────────────────────────────────


def test_store_writes_on_a_full_disk_fail_clearly_and_lose_nothing(small_db: Path) -> None:
    with SessionDB(small_db) as db:
        faults = fill_to_the_brim(db)
        assert faults >= 1
        before = snapshot(small_db)
        for name, write in (
            ("rename", lambda: db.set_session_title("s-3h", "A new title that needs a little room")),
            ("append", lambda: db.append_message("s-now", "user", "one more message " * 200)),
            ("new session", lambda: db.create_session("s-new", "cli")),
        ):
            with pytest.raises(DiskFullError) as info:
                write()
            assert isinstance(info.value, sqlite3.OperationalError)  # what reference callers catch
            text = str(info.value)
            assert "disk is full" in text and "rolled back" in text and "earlier data is intact" in text, name
        # a delete that fails half way (messages already deleted in the transaction): nothing of it stays
        add_ballast_trigger(db)
        with pytest.raises(DiskFullError):
            db.delete_session("s-yday")
        with pytest.raises(DiskFullError):
            db.delete_sessions(["s-now", "s-3h"])
        assert session_state(small_db, "s-yday") == (True, 2)
        assert snapshot(small_db) == before  # not one committed row lost or changed
        assert integrity_ok(small_db)
        fts_ok(small_db)
        # room again: the same writes succeed, the store never stopped
        make_room(db)
        assert db.set_session_title("s-3h", "A new title that needs a little room") is True
        assert db.append_message("s-now", "user", "one more message " * 200) > 0
        assert db.delete_session("s-yday") is True
        assert session_state(small_db, "s-yday") == (False, 0)
        assert title_of(small_db, "s-3h") == "A new title that needs a little room"
        assert session_state(small_db, "s-now") == (True, 3)
    sessions, messages = snapshot(small_db)
    assert len(sessions) == 10 and len(messages) == len(before[1]) - 2 + 1
    assert integrity_ok(small_db)
    fts_ok(small_db)


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_store_export_on_a_full_disk_leaves_nothing(
    small_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("an unrelated file")
    dest = out / "history.jsonl"
    with SessionDB(small_db, read_only=True) as db:
        faults = full_disk_on_write(monkeypatch) if where == "write" else full_disk_on_fsync(monkeypatch)
        for export in (db.export_jsonl, db.export_markdown):
            with pytest.raises(OSError) as info:
                export(dest)
            assert info.value.errno == errno.ENOSPC
            assert info.value.filename == str(dest)  # says which export failed
            assert listing(out) == ["keep.txt"]  # no file, no .part left behind
        # an existing export is kept as it was when its replacement fails
        dest.write_text("the previous export\n")
        with pytest.raises(OSError):
            db.export_jsonl(dest, overwrite=True)
        assert dest.read_text() == "the previous export\n" and listing(out) == ["history.jsonl", "keep.txt"]
        assert len(faults) == 3
        monkeypatch.undo()
        dest.unlink()
        assert db.export_jsonl(dest) == 11 and listing(out) == ["history.jsonl", "keep.txt"]


def test_cli_export_on_a_full_disk_exits_nonzero_with_one_line(
    small_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "all.md"
    full_disk_on_write(monkeypatch, room=500)
    code = cli_main(["export", "--db", str(small_db), "--all", "--format", "md", "-o", str(dest)])
    captured = capsys.readouterr()
    assert code != 0
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "No space left on device" in lines[0] and str(dest) in lines[0], lines[0]
    assert "Traceback" not in captured.err and captured.out == ""
    assert listing(out) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_cli_export_to_dev_full_is_a_real_enospc(small_db: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "tui", "export", "--db", str(small_db), "--all", "-o", "-"],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], proc.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_export_to_a_fifo_or_a_device_writes_in_place(small_db: Path, tmp_path: Path) -> None:
    """An existing FIFO or character device is written in place: renaming a temporary file over it
    would replace it with a regular file (as root, ``-o /dev/null --force`` would break /dev/null)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    with SessionDB(small_db, read_only=True) as db:
        assert db.export_jsonl(fifo, overwrite=True) == 11
        reader.join(10)
        assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the pipe, not a file put in its place
        assert len(got) == 1 and len(got[0].splitlines()) == 11
        assert not [name for name in listing(tmp_path) if name.endswith(".part")]
        # only now (the in-place path is proven, so /dev/full cannot be replaced): a real ENOSPC
        if Path("/dev/full").exists() and stat.S_ISCHR(os.stat("/dev/full").st_mode):
            with pytest.raises(OSError) as info:
                db.export_jsonl(Path("/dev/full"), overwrite=True)
            assert info.value.errno == errno.ENOSPC and info.value.filename == "/dev/full"
            assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    if Path("/dev/full").exists() and stat.S_ISCHR(os.stat("/dev/full").st_mode):
        proc = subprocess.run(
            [sys.executable, "-m", "tui", "export", "--db", str(small_db), "--all", "-o", "/dev/full", "--force"],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert proc.returncode != 0
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "/dev/full: No space left on device" in lines[0], proc.stderr
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


# ── the app ─────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def app_and_db(small_db: Path) -> Iterator[tuple[HermesBrowseApp, SessionDB]]:
    db = SessionDB(small_db)
    app = HermesBrowseApp(browser=Browser(db, now=fixed_now), path_label="~/.hermes/state.db")
    yield app, db
    db.close()


async def test_app_rename_on_a_full_disk_says_so_and_works_once_there_is_room(
    app_and_db: tuple[HermesBrowseApp, SessionDB], small_db: Path
) -> None:
    app, db = app_and_db
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        fill_to_the_brim(db)
        before = snapshot(small_db)
        editor = await open_rename_editor(pilot, app, 2)  # s-3h
        editor.input.value = "Renamed when the disk was full"
        await pilot.press("enter")
        await until(pilot, lambda: editor.error is not None, timeout=20)
        assert editor.error is not None and "disk is full" in editor.error, editor.error
        # the error is set before the screen repaints it: wait for what the user reads
        await until(pilot, lambda: "disk is full" in screen_text(app) and "earlier data is intact" in screen_text(app))
        no_traceback(app)
        assert snapshot(small_db) == before
        assert app.is_running and main_screen(app).session_list.total == 9  # 11 sessions, a chain of 3 is one row
        make_room(db)
        await pilot.press("enter")  # the same edit, retried
        await until(pilot, lambda: main_screen(app).title_editor is None, timeout=20)
        assert title_of(small_db, "s-3h") == "Renamed when the disk was full"
    assert integrity_ok(small_db)


async def test_app_delete_on_a_full_disk_says_so_and_deletes_nothing(
    app_and_db: tuple[HermesBrowseApp, SessionDB], small_db: Path
) -> None:
    app, db = app_and_db
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        fill_to_the_brim(db)
        add_ballast_trigger(db)
        before = snapshot(small_db)
        await press_delete(pilot, app, 3)  # s-yday
        await until(pilot, lambda: "Could not delete" in notices(app), timeout=20)
        assert "disk is full" in notices(app) and "earlier data is intact" in notices(app)
        no_traceback(app)
        assert session_state(small_db, "s-yday") == (True, 2) and snapshot(small_db) == before
        assert main_screen(app).session_list.total == 9  # 11 sessions, a chain of 3 is one row
        make_room(db)
        await press_delete(pilot, app, 3)
        await until(pilot, lambda: "Session deleted." in notices(app), timeout=20)
        assert session_state(small_db, "s-yday") == (False, 0)
        await until(pilot, lambda: main_screen(app).session_list.total == 8)
    assert integrity_ok(small_db)


async def test_app_export_on_a_full_disk_says_so_and_leaves_no_file(
    app_and_db: tuple[HermesBrowseApp, SessionDB], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _db = app_and_db
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "everything.jsonl"
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(app)
        faults = full_disk_on_write(monkeypatch)
        open_export(screen, everything=True)
        await until(pilot, lambda: isinstance(app.screen, ExportScreen)
                    and "Everything: 11 sessions" in screen_text(app))
        export = app.screen
        export.query_one("#export-dest", Input).value = str(dest)
        await pilot.pause()
        await pilot.click("#export-confirm")
        await until(pilot, lambda: export.query_one("#export-error").has_class("-shown"), timeout=20)
        assert faults and app.screen is export
        error = str(export.query_one("#export-error", Static).render())
        assert "Export failed, no file was written" in error and "disk is full" in error, error
        assert any("Export failed" in str(n.message) for n in app._notifications)
        no_traceback(app)
        assert listing(out) == []  # no file, no .part
        monkeypatch.undo()  # room again
        await pilot.click("#export-confirm")
        await until(pilot, lambda: app.screen is screen, timeout=20)
        assert len(dest.read_text().splitlines()) == 11 and listing(out) == ["everything.jsonl"]
