"""Crash soak: SIGKILL a writer process in the middle of a prune, an import and renames.

``python -m bench.soak_crash`` runs each operation in a child process, kills it with SIGKILL at
seeded random points, then checks what the crash left with plain SQLite connections:

* ``PRAGMA integrity_check``, ``PRAGMA foreign_key_check``, the FTS5 ``integrity-check`` of
  ``messages_fts``, and of ``messages_trgm`` over its window (see ``store.doctor.fts_check``);
* that the operation was all or nothing: a prune deletes every candidate or none (it is one
  transaction), with every message and parent link consistent; an import leaves each session
  whole (all its messages, exactly as in the source) or absent; a rename leaves the old or the new
  title, never anything else, and titles stay unique;
* that nothing else was lost, and that running the operation again finishes it.

It prints a Markdown table: operation, kills, integrity failures, half-applied ops found, rows
lost (and the first problems found, if any). ``tests/test_hardening_crash.py`` runs the same
scenarios with fewer kills and smaller data.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from store import SessionDB  # noqa: E402
from store.demo import DEFAULT_NOW, generate  # noqa: E402
from store.doctor import fts_check  # noqa: E402
from tests.store_helpers import child_env  # noqa: E402

PRUNE_DAYS = 30.0


@dataclass
class Tally:
    """What the kills of one operation found. ``problems`` holds the first few, in words."""

    operation: str
    kills: int = 0
    integrity_failures: int = 0
    half_applied: int = 0
    rows_lost: int = 0
    problems: list[str] = field(default_factory=list)
    landed: dict[str, int] = field(default_factory=dict)  # where the kills fell, for the report

    def landed_at(self, what: str) -> None:
        self.landed[what] = self.landed.get(what, 0) + 1

    def note(self, kind: str, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.problems) < 20:
            self.problems.append(f"{self.operation}: {text}")

    @property
    def ok(self) -> bool:
        return not (self.integrity_failures or self.half_applied or self.rows_lost)


# ── plain SQLite access (never through the store under test) ─────────────────────────────────


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=10.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = connect(path)
    try:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def integrity_problems(path: Path) -> list[str]:
    """Everything wrong with the file as a database, in words (empty: sound)."""
    out: list[str] = []
    conn = connect(path)
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            out.append(f"integrity_check: {result[:3]}")
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            out.append(f"foreign_key_check: {len(fk)} rows, e.g. {tuple(fk[0])}")
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        for table in ("messages_fts", "messages_trgm"):
            problem = fts_check(conn, table) if table in names else None
            if problem:
                out.append(f"{table} integrity-check: {problem}")
        orphans = conn.execute(
            "SELECT count(*) FROM messages WHERE session_id NOT IN (SELECT id FROM sessions)"
        ).fetchone()[0]
        if orphans:
            out.append(f"{orphans} messages of no session")
        dupes = conn.execute(
            "SELECT title, count(*) FROM sessions WHERE title IS NOT NULL GROUP BY title HAVING count(*) > 1"
        ).fetchall()
        if dupes:
            out.append(f"duplicate titles: {dupes[:3]}")
    finally:
        conn.close()
    return out


# ── child processes ──────────────────────────────────────────────────────────────────────────


def start(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], env=child_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def sigkill(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGKILL the child (if still running); return the rest of its stdout and its stderr."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    # Not communicate(): it reads the raw pipes and would miss lines that readline() has already
    # buffered. The child is dead, so these reads end at EOF.
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    return out, err


class Watchdog:
    """Kill the child if a scenario hangs (never a timed assertion: it only unblocks reads)."""

    def __init__(self, proc: subprocess.Popen[str], seconds: float = 120.0) -> None:
        self._timer = threading.Timer(seconds, lambda: proc.poll() is None and proc.kill())
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


@contextlib.contextmanager
def watched(script: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """A child running ``script``, under a watchdog, sure to be dead (and reaped) afterwards."""
    proc = start(script, *args)
    dog = Watchdog(proc)
    try:
        yield proc
    finally:
        dog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def fresh_copy(src: Path, path: Path) -> Path:
    """``path`` as a copy of ``src``, with no -wal/-shm of an earlier round beside it."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(src, path)
    return path


def count_kill(path: Path, tally: Tally) -> None:
    """One more kill in the tally, and whatever integrity problems it left."""
    tally.kills += 1
    for p in integrity_problems(path):
        tally.note("integrity_failures", p)


def read_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"child stopped early: {err.strip()[-500:]}")
    return line.strip()


# ── (a) prune ────────────────────────────────────────────────────────────────────────────────

