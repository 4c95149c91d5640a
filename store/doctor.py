"""Health checks and the one repair (rebuilding the search indexes), as plain functions.

* ``open_concerns`` is cheap (no table scan) and runs on every browser open: a ``-wal`` no
  running process has open (left by a crash, or copied from another database: SQLite cannot
  tell them apart and would merge either into the file on the next read-write close), or the
  agent's ``messages_fts`` missing. Either makes the browser open read-only, saying why, so that
  nothing is changed until the user asks.
* ``diagnose`` is the full check behind ``hermes-browse doctor``: ``PRAGMA integrity_check``,
  FTS5 ``integrity-check`` of each index, schema version, journal mode, sizes, trigram window.
  It opens the database read-only and changes nothing.
* ``rebuild_fts`` backs the file up first (SQLite's online backup API into
  ``state.db.bak-YYYYmmdd-HHMMSS``, 0600, verified with ``integrity_check``) and then rebuilds
  (or recreates, per ``schema.py``) each FTS index in one ``BEGIN IMMEDIATE`` transaction.
  A rebuild holds the write lock for as long as it takes (seconds for a million messages), so
  it refuses to start while another process has the database open (the agent): stop the agent
  first. Waiting for the lock is bounded by ``lock_timeout``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import rawfile, schema
from .connections import (
    PRIVATE_FILE_MODE,
    WAL_HEADER_BYTES,
    ReadOnlyPlan,
    check_sqlite_file,
    open_connection,
    plan_read_only,
    remove_unused_sidecars,
    sidecar_path,
)
from .errors import DatabaseLockedError, DatabaseMissingError, StoreError, translate

FTS_TABLES = ("messages_fts", "messages_trgm")
_SHM_DMS_BYTE = 128  # SQLite's unix VFS: every connection using the -shm holds a read lock here


# ── cheap checks at open ─────────────────────────────────────────────────────────────────────


def wal_in_use(path: Path) -> bool | None:
    """Does another process have this database's WAL open? True/False, or None when unknown.

    Every SQLite connection in WAL mode holds a shared POSIX lock on byte 128 of the ``-shm``
    ("dead man switch"); ``F_GETLK`` asks whether one is held without taking any lock (this
    process's own locks never answer). The descriptor comes from ``rawfile``: closing one while
    a store of ours has the database open would drop our own locks on the ``-shm``.
    """
    shm = sidecar_path(path, "-shm")
    if not shm.exists():
        return False
    if not sys.platform.startswith("linux"):
        return None  # struct flock's layout differs elsewhere: do not guess
    try:
        with rawfile.descriptor(shm, path) as fd:  # kept open while a store of ours has it open
            query = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, _SHM_DMS_BYTE, 1, 0)
            answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
            return struct.unpack("hhqqi4x", answer)[0] != fcntl.F_UNLCK
    except OSError:
        return None


def orphan_wal(path: Path) -> bool:
    """A ``-wal`` holding frames that no running process has open (a crash, or copied in)."""
    try:
        size = sidecar_path(path, "-wal").stat().st_size
    except OSError:
        return False
    return size > WAL_HEADER_BYTES and wal_in_use(path) is False


def open_concerns(path: Path, state: schema.SchemaState) -> str | None:
    """Why a browser should open this database read-only although it could write, or None."""
    if orphan_wal(path):
        return (
            f"{path.name}-wal holds changes no running program has open (left by a crash, or copied "
            "from another database); opened read-only so they are not merged: start the agent to merge "
            "them, or check with 'hermes-browse doctor'"
        )
    if state.version is not None and state.version >= schema.SCHEMA_VERSION and not state.has_fts:
        return (
            "the search index messages_fts is missing (removed by another program); opened read-only: "
            "recreate it with 'hermes-browse doctor --rebuild-fts'"
        )
    return None


# ── the full check ───────────────────────────────────────────────────────────────────────────


@dataclass
class Report:
    path: Path
    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.problems


def _sizes(path: Path) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for suffix in ("", "-wal", "-shm"):
        try:
            out[f"{path.name}{suffix}"] = sidecar_path(path, suffix).stat().st_size
        except OSError:
            out[f"{path.name}{suffix}"] = None
    return out


def _integrity(conn: sqlite3.Connection, max_errors: int = 20) -> list[str]:
    rows = [str(r[0]) for r in conn.execute(f"PRAGMA integrity_check({int(max_errors)})")]
    return [] if rows == ["ok"] else rows


def fts_check(conn: sqlite3.Connection, table: str) -> str | None:
    """None when the FTS5 index ``table`` matches its content, else the error. Needs a writable
    connection; changes nothing (its work is rolled back).

    FTS5's 'integrity-check' of an external-content table (both of ours) compares the index with
    its content only with rank 1; without it SQLite 3.40 checks the index's own structure and
    passes an index that misses rows (measured). ``messages_trgm`` indexes only the ids in
    [trgm_low, trgm_high) of ``store_meta`` (the maintenance fills it in the background), so the
    rows outside that window are first indexed as the maintenance would, inside a savepoint that
    is rolled back: then index and content must agree exactly, which also catches a stale entry
    for a row outside the window."""
    problem: str | None = None
    try:
        conn.execute("SAVEPOINT fts_check")
    except sqlite3.Error as exc:
        return str(exc)
    try:
        if table == "messages_trgm":
            meta = dict(conn.execute("SELECT key, value FROM store_meta WHERE key IN ('trgm_low', 'trgm_high')"))
            low, high = int(meta.get("trgm_low", 1)), int(meta.get("trgm_high", 1))
            conn.execute(
                "INSERT INTO messages_trgm(rowid, content, tools) "
                "SELECT id, content, tools FROM messages_trgm_source WHERE id < ? OR id >= ?",
                (low, high),
            )
        conn.execute(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)")
    except sqlite3.Error as exc:
        problem = str(exc)
    try:
        conn.execute("ROLLBACK TO fts_check")
        conn.execute("RELEASE fts_check")
    except sqlite3.Error as exc:
        problem = problem or str(exc)
    return problem


def _fts_checks_on_copy(conn: sqlite3.Connection, tables: list[str]) -> dict[str, str | None]:
    """FTS5's 'integrity-check' needs a writable connection, so it runs on a private copy (SQLite's
    backup API, into a 0700 temporary folder, deleted after): the original is never opened for
    writing, and the agent is never made to wait on a lock of ours."""
    if not tables:
        return {}
    with tempfile.TemporaryDirectory(prefix="hermes-doctor-") as tmp:
        copy = sqlite3.connect(Path(tmp) / "check.db", isolation_level=None)
        try:
            try:
                conn.backup(copy)
            except sqlite3.Error as exc:
                return {t: f"not checked: the database could not be copied ({exc})" for t in tables}
            return {t: fts_check(copy, t) for t in tables}
        finally:
            copy.close()


def diagnose(path: Path) -> Report:
    """Check everything, change nothing. Raises StoreError when the file cannot be opened at all."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DatabaseMissingError(path)
    if not check_sqlite_file(path):
        raise StoreError(f"{path} is empty: it holds no Hermes sessions")
    report = Report(path)
    report.facts["sizes"] = _sizes(path)
    wal_live = wal_in_use(path)
    sidecars_before = any(sidecar_path(path, s).exists() for s in ("-wal", "-shm"))
    plan: ReadOnlyPlan = plan_read_only(path)
    try:
        conn = sqlite3.connect(plan.uri(), uri=True, isolation_level=None, timeout=5.0)
    except sqlite3.Error as exc:
        plan.discard()
        raise translate(exc, path) from exc
    try:
        try:
            state = schema.inspect(conn)
        except sqlite3.Error as exc:
            report.problems.append(f"cannot read the schema: {exc}")
            report.checks["integrity_check"] = "; ".join(_safe_integrity(conn)) or "not run"
            return report
        report.facts.update(
            schema_version=state.version, journal_mode=state.journal_mode, max_message_id=state.max_message_id,
            trigram_window=(None if state.trgm_low is None else [state.trgm_low, state.trgm_high]),
            trigram_complete=state.trigram_complete, wal_in_use=wal_live,
            read_via=("a private snapshot copy" if plan.snapshot_dir else "immutable" if plan.immutable else "mode=ro"),
        )
        if state.too_new:
            report.problems.append(f"schema version {state.version} is newer than this tool knows")
        elif state.version is None or state.version < schema.SCHEMA_VERSION:
            report.checks["schema"] = f"version {state.version}: the agent or hermes-browse will migrate it"
        if "sessions" not in state.tables or "messages" not in state.tables:
            report.problems.append("the agent's sessions/messages tables are missing")
        errors = _safe_integrity(conn)
        report.checks["integrity_check"] = "ok" if not errors else "; ".join(errors[:5])
        if errors:
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            report.problems.append(f"integrity_check: {errors[0]}{more}")
        present = [t for t in FTS_TABLES if t in state.tables]
        for table in FTS_TABLES:
            if table not in present:
                report.checks[table] = "missing"
                if table == "messages_fts":
                    report.problems.append("messages_fts is missing (fix: hermes-browse doctor --rebuild-fts)")
        for table, err in _fts_checks_on_copy(conn, present).items():
            report.checks[table] = "ok" if err is None else f"damaged: {err}"
            if err is not None:
                report.problems.append(f"{table} is damaged: {err} (fix: hermes-browse doctor --rebuild-fts)")
        if state.trgm_high is not None and state.trgm_low is not None and state.trgm_low > state.trgm_high:
            report.problems.append(f"trigram window is inverted: [{state.trgm_low}, {state.trgm_high})")
        if orphan_wal(path):
            report.problems.append(
                f"{path.name}-wal holds changes no running program has open (a crash, or copied from another "
                "database); the next read-write open will merge it into the file"
            )
    finally:
        conn.close()
        plan.discard()
        if not sidecars_before and not plan.immutable and plan.snapshot_dir is None:
            remove_unused_sidecars(path)
    return report


