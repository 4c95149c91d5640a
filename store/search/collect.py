"""Collecting matching message ids, newest first, under a time budget, per route; ranking."""


from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..sqlutil import LIKE_ESCAPE_SQL, chunks, like_escape, placeholders
from .caps import SearchCaps, _Filters
from .limits import (
    _LIKE_OPS,
    DF_PROBE,
    EMPTY_BUDGET_S,
    FALLBACK_BUDGET_S,
    FIRST_WINDOW,
    LIKE_SCAN_ROWS,
    MAX_BUDGET_S,
    MAX_IDS_PER_QUERY,
    MAX_PROBES,
    MAX_WINDOW_GROWTH,
    MAX_WINDOW_S,
    MIN_LIKE_SLICE_S,
    MIN_WINDOW,
    PREFIX_PAGES_MAX,
    PROGRESS_OPS,
    RANK_CANDIDATES,
    RANK_POSTINGS,
    SEARCH_BUDGET_S,
    TRIGRAM_MIN_CHARS,
    VERIFY_BATCH,
    VERIFY_CHUNK,
    VERIFY_TEXT_CHARS,
)
from .matching import _substring_match, _term_tokens, _word_match
from .query import (
    _candidate_fts_items,
    _fts_expr,
    _fts_string,
    _Item,
    _or_groups,
    _positive_terms,
    _Term,
    _trigram_candidates,
    needs_trigram,
)

_Keep = Callable[[list[int]], list[int]]  # which of a window's candidate ids really match

# ── Collecting matches ───────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class _Query:
    items: list[_Item]
    terms: list[_Term]
    fts: str  # the unicode61 expression (for literal terms, a candidate filter)
    unsegmented: bool  # CJK, Thai...: unicode61 cannot find parts of words
    substring_ok: bool  # every term has TRIGRAM_MIN_CHARS or more characters
    prefix: bool  # some term is a prefix query
    literal: bool  # some term has punctuation unicode61 drops (C++, v2.1): its text is checked too
    literal_sql: tuple[str, tuple[str, ...]] | None  # that check as SQL over m, when SQL says it exactly


def _literal_sql(items: Sequence[_Item], terms: Sequence[_Term]) -> tuple[str, tuple[str, ...]] | None:
    """The literal terms' check as `` AND m.content LIKE ?`` conditions, if that is exact: no OR
    or NOT (SQL cannot tell which unicode61 term matched a row), no whitespace in a term (Python
    matches it as any whitespace) and no non-ASCII cased letter (LIKE folds ASCII case only)."""
    if any(isinstance(item, str) for item in items):
        return None
    literal = [t.raw for t in terms if t.literal]
    if any(ch.isspace() or (not ch.isascii() and ch.lower() != ch.upper()) for raw in literal for ch in raw):
        return None
    sql = "".join(f" AND m.content LIKE ? {LIKE_ESCAPE_SQL}" for _ in literal)
    return sql, tuple(f"%{like_escape(raw)}%" for raw in literal)


def _query(items: list[_Item]) -> _Query:
    terms = [item for item in items if isinstance(item, _Term)]
    literal = any(t.literal for t in terms)
    return _Query(
        items=items,
        terms=terms,
        fts=_fts_expr(_candidate_fts_items(items) if literal else items),
        unsegmented=any(needs_trigram(t.raw) for t in terms),
        substring_ok=all(len(t.raw) >= TRIGRAM_MIN_CHARS for t in terms),
        prefix=any(t.prefix for t in terms),
        literal=literal,
        literal_sql=_literal_sql(items, terms) if literal else None,
    )


@dataclass
class _Cuts:
    """Shared by a call's clocks: scans that stopped with rows left unsearched (time budget, or
    the LIKE scan's row limit), and whether that left the result short (``_collect`` decides)."""

    scans: int = 0
    short: bool = False


_BASE_BUDGET_S = SEARCH_BUDGET_S  # the default budget, as shipped (tests patch the module's names)


