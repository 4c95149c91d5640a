"""Every public method of ``store.SessionDB``, and the reference design's defects 6-9, 11, 12.

Each test uses its own database under ``tmp_path``. Where a test needs chosen timestamps it
writes rows with a plain ``sqlite3`` connection, as the agent (another program) would.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import sqlite3
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_helpers import (
    DAY,
    build_agent_db,
    execute,
    fts_ids,
    ids_of,
    insert_message,
    insert_session,
    query,
    raw_connect,
    scalar,
)

import store
from store import PageCursor, SessionDB
from store.export import ExportCancelled

# ── session lifecycle ─────────────────────────────────────────────────────────────────────


def test_create_session_returns_id_and_stores_fields(db: SessionDB) -> None:
    before = time.time()
    assert db.create_session(
        "s1", "cli", model="m", model_config={"t": 0.5}, system_prompt="sp", user_id="u", parent_session_id=None
    ) == "s1"
    s = db.get_session("s1")
    assert s is not None
    assert (s["source"], s["model"], s["system_prompt"], s["user_id"]) == ("cli", "m", "sp", "u")
    assert json.loads(s["model_config"]) == {"t": 0.5}
    assert before - 1 <= s["started_at"] <= time.time() + 1
    assert s["ended_at"] is None and s["message_count"] == 0 and s["tool_call_count"] == 0


def test_create_session_is_insert_or_ignore(db: SessionDB) -> None:
    db.create_session("s1", "cli", model="first")
    started = db.get_session("s1")["started_at"]  # type: ignore[index]
    assert db.create_session("s1", "telegram", model="second") == "s1"
    s = db.get_session("s1")
    assert s is not None
    assert (s["source"], s["model"], s["started_at"]) == ("cli", "first", started)
    assert db.session_count() == 1


def test_end_session_first_end_wins_and_reopen_clears(db: SessionDB) -> None:
    db.create_session("s", "cli")
    db.end_session("s", "compression")
    first = db.get_session("s")
    assert first is not None and first["end_reason"] == "compression" and first["ended_at"] is not None
    db.end_session("s", "user_exit")  # a stale second end must not overwrite
    second = db.get_session("s")
    assert second is not None
    assert (second["end_reason"], second["ended_at"]) == ("compression", first["ended_at"])
    db.reopen_session("s")
    reopened = db.get_session("s")
    assert reopened is not None and reopened["ended_at"] is None and reopened["end_reason"] is None
    db.end_session("s", "user_exit")
    assert db.get_session("s")["end_reason"] == "user_exit"  # type: ignore[index]


def test_update_system_prompt(db: SessionDB) -> None:
    db.create_session("s", "cli", system_prompt="old")
    db.update_system_prompt("s", "new prompt")
    assert db.get_session("s")["system_prompt"] == "new prompt"  # type: ignore[index]


def test_update_token_counts_increments_and_backfills(db: SessionDB) -> None:
    db.create_session("s", "cli")  # no model yet
    db.update_token_counts(
        "s", input_tokens=10, output_tokens=5, model="m1", cache_read_tokens=1, cache_write_tokens=2,
        reasoning_tokens=3, estimated_cost_usd=0.5, cost_status="estimated", billing_provider="p1",
        billing_base_url="u1", billing_mode="m1",
    )
    db.update_token_counts(
        "s", input_tokens=1, output_tokens=2, model="m2", cache_read_tokens=1, cache_write_tokens=1,
        reasoning_tokens=1, estimated_cost_usd=0.25, actual_cost_usd=1.0, cost_status="actual",
        billing_provider="p2", billing_base_url="u2", billing_mode="m2",
    )
    db.update_token_counts("s", input_tokens=1, actual_cost_usd=None, cost_status=None)
    s = db.get_session("s")
    assert s is not None
    assert (s["input_tokens"], s["output_tokens"]) == (12, 7)
    assert (s["cache_read_tokens"], s["cache_write_tokens"], s["reasoning_tokens"]) == (2, 3, 4)
    assert s["estimated_cost_usd"] == pytest.approx(0.75)
    assert s["actual_cost_usd"] == pytest.approx(1.0)  # None kept the previous value
    assert s["model"] == "m1"  # backfilled once, never overwritten
    assert (s["billing_provider"], s["billing_base_url"], s["billing_mode"]) == ("p1", "u1", "m1")  # first wins
    assert s["cost_status"] == "actual"  # latest non-null wins
    db.update_token_counts("s", actual_cost_usd=0.5)
    assert db.get_session("s")["actual_cost_usd"] == pytest.approx(1.5)  # type: ignore[index]


def test_update_token_counts_model_kept_when_set_at_creation(db: SessionDB) -> None:
    db.create_session("s", "cli", model="created")
    db.update_token_counts("s", input_tokens=1, model="other")
    assert db.get_session("s")["model"] == "created"  # type: ignore[index]


def test_update_token_counts_absolute_sets(db: SessionDB) -> None:
    db.create_session("s", "cli")
    db.update_token_counts("s", input_tokens=100, output_tokens=50, actual_cost_usd=2.0, estimated_cost_usd=1.0)
    db.update_token_counts("s", input_tokens=7, output_tokens=3, reasoning_tokens=2, absolute=True)
    s = db.get_session("s")
    assert s is not None
    assert (s["input_tokens"], s["output_tokens"], s["reasoning_tokens"]) == (7, 3, 2)
    assert s["actual_cost_usd"] == pytest.approx(2.0)  # None keeps
    assert s["estimated_cost_usd"] == 0  # as the reference: a missing estimate counts as 0
    db.update_token_counts("s", input_tokens=9, actual_cost_usd=0.1, estimated_cost_usd=0.2, absolute=True)
    s = db.get_session("s")
    assert s is not None
    assert (s["input_tokens"], s["actual_cost_usd"], s["estimated_cost_usd"]) == (9, 0.1, 0.2)


def test_set_token_counts_sets_absolute_values(db: SessionDB) -> None:
    db.create_session("s", "cli")
    db.update_token_counts("s", input_tokens=100, estimated_cost_usd=3.0, actual_cost_usd=4.0, billing_mode="a")
    db.set_token_counts("s", input_tokens=5, output_tokens=6, model="mx", billing_mode="b", cost_status="final")
    s = db.get_session("s")
    assert s is not None
    assert (s["input_tokens"], s["output_tokens"]) == (5, 6)
    assert s["estimated_cost_usd"] is None  # set as given
    assert s["actual_cost_usd"] == pytest.approx(4.0)  # None keeps
    assert (s["model"], s["billing_mode"], s["cost_status"]) == ("mx", "a", "final")


def test_ensure_session_creates_minimal_row_and_never_overwrites(db: SessionDB) -> None:
    db.ensure_session("new")
    s = db.get_session("new")
    assert s is not None and s["source"] == "unknown" and s["model"] is None
    db.create_session("kept", "cli", model="m")
    db.ensure_session("kept", source="other", model="x")
    k = db.get_session("kept")
    assert k is not None and (k["source"], k["model"]) == ("cli", "m")


def test_get_session_unknown_is_none(db: SessionDB) -> None:
    assert db.get_session("nope") is None


# ── resolving ids (defect 6: LIKE wildcards are literal) ──────────────────────────────────


def test_resolve_session_id_exact_unique_prefix_and_ambiguous(db: SessionDB) -> None:
    for sid in ("20240101_abc", "20240101_abd", "20240202_xyz", "short"):
        db.create_session(sid, "cli")
    assert db.resolve_session_id("20240202_xyz") == "20240202_xyz"
    assert db.resolve_session_id("20240202") == "20240202_xyz"
    assert db.resolve_session_id("20240101_ab") is None  # ambiguous
    assert db.resolve_session_id("20240101_abd") == "20240101_abd"
    assert db.resolve_session_id("zzz") is None
    assert db.resolve_session_id("") is None
    db.create_session("short-longer", "cli")
    assert db.resolve_session_id("short") == "short"  # an exact id wins over a longer one


def test_resolve_session_id_treats_like_wildcards_literally(db: SessionDB) -> None:
    for sid in ("a_b1", "axb2", "p%q1", "pzq2", "back\\slash"):
        db.create_session(sid, "cli")
    assert db.resolve_session_id("a_") == "a_b1"
    assert db.resolve_session_id("ax") == "axb2"
    assert db.resolve_session_id("p%") == "p%q1"
    assert db.resolve_session_id("%") is None
    assert db.resolve_session_id("_") is None
    assert db.resolve_session_id("back\\") == "back\\slash"


# ── titles ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (None, None),
        ("", None),
        ("   \t\n ", None),
        ("  hello   world  ", "hello world"),
        ("tab\there\nnew\r\nline", "tab here new line"),
        ("bell\x07null\x00del\x7f", "bellnulldel"),
        ("zero\u200bwidth\u200d\ufeff", "zerowidth"),
        ("rtl\u202eoverride\u2066", "rtloverride"),
        ("x" * 100, "x" * 100),
        ("  " + "y" * 100 + "  ", "y" * 100),
        ("\u200b\u200b", None),
    ],
)
def test_sanitize_title(raw: str | None, clean: str | None) -> None:
    assert SessionDB.sanitize_title(raw) == clean


def test_sanitize_title_too_long_raises() -> None:
    with pytest.raises(ValueError, match="too long"):
        SessionDB.sanitize_title("x" * 101)


def test_set_session_title_rules(db: SessionDB) -> None:
    db.create_session("a", "cli")
    db.create_session("b", "cli")
    assert db.set_session_title("a", "  My   task ") is True
    assert db.get_session_title("a") == "My task"
    assert db.set_session_title("a", "My task") is True  # its own title is fine
    with pytest.raises(ValueError, match="already in use"):
        db.set_session_title("b", "My task")
    with pytest.raises(ValueError, match="already in use"):
        db.set_session_title("b", "My\u200b task")  # sanitizes to the same title
    with pytest.raises(ValueError):
        db.set_session_title("b", "\u200b\u200c")  # only invisible characters
    with pytest.raises(ValueError):
        db.set_session_title("b", "\x00\x01")  # only control characters
    with pytest.raises(ValueError, match="too long"):
        db.set_session_title("b", "z" * 101)
    assert db.get_session_title("b") is None
    assert db.set_session_title("nope", "Other") is False
    assert db.get_session_by_title("Other") is None
    assert db.set_session_title("a", "   ") is True  # whitespace clears
    assert db.get_session_title("a") is None
    assert db.set_session_title("b", "My task") is True  # free again
    assert db.set_session_title("b", "") is True
    assert db.get_session_title("b") is None


def test_get_session_title_and_by_title(db: SessionDB) -> None:
    db.create_session("a", "cli")
    db.set_session_title("a", "Hello")
    assert db.get_session_title("a") == "Hello"
    assert db.get_session_title("missing") is None
    found = db.get_session_by_title("Hello")
    assert found is not None and found["id"] == "a"
    assert db.get_session_by_title("hello") is None  # exact


def _titled(path: Path, items: list[tuple[str, str | None, float]]) -> None:
    conn = raw_connect(path)
    try:
        for sid, title, started in items:
            insert_session(conn, sid, started, title=title)
    finally:
        conn.close()


def test_resolve_session_by_title_prefers_latest_numbered(db: SessionDB, db_path: Path) -> None:
    t = time.time()
    _titled(db_path, [("s1", "proj", t - 300), ("s2", "proj #2", t - 200), ("s3", "proj #3", t - 100),
                      ("s4", "project #9", t), ("s5", "proj #x", t), ("s6", "other", t)])
    assert db.resolve_session_by_title("proj") == "s3"
    assert db.resolve_session_by_title("proj #2") == "s2"  # exact, no "proj #2 #N"
    assert db.resolve_session_by_title("other") == "s6"
    assert db.resolve_session_by_title("missing") is None


def test_resolve_session_by_title_with_like_wildcards(db: SessionDB, db_path: Path) -> None:
    t = time.time()
    _titled(db_path, [("p1", "50% off", t - 10), ("p2", "50x off #2", t), ("u1", "a_b", t - 10),
                      ("u2", "axb #4", t), ("u3", "a_b #2", t - 5)])
    assert db.resolve_session_by_title("50% off") == "p1"
    assert db.resolve_session_by_title("a_b") == "u3"
    assert db.resolve_session_by_title("%") is None
    assert db.resolve_session_by_title("a_") is None


def test_get_next_title_in_lineage(db: SessionDB, db_path: Path) -> None:
    assert db.get_next_title_in_lineage("x") == "x"  # unused
    t = time.time()
    _titled(db_path, [("x1", "x", t - 3)])
    assert db.get_next_title_in_lineage("x") == "x #2"
    _titled(db_path, [("x2", "x #2", t - 2)])
    assert db.get_next_title_in_lineage("x") == "x #3"
    assert db.get_next_title_in_lineage("x #2") == "x #3"  # "x #2" as input: base "x"
    _titled(db_path, [("x9", "x #9", t - 1), ("xy", "xy #20", t)])
    assert db.get_next_title_in_lineage("x #3") == "x #10"
    _titled(db_path, [("w1", "a_b", t), ("w2", "axb #5", t), ("w3", "50%", t), ("w4", "50x #7", t)])
    assert db.get_next_title_in_lineage("a_b") == "a_b #2"
    assert db.get_next_title_in_lineage("50%") == "50% #2"
    assert db.get_next_title_in_lineage("a%") == "a%"


def test_next_title_is_settable(db: SessionDB) -> None:
    db.create_session("a", "cli")
    db.create_session("b", "cli")
    db.set_session_title("a", db.get_next_title_in_lineage("task"))
    nxt = db.get_next_title_in_lineage("task")
    assert nxt == "task #2"
    assert db.set_session_title("b", nxt)
    assert db.resolve_session_by_title("task") == "b"


# ── listing ───────────────────────────────────────────────────────────────────────────────


def test_list_sessions_rich_preview_last_active_filters(db: SessionDB, db_path: Path) -> None:
    t = time.time() - 1000
    conn = raw_connect(db_path)
    try:
        insert_session(conn, "long", t, source="cli")
        insert_message(conn, "long", "assistant", "not the preview", t + 1)
        insert_message(conn, "long", "user", "line one\nline two " + "x" * 80, t + 2)
        insert_message(conn, "long", "user", "second user message", t + 50)
        insert_session(conn, "exact", t + 10, source="telegram")
        insert_message(conn, "exact", "user", "y" * 60, t + 11)
        insert_session(conn, "none", t + 20, source="discord")
        insert_message(conn, "none", "assistant", "only assistant", t + 21)
    finally:
        conn.close()
    rows = db.list_sessions_rich()
    assert ids_of(rows) == ["none", "exact", "long"]  # started_at desc
    by = {r["id"]: r for r in rows}
    assert by["long"]["preview"] == ("line one line two " + "x" * 80)[:60] + "..."
    assert by["exact"]["preview"] == "y" * 60
    assert by["none"]["preview"] == ""
    assert by["long"]["last_active"] == pytest.approx(t + 50)
    assert by["none"]["last_active"] == pytest.approx(t + 21)
    assert by["long"]["source"] == "cli"  # all session columns are there
    assert ids_of(db.list_sessions_rich(source="telegram")) == ["exact"]
    assert ids_of(db.list_sessions_rich(exclude_sources=["telegram", "discord"])) == ["long"]
    assert ids_of(db.list_sessions_rich(limit=1, offset=1)) == ["exact"]
    assert db.list_sessions_rich(source="nope") == []


def test_list_sessions_rich_last_active_without_messages_is_started_at(db: SessionDB) -> None:
    db.create_session("s", "cli")
    row = db.list_sessions_rich()[0]
    assert row["last_active"] == pytest.approx(row["started_at"])


def _many_sessions(path: Path, n: int, base: float) -> None:
    """n sessions; activity from messages for some, ties in last_active for others."""
    conn = raw_connect(path)
    try:
        conn.execute("BEGIN")
        for i in range(n):
            sid = f"s{i:03d}"
            started = base + (i // 3) * 10  # groups of three start together (ties)
            insert_session(conn, sid, started, source="cli" if i % 2 else "telegram")
            if i % 5 == 0:
                insert_message(conn, sid, "user", f"hello {i}", base + 2000 - i)
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_list_sessions_page_orders_by_last_activity(db: SessionDB, db_path: Path) -> None:
    base = time.time() - 10 * DAY
    _many_sessions(db_path, 40, base)
    rows = db.list_sessions_page(limit=100)
    assert len(rows) == 40
    keys = [(r["last_active"], r["id"]) for r in rows]
    assert keys == sorted(keys, reverse=True)
    assert rows[0]["id"] == "s000"  # started first, but its message is the newest activity
    for r in rows:
        assert {"id", "title", "source", "preview", "last_active", "status", "child_count", "message_count"} <= set(r)


def test_list_sessions_page_keyset_has_no_duplicates_or_gaps(db: SessionDB, db_path: Path) -> None:
    base = time.time() - 10 * DAY
    _many_sessions(db_path, 40, base)
    expected = ids_of(db.list_sessions_page(limit=1000))
    seen: list[str] = []
    after: PageCursor | tuple[float, str] | None = None
    page_no = 0
    while True:
        page = db.list_sessions_page(limit=7, after=after)
        if not page:
            break
        seen += ids_of(page)
        last = page[-1]
        # Alternate the two cursor spellings.
        after = PageCursor(last["last_active"], last["id"]) if page_no % 2 else (last["last_active"], last["id"])
        # New sessions arrive meanwhile (newer activity: above every cursor).
        db.create_session(f"new-{page_no}", "cli")
        db.append_message(f"new-{page_no}", "user", "arrived later")
        page_no += 1
    assert seen == expected
    assert len(set(seen)) == len(seen)


def test_list_sessions_page_offset_source_and_text(db: SessionDB, db_path: Path) -> None:
    t = time.time() - 1000
    conn = raw_connect(db_path)
    try:
        insert_session(conn, "pct", t, title="100% done", source="cli")
        insert_session(conn, "zero", t + 1, title="1000 done", source="cli")
        insert_session(conn, "und", t + 2, title="snake_case", source="telegram")
        insert_session(conn, "cam", t + 3, title="snakeXcase", source="telegram")
        insert_session(conn, "id_match_here", t + 4, title=None, source="discord")
    finally:
        conn.close()
    all_rows = ids_of(db.list_sessions_page())
    assert all_rows == ["id_match_here", "cam", "und", "zero", "pct"]
    assert ids_of(db.list_sessions_page(limit=2, offset=1)) == ["cam", "und"]
    assert ids_of(db.list_sessions_page(source="telegram")) == ["cam", "und"]
    assert ids_of(db.list_sessions_page(exclude_sources=["telegram"])) == ["id_match_here", "zero", "pct"]
    assert ids_of(db.list_sessions_page(text="0%")) == ["pct"]
    assert ids_of(db.list_sessions_page(text="e_c")) == ["und"]
    assert ids_of(db.list_sessions_page(text="SNAKE")) == ["cam", "und"]  # case-insensitive (ASCII)
    assert ids_of(db.list_sessions_page(text="match_here")) == ["id_match_here"]  # id too
    assert ids_of(db.list_sessions_page(text="%")) == ["pct"]
    assert db.count_sessions(text="0%") == 1
    assert db.count_sessions(text="_") == 2  # "snake_case" and "id_match_here"
    assert db.count_sessions(source="telegram") == 2
    assert db.count_sessions(exclude_sources=["telegram", "cli"]) == 1
    assert db.count_sessions() == 5


def test_list_sessions_page_status_and_child_count(db: SessionDB, db_path: Path) -> None:
    t = time.time() - 1000
    calls = json.dumps([{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}])
    conn = raw_connect(db_path)
    try:
        insert_session(conn, "empty", t)
        insert_session(conn, "error", t + 1)
        insert_message(conn, "error", "user", "q", t + 1)
        insert_message(conn, "error", "assistant", "boom", t + 2, finish_reason="error")
        insert_session(conn, "user_last", t + 2)
        insert_message(conn, "user_last", "user", "q", t + 3)
        insert_session(conn, "tool_last", t + 3)
        insert_message(conn, "tool_last", "assistant", None, t + 4, tool_calls=calls)
        insert_message(conn, "tool_last", "tool", "result", t + 5)
        insert_session(conn, "calls_pending", t + 4)
        insert_message(conn, "calls_pending", "user", "q", t + 5)
        insert_message(conn, "calls_pending", "assistant", None, t + 6, tool_calls=calls)
        insert_session(conn, "done", t + 5)
        insert_message(conn, "done", "user", "q", t + 6)
        insert_message(conn, "done", "assistant", "a", t + 7, finish_reason="stop")
        insert_session(conn, "recovered", t + 6)
        insert_message(conn, "recovered", "assistant", "x", t + 7, finish_reason="error")
        insert_message(conn, "recovered", "user", "again", t + 8)
        insert_message(conn, "recovered", "assistant", "ok", t + 9, tool_calls="[]")
        insert_session(conn, "kid1", t + 7, parent="done")
        insert_session(conn, "kid2", t + 8, parent="done")
    finally:
        conn.close()
    rows = {r["id"]: r for r in db.list_sessions_page(limit=100)}
    assert {k: v["status"] for k, v in rows.items() if not k.startswith("kid")} == {
        "empty": "empty",
        "error": "error",
        "user_last": "interrupted",
        "tool_last": "interrupted",
        "calls_pending": "interrupted",
        "done": "done",
        "recovered": "done",
    }
    assert rows["done"]["child_count"] == 2
    assert rows["kid1"]["child_count"] == 0
    assert rows["empty"]["child_count"] == 0


def test_list_sources_search_sessions_session_count(db: SessionDB, db_path: Path) -> None:
    t = time.time() - 100
    conn = raw_connect(db_path)
    try:
        for i, src in enumerate(["telegram", "cli", "cli", "discord"]):
            insert_session(conn, f"s{i}", t + i, source=src)
    finally:
        conn.close()
    assert db.list_sources() == ["cli", "discord", "telegram"]
    assert ids_of(db.search_sessions()) == ["s3", "s2", "s1", "s0"]
    assert ids_of(db.search_sessions(source="cli")) == ["s2", "s1"]
    assert ids_of(db.search_sessions(limit=2, offset=1)) == ["s2", "s1"]
    assert db.session_count() == 4
    assert db.session_count(source="cli") == 2
    assert db.session_count(source="none") == 0


def test_get_lineage_root_to_tip_and_children(db: SessionDB, db_path: Path) -> None:
    t = time.time() - 100
    conn = raw_connect(db_path)
    try:
        insert_session(conn, "root", t)
        insert_session(conn, "mid", t + 1, parent="root")
        insert_session(conn, "side", t + 1.5, parent="root")  # newest child of root
        insert_session(conn, "tip", t + 2, parent="mid")
        insert_session(conn, "lone", t + 3)
    finally:
        conn.close()
    assert ids_of(db.get_lineage("mid")) == ["root", "mid", "tip"]
    assert ids_of(db.get_lineage("tip")) == ["root", "mid", "tip"]
    assert ids_of(db.get_lineage("root")) == ["root", "side"]  # newest child at each step
    assert ids_of(db.get_lineage("lone")) == ["lone"]
    assert db.get_lineage("missing") == []
    assert ids_of(db.get_children("root")) == ["mid", "side"]
    assert db.get_children("tip") == []


# Regression (bug found by this suite, fixed in store/): store/listing.py get_lineage: the recursive CTE's
# UNION cannot stop a parent cycle (each row has a new depth), so a 2-cycle returns 1001 rows with repeated
# ids
def test_get_lineage_is_cycle_safe(db: SessionDB, db_path: Path) -> None:
    t = time.time() - 100
    conn = raw_connect(db_path)
    try:
        insert_session(conn, "a", t)
        insert_session(conn, "b", t + 1, parent="a")
        insert_session(conn, "c", t + 2, parent="b")
        conn.execute("UPDATE sessions SET parent_session_id = 'c' WHERE id = 'a'")  # a -> c -> b -> a
        insert_session(conn, "self", t + 3)
        conn.execute("UPDATE sessions SET parent_session_id = 'self' WHERE id = 'self'")
    finally:
        conn.close()
    for start in ("a", "b", "c"):
        chain = ids_of(db.get_lineage(start))
        assert len(chain) == len(set(chain)), chain[:10]
        assert set(chain) == {"a", "b", "c"}
        assert start in chain
    assert ids_of(db.get_lineage("self")) == ["self"]


# ── messages ──────────────────────────────────────────────────────────────────────────────


def test_append_message_ids_counters_and_json_round_trip(db: SessionDB) -> None:
    db.create_session("s", "cli")
    calls = [
        {"id": "c1", "type": "function", "function": {"name": "read", "arguments": '{"p": "/tmp/ü"}'}},
        {"id": "c2", "type": "function", "function": {"name": "ls", "arguments": "{}"}},
    ]
    details = [{"type": "reasoning.summary", "summary": "thinking… 思考"}]
    codex = [{"id": "rs_1", "encrypted_content": "abc"}]
    m1 = db.append_message("s", "user", "hello ✓ 你好")
    m2 = db.append_message(
        "s", "assistant", None, tool_calls=calls, finish_reason="tool_calls", reasoning="because",
        reasoning_details=details, codex_reasoning_items=codex, token_count=42,
    )
    m3 = db.append_message("s", "tool", "result text", tool_name="read", tool_call_id="c1")
    m4 = db.append_message("s", "assistant", "single", tool_calls={"id": "c3", "function": {"name": "x"}})
    assert isinstance(m1, int) and m1 < m2 < m3 < m4
    s = db.get_session("s")
    assert s is not None and (s["message_count"], s["tool_call_count"]) == (4, 3)
    msgs = db.get_messages("s")
    assert [m["id"] for m in msgs] == [m1, m2, m3, m4]
    assert msgs[0]["content"] == "hello ✓ 你好"
    assert msgs[1]["tool_calls"] == calls
    assert msgs[1]["finish_reason"] == "tool_calls" and msgs[1]["token_count"] == 42
    assert msgs[1]["reasoning"] == "because"
    assert json.loads(msgs[1]["reasoning_details"]) == details
    assert json.loads(msgs[1]["codex_reasoning_items"]) == codex
    assert (msgs[2]["tool_name"], msgs[2]["tool_call_id"]) == ("read", "c1")
    assert msgs[3]["tool_calls"] == {"id": "c3", "function": {"name": "x"}}
    assert db.message_count("s") == 4


def test_append_message_to_missing_session_raises_and_writes_nothing(db: SessionDB, db_path: Path) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        db.append_message("ghost", "user", "nobody home")
    assert scalar(db_path, "SELECT count(*) FROM messages") == 0
    db.ensure_session("ghost")  # the reference's recovery path
    assert db.append_message("ghost", "user", "now it works") > 0
    assert db.get_session("ghost")["message_count"] == 1  # type: ignore[index]


def test_append_message_empty_tool_calls_count_nothing(db: SessionDB) -> None:
    db.create_session("s", "cli")
    db.append_message("s", "assistant", "x", tool_calls=[])
    s = db.get_session("s")
    assert s is not None and (s["message_count"], s["tool_call_count"]) == (1, 0)
    assert db.get_messages("s")[0]["tool_calls"] is None


def test_get_messages_invalid_json_passes_through(db: SessionDB, db_path: Path) -> None:
    db.create_session("s", "cli")
    mid = db.append_message("s", "assistant", "x", tool_calls=[{"id": "c"}], reasoning_details=[1])
    execute(db_path, "UPDATE messages SET tool_calls = '{not json', reasoning_details = 'nope[' WHERE id = ?", (mid,))
    msgs = db.get_messages("s")
    assert msgs[0]["tool_calls"] == "{not json"
    conv = db.get_messages_as_conversation("s")
    assert conv[0]["role"] == "assistant" and conv[0]["content"] == "x"
    exported = db.export_session("s")
    assert exported is not None and exported["messages"][0]["tool_calls"] == "{not json"


def test_get_messages_as_conversation_format(db: SessionDB) -> None:
    db.create_session("s", "cli")
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    db.append_message("s", "user", "q", reasoning="user reasoning is never replayed")
    db.append_message(
        "s", "assistant", None, tool_calls=calls, reasoning="r", reasoning_details=[{"a": 1}],
        codex_reasoning_items=[{"b": 2}], finish_reason="tool_calls", token_count=5,
    )
    db.append_message("s", "tool", "out", tool_call_id="c1", tool_name="f")
    db.append_message("s", "assistant", "done")
    conv = db.get_messages_as_conversation("s")
    assert conv == [
        {"role": "user", "content": "q"},
        {
            "role": "assistant", "content": None, "tool_calls": calls, "reasoning": "r",
            "reasoning_details": [{"a": 1}], "codex_reasoning_items": [{"b": 2}],
        },
        {"role": "tool", "content": "out", "tool_call_id": "c1", "tool_name": "f"},
        {"role": "assistant", "content": "done"},
    ]
    assert db.get_messages_as_conversation("missing") == []


def _numbered_messages(db: SessionDB, sid: str, n: int) -> list[int]:
    db.create_session(sid, "cli")
    return [db.append_message(sid, "user" if i % 2 == 0 else "assistant", f"{sid} m{i}") for i in range(n)]


def test_get_messages_range(db: SessionDB) -> None:
    ids = _numbered_messages(db, "s", 10)
    other = _numbered_messages(db, "o", 3)
    rng = [m["id"] for m in db.get_messages_range("s", after_id=ids[2], limit=3)]
    assert rng == ids[3:6]
    assert [m["id"] for m in db.get_messages_range("s", before_id=ids[5], limit=3)] == ids[2:5]
    assert [m["id"] for m in db.get_messages_range("s", limit=4)] == ids[6:]  # newest, in id order
    assert [m["id"] for m in db.get_messages_range("s", after_id=ids[-1])] == []
    assert [m["id"] for m in db.get_messages_range("s", before_id=ids[0])] == []
    assert all(m["session_id"] == "o" for m in db.get_messages_range("o", after_id=0))
    assert [m["id"] for m in db.get_messages_range("o", after_id=0)] == other


def test_get_message_window_and_position(db: SessionDB) -> None:
    ids = _numbered_messages(db, "s", 10)
    _numbered_messages(db, "o", 3)
    assert [m["id"] for m in db.get_message_window("s", ids[5], before=2, after=2)] == ids[3:8]
    assert [m["id"] for m in db.get_message_window("s", ids[0], before=3, after=1)] == ids[0:2]
    assert [m["id"] for m in db.get_message_window("s", ids[9], before=1, after=5)] == ids[8:10]
    assert [db.message_position("s", i) for i in ids] == list(range(10))


def test_message_count(db: SessionDB) -> None:
    _numbered_messages(db, "a", 3)
    _numbered_messages(db, "b", 2)
    assert db.message_count("a") == 3
    assert db.message_count() == 5
    assert db.message_count("none") == 0


# ── defect 9: order by id, not timestamp ──────────────────────────────────────────────────


def test_messages_ordered_by_id_when_clock_goes_backwards(db: SessionDB, db_path: Path) -> None:
    db.create_session("s", "cli")
    ids = [
        db.append_message("s", "user", "first question"),
        db.append_message("s", "assistant", None, tool_calls=[{"id": "c1"}]),
        db.append_message("s", "tool", "tool result", tool_call_id="c1"),
        db.append_message("s", "user", "second question"),
        db.append_message("s", "assistant", "answer"),
    ]
    execute(db_path, "UPDATE messages SET timestamp = 1000000 - id * 10")  # decreasing with id
    assert [m["id"] for m in db.get_messages("s")] == ids
    conv = db.get_messages_as_conversation("s")
    assert [m["role"] for m in conv] == ["user", "assistant", "tool", "user", "assistant"]
    assert conv[0]["content"] == "first question"
    assert db.list_sessions_rich()[0]["preview"] == "first question"
    assert db.list_sessions_page()[0]["preview"] == "first question"
    assert [m["id"] for m in db.get_messages_range("s", limit=2)] == ids[3:]
    exported = db.export_session("s")
    assert exported is not None and [m["id"] for m in exported["messages"]] == ids


# ── defect 7: search context stays in the hit's session ───────────────────────────────────


def test_search_context_is_previous_and_next_of_same_session(db: SessionDB) -> None:
    db.create_session("A", "cli")
    db.create_session("B", "cli")
    db.append_message("A", "user", "alpha one")
    db.append_message("B", "user", "bravo one")
    hit = db.append_message("A", "assistant", "alpha needle two")
    db.append_message("B", "assistant", "bravo two")
    db.append_message("A", "user", "alpha three")
    db.append_message("B", "user", "bravo three")
    results = db.search_messages("needle")
    assert [r["id"] for r in results] == [hit]
    ctx = results[0]["context"]
    contents = [c["content"] for c in ctx]
    assert all(c.startswith("alpha") for c in contents), contents
    assert "alpha one" in contents and "alpha three" in contents
    assert not any("bravo" in c for c in contents)


# ── defect 11: rows written before the FTS table existed are indexed ──────────────────────


def test_rows_written_before_fts_existed_are_searchable(tmp_path: Path) -> None:
    path = tmp_path / "nofts.db"
    ids = build_agent_db(path, 6, fts=False, version_row=False)
    assert "messages_fts" not in {r[0] for r in query(path, "SELECT name FROM sqlite_master")}
    with SessionDB(path) as d:
        hits = d.search_messages("zebra")
        assert sorted(r["id"] for r in hits) == sorted(ids["old-0"])
        new_id = d.append_message("old-1", "user", "fresh zebra")
        assert new_id in {r["id"] for r in d.search_messages("zebra")}
    assert fts_ids(path, "zebra") == set(ids["old-0"]) | {new_id}


# ── export (defect 12) ────────────────────────────────────────────────────────────────────


def _bulk(path: Path, n: int) -> None:
    t = time.time() - 10 * DAY
    conn = raw_connect(path)
    try:
        conn.execute("BEGIN")
        for i in range(n):
            insert_session(conn, f"e{i:04d}", t + i, source="cli" if i % 3 else "telegram", message_count=2)
            insert_message(conn, f"e{i:04d}", "user", f"question {i}", t + i)
            insert_message(conn, f"e{i:04d}", "assistant", f"answer {i}", t + i + 0.5)
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_export_session(db: SessionDB) -> None:
    db.create_session("s", "cli", model="m")
    db.append_message("s", "user", "hi")
    db.append_message("s", "assistant", "x", tool_calls=[{"id": "1"}])
    out = db.export_session("s")
    assert out is not None
    assert out["id"] == "s" and out["model"] == "m"
    assert [m["content"] for m in out["messages"]] == ["hi", "x"]
    assert out["messages"][1]["tool_calls"] == [{"id": "1"}]
    assert db.export_session("missing") is None


def test_export_all_has_no_cap_and_iter_export_streams(db: SessionDB, db_path: Path) -> None:
    _bulk(db_path, 250)
    everything = db.export_all()
    assert len(everything) == 250
    assert len({r["id"] for r in everything}) == 250
    assert all(len(r["messages"]) == 2 for r in everything)
    assert [r["id"] for r in everything] == [f"e{i:04d}" for i in reversed(range(250))]  # newest first
    assert len(db.export_all(source="telegram")) == len([i for i in range(250) if i % 3 == 0])
    gen = db.iter_export()
    assert inspect.isgenerator(gen)
    first = next(gen)
    assert isinstance(first, dict) and first["id"] == "e0249" and len(first["messages"]) == 2
    assert sum(1 for _ in gen) == 249
    picked = list(db.iter_export(session_ids=["e0001", "missing", "e0002"]))
    assert [r["id"] for r in picked] == ["e0001", "e0002"]


def test_export_jsonl_to_path_is_private_and_one_object_per_line(db: SessionDB, db_path: Path, tmp_path: Path) -> None:
    _bulk(db_path, 30)
    dest = tmp_path / "out" / "export.jsonl"
    dest.parent.mkdir()
    seen: list[tuple[int, int | None]] = []
    assert db.export_jsonl(dest, progress=lambda done, total: seen.append((done, total))) == 30
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    lines = dest.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30
    records = [json.loads(line) for line in lines]
    assert all(isinstance(r["messages"], list) and len(r["messages"]) == 2 for r in records)
    assert {r["id"] for r in records} == {f"e{i:04d}" for i in range(30)}
    assert seen[-1] == (30, 30)
    assert sorted(os.listdir(dest.parent)) == ["export.jsonl"]  # no temp file left
    # overwrite (default True) replaces atomically
    assert db.export_jsonl(dest, source="telegram") == 10
    assert len(dest.read_text(encoding="utf-8").splitlines()) == 10
    assert sorted(os.listdir(dest.parent)) == ["export.jsonl"]


def test_export_jsonl_to_file_object(db: SessionDB, db_path: Path) -> None:
    _bulk(db_path, 5)
    buf = io.StringIO()
    assert db.export_jsonl(buf, session_ids=["e0001", "e0003"]) == 2
    records = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [r["id"] for r in records] == ["e0001", "e0003"]
    assert [m["content"] for m in records[0]["messages"]] == ["question 1", "answer 1"]


def test_export_jsonl_cancel_leaves_no_file(db: SessionDB, db_path: Path, tmp_path: Path) -> None:
    _bulk(db_path, 20)
    out = tmp_path / "out"
    out.mkdir()
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    with pytest.raises(ExportCancelled):
        db.export_jsonl(out / "x.jsonl", should_cancel=cancel)
    assert calls["n"] == 6
    assert list(out.iterdir()) == []


def test_export_jsonl_no_overwrite_keeps_existing_file(db: SessionDB, db_path: Path, tmp_path: Path) -> None:
    _bulk(db_path, 3)
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "x.jsonl"
    dest.write_text("precious\n", encoding="utf-8")
    with pytest.raises(FileExistsError):
        db.export_jsonl(dest, overwrite=False)
    assert dest.read_text(encoding="utf-8") == "precious\n"
    assert list(out.iterdir()) == [dest]


def test_export_jsonl_failure_midway_leaves_no_file(db: SessionDB, db_path: Path, tmp_path: Path) -> None:
    _bulk(db_path, 10)
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "x.jsonl"
    dest.write_text("old\n", encoding="utf-8")

    def progress(done: int, total: int | None) -> None:
        if done == 4:
            raise OSError("simulated disk trouble")

    with pytest.raises(OSError, match="simulated"):
        db.export_jsonl(dest, progress=progress)
    assert dest.read_text(encoding="utf-8") == "old\n"
    assert list(out.iterdir()) == [dest]


# ── deleting (defect 8) ───────────────────────────────────────────────────────────────────


def test_clear_messages(db: SessionDB, db_path: Path) -> None:
    db.create_session("s", "cli")
    db.append_message("s", "user", "unique kumquat")
    db.append_message("s", "assistant", "y", tool_calls=[{"id": 1}])
    db.create_session("o", "cli")
    keep = db.append_message("o", "user", "kumquat elsewhere")
    db.clear_messages("s")
    assert db.get_messages("s") == []
    s = db.get_session("s")
    assert s is not None and (s["message_count"], s["tool_call_count"]) == (0, 0)
    assert fts_ids(db_path, "kumquat") == {keep}
    assert db.message_count() == 1


def test_delete_session_keeps_children_detached(db: SessionDB, db_path: Path) -> None:
    db.create_session("parent", "cli")
    db.append_message("parent", "user", "bye")
    db.create_session("child", "cli", parent_session_id="parent")
    db.create_session("grandchild", "cli", parent_session_id="child")
    db.append_message("child", "user", "still here")
    assert db.delete_session("parent") is True
    assert db.get_session("parent") is None
    assert db.message_count("parent") == 0
    child = db.get_session("child")
    assert child is not None and child["parent_session_id"] is None
    assert db.get_session("grandchild")["parent_session_id"] == "child"  # type: ignore[index]
    assert db.message_count("child") == 1
    assert query(db_path, "PRAGMA foreign_key_check") == []
    assert db.delete_session("parent") is False
    assert db.delete_session("never") is False


def test_delete_is_one_transaction(db: SessionDB, db_path: Path) -> None:
    db.create_session("parent", "cli")
    db.append_message("parent", "user", "kept")
    db.create_session("child", "cli", parent_session_id="parent")
    execute(
        db_path,
        "CREATE TRIGGER refuse BEFORE DELETE ON sessions WHEN old.id = 'parent' "
        "BEGIN SELECT RAISE(ABORT, 'refused by test'); END",
    )
    with pytest.raises(Exception, match="refused by test"):
        db.delete_session("parent")
    # Nothing of the failed delete stuck: the child is still attached, the messages are there.
    assert db.get_session("child")["parent_session_id"] == "parent"  # type: ignore[index]
    assert db.message_count("parent") == 1
    execute(db_path, "DROP TRIGGER refuse")
    assert db.delete_session("parent") is True


def test_delete_sessions_many(db: SessionDB, db_path: Path) -> None:
    t = time.time() - 1000
    conn = raw_connect(db_path)
    try:
        conn.execute("BEGIN")
        for i in range(1200):
            insert_session(conn, f"d{i}", t + i, parent=f"d{i - 1}" if i else None)
            insert_message(conn, f"d{i}", "user", "x", t + i)
        insert_session(conn, "survivor", t, parent="d5")
        conn.execute("COMMIT")
    finally:
        conn.close()
    assert db.delete_sessions([f"d{i}" for i in range(1200)] + ["missing"]) == 1200
    assert db.session_count() == 1
    assert db.get_session("survivor")["parent_session_id"] is None  # type: ignore[index]
    assert db.message_count() == 0
    assert db.delete_sessions([]) == 0


def _prune_fixture(path: Path, now: float) -> None:
    conn = raw_connect(path)
    try:
        insert_session(conn, "old_ended", now - 100 * DAY, ended_at=now - 99 * DAY, message_count=2)
        insert_message(conn, "old_ended", "user", "a", now - 100 * DAY)
        insert_message(conn, "old_ended", "assistant", "b", now - 99.5 * DAY)
        insert_session(conn, "old_but_recent_msg", now - 100 * DAY, ended_at=now - DAY, message_count=1)
        insert_message(conn, "old_but_recent_msg", "user", "c", now - DAY)
        insert_session(conn, "old_active", now - 200 * DAY, message_count=1)
        insert_message(conn, "old_active", "user", "d", now - 200 * DAY)
        insert_session(conn, "old_tg", now - 120 * DAY, ended_at=now - 120 * DAY, source="telegram", message_count=3)
        for k in range(3):
            insert_message(conn, "old_tg", "user", f"e{k}", now - 120 * DAY)
        insert_session(conn, "child_of_old", now - 10 * DAY, ended_at=now - 9 * DAY, parent="old_ended")
        insert_session(conn, "new_ended", now - 10 * DAY, ended_at=now - 10 * DAY)
    finally:
        conn.close()


def test_prune_judges_by_last_activity_and_spares_active(db: SessionDB, db_path: Path) -> None:
    now = time.time()
    _prune_fixture(db_path, now)
    preview_cli = db.prune_preview(90, source="cli")
    assert (preview_cli["sessions"], preview_cli["messages"]) == (1, 2)
    preview = db.prune_preview(90)
    assert (preview["sessions"], preview["messages"]) == (2, 5)
    before = db.message_count()
    assert db.prune_sessions(90, source="cli") == preview_cli["sessions"]
    assert db.get_session("old_ended") is None and db.get_session("old_tg") is not None
    assert db.prune_sessions(90) == 1
    assert db.message_count() == before - preview["messages"]
    remaining = {r["id"] for r in db.search_sessions(limit=100)}
    assert remaining == {"old_but_recent_msg", "old_active", "child_of_old", "new_ended"}
    assert db.get_session("child_of_old")["parent_session_id"] is None  # type: ignore[index]
    assert db.prune_preview(90)["sessions"] == 0
    assert db.prune_sessions(90) == 0
    assert db.prune_sessions(0.5) == 3  # ended sessions only; old_active never
    assert {r["id"] for r in db.search_sessions(limit=100)} == {"old_active"}


# Regression (bug found by this suite, fixed in store/): store/schema.py: sessions.last_active is kept only by
# INSERT triggers, so timestamps changed by UPDATE (another program, an import) leave it stale and prune/list
# go by the stale value
def test_prune_sees_timestamps_changed_by_another_program(db: SessionDB, db_path: Path) -> None:
    for sid in ("stale", "fresh", "active"):
        db.create_session(sid, "cli")
        db.append_message(sid, "user", f"message of {sid}")
    db.end_session("stale", "done")
    db.end_session("fresh", "done")
    now = time.time()
    conn = raw_connect(db_path)
    try:
        conn.execute("UPDATE sessions SET started_at = ?", (now - 100 * DAY,))
        conn.execute("UPDATE sessions SET ended_at = ? WHERE ended_at IS NOT NULL", (now - 99 * DAY,))
        conn.execute("UPDATE messages SET timestamp = ?", (now - 100 * DAY,))
        conn.execute("UPDATE messages SET timestamp = ? WHERE session_id = 'fresh'", (now - DAY,))
    finally:
        conn.close()
    assert db.prune_preview(90)["sessions"] == 1
    assert db.prune_sessions(90) == 1
    assert db.get_session("stale") is None
    assert db.get_session("fresh") is not None and db.get_session("active") is not None


# ── statistics and change detection ───────────────────────────────────────────────────────


def test_get_stats_keys_and_counts(db: SessionDB) -> None:
    db.create_session("s", "cli")
    db.append_message("s", "user", "x")
    st = db.get_stats()
    for key in ("total_writes", "batched_writes", "batch_count", "pending_writes", "checkpoint", "sessions",
                "messages", "pool_size", "write_count", "max_batch", "failed_writes", "read_only", "schema_version"):
        assert key in st, key
    assert (st["sessions"], st["messages"]) == (1, 1)
    assert st["total_writes"] >= 2 and st["write_count"] >= 2
    assert st["pending_writes"] == 0 and st["read_only"] is False and st["schema_version"] == 6
    assert set(st["checkpoint"]) == {"busy", "log", "checkpointed"}


def test_get_stats_never_writes(db: SessionDB, db_path: Path) -> None:
    db.create_session("s", "cli")
    for i in range(30):
        db.append_message("s", "user", f"m{i}")
    watcher = raw_connect(db_path)
    try:
        dv = watcher.execute("PRAGMA data_version").fetchone()[0]
        wal = Path(f"{db_path}-wal")
        wal_before = wal.read_bytes() if wal.exists() else b""
        main_before = db_path.read_bytes()
        for _ in range(3):
            db.get_stats()
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == dv
        assert (wal.read_bytes() if wal.exists() else b"") == wal_before  # no checkpoint either
        assert db_path.read_bytes() == main_before
    finally:
        watcher.close()


def test_get_stats_on_read_only_store(db_path: Path) -> None:
    with SessionDB(db_path) as w:
        w.create_session("s", "cli")
    with SessionDB(db_path, read_only=True) as ro:
        st = ro.get_stats()
        assert st["sessions"] == 1 and st["read_only"] is True


def test_activity_stats_with_fixed_now(db: SessionDB, db_path: Path) -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC).timestamp()
    conn = raw_connect(db_path)
    try:
        insert_session(conn, "d1a", now - DAY - 3600, model="m-a", source="cli", message_count=10,
                       input_tokens=100, output_tokens=50, estimated_cost_usd=0.5)
        insert_session(conn, "d1b", now - DAY, model="m-a", source="telegram", message_count=4,
                       input_tokens=10, estimated_cost_usd=0.2, actual_cost_usd=0.3)
        insert_session(conn, "d0", now - 3600, model="m-b", source="cli", message_count=20, output_tokens=7)
        insert_session(conn, "ancient", now - 40 * DAY, model="m-old", source="cli", message_count=99)
    finally:
        conn.close()
    st = db.activity_stats(days=30, now=now)
    assert [(d["day"], d["sessions"], d["messages"], d["tokens"]) for d in st["per_day"]] == [
        ("2026-01-14", 2, 14, 160),
        ("2026-01-15", 1, 20, 7),
    ]
    assert st["per_day"][0]["cost_usd"] == pytest.approx(0.8)  # actual wins over estimate
    assert [(m["model"], m["sessions"]) for m in st["per_model"]] == [("m-a", 2), ("m-b", 1)]
    assert [(s["source"], s["sessions"]) for s in st["per_source"]] == [("cli", 2), ("telegram", 1)]
    assert [s["id"] for s in st["largest_sessions"]] == ["d0", "d1a", "d1b"]
    assert st["totals"]["sessions"] == 3 and st["totals"]["messages"] == 34
    assert [d["day"] for d in db.activity_stats(days=30, now=now, utc_offset_s=-13 * 3600)["per_day"]] == [
        "2026-01-13", "2026-01-14",
    ]


def test_data_version_changes_only_on_commits(db: SessionDB, db_path: Path) -> None:
    db.create_session("s", "cli")
    v1 = db.data_version()
    assert db.data_version() == v1
    db.get_messages("s")
    db.list_sessions_page()
    assert db.data_version() == v1
    execute(db_path, "INSERT INTO sessions (id, source, started_at) VALUES ('other', 'cli', 1)")
    v2 = db.data_version()
    assert v2 != v1
    assert db.data_version() == v2
    db.append_message("s", "user", "own write")
    assert db.data_version() != v2


# ── closing ───────────────────────────────────────────────────────────────────────────────


def test_close_and_context_manager(db_path: Path) -> None:
    with SessionDB(db_path) as d:
        d.create_session("s", "cli")
        assert d.closed is False
    assert d.closed is True
    d.close()  # idempotent
    for call in (
        lambda: d.get_session("s"),
        lambda: d.list_sessions_rich(),
        lambda: d.create_session("t", "cli"),
        lambda: d.data_version(),
        lambda: d.search_messages("x"),
        lambda: d.get_stats(),
    ):
        with pytest.raises(store.StoreClosedError):
            call()
    assert scalar(db_path, "SELECT count(*) FROM sessions") == 1


# ── properties ────────────────────────────────────────────────────────────────────────────

_INVISIBLE = set("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")


@given(st.text(max_size=140))
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
def test_sanitize_title_properties(raw: str) -> None:
    try:
        clean = SessionDB.sanitize_title(raw)
    except ValueError:
        return
    if clean is None:
        return
    assert clean == clean.strip() and clean
    assert "  " not in clean
    assert len(clean) <= 100
    assert not any(ord(c) < 32 or ord(c) == 127 for c in clean)
    assert not (_INVISIBLE & set(clean))
    assert SessionDB.sanitize_title(clean) == clean  # idempotent


def test_resolve_session_id_matches_literal_prefixes(db: SessionDB, db_path: Path) -> None:
    alphabet = "ab_%\\"

    @given(
        ids=st.lists(st.text(alphabet=alphabet, min_size=1, max_size=4), min_size=1, max_size=8, unique=True),
        prefix=st.text(alphabet=alphabet, min_size=1, max_size=3),
    )
    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    def check(ids: list[str], prefix: str) -> None:
        conn = raw_connect(db_path)
        try:
            conn.execute("BEGIN")
            conn.execute("DELETE FROM sessions")
            for i, sid in enumerate(ids):
                insert_session(conn, sid, 1000.0 + i)
            conn.execute("COMMIT")
        finally:
            conn.close()
        matches = [s for s in ids if s.startswith(prefix)]
        if prefix in ids:
            expected: str | None = prefix
        else:
            expected = matches[0] if len(matches) == 1 else None
        assert db.resolve_session_id(prefix) == expected

    check()


def test_keyset_pages_concatenate_to_the_full_list(db: SessionDB, db_path: Path) -> None:
    @given(
        actives=st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=25),
        page=st.integers(min_value=1, max_value=6),
    )
    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    def check(actives: list[int], page: int) -> None:
        conn = raw_connect(db_path)
        try:
            conn.execute("BEGIN")
            conn.execute("DELETE FROM sessions")
            for i, a in enumerate(actives):  # many ties in last_active
                insert_session(conn, f"k{i:02d}", 1000.0 + a)
            conn.execute("COMMIT")
        finally:
            conn.close()
        full = ids_of(db.list_sessions_page(limit=1000))
        assert len(full) == len(actives)
        got: list[str] = []
        after: tuple[float, str] | None = None
        while True:
            rows = db.list_sessions_page(limit=page, after=after)
            if not rows:
                break
            got += ids_of(rows)
            after = (rows[-1]["last_active"], rows[-1]["id"])
        assert got == full
        assert [ids_of(db.list_sessions_page(limit=page, offset=o)) for o in range(0, len(full), page)] == [
            full[o : o + page] for o in range(0, len(full), page)
        ]

    check()
