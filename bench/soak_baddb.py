"""Bad databases, tried every way a user meets them: ``python -m bench.soak_baddb``.

Each case damages a copy of a small healthy store (truncated at several points, a corrupt b-tree
page, a ``-wal`` from another database, the search index dropped or garbled, tables and columns
another program added) and then opens it three ways: the store (``SessionDB(read_only=True)``),
the app's open path (``Browser.open_existing``, which may open read-write) and the command line
(``hermes-browse stats`` and ``search``). It prints one table: what opened, what was refused, what
browsing could still do, and how many files changed (the database, its ``-wal``, anything new
beside it: hashed, sized and timed before and after). The case builders are shared with
``tests/test_hardening_baddb.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from store import SessionDB, StoreError

WORDS = ("apple", "kernel", "docker", "wombat", "compose", "lattice", "harbor", "quartz")


# ── building ─────────────────────────────────────────────────────────────────────────────────


def build_base(path: Path, sessions: int = 30, per_session: int = 12) -> Path:
    """A healthy store: ``sessions`` sessions of ``per_session`` messages, trigram index complete,
    checkpointed (no ``-wal`` left)."""
    rnd = random.Random(5)
    with SessionDB(path) as db:
        for s in range(sessions):
            sid = f"s{s:03d}"
            db.create_session(sid, ("cli", "telegram")[s % 2], model="m1")
            for i in range(per_session):
                words = " ".join(rnd.choice(WORDS) for _ in range(40))
                db.append_message(sid, ("user", "assistant")[i % 2], f"{sid} message {i}: {words}")
        db.wait_for_maintenance()
    return path


def _page_size(path: Path) -> int:
    with open(path, "rb") as fh:
        head = fh.read(18)
    size = int.from_bytes(head[16:18], "big")
    return 65536 if size == 1 else size


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _truncate(size: Callable[[Path], int]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: size(path)])
    return damage


def _corrupt_page(which: str) -> Callable[[Path], None]:
    """Overwrite most of one b-tree page of ``messages``: its root or its first (oldest) leaf."""
    def damage(path: Path) -> None:
        con = _raw(path)
        try:
            if which == "root":
                page = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").fetchone()[0]
            else:
                page = con.execute(
                    "SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf' ORDER BY path LIMIT 1"
                ).fetchone()[0]
        finally:
            con.close()
        ps = _page_size(path)
        with open(path, "r+b") as fh:
            fh.seek((page - 1) * ps + (100 if page == 1 else 0))
            fh.write(bytes(random.Random(page).randrange(256) for _ in range(ps - 200)))
    return damage


def _foreign_wal(path: Path) -> None:
    """A ``-wal`` holding committed frames of another store (B), copied next to this one (A)."""
    other = path.parent / "other" / "b.db"
    other.parent.mkdir()
    build_base(other, sessions=5, per_session=3)
    _leave_wal(other, session="b-only", text="banana from database b")
    shutil.copyfile(Path(f"{other}-wal"), Path(f"{path}-wal"))
    shutil.rmtree(other.parent)


def _leave_wal(path: Path, *, session: str = "s-new", text: str = "zucchini newest message") -> None:
    """Commit one session to the ``-wal`` and keep it there, as a crash would (no checkpoint)."""
    snap = path.parent / "crash-copy"
    snap.mkdir()
    con = _raw(path)
    try:
        con.execute("PRAGMA wal_autocheckpoint = 0")
        con.execute("INSERT INTO sessions (id, source, started_at) VALUES (?, 'cli', 1.0e9)", (session,))
        con.execute(
            "INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, 'user', ?, 1.0e9)",
            (session, text),
        )
        for suffix in ("", "-wal"):  # copied while the connection is open: a crash's leftovers
            shutil.copyfile(Path(f"{path}{suffix}"), snap / f"{path.name}{suffix}")
    finally:
        con.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    for suffix in ("", "-wal"):
        shutil.copyfile(snap / f"{path.name}{suffix}", Path(f"{path}{suffix}"))
    shutil.rmtree(snap)


def _sql(*statements: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        con = _raw(path)
        try:
            for stmt in statements:
                con.execute(stmt)
        finally:
            con.close()
    return damage


def _garble(table: str) -> Callable[[Path], None]:
    """Overwrite the FTS5 shadow table's segment blocks with noise (ids 1 and 10: structure/averages)."""
    def damage(path: Path) -> None:
        con = _raw(path)
        rnd = random.Random(11)
        try:
            rows = con.execute(f"SELECT id, length(block) FROM {table} WHERE id > 10").fetchall()
            for rowid, size in rows:
                con.execute(f"UPDATE {table} SET block = ? WHERE id = ?", (rnd.randbytes(size or 8), rowid))
        finally:
            con.close()
    return damage