@dataclass(frozen=True)
class _Clock:
    """The time budget of one call: scans stop at ``soft`` once something was found, and at
    ``hard`` when nothing was (a rare phrase of common words is worth a little more time).

    ``scale`` is the budget relative to the default one: a caller's longer budget also lengthens
    the substring fallback's slice and lets a LIKE scan go past LIKE_SCAN_ROWS. A scan that stops
    early calls ``stopped()``, so the caller can learn that older messages were not searched."""

    soft: float
    hard: float
    scale: float = 1.0
    cuts: _Cuts = field(default_factory=_Cuts)
    cancel: threading.Event | None = None  # set: stop now (the caller no longer wants the result)

    @staticmethod
    def start(budget_s: float | None = None, cancel: threading.Event | None = None) -> _Clock:
        now = time.perf_counter()
        if budget_s is None:
            return _Clock(now + SEARCH_BUDGET_S, now + EMPTY_BUDGET_S, cancel=cancel)
        budget = _budget(budget_s)
        return _Clock(now + budget, now + budget, scale=budget / _BASE_BUDGET_S, cancel=cancel)

    def left(self, found: bool) -> float:
        if self.cancel is not None and self.cancel.is_set():
            return 0.0
        return (self.soft if found else self.hard) - time.perf_counter()

    def stopped(self) -> None:
        self.cuts.scans += 1

    @property
    def like_rows(self) -> int:
        """Most message ids a LIKE scan examines: LIKE_SCAN_ROWS, more with a longer budget."""
        return int(LIKE_SCAN_ROWS * max(1.0, self.scale))


def _budget(budget_s: object) -> float:
    """A caller's budget in seconds, within [0, MAX_BUDGET_S] (NaN and junk mean the default)."""
    try:
        value = float(budget_s)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return SEARCH_BUDGET_S
    if math.isnan(value):
        return SEARCH_BUDGET_S
    return min(max(0.0, value), MAX_BUDGET_S)


def _id_range(conn: sqlite3.Connection) -> tuple[int, int] | None:
    row = conn.execute("SELECT (SELECT min(id) FROM messages), (SELECT max(id) FROM messages)").fetchone()
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1])


def _scan_newest(
    conn: sqlite3.Connection,
    sql: str,
    params: tuple[Any, ...],
    lo: int,
    hi: int,
    want: int,
    clock: _Clock,
    first: int = FIRST_WINDOW,
    keep: _Keep | None = None,
) -> list[int]:
    """Run ``sql`` (params, then window low, high and limit) over rowid windows, newest first.

    The first window is small, so a word in most rows stops at once; each next window is sized
    from the rows per second seen so far to take at most half the time left. A rare word costs a
    few queries; a rare phrase of common words, whose doclists FTS5 must walk, stops when the
    clock runs out, with the newest matches found. The first window always runs. ``keep``, if
    given, picks the real matches of each window's rows (its time counts in the rate).
    """
    ids: list[int] = []
    width = first
    while hi >= lo and len(ids) < want:
        w_lo = max(lo, hi - width + 1)
        started = time.perf_counter()
        room = want - len(ids) if keep is None else max(want - len(ids), VERIFY_CHUNK)
        rows = [r[0] for r in conn.execute(sql, (*params, w_lo, hi, room))]
        if len(rows) == room:  # cut by the LIMIT: the rest of the window comes next
            w_lo = rows[-1]
        ids += rows if keep is None else keep(rows)
        rate = (hi - w_lo + 1) / max(time.perf_counter() - started, 1e-4)  # rowids per second
        hi = w_lo - 1
        left = clock.left(bool(ids))
        if left <= 0:
            if hi >= lo and len(ids) < want:
                clock.stopped()
            break
        # at most MAX_WINDOW_S per window, so a long budget still notices ``clock.cancel`` soon
        width = int(min(width * MAX_WINDOW_GROWTH, max(MIN_WINDOW, rate * min(left / 2, MAX_WINDOW_S))))
    return ids[:want]


def _fts_ids(
    conn: sqlite3.Connection,
    table: str,
    expr: str,
    filt: _Filters,
    lo: int,
    hi: int,
    want: int,
    clock: _Clock,
    check: tuple[str, Sequence[Any]] = ("", ()),
    first: int | None = None,
    keep: _Keep | None = None,
) -> list[int]:
    """The newest ``want`` rowids of ``table`` in [lo, hi] matching ``expr``, the filters, the
    ``check`` (an SQL condition over message ``m`` with its parameters) and ``keep``."""
    if filt.sql or check[0]:
        sql = (
            f"SELECT {table}.rowid FROM {table} JOIN messages AS m ON m.id = {table}.rowid{filt.join} "
            f"WHERE {table} MATCH ?{filt.sql}{check[0]} AND {table}.rowid BETWEEN ? AND ? "
            f"ORDER BY {table}.rowid DESC LIMIT ?"
        )
        params: tuple[Any, ...] = (expr, *filt.params, *check[1])
    else:
        sql = f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rowid DESC LIMIT ?"
        params = (expr,)
    if first is None:  # a filter or check reads the message of every match: start smaller
        first = FIRST_WINDOW // 4 if filt.sql or check[0] else FIRST_WINDOW
    return _scan_newest(conn, sql, params, lo, hi, want, clock, first, keep)