_PRUNER = """
import sys
from store import SessionDB
import time
path, days, now, hold = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
db = SessionDB(path)
print("ready", flush=True)
seen = [0]
def progress(d, t):
    print(f"progress {d} {t}", flush=True)
    seen[0] += 1
    if seen[0] == hold:  # inside the prune's transaction: wait here to be killed
        print("holding", flush=True)
        time.sleep(3600)
n = db.prune_sessions(days, now=now, progress=progress)
print(f"done {n}", flush=True)
db.close()
"""


def build_prune_source(folder: Path, sessions: int, seed: int) -> Path:
    """A demo history with long compression chains, most of it older than PRUNE_DAYS."""
    path = folder / f"prune-src-{sessions}-{seed}.db"
    if not path.exists():
        generate(path, sessions=sessions, seed=seed, messages_per_session=(0, 12), trigram=True)
    return path


def _snapshot(path: Path) -> tuple[dict[str, tuple[Any, ...]], dict[str, int]]:
    sess = {r[0]: r[1:] for r in rows(path, "SELECT id, parent_session_id, ended_at, last_active FROM sessions")}
    counts = dict(rows(path, "SELECT session_id, count(*) FROM messages GROUP BY session_id"))
    return sess, counts  # type: ignore[return-value]


def prune_once(src: Path, work: Path, rng: random.Random, tally: Tally, *, hold_at: int = 0) -> None:
    """One prune killed at a seeded random point, or (``hold_at`` N > 0) while it waits inside its
    transaction after the N-th progress report (a kill that certainly lands before COMMIT)."""
    path = work / "prune.db"
    fresh_copy(src, path)
    cutoff = DEFAULT_NOW - PRUNE_DAYS * 86400.0
    before, counts = _snapshot(path)
    doomed = {sid for sid, (_p, ended, la) in before.items() if ended is not None and la < cutoff}
    chunks = max(1, -(-len(doomed) // 500))
    after_lines = rng.randrange(0, chunks + 1)  # progress lines to see before the kill
    extra_ms = rng.uniform(0.0, 30.0)
    finished = False
    with watched(_PRUNER, str(path), str(PRUNE_DAYS), str(DEFAULT_NOW), str(hold_at)) as proc:
        assert read_line(proc) == "ready"
        if hold_at:
            while read_line(proc) != "holding":
                pass
        else:
            for _ in range(after_lines):
                if read_line(proc).startswith("done"):
                    finished = True
                    break
            time.sleep(extra_ms / 1000.0)
        out, _err = sigkill(proc)
        finished = finished or "done" in out
    count_kill(path, tally)
    applied = not doomed or not (doomed & set(_snapshot(path)[0]))
    tally.landed_at("committed" if applied else "rolled back")
    _check_prune(path, before, counts, doomed, tally, must_be_done=finished)
    # Running it again finishes it.
    with SessionDB(path) as db:
        db.prune_sessions(PRUNE_DAYS, now=DEFAULT_NOW)
    for p in integrity_problems(path):
        tally.note("integrity_failures", f"after re-run: {p}")
    _check_prune(path, before, counts, doomed, tally, must_be_done=True)


def _check_prune(
    path: Path,
    before: dict[str, tuple[Any, ...]],
    counts: dict[str, int],
    doomed: set[str],
    tally: Tally,
    *,
    must_be_done: bool,
) -> None:
    after, now_counts = _snapshot(path)
    gone = doomed - after.keys()
    if gone and gone != doomed:
        tally.note("half_applied", f"{len(gone)} of {len(doomed)} prune candidates deleted (one transaction)")
    if must_be_done and gone != doomed:
        tally.note("half_applied", f"prune reported done but {len(doomed - gone)} candidates remain")
    applied = bool(gone)
    lost = [sid for sid in before if sid not in doomed and sid not in after]
    if lost:
        tally.note("rows_lost", f"{len(lost)} sessions that were not candidates are gone, e.g. {lost[0]}")
    for sid in after:
        if now_counts.get(sid, 0) != counts.get(sid, 0):
            kind = "half_applied" if sid in doomed else "rows_lost"
            tally.note(kind, f"session {sid}: {now_counts.get(sid, 0)} of {counts.get(sid, 0)} messages")
            break
    for sid, (parent, *_rest) in after.items():
        old_parent = before[sid][0]
        want = None if (applied and old_parent in doomed) else old_parent
        if parent != want:
            tally.note("half_applied", f"session {sid}: parent {parent!r}, expected {want!r}")
            break


# ── (b) import ───────────────────────────────────────────────────────────────────────────────

_IMPORTER = """
import sys
from store import SessionDB
import time
import store.importer as imp
path, src, per_batch, hold = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
insert, calls = imp._insert_messages, [0]
def held(*args, **kwargs):
    calls[0] += 1
    if calls[0] == hold:  # inside a batch's transaction, a session's row written, not yet its messages
        print("holding", flush=True)
        time.sleep(3600)
    return insert(*args, **kwargs)
imp._insert_messages = held
db = SessionDB(path)
print("ready", flush=True)
r = db.import_jsonl(src, batch_sessions=per_batch)
print(f"done {r.imported}", flush=True)
db.close()
"""

_SESSION_KEYS_IGNORED = ("title", "parent_session_id")


def build_import_source(folder: Path, sessions: int, seed: int) -> tuple[Path, Path, Path]:
    """(export JSONL of a demo history, that history's database, a different demo history to import
    into: other ids, overlapping titles)."""
    src_db = folder / f"import-src-{sessions}-{seed}.db"
    jsonl = folder / f"import-src-{sessions}-{seed}.jsonl"
    base = folder / f"import-base-{seed}.db"
    if not src_db.exists():
        generate(src_db, sessions=sessions, seed=seed, trigram=False)
    if not jsonl.exists():
        with SessionDB(src_db) as db:
            db.export_jsonl(jsonl)
    if not base.exists():
        generate(base, sessions=max(20, sessions // 5), seed=seed + 1000, trigram=True,
                 now=DEFAULT_NOW - 200 * 86400.0)
    return jsonl, src_db, base


def _export_map(path: Path) -> dict[str, dict[str, Any]]:
    with SessionDB(path, read_only=True) as db:
        return {r["id"]: r for r in db.iter_export()}


def _same_session(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """Why the imported ``b`` differs from the source ``a`` (None: the same)."""
    for key, value in a.items():
        if key in _SESSION_KEYS_IGNORED or key == "messages":
            continue
        if b.get(key) != value:
            return f"{key}: {b.get(key)!r} != {value!r}"
    ma, mb = a["messages"], b["messages"]
    if len(ma) != len(mb):
        return f"{len(mb)} of {len(ma)} messages"
    for i, (x, y) in enumerate(zip(ma, mb, strict=True)):
        dx = {k: v for k, v in x.items() if k != "id"}
        dy = {k: v for k, v in y.items() if k != "id"}
        if dx != dy:
            return f"message {i} differs"
    return None


def import_once(
    jsonl: Path, source: dict[str, dict[str, Any]], base: Path, work: Path, rng: random.Random, tally: Tally,
    *, per_batch: int = 8, hold_at: int = 0,
) -> None:
    """One import killed at a seeded random point once some sessions are in, or (``hold_at`` N > 0)
    while it waits inside a batch's transaction between the N-th session's row and its messages."""
    path = work / "import.db"
    fresh_copy(base, path)
    before = _export_map(path)
    target = rng.randrange(1, max(2, len(source) * 9 // 10))  # imported sessions to see before the kill
    extra_ms = rng.uniform(0.0, 20.0)
    with watched(_IMPORTER, str(path), str(jsonl), str(per_batch), str(hold_at)) as proc:
        assert read_line(proc) == "ready"
        if hold_at:
            assert read_line(proc) == "holding"
        conn = connect(path)
        try:
            while proc.poll() is None and not hold_at:
                n = conn.execute("SELECT count(*) FROM sessions").fetchone()[0] - len(before)
                if n >= target:
                    break
                time.sleep(0.002)
        finally:
            conn.close()
        time.sleep(extra_ms / 1000.0)
        sigkill(proc)
    count_kill(path, tally)
    present = len({r[0] for r in rows(path, "SELECT id FROM sessions")} & source.keys())
    tally.landed_at("finished" if present == len(source) else "mid-import" if present else "before any commit")
    _check_import(path, source, before, tally, complete=False)
    with SessionDB(path) as db:
        report = db.import_jsonl(jsonl)
    if report.conflicts or report.imported + report.skipped != len(source):
        tally.note("half_applied", f"re-run: imported {report.imported}, skipped {report.skipped}, "
                                   f"conflicts {len(report.conflicts)} of {len(source)}")
    for p in integrity_problems(path):
        tally.note("integrity_failures", f"after re-run: {p}")
    _check_import(path, source, before, tally, complete=True)


def _check_import(
    path: Path, source: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]], tally: Tally, *, complete: bool
) -> None:
    after = _export_map(path)
    for sid, rec in before.items():
        got = after.get(sid)
        if got is None or _same_session(rec, got) or got.get("title") != rec.get("title"):
            tally.note("rows_lost", f"pre-existing session {sid} changed or lost")
            return
    present = [sid for sid in source if sid in after]
    if complete and len(present) != len(source):
        tally.note("half_applied", f"after the re-run {len(source) - len(present)} sessions are missing")
    for sid in present:
        why = _same_session(source[sid], after[sid])
        if why:
            tally.note("half_applied", f"imported session {sid}: {why}")
            return
        parent = source[sid].get("parent_session_id")
        want = parent if parent in after else None
        if after[sid].get("parent_session_id") != want:
            tally.note("half_applied", f"session {sid}: parent {after[sid].get('parent_session_id')!r}, "
                                       f"expected {want!r}")
            return
        title, got = source[sid].get("title"), after[sid].get("title")
        if title != got and not (title and got and got.startswith(f"{title.split(' #')[0]} #")):
            tally.note("half_applied", f"session {sid}: title {got!r} for {title!r}")
            return
    extra = set(after) - set(source) - set(before)
    if extra:
        tally.note("half_applied", f"{len(extra)} sessions that are in neither file, e.g. {sorted(extra)[0]}")


# ── (c) rename ───────────────────────────────────────────────────────────────────────────────

_RENAMER = """
import sys
from store import SessionDB
import time
import store.titles as titles
path, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[4])
sys.path.insert(0, sys.argv[3])
from bench.soak_crash import rename_op
real, calls = titles.set_title, [0]
def held(*args, **kwargs):
    out = real(*args, **kwargs)
    calls[0] += 1
    if calls[0] == hold:  # the UPDATE done, inside the transaction: wait here to be killed
        print("holding", flush=True)
        time.sleep(3600)
    return out
titles.set_title = held
db = SessionDB(path)
print("ready", flush=True)
k = 0
while True:
    sid, title = rename_op(k, n)
    try:
        db.set_session_title(sid, title)
        print(f"{k} ok", flush=True)
    except ValueError:
        print(f"{k} conflict", flush=True)
    k += 1
"""

_FILLER = "déjà vu — 混合 текст ✓ "


def initial_title(i: int) -> str:
    return f"session {i} start"


def rename_op(k: int, n: int) -> tuple[str, str | None]:
    """The k-th rename of the loop: (session id, new title). Every 5th takes the title another
    session held at the start (a conflict while that one still has it), every 11th clears."""
    sid = f"r{k % n:03d}"
    if k % 11 == 10:
        return sid, None
    if k % 5 == 4:
        return sid, initial_title((k + 1) % n)
    body = f"title {k} of {sid} · " + _FILLER * (1 + k % 4)
    return sid, body[:100].strip()


def build_rename_source(folder: Path, n: int) -> Path:
    path = folder / f"rename-src-{n}.db"
    if not path.exists():
        with SessionDB(path) as db:
            for i in range(n):
                sid = f"r{i:03d}"
                db.create_session(sid, "cli")
                db.set_session_title(sid, initial_title(i))
                db.append_message(sid, "user", f"message of {sid}")
    return path


def rename_once(src: Path, n: int, work: Path, rng: random.Random, tally: Tally, *, hold_at: int = 0) -> None:
    """Renames in a loop killed after a seeded random number of them, or (``hold_at`` N > 0) while
    the N-th waits inside its transaction, its UPDATE done."""
    path = work / "rename.db"
    fresh_copy(src, path)
    acks_wanted = rng.randrange(5, 400)
    extra_ms = rng.uniform(0.0, 3.0)
    acked: list[tuple[int, str]] = []
    with watched(_RENAMER, str(path), str(n), str(ROOT), str(hold_at)) as proc:
        assert read_line(proc) == "ready"
        while hold_at or len(acked) < acks_wanted:
            line = read_line(proc)
            if line == "holding":
                break
            k, outcome = line.split()
            acked.append((int(k), outcome))
        time.sleep(extra_ms / 1000.0)
        out, _err = sigkill(proc)
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit():
                acked.append((int(parts[0]), parts[1]))
    tally.kills += 1
    tally.landed_at(f"after {len(acked)} acknowledged renames" if len(acked) < 10 else "after 10+ renames")
    for p in integrity_problems(path):
        tally.note("integrity_failures", p)
    # Replay what was acknowledged; the next operation may or may not have committed.
    expected = {f"r{i:03d}": initial_title(i) for i in range(n)}
    for k, outcome in acked:
        sid, title = rename_op(k, n)
        clash = title is not None and any(t == title and s != sid for s, t in expected.items())
        if clash != (outcome == "conflict"):
            tally.note("half_applied", f"rename {k}: child said {outcome}, replay says {'conflict' if clash else 'ok'}")
        if not clash:
            expected[sid] = title
    allowed = {sid: {title} for sid, title in expected.items()}
    nxt = len(acked)
    sid, title = rename_op(nxt, n)
    if not hold_at:  # killed at a random point: the next rename may have committed
        allowed[sid].add(title)
    got = dict(rows(path, "SELECT id, title FROM sessions"))
    for sid, options in allowed.items():
        if sid not in got:
            tally.note("rows_lost", f"session {sid} is gone")
        elif got[sid] not in options:
            wanted = sorted(map(str, options))
            tally.note("half_applied", f"session {sid}: title {got[sid]!r}, expected one of {wanted}")
    counts = dict(rows(path, "SELECT session_id, count(*) FROM messages GROUP BY session_id"))
    if any(counts.get(sid) != 1 for sid in allowed):
        tally.note("rows_lost", "a message of the rename test is gone")


# ── running ──────────────────────────────────────────────────────────────────────────────────


def run(
    *,
    kills: int = 10,
    prune_sessions: int = 2000,
    import_sessions: int = 600,
    rename_sessions: int = 30,
    seed: int = 1,
    folder: Path | None = None,
    operations: tuple[str, ...] = ("prune", "import", "rename"),
    log: Callable[[str], None] = lambda _m: None,
) -> list[Tally]:
    """Kill each operation ``kills`` times at seeded random points; return one tally each."""
    own = folder is None
    base = Path(tempfile.mkdtemp(prefix="soak-crash-")) if folder is None else folder
    tallies: list[Tally] = []
    try:
        rng = random.Random(seed)
        work = base / "work"
        work.mkdir(exist_ok=True)
        if "prune" in operations:
            tally = Tally("prune")
            src = build_prune_source(base, prune_sessions, seed)
            for i in range(kills):
                prune_once(src, work, rng, tally)
                log(f"prune kill {i + 1}/{kills}")
            tallies.append(tally)
        if "import" in operations:
            tally = Tally("import")
            jsonl, src_db, base_db = build_import_source(base, import_sessions, seed)
            source = _export_map(src_db)
            for i in range(kills):
                import_once(jsonl, source, base_db, work, rng, tally)
                log(f"import kill {i + 1}/{kills}")
            tallies.append(tally)
        if "rename" in operations:
            tally = Tally("rename")
            src = build_rename_source(base, rename_sessions)
            for i in range(kills):
                rename_once(src, rename_sessions, work, rng, tally)
                log(f"rename kill {i + 1}/{kills}")
            tallies.append(tally)
    finally:
        if own:
            shutil.rmtree(base, ignore_errors=True)
    return tallies


def table(tallies: list[Tally]) -> str:
    lines = [
        "| operation | kills | integrity failures | half-applied ops found | rows lost |",
        "|---|---:|---:|---:|---:|",
    ]
    for t in tallies:
        lines.append(f"| {t.operation} | {t.kills} | {t.integrity_failures} | {t.half_applied} | {t.rows_lost} |")
    lines.append("")
    for t in tallies:
        where = ", ".join(f"{n} {what}" for what, n in sorted(t.landed.items()))
        lines.append(f"- {t.operation}: kills landed {where or '-'}")
    problems = [p for t in tallies for p in t.problems]
    if problems:
        lines += ["", "Problems:", *(f"- {p}" for p in problems)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=25, help="kills per operation (default 25)")
    parser.add_argument("--prune-sessions", type=int, default=4000, help="demo sessions for the prune (4000)")
    parser.add_argument("--import-sessions", type=int, default=1500, help="demo sessions imported (1500)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("prune", "import", "rename"), action="append",
                        help="run only this operation (repeatable)")
    args = parser.parse_args(argv)
    if not hasattr(signal, "SIGKILL"):
        print("needs SIGKILL (POSIX)", file=sys.stderr)
        return 2
    began = time.perf_counter()
    tallies = run(
        kills=args.kills, prune_sessions=args.prune_sessions, import_sessions=args.import_sessions,
        seed=args.seed, operations=tuple(args.only or ("prune", "import", "rename")),
        log=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(table(tallies))
    print(f"\n{time.perf_counter() - began:.0f} s, seed {args.seed}")
    return 0 if all(t.ok for t in tallies) else 1


if __name__ == "__main__":
    raise SystemExit(main())
