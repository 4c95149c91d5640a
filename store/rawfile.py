"""Reading a database's bytes directly without dropping SQLite's locks.

POSIX advisory locks belong to a process, not to a descriptor: closing *any* descriptor of a file
releases every lock the process holds on it. SQLite's Unix VFS never closes a descriptor of a file
while one of its connections holds locks on it. Our own peeks must follow the same rule: reading
a header, asking ``F_GETLK`` about the ``-shm``, copying a ``-wal``.

Otherwise, a peek while this process has the database open silently drops its shared locks. A
closing agent then believes it is the last user: it checkpoints and deletes the ``-wal`` and
``-shm`` under our open connections. The next read is a "disk I/O error", and a write of ours may
go to a deleted ``-wal`` and be lost. (Found by the live-agent soak, bench/soak_live.py.)

So every ``SessionDB`` registers its database here while it is open. A descriptor opened for a
peek at one of its files is kept open and reused until the last store on that database in this
process closes; only then is it closed, when no lock of ours is left to lose. A file that no
store has open is read and closed at once. Connections opened with ``sqlite3.connect`` directly
(not through ``SessionDB``) are not tracked.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_lock = threading.Lock()
_open_dbs: Counter[str] = Counter()  # database (real path) -> stores open on it in this process
_kept: dict[str, dict[tuple[int, int], int]] = {}  # database -> (device, inode) -> kept descriptor


def _key(path: Path) -> str:
    return os.path.realpath(path)


def hold(db_path: Path) -> None:
    """A store is opening ``db_path``: from now on, peeks at its files keep their descriptors."""
    with _lock:
        _open_dbs[_key(db_path)] += 1


def release(db_path: Path) -> None:
    """A store on ``db_path`` closed (its connections are gone). The last one closes the kept
    descriptors."""
    key = _key(db_path)
    with _lock:
        _open_dbs[key] -= 1
        if _open_dbs[key] > 0:
            return
        del _open_dbs[key]
        kept = _kept.pop(key, {})
    for fd in kept.values():
        os.close(fd)


def is_held(db_path: Path) -> bool:
    with _lock:
        return _open_dbs[_key(db_path)] > 0


@contextmanager
def descriptor(path: Path, db_path: Path | None = None) -> Iterator[int]:
    """A read-only descriptor of ``path`` (the database ``db_path`` itself or one of its side files).
    Raises OSError as ``os.open`` does. Never closed here while a store has ``db_path`` open."""
    kept = _kept_descriptor(path, _key(db_path or path))
    if kept is not None:
        yield kept
        return
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def _kept_descriptor(path: Path, key: str) -> int | None:
    """The descriptor kept for ``path`` while a store has database ``key`` open (opened now if
    there is none yet); None when no store has it open."""
    with _lock:
        if _open_dbs[key] <= 0:
            return None
    st = os.stat(path)
    ident = (st.st_dev, st.st_ino)
    with _lock:
        fd = _kept.get(key, {}).get(ident)
    if fd is not None:
        return fd
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    with _lock:
        if _open_dbs[key] <= 0:  # the last store closed meanwhile: no lock of ours is left to lose
            os.close(fd)
            return None
        slot = _kept.setdefault(key, {})
        if ident in slot:  # another thread kept one meanwhile: keep ours open too (closing it would hurt)
            slot[(ident[0], -fd)] = fd
        else:
            slot[ident] = fd
        return fd


def read_at(path: Path, offset: int, size: int, db_path: Path | None = None) -> bytes:
    """Up to ``size`` bytes of ``path`` at ``offset`` (fewer at the end of the file)."""
    with descriptor(path, db_path) as fd:
        return os.pread(fd, size, offset)


def copy_to(src: Path, dest_fd: int, db_path: Path | None = None, chunk: int = 1 << 20) -> None:
    """Copy all of ``src`` to the open descriptor ``dest_fd``, without ever closing ``src`` early."""
    with descriptor(src, db_path) as fd:
        offset = 0
        while True:
            data = os.pread(fd, chunk, offset)
            if not data:
                return
            view = memoryview(data)
            while view:
                written = os.write(dest_fd, view)
                view = view[written:]
            offset += len(data)
