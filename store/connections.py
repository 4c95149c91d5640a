"""Opening the database file safely, and the pool of reader connections.

* A file that is not SQLite is refused by reading its 16-byte header, before SQLite touches it,
  so it stays byte-for-byte unchanged.
* A new database file is created 0600 before SQLite opens it; SQLite gives its ``-wal`` and
  ``-shm`` files the same mode.
* Read-only opens use ``file:…?mode=ro`` and ``PRAGMA query_only``; readers of a writable store
  use ``query_only`` too, so a read path cannot change data. In a place this process cannot
  write (a read-only file or folder) nothing is ever created beside the file: see
  ``ReadOnlyPlan`` for how a WAL database is read there. (``query_only`` does not block
  ``PRAGMA wal_checkpoint``: no read path runs one; only the writer checkpoints, PASSIVE.)
"""

from __future__ import annotations

import os
import queue
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from . import rawfile
from .errors import DatabaseMissingError, NotADatabaseError, StoreClosedError
from .sqlutil import decode_text

SQLITE_HEADER = b"SQLite format 3\x00"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
READ_BUSY_TIMEOUT_MS = 5000
# No memory-mapped I/O. The file is the agent's, and others write (and may truncate, VACUUM, or sit on
# a failing disk): an I/O error in a mapped page is a SIGBUS that kills the app, where a read() gives an
# error SQLite reports. Pages read through the map also count in the app's resident memory (the
# browse benchmark's VmRSS went from 68 MB of heap to 249 MB).
MMAP_SIZE = 0


def check_sqlite_file(path: Path) -> bool:
    """Return True if ``path`` exists and is non-empty SQLite; False if absent or empty.

    Raises NotADatabaseError (without modifying anything) for any other file.
    """
    try:
        header = rawfile.read_at(path, 0, len(SQLITE_HEADER))
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


WAL_HEADER_BYTES = 32  # a -wal of this size or less holds no frames
SNAPSHOT_MAX_BYTES = 4 << 30  # larger databases are not copied: they open immutable, with a warning


def sidecar_path(path: Path, suffix: str) -> Path:
    return Path(f"{path}{suffix}")


def _size(path: Path) -> int:
    """Size in bytes, or -1 when the file does not exist (or cannot be looked at)."""
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _wal_has_data(path: Path) -> bool:
    return _size(sidecar_path(path, "-wal")) > WAL_HEADER_BYTES


def is_wal_file(path: Path) -> bool:
    """The header's read/write format bytes say WAL (2); False for rollback journals or unreadable."""
    try:
        header = rawfile.read_at(path, 0, 20)
    except OSError:
        return False
    return len(header) == 20 and header[18] == 2 and header[19] == 2


def place_unwritable_reason(path: Path) -> str | None:
    """Why this process cannot write the database file or create files beside it, or None.

    ``os.access`` answers for the real user and sees a read-only mount (EROFS), so root on a
    read-only mount is told "not writable" too; for root on an ordinary file it is writable.
    """
    if not os.access(path, os.W_OK):
        return f"{path} is not writable"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"the folder {path.parent} is not writable"
    return None


@dataclass(frozen=True)
class ReadOnlyPlan:
    """How a read-only store reads its file without creating anything beside it.

    * ``mode=ro`` on the file itself: a writable place, or an unwritable one where both ``-wal``
      and ``-shm`` already exist (SQLite reads them, building the WAL index in memory when the
      ``-shm`` is not writable: SQLITE_READONLY_CANTINIT is handled inside SQLite since 3.22);
    * ``immutable=1``: an unwritable place in WAL mode with no frames in a ``-wal`` (``mode=ro``
      would fail in a read-only folder, or create ``-wal``/``-shm`` beside a read-only file);
    * a private snapshot: an unwritable place whose ``-wal`` holds frames but has no ``-shm``
      (SQLite cannot read that WAL without creating a ``-shm``, and ``immutable=1`` ignores the
      WAL, hiding the newest messages). The file and its ``-wal`` are copied into a private
      temporary folder (0700, removed on close) and read there; too big a copy falls back to
      ``immutable=1`` and ``note`` says the newest messages may be missing.
    """

    path: Path  # what SQLite opens: the database itself or its snapshot copy
    immutable: bool = False
    note: str | None = None  # said after the read-only reason (header, stats, CLI)
    snapshot_dir: Path | None = None

    def uri(self) -> str:
        return _uri(self.path, "ro") + ("&immutable=1" if self.immutable else "")

    def discard(self) -> None:
        if self.snapshot_dir is not None:
            shutil.rmtree(self.snapshot_dir, ignore_errors=True)


