"""Read-only places (issue 5, item 4): a database on a read-only file (0444) or in a read-only
folder (0555), in WAL mode with no sidecars, with a -wal holding commits not yet in the file (and
no -shm), and with both -wal and -shm. Each opens for browsing, read-only with the reason said,
shows the newest messages, refuses writes with the reason, exports to a writable place, and
creates or changes nothing beside the file.

Permissions do not bind root, so as root each check runs in a forked child that drops to
``nobody`` (65534) over files owned by ``nobody``: a genuine EACCES, as for any user.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.soak_baddb import _leave_wal, build_base, changed_files, snapshot
from store import ReadOnlyError, SessionDB
from tui.data import Browser

NOBODY = 65534
IS_ROOT = os.geteuid() == 0


def as_unprivileged(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``fn`` as an unprivileged user: directly when not root, else in a child as nobody."""
    if not IS_ROOT:
        return fn()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            out = fn()
        except BaseException as exc:  # report, never run pytest's teardown in the child
            out, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
        os.write(w, json.dumps(out, default=str).encode())
        os._exit(code)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_base(tmp_path_factory.mktemp("ro") / "state.db", sessions=4, per_session=4)


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder everyone may enter (pytest's tmp folders are 0700 to root)."""
    base = Path(tempfile.mkdtemp(prefix="hb-ro-"))
    os.chmod(base, 0o755)
    try:
        yield base
    finally:
        for p in [base, *base.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        shutil.rmtree(base)


def prepare(template: Path, base: Path, kind: str, sidecars: str) -> Path:
    folder = base / "data"
    folder.mkdir()
    path = folder / "state.db"
    shutil.copyfile(template, path)
    if sidecars in ("wal", "wal+shm"):
        _leave_wal(path)  # one session "s-new" only in the -wal
    if sidecars == "wal+shm":  # an -shm as a crashed agent leaves it (rebuilt by a reader)
        import sqlite3

        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        con.execute("SELECT count(*) FROM sessions").fetchone()
        con.close()
    for p in [folder, *folder.iterdir()]:
        if IS_ROOT:
            os.chown(p, NOBODY, NOBODY)
    for p in folder.iterdir():
        os.chmod(p, 0o444 if kind == "file" else 0o644)
    os.chmod(folder, 0o755 if kind == "file" else 0o555)
    return path


def browse_read_only(path: Path, export_to: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"writable": os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)}
    browser = Browser.open_existing(path)
    try:
        out["read_only"] = browser.read_only
        out["reason"] = browser.read_only_reason
        out["ids"] = [r["id"] for r in browser.db.list_sessions_page(limit=50)]
        out["hits"] = len(browser.db.search_messages("wombat"))
        refusals = []
        for attempt in (lambda: browser.rename("s000", "x"), lambda: browser.delete("s000"),
                        lambda: browser.prune(0.0)):
            try:
                attempt()
                refusals.append("no refusal")
            except ReadOnlyError as exc:
                refusals.append(str(exc))
        out["refusals"] = refusals
        out["exported"] = browser.db.export_jsonl(export_to)
    finally:
        browser.close()
    return out


CASES = [(k, s) for k in ("file", "folder") for s in ("none", "wal", "wal+shm")]


@pytest.mark.parametrize(("kind", "sidecars"), CASES, ids=[f"{k}-{s}" for k, s in CASES])
def test_read_only_place_opens_read_only_shows_everything_and_changes_nothing(
    template: Path, place: Path, kind: str, sidecars: str
) -> None:
    path = prepare(template, place, kind, sidecars)
    exports = place / "exports"
    exports.mkdir()
    if IS_ROOT:
        os.chown(exports, NOBODY, NOBODY)
    before = snapshot(path.parent)
    out = as_unprivileged(lambda: browse_read_only(path, exports / "all.jsonl"))
    assert "error" not in out, out
    assert out["writable"] is False  # a genuinely read-only place for the user who opened it
    assert out["read_only"] is True
    what = "state.db is not writable" if kind == "file" else "folder"
    assert what in out["reason"] and "not writable" in out["reason"]
    expected = {f"s{i:03d}" for i in range(4)} | ({"s-new"} if sidecars != "none" else set())
    assert set(out["ids"]) == expected  # the newest session, only in the -wal, is shown
    assert out["hits"] > 0
    assert len(out["refusals"]) == 3 and all("read-only" in r and "not writable" in r for r in out["refusals"])
    assert out["exported"] == len(expected) and (exports / "all.jsonl").exists()
    changed = changed_files(before, snapshot(path.parent))
    if sidecars == "wal+shm" and kind == "folder":
        # An existing -shm we may write is SQLite's shared memory: every reader of a live WAL writes
        # its read mark there. It holds no data; the database and its -wal stay byte-identical.
        changed = [n for n in changed if n != "state.db-shm"]
    assert changed == []  # nothing created, nothing changed
    assert sorted(os.listdir(path.parent)) == sorted(before)


def test_read_only_folder_with_wal_says_it_shows_a_snapshot(template: Path, place: Path) -> None:
    path = prepare(template, place, "folder", "wal")
    out = as_unprivileged(lambda: {"reason": SessionDB(path, read_only=True).read_only_reason})
    assert "private copy" in out["reason"]


def test_cli_refuses_prune_in_a_read_only_folder_with_the_reason(template: Path, place: Path) -> None:
    path = prepare(template, place, "folder", "none")

    def run() -> dict[str, Any]:
        import contextlib
        import io

        from tui import cli

        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["prune", "--older-than", "1", "--yes", "--db", str(path)])
        return {"code": code, "err": err.getvalue()}

    before = snapshot(path.parent)
    out = as_unprivileged(run)
    assert "error" not in out, out
    assert out["code"] == 2 and "read-only" in out["err"] and "not writable" in out["err"]
    assert out["err"].count("\n") == 1
    assert changed_files(before, snapshot(path.parent)) == []
