"""The database file: private modes, HERMES_HOME, files that are not ours, read-only opens.

Opening must never harm the file it is pointed at. Permission checks do not bind root, so the
"unwritable" tests use a read-only bind mount when run as root (skipped where mounting is not
allowed) and plain chmod otherwise.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import file_hash, query, sidecar

import store
from store import SessionDB

IS_ROOT = os.geteuid() == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def populated(path: Path) -> None:
    with SessionDB(path) as d:
        d.create_session("s", "cli")
        d.append_message("s", "user", "hello wombat")
        d.append_message("s", "assistant", "hi")


# ── private files and HERMES_HOME ─────────────────────────────────────────────────────────


@pytest.mark.parametrize("mask", [0o000, 0o022])
def test_new_database_and_sidecars_are_private(tmp_path: Path, mask: int) -> None:
    path = tmp_path / "fresh" / "state.db"
    with umask(mask), SessionDB(path) as d:
        d.create_session("s", "cli")
        d.append_message("s", "user", "secret")
        assert sidecar(path, "-wal").exists() and sidecar(path, "-shm").exists()
        assert mode(path) == 0o600
        assert mode(sidecar(path, "-wal")) == 0o600
        assert mode(sidecar(path, "-shm")) == 0o600
    assert mode(path.parent) == 0o700  # a folder it had to create


def test_hermes_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "hermes-home"
    monkeypatch.setenv("HERMES_HOME", str(home))
    assert store.default_db_path() == home / "state.db"
    assert store.get_hermes_home() == home
    with SessionDB() as d:
        assert d.db_path == home / "state.db"
        d.create_session("s", "cli")
    assert (home / "state.db").exists()
    monkeypatch.delenv("HERMES_HOME")
    assert store.default_db_path() == Path.home() / ".hermes" / "state.db"


# ── files that are not SQLite ─────────────────────────────────────────────────────────────


NOT_SQLITE = {
    "random.db": os.urandom(8192),
    "text.db": b"just some notes\nline two\n",
    "json.db": json.dumps({"sessions": [1, 2, 3]}).encode(),
    "short.db": b"SQLite",  # a prefix of the header only
}


@pytest.mark.parametrize("name", sorted(NOT_SQLITE))
@pytest.mark.parametrize("read_only", [False, True])
def test_file_that_is_not_sqlite_is_refused_and_unchanged(tmp_path: Path, name: str, read_only: bool) -> None:
    path = tmp_path / name
    data = NOT_SQLITE[name]
    path.write_bytes(data)
    with pytest.raises(store.NotADatabaseError) as info:
        SessionDB(path, read_only=read_only)
    assert str(path) in str(info.value)
    assert isinstance(info.value, store.StoreError)
    assert path.read_bytes() == data
    assert sorted(os.listdir(tmp_path)) == [name]  # no -wal, -shm or journal left behind


def test_corrupt_file_with_sqlite_header_is_refused_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    data = b"SQLite format 3\x00" + bytes(range(256)) * 40
    path.write_bytes(data)
    with pytest.raises(store.NotADatabaseError) as info:
        SessionDB(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == data
    assert sorted(os.listdir(tmp_path)) == ["corrupt.db"]


def test_directory_path_gives_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "adir"
    folder.mkdir()
    with pytest.raises(store.StoreError, match="directory") as info:
        SessionDB(folder)
    assert str(folder) in str(info.value)
    assert list(folder.iterdir()) == []


def test_foreign_sqlite_database_is_not_touched_by_a_browser(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE notes (x)")
    conn.execute("INSERT INTO notes VALUES (1)")
    conn.commit()
    conn.close()
    before = file_hash(path)
    with pytest.raises(store.StoreError):
        SessionDB(path, create=False)
    with pytest.raises(store.StoreError):
        SessionDB(path, read_only=True)
    assert file_hash(path) == before
    assert query(path, "SELECT name FROM sqlite_master") == [("notes",)]


def test_missing_file_read_only_raises_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "missing.db"
    with pytest.raises(store.DatabaseMissingError) as info:
        SessionDB(path, read_only=True)
    assert isinstance(info.value, FileNotFoundError)
    assert str(path) in str(info.value)
    with pytest.raises(store.DatabaseMissingError):
        SessionDB(path, create=False)
    assert not path.exists() and not path.parent.exists()


def test_empty_file_read_only_is_refused_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    with pytest.raises(store.StoreError):
        SessionDB(path, read_only=True)
    assert path.read_bytes() == b""


# ── read_only=True ────────────────────────────────────────────────────────────────────────


def test_read_only_open_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    populated(path)
    assert not sidecar(path, "-wal").exists()
    before = file_hash(path)
    with SessionDB(path, read_only=True) as d:
        assert d.read_only is True and d.read_only_reason
        assert [r["id"] for r in d.list_sessions_page()] == ["s"]
        assert [m["content"] for m in d.get_messages("s")] == ["hello wombat", "hi"]
        assert [r["session_id"] for r in d.search_messages("wombat")] == ["s"]
        assert d.get_stats()["read_only"] is True
        assert isinstance(d.data_version(), int)
        with pytest.raises(store.ReadOnlyError):
            d.append_message("s", "user", "nope")
        with pytest.raises(store.ReadOnlyError):
            d.create_session("t", "cli")
    assert file_hash(path) == before
    wal = sidecar(path, "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # SQLite may create it; nothing is written to it


def test_read_only_store_sees_later_writes_of_another_store(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    populated(path)
    with SessionDB(path) as w, SessionDB(path, read_only=True) as r:
        v = r.data_version()
        w.append_message("s", "user", "fresh echidna")
        assert r.data_version() != v
        assert r.get_messages("s")[-1]["content"] == "fresh echidna"
        assert len(r.search_messages("echidna")) == 1


# ── unwritable file or folder ─────────────────────────────────────────────────────────────


@contextlib.contextmanager
def read_only_view(src: Path, work: Path) -> Iterator[Path]:
    """A read-only view of ``src`` (file or folder): chmod when unprivileged, else a ro bind mount."""
    if not IS_ROOT:
        old = mode(src)
        os.chmod(src, 0o555 if src.is_dir() else 0o444)
        try:
            yield src
        finally:
            os.chmod(src, old)
        return
    if shutil.which("mount") is None:
        pytest.skip("running as root (permissions do not bind) and no mount(8) for a read-only bind")
    dst = work / ("ro-" + src.name)
    if src.is_dir():
        dst.mkdir()
    else:
        dst.write_bytes(b"")
    r = subprocess.run(["mount", "--bind", str(src), str(dst)], capture_output=True, check=False)
    if r.returncode != 0:
        pytest.skip(f"running as root (permissions do not bind) and a bind mount is not allowed: {r.stderr!r}")
    try:
        r = subprocess.run(["mount", "-o", "remount,ro,bind", str(dst)], capture_output=True, check=False)
        if r.returncode != 0:
            pytest.skip(f"running as root and a read-only remount is not allowed: {r.stderr!r}")
        yield dst
    finally:
        gc.collect()  # close any connection a failed open left behind, so the mount is not busy
        if subprocess.run(["umount", str(dst)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(dst)], capture_output=True, check=False)


def test_unwritable_file_opens_read_only(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "state.db"
    populated(path)
    before = file_hash(path)
    with read_only_view(path, tmp_path) as view:
        assert not os.access(view, os.W_OK)
        with SessionDB(view) as d:
            assert d.read_only is True
            assert d.read_only_reason and "not writable" in d.read_only_reason
            assert [m["content"] for m in d.get_messages("s")] == ["hello wombat", "hi"]
            assert len(d.search_messages("wombat")) == 1
            with pytest.raises(store.ReadOnlyError):
                d.append_message("s", "user", "x")
    assert file_hash(path) == before


# Regression (bug found by this suite, fixed in store/): store/connections.py open_connection: a WAL database
# in a folder without write permission (and no -shm beside it) cannot be opened with mode=ro alone; SQLite
# needs immutable=1 there, so the open fails with 'unable to open database file' instead of opening read-only
def test_database_in_unwritable_folder_opens_read_only(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "state.db"
    populated(path)
    assert sorted(os.listdir(folder)) == ["state.db"]
    before = file_hash(path)
    with read_only_view(folder, tmp_path) as view:
        for explicit in (False, True):
            with SessionDB(view / "state.db", read_only=explicit) as d:
                assert d.read_only is True
                if not explicit:
                    assert d.read_only_reason and "not writable" in d.read_only_reason
                assert [m["content"] for m in d.get_messages("s")] == ["hello wombat", "hi"]
                assert [r["id"] for r in d.list_sessions_page()] == ["s"]
                assert len(d.search_messages("wombat")) == 1
    assert file_hash(path) == before