def _copy_private(src: Path, dest: Path, db_path: Path) -> None:
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        rawfile.copy_to(src, fd, db_path)
    finally:
        os.close(fd)


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _snapshot(path: Path) -> ReadOnlyPlan | None:
    """Copy the database and its ``-wal`` into a private folder; None when that is not sensible."""
    wal = sidecar_path(path, "-wal")
    total = max(0, _size(path)) + max(0, _size(wal))
    tmp = Path(tempfile.gettempdir())
    try:
        if total > SNAPSHOT_MAX_BYTES or shutil.disk_usage(tmp).free < 2 * total + (64 << 20):
            return None
    except OSError:
        return None
    for _attempt in range(2):  # another process changing the files mid-copy: try once more
        folder = Path(tempfile.mkdtemp(prefix="hermes-browse-snapshot-"))  # 0700
        try:
            before = (_stamp(path), _stamp(wal))
            _copy_private(path, folder / path.name, path)
            _copy_private(wal, folder / wal.name, path)
            if (_stamp(path), _stamp(wal)) == before:
                return ReadOnlyPlan(
                    folder / path.name, snapshot_dir=folder,
                    note=f"showing a private copy taken at opening ({wal.name} holds changes not yet in "
                    "the database file and no -shm can be created here); later changes are not shown",
                )
        except OSError:
            pass
        shutil.rmtree(folder, ignore_errors=True)
    return None


def plan_read_only(path: Path) -> ReadOnlyPlan:
    """Decide how to read ``path`` read-only (see ``ReadOnlyPlan``). Reads only; may copy to /tmp."""
    wal, shm = sidecar_path(path, "-wal"), sidecar_path(path, "-shm")
    if not is_wal_file(path):
        return ReadOnlyPlan(path)
    if place_unwritable_reason(path) is None:
        # Writable place: mode=ro, except for a -wal with frames and no -shm (copied in, restored):
        # mode=ro would create a -shm beside it that only a read-write close could remove, and
        # that close would merge the -wal into the file. Read a private copy instead.
        if _wal_has_data(path) and not shm.exists():
            return _snapshot(path) or ReadOnlyPlan(path)
        return ReadOnlyPlan(path)
    if wal.exists() and shm.exists():
        return ReadOnlyPlan(path)
    if _wal_has_data(path):
        return _snapshot(path) or ReadOnlyPlan(
            path, immutable=True,
            note=f"the newest messages may be missing: {wal.name} holds changes that cannot be read "
            "here (no -shm can be created, and the database is too big to copy)",
        )
    return ReadOnlyPlan(path, immutable=True, note="changes made after opening are not shown")


def remove_unused_sidecars(path: Path) -> None:
    """Remove the empty ``-wal`` and the ``-shm`` that ``mode=ro`` created beside a WAL database
    in a writable folder (a read-only connection cannot remove them), so browsing leaves no file.

    One read-write open and close lets SQLite do it by its own last-close rule: only when no other
    connection has the database open, and with nothing in the ``-wal`` nothing reaches the file.
    Call it only for sidecars that did not exist before this process opened the database.
    """
    wal = sidecar_path(path, "-wal")
    try:
        if wal.stat().st_size != 0 or place_unwritable_reason(path):
            return
        conn = sqlite3.connect(_uri(path, "rw"), uri=True, timeout=0.1)
    except (OSError, sqlite3.Error):
        return
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        pass
    finally:
        conn.close()


def _cannot_open(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return "unable to open" in str(exc).lower() or name in ("SQLITE_CANTOPEN", "SQLITE_READONLY_DIRECTORY")


def _open_read_only(path: Path, busy_timeout_ms: int, plan: ReadOnlyPlan | None = None) -> sqlite3.Connection:
    """Open as ``plan`` says; should ``mode=ro`` still fail to open (a place that looked writable
    but is not), fall back to ``immutable=1`` when no WAL holds unread data."""
    plan = plan or plan_read_only(path)
    conn = sqlite3.connect(
        plan.uri(), uri=True, check_same_thread=False, isolation_level=None, timeout=busy_timeout_ms / 1000,
    )
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.Error as exc:
        conn.close()
        if plan.immutable or not _cannot_open(exc) or _wal_has_data(plan.path):
            raise
    return sqlite3.connect(
        ReadOnlyPlan(plan.path, immutable=True).uri(), uri=True, check_same_thread=False,
        isolation_level=None, timeout=busy_timeout_ms / 1000,
    )


def open_connection(
    path: Path, *, read_only: bool, busy_timeout_ms: int, init_sql: tuple[str, ...] = (),
    plan: ReadOnlyPlan | None = None,
) -> sqlite3.Connection:
    """One connection with the store's settings. Never changes the file by itself.

    ``init_sql`` runs first (TEMP compatibility views for an old schema opened read-only);
    ``plan`` says how a read-only connection reads (default: decided now, see ``plan_read_only``).
    """
    if read_only:
        if not path.exists():
            raise DatabaseMissingError(path)
        conn = _open_read_only(path, busy_timeout_ms, plan)
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
        conn.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
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
        self, path: Path, size: int, *, read_only_file: bool, init_sql: tuple[str, ...] = (),
        plan: ReadOnlyPlan | None = None,
    ) -> None:
        self.path = path
        self.size = max(1, size)
        self._read_only_file = read_only_file
        self._init_sql = init_sql
        self._plan = plan
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _new(self) -> sqlite3.Connection:
        conn = open_connection(self.path, read_only=self._read_only_file,
                               busy_timeout_ms=READ_BUSY_TIMEOUT_MS, init_sql=self._init_sql, plan=self._plan)
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
