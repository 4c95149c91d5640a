"""Opening the database file safely, and the pool of reader connections.

* A file that is not SQLite is refused by reading its 16-byte header, before SQLite touches it,
  so it stays byte-for-byte unchanged.
* A new database file is created 0600 before SQLite opens it; SQLite gives its ``-wal`` and
  ``-shm`` files the same mode.
* Read-only opens use ``file:…?mode=ro`` and ``PRAGMA query_only``; readers of a writable store
  use ``query_only`` too, so a read path cannot change data. (``query_only`` does not block
  ``PRAGMA wal_checkpoint``: no read path runs one; only the writer checkpoints, PASSIVE.)
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from .errors import DatabaseMissingError, NotADatabaseError, StoreClosedError
from .sqlutil import decode_text

SQLITE_HEADER = b"SQLite format 3\x00"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
READ_BUSY_TIMEOUT_MS = 5000


def check_sqlite_file(path: Path) -> bool:
    """Return True if ``path`` exists and is non-empty SQLite; False if absent or empty.

    Raises NotADatabaseError (without modifying anything) for any other file.
    """
    try:
        with open(path, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return False
    except IsADirectoryError:
        raise NotADatabaseError(path, "it is a directory") from None
    except PermissionError as exc:
        raise NotADatabaseError(path, f"cannot read it: {exc.strerror}") from None
    if not header:
        return False
    if header != SQLITE_HEADER:
        raise NotADatabaseError(path, "its header is not 'SQLite format 3'")
    return True


def create_private_file(path: Path) -> None:
    """Create an empty database file with mode 0600 (and its folder 0700 if new)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=PRIVATE_DIR_MODE, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(path, PRIVATE_FILE_MODE)  # umask may have narrowed it; never widen beyond 0600


def tighten_sidecars(path: Path) -> None:
    """Make ``-wal`` and ``-shm`` beside a database we created private (they inherit, but be sure)."""
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        try:
            if side.exists() and (side.stat().st_mode & 0o777) != PRIVATE_FILE_MODE:
                os.chmod(side, PRIVATE_FILE_MODE)
        except OSError:
            pass


def _uri(path: Path, mode: str) -> str:
    return f"file:{quote(str(path.resolve()))}?mode={mode}"


def _wal_has_data(path: Path) -> bool:
    try:
        return Path(f"{path}-wal").stat().st_size > 0
    except OSError:
        return False


def _open_read_only(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """``mode=ro``; in a folder where SQLite cannot create ``-shm`` (read-only media, a folder
    without write permission), fall back to ``immutable=1`` when no WAL holds unread data."""
    conn = sqlite3.connect(
        _uri(path, "ro"), uri=True, check_same_thread=False, isolation_level=None,
        timeout=busy_timeout_ms / 1000,
    )
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if "unable to open" not in str(exc).lower() or _wal_has_data(path):
            raise
    return sqlite3.connect(
        _uri(path, "ro") + "&immutable=1", uri=True, check_same_thread=False, isolation_level=None,
        timeout=busy_timeout_ms / 1000,
    )


def open_connection(
    path: Path, *, read_only: bool, busy_timeout_ms: int, init_sql: tuple[str, ...] = ()
) -> sqlite3.Connection:
    """One connection with the store's settings. Never changes the file by itself.

    ``init_sql`` runs first (TEMP compatibility views for an old schema opened read-only).
    """
    if read_only:
        if not path.exists():
            raise DatabaseMissingError(path)
        conn = _open_read_only(path, busy_timeout_ms)
    else:
        conn = sqlite3.connect(
            _uri(path, "rw"), uri=True, check_same_thread=False, isolation_level=None,
            timeout=busy_timeout_ms / 1000,
        )
    try:
        conn.row_factory = sqlite3.Row
        conn.text_factory = decode_text
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA mmap_size = 268435456")
        conn.execute("PRAGMA cache_size = -16000")
        for stmt in init_sql:
            conn.execute(stmt)
        if read_only:
            conn.execute("PRAGMA query_only = ON")
        else:
            conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


class ReaderPool:
    """A fixed number of reader connections lent to one thread at a time.

    Connections open lazily (so a store that is only written opens none). Each reader is
    ``query_only``: a read path cannot change data, whatever SQL it runs.
    """

    def __init__(
        self, path: Path, size: int, *, read_only_file: bool, init_sql: tuple[str, ...] = ()
    ) -> None:
        self.path = path
        self.size = max(1, size)
        self._read_only_file = read_only_file
        self._init_sql = init_sql
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _new(self) -> sqlite3.Connection:
        conn = open_connection(self.path, read_only=self._read_only_file,
                               busy_timeout_ms=READ_BUSY_TIMEOUT_MS, init_sql=self._init_sql)
        conn.execute("PRAGMA query_only = ON")
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        if self._closed:
            raise StoreClosedError(self.path)
        conn = self._acquire()
        try:
            yield conn
        finally:
            if conn.in_transaction:  # a generator abandoned mid-read keeps a snapshot open
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if self._closed:
                conn.close()
            else:
                self._idle.put(conn)

    def _acquire(self) -> sqlite3.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._all) < self.size:
                conn = self._new()
                self._all.append(conn)
                return conn
        while not self._closed:  # all lent out: wait for one, but notice close() at once
            try:
                return self._idle.get(timeout=0.1)
            except queue.Empty:
                continue
        raise StoreClosedError(self.path)

    def interrupt_all(self) -> None:
        """Abort every running read (used by close())."""
        with self._lock:
            for conn in self._all:
                try:
                    conn.interrupt()
                except sqlite3.Error:
                    pass

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break
