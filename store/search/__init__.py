"""Message search: a sanitizer that makes any text a safe FTS5 query, and a bounded, routed search.

Routes (the ``match`` key of each result):

* ``fts``: the agent's ``messages_fts`` (unicode61) for word queries. A term with punctuation
  unicode61 drops (``C++``, ``C#``, ``v2.1``, ``a_b``, ``"note: fix"``) is matched as the phrase
  of its words *and* its own text (case-insensitive): by ``content LIKE`` in the same query when
  that is exact, else checked in Python window by window (OR, NOT, quoted whitespace).
* ``trigram``: the store's ``messages_trgm`` (trigram; columns ``content`` and ``tools``) for text
  unicode61 cannot segment (CJK, Thai...), and as a substring fallback when the word route found
  fewer than ``limit`` hits and every term has 3+ characters (``config`` finds ``myconfig``; tool
  names and tool-call arguments live only in ``tools``). Word hits come first.
* ``like``: a LIKE scan over the newest LIKE_SCAN_ROWS messages for terms too short for trigrams
  (``服务``), for messages below the trigram backfill watermark, and for databases without the
  FTS tables (the agent's own file before our migration).

Bounds (measured at 1M messages; see the constants):

* Every route collects matches newest first in rowid windows under a time budget: the first
  window is small, the next ones sized from the rate seen so far. A word in every message stops
  at once; a rare phrase of common words stops when the budget runs out.
* "rank" order ranks the newest RANK_CANDIDATES matches by bm25. bm25 first counts each phrase's
  rows over the whole index (``the``: ~30 ms), so phrases too common to count cheaply are left
  out of the ranking expression (FTS5 gives a phrase in most rows an idf of ~0 anyway); a query
  of only such phrases, or with a prefix term, comes newest first.
* A prefix (``deploy*``, type-ahead) makes FTS5 merge the doclists of every term with that prefix
  whatever the LIMIT (``th*``: ~0.3 s). Its size is read from FTS5's page index first; a costly
  prefix is answered by substring candidates checked in Python against unicode61's semantics.
* Long substrings are looked up by a few of their trigrams and checked with LIKE: FTS5 walks a
  phrase of n trigrams n doclists at a time.
* A scan that stops at its budget (or a LIKE scan at LIKE_SCAN_ROWS) with the page not full
  makes ``search_page`` say ``complete=False``; a caller may then ask again with a longer
  ``budget_s`` (which also lets a LIKE scan go past LIKE_SCAN_ROWS).
* ``snippet()`` and context are computed for the returned page only, and a list of rowids is
  never handed to FTS5 as ``rowid IN (...)``: it runs the whole query once per listed rowid.

Nothing here writes, so it works on read-only (``mode=ro``, ``query_only``) connections. User text
only ever reaches SQLite as bound parameters.
"""


from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .caps import SearchCaps, _filters, detect_caps
from .collect import _Clock, _collect, _query
from .limits import MAX_COUNT
from .page import _page
from .query import _parse, needs_trigram, query_terms, sanitize_fts5_query

__all__ = [
    "SearchCaps",
    "SearchPage",
    "count_matches",
    "detect_caps",
    "needs_trigram",
    "query_terms",
    "sanitize_fts5_query",
    "search_messages",
    "search_page",
]


# ── Public API ───────────────────────────────────────────────────────────────────────────────


def _as_count(value: object, default: int) -> int:
    """A page size or offset as a sane int (SQLite binds at most 64-bit integers)."""
    try:
        return min(max(0, int(value)), MAX_COUNT)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default


@dataclass(frozen=True)
class SearchPage:
    """One page of search results, and whether the search looked at every message.

    ``complete`` is False when a route stopped at its time budget (or a LIKE scan at its row
    limit) before the page was full: older messages may hold more or better matches, and a
    search with a longer ``budget_s`` may find them."""

    hits: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True


