"""Statistics: totals for ``get_stats`` and aggregates (per day, per model, per source).

Nothing here checkpoints or writes: the WAL figures come from the writer's last PASSIVE
checkpoint. Per-day figures attribute a session's messages, tokens and cost to the day it
started (one indexed pass over sessions, not a scan of every message).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

_COST = "coalesce(actual_cost_usd, estimated_cost_usd, 0)"
_TOKENS = (
    "coalesce(input_tokens, 0) + coalesce(output_tokens, 0) + coalesce(cache_read_tokens, 0) + "
    "coalesce(cache_write_tokens, 0) + coalesce(reasoning_tokens, 0)"
)


def totals(conn: sqlite3.Connection) -> dict[str, int]:
    sessions = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
    messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    return {"sessions": int(sessions), "messages": int(messages)}


def activity(
    conn: sqlite3.Connection,
    *,
    days: int = 30,
    now: float | None = None,
    utc_offset_s: int = 0,
    top: int = 10,
) -> dict[str, Any]:
    """Sessions, messages, tokens and cost per day over the last ``days``; top models/sources;
    the largest sessions. Days are calendar days at ``utc_offset_s`` from UTC."""
    now = time.time() if now is None else now
    since = now - days * 86400
    shift = f"{int(utc_offset_s):+d} seconds"
    per_day = [
        {"day": r[0], "sessions": r[1], "messages": r[2], "tokens": r[3], "cost_usd": round(r[4], 6)}
        for r in conn.execute(
            f"""SELECT date(started_at, 'unixepoch', ?) AS day, count(*), coalesce(sum(message_count), 0),
                       coalesce(sum({_TOKENS}), 0), coalesce(sum({_COST}), 0)
                  FROM sessions WHERE started_at >= ? GROUP BY day ORDER BY day""",
            (shift, since),
        )
    ]

    def grouped(column: str) -> list[dict[str, Any]]:
        return [
            {column: r[0], "sessions": r[1], "messages": r[2], "tokens": r[3], "cost_usd": round(r[4], 6)}
            for r in conn.execute(
                f"""SELECT coalesce({column}, '(unknown)') AS k, count(*), coalesce(sum(message_count), 0),
                           coalesce(sum({_TOKENS}), 0), coalesce(sum({_COST}), 0)
                      FROM sessions WHERE started_at >= ? GROUP BY k ORDER BY 2 DESC, 1 LIMIT ?""",
                (since, top),
            )
        ]

    largest = [
        dict(r)
        for r in conn.execute(
            f"""SELECT id, title, source, model, message_count, {_TOKENS} AS tokens, {_COST} AS cost_usd,
                       started_at
                  FROM sessions WHERE started_at >= ? ORDER BY message_count DESC, id LIMIT ?""",
            (since, top),
        )
    ]
    window = conn.execute(
        f"""SELECT count(*), coalesce(sum(message_count), 0), coalesce(sum({_TOKENS}), 0),
                   coalesce(sum({_COST}), 0) FROM sessions WHERE started_at >= ?""",
        (since,),
    ).fetchone()
    return {
        "days": days,
        "since": since,
        "now": now,
        "totals": {
            "sessions": int(window[0]), "messages": int(window[1]),
            "tokens": int(window[2]), "cost_usd": round(float(window[3]), 6),
        },
        "per_day": per_day,
        "per_model": grouped("model"),
        "per_source": grouped("source"),
        "largest_sessions": largest,
    }