def _literal_keep(conn: sqlite3.Connection, q: _Query) -> _Keep:
    """Word-route candidates checked in Python (``_word_match``: the words, and each literal
    term's own text), for queries whose literal check SQL cannot express. A message longer than
    VERIFY_TEXT_CHARS whose start does not match is kept: unicode61 matched it somewhere."""

    def keep(ids: list[int]) -> list[int]:
        texts: dict[int, tuple[str, bool]] = {}
        for part in chunks(ids, MAX_IDS_PER_QUERY):
            rows = conn.execute(
                f"SELECT id, substr(content, 1, ?) FROM messages WHERE id IN ({placeholders(part)})",
                (VERIFY_TEXT_CHARS + 1, *part),
            )
            for mid, content in rows:
                text = content if isinstance(content, str) else ""
                texts[mid] = (text[:VERIFY_TEXT_CHARS], len(text) > VERIFY_TEXT_CHARS)
        out = []
        for mid in ids:
            text, cut = texts.get(mid, ("", False))
            if cut or _word_match(q.items, text) is not None:
                out.append(mid)
        return out

    return keep


def _like_condition(items: Sequence[_Item]) -> tuple[str, list[str]]:
    """The query as LIKE tests of content, tool name and tool calls, with FTS5's precedence.

    FTS5 binds NOT tighter than AND, and AND tighter than OR; SQL does the same once the binary
    ``a NOT b`` is written ``a AND NOT b``.
    """
    sql: list[str] = []
    params: list[str] = []
    after_term = False
    for item in items:
        if isinstance(item, str):
            sql.append(_LIKE_OPS[item])
            after_term = False
            continue
        if after_term:
            sql.append("AND")
        pattern = f"%{like_escape(item.raw)}%"
        # coalesce: a NULL column must not make "NOT term" unknown (and so false).
        sql.append(
            f"coalesce(m.content LIKE ? {LIKE_ESCAPE_SQL} OR m.tool_name LIKE ? {LIKE_ESCAPE_SQL} "
            f"OR m.tool_calls LIKE ? {LIKE_ESCAPE_SQL}, 0)"
        )
        params += [pattern] * 3
        after_term = True
    return "(" + " ".join(sql) + ")", params


def _like_ids(
    conn: sqlite3.Connection,
    items: Sequence[_Item],
    filt: _Filters,
    lo: int,
    hi: int,
    want: int,
    clock: _Clock,
) -> list[int]:
    """The newest ``want`` message ids in [lo, hi] holding the terms, scanned while the clock allows."""
    cond, params = _like_condition(items)
    sql = (
        f"SELECT m.id FROM messages AS m{filt.join} WHERE m.id BETWEEN ? AND ? AND {cond}{filt.sql} "
        "ORDER BY m.id DESC LIMIT ?"
    )
    floor = time.perf_counter() + MIN_LIKE_SLICE_S
    soft, hard = max(clock.soft, floor), max(clock.hard, floor)
    ids: list[int] = []
    late: list[bool] = []

    def out_of_time() -> bool:
        now = time.perf_counter()
        if now >= hard or (bool(ids) and now >= soft) or (clock.cancel is not None and clock.cancel.is_set()):
            late.append(True)
            return True
        return False

    # A LIKE scan runs in SQLite's VM, so a progress handler can stop it; keep what it found so far.
    conn.set_progress_handler(out_of_time, PROGRESS_OPS)
    try:
        for row in conn.execute(sql, (lo, hi, *params, *filt.params, want)):
            ids.append(row[0])
    except sqlite3.OperationalError:
        pass  # interrupted: out of time
    finally:
        conn.set_progress_handler(None, 0)
    if late and len(ids) < want:
        clock.stopped()
    return ids