@dataclass(frozen=True)
class Case:
    name: str
    damage: Callable[[Path], None]
    expect: str  # "opens", "opens read-only", "refused"


CASES: tuple[Case, ...] = (
    Case("truncated in the header (50 bytes)", _truncate(lambda p: 50), "refused"),
    Case("truncated in the header (99 bytes)", _truncate(lambda p: 99), "refused"),
    Case("truncated inside page 1", _truncate(lambda p: _page_size(p) // 2), "refused"),
    Case("truncated mid-file (half, whole pages)",
         _truncate(lambda p: (p.stat().st_size // 2) // _page_size(p) * _page_size(p)), "refused"),
    Case("truncated mid-file (half, mid-page)", _truncate(lambda p: p.stat().st_size // 2 + 123), "refused"),
    Case("last page cut off", _truncate(lambda p: p.stat().st_size - _page_size(p)), "refused"),
    Case("corrupt messages root page", _corrupt_page("root"), "refused"),
    Case("corrupt messages leaf page", _corrupt_page("leaf"), "opens"),
    Case("-wal of another database", _foreign_wal, "refused"),
    Case("-wal with unmerged commits (crash)", _leave_wal, "opens read-only"),
    Case("messages_fts dropped", _sql("DROP TABLE messages_fts"), "opens read-only"),
    Case("messages_fts garbled", _garble("messages_fts_data"), "opens"),
    Case("messages_trgm garbled", _garble("messages_trgm_data"), "opens"),
    Case("unknown tables and columns", _sql(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
        "INSERT INTO notes (body) VALUES ('kept')",
        "ALTER TABLE sessions ADD COLUMN mood TEXT DEFAULT 'calm'",
        "ALTER TABLE messages ADD COLUMN extra_json TEXT",
        "CREATE INDEX idx_notes_body ON notes(body)",
        "CREATE VIEW notes_view AS SELECT body FROM notes",
    ), "opens"),
)


def make_case(case: Case, folder: Path, template: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "state.db"
    shutil.copyfile(template, path)
    os.chmod(path, 0o600)
    case.damage(path)
    return path


# ── looking ──────────────────────────────────────────────────────────────────────────────────


def snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file beside the database: size, mtime (ns) and sha256."""
    out: dict[str, tuple[int, int, str]] = {}
    for name in sorted(os.listdir(folder)):
        p = folder / name
        if p.is_file():
            st = p.stat()
            out[name] = (st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def changed_files(before: dict[str, tuple[int, int, str]], after: dict[str, tuple[int, int, str]]) -> list[str]:
    return sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))


@dataclass
class Outcome:
    """What one way of opening did: ``opened`` (read-write or read-only), or the error line."""

    opened: bool = False
    read_only: bool = False
    reason: str = ""
    error: str = ""
    raw_errors: list[str] = field(default_factory=list)  # anything that was not a StoreError
    browse_errors: list[str] = field(default_factory=list)
    sessions: int = 0
    searched: bool = False

    @property
    def label(self) -> str:
        if not self.opened:
            return "refused"
        return "opens read-only" if self.read_only else "opens"


def browse(db: SessionDB, out: Outcome) -> None:
    """List, read every session, search: collect clear errors (and any raw one)."""
    def attempt(fn: Callable[[], object]) -> object:
        try:
            return fn()
        except StoreError as exc:
            out.browse_errors.append(str(exc))
        except Exception as exc:
            out.raw_errors.append(f"{type(exc).__name__}: {exc}")
        return None

    page = attempt(lambda: db.list_sessions_page(limit=500))
    if isinstance(page, list):
        out.sessions = len(page)
        for row in page:
            attempt(lambda sid=row["id"]: db.get_messages(sid))
    hits = attempt(lambda: db.search_messages("wombat"))
    out.searched = isinstance(hits, list) and len(hits) > 0
    attempt(lambda: db.search_messages("ombat"))  # the trigram route
    attempt(db.get_stats)


def try_store(path: Path) -> Outcome:
    out = Outcome()
    try:
        db = SessionDB(path, read_only=True)
    except StoreError as exc:
        out.error = str(exc)
        return out
    except Exception as exc:
        out.raw_errors.append(f"{type(exc).__name__}: {exc}")
        return out
    try:
        out.opened, out.read_only, out.reason = True, db.read_only, db.read_only_reason or ""
        browse(db, out)
    finally:
        db.close()
    return out


def try_app_open(path: Path) -> Outcome:
    from tui.data import Browser

    out = Outcome()
    try:
        browser = Browser.open_existing(path, read_only=False, lock_timeout=1.0)
    except StoreError as exc:
        out.error = str(exc)
        return out
    except Exception as exc:
        out.raw_errors.append(f"{type(exc).__name__}: {exc}")
        return out
    try:
        out.opened, out.read_only, out.reason = True, browser.read_only, browser.read_only_reason or ""
        browse(browser.db, out)
    finally:
        browser.close()
    return out


def try_cli(path: Path, *args: str) -> tuple[int, str]:
    """Run ``hermes-browse ARGS --db PATH`` in this process; (exit code, stderr)."""
    from tui import cli

    err, so = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(so):
        try:
            code = cli.main([*args, "--db", str(path)])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, err.getvalue()


@dataclass
class Row:
    case: str
    expect: str
    store: Outcome
    app: Outcome
    cli_stats: tuple[int, str]
    cli_search: tuple[int, str]
    cli_doctor: tuple[int, str]
    modified: list[str]
    seconds: float

    @property
    def clean(self) -> bool:
        lines_ok = all(
            "Traceback" not in err and err.count("\n") <= 1
            for code, err in (self.cli_stats, self.cli_search) if code == 2
        )
        return not (self.store.raw_errors or self.app.raw_errors or self.modified) and lines_ok


def run_case(case: Case, work: Path, template: Path) -> Row:
    folder = work / case.name.replace(" ", "_").replace("/", "_")
    path = make_case(case, folder, template)
    before = snapshot(folder)
    t0 = time.perf_counter()
    store_out = try_store(path)
    app_out = try_app_open(path)
    stats = try_cli(path, "stats")
    found = try_cli(path, "search", "wombat")
    doctor = try_cli(path, "doctor")
    seconds = time.perf_counter() - t0
    return Row(case.name, case.expect, store_out, app_out, stats, found, doctor,
               changed_files(before, snapshot(folder)), seconds)


def _cell(out: Outcome) -> str:
    if out.raw_errors:
        return "RAW ERROR"
    if not out.opened:
        return "refused"
    extra = " (search ok)" if out.searched else " (search: no hits/error)"
    return out.label + extra


def table(rows: list[Row]) -> str:
    lines = [
        "| case | expected | store | app open | CLI stats | CLI search | doctor | files modified |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.case} | {r.expect} | {_cell(r.store)} | {_cell(r.app)} | exit {r.cli_stats[0]} "
            f"| exit {r.cli_search[0]} | exit {r.cli_doctor[0]} | {len(r.modified)} |"
        )
    opened = sum(r.app.opened for r in rows)
    lines.append("")
    lines.append(
        f"cases {len(rows)} · opened {opened} (read-only {sum(r.app.read_only for r in rows if r.app.opened)}) "
        f"· refused {len(rows) - opened} · raw errors {sum(bool(r.store.raw_errors or r.app.raw_errors) for r in rows)}"
        f" · files modified {sum(len(r.modified) for r in rows)} · as expected "
        f"{sum(r.app.label == r.expect for r in rows)}/{len(rows)}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--verbose", "-v", action="store_true", help="print each case's messages")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-baddb-") as tmp:
        work = Path(tmp)
        template = build_base(work / "template" / "state.db")
        rows = [run_case(case, work, template) for case in CASES]
    print(table(rows))
    if args.verbose:
        for r in rows:
            print(f"\n## {r.case}")
            for label, out in (("store", r.store), ("app", r.app)):
                print(f"  {label}: {out.label} {out.reason or out.error}")
                for e in (out.raw_errors + out.browse_errors)[:3]:
                    print(f"    ! {e}")
            for label, (code, err) in (("stats", r.cli_stats), ("search", r.cli_search), ("doctor", r.cli_doctor)):
                print(f"  cli {label}: exit {code} {err.strip()[:300]}")
            if r.modified:
                print(f"  MODIFIED: {r.modified}")
    return 0 if all(r.clean for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
