"""The returned page: metadata, snippets and same-session context."""


from __future__ import annotations

import sqlite3
import time
from typing import Any

from ..sqlutil import chunks, placeholders
from .caps import SearchCaps
from .collect import _Query
from .limits import (
    CONTEXT_CHARS,
    ELLIPSIS,
    MAX_IDS_PER_QUERY,
    SNIPPET_BUDGET_S,
    SNIPPET_CLUSTER_GAP,
    SNIPPET_TOKENS,
    VERIFY_TEXT_CHARS,
)
from .matching import _mark, _substring_match, _word_match

# ── The page: metadata, snippets, context ────────────────────────────────────────────────────


def _clusters(ids: list[int]) -> list[list[int]]:
    """Sorted ``ids`` split where they are more than SNIPPET_CLUSTER_GAP rowids apart."""
    out: list[list[int]] = []
    for mid in sorted(ids):
        if out and mid - out[-1][-1] <= SNIPPET_CLUSTER_GAP and len(out[-1]) < MAX_IDS_PER_QUERY:
            out[-1].append(mid)
        else:
            out.append([mid])
    return out


def _fts_snippets(
    conn: sqlite3.Connection,
    table: str,
    column: int,
    expr: str,
    ids: list[int],
    markers: tuple[str, str],
    tokens: int,
    deadline: float,
) -> dict[int, str]:
    """FTS5 snippet() for ``ids``, one query per cluster of nearby rowids, until the deadline."""
    out: dict[int, str] = {}
    for group in _clusters(ids):
        if time.perf_counter() >= deadline:
            break  # the rest get snippets made in Python
        try:
            rows = conn.execute(
                f"SELECT rowid, snippet({table}, {column}, ?, ?, ?, {tokens}) FROM {table} "
                f"WHERE {table} MATCH ? AND rowid BETWEEN ? AND ? AND +rowid IN ({placeholders(group)})",
                (markers[0], markers[1], ELLIPSIS, expr, group[0], group[-1], *group),
            ).fetchall()
        except sqlite3.OperationalError:
            continue
        out.update((r[0], r[1] or "") for r in rows)
    return out


def _python_snippets(
    conn: sqlite3.Connection, q: _Query, ids: list[int], markers: tuple[str, str], *, words: bool
) -> dict[int, str]:
    """Snippets made here: around the first word match (``words``) or substring, else in the tools."""
    out: dict[int, str] = {}
    for part in chunks(ids, MAX_IDS_PER_QUERY):
        rows = conn.execute(
            "SELECT id, substr(content, 1, ?), tool_name, substr(tool_calls, 1, ?) FROM messages "
            f"WHERE id IN ({placeholders(part)})",
            (VERIFY_TEXT_CHARS, VERIFY_TEXT_CHARS, *part),
        )
        for mid, content, tool_name, tool_calls in rows:
            content = content if isinstance(content, str) else ""
            spans = (_word_match if words else _substring_match)(q.items, content)
            if not spans:
                tools = " ".join(t for t in (tool_name, tool_calls) if isinstance(t, str))
                tool_spans = _substring_match(q.items, tools)
                if tool_spans:
                    content, spans = tools, tool_spans
            out[mid] = _mark(content, spans or [], markers)
    return out


def _context(
    conn: sqlite3.Connection, session_id: str, message_id: int, hit: dict[str, str]
) -> list[dict[str, str]]:
    """The previous message of the same session, the hit itself and the next one, in id order,
    each ``{"role", "content"}`` with content trimmed to CONTEXT_CHARS (a missing neighbour is left out)."""
    out: list[dict[str, str]] = []
    for sql in (
        "SELECT role, substr(content, 1, ?) FROM messages WHERE session_id = ? AND id < ? ORDER BY id DESC LIMIT 1",
        None,
        "SELECT role, substr(content, 1, ?) FROM messages WHERE session_id = ? AND id > ? ORDER BY id LIMIT 1",
    ):
        if sql is None:
            out.append(hit)
            continue
        row = conn.execute(sql, (CONTEXT_CHARS, session_id, message_id)).fetchone()
        if row is not None:
            out.append({"role": row[0], "content": row[1] if isinstance(row[1], str) else ""})
    return out


def _page(
    conn: sqlite3.Connection,
    page: list[tuple[int, str]],
    q: _Query,
    caps: SearchCaps,
    markers: tuple[str, str],
) -> list[dict[str, Any]]:
    ids = [mid for mid, _ in page]
    title = "s.title" if caps.title else "NULL"
    meta: dict[int, Any] = {}
    for part in chunks(ids, MAX_IDS_PER_QUERY):
        rows = conn.execute(
            "SELECT m.id, m.session_id, m.role, m.timestamp, m.tool_name, s.source, s.model, "
            f"s.started_at, {title}, substr(m.content, 1, ?) FROM messages AS m "
            f"LEFT JOIN sessions AS s ON s.id = m.session_id WHERE m.id IN ({placeholders(part)})",
            (CONTEXT_CHARS, *part),
        )
        meta.update((r[0], r) for r in rows)
    by_route: dict[str, list[int]] = {"fts": [], "trigram": [], "like": []}
    for mid, route in page:
        by_route[route].append(mid)
    deadline = time.perf_counter() + SNIPPET_BUDGET_S
    snippets: dict[int, str] = {}
    # A prefix MATCH would pay FTS5's prefix merge again; FTS5 would mark "C" of "C++" (a literal term).
    if by_route["fts"] and not q.prefix and not q.literal:
        snippets |= _fts_snippets(conn, "messages_fts", 0, q.fts, by_route["fts"], markers, SNIPPET_TOKENS, deadline)
    word_rest = [mid for mid in by_route["fts"] if mid not in snippets]
    substring_rest = [mid for mid in by_route["trigram"] + by_route["like"] if mid not in snippets]
    snippets |= _python_snippets(conn, q, word_rest, markers, words=True)
    snippets |= _python_snippets(conn, q, substring_rest, markers, words=False)

    results: list[dict[str, Any]] = []
    for mid, route in page:
        row = meta.get(mid)
        if row is None:  # deleted since it matched
            continue
        results.append(
            {
                "id": mid,
                "session_id": row[1],
                "role": row[2],
                "snippet": snippets.get(mid, ""),
                "timestamp": row[3],
                "tool_name": row[4],
                "source": row[5],
                "model": row[6],
                "session_started": row[7],
                "title": row[8],
                "match": route,
                "context": _context(
                    conn, row[1], mid, {"role": row[2], "content": row[9] if isinstance(row[9], str) else ""}
                ),
            }
        )
    return results


