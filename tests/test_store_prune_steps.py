"""The stepped prune (``prune_sessions(..., stepped=True)``), what the app and the CLI use.

One big prune transaction holds the write lock for as long as its deletes take: seconds for thousands
of sessions, longer than the agent's own lock budget for tens of thousands. The stepped prune deletes
in short transactions of whole sessions with pauses between them. These tests check that it deletes
exactly what the one-transaction prune deletes, that another process gets the lock between two steps,
that cancelling stops it between steps, and that a SIGKILL leaves every session whole.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

import store.cleanup as cleanup
from store import SessionDB
from tests.store_helpers import (
    fts_integrity_ok,
    insert_message,
    insert_session,
    query,
    raw_connect,
    scalar,
    start_script,
)

DAY = 86400.0
NOW = 1_790_000_000.0


def build(path: Path, old: int = 60, messages_each: int = 3) -> set[str]:
    """``old`` ended sessions idle 100+ days (some with children), plus ones a prune must keep.
    Returns the ids a 90-day prune deletes."""
    with SessionDB(path):
        pass
    conn = raw_connect(path)
    doomed: set[str] = set()
    try:
        for i in range(old):
            sid = f"old-{i:03d}"
            last = NOW - (100 + old - i) * DAY  # old-000 is the longest idle; every one over 100 days
            insert_session(conn, sid, last - DAY, ended_at=last, message_count=messages_each)
            for k in range(messages_each):
                insert_message(conn, sid, "user", f"old message {i} {k}", last)
            doomed.add(sid)
        insert_session(conn, "child-of-old", NOW - 5 * DAY, ended_at=NOW - 4 * DAY, parent="old-000")
        insert_session(conn, "old-but-active", NOW - 300 * DAY, message_count=1)
        insert_message(conn, "old-but-active", "user", "still going", NOW - 300 * DAY)
        insert_session(conn, "recent", NOW - 2 * DAY, ended_at=NOW - DAY, message_count=1)
        insert_message(conn, "recent", "user", "fresh", NOW - DAY)
    finally:
        conn.close()
    return doomed


def ids(path: Path) -> set[str]:
    return {r[0] for r in query(path, "SELECT id FROM sessions")}


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps of at most 5 sessions, with short pauses, so a small database takes many steps."""
    monkeypatch.setattr(cleanup, "PRUNE_STEP_FIRST", 5)
    monkeypatch.setattr(cleanup, "PRUNE_STEP_MAX", 5)
    monkeypatch.setattr(cleanup, "PRUNE_STEP_PAUSE_S", 0.02)


def test_stepped_prune_deletes_what_the_one_transaction_prune_deletes(tmp_path: Path, small_steps: None) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    doomed = build(a)
    build(b)
    with SessionDB(a) as db:
        assert db.prune_sessions(90, now=NOW) == len(doomed)
    reports: list[tuple[int, int]] = []
    with SessionDB(b) as db:
        assert db.prune_sessions(90, now=NOW, stepped=True, progress=lambda d, t: reports.append((d, t))) == len(doomed)
    assert ids(a) == ids(b) == {"child-of-old", "old-but-active", "recent"}
    assert query(a, "SELECT id, parent_session_id FROM sessions ORDER BY id") == \
        query(b, "SELECT id, parent_session_id FROM sessions ORDER BY id")
    assert scalar(b, "SELECT count(*) FROM messages") == 2
    assert scalar(b, "SELECT count(*) FROM messages WHERE session_id NOT IN (SELECT id FROM sessions)") == 0
    fts_integrity_ok(b)
    # many steps, reported as they went, counting up to the total
    assert len(reports) >= len(doomed) // 5
    assert [d for d, _ in reports] == sorted(d for d, _ in reports)
    assert reports[-1] == (len(doomed), len(doomed))


