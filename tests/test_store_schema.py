"""Schema version 6, migrations from hand-built older databases, and what opening writes.

Older databases are built by hand (tests/store_helpers.py ``build_agent_db``) the way the agent
at that version left them, with rows, so a migration has real data to carry over.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from store_helpers import (
    build_agent_db,
    execute,
    file_hash,
    fts_ids,
    fts_integrity_ok,
    query,
    raw_connect,
    scalar,
    sidecar,
    table_columns,
    write_lock_held,
)

import store
from store import SessionDB

V6_SESSION_COLUMNS = {
    "id", "source", "user_id", "model", "model_config", "system_prompt", "parent_session_id", "started_at",
    "ended_at", "end_reason", "message_count", "tool_call_count", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "billing_provider", "billing_base_url",
    "billing_mode", "estimated_cost_usd", "actual_cost_usd", "cost_status", "cost_source", "pricing_version",
    "title",
}
V6_MESSAGE_COLUMNS = {
    "id", "session_id", "role", "content", "tool_call_id", "tool_calls", "tool_name", "timestamp",
    "token_count", "finish_reason", "reasoning", "reasoning_details", "codex_reasoning_items",
}


def schema_objects(path: Path) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in query(path, "SELECT type, name FROM sqlite_master")}


def test_new_database_has_schema_6(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with SessionDB(path) as d:
        assert d.get_stats()["schema_version"] == 6
    assert store.SCHEMA_VERSION == 6
    assert query(path, "SELECT version FROM schema_version") == [(6,)]
    assert table_columns(path, "sessions") >= V6_SESSION_COLUMNS
    assert table_columns(path, "messages") >= V6_MESSAGE_COLUMNS
    objs = schema_objects(path)
    for trig in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
        assert ("trigger", trig) in objs
    assert ("table", "messages_fts") in objs
    assert ("index", "idx_sessions_title_unique") in objs
    assert str(scalar(path, "PRAGMA journal_mode")).lower() == "wal"


# ── migrations ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6])
def test_migrates_old_database_keeping_rows(tmp_path: Path, version: int) -> None:
    path = tmp_path / f"v{version}.db"
    ids = build_agent_db(path, version)
    with SessionDB(path) as d:
        assert not d.read_only
        if version < 6:
            assert d.migrated  # it says what it did
        assert d.get_stats()["schema_version"] == 6
        # old rows readable
        assert d.session_count() == 3
        assert [m["id"] for m in d.get_messages("old-0")] == ids["old-0"]
        assert d.get_messages("old-1")[0]["content"] == "oldrow s1 m0 walrus"
        assert d.get_session("old-2")["input_tokens"] == 20  # type: ignore[index]
        rich = {r["id"]: r for r in d.list_sessions_rich()}
        assert rich["old-0"]["preview"] == "oldrow s0 m0 zebra"
        page = d.list_sessions_page()
        assert [r["id"] for r in page] == ["old-2", "old-1", "old-0"]
        assert page[0]["last_active"] == pytest.approx(max(m["timestamp"] for m in d.get_messages("old-2")))
        assert d.get_messages_as_conversation("old-0")[0] == {"role": "user", "content": "oldrow s0 m0 zebra"}
        # old rows searchable
        assert sorted(r["id"] for r in d.search_messages("zebra")) == ids["old-0"]
        # new columns usable
        assert d.set_session_title("old-0", "Migrated title") is True
        with pytest.raises(ValueError):
            d.set_session_title("old-1", "Migrated title")
        d.update_token_counts("old-0", cache_read_tokens=5, actual_cost_usd=0.5)
        mid = d.append_message("old-0", "assistant", "new zebra", finish_reason="stop", reasoning="r",
                               reasoning_details=[{"x": 1}])
        assert d.get_messages("old-0")[-1]["finish_reason"] == "stop"
        assert d.get_session("old-0")["message_count"] == 5  # type: ignore[index]
        assert mid in {r["id"] for r in d.search_messages("zebra")}
        d.wait_for_maintenance(30)
        assert d.get_stats()["trigram_index_complete"] is True
    assert query(path, "SELECT version FROM schema_version") == [(6,)]
    assert table_columns(path, "sessions") >= V6_SESSION_COLUMNS
    assert table_columns(path, "messages") >= V6_MESSAGE_COLUMNS
    assert ("index", "idx_sessions_title_unique") in schema_objects(path)
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    fts_integrity_ok(path)
    if ("table", "messages_trgm") in schema_objects(path):
        fts_integrity_ok(path, "messages_trgm")
    # A second open finds nothing to do.
    with SessionDB(path) as again:
        assert again.migrated == []


def test_migration_without_version_table_and_fts(tmp_path: Path) -> None:
    path = tmp_path / "bare.db"
    ids = build_agent_db(path, 1, fts=False, version_row=False)
    with SessionDB(path) as d:
        assert d.get_stats()["schema_version"] == 6
        assert sorted(r["id"] for r in d.search_messages("walrus")) == sorted(ids["old-1"] + ids["old-2"])
    assert fts_ids(path, "walrus") == set(ids["old-1"] + ids["old-2"])
    fts_integrity_ok(path)


def test_migration_keeps_duplicate_titles_of_an_old_database(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    build_agent_db(path, 3)
    execute(path, "UPDATE sessions SET title = 'same' WHERE id IN ('old-0', 'old-1')")
    with SessionDB(path) as d:
        assert d.get_session_title("old-0") == d.get_session_title("old-1") == "same"
        with pytest.raises(ValueError):
            d.set_session_title("old-2", "same")
        assert d.set_session_title("old-2", "other") is True
        assert d.resolve_session_by_title("other") == "old-2"


def test_two_stores_migrate_the_same_old_database_at_once(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    build_agent_db(path, 1, wal=True)
    errors: list[BaseException] = []
    opened: list[SessionDB] = []
    barrier = threading.Barrier(3)

    def open_it() -> None:
        try:
            barrier.wait()
            opened.append(SessionDB(path))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert errors == []
        assert len(opened) == 3
        for d in opened:
            assert d.session_count() == 3
            d.append_message("old-0", "user", "after concurrent migration")
    finally:
        for d in opened:
            d.close()
    assert query(path, "SELECT version FROM schema_version") == [(6,)]
    assert scalar(path, "SELECT message_count FROM sessions WHERE id = 'old-0'") == 4 + 3
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    fts_integrity_ok(path)


def test_agent_writes_after_migration_are_indexed_and_tracked(tmp_path: Path) -> None:
    """The agent (reference SQL, unaware of the store's additions) keeps writing after we migrated."""
    path = tmp_path / "v6.db"
    build_agent_db(path, 6)
    with SessionDB(path) as d:
        d.wait_for_maintenance(30)
        conn = raw_connect(path)
        try:
            t = time.time()
            conn.execute(
                "INSERT OR IGNORE INTO sessions (id, source, user_id, model, model_config, system_prompt, "
                "parent_session_id, started_at) VALUES ('agent', 'cli', NULL, 'm', NULL, NULL, NULL, ?)",
                (t,),
            )
            conn.execute(
                "INSERT INTO messages (session_id, role, content, tool_call_id, tool_calls, tool_name, timestamp, "
                "token_count, finish_reason, reasoning, reasoning_details, codex_reasoning_items) "
                "VALUES ('agent', 'user', 'written by the agent platypus', NULL, NULL, NULL, ?, NULL, NULL, NULL, "
                "NULL, NULL)",
                (t + 5,),
            )
        finally:
            conn.close()
        assert [r["id"] for r in d.search_messages("platypus")] != []
        top = d.list_sessions_page()[0]
        assert top["id"] == "agent" and top["last_active"] == pytest.approx(t + 5)
    fts_integrity_ok(path)
    if ("table", "messages_trgm") in schema_objects(path):
        fts_integrity_ok(path, "messages_trgm")


# ── opening writes nothing ────────────────────────────────────────────────────────────────


def _current_db(path: Path) -> None:
    with SessionDB(path) as d:
        for i in range(3):
            d.create_session(f"s{i}", "cli")
            d.append_message(f"s{i}", "user", f"hello {i} quokka")
            d.append_message(f"s{i}", "assistant", f"answer {i}")
        d.set_session_title("s0", "Titled")
        d.wait_for_maintenance(30)


def _browse(d: SessionDB) -> None:
    assert d.session_count() == 3
    d.list_sessions_rich()
    d.list_sessions_page()
    d.count_sessions(text="T")
    d.get_messages("s0")
    d.get_messages_as_conversation("s0")
    assert len(d.search_messages("quokka")) == 3
    d.get_stats()
    d.activity_stats()
    d.data_version()
    d.export_all()
    d.prune_preview(1)
    d.get_lineage("s0")
    d.resolve_session_by_title("Titled")


def test_opening_a_current_database_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _current_db(path)
    # Every connection is closed: SQLite checkpointed the WAL into the main file and removed it.
    assert not sidecar(path, "-wal").exists()
    before = file_hash(path)
    with SessionDB(path) as d:
        assert d.migrated == []
        _browse(d)
        time.sleep(0.2)  # let the writer's idle maintenance tick run
    # Had anything been written, the final checkpoint would have carried it into the main file.
    assert file_hash(path) == before
    assert not sidecar(path, "-wal").exists() or sidecar(path, "-wal").stat().st_size == 0


def test_opening_a_current_database_commits_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _current_db(path)
    observer = raw_connect(path)  # keeps the WAL alive, sees every commit by anyone
    try:
        observer.execute("SELECT count(*) FROM sessions").fetchone()
        dv = observer.execute("PRAGMA data_version").fetchone()[0]
        wal = sidecar(path, "-wal")
        wal_before = wal.read_bytes() if wal.exists() else b""
        main_before = file_hash(path)
        with SessionDB(path) as d:
            _browse(d)
            time.sleep(0.2)
        assert observer.execute("PRAGMA data_version").fetchone()[0] == dv
        assert (wal.read_bytes() if wal.exists() else b"") == wal_before
        assert file_hash(path) == main_before
    finally:
        observer.close()


def _agent_appends(path: Path, n: int) -> None:
    """The agent writes ``n`` messages while no store of ours is open (its own connection)."""
    conn = raw_connect(path)
    try:
        for i in range(n):
            conn.execute(
                "INSERT INTO messages (session_id, role, content, timestamp) VALUES ('s1', 'user', ?, ?)",
                (f"agent line {i} wombat", time.time()),
            )
    finally:
        conn.close()


# Regression (audit): the writer's idle trigram maintenance ran once at open, so a store opened on a
# database that needed no migration wrote to it within a second whenever the agent had appended rows.
def test_opening_after_the_agent_wrote_a_few_messages_commits_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _current_db(path)
    _agent_appends(path, 5)
    observer = raw_connect(path)
    try:
        dv = observer.execute("PRAGMA data_version").fetchone()[0]
        with SessionDB(path) as d:
            assert d.migrated == []
            assert len(d.search_messages("wombat")) == 5  # found above the trigram window (LIKE)
            assert len(d.search_messages("omba")) == 5
            time.sleep(1.6)  # past the writer's 1 s maintenance probe
        assert observer.execute("PRAGMA data_version").fetchone()[0] == dv
    finally:
        observer.close()


def test_maintenance_catches_up_once_the_agent_wrote_many_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import store.db

    monkeypatch.setattr(store.db, "TRIGRAM_BACKLOG_ROWS", 20)
    path = tmp_path / "state.db"
    _current_db(path)
    _agent_appends(path, 25)
    with SessionDB(path) as d:
        top = scalar(path, "SELECT max(id) FROM messages")
        deadline = time.monotonic() + 10
        while scalar(path, "SELECT value FROM store_meta WHERE key = 'trgm_high'") <= top:
            assert time.monotonic() < deadline, "the maintenance never caught up"
            time.sleep(0.05)
        assert len(d.search_messages("omba")) == 20  # the page size; every one indexed now
    fts_integrity_ok(path, "messages_trgm")


def test_opening_a_current_database_needs_no_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _current_db(path)
    with write_lock_held(path):
        start = time.perf_counter()
        with SessionDB(path, lock_timeout=0.3) as d:
            assert d.migrated == [] and not d.read_only
            assert d.session_count() == 3
        assert time.perf_counter() - start < 2.0


# ── never lowers schema_version ───────────────────────────────────────────────────────────


def _v9(path: Path) -> None:
    build_agent_db(path, 9, wal=True, extra_session_columns=",\n    future_col TEXT")
    execute(path, "UPDATE sessions SET future_col = 'from the future'")
    execute(path, "CREATE TABLE future_table (x)")


@pytest.mark.parametrize("read_only", [False, True])
def test_newer_schema_opens_read_only_and_is_left_alone(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "v9.db"
    _v9(path)
    before = file_hash(path)
    with SessionDB(path, read_only=read_only) as d:
        assert d.read_only is True
        assert d.read_only_reason is not None
        if not read_only:
            assert "version" in d.read_only_reason and "9" in d.read_only_reason
        assert d.get_stats()["schema_version"] == 9
        rich = d.list_sessions_rich()
        assert [r["id"] for r in rich] == ["old-2", "old-1", "old-0"]
        assert rich[0]["future_col"] == "from the future"
        assert [r["id"] for r in d.list_sessions_page()] == ["old-2", "old-1", "old-0"]
        assert d.get_session("old-0")["future_col"] == "from the future"  # type: ignore[index]
        assert len(d.get_messages("old-0")) == 4
        assert d.get_messages_as_conversation("old-0")[0]["content"] == "oldrow s0 m0 zebra"
        assert len(d.search_messages("zebra")) == 4
        for write in (
            lambda: d.create_session("n", "cli"),
            lambda: d.append_message("old-0", "user", "x"),
            lambda: d.set_session_title("old-0", "t"),
            lambda: d.end_session("old-0", "x"),
            lambda: d.update_token_counts("old-0", input_tokens=1),
            lambda: d.delete_session("old-0"),
            lambda: d.delete_sessions(["old-0"]),
            lambda: d.clear_messages("old-0"),
            lambda: d.prune_sessions(0),
            lambda: d._execute_write(lambda c: c.execute("UPDATE schema_version SET version = 6")),
        ):
            with pytest.raises(store.ReadOnlyError):
                write()
    assert query(path, "SELECT version FROM schema_version") == [(9,)]
    assert file_hash(path) == before
    assert "future_col" in table_columns(path, "sessions")


def test_newer_schema_written_by_this_store_stays_newer(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _current_db(path)
    execute(path, "UPDATE schema_version SET version = 7")
    with SessionDB(path) as d:
        assert d.read_only and "7" in (d.read_only_reason or "")
        assert len(d.search_messages("quokka")) == 3
    assert query(path, "SELECT version FROM schema_version") == [(7,)]


# Regression (bug found by this suite, fixed in store/): store/listing.py, store/messages.py, store/stats.py
# name v6 columns unconditionally: a pre-v6 database opened read-only (not migrated) fails with 'no such
# column' in list_sessions_page (v1, v3), get_messages_as_conversation (v1-v5), activity_stats (v1, v3),
# get_lineage and titles (v1)
@pytest.mark.parametrize("version", [1, 3, 5])
def test_old_database_opened_read_only_can_be_browsed(tmp_path: Path, version: int) -> None:
    path = tmp_path / f"v{version}.db"
    build_agent_db(path, version)
    before = file_hash(path)
    with SessionDB(path, read_only=True) as d:
        assert d.read_only
        assert [r["id"] for r in d.list_sessions_rich()] == ["old-2", "old-1", "old-0"]
        assert len(d.get_messages("old-0")) == 4
        assert len(d.search_messages("zebra")) == 4
        assert len(d.export_all()) == 3
        assert file_hash(path) == before  # nothing written so far
        assert [r["id"] for r in d.list_sessions_page()] == ["old-2", "old-1", "old-0"]
        assert d.count_sessions(text="old") == 3
        assert d.get_messages_as_conversation("old-0")[0]["content"] == "oldrow s0 m0 zebra"
        assert [r["id"] for r in d.get_lineage("old-0")] == ["old-0"]
        assert d.activity_stats(days=1)["totals"]["sessions"] == 3
        assert d.resolve_session_by_title("x") is None
    assert file_hash(path) == before
    assert query(path, "SELECT version FROM schema_version") == [(version,)]


def test_schema_sql_matches_reference_columns(tmp_path: Path) -> None:
    """A database the store created is one the reference design's SQL can use as is."""
    path = tmp_path / "state.db"
    with SessionDB(path) as d:
        d.create_session("s", "cli")
    conn = sqlite3.connect(str(path))
    try:
        conn.execute(
            "INSERT INTO messages (session_id, role, content, tool_call_id, tool_calls, tool_name, timestamp, "
            "token_count, finish_reason, reasoning, reasoning_details, codex_reasoning_items) "
            "VALUES ('s', 'user', 'hi', NULL, NULL, NULL, 1, NULL, NULL, NULL, NULL, NULL)"
        )
        conn.execute(
            "UPDATE sessions SET cache_read_tokens = cache_read_tokens + 1, billing_provider = "
            "COALESCE(billing_provider, 'p'), title = 't' WHERE id = 's'"
        )
        conn.commit()
    finally:
        conn.close()
    with SessionDB(path) as d:
        assert d.get_session_title("s") == "t"
        assert d.get_messages("s")[0]["content"] == "hi"