def _substring_ids(
    conn: sqlite3.Connection,
    items: Sequence[_Item],
    caps: SearchCaps,
    filt: _Filters,
    *,
    lo: int,
    top: int,
    hi: int,
    want: int,
    clock: _Clock,
) -> list[tuple[int, str]]:
    """Newest-first messages in [lo, hi] holding the terms of ``items`` as substrings (content or tools).

    The trigram index serves ids inside its window [trgm_low, trgm_high). Newer rows (not yet
    indexed by the writer's maintenance) are scanned with LIKE first, then the window; below it
    (backfill still running, no trigram table, or terms under 3 characters) a LIKE scan covers
    the newest LIKE_SCAN_ROWS ids.
    """
    out: list[tuple[int, str]] = []
    like_top = top
    if caps.trigram and all(len(t.raw) >= TRIGRAM_MIN_CHARS for t in items if isinstance(t, _Term)):
        like_top = caps.trgm_low - 1
        if hi >= caps.trgm_high:
            fresh_lo = max(lo, caps.trgm_high)
            out += [(i, "like") for i in _like_ids(conn, items, filt, fresh_lo, hi, want, clock)]
            hi = min(hi, caps.trgm_high - 1)
        if hi >= caps.trgm_low and len(out) < want:
            expr, verify = _trigram_candidates(items)
            check = ("", ())
            if verify:
                cond, params = _like_condition(items)
                check = (f" AND {cond}", params)
            try:
                ids = _fts_ids(
                    conn, "messages_trgm", expr, filt, max(lo, caps.trgm_low), hi, want - len(out), clock, check
                )
            except sqlite3.OperationalError:  # e.g. an SQLite build without the trigram tokenizer
                like_top, ids = top, []
            out += [(i, "trigram") for i in ids]
    like_lo = max(lo, like_top - clock.like_rows + 1)
    like_hi = min(hi, like_top)
    if len(out) < want and like_hi >= like_lo:
        out += [(i, "like") for i in _like_ids(conn, items, filt, like_lo, like_hi, want - len(out), clock)]
    if len(out) < want and lo <= min(hi, like_lo - 1):
        clock.stopped()  # older messages lie past the LIKE scan's row limit
    return out




def _candidate_items(items: Sequence[_Item]) -> list[_Item]:
    """Substring terms whose matches include every word match of ``items``: NOT clauses dropped,
    each term split into its word parts (``my-app.con*`` matches "my app configures"), parts too
    short for trigrams dropped where that still leaves a term in every OR group."""
    groups: list[list[_Term]] = []
    for group in _or_groups(items):
        parts: list[_Term] = []
        for term in _positive_terms(group):
            parts += [_Term(parts=(p,), raw=p) for p in term.parts]
        groups.append(parts)
    long_groups = [[t for t in g if len(t.raw) >= TRIGRAM_MIN_CHARS] for g in groups]
    if all(long_groups):
        groups = long_groups
    out: list[_Item] = []
    for group in groups:
        if out:
            out.append("OR")
        out += group
    return out