def search_page(
    conn: sqlite3.Connection,
    query: str,
    *,
    source_filter: Sequence[str] | None = None,
    exclude_sources: Sequence[str] | None = None,
    role_filter: Sequence[str] | None = None,
    limit: int = 20,
    offset: int = 0,
    order: str = "rank",
    prefix: bool = False,
    snippet_markers: tuple[str, str] = (">>>", "<<<"),
    caps: SearchCaps | None = None,
    budget_s: float | None = None,
    cancel: threading.Event | None = None,
) -> SearchPage:
    """``search_messages``'s results as a ``SearchPage``, which also says whether they are complete.

    ``budget_s`` replaces the time budget for collecting matches (SEARCH_BUDGET_S, and
    EMPTY_BUDGET_S while nothing is found; clamped to [0, MAX_BUDGET_S]); a budget longer than
    the default also lets the substring fallback and the LIKE scan (past LIKE_SCAN_ROWS) go on
    for proportionally longer. Snippets and context cost a few milliseconds more. Setting
    ``cancel`` (from another thread) stops the collecting within about MAX_WINDOW_S; the page
    then holds what was found and says it is incomplete.
    """
    items = _parse(query, prefix_last=prefix)
    limit = _as_count(limit, 20)
    offset = _as_count(offset, 0)
    if not items or limit == 0:
        return SearchPage([], True)
    filt = _filters(source_filter, exclude_sources, role_filter)
    if filt is None:
        return SearchPage([], True)
    caps = caps if caps is not None else detect_caps(conn)
    if not caps.messages:
        return SearchPage([], True)
    markers = (str(snippet_markers[0]), str(snippet_markers[1]))
    q = _query(items)
    clock = _Clock.start(budget_s, cancel)
    hits = _collect(conn, q, caps, filt, need=offset + limit, limit=limit, ranked=order != "newest", clock=clock)
    return SearchPage(_page(conn, hits[offset : offset + limit], q, caps, markers), not clock.cuts.short)


def search_messages(
    conn: sqlite3.Connection,
    query: str,
    *,
    source_filter: Sequence[str] | None = None,
    exclude_sources: Sequence[str] | None = None,
    role_filter: Sequence[str] | None = None,
    limit: int = 20,
    offset: int = 0,
    order: str = "rank",
    prefix: bool = False,
    snippet_markers: tuple[str, str] = (">>>", "<<<"),
    caps: SearchCaps | None = None,
) -> list[dict[str, Any]]:
    """Messages matching ``query``, best first ("rank", bm25) or newest first ("newest").

    Each result has ``id, session_id, role, snippet, timestamp, tool_name, source, model,
    session_started, title, match`` ("fts", "trigram" or "like") and ``context``: the previous
    message of the same session, the hit itself and the next one, in id order, as ``{"role",
    "content"}`` with content trimmed to 200 characters (a missing neighbour is left out).
    ``source_filter=[]`` matches nothing; empty ``exclude_sources``/``role_filter`` filter nothing.
    ``prefix=True`` makes the last term a prefix (type-ahead). Prefix queries, and queries whose
    every term is very common, come newest first in "rank" order too. A term with punctuation
    unicode61 drops (``C++``, ``v2.1``) matches only where its own text appears. Never raises for
    any query text; never writes. Under the default time budget; ``search_page`` also says
    whether the results are complete, and takes a longer budget.
    """
    return search_page(
        conn,
        query,
        source_filter=source_filter,
        exclude_sources=exclude_sources,
        role_filter=role_filter,
        limit=limit,
        offset=offset,
        order=order,
        prefix=prefix,
        snippet_markers=snippet_markers,
        caps=caps,
    ).hits


def count_matches(
    conn: sqlite3.Connection,
    query: str,
    *,
    source_filter: Sequence[str] | None = None,
    exclude_sources: Sequence[str] | None = None,
    role_filter: Sequence[str] | None = None,
    cap: int = 1000,
    limit: int = 20,
    caps: SearchCaps | None = None,
) -> int:
    """How many messages ``search_messages`` (with this page ``limit``) can find, up to ``cap``.

    Same routes and time budget as the search, so on a very large store a count of a phrase of
    common words may stop short of the true number: it is then a lower bound.
    """
    items = _parse(query)
    cap = _as_count(cap, 1000)
    if not items or cap == 0:
        return 0
    filt = _filters(source_filter, exclude_sources, role_filter)
    if filt is None:
        return 0
    caps = caps if caps is not None else detect_caps(conn)
    if not caps.messages:
        return 0
    hits = _collect(
        conn,
        _query(items),
        caps,
        filt,
        need=cap,
        limit=max(1, _as_count(limit, 20)),
        ranked=False,
        clock=_Clock.start(),
    )
    return min(cap, len(hits))
