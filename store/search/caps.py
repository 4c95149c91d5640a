"""What the database offers (FTS tables, trigram watermark) and the result filters."""


from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..sqlutil import placeholders

# ── Capabilities and filters ─────────────────────────────────────────────────────────────────


NO_UPPER_EDGE = 2**62  # a database of the store's first revision indexed every new row by trigger


@dataclass(frozen=True)
class SearchCaps:
    """What a database offers for search. Read per call by ``detect_caps`` (a few microseconds)."""

    messages: bool = True
    fts: bool = True
    trigram: bool = True
    trgm_low: int = 1  # messages with trgm_low <= id < trgm_high are in the trigram index
    trgm_high: int = NO_UPPER_EDGE  # newer rows wait for the writer's maintenance (LIKE covers them)
    title: bool = True  # sessions.title exists (schema version 3 and later)


def detect_caps(conn: sqlite3.Connection) -> SearchCaps:
    """Which search tables exist, and how far the trigram backfill has come. Only reads."""
    names = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name IN "
            "('messages', 'sessions', 'messages_fts', 'messages_trgm', 'store_meta')"
        )
    }
    trgm_low: int | None = None
    trgm_high: int | None = None
    if {"messages_trgm", "store_meta"} <= names:
        meta = dict(conn.execute("SELECT key, value FROM store_meta WHERE key IN ('trgm_low', 'trgm_high')"))
        try:
            trgm_low = int(meta["trgm_low"]) if meta.get("trgm_low") is not None else None
            trgm_high = int(meta["trgm_high"]) if meta.get("trgm_high") is not None else None
        except (TypeError, ValueError):
            trgm_low = None
    title = "sessions" in names and any(
        r[0] == "title" for r in conn.execute("SELECT name FROM pragma_table_info('sessions')")
    )
    return SearchCaps(
        messages="messages" in names and "sessions" in names,
        fts="messages_fts" in names,
        trigram=trgm_low is not None,
        trgm_low=max(1, trgm_low or 1),
        trgm_high=trgm_high if trgm_high is not None else NO_UPPER_EDGE,
        title=title,
    )


@dataclass(frozen=True)
class _Filters:
    sql: str  # "" or " AND ..." over aliases m (messages) and s (sessions)
    params: tuple[Any, ...]
    join: str  # the sessions join, when a source filter needs it
    session_sql: str = ""  # the source conditions alone (" AND ..." over s)
    session_params: tuple[Any, ...] = ()

    def no_session_matches(self, conn: sqlite3.Connection) -> bool:
        """True if no session has an allowed source: then nothing can match (checked in ~0.1 ms,
        where scanning matches for a source that does not exist would take the whole budget)."""
        if not self.session_sql:
            return False
        sql = f"SELECT 1 FROM sessions AS s WHERE 1{self.session_sql} LIMIT 1"
        return conn.execute(sql, self.session_params).fetchone() is None


def _filters(
    source_filter: Sequence[str] | None,
    exclude_sources: Sequence[str] | None,
    role_filter: Sequence[str] | None,
) -> _Filters | None:
    """The filters as SQL with placeholders; None when they exclude everything (empty source list)."""
    sql: list[str] = []
    params: list[Any] = []
    if source_filter is not None:
        sources = [str(s) for s in source_filter]
        if not sources:
            return None
        sql.append(f"s.source IN ({placeholders(sources)})")
        params += sources
    if exclude_sources:
        excluded = [str(s) for s in exclude_sources]
        sql.append(f"s.source NOT IN ({placeholders(excluded)})")
        params += excluded
    session_sql, session_params = "".join(f" AND {c}" for c in sql), tuple(params)
    if role_filter:
        roles = [str(r) for r in role_filter]
        sql.append(f"m.role IN ({placeholders(roles)})")
        params += roles
    join = " JOIN sessions AS s ON s.id = m.session_id" if session_sql else ""
    return _Filters("".join(f" AND {c}" for c in sql), tuple(params), join, session_sql, session_params)


