"""A writer killed with SIGKILL loses nothing it acknowledged and leaves a sound database."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from store_helpers import fts_integrity_ok, query, scalar, start_script

from store import SessionDB

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

_APPENDER = """
import sys, threading
from store import SessionDB
path, nthreads = sys.argv[1], int(sys.argv[2])
db = SessionDB(path)
db.create_session("crash", "cli")
lock = threading.Lock()
def work(t):
    k = 0
    while True:
        content = f"t{t} k{k} " + "payload " * (k % 7)
        mid = db.append_message("crash", "user" if k % 2 else "assistant", content,
                                tool_calls=[{"id": f"c{k}"}] if k % 3 == 0 else None)
        with lock:
            sys.stdout.write(f"{mid} {t} {k}\\n")
            sys.stdout.flush()
        k += 1
threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(nthreads)]
for t in threads: t.start()
for t in threads: t.join()
"""


def _kill_after(proc: subprocess.Popen[str], acks: int, deadline_s: float = 30.0) -> list[tuple[int, int, int]]:
    """Read acknowledged ids until ``acks`` lines, then SIGKILL the child. Returns (id, thread, k)."""
    watchdog = threading.Timer(deadline_s, proc.kill)
    watchdog.start()
    seen: list[tuple[int, int, int]] = []
    try:
        assert proc.stdout is not None
        while len(seen) < acks:
            line = proc.stdout.readline()
            if not line:
                err = proc.stderr.read() if proc.stderr else ""
                raise AssertionError(f"the child stopped after {len(seen)} acknowledgements: {err}")
            mid, t, k = (int(x) for x in line.split())
            seen.append((mid, t, k))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # Lines the child flushed before it died were acknowledged too.
        for line in proc.stdout.read().splitlines():
            parts = line.split()
            if len(parts) == 3:
                seen.append((int(parts[0]), int(parts[1]), int(parts[2])))
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    return seen


@pytest.mark.parametrize("threads", [1, 8])
def test_sigkill_loses_no_acknowledged_write(tmp_path: Path, threads: int) -> None:
    path = tmp_path / "state.db"
    with SessionDB(path) as d:
        d.create_session("warm", "cli")
        d.append_message("warm", "user", "before the crash")
    proc = start_script(_APPENDER, str(path), str(threads))
    acked = _kill_after(proc, 200)
    assert len(acked) >= 200

    # What the crash left, read by a plain connection (which also recovers the WAL).
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    fts_integrity_ok(path)
    names = {r[0] for r in query(path, "SELECT name FROM sqlite_master")}
    if "messages_trgm" in names:
        fts_integrity_ok(path, "messages_trgm")
    rows = {r[0]: r[1] for r in query(path, "SELECT id, content FROM messages WHERE session_id = 'crash'")}
    missing = [mid for mid, _, _ in acked if mid not in rows]
    assert missing == [], f"{len(missing)} acknowledged ids lost, e.g. {missing[:5]}"
    for mid, t, k in acked:
        assert rows[mid].startswith(f"t{t} k{k} ")
    # Counters were updated in the same transaction as the rows they count.
    assert scalar(path, "SELECT message_count FROM sessions WHERE id = 'crash'") == len(rows)
    expected_calls = sum(1 for c in rows.values() if int(c.split()[1][1:]) % 3 == 0)
    assert scalar(path, "SELECT tool_call_count FROM sessions WHERE id = 'crash'") == expected_calls

    # The store opens it and carries on.
    with SessionDB(path) as d:
        assert not d.read_only
        assert d.message_count("crash") == len(rows)
        mid = d.append_message("crash", "user", "after the crash")
        assert d.get_messages("crash")[-1]["id"] == mid
        assert d.get_messages("warm")[0]["content"] == "before the crash"


_BULK_DELETER = """
import sys
from store import SessionDB
db = SessionDB(sys.argv[1])
print("start", flush=True)
while True:
    ids = [f"b{i}" for i in range(1500)]
    n = db.delete_sessions(ids)
    print(f"deleted {n}", flush=True)
    db._execute_write(lambda c: c.executemany(
        "INSERT INTO sessions (id, source, started_at, parent_session_id) VALUES (?, 'cli', 1, ?)",
        [(sid, None if i == 0 else f"b{i - 1}") for i, sid in enumerate(ids)]))
    print("refilled", flush=True)
"""


def test_sigkill_during_bulk_deletes_is_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with SessionDB(path) as d:
        d.create_session("keep", "cli")
        d.append_message("keep", "user", "survivor")
    proc = start_script(_BULK_DELETER, str(path))
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "start"
        for _ in range(3):
            assert proc.stdout.readline().startswith("deleted")
            assert proc.stdout.readline().strip() == "refilled"
        time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    assert query(path, "PRAGMA foreign_key_check") == []
    n = scalar(path, "SELECT count(*) FROM sessions WHERE id LIKE 'b%'")
    assert n in (0, 1500)  # one transaction either way
    assert scalar(path, "SELECT count(*) FROM messages WHERE session_id = 'keep'") == 1
