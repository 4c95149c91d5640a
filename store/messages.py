"""Messages: appending, reading (always in id order), the OpenAI conversation format, windows."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from .sqlutil import loads_or_raw

INSERT_MESSAGE_SQL = """
INSERT INTO messages (session_id, role, content, tool_call_id, tool_calls, tool_name, timestamp,
                      token_count, finish_reason, reasoning, reasoning_details, codex_reasoning_items)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


def count_tool_calls(tool_calls: Any) -> int:
    if tool_calls is None:
        return 0
    return len(tool_calls) if isinstance(tool_calls, list) else 1


def append(
    conn: sqlite3.Connection,
    session_id: str,
    role: str,
    content: str | None,
    tool_call_id: str | None,
    tool_calls_json: str | None,
    tool_name: str | None,
    token_count: int | None,
    finish_reason: str | None,
    reasoning: str | None,
    reasoning_details_json: str | None,
    codex_items_json: str | None,
    num_tool_calls: int,
) -> int:
    """Insert one message and bump the session's counters, in the writer's savepoint."""
    cur = conn.execute(
        INSERT_MESSAGE_SQL,
        (
            session_id, role, content, tool_call_id, tool_calls_json, tool_name, time.time(),
            token_count, finish_reason, reasoning, reasoning_details_json, codex_items_json,
        ),
    )
    conn.execute(
        "UPDATE sessions SET message_count = COALESCE(message_count, 0) + 1, "
        "tool_call_count = COALESCE(tool_call_count, 0) + ? WHERE id = ?",
        (num_tool_calls, session_id),
    )
    return int(cur.lastrowid or 0)


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    msg = dict(row)
    if msg.get("tool_calls"):
        msg["tool_calls"] = loads_or_raw(msg["tool_calls"])
    return msg


def get_messages(conn: sqlite3.Connection, session_id: str) -> list[dict[str, Any]]:
    """All messages of a session in id order (wall clocks jump; ids do not)."""
    rows = conn.execute("SELECT * FROM messages WHERE session_id = ? ORDER BY id", (session_id,))
    return [_decode(r) for r in rows]


def iter_messages(conn: sqlite3.Connection, session_id: str, batch: int = 500) -> Any:
    """Messages of a session in id order, ``batch`` rows per query (constant memory)."""
    last = -1
    while True:
        rows = conn.execute(
            "SELECT * FROM messages WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?",
            (session_id, last, batch),
        ).fetchall()
        if not rows:
            return
        for r in rows:
            yield _decode(r)
        last = rows[-1]["id"]


def get_conversation(conn: sqlite3.Connection, session_id: str) -> list[dict[str, Any]]:
    """Messages as OpenAI-style dicts (role/content, tool fields, reasoning on assistant turns)."""
    rows = conn.execute(
        "SELECT role, content, tool_call_id, tool_calls, tool_name, reasoning, reasoning_details, "
        "codex_reasoning_items FROM messages WHERE session_id = ? ORDER BY id",
        (session_id,),
    )
    out: list[dict[str, Any]] = []
    for row in rows:
        msg: dict[str, Any] = {"role": row["role"], "content": row["content"]}
        if row["tool_call_id"]:
            msg["tool_call_id"] = row["tool_call_id"]
        if row["tool_name"]:
            msg["tool_name"] = row["tool_name"]
        if row["tool_calls"]:
            decoded = loads_or_raw(row["tool_calls"])
            if decoded is not row["tool_calls"]:
                msg["tool_calls"] = decoded
        if row["role"] == "assistant":
            if row["reasoning"]:
                msg["reasoning"] = row["reasoning"]
            for key in ("reasoning_details", "codex_reasoning_items"):
                if row[key]:
                    decoded = loads_or_raw(row[key])
                    if decoded is not row[key]:
                        msg[key] = decoded
        out.append(msg)
    return out


def get_range(
    conn: sqlite3.Connection,
    session_id: str,
    *,
    after_id: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Up to ``limit`` messages in id order: the first after ``after_id``, or the last before
    ``before_id``, or (neither) the newest ``limit`` of the session."""
    if after_id is not None:
        rows = conn.execute(
            "SELECT * FROM messages WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?",
            (session_id, after_id, limit),
        ).fetchall()
        return [_decode(r) for r in rows]
    bound = before_id if before_id is not None else 2**63 - 1
    rows = conn.execute(
        "SELECT * FROM messages WHERE session_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
        (session_id, bound, limit),
    ).fetchall()
    return [_decode(r) for r in reversed(rows)]


def get_window(
    conn: sqlite3.Connection, session_id: str, around_id: int, before: int = 50, after: int = 50
) -> list[dict[str, Any]]:
    """The message ``around_id`` with up to ``before`` older and ``after`` newer messages."""
    older = get_range(conn, session_id, before_id=around_id, limit=before)
    newer = conn.execute(
        "SELECT * FROM messages WHERE session_id = ? AND id >= ? ORDER BY id LIMIT ?",
        (session_id, around_id, after + 1),
    ).fetchall()
    return older + [_decode(r) for r in newer]


def position(conn: sqlite3.Connection, session_id: str, message_id: int) -> int:
    """How many messages of the session come before ``message_id``."""
    row = conn.execute(
        "SELECT count(*) FROM messages WHERE session_id = ? AND id < ?", (session_id, message_id)
    ).fetchone()
    return int(row[0])


def count(conn: sqlite3.Connection, session_id: str | None = None) -> int:
    if session_id:
        return int(conn.execute("SELECT count(*) FROM messages WHERE session_id = ?", (session_id,)).fetchone()[0])
    return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