def test_another_process_gets_the_lock_between_two_steps(tmp_path: Path, small_steps: None) -> None:
    """While the stepped prune runs, a second connection (the agent, busy timeout 1 s) takes the write
    lock and commits, again and again, between the prune's steps; it never gives up."""
    path = tmp_path / "state.db"
    doomed = build(path, old=120)
    running = threading.Event()
    done = threading.Event()
    commits: list[float] = []  # when each of the agent's commits returned
    errors: list[BaseException] = []

    def agent() -> None:
        other = sqlite3.connect(path, timeout=1.0, isolation_level=None)
        running.wait(10)
        k = 0
        try:
            while not done.is_set():
                other.execute("BEGIN IMMEDIATE")
                other.execute("UPDATE sessions SET title = ? WHERE id = 'recent'", (f"agent write {k}",))
                other.execute("COMMIT")
                commits.append(time.monotonic())
                k += 1
                time.sleep(0.005)
        except sqlite3.Error as exc:  # "database is locked" after 1 s: the prune starved it
            errors.append(exc)
        finally:
            other.close()

    steps: list[float] = []  # when each step had committed
    thread = threading.Thread(target=agent, daemon=True)
    thread.start()
    with SessionDB(path) as db:
        running.set()
        try:
            deleted = db.prune_sessions(90, now=NOW, stepped=True, progress=lambda d, t: steps.append(time.monotonic()))
        finally:
            done.set()
            thread.join(10)
    assert errors == []
    assert deleted == len(doomed)
    assert len(steps) >= 20
    # Gaps between two steps in which the agent committed. One transaction would leave none: the
    # agent could only commit before it began or after it ended.
    gaps = sum(1 for a, b in itertools.pairwise(steps) if any(a < c < b for c in commits))
    assert gaps >= 3, (gaps, len(steps), len(commits))


def test_cancel_stops_between_steps_and_keeps_what_was_deleted(tmp_path: Path, small_steps: None) -> None:
    path = tmp_path / "state.db"
    doomed = build(path)
    reports: list[int] = []
    with SessionDB(path) as db:
        deleted = db.prune_sessions(
            90, now=NOW, stepped=True, progress=lambda d, t: reports.append(d), should_cancel=lambda: len(reports) >= 3,
        )
        assert deleted == reports[-1] == 15  # three steps of five
        left = ids(path) & doomed
        assert len(left) == len(doomed) - 15
        # the longest idle went first
        assert sorted(doomed - left) == sorted(doomed)[:15]
        # whatever went, went whole; what stayed, stayed whole
        assert scalar(path, "SELECT count(*) FROM messages WHERE session_id NOT IN (SELECT id FROM sessions)") == 0
        for sid in left:
            assert scalar(path, "SELECT count(*) FROM messages WHERE session_id = ?", (sid,)) == 3
        # running it again finishes it
        assert db.prune_sessions(90, now=NOW, stepped=True) == len(left)
    assert ids(path) == {"child-of-old", "old-but-active", "recent"}


def test_a_session_written_to_after_the_preview_is_spared(tmp_path: Path, small_steps: None) -> None:
    """Each step chooses its sessions again inside its transaction: one the agent wrote to meanwhile
    (so no longer idle) is kept, even though the preview counted it."""
    path = tmp_path / "state.db"
    build(path)
    with SessionDB(path) as db:
        assert db.prune_preview(90, now=NOW)["sessions"] == 60

        def progress(done: int, total: int) -> None:
            if done == 5:  # after the first step: the agent writes in the last (newest) old session
                conn = raw_connect(path)
                try:
                    insert_message(conn, "old-059", "user", "back again", NOW)
                    conn.commit()
                finally:
                    conn.close()

        assert db.prune_sessions(90, now=NOW, stepped=True, progress=progress) == 59
    assert "old-059" in ids(path)


_STEPPED_PRUNER = """
import sys, time
import store.cleanup as cleanup
from store import SessionDB
cleanup.PRUNE_STEP_FIRST = cleanup.PRUNE_STEP_MAX = 3
cleanup.PRUNE_STEP_PAUSE_S = 0.03
db = SessionDB(sys.argv[1])
print("start", flush=True)
db.prune_sessions(90, now=float(sys.argv[2]), stepped=True,
                  progress=lambda d, t: print("step", d, flush=True))
print("done", flush=True)
time.sleep(60)
"""


def test_sigkill_mid_stepped_prune_leaves_every_session_whole(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    doomed = build(path, old=90, messages_each=4)
    proc = start_script(_STEPPED_PRUNER, str(path), str(NOW))
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "start"
        for _ in range(4):
            assert proc.stdout.readline().startswith("step")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    assert query(path, "PRAGMA foreign_key_check") == []
    left = ids(path) & doomed
    assert 0 < len(left) < len(doomed)  # killed part-way, by construction (4 of 30 steps seen)
    assert scalar(path, "SELECT count(*) FROM messages WHERE session_id NOT IN (SELECT id FROM sessions)") == 0
    for sid in left:
        assert scalar(path, "SELECT count(*) FROM messages WHERE session_id = ?", (sid,)) == 4
    fts_integrity_ok(path)
    with SessionDB(path) as db:
        assert db.prune_sessions(90, now=NOW, stepped=True) == len(left)
    assert ids(path) == {"child-of-old", "old-but-active", "recent"}
