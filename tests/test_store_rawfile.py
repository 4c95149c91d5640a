"""Peeking at a database's bytes must never drop this process's SQLite locks (store/rawfile.py).

POSIX locks are released when the process closes any descriptor of the file. A header read while
our store was open let a closing agent believe it was the last user: it checkpointed and deleted
the -wal and -shm under our open connections (the live-agent soak then read "disk I/O error").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from store import SessionDB, rawfile
from store.connections import check_sqlite_file, is_wal_file
from store.doctor import wal_in_use

ROOT = Path(__file__).resolve().parent.parent
AGENT = (
    "import sys\n"
    "from store import SessionDB\n"
    "db = SessionDB(sys.argv[1])\n"
    "db.create_session(sys.argv[2], 'telegram')\n"
    "db.append_message(sys.argv[2], 'user', 'hello from the agent')\n"
    "db.close()\n"
)


def agent_writes_and_exits(db: Path, session_id: str) -> None:
    subprocess.run([sys.executable, "-c", AGENT, str(db), session_id], check=True, cwd=ROOT, timeout=60)


def sidecars(db: Path) -> set[str]:
    return {p.name for p in db.parent.iterdir() if p.name != db.name}


PEEKS = {
    "a second store opening": lambda db: SessionDB(db, read_only=True).close(),
    "the header check": check_sqlite_file,
    "the WAL-mode check": is_wal_file,
}


@pytest.mark.parametrize("peek", PEEKS.values(), ids=PEEKS.keys())
def test_a_peek_while_open_does_not_let_a_closing_agent_delete_the_wal(tmp_path: Path, peek) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "state.db"
    SessionDB(db).close()
    ours = SessionDB(db)
    try:
        ours.create_session("ours", "cli")
        agent_writes_and_exits(db, "agent-1")
        assert {"state.db-wal", "state.db-shm"} <= sidecars(db)  # we still have it open: the agent left them
        peek(db)
        agent_writes_and_exits(db, "agent-2")
        assert {"state.db-wal", "state.db-shm"} <= sidecars(db), "the agent thought it was the last user"
        ours.append_message("ours", "user", "written after the agent left")
        assert ours.count_sessions() == 3
    finally:
        ours.close()
    with SessionDB(db, read_only=True) as again:
        assert again.message_count() == 3


def test_asking_about_the_shm_keeps_our_own_lock_on_it(tmp_path: Path) -> None:
    """Our store holds SQLite's shared lock on the -shm; asking F_GETLK through a descriptor we
    then closed used to drop it, so the next process would rebuild the WAL index under us."""
    db = tmp_path / "state.db"
    ours = SessionDB(db)
    ask = ("import sys\nfrom pathlib import Path\nfrom store.doctor import wal_in_use\n"
           "print(wal_in_use(Path(sys.argv[1])))")
    try:
        ours.create_session("ours", "cli")
        assert wal_in_use(db) is False  # our own locks never answer F_GETLK
        out = subprocess.run([sys.executable, "-c", ask, str(db)], capture_output=True, text=True, cwd=ROOT,
                             check=True, timeout=60)
        assert out.stdout.strip() == "True"  # another process sees our lock, even after our own query
    finally:
        ours.close()


def test_kept_descriptors_close_with_the_last_store(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    first = SessionDB(db)
    second = SessionDB(db, read_only=True)  # its header peek keeps a descriptor: first is open
    key = rawfile._key(db)
    assert rawfile.is_held(db) and rawfile._kept.get(key)
    first.close()
    assert rawfile.is_held(db) and rawfile._kept.get(key)  # second still open
    second.close()
    assert not rawfile.is_held(db) and key not in rawfile._kept
    assert check_sqlite_file(db)  # with nothing open, a peek reads and closes at once
    assert key not in rawfile._kept


def test_a_store_that_fails_to_open_releases_its_hold(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database at all")
    with pytest.raises(Exception, match="not 'SQLite format 3'"):
        SessionDB(bogus)
    assert not rawfile.is_held(bogus)
