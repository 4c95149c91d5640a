"""The group-commit writer: the reference design's defects 1-5, and the direct (unbatched) path.

1. a lone writer never waits for a timer; concurrent writers share commits;
2. a write returns only after its COMMIT; a failed COMMIT raises in every caller of the batch;
3. one failing operation in a batch is rolled back alone;
4. close() with active writers: no hang, everything accepted is committed, idempotent;
5. lock contention: wait within the budget, then DatabaseLockedError; nothing half-written.

To make batches deterministic, ``occupy_writer`` runs an operation that blocks inside the
writer thread until released: every write submitted meanwhile queues up and the next batch
takes them all at once.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from store_helpers import (
    LockHolder,
    Outcome,
    call_in_thread,
    raw_connect,
    run_script,
    run_threads,
    scalar,
    start_script,
    wait_until,
    write_lock_held,
)

import store
from store import SessionDB


@pytest.fixture
def db(db: SessionDB) -> SessionDB:
    """The conftest store, with a session ``s`` to append to."""
    db.create_session("s", "cli")
    return db


def occupy_writer(db: SessionDB) -> tuple[threading.Event, threading.Thread, Outcome]:
    """Block the writer thread inside a transaction until the returned event is set."""
    started = threading.Event()
    release = threading.Event()

    def blocker(conn: sqlite3.Connection) -> str:
        started.set()
        release.wait(20)
        return "blocker"

    t, out = call_in_thread(lambda: db._execute_write(blocker))
    assert started.wait(10), "the writer never ran the blocking operation"
    return release, t, out


def submit_all(fns: list[Callable[[], Any]]) -> list[tuple[threading.Thread, Outcome]]:
    return [call_in_thread(fn) for fn in fns]


def join_all(calls: list[tuple[threading.Thread, Outcome]], timeout: float = 20.0) -> list[Outcome]:
    for t, _ in calls:
        t.join(timeout)
        assert not t.is_alive(), "a write call hung"
    return [out for _, out in calls]


def queued_batch(db: SessionDB, fns: list[Callable[[], Any]]) -> list[Outcome]:
    """Run ``fns`` from threads so that all of them land in one batch of the writer.

    They are all queued while the writer is busy, and the writer takes everything queued at once
    (up to ``batch_size``). Tests whose batch commits confirm it with ``max_batch`` afterwards.
    """
    release, t, blocked = occupy_writer(db)
    calls = submit_all(fns)
    wait_until(lambda: db.get_stats()["pending_writes"] == len(fns))
    release.set()
    outcomes = join_all(calls)
    t.join(10)
    assert blocked.error is None and blocked.result == "blocker"
    return outcomes


def message_rows(path: Path) -> int:
    return int(scalar(path, "SELECT count(*) FROM messages"))


# ── defect 1: no timer; group commit ──────────────────────────────────────────────────────


def test_lone_writer_does_not_wait_for_a_timer(db: SessionDB) -> None:
    start = time.perf_counter()
    for i in range(50):
        db.append_message("s", "user", f"m{i}")
    elapsed = time.perf_counter() - start
    # The reference waits up to 100 ms per write (5 s here); a group-commit writer does not wait at all.
    assert elapsed < 2.0, f"50 sequential appends took {elapsed:.2f} s"
    assert db.message_count("s") == 50


# Regression (audit): only the default linger was 0; passing the reference's own batch_wait_ms=100 put
# the timer back on a lone writer (10 appends/s).
def test_lone_writer_does_not_wait_even_with_the_reference_linger(db_path: Path) -> None:
    with SessionDB(db_path, batch_wait_ms=100) as d:
        d.create_session("s", "cli")
        start = time.perf_counter()
        for i in range(50):
            d.append_message("s", "user", f"m{i}")
        elapsed = time.perf_counter() - start
        # with the timer: 50 x 100 ms = 5 s at the least
        assert elapsed < 2.0, f"50 sequential appends took {elapsed:.2f} s"


def test_a_linger_still_groups_concurrent_writers(db_path: Path) -> None:
    with SessionDB(db_path, batch_wait_ms=100) as d:
        d.create_session("s", "cli")

        def work(i: int) -> None:
            for k in range(20):
                d.append_message("s", "user", f"t{i} m{k}")

        assert run_threads(8, work) == []
        st = d.get_stats()
        assert st["batch_count"] < st["total_writes"] and d.message_count("s") == 160


def test_concurrent_writers_share_commits(db: SessionDB, db_path: Path) -> None:
    def work(i: int) -> None:
        for k in range(30):
            db.append_message("s", "user", f"t{i} m{k}")

    assert run_threads(16, work) == []
    st = db.get_stats()
    assert st["max_batch"] > 1
    assert st["batched_writes"] > 0
    assert st["batch_count"] < st["total_writes"]  # fewer commits than writes
    assert message_rows(db_path) == 16 * 30
    assert db.get_session("s")["message_count"] == 16 * 30  # type: ignore[index]


def test_stats_count_writes_as_the_reference_does(db_path: Path) -> None:
    """batched_writes: every write the batch writer committed (the reference's meaning), none on the
    direct path; how much they were grouped is batch_count and max_batch."""
    with SessionDB(db_path) as d:
        d.create_session("s", "cli")
        for i in range(5):
            d.append_message("s", "user", f"m{i}")
        st = d.get_stats()
        assert st["total_writes"] == st["batched_writes"] >= 6  # and the opening's migration
    with SessionDB(db_path, enable_batching=False) as d:
        for i in range(3):
            d.append_message("s", "user", f"n{i}")
        st = d.get_stats()
        assert (st["total_writes"], st["batched_writes"]) == (3, 0)


def test_batch_size_caps_a_batch(db_path: Path) -> None:
    with SessionDB(db_path, batch_size=5) as d:
        d.create_session("s", "cli")
        release, t, _ = occupy_writer(d)
        calls = submit_all([lambda k=k: d.append_message("s", "user", f"m{k}") for k in range(17)])  # type: ignore[misc]
        wait_until(lambda: d.get_stats()["pending_writes"] == 17)
        release.set()
        outcomes = join_all(calls)
        t.join(10)
        assert all(o.error is None for o in outcomes)
        assert d.get_stats()["max_batch"] == 5
        assert d.message_count("s") == 17


# ── defect 2: acknowledged only after COMMIT ──────────────────────────────────────────────


def test_append_is_visible_to_a_new_connection_once_it_returns(db: SessionDB, db_path: Path) -> None:
    for i in range(25):
        mid = db.append_message("s", "user", f"m{i}")
        fresh = sqlite3.connect(str(db_path))  # brand-new, another "process" in effect
        try:
            row = fresh.execute("SELECT content FROM messages WHERE id = ?", (mid,)).fetchone()
        finally:
            fresh.close()
        assert row == (f"m{i}",)


def test_concurrent_appends_visible_once_returned(db: SessionDB, db_path: Path) -> None:
    missing: list[int] = []

    def work(i: int) -> None:
        for k in range(10):
            mid = db.append_message("s", "user", f"{i}-{k}")
            fresh = sqlite3.connect(str(db_path))
            try:
                if fresh.execute("SELECT 1 FROM messages WHERE id = ?", (mid,)).fetchone() is None:
                    missing.append(mid)
            finally:
                fresh.close()

    assert run_threads(8, work) == []
    assert missing == []


def _poison_commit(conn: sqlite3.Connection) -> None:
    """Succeeds itself, but makes the batch's COMMIT fail (a deferred foreign-key violation)."""
    conn.execute("PRAGMA defer_foreign_keys = ON")
    conn.execute(
        "INSERT INTO messages (session_id, role, content, timestamp) VALUES ('ghost', 'user', 'orphan', 0)"
    )


def test_failed_commit_raises_in_every_caller_of_the_batch(db: SessionDB, db_path: Path) -> None:
    before = message_rows(db_path)
    fns: list[Callable[[], Any]] = [lambda k=k: db.append_message("s", "user", f"doomed {k}") for k in range(6)]  # type: ignore[misc]
    fns.insert(3, lambda: db._execute_write(_poison_commit))
    fns.append(lambda: db.create_session("doomed-session", "cli"))
    outcomes = queued_batch(db, fns)
    for o in outcomes:
        assert o.error is not None, f"a caller was told {o.result!r} although its batch never committed"
        assert "FOREIGN KEY" in str(o.error)
    assert message_rows(db_path) == before
    assert db.get_session("doomed-session") is None
    assert db.get_stats()["failed_writes"] >= len(fns)
    # The writer goes on.
    mid = db.append_message("s", "user", "after")
    assert scalar(db_path, "SELECT content FROM messages WHERE id = ?", (mid,)) == "after"


def test_failed_commit_raises_on_the_direct_path(db_path: Path) -> None:
    with SessionDB(db_path, enable_batching=False) as d:
        d.create_session("s", "cli")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            d._execute_write(_poison_commit)
        assert scalar(db_path, "SELECT count(*) FROM messages") == 0
        d.append_message("s", "user", "after")
        assert scalar(db_path, "SELECT count(*) FROM messages") == 1


def test_disk_full_in_a_batch_fails_only_that_write(db: SessionDB, db_path: Path) -> None:
    for i in range(10):
        db.append_message("s", "user", "warm up " * 40 + str(i))
    pages = db._execute_write(lambda c: c.execute("PRAGMA page_count").fetchone()[0])
    db._execute_write(lambda c: c.execute(f"PRAGMA max_page_count = {int(pages) + 40}"))
    before = message_rows(db_path)
    fns: list[Callable[[], Any]] = [lambda k=k: db.append_message("s", "user", f"small {k}") for k in range(4)]  # type: ignore[misc]
    fns.insert(2, lambda: db.append_message("s", "user", "huge " * 400_000))
    outcomes = queued_batch(db, fns)
    assert isinstance(outcomes[2].error, store.DiskFullError)
    assert isinstance(outcomes[2].error, sqlite3.OperationalError)
    assert [o.error for i, o in enumerate(outcomes) if i != 2] == [None] * 4
    assert message_rows(db_path) == before + 4
    assert db.get_session("s")["message_count"] == before + 4  # type: ignore[index]
    contents = {r[0] for r in raw_connect(db_path).execute("SELECT content FROM messages WHERE content LIKE 'small %'")}
    assert contents == {f"small {k}" for k in range(4)}
    assert db.get_stats()["max_batch"] >= 4  # the small ones committed together


# ── defect 3: isolation inside a batch ────────────────────────────────────────────────────


class Boom(Exception):
    pass


def _half_then_raise(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO sessions (id, source, started_at) VALUES ('half', 'cli', 1)")
    conn.execute("UPDATE sessions SET message_count = 999 WHERE id = 's'")
    raise Boom("failed halfway")


def test_failing_operation_is_rolled_back_alone(db: SessionDB, db_path: Path) -> None:
    fns: list[Callable[[], Any]] = [lambda k=k: db.append_message("s", "user", f"ok {k}") for k in range(20)]  # type: ignore[misc]
    fns.insert(10, lambda: db._execute_write(_half_then_raise))
    fns.append(lambda: db.create_session("after-boom", "cli"))
    outcomes = queued_batch(db, fns)
    assert isinstance(outcomes[10].error, Boom)
    others = [o for i, o in enumerate(outcomes) if i != 10]
    assert [o.error for o in others] == [None] * len(others)
    assert all(isinstance(o.result, int) for o in others[:-1])
    assert db.get_session("half") is None
    assert db.get_session("after-boom") is not None
    assert db.get_session("s")["message_count"] == 20  # type: ignore[index]
    assert message_rows(db_path) == 20
    assert db.get_stats()["failed_writes"] >= 1
    assert db.get_stats()["max_batch"] >= len(fns)  # they really shared one batch


def test_failing_operation_is_rolled_back_on_the_direct_path(db_path: Path) -> None:
    with SessionDB(db_path, enable_batching=False) as d:
        d.create_session("s", "cli")
        with pytest.raises(Boom):
            d._execute_write(_half_then_raise)
        assert d.get_session("half") is None
        assert d.get_session("s")["message_count"] == 0  # type: ignore[index]
        assert d.append_message("s", "user", "fine") > 0
        assert d.get_stats()["max_batch"] == 1


def test_direct_path_from_many_threads(db_path: Path) -> None:
    with SessionDB(db_path, enable_batching=False) as d:
        d.create_session("s", "cli")

        def work(i: int) -> None:
            for k in range(25):
                d.append_message("s", "user", f"{i}-{k}")

        assert run_threads(8, work) == []
        assert d.message_count("s") == 200
        assert d.get_session("s")["message_count"] == 200  # type: ignore[index]


# Regression (bug found by this suite, fixed in store/): store/writer.py Writer._run_batch catches only
# Exception: a KeyboardInterrupt raised inside an operation on the direct path leaves the write connection
# inside its transaction, and every later write fails with 'cannot start a transaction within a transaction'
def test_interrupt_on_the_direct_path_does_not_wedge_the_writer(db_path: Path) -> None:
    with SessionDB(db_path, enable_batching=False) as d:
        d.create_session("s", "cli")

        def interrupted(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO sessions (id, source, started_at) VALUES ('half', 'cli', 1)")
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            d._execute_write(interrupted)
        assert d.get_session("half") is None
        assert d.append_message("s", "user", "after ctrl-c") > 0


# Regression (bug found by this suite, fixed in store/): store/writer.py Writer._run_batch catches only
# Exception: an operation raising a BaseException kills the writer thread before the futures of its batch are
# set, so those callers wait forever
def test_base_exception_in_an_operation_does_not_strand_its_callers(db: SessionDB) -> None:
    def fatal(conn: sqlite3.Connection) -> None:
        raise SystemExit("callback gave up")

    t, out = call_in_thread(lambda: db._execute_write(fatal))
    t.join(2)
    assert not t.is_alive(), "the caller of a failed operation is still waiting"
    assert isinstance(out.error, BaseException)


# ── defect 4: close() ─────────────────────────────────────────────────────────────────────


def test_close_with_active_writers(db_path: Path) -> None:
    d = SessionDB(db_path)
    d.create_session("s", "cli")
    acked = [0] * 16
    unexpected: list[BaseException] = []

    def worker(i: int) -> None:
        while True:
            try:
                d.append_message("s", "user", f"w{i}")
            except store.StoreClosedError:
                return
            except BaseException as exc:
                unexpected.append(exc)
                return
            acked[i] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(16)]
    for t in threads:
        t.start()
    wait_until(lambda: sum(acked) >= 300, timeout=20)
    closer, closed = call_in_thread(d.close)
    closer.join(15)
    assert not closer.is_alive(), "close() hung with active writers"
    assert closed.error is None
    for t in threads:
        t.join(10)
        assert not t.is_alive(), "a writer thread hung after close()"
    assert unexpected == []
    # Everything acknowledged is committed; nothing unacknowledged was written.
    assert scalar(db_path, "SELECT count(*) FROM messages") == sum(acked)
    assert scalar(db_path, "SELECT message_count FROM sessions WHERE id = 's'") == sum(acked)
    d.close()  # idempotent
    start = time.perf_counter()
    for call in (
        lambda: d.append_message("s", "user", "late"),
        lambda: d.get_messages("s"),
        lambda: d.list_sessions_page(),
        lambda: d.get_stats(),
        lambda: d.data_version(),
        lambda: d.export_all(),
    ):
        with pytest.raises(store.StoreClosedError):
            call()
    assert time.perf_counter() - start < 1.0  # at once
    assert scalar(db_path, "SELECT count(*) FROM messages") == sum(acked)


def test_close_commits_queued_writes(db_path: Path) -> None:
    d = SessionDB(db_path)
    d.create_session("s", "cli")
    release, _blocker, _ = occupy_writer(d)
    calls = submit_all([lambda k=k: d.append_message("s", "user", f"q{k}") for k in range(10)])  # type: ignore[misc]
    wait_until(lambda: d.get_stats()["pending_writes"] == 10)
    closer, closed = call_in_thread(d.close)
    time.sleep(0.05)
    release.set()
    closer.join(15)
    assert not closer.is_alive() and closed.error is None
    outcomes = join_all(calls)
    assert all(o.error is None for o in outcomes)
    assert scalar(db_path, "SELECT count(*) FROM messages") == 10


def test_close_of_unbatched_store(db_path: Path) -> None:
    d = SessionDB(db_path, enable_batching=False)
    d.create_session("s", "cli")
    d.close()
    d.close()
    with pytest.raises(store.StoreClosedError):
        d.create_session("t", "cli")
    with pytest.raises(store.StoreClosedError):
        d.get_session("s")


# ── defect 5: lock contention ─────────────────────────────────────────────────────────────


def test_write_waits_for_a_short_lock_then_succeeds(db: SessionDB, db_path: Path) -> None:
    holder = LockHolder(db_path)
    releaser = holder.release_after(0.5)
    start = time.perf_counter()
    mid = db.append_message("s", "user", "patient")
    waited = time.perf_counter() - start
    releaser.join()
    assert waited >= 0.3
    assert scalar(db_path, "SELECT content FROM messages WHERE id = ?", (mid,)) == "patient"


def test_reads_are_not_blocked_by_a_held_write_lock(db: SessionDB) -> None:
    db.append_message("s", "user", "visible")
    with write_lock_held(db.db_path):
        start = time.perf_counter()
        assert [m["content"] for m in db.get_messages("s")] == ["visible"]
        assert db.list_sessions_page()[0]["id"] == "s"
        assert time.perf_counter() - start < 1.0


def test_lock_held_past_the_budget_raises_database_locked(db_path: Path) -> None:
    with SessionDB(db_path, lock_timeout=0.5) as d:
        d.create_session("s", "cli")
        with write_lock_held(db_path):
            start = time.perf_counter()
            calls = submit_all([lambda k=k: d.append_message("s", "user", f"blocked {k}") for k in range(4)])  # type: ignore[misc]
            outcomes = join_all(calls, timeout=10)
            elapsed = time.perf_counter() - start
        for o in outcomes:
            err = o.error
            assert isinstance(err, store.DatabaseLockedError), repr(err)
            assert isinstance(err, sqlite3.OperationalError)
            assert "database is locked" in str(err)
            assert re.search(r"\d+(\.\d+)? ?s\b", str(err)), str(err)  # says how long
        assert elapsed < 1.9  # gave up near its 0.5 s budget, not when the lock went away
        # Nothing half-written, and the store works again once the lock is free.
        assert scalar(db_path, "SELECT count(*) FROM messages") == 0
        assert d.get_session("s")["message_count"] == 0  # type: ignore[index]
        d.append_message("s", "user", "free again")
        assert scalar(db_path, "SELECT count(*) FROM messages") == 1


_HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def test_lock_held_by_another_process(db_path: Path) -> None:
    with SessionDB(db_path, lock_timeout=0.5) as d:
        d.create_session("s", "cli")
        proc = start_script(_HOLD_LOCK, str(db_path), "1.2")
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
            with pytest.raises(store.DatabaseLockedError, match="database is locked"):
                d.append_message("s", "user", "x")
        finally:
            proc.wait(10)
        assert d.append_message("s", "user", "y") > 0
        assert d.message_count("s") == 1


def test_default_budget_outlasts_a_short_lock_in_another_process(db: SessionDB, db_path: Path) -> None:
    proc = start_script(_HOLD_LOCK, str(db_path), "0.5")
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        assert db.append_message("s", "user", "waited") > 0
    finally:
        proc.wait(10)
    assert db.message_count("s") == 1


def test_locked_error_message_is_clear() -> None:
    err = store.DatabaseLockedError(2.04, 0.5)
    assert isinstance(err, sqlite3.OperationalError) and isinstance(err, store.StoreError)
    assert "database is locked" in str(err) and "2.0 s" in str(err)


def test_run_script_helper_sees_the_store() -> None:
    out = run_script("import store, sys; print(store.SCHEMA_VERSION)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "6"