def _texts(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(content, tool name and calls) of each id, each cut at VERIFY_TEXT_CHARS."""
    out: dict[int, tuple[str, str]] = {}
    for part in chunks(ids, MAX_IDS_PER_QUERY):
        rows = conn.execute(
            "SELECT id, substr(content, 1, ?), tool_name, substr(tool_calls, 1, ?) FROM messages "
            f"WHERE id IN ({placeholders(part)})",
            (VERIFY_TEXT_CHARS, VERIFY_TEXT_CHARS, *part),
        )
        for mid, content, tool_name, tool_calls in rows:
            tools = " ".join(t for t in (tool_name, tool_calls) if isinstance(t, str))
            out[mid] = (content if isinstance(content, str) else "", tools)
    return out


# For each FTS5 segment: the leaf page holding the first term >= the prefix, the segment's first
# page, the page of the first term past the prefix, and its last page. %_idx maps (segment, first
# term of a leaf page) to the page; main-index terms are stored with a leading '0'.
_PREFIX_PAGES_SQL = """
WITH RECURSIVE seg(id) AS (
    SELECT (SELECT min(segid) FROM messages_fts_idx)
    UNION ALL
    SELECT (SELECT min(segid) FROM messages_fts_idx WHERE segid > seg.id) FROM seg WHERE seg.id IS NOT NULL
)
SELECT
    (SELECT pgno FROM messages_fts_idx WHERE segid = seg.id AND term <= ?1 ORDER BY term DESC LIMIT 1),
    (SELECT pgno FROM messages_fts_idx WHERE segid = seg.id ORDER BY term LIMIT 1),
    (SELECT pgno FROM messages_fts_idx WHERE segid = seg.id AND term >= ?2 ORDER BY term LIMIT 1),
    (SELECT pgno FROM messages_fts_idx WHERE segid = seg.id ORDER BY term DESC LIMIT 1)
FROM seg WHERE seg.id IS NOT NULL
"""


def _prefix_pages(conn: sqlite3.Connection, q: _Query) -> float:
    """How many index leaf pages FTS5 would read to expand the query's prefix terms.

    FTS5 answers ``th*`` by merging the doclist of every term starting with "th": seconds at 1M
    messages, whatever the LIMIT. The span of the prefix in each segment's page index says how
    much that is, in well under a millisecond. Anything unexpected counts as too many.
    """
    total = 0
    try:
        for term in q.terms:
            tokens = _term_tokens(term)
            if not term.prefix or not tokens:
                continue
            low = b"0" + tokens[-1].encode("utf-8")
            for at, first, past, last in conn.execute(_PREFIX_PAGES_SQL, (low, low + b"\xff")):
                if first is None or last is None:
                    continue
                total += max(0, int(last if past is None else past) - int(first if at is None else at))
    except (sqlite3.Error, TypeError, ValueError):
        return float("inf")
    return total


def _verified_ids(
    conn: sqlite3.Connection,
    q: _Query,
    caps: SearchCaps,
    filt: _Filters,
    *,
    lo: int,
    top: int,
    need: int,
    clock: _Clock,
) -> tuple[list[int], list[tuple[int, str]]]:
    """Prefix queries without FTS5's prefix merge (which reads every doclist of every term with
    that prefix: ``th*`` costs seconds at 1M messages): substring candidates, newest first, checked
    in Python against unicode61's semantics. Returns (word matches, substring-only matches)."""
    candidates = _candidate_items(q.items)
    words: list[int] = []
    others: list[tuple[int, str]] = []
    hi, batch = top, min(max(need, 32), VERIFY_BATCH)
    while hi >= lo:
        found = _substring_ids(conn, candidates, caps, filt, lo=lo, top=top, hi=hi, want=batch, clock=clock)
        for start in range(0, len(found), VERIFY_CHUNK):
            chunk = found[start : start + VERIFY_CHUNK]
            texts = _texts(conn, [mid for mid, _ in chunk])
            for mid, route in chunk:
                content, tools = texts.get(mid, ("", ""))
                if _word_match(q.items, content) is not None:
                    words.append(mid)
                elif _substring_match(q.items, content) is not None or _substring_match(q.items, tools) is not None:
                    others.append((mid, route))
            if len(words) >= need:
                return words, others
            if clock.left(bool(words)) <= 0:
                clock.stopped()
                return words, others
        if len(found) < batch:  # no more candidates (or the scan ran out of time)
            break
        hi = found[-1][0] - 1
        batch = min(batch * 4, VERIFY_BATCH)
    return words, others


def _probe_postings(conn: sqlite3.Connection, token: str, lo: int, hi: int) -> float:
    """About how many rows hold ``token``, from how far back its DF_PROBE-th newest row lies."""
    row = conn.execute(
        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        (_fts_string(token), DF_PROBE - 1),
    ).fetchone()
    if row is None:
        return float(DF_PROBE)
    return DF_PROBE * (hi - lo + 1) / max(1, hi - int(row[0]) + 1)


def _rank_expr(conn: sqlite3.Connection, q: _Query, lo: int, hi: int) -> str | None:
    """The expression to rank by, or None to keep newest-first order.

    bm25() first counts the rows holding each phrase, walking its doclists end to end: ``the``
    costs ~30 ms at 1M messages, ``"of the"`` ~250 ms. So rank by the phrases whose tokens are
    affordable (RANK_POSTINGS in all). A dropped phrase is a common one, and FTS5 gives a phrase
    in over half the rows an idf of ~0 anyway. With OR/NOT it is all phrases or none.
    """
    boolean = any(item in ("OR", "NOT") for item in q.items)
    budget = float(RANK_POSTINGS)
    estimates: dict[str, float] = {}
    keep: list[_Term] = []
    for term in q.terms:
        cost = float("inf") if term.prefix else 0.0  # counting a prefix's rows means merging it again
        for token in _term_tokens(term):
            if token not in estimates:
                estimates[token] = _probe_postings(conn, token, lo, hi) if len(estimates) < MAX_PROBES else float("inf")
            cost += estimates[token]
        if cost <= budget:
            keep.append(term)
            budget -= cost
        elif boolean:
            return None
    if not keep:
        return None
    return q.fts if boolean else _fts_expr(keep)


