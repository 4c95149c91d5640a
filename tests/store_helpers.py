"""Shared helpers for the session-store tests (tests/test_store_*.py).

Plain functions only (no fixtures: tests/conftest.py belongs to another suite). Everything
here talks to SQLite directly, never through ``store``, so a test can set up or inspect a
database independently of the code under test.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import store
from store.doctor import fts_check

# The folder that holds the ``store`` package under test, for child processes.
STORE_ROOT = Path(store.__file__).resolve().parent.parent

DAY = 86400.0


# ── raw SQLite access ─────────────────────────────────────────────────────────────────────


def raw_connect(path: Path, *, timeout: float = 10.0) -> sqlite3.Connection:
    """A plain autocommit connection that is not the store's (another program, in effect)."""
    conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def query(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on a brand-new connection and return plain tuples."""
    conn = raw_connect(path)
    try:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def scalar(path: Path, sql: str, params: tuple[Any, ...] = ()) -> Any:
    rows = query(path, sql, params)
    return rows[0][0] if rows else None


def execute(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Run one write statement (autocommit) on a brand-new connection."""
    conn = raw_connect(path)
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


def ids_of(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sidecar(path: Path, suffix: str) -> Path:
    return Path(f"{path}{suffix}")


def fts_integrity_ok(path: Path, table: str = "messages_fts") -> None:
    """Raise if the FTS5 index ``table`` disagrees with its content."""
    conn = raw_connect(path)
    try:
        problem = fts_check(conn, table)  # compared with the content (rank 1), over the trigram window
    finally:
        conn.close()
    assert problem is None, f"{table}: {problem}"


def fts_ids(path: Path, match: str, table: str = "messages_fts") -> set[int]:
    """Message ids the FTS index returns for ``match`` (independent of store.search)."""
    return {r[0] for r in query(path, f"SELECT rowid FROM {table} WHERE {table} MATCH ?", (match,))}


# ── holding the write lock from "another process" ─────────────────────────────────────────


class LockHolder:
    """Hold SQLite's write lock (``BEGIN IMMEDIATE``) on a separate connection."""

    def __init__(self, path: Path) -> None:
        self.conn = raw_connect(path, timeout=10.0)
        self.conn.execute("BEGIN IMMEDIATE")
        self.held = True

    def release(self) -> None:
        if self.held:
            self.conn.execute("COMMIT")
            self.held = False
        self.conn.close()

    def release_after(self, seconds: float) -> threading.Thread:
        t = threading.Thread(target=lambda: (time.sleep(seconds), self.release()), daemon=True)
        t.start()
        return t


@contextlib.contextmanager
def write_lock_held(path: Path) -> Iterator[LockHolder]:
    holder = LockHolder(path)
    try:
        yield holder
    finally:
        if holder.held:
            holder.release()


# ── threads ───────────────────────────────────────────────────────────────────────────────


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


class Outcome:
    """What one background call produced: a result or an exception."""

    def __init__(self) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()


def call_in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, Outcome]:
    out = Outcome()

    def run() -> None:
        try:
            out.result = fn()
        except BaseException as exc:  # recorded for the test to inspect
            out.error = exc
        finally:
            out.done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def run_threads(n: int, target: Callable[[int], None], timeout: float = 60.0) -> list[BaseException]:
    """Run ``target(i)`` in ``n`` threads started together; return the exceptions raised."""
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a worker thread hung"
    return errors


# ── child processes ───────────────────────────────────────────────────────────────────────


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(STORE_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_script(script: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_script(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# ── hand-built databases of older (and newer) schema versions ─────────────────────────────

_SESSIONS_V1 = """
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    user_id TEXT,
    model TEXT,
    model_config TEXT,
    system_prompt TEXT,
    parent_session_id TEXT,
    started_at REAL NOT NULL,
    ended_at REAL,
    end_reason TEXT,
    message_count INTEGER DEFAULT 0,
    tool_call_count INTEGER DEFAULT 0,
    input_tokens INTEGER DEFAULT 0,
    output_tokens INTEGER DEFAULT 0"""

_SESSIONS_V5_EXTRA = """,
    cache_read_tokens INTEGER DEFAULT 0,
    cache_write_tokens INTEGER DEFAULT 0,
    reasoning_tokens INTEGER DEFAULT 0,
    billing_provider TEXT,
    billing_base_url TEXT,
    billing_mode TEXT,
    estimated_cost_usd REAL,
    actual_cost_usd REAL,
    cost_status TEXT,
    cost_source TEXT,
    pricing_version TEXT"""

_MESSAGES_V1 = """
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    role TEXT NOT NULL,
    content TEXT,
    tool_call_id TEXT,
    tool_calls TEXT,
    tool_name TEXT,
    timestamp REAL NOT NULL,
    token_count INTEGER"""

_FTS = """
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content=messages, content_rowid=id);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES('delete', old.id, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
"""


def agent_schema_sql(version: int, *, fts: bool = True, extra_session_columns: str = "") -> str:
    """The agent's schema as it stood at ``version`` (1..6), as the reference's migrations built it.

    ``version`` > 6 gives the v6 layout (a newer agent would have added to it).
    """
    sessions = _SESSIONS_V1
    messages = _MESSAGES_V1
    if version >= 2:
        messages += ",\n    finish_reason TEXT"
    if version >= 3:
        sessions += ",\n    title TEXT"
    if version >= 5:
        sessions += _SESSIONS_V5_EXTRA
    if version >= 6:
        messages += ",\n    reasoning TEXT,\n    reasoning_details TEXT,\n    codex_reasoning_items TEXT"
    sessions += extra_session_columns
    sql = f"""
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE sessions ({sessions},
    FOREIGN KEY (parent_session_id) REFERENCES sessions(id)
);
CREATE TABLE messages ({messages}
);
CREATE INDEX idx_sessions_source ON sessions(source);
CREATE INDEX idx_sessions_parent ON sessions(parent_session_id);
CREATE INDEX idx_sessions_started ON sessions(started_at DESC);
CREATE INDEX idx_messages_session ON messages(session_id, timestamp);
"""
    if version >= 4:
        sql += "CREATE UNIQUE INDEX idx_sessions_title_unique ON sessions(title) WHERE title IS NOT NULL;\n"
    if fts:
        sql += _FTS
    return sql


def build_agent_db(
    path: Path,
    version: int,
    *,
    fts: bool = True,
    version_row: bool = True,
    wal: bool = False,
    extra_session_columns: str = "",
    sessions: int = 3,
    messages_per_session: int = 4,
    now: float | None = None,
) -> dict[str, list[int]]:
    """Create a database by hand as an agent at ``version`` would have left it, with rows.

    Messages say "oldrow s<i> m<j> <word>" (word: "zebra" for session 0, else "walrus").
    Returns {session_id: [message ids]}.
    """
    now = time.time() if now is None else now
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        if wal:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(agent_schema_sql(version, fts=fts, extra_session_columns=extra_session_columns))
        if not version_row:
            conn.execute("DROP TABLE schema_version")
        else:
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        ids: dict[str, list[int]] = {}
        conn.execute("BEGIN")
        for i in range(sessions):
            sid = f"old-{i}"
            started = now - (sessions - i) * 3600
            conn.execute(
                "INSERT INTO sessions (id, source, model, started_at, message_count, input_tokens) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (sid, "cli" if i % 2 == 0 else "telegram", "old-model", started, messages_per_session, 10 * i),
            )
            ids[sid] = []
            word = "zebra" if i == 0 else "walrus"
            for j in range(messages_per_session):
                role = "user" if j % 2 == 0 else "assistant"
                cur = conn.execute(
                    "INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, ?, ?, ?)",
                    (sid, role, f"oldrow s{i} m{j} {word}", started + j),
                )
                ids[sid].append(int(cur.lastrowid or 0))
        conn.execute("COMMIT")
        return ids
    finally:
        conn.close()


def table_columns(path: Path, table: str) -> set[str]:
    return {r[1] for r in query(path, f"PRAGMA table_info({table})")}


# ── rows written by "another program" (the agent), with chosen timestamps ─────────────────


def insert_session(
    conn: sqlite3.Connection,
    sid: str,
    started_at: float,
    *,
    source: str = "cli",
    model: str | None = None,
    title: str | None = None,
    ended_at: float | None = None,
    end_reason: str | None = None,
    parent: str | None = None,
    message_count: int = 0,
    input_tokens: int = 0,
    output_tokens: int = 0,
    estimated_cost_usd: float | None = None,
    actual_cost_usd: float | None = None,
) -> None:
    conn.execute(
        "INSERT INTO sessions (id, source, model, title, started_at, ended_at, end_reason, parent_session_id, "
        "message_count, input_tokens, output_tokens, estimated_cost_usd, actual_cost_usd) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            sid, source, model, title, started_at, ended_at, end_reason, parent,
            message_count, input_tokens, output_tokens, estimated_cost_usd, actual_cost_usd,
        ),
    )


def insert_message(
    conn: sqlite3.Connection,
    sid: str,
    role: str,
    content: str | None,
    timestamp: float,
    *,
    tool_calls: str | None = None,
    finish_reason: str | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO messages (session_id, role, content, timestamp, tool_calls, finish_reason) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (sid, role, content, timestamp, tool_calls, finish_reason),
    )
    return int(cur.lastrowid or 0)
