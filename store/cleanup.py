"""Deleting history: clear a session's messages, delete a session, prune old ended sessions.

Children of a deleted session (``parent_session_id``) are kept and detached (parent set to NULL)
in the same transaction, so the foreign key never fails and never rolls the delete back.
Prune judges age by last activity and never touches a session that has not ended. It runs as one
transaction (all or nothing), or in steps (``prune_step``): short transactions of whole sessions, so
another process (the agent) never waits long for the write lock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from time import monotonic, sleep  # not through ``time``: tests freeze ``cleanup.time`` (the clock)
from typing import Any

from .listing import COMPUTED_LAST_ACTIVE_SQL
from .sqlutil import chunks, placeholders

# A stepped prune: each step a transaction of whole sessions sized to take about this long, then a
# pause longer than SQLite's longest busy-handler sleep (100 ms), so a process polling for the lock
# (the agent) gets it between two steps.
PRUNE_STEP_TARGET_S = 0.15
PRUNE_STEP_PAUSE_S = 0.11
PRUNE_STEP_FIRST = 10  # sessions in the first step, before the rate is known
PRUNE_STEP_MAX = 2000


def clear_messages(conn: sqlite3.Connection, session_id: str) -> None:
    conn.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
    conn.execute("UPDATE sessions SET message_count = 0, tool_call_count = 0 WHERE id = ?", (session_id,))


def delete_sessions(
    conn: sqlite3.Connection,
    session_ids: list[str],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Delete sessions with their messages; detach their surviving children. Returns count."""
    deleted = 0
    total = len(session_ids)
    for part in chunks(session_ids):
        marks = placeholders(part)
        conn.execute(
            f"UPDATE sessions SET parent_session_id = NULL WHERE parent_session_id IN ({marks})", part
        )
        conn.execute(f"DELETE FROM messages WHERE session_id IN ({marks})", part)
        deleted += conn.execute(f"DELETE FROM sessions WHERE id IN ({marks})", part).rowcount
        if progress is not None:
            progress(min(deleted, total), total)
    return deleted


def delete_session(conn: sqlite3.Connection, session_id: str) -> bool:
    return delete_sessions(conn, [session_id]) > 0


def _prune_where(
    cutoff: float, source: str | None, has_last_active: bool
) -> tuple[str, list[Any]]:
    la = "s.last_active" if has_last_active else COMPUTED_LAST_ACTIVE_SQL
    where = [f"{la} < ?", "s.ended_at IS NOT NULL"]
    params: list[Any] = [cutoff]
    if source:
        where.append("s.source = ?")
        params.append(source)
    return " AND ".join(where), params


def prune_candidates(
    conn: sqlite3.Connection, cutoff: float, source: str | None, has_last_active: bool,
    limit: int | None = None,
) -> list[str]:
    """The sessions a prune deletes; with ``limit``, at most that many, the longest idle first."""
    where, params = _prune_where(cutoff, source, has_last_active)
    if limit is None:
        return [r[0] for r in conn.execute(f"SELECT s.id FROM sessions AS s WHERE {where}", params)]
    la = "s.last_active" if has_last_active else COMPUTED_LAST_ACTIVE_SQL
    rows = conn.execute(
        f"SELECT s.id FROM sessions AS s WHERE {where} ORDER BY {la}, s.id LIMIT ?", [*params, int(limit)]
    )
    return [r[0] for r in rows]


def prune_step(
    conn: sqlite3.Connection, cutoff: float, source: str | None, has_last_active: bool, limit: int
) -> int:
    """One step of a stepped prune, in its own transaction: up to ``limit`` sessions, chosen again
    inside the transaction (a session the agent wrote to since the preview is no longer idle)."""
    return delete_sessions(conn, prune_candidates(conn, cutoff, source, has_last_active, limit))


def prune_in_steps(
    step: Callable[[int], int],
    total: int,
    *,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> int:
    """Run ``step(limit)`` (one ``prune_step`` transaction, through the writer) until a step deletes
    fewer than it was allowed: each step sized to take about PRUNE_STEP_TARGET_S, with
    PRUNE_STEP_PAUSE_S between steps. ``should_cancel`` is asked before each step. Returns the count."""
    deleted, size = 0, PRUNE_STEP_FIRST
    while should_cancel is None or not should_cancel():
        started = monotonic()
        n = step(size)
        took = monotonic() - started
        deleted += n
        if progress is not None:
            progress(deleted, max(total, deleted))
        if n < size:
            break
        # Aim each step at the target time: sessions differ a lot in size (1 to 5,000 messages).
        rate = n / max(took, 1e-3)
        size = max(1, min(PRUNE_STEP_MAX, int(rate * PRUNE_STEP_TARGET_S)))
        sleep(PRUNE_STEP_PAUSE_S)
    return deleted


def prune_preview(
    conn: sqlite3.Connection, cutoff: float, source: str | None, has_last_active: bool
) -> dict[str, Any]:
    """What a prune would delete: counts and the oldest/newest last activity among them."""
    where, params = _prune_where(cutoff, source, has_last_active)
    la = "s.last_active" if has_last_active else COMPUTED_LAST_ACTIVE_SQL
    row = conn.execute(
        f"""SELECT count(*), coalesce(sum(s.message_count), 0), min({la}), max({la})
              FROM sessions AS s WHERE {where}""",
        params,
    ).fetchone()
    # Sessions old enough but still active (not ended): what the prune spares on purpose.
    spared_where = where.replace("s.ended_at IS NOT NULL", "s.ended_at IS NULL")
    spared = conn.execute(f"SELECT count(*) FROM sessions AS s WHERE {spared_where}", params).fetchone()[0]
    return {
        "sessions": int(row[0]),
        "messages": int(row[1]),
        "oldest_last_active": row[2],
        "newest_last_active": row[3],
        "active_sessions_spared": int(spared),
        "cutoff": cutoff,
    }


def cutoff_for(older_than_days: float, now: float | None = None) -> float:
    return (now if now is not None else time.time()) - float(older_than_days) * 86400.0
