"""Listing compression chains as one row: ``chain_tips_only`` on ``SessionDB.list_sessions_page`` and
``SessionDB.count_sessions`` (a tip is a session no other session names as its parent).

Rows are written with a plain ``sqlite3`` connection, as the agent (another program) would.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from store_helpers import build_agent_db, ids_of, insert_message, insert_session, raw_connect

from store import PageCursor, SessionDB, listing


def _chains(path: Path) -> None:
    """a1 → a2 → a3 (cli), b1 → b2 (telegram), and lone sessions x (cli), y (telegram).

    Activity order, newest first: a3, y, b2, x, a2, b1, a1.
    """
    t = time.time() - 10_000
    conn = raw_connect(path)
    try:
        insert_session(conn, "a1", t, source="cli", title="Research")
        insert_session(conn, "b1", t + 10, source="telegram", title="Chat")
        insert_session(conn, "a2", t + 20, source="cli", title="Research #2", parent="a1")
        insert_session(conn, "x", t + 30, source="cli", title="Lone")
        insert_session(conn, "b2", t + 40, source="telegram", title="Chat #2", parent="b1")
        insert_session(conn, "y", t + 50, source="telegram", title=None)
        insert_session(conn, "a3", t + 60, source="cli", title="Research #3", parent="a2")
        insert_message(conn, "a3", "user", "go on", t + 61)
    finally:
        conn.close()


def test_tips_only_lists_one_row_per_chain(db: SessionDB, db_path: Path) -> None:
    _chains(db_path)
    assert ids_of(db.list_sessions_page()) == ["a3", "y", "b2", "x", "a2", "b1", "a1"]
    assert ids_of(db.list_sessions_page(chain_tips_only=True)) == ["a3", "y", "b2", "x"]
    assert db.count_sessions() == 7
    assert db.count_sessions(chain_tips_only=True) == 4
    rows = {r["id"]: r for r in db.list_sessions_page(chain_tips_only=True)}
    assert rows["a3"]["parent_session_id"] == "a2" and rows["a3"]["child_count"] == 0
    assert rows["a3"]["preview"] == "go on" and rows["a3"]["status"] == "interrupted"


def test_tips_only_with_offset_source_and_text(db: SessionDB, db_path: Path) -> None:
    _chains(db_path)
    assert ids_of(db.list_sessions_page(limit=2, offset=1, chain_tips_only=True)) == ["y", "b2"]
    assert ids_of(db.list_sessions_page(source="cli", chain_tips_only=True)) == ["a3", "x"]
    assert db.count_sessions(source="cli", chain_tips_only=True) == 2
    assert ids_of(db.list_sessions_page(exclude_sources=["cli"], chain_tips_only=True)) == ["y", "b2"]
    assert db.count_sessions(exclude_sources=["cli"], chain_tips_only=True) == 2
    # a text filter and tips only combine (the app drops tips-only while a filter is typed)
    assert ids_of(db.list_sessions_page(text="research", chain_tips_only=True)) == ["a3"]
    assert db.count_sessions(text="research", chain_tips_only=True) == 1
    assert ids_of(db.list_sessions_page(text="a1")) == ["a1"]  # an old segment, by its id
    assert db.count_sessions(text="research") == 3


def test_tips_only_count_matches_the_pages(db: SessionDB, db_path: Path) -> None:
    _chains(db_path)
    for kwargs in ({}, {"source": "cli"}, {"source": "telegram"}, {"exclude_sources": ["telegram"]},
                   {"text": "chat"}, {"source": "nowhere"}):
        rows = db.list_sessions_page(limit=100, chain_tips_only=True, **kwargs)  # type: ignore[arg-type]
        assert db.count_sessions(chain_tips_only=True, **kwargs) == len(rows), kwargs  # type: ignore[arg-type]


def test_a_new_segment_replaces_its_parent_as_the_tip(db: SessionDB, db_path: Path) -> None:
    _chains(db_path)
    db.create_session("b3", "telegram", parent_session_id="b2")
    tips = ids_of(db.list_sessions_page(chain_tips_only=True))
    assert tips[0] == "b3" and "b2" not in tips and len(tips) == 4
    assert db.count_sessions(chain_tips_only=True) == 4
    db.delete_session("b3")  # the parent is the tip again
    assert "b2" in ids_of(db.list_sessions_page(chain_tips_only=True))
    assert db.count_sessions(chain_tips_only=True) == 4


def test_tips_only_keyset_pages_have_no_duplicates_or_gaps(db: SessionDB, db_path: Path) -> None:
    t = time.time() - 100_000
    conn = raw_connect(db_path)
    try:
        conn.execute("BEGIN")
        for c in range(30):  # 30 chains of 1-4 segments, interleaved in time, ties included
            parent = None
            for k in range(1 + c % 4):
                sid = f"c{c:02d}-{k}"
                insert_session(conn, sid, t + (c + k * 7) * 10 // 20 * 20, source="cli" if c % 2 else "telegram",
                               parent=parent)
                parent = sid
        conn.execute("COMMIT")
    finally:
        conn.close()
    expected = ids_of(db.list_sessions_page(limit=1000, chain_tips_only=True))
    assert len(expected) == 30 == db.count_sessions(chain_tips_only=True)
    seen: list[str] = []
    after: PageCursor | tuple[float, str] | None = None
    page_no = 0
    while True:
        page = db.list_sessions_page(limit=7, after=after, chain_tips_only=True)
        if not page:
            break
        seen += ids_of(page)
        last = page[-1]
        after = PageCursor(last["last_active"], last["id"]) if page_no % 2 else (last["last_active"], last["id"])
        # Meanwhile a new chain starts and grows (newer activity: above every cursor).
        db.create_session(f"new-{page_no}", "cli", parent_session_id=f"new-{page_no - 1}" if page_no else None)
        db.append_message(f"new-{page_no}", "user", "arrived later")
        page_no += 1
    assert seen == expected
    assert len(set(seen)) == len(seen)
    assert {sid.split("-")[0] for sid in seen} == {f"c{c:02d}" for c in range(30)}  # each chain once
    for sid in seen:  # each row is its chain's newest segment
        c, k = sid.split("-")
        assert int(k) == int(c[1:]) % 4


def test_tips_only_pages_read_the_index(db: SessionDB, db_path: Path) -> None:
    _chains(db_path)
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        plan = " | ".join(
            str(r[3]) for r in con.execute(
                "EXPLAIN QUERY PLAN SELECT s.rowid FROM sessions AS s WHERE " + listing.CHAIN_TIP_SQL
                + " ORDER BY s.last_active DESC, s.id DESC LIMIT 100"
            )
        )
    finally:
        con.close()
    assert "idx_sessions_last_active" in plan and "idx_sessions_parent" in plan
    assert "TEMP B-TREE" not in plan


def test_tips_only_on_an_old_schema_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    build_agent_db(path, 6, sessions=3)  # old-0, old-1, old-2; make old-2 continue old-1
    conn = raw_connect(path)
    try:
        conn.execute("UPDATE sessions SET parent_session_id = 'old-1' WHERE id = 'old-2'")
    finally:
        conn.close()
    with SessionDB(path, read_only=True) as db:
        assert ids_of(db.list_sessions_page(chain_tips_only=True)) == ["old-2", "old-0"]
        assert db.count_sessions(chain_tips_only=True) == 2
        assert db.count_sessions() == 3
