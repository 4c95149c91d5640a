"""The demo database generator: deterministic, realistic, consistent, and indistinguishable from a
database written one message at a time."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import demo, schema

ROOT = Path(__file__).resolve().parents[1]
NOW = 1_790_000_000.0  # an explicit "now" (2026-09-21), different from the default


Built = tuple[Path, demo.DemoSummary, list[tuple[int, int]], list[str]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One default-shaped database, shared by the read-only tests (and the folder listing right
    after the build, before any test connection adds -wal/-shm files)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    calls: list[tuple[int, int]] = []
    summary = demo.generate(path, sessions=400, seed=7,
                            progress=lambda done, total: calls.append((done, total)))
    return path, summary, calls, sorted(p.name for p in path.parent.iterdir())


@pytest.fixture()
def db(built: Built) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{built[0]}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def _dump(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        sessions = conn.execute("SELECT * FROM sessions ORDER BY id").fetchall()
        messages = conn.execute("SELECT * FROM messages ORDER BY id").fetchall()
    finally:
        conn.close()
    return sessions, messages


# ── Determinism ──────────────────────────────────────────────────────────────────────────────


def test_same_seed_and_now_give_identical_rows(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "c.db"
    demo.generate(a, sessions=60, seed=11, now=NOW)
    demo.generate(b, sessions=60, seed=11, now=NOW)
    demo.generate(c, sessions=60, seed=12, now=NOW)
    assert _dump(a) == _dump(b)
    assert _dump(a) != _dump(c)
    assert a.read_bytes() == b.read_bytes()


def test_default_now_is_fixed_not_the_clock(built: Built,
                                            db: sqlite3.Connection) -> None:
    newest = db.execute("SELECT max(timestamp) FROM messages").fetchone()[0]
    oldest = db.execute("SELECT min(started_at) FROM sessions").fetchone()[0]
    assert newest < demo.DEFAULT_NOW
    assert demo.DEFAULT_NOW - newest < 7 * 86400
    assert demo.DEFAULT_NOW - oldest < (demo.HISTORY_DAYS + 2) * 86400


def test_explicit_now_bounds_the_history(tmp_path: Path) -> None:
    path = tmp_path / "now.db"
    demo.generate(path, sessions=80, seed=3, now=NOW)
    conn = sqlite3.connect(path)
    lo, hi = conn.execute("SELECT min(started_at), max(max(timestamp), max(coalesce(ended_at, 0))) "
                          "FROM sessions JOIN messages ON messages.session_id = sessions.id").fetchone()
    conn.close()
    assert NOW - (demo.HISTORY_DAYS + 1) * 86400 < lo < hi < NOW


# ── Shape of the data ────────────────────────────────────────────────────────────────────────


def test_summary_matches_the_file(built: Built,
                                  db: sqlite3.Connection) -> None:
    path, summary, calls, _listing = built
    assert summary.sessions == 400 == db.execute("SELECT count(*) FROM sessions").fetchone()[0]
    assert summary.messages == db.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert 5 <= summary.messages / summary.sessions <= 16  # default counts: mean near 10
    assert summary.size_bytes == path.stat().st_size
    assert calls and calls[-1] == (400, 400)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_session_counters_equal_the_rows(db: sqlite3.Connection) -> None:
    bad = db.execute("""
        SELECT s.id, s.message_count, s.tool_call_count,
               (SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS real_messages,
               (SELECT coalesce(sum(json_array_length(m.tool_calls)), 0) FROM messages m
                 WHERE m.session_id = s.id AND m.tool_calls IS NOT NULL) AS real_calls
        FROM sessions s
        WHERE s.message_count != real_messages OR s.tool_call_count != real_calls
    """).fetchall()
    assert bad == []
    assert db.execute("SELECT sum(tool_call_count) FROM sessions").fetchone()[0] > 0


def test_last_active_is_the_newest_activity(db: sqlite3.Connection) -> None:
    bad = db.execute("""
        SELECT count(*) FROM sessions s
        WHERE last_active IS NOT max(started_at,
              coalesce((SELECT max(timestamp) FROM messages m WHERE m.session_id = s.id), started_at))
    """).fetchone()[0]
    assert bad == 0


def test_ids_grow_with_time_and_sessions_interleave(db: sqlite3.Connection) -> None:
    out_of_order = db.execute("""
        SELECT count(*) FROM messages a JOIN messages b ON b.id = a.id + 1 WHERE b.timestamp < a.timestamp
    """).fetchone()[0]
    assert out_of_order == 0
    ids = [r[0] for r in db.execute("SELECT id FROM messages ORDER BY id")]
    assert ids == list(range(1, len(ids) + 1))
    switches = db.execute("""
        SELECT count(*) FROM messages a JOIN messages b ON b.id = a.id + 1 AND b.session_id != a.session_id
        WHERE EXISTS (SELECT 1 FROM messages c WHERE c.session_id = a.session_id AND c.id > b.id)
    """).fetchone()[0]
    assert switches > 0  # some session resumes after another session's message: they interleave


def test_messages_follow_their_session_in_time(db: sqlite3.Connection) -> None:
    assert db.execute("""
        SELECT count(*) FROM messages m JOIN sessions s ON s.id = m.session_id
        WHERE m.timestamp <= s.started_at OR (s.ended_at IS NOT NULL AND m.timestamp > s.ended_at)
    """).fetchone()[0] == 0


def test_sources_models_and_session_states(db: sqlite3.Connection) -> None:
    sources = dict(db.execute("SELECT source, count(*) FROM sessions GROUP BY source").fetchall())
    assert set(sources) == {"cli", "telegram", "discord", "slack"}
    assert sources["cli"] == max(sources.values())
    assert db.execute("SELECT count(DISTINCT model) FROM sessions").fetchone()[0] >= 5
    reasons = {r[0] for r in db.execute("SELECT DISTINCT end_reason FROM sessions")}
    assert {None, "user_exit", "timeout", "compression"} <= reasons
    assert db.execute("SELECT count(*) FROM sessions WHERE ended_at IS NULL").fetchone()[0] > 0
    assert db.execute("SELECT count(*) FROM sessions WHERE message_count = 0").fetchone()[0] > 0
    last_roles = {r[0] for r in db.execute("""
        SELECT (SELECT role FROM messages m WHERE m.session_id = s.id ORDER BY id DESC LIMIT 1)
        FROM sessions s WHERE message_count > 0""")}
    assert {"assistant", "user", "tool"} <= last_roles  # some sessions were interrupted
    finishes = {r[0] for r in db.execute(
        "SELECT DISTINCT finish_reason FROM messages WHERE role = 'assistant'")}
    assert {"stop", "tool_calls", "length"} <= finishes
    assert db.execute("SELECT count(*) FROM messages WHERE role != 'assistant' AND finish_reason IS NOT NULL"
                      ).fetchone()[0] == 0


def test_compression_chains_and_lineage_titles(db: sqlite3.Connection) -> None:
    children = db.execute("""
        SELECT c.id, c.title, c.started_at, p.id AS pid, p.title AS ptitle, p.end_reason, p.ended_at,
               p.last_active AS plast, p.source AS psource, c.source
        FROM sessions c JOIN sessions p ON p.id = c.parent_session_id
    """).fetchall()
    assert children
    orphans = db.execute("""SELECT count(*) FROM sessions c WHERE parent_session_id IS NOT NULL
                            AND NOT EXISTS (SELECT 1 FROM sessions p WHERE p.id = c.parent_session_id)""")
    assert orphans.fetchone()[0] == 0
    depth3 = False
    for row in children:
        assert row["end_reason"] == "compression"
        assert row["ended_at"] == row["started_at"] >= row["plast"]
        assert row["psource"] == row["source"]
        if row["ptitle"] is None:
            assert row["title"] is None
            continue
        base, _, n = row["ptitle"].partition(" #")
        number = int(n) if n else 1
        assert row["title"] == f"{base} #{number + 1}"
        depth3 = depth3 or number >= 2
    assert depth3  # "x", "x #2", "x #3" exists
    titles = [r[0] for r in db.execute("SELECT title FROM sessions WHERE title IS NOT NULL")]
    assert len(titles) == len(set(titles))
    assert not [t for t in titles if re.search(r" #\d+$", t) and t.rpartition(" #")[0] not in titles]


def test_session_ids_and_user_ids(db: sqlite3.Connection) -> None:
    for sid, source, user in db.execute("SELECT id, source, user_id FROM sessions"):
        assert re.fullmatch(r"\d{8}_\d{6}_[0-9a-f]{6}", sid)
        assert (user is None) == (source == "cli")


def test_tool_calls_are_valid_and_answered_in_order(db: sqlite3.Connection) -> None:
    names: set[str] = set()
    open_calls: dict[str, dict[str, str]] = {}
    current = None
    rows = db.execute("SELECT session_id, role, tool_calls, tool_call_id, tool_name, content "
                      "FROM messages ORDER BY session_id, id")
    for session_id, role, tool_calls, call_id, tool_name, content in rows:
        if session_id != current:
            current, open_calls = session_id, {}
        if tool_calls is not None:
            assert role == "assistant"
            calls = json.loads(tool_calls)
            assert isinstance(calls, list) and calls
            open_calls = {}
            for call in calls:
                assert call["type"] == "function"
                assert re.fullmatch(r"(call_|toolu_01)[A-Za-z0-9]+", call["id"])
                args = json.loads(call["function"]["arguments"])
                assert isinstance(args, dict) and args
                names.add(call["function"]["name"])
                open_calls[call["id"]] = call["function"]["name"]
        if role == "tool":
            assert call_id in open_calls, "a tool result answers a call of the assistant message before it"
            assert tool_name == open_calls.pop(call_id)
            assert content
        else:
            assert call_id is None and tool_name is None
    assert {"web_search", "read_file", "terminal", "write_file", "browser_navigate"} <= names


def test_reasoning_and_tokens(db: sqlite3.Connection) -> None:
    assert db.execute("SELECT count(*) FROM messages WHERE reasoning IS NOT NULL").fetchone()[0] > 0
    assert db.execute("SELECT count(*) FROM messages WHERE reasoning IS NOT NULL AND role != 'assistant'"
                      ).fetchone()[0] == 0
    details_rows = db.execute("SELECT reasoning_details FROM messages WHERE reasoning_details IS NOT NULL")
    for (details,) in details_rows:
        assert json.loads(details)[0]["type"] == "reasoning.text"
    with_messages = db.execute("""
        SELECT count(*) FROM sessions WHERE message_count > 0 AND
        (SELECT count(*) FROM messages m WHERE m.session_id = sessions.id AND m.role = 'assistant') > 0 AND
        (input_tokens + cache_read_tokens + cache_write_tokens <= 0 OR output_tokens <= 0
         OR billing_provider IS NULL OR cost_status IS NULL OR estimated_cost_usd IS NULL)
    """).fetchone()[0]
    assert with_messages == 0
    empty = db.execute("""SELECT count(*) FROM sessions WHERE message_count = 0 AND
                          (input_tokens != 0 OR output_tokens != 0 OR estimated_cost_usd IS NOT NULL)""")
    assert empty.fetchone()[0] == 0
    statuses = {r[0] for r in db.execute("SELECT DISTINCT cost_status FROM sessions")}
    assert {"estimated", "actual", "included"} <= statuses
    assert db.execute("SELECT count(*) FROM sessions WHERE actual_cost_usd IS NOT NULL "
                      "AND cost_status != 'actual'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM sessions WHERE reasoning_tokens > 0").fetchone()[0] > 0


def test_text_is_varied_and_searchable_material(db: sqlite3.Connection) -> None:
    content = [r[0] for r in db.execute("SELECT content FROM messages WHERE content IS NOT NULL")]
    blob = "\n".join(content)
    assert re.search(r"[\u4e00-\u9fff]", blob)  # Chinese
    assert re.search(r"[\u3040-\u30ff]", blob)  # Japanese kana
    assert "https://" in blob
    assert re.search(r"[\w.]+@[\w-]+\.\w+", blob)  # emails
    assert re.search(r"\b\w+-\w+\.config\.ts\b|\bmy-app\b", blob)  # hyphenated names
    assert re.search(r"\b\d+\.\d+\.\d+\b", blob)  # version strings
    assert "```python" in blob and "```bash" in blob and "## " in blob
    longer = [c for c in content if len(c) > 80]  # short acks ("continue", "Done.") repeat, as in life
    assert len(set(longer)) > 0.97 * len(longer)  # not a small fixed set of strings
    words = re.findall(r"[a-z]+", blob.lower())
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    assert counts["the"] > 100 * max(1, min(counts.values()))  # common words and a rare tail
    assert sum(1 for c in counts.values() if c == 1) > 100
    lengths = sorted(len(c) for c in content)
    median = lengths[len(lengths) // 2]
    assert 50 <= median <= 600
    assert lengths[-1] > 3000  # some long tool output


# ── Indistinguishable from the normal write path ─────────────────────────────────────────────


def test_integrity_schema_and_indexes(db: sqlite3.Connection) -> None:
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [tuple(r) for r in db.execute("SELECT version FROM schema_version")] == [(schema.SCHEMA_VERSION,)]
    assert db.execute("SELECT value FROM store_meta WHERE key = 'trgm_low'").fetchone()[0] == 1
    state = schema.inspect(db)
    assert state.trigram_complete
    assert schema.plan(state, trigram_supported=True) == []  # nothing left to migrate
    triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {*schema.FTS_TRIGGERS, *schema.TRGM_TRIGGERS, *schema.ACTIVITY_TRIGGERS}
    for table in ("messages_fts_config", "messages_trgm_config"):  # FTS5 defaults after the bulk load
        config = {r[0]: r[1] for r in db.execute(f"SELECT k, v FROM {table}")}
        assert config.get("automerge", 4) == 4


def test_fts_integrity_checks_pass(built: Built) -> None:
    conn = sqlite3.connect(built[0])
    try:
        conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
        conn.execute("INSERT INTO messages_trgm(messages_trgm) VALUES ('integrity-check')")
    finally:
        conn.close()


def test_full_text_indexes_find_known_text(db: sqlite3.Connection) -> None:
    rows = db.execute("SELECT id, content FROM messages WHERE role = 'user' AND content LIKE '% because %' "
                      "ORDER BY id LIMIT 5").fetchall()
    assert rows
    for mid, content in rows:
        word = max(re.findall(r"[A-Za-z]{6,}", content), key=len)
        hits = {r[0] for r in db.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?",
                                         (f'"{word}"',))}
        assert mid in hits
        middle = content[len(content) // 3: len(content) // 3 + 8]
        hits = {r[0] for r in db.execute("SELECT rowid FROM messages_trgm WHERE messages_trgm MATCH ?",
                                         ('"' + middle.replace('"', '""') + '"',))}
        assert mid in hits
    the = db.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'the'").fetchone()[0]
    assert the > 100
    cjk = db.execute("SELECT count(*) FROM messages_trgm WHERE messages_trgm MATCH ?",
                     ('"服务端"',)).fetchone()[0]
    assert cjk > 0
    tools = db.execute("SELECT count(*) FROM messages_trgm WHERE tools MATCH '\"web_search\"'").fetchone()[0]
    assert tools > 0


def test_triggers_work_after_the_bulk_load(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    demo.generate(path, sessions=30, seed=5)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        sid = conn.execute("SELECT id FROM sessions ORDER BY started_at LIMIT 1").fetchone()[0]
        conn.execute("INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, 'user', ?, ?)",
                     (sid, "zanzibarquux appended after the build", demo.DEFAULT_NOW + 5))
        assert conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zanzibarquux'"
                            ).fetchone()[0] == 1
        # New rows join the trigram index through the writer's maintenance, not a trigger.
        assert conn.execute("SELECT count(*) FROM messages_trgm WHERE messages_trgm MATCH 'barquu'"
                            ).fetchone()[0] == 0
        conn.execute("BEGIN IMMEDIATE")
        assert schema.trigram_maintenance_step(conn) == 0
        conn.execute("COMMIT")
        assert conn.execute("SELECT count(*) FROM messages_trgm WHERE messages_trgm MATCH 'barquu'"
                            ).fetchone()[0] == 1
        assert conn.execute("SELECT last_active FROM sessions WHERE id = ?", (sid,)).fetchone()[0] == (
            demo.DEFAULT_NOW + 5)
        conn.execute("DELETE FROM messages WHERE content LIKE 'zanzibarquux%'")
        conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
        conn.execute("INSERT INTO messages_trgm(messages_trgm) VALUES ('integrity-check')")
    finally:
        conn.close()


def test_the_store_opens_it_as_its_own(built: Built) -> None:
    from store import SessionDB

    store = SessionDB(built[0], read_only=True)
    try:
        assert store.session_count() == 400
        hits = store.search_messages("kubernetes")
        assert hits
        sid = hits[0]["session_id"]
        session = store.get_session(sid)
        assert session is not None
        assert len(store.get_messages(sid)) == session["message_count"]
    finally:
        store.close()


def test_without_trigram_the_window_is_left_for_maintenance(tmp_path: Path) -> None:
    full, lean = tmp_path / "full.db", tmp_path / "lean.db"
    demo.generate(full, sessions=40, seed=9)
    demo.generate(lean, sessions=40, seed=9, trigram=False)
    assert _dump(full) == _dump(lean)  # same rows; only the trigram index differs
    conn = sqlite3.connect(lean, isolation_level=None)
    try:
        top = conn.execute("SELECT max(id) FROM messages").fetchone()[0]
        meta = dict(conn.execute("SELECT key, value FROM store_meta").fetchall())
        assert meta["trgm_low"] == meta["trgm_high"] == top + 1
        assert conn.execute("SELECT count(*) FROM messages_trgm_docsize").fetchone()[0] == 0
        assert schema.trigram_pending(conn)
        state = schema.inspect(conn)
        assert schema.plan(state, trigram_supported=True) == [] and not state.trigram_complete
        conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
        newest_id, newest = conn.execute(
            "SELECT id, content FROM messages WHERE length(content) >= 12 ORDER BY id DESC LIMIT 1"
        ).fetchone()
        conn.execute("BEGIN IMMEDIATE")
        while schema.trigram_maintenance_step(conn, chunk=200):
            pass
        conn.execute("COMMIT")
        conn.execute("INSERT INTO messages_trgm(messages_trgm) VALUES ('integrity-check')")
        probe = '"' + newest[:12].replace('"', '""') + '"'
        hits = {r[0] for r in conn.execute("SELECT rowid FROM messages_trgm WHERE messages_trgm MATCH ?",
                                           (probe,))}
        assert newest_id in hits
    finally:
        conn.close()


def test_message_count_range(tmp_path: Path) -> None:
    path = tmp_path / "range.db"
    summary = demo.generate(path, sessions=50, seed=2, messages_per_session=(3, 6))
    conn = sqlite3.connect(path)
    counts = [r[0] for r in conn.execute("SELECT message_count FROM sessions")]
    conn.close()
    assert len(counts) == 50 and all(3 <= c <= 6 for c in counts)
    assert summary.messages == sum(counts)


def test_zero_sessions_gives_an_empty_current_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    summary = demo.generate(path, sessions=0)
    assert (summary.sessions, summary.messages) == (0, 0)
    conn = sqlite3.connect(path)
    state = schema.inspect(conn)
    conn.close()
    assert state.version == schema.SCHEMA_VERSION and state.trigram_complete and state.journal_mode == "wal"


# ── The file ─────────────────────────────────────────────────────────────────────────────────


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_file_is_private_and_alone(built: Built) -> None:
    path = built[0]
    assert _mode(path) == 0o600
    assert built[3] == ["demo.db"]  # no temp file left, no -wal/-shm (the build checkpointed and closed)
    conn = sqlite3.connect(path)  # sidecars made by a later open inherit the private mode
    conn.execute("SELECT count(*) FROM sessions").fetchone()
    for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert _mode(side) == 0o600
    conn.close()


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "keep.db"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        demo.generate(path, sessions=5)
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.db"]
    os.chmod(path, 0o644)
    Path(f"{path}-wal").write_bytes(b"stale wal of the old file")
    demo.generate(path, sessions=5, overwrite=True)
    assert _mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.db"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 5
    conn.close()


def test_failed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "broken.db"

    def boom(self: demo._Loader) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(demo._Loader, "finish", boom)
    with pytest.raises(RuntimeError):
        demo.generate(path, sessions=40)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        demo.generate(tmp_path / "missing" / "x.db", sessions=1)


# ── Command line ─────────────────────────────────────────────────────────────────────────────


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "store.demo", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def test_cli_writes_and_refuses(tmp_path: Path) -> None:
    out = tmp_path / "cli.db"
    ok = _cli("--sessions", "25", "--out", str(out), "--seed", "4",
              "--messages-min", "2", "--messages-max", "5")
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.strip().splitlines()
    assert len(lines) == 1 and "25 sessions" in lines[0] and "messages" in lines[0]
    assert _mode(out) == 0o600
    before = out.read_bytes()

    again = _cli("--sessions", "25", "--out", str(out))
    assert again.returncode != 0
    assert again.stdout == ""
    err = again.stderr.strip().splitlines()
    assert len(err) == 1 and "exists" in err[0] and "--force" in err[0]
    assert out.read_bytes() == before

    forced = _cli("--sessions", "3", "--out", str(out), "--force", "--no-trigram")
    assert forced.returncode == 0, forced.stderr
    assert out.read_bytes() != before

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    bad = _cli("--sessions", "3", "--out", str(blocker / "x.db"))
    assert bad.returncode != 0
    assert len(bad.stderr.strip().splitlines()) == 1 and bad.stderr.startswith("error: ")