def _rank(conn: sqlite3.Connection, expr: str, ids: list[int]) -> list[int]:
    """``ids`` ordered by bm25 under ``expr``, best first; ties newest first.

    ``+rowid IN`` keeps the list away from FTS5, which would run the whole query once per listed
    rowid (~1 ms each); the BETWEEN bounds the doclist walk instead.
    """
    scores: dict[int, float] = {}
    for part in chunks(sorted(ids), MAX_IDS_PER_QUERY):
        rows = conn.execute(
            "SELECT rowid, bm25(messages_fts) FROM messages_fts WHERE messages_fts MATCH ? "
            f"AND rowid BETWEEN ? AND ? AND +rowid IN ({placeholders(part)})",
            (expr, part[0], part[-1], *part),
        )
        scores.update((r[0], r[1]) for r in rows)
    return sorted(ids, key=lambda i: (scores.get(i, 0.0), -i))


def _collect(
    conn: sqlite3.Connection,
    q: _Query,
    caps: SearchCaps,
    filt: _Filters,
    *,
    need: int,
    limit: int,
    ranked: bool,
    clock: _Clock,
) -> list[tuple[int, str]]:
    """Up to ``need`` (message id, route) pairs in result order."""
    bounds = _id_range(conn)
    if bounds is None or filt.no_session_matches(conn):
        return []
    lo, top = bounds
    hits: list[tuple[int, str]] = []
    seen: set[int] = set()

    def add(found: list[tuple[int, str]]) -> None:
        for mid, route in found:
            if mid not in seen:
                seen.add(mid)
                hits.append((mid, route))

    substring_primary = q.unsegmented or not caps.fts  # the substring route is the only route
    substring_pending = substring_primary
    if caps.fts and not q.unsegmented:
        words: list[int] = []
        cuts = clock.cuts.scans
        try:
            if q.prefix and _prefix_pages(conn, q) > PREFIX_PAGES_MAX:
                words, others = _verified_ids(conn, q, caps, filt, lo=lo, top=top, need=need, clock=clock)
                if len(words) < limit and q.substring_ok:
                    others = others[: max(0, need - len(words))]
                else:
                    others = []
            else:
                rank_by = _rank_expr(conn, q, lo, top) if ranked else None
                want = max(need, RANK_CANDIDATES) if rank_by else need
                # A prefix is merged again by every query: one window over everything.
                first = top - lo + 1 if q.prefix else None
                check: tuple[str, Sequence[Any]] = ("", ())
                keep = None
                if q.literal_sql is not None:
                    check = q.literal_sql
                elif q.literal:
                    keep = _literal_keep(conn, q)
                words = _fts_ids(
                    conn, "messages_fts", q.fts, filt, lo, top, want, clock, check=check, first=first, keep=keep
                )
                if rank_by:
                    words = _rank(conn, rank_by, words)
                others = []
                substring_pending = len(words) < limit and q.substring_ok
        except sqlite3.OperationalError:  # e.g. an SQLite without FTS5: substrings only
            words, others = [], []
            substring_primary = substring_pending = True
        if clock.cuts.scans > cuts and len(words) < need:
            clock.cuts.short = True  # older messages may hold word matches, which come first
        add([(mid, "fts") for mid in words])
        add(others)
    if substring_pending and (substring_primary or clock.left(bool(hits)) > 0):
        # A fallback after word hits only adds to them: it gets a short slice of the time left.
        # Substring routes find the word hits again: ask for enough to fill the page after them.
        if hits and not substring_primary:
            end = min(clock.soft, time.perf_counter() + FALLBACK_BUDGET_S * max(1.0, clock.scale))
            clock = replace(clock, soft=end, hard=end)
        cuts = clock.cuts.scans
        add(_substring_ids(conn, q.items, caps, filt, lo=lo, top=top, hi=top, want=need + len(hits), clock=clock))
        if clock.cuts.scans > cuts and len(hits) < need:
            clock.cuts.short = True
    elif substring_pending:
        clock.cuts.short = True  # no time was left for the substring fallback
    if not ranked:
        hits.sort(key=lambda h: -h[0])
    return hits[:need]