def _safe_integrity(conn: sqlite3.Connection) -> list[str]:
    try:
        return _integrity(conn)
    except sqlite3.Error as exc:
        return [str(exc)]


# ── the repair ───────────────────────────────────────────────────────────────────────────────


def backup(path: Path, *, now: datetime | None = None) -> Path:
    """Copy the database (with what its WAL holds) to ``PATH.bak-YYYYmmdd-HHMMSS``: 0600, written
    to a temporary name and renamed into place once ``integrity_check`` passes on the copy."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    dest = path.with_name(f"{path.name}.bak-{stamp}")
    if dest.exists():
        raise StoreError(f"{dest} already exists; try again in a second")
    tmp = path.with_name(f".{dest.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    os.close(fd)
    try:
        src = open_connection(path, read_only=True, busy_timeout_ms=5000)
        try:
            out = sqlite3.connect(tmp, isolation_level=None)
            try:
                src.backup(out)
                out.execute("PRAGMA journal_mode = DELETE")  # a standalone file, no sidecars
                bad = _integrity(out)
                if bad:
                    raise StoreError(f"the backup failed its integrity check ({bad[0]}); nothing was changed")
            finally:
                out.close()
        finally:
            src.close()
        os.chmod(tmp, PRIVATE_FILE_MODE)
        os.replace(tmp, dest)
    except BaseException:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
        raise
    return dest


def rebuild_fts(path: Path, *, lock_timeout: float = 5.0) -> tuple[Path, list[str]]:
    """Back up, then rebuild every FTS index (recreating missing ones). Returns (backup, done).

    Refuses while another process has the database open (a rebuild holds the write lock
    throughout), and when the schema is newer than this tool knows.
    """
    path = Path(path).expanduser()
    if not check_sqlite_file(path):
        raise DatabaseMissingError(path) if not path.exists() else StoreError(f"{path} is empty")
    if wal_in_use(path):
        raise StoreError(
            "another program (the agent?) has the database open; a rebuild holds the write lock for "
            "its whole length, so stop it first and run this again"
        )
    dest = backup(path)
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None, timeout=0.0)
    done: list[str] = []
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc).lower() or "busy" in str(exc).lower():
                raise DatabaseLockedError(lock_timeout, lock_timeout) from exc
            raise
        try:
            state = schema.inspect(conn)
            if state.too_new:
                raise StoreError(f"schema version {state.version} is newer than this tool knows; nothing was changed")
            t0 = time.monotonic()
            if not state.has_fts:
                conn.execute(schema.FTS_TABLE_SQL)
                done.append("recreated messages_fts")
            triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
            for name, sql in schema.FTS_TRIGGERS.items():
                if name not in triggers:
                    conn.execute(sql)
                    done.append(f"recreated trigger {name}")
            conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
            done.append("rebuilt messages_fts")
            if "messages_trgm" in state.tables and state.has_trigram:
                # The trigram table indexes the window [trgm_low, trgm_high): empty it and let the
                # store's idle maintenance refill it in short transactions (new rows first).
                conn.execute("INSERT INTO messages_trgm(messages_trgm) VALUES ('delete-all')")
                top = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM messages").fetchone()[0]
                conn.execute("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('trgm_low', ?)", (top,))
                conn.execute("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('trgm_high', ?)", (top,))
                done.append("emptied messages_trgm (refilled in the background by hermes-browse)")
            conn.execute("COMMIT")
            done.append(f"took {time.monotonic() - t0:.2f} s")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
    finally:
        conn.close()
    return dest, done
