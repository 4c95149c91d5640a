"""Session lifecycle and token/cost accounting: plain functions run by the writer."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from .sqlutil import clean_text

_TOKEN_SET_COMMON = """
    cost_status = COALESCE(?, cost_status),
    cost_source = COALESCE(?, cost_source),
    pricing_version = COALESCE(?, pricing_version),
    billing_provider = COALESCE(billing_provider, ?),
    billing_base_url = COALESCE(billing_base_url, ?),
    billing_mode = COALESCE(billing_mode, ?),
    model = COALESCE(model, ?)
"""

INCREMENT_TOKENS_SQL = f"""
UPDATE sessions SET
    input_tokens = COALESCE(input_tokens, 0) + ?,
    output_tokens = COALESCE(output_tokens, 0) + ?,
    cache_read_tokens = COALESCE(cache_read_tokens, 0) + ?,
    cache_write_tokens = COALESCE(cache_write_tokens, 0) + ?,
    reasoning_tokens = COALESCE(reasoning_tokens, 0) + ?,
    estimated_cost_usd = COALESCE(estimated_cost_usd, 0) + COALESCE(?, 0),
    actual_cost_usd = CASE WHEN ? IS NULL THEN actual_cost_usd ELSE COALESCE(actual_cost_usd, 0) + ? END,
    {_TOKEN_SET_COMMON}
WHERE id = ?
"""

# update_token_counts(absolute=True): as the reference, a missing estimate counts as 0.
ABSOLUTE_TOKENS_SQL = f"""
UPDATE sessions SET
    input_tokens = ?, output_tokens = ?, cache_read_tokens = ?, cache_write_tokens = ?,
    reasoning_tokens = ?,
    estimated_cost_usd = COALESCE(?, 0),
    actual_cost_usd = CASE WHEN ? IS NULL THEN actual_cost_usd ELSE ? END,
    {_TOKEN_SET_COMMON}
WHERE id = ?
"""

# set_token_counts: as the reference, the estimate is set as given (None clears it).
SET_TOKENS_SQL = ABSOLUTE_TOKENS_SQL.replace("estimated_cost_usd = COALESCE(?, 0)", "estimated_cost_usd = ?")


def token_params(
    session_id: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int,
    cache_write_tokens: int,
    reasoning_tokens: int,
    estimated_cost_usd: float | None,
    actual_cost_usd: float | None,
    cost_status: str | None,
    cost_source: str | None,
    pricing_version: str | None,
    billing_provider: str | None,
    billing_base_url: str | None,
    billing_mode: str | None,
    model: str | None,
) -> tuple[Any, ...]:
    return (
        int(input_tokens or 0), int(output_tokens or 0), int(cache_read_tokens or 0),
        int(cache_write_tokens or 0), int(reasoning_tokens or 0),
        estimated_cost_usd, actual_cost_usd, actual_cost_usd,
        cost_status, cost_source, pricing_version,
        billing_provider, billing_base_url, billing_mode, model,
        session_id,
    )


def create_session(
    conn: sqlite3.Connection,
    session_id: str,
    source: str,
    model: str | None,
    model_config: dict[str, Any] | None,
    system_prompt: str | None,
    user_id: str | None,
    parent_session_id: str | None,
) -> None:
    conn.execute(
        """INSERT OR IGNORE INTO sessions (id, source, user_id, model, model_config,
               system_prompt, parent_session_id, started_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            session_id, source, user_id, model,
            clean_text(json.dumps(model_config, ensure_ascii=False)) if model_config else None,
            system_prompt, parent_session_id, time.time(),
        ),
    )


def ensure_session(conn: sqlite3.Connection, session_id: str, source: str, model: str | None) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO sessions (id, source, model, started_at) VALUES (?, ?, ?, ?)",
        (session_id, source, model, time.time()),
    )


def end_session(conn: sqlite3.Connection, session_id: str, end_reason: str) -> bool:
    """First end wins: a stale second call cannot overwrite e.g. 'compression'."""
    cur = conn.execute(
        "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL",
        (time.time(), end_reason, session_id),
    )
    return cur.rowcount > 0


def reopen_session(conn: sqlite3.Connection, session_id: str) -> None:
    conn.execute("UPDATE sessions SET ended_at = NULL, end_reason = NULL WHERE id = ?", (session_id,))


def update_system_prompt(conn: sqlite3.Connection, session_id: str, system_prompt: str) -> None:
    conn.execute("UPDATE sessions SET system_prompt = ? WHERE id = ?", (system_prompt, session_id))


def get_session(conn: sqlite3.Connection, session_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return dict(row) if row else None
