"""The UI's one door to the store: blocking calls (run them in thread workers) returning
small frozen dataclasses. No SQL here, no Textual imports; widgets see only these types.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from store import ReadOnlyError, SessionDB, StoreError

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now().astimezone()


@dataclass(frozen=True)
class SessionSummary:
    id: str
    title: str | None
    preview: str
    source: str
    model: str | None
    message_count: int
    tool_call_count: int
    status: str  # done / interrupted / error / empty
    started_at: float
    ended_at: float | None
    end_reason: str | None
    last_active: float
    parent_id: str | None
    child_count: int = 0

    @property
    def label(self) -> str:
        return self.title or self.preview or "(no messages)"

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> SessionSummary:
        return cls(
            id=str(r["id"]), title=r.get("title"), preview=r.get("preview") or "",
            source=str(r.get("source") or "?"), model=r.get("model"),
            message_count=int(r.get("message_count") or 0), tool_call_count=int(r.get("tool_call_count") or 0),
            status=str(r.get("status") or ""), started_at=float(r.get("started_at") or 0),
            ended_at=r.get("ended_at"), end_reason=r.get("end_reason"),
            last_active=float(r.get("last_active") or r.get("started_at") or 0),
            parent_id=r.get("parent_session_id"), child_count=int(r.get("child_count") or 0),
        )


@dataclass(frozen=True)
class LineageLink:
    id: str
    title: str | None
    started_at: float
    message_count: int
    end_reason: str | None


@dataclass(frozen=True)
class SessionDetail:
    id: str
    title: str | None
    source: str
    model: str | None
    started_at: float
    ended_at: float | None
    end_reason: str | None
    message_count: int
    tool_call_count: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: float | None
    cost_is_estimate: bool
    parent: LineageLink | None
    children: tuple[LineageLink, ...]
    lineage: tuple[LineageLink, ...]  # root first, through this session, to the newest tip


@dataclass(frozen=True)
class ToolCall:
    id: str | None
    name: str
    arguments: str  # raw text as stored (usually JSON); the UI pretty-prints when it parses

    def parsed_arguments(self) -> Any:
        try:
            return json.loads(self.arguments)
        except (ValueError, TypeError, RecursionError):
            return None


@dataclass(frozen=True)
class MessageView:
    id: int
    session_id: str
    role: str
    content: str | None
    timestamp: float
    reasoning: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_calls_raw: str | None = None  # set when the column held something that is not a call list
    tool_call_id: str | None = None
    tool_name: str | None = None
    finish_reason: str | None = None
    token_count: int | None = None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> MessageView:
        calls, raw = parse_tool_calls(r.get("tool_calls"))
        return cls(
            id=int(r["id"]), session_id=str(r["session_id"]), role=str(r.get("role") or "?"),
            content=_text_or_none(r.get("content")), timestamp=float(r.get("timestamp") or 0),
            reasoning=_text_or_none(r.get("reasoning")), tool_calls=calls, tool_calls_raw=raw,
            tool_call_id=r.get("tool_call_id"), tool_name=r.get("tool_name"),
            finish_reason=r.get("finish_reason"), token_count=r.get("token_count"),
        )


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def parse_tool_calls(value: Any) -> tuple[tuple[ToolCall, ...], str | None]:
    """OpenAI-style tool calls → ToolCall tuples; anything else is kept raw for display."""
    if value is None or value == "" or value == []:
        return (), None
    if isinstance(value, (str, bytes)):
        return (), _text_or_none(value)  # the store could not decode it: show it literally
    items = value if isinstance(value, list) else [value]
    calls: list[ToolCall] = []
    for item in items:
        if not isinstance(item, dict):
            return (), json.dumps(value, ensure_ascii=False, default=str)
        fn = item.get("function") if isinstance(item.get("function"), dict) else item
        name = str(fn.get("name") or item.get("name") or "tool")
        args = fn.get("arguments", item.get("arguments", ""))
        if not isinstance(args, str):
            args = json.dumps(args, ensure_ascii=False, default=str)
        call_id = item.get("id")  # another program may store a number, a list…: ids are matched as text
        calls.append(ToolCall(id=None if call_id is None else str(call_id), name=name, arguments=args))
    return tuple(calls), None


@dataclass(frozen=True)
class SearchHit:
    message_id: int
    session_id: str
    session_title: str | None
    source: str
    role: str
    timestamp: float
    snippet: str  # with \x02 … \x03 around matches (safe-ified text between them)
    tool_name: str | None = None


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[SearchHit, ...]
    hidden_by_filter: int = 0  # hits a filter removed (asked only when nothing is shown)
    error: str | None = None
    complete: bool = True  # False: the search stopped at its time budget, older messages unsearched
    budget_s: float | None = None  # the budget it was given (None: the store's default)


HIT_START, HIT_END = "\x02", "\x03"

TURN_CHUNK = 20  # messages read at a time when a page is extended to a turn boundary
TURN_EXTENSION_LIMIT = 400  # at most this many extra messages per side


@dataclass(frozen=True)
class ConversationPage:
    """A page of one session's messages (id order), and whether it touches either end."""

    messages: tuple[MessageView, ...]
    at_start: bool  # no older message before the first one
    at_end: bool  # no newer message after the last one
    target_id: int | None = None  # the message a window was centred on, when the session holds it



_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw]?)\s*$", re.IGNORECASE)
_AGE_UNITS = {"m": 1 / 1440, "h": 1 / 24, "d": 1.0, "w": 7.0, "": 1.0}
EXPORT_FORMATS = ("jsonl", "md")


def parse_age(text: str) -> float:
    """An age as days: ``90`` (days), ``45m``, ``5h``, ``30d``, ``2w``. ValueError if unreadable."""
    match = _AGE.match(text or "")
    if not match:
        raise ValueError(f"not an age: {text!r} (use days, or e.g. 45m, 5h, 30d, 2w)")
    days = float(match.group(1)) * _AGE_UNITS[match.group(2).lower()]
    if days <= 0:
        raise ValueError("the age must be more than zero")
    return days


@dataclass(frozen=True)
class DeleteInfo:
    id: str
    title: str | None
    preview: str
    message_count: int
    child_count: int


@dataclass(frozen=True)
class PrunePreview:
    older_than_days: float
    source: str | None
    sessions: int
    messages: int
    oldest_last_active: float | None
    newest_last_active: float | None
    active_spared: int


@dataclass
class Browser:
    """Blocking, thread-safe facade over ``SessionDB`` for the UI. Call from worker threads."""

    db: SessionDB
    now: Clock = field(default=system_clock)

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False, now: Clock = system_clock) -> Browser:
        """Open the store for browsing. A missing file is never created when ``read_only``."""
        return cls(SessionDB(path, read_only=read_only, create=False), now)

    @classmethod
    def open_existing(
        cls, path: Path | str, *, read_only: bool = False, now: Clock = system_clock, lock_timeout: float = 3.0
    ) -> Browser:
        """Open an existing Hermes database for browsing; never create or adopt a file.

        * a missing path raises ``DatabaseMissingError`` ("no database at PATH");
        * an empty file, or an SQLite file without the agent's tables, raises ``StoreError``;
        * ``read_only=False`` lets the store migrate an older schema, but when another process
          holds the write lock longer than ``lock_timeout`` seconds the store opens read-only
          instead, and says why (``Browser.read_only_reason``).
        """
        from store import DatabaseLockedError, DatabaseMissingError

        p = Path(path).expanduser()
        if not p.exists():
            raise DatabaseMissingError(p)
        if p.is_file() and p.stat().st_size == 0:
            raise StoreError(f"{p} is empty: it holds no Hermes sessions")
        from store.doctor import open_concerns

        probe = SessionDB(p, read_only=True)  # refuses non-SQLite and foreign SQLite files; writes nothing
        if read_only:
            return cls(probe, now)
        # A place we cannot write, a -wal no one has open, a missing search index: stay read-only
        # (the probe is already open that way) and say why, so nothing is changed unasked.
        why = probe.unwritable_reason() or open_concerns(p, probe.schema_state)
        if why:
            probe.read_only_reason = f"{why}; {probe.read_only_note}" if probe.read_only_note else why
            return cls(probe, now)
        probe.close()
        try:
            return cls(SessionDB(p, lock_timeout=lock_timeout), now)
        except DatabaseLockedError:
            db = SessionDB(p, read_only=True)
            db.read_only_reason = "another process holds the write lock, so it was opened read-only"
            return cls(db, now)

    @property
    def read_only(self) -> bool:
        return self.db.read_only

    @property
    def read_only_reason(self) -> str | None:
        return self.db.read_only_reason

    @property
    def path(self) -> Path:
        return self.db.db_path

    def close(self) -> None:
        self.db.close()

    # sessions
    def sessions_page(
        self, offset: int, limit: int, *, source: str | None = None, text: str | None = None,
        chain_tips_only: bool = False,
    ) -> list[SessionSummary]:
        """A page of the list; ``chain_tips_only`` shows each compression chain once, as its tip."""
        rows = self.db.list_sessions_page(
            limit=limit, offset=offset, source=source, text=text, chain_tips_only=chain_tips_only
        )
        return [SessionSummary.from_row(r) for r in rows]

    def count_sessions(
        self, *, source: str | None = None, text: str | None = None, chain_tips_only: bool = False
    ) -> int:
        return self.db.count_sessions(source=source, text=text, chain_tips_only=chain_tips_only)

    def sources(self) -> list[str]:
        return self.db.list_sources()

    def session_detail(self, session_id: str) -> SessionDetail | None:
        s = self.db.get_session(session_id)
        if s is None:
            return None
        chain = self.db.get_lineage(session_id)
        children = self.db.get_children(session_id)

        def link(r: dict[str, Any]) -> LineageLink:
            return LineageLink(
                id=str(r["id"]), title=r.get("title"), started_at=float(r.get("started_at") or 0),
                message_count=int(r.get("message_count") or 0), end_reason=r.get("end_reason"),
            )

        parent_row = next((r for r in chain if r["id"] == s.get("parent_session_id")), None)
        actual = s.get("actual_cost_usd")
        return SessionDetail(
            id=str(s["id"]), title=s.get("title"), source=str(s.get("source") or "?"), model=s.get("model"),
            started_at=float(s.get("started_at") or 0), ended_at=s.get("ended_at"),
            end_reason=s.get("end_reason"), message_count=int(s.get("message_count") or 0),
            tool_call_count=int(s.get("tool_call_count") or 0),
            input_tokens=int(s.get("input_tokens") or 0), output_tokens=int(s.get("output_tokens") or 0),
            cache_read_tokens=int(s.get("cache_read_tokens") or 0),
            cache_write_tokens=int(s.get("cache_write_tokens") or 0),
            reasoning_tokens=int(s.get("reasoning_tokens") or 0),
            cost_usd=actual if actual is not None else s.get("estimated_cost_usd"),
            cost_is_estimate=actual is None,
            parent=link(parent_row) if parent_row else None,
            children=tuple(link(c) for c in children),
            lineage=tuple(link(r) for r in chain),
        )

    # messages
    def messages_tail(self, session_id: str, limit: int = 100) -> list[MessageView]:
        return [MessageView.from_row(r) for r in self.db.get_messages_range(session_id, limit=limit)]

    def messages_before(self, session_id: str, before_id: int, limit: int = 100) -> list[MessageView]:
        rows = self.db.get_messages_range(session_id, before_id=before_id, limit=limit)
        return [MessageView.from_row(r) for r in rows]

    def messages_after(self, session_id: str, after_id: int, limit: int = 100) -> list[MessageView]:
        rows = self.db.get_messages_range(session_id, after_id=after_id, limit=limit)
        return [MessageView.from_row(r) for r in rows]

    def messages_around(
        self, session_id: str, message_id: int, before: int = 50, after: int = 50
    ) -> list[MessageView]:
        rows = self.db.get_message_window(session_id, message_id, before, after)
        return [MessageView.from_row(r) for r in rows]

    # conversation pages (added for the conversation pane)
    def conversation_page(
        self,
        session_id: str,
        *,
        before_id: int | None = None,
        after_id: int | None = None,
        around_id: int | None = None,
        limit: int = 60,
    ) -> ConversationPage:
        """About ``limit`` messages cut at turn boundaries, and whether older/newer ones exist.

        Without ids: the newest messages. ``before_id``/``after_id``: the page before/after that id
        (``after_id=0`` is the session's first page). ``around_id``: a window centred on that
        message (the newest page if the session does not hold it; ``target_id`` tells).
        A page never begins with a tool result whose call is older, nor ends between a tool call and
        its results (it is extended by up to ``TURN_EXTENSION_LIMIT`` messages to get there).
        """
        limit = max(1, limit)
        db = self.db
        target_id: int | None = None
        rows: list[dict[str, Any]] = []
        if around_id is not None:
            older_n = limit // 2
            newer_n = max(0, limit - older_n - 1)
            window = db.get_message_window(session_id, around_id, older_n + 1, newer_n + 1)
            older = [r for r in window if int(r["id"]) < around_id]
            newer = [r for r in window if int(r["id"]) >= around_id]
            if newer and int(newer[0]["id"]) == around_id:
                target_id = around_id
                at_start = len(older) <= older_n
                at_end = len(newer) <= newer_n + 1
                rows = (older if at_start else older[1:]) + (newer if at_end else newer[:-1])
        after_page = target_id is None and after_id is not None and around_id is None
        if after_page:
            rows = db.get_messages_range(session_id, after_id=after_id, limit=limit + 1)
            at_start, at_end = after_id <= 0, len(rows) <= limit
            rows = rows[:limit]
        elif target_id is None and before_id is not None and around_id is None:
            rows = db.get_messages_range(session_id, before_id=before_id, limit=limit + 1)
            at_start, at_end = len(rows) <= limit, False
            rows = rows[-limit:]
        elif target_id is None:
            rows = db.get_messages_range(session_id, limit=limit + 1)
            at_start, at_end = len(rows) <= limit, True
            rows = rows[-limit:]
        msgs = [MessageView.from_row(r) for r in rows]
        if not after_page:
            # A page after an id starts right after a window that already ends on a whole turn:
            # a tool message there answers no call on this side (an interrupted turn, or rows
            # another program wrote). Extending back would re-read the window's own last
            # messages: the live refresh saw a turn it could not match and stopped for good.
            msgs, at_start = self._extend_back(session_id, msgs, at_start)
        msgs, at_end = self._extend_forward(session_id, msgs, at_end)
        return ConversationPage(tuple(msgs), at_start=at_start or not msgs, at_end=at_end or not msgs,
                                target_id=target_id)

    def _extend_back(
        self, session_id: str, msgs: list[MessageView], at_start: bool
    ) -> tuple[list[MessageView], bool]:
        added = 0
        while not at_start and msgs and msgs[0].role == "tool" and added < TURN_EXTENSION_LIMIT:
            more = self.messages_before(session_id, msgs[0].id, limit=TURN_CHUNK)
            head = next((i for i in range(len(more) - 1, -1, -1) if more[i].role != "tool"), None)
            if head is None:
                msgs = more + msgs
                added += len(more)
                at_start = len(more) < TURN_CHUNK
                continue
            msgs = more[head:] + msgs
            at_start = head == 0 and len(more) < TURN_CHUNK
            break
        return msgs, at_start

    def _extend_forward(
        self, session_id: str, msgs: list[MessageView], at_end: bool
    ) -> tuple[list[MessageView], bool]:
        added = 0
        while not at_end and msgs and (msgs[-1].role == "tool" or msgs[-1].tool_calls):
            if added >= TURN_EXTENSION_LIMIT:
                break
            more = self.messages_after(session_id, msgs[-1].id, limit=TURN_CHUNK)
            tools = next((i for i, m in enumerate(more) if m.role != "tool"), len(more))
            msgs += more[:tools]
            added += tools
            if tools < len(more):
                break
            if len(more) < TURN_CHUNK:
                at_end = True
        return msgs, at_end

    def find_message(
        self,
        session_id: str,
        predicate: Callable[[MessageView], bool],
        *,
        after_id: int | None = None,
        before_id: int | None = None,
        page: int = 200,
        should_stop: Callable[[], bool] | None = None,
    ) -> int | None:
        """The id of the nearest message after ``after_id`` (or, given ``before_id``, before it) for
        which ``predicate`` is true; None if there is none (or ``should_stop()`` said so)."""
        forward = before_id is None
        cursor = after_id if forward else before_id
        if cursor is None:
            cursor = 0
        while True:
            if should_stop is not None and should_stop():
                return None
            if forward:
                batch = self.messages_after(session_id, cursor, limit=page)
            else:
                batch = self.messages_before(session_id, cursor, limit=page)
            if not batch:
                return None
            for msg in batch if forward else reversed(batch):
                if predicate(msg):
                    return msg.id
            cursor = batch[-1].id if forward else batch[0].id
            if len(batch) < page:
                return None

    # search
    def search(
        self,
        query: str,
        *,
        source: str | None = None,
        limit: int = 100,
        prefix: bool = True,
        budget_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> SearchResult:
        """Live search; never raises for query text. Says how many hits a filter hides, and
        whether the search was complete (``budget_s``: a longer time budget than the default;
        setting ``cancel`` stops a superseded search early)."""
        try:
            page = self.db.search_page(
                query, source_filter=[source] if source else None, limit=limit, prefix=prefix,
                snippet_markers=(HIT_START, HIT_END), budget_s=budget_s, cancel=cancel,
            )
        except StoreError as exc:
            return SearchResult(query, (), error=str(exc), budget_s=budget_s)
        hits = tuple(
            SearchHit(
                message_id=int(r["id"]), session_id=str(r["session_id"]), session_title=r.get("title"),
                source=str(r.get("source") or "?"), role=str(r.get("role") or "?"),
                timestamp=float(r.get("timestamp") or 0), snippet=str(r.get("snippet") or ""),
                tool_name=r.get("tool_name"),
            )
            for r in page.hits
        )
        hidden = 0
        if not hits and source:
            hidden = self.db.count_search_matches(query, cap=1000)
        return SearchResult(query, hits, hidden_by_filter=hidden, complete=page.complete, budget_s=budget_s)

    # lineage and lookup (added for the app's list, palette and [ / ] keys)
    def lineage(self, session_id: str) -> tuple[LineageLink, ...]:
        """The compression chain through a session, root first (empty if it does not exist)."""
        return tuple(
            LineageLink(
                id=str(r["id"]), title=r.get("title"), started_at=float(r.get("started_at") or 0),
                message_count=int(r.get("message_count") or 0), end_reason=r.get("end_reason"),
            )
            for r in self.db.get_lineage(session_id)
        )

    def lineage_positions(self, sessions: list[SessionSummary]) -> dict[str, tuple[int, int]]:
        """``{id: (position, length)}`` (1-based) for the sessions that belong to a chain.

        A chain's tip (the row a chain-per-row list shows) is ``(length, length)``: its segments.
        """
        out: dict[str, tuple[int, int]] = {}
        for s in sessions:
            if not (s.parent_id or s.child_count):
                continue
            chain = [link.id for link in self.lineage(s.id)]
            if s.id in chain and len(chain) > 1:
                out[s.id] = (chain.index(s.id) + 1, len(chain))
        return out

    def neighbour(self, session_id: str, step: int, *, start: str | None = None) -> str | None:
        """The parent (``step=-1``) or the next (newest child, ``step=+1``) session in its chain.

        ``start``: walk from this session instead when it is in the same chain (the list shows a
        chain as its tip while the pane shows an older segment: ``[`` goes on from that one).
        """
        chain = [link.id for link in self.lineage(session_id)]
        if start is not None and start in chain:
            session_id = start
        if session_id not in chain:
            return None
        i = chain.index(session_id) + step
        return chain[i] if 0 <= i < len(chain) else None

    def find_sessions(self, text: str, limit: int = 20) -> list[SessionSummary]:
        """Sessions whose id starts with ``text`` first, then those whose title or id contains it."""
        if not text.strip():
            return []
        rows = self.sessions_page(0, max(limit * 5, 50), text=text)
        key = text.strip().lower()
        rows.sort(key=lambda s: (not s.id.lower().startswith(key), -s.last_active))
        return rows[:limit]

    # change detection
    def data_version(self) -> int:
        return self.db.data_version()

    def now_dt(self) -> datetime:
        now = self.now()
        return now if now.tzinfo else now.replace(tzinfo=UTC)

    # managing history: every write goes through the store's writer
    def _ensure_writable(self) -> None:
        if self.db.read_only:
            raise ReadOnlyError(self.db.read_only_reason or "opened read-only")

    def rename(self, session_id: str, title: str) -> str | None:
        """Save a title (empty removes it); return it as stored. Raises ValueError with the
        store's reason (too long, in use, only invisible characters) or ReadOnlyError."""
        self._ensure_writable()
        if not self.db.set_session_title(session_id, title):
            raise ValueError("the session no longer exists")
        return self.db.get_session_title(session_id)

    def delete_info(self, session_id: str) -> DeleteInfo | None:
        """What a delete confirmation shows: title or preview, messages, children kept."""
        s = self.db.get_session(session_id)
        if s is None:
            return None
        first = self.db.get_messages_range(session_id, after_id=0, limit=20)
        preview = next((str(m["content"]) for m in first if m.get("role") == "user" and m.get("content")), "")
        return DeleteInfo(
            id=str(s["id"]), title=s.get("title"), preview=preview[:80],
            message_count=self.db.message_count(session_id),
            child_count=len(self.db.get_children(session_id)),
        )

    def delete(self, session_id: str) -> bool:
        """Delete a session and its messages; its children are kept and detached."""
        self._ensure_writable()
        return self.db.delete_session(session_id)

    def prune_preview(self, older_than_days: float, source: str | None = None) -> PrunePreview:
        p = self.db.prune_preview(older_than_days, source, now=self.now_dt().timestamp())
        return PrunePreview(
            older_than_days=older_than_days, source=source, sessions=p["sessions"], messages=p["messages"],
            oldest_last_active=p["oldest_last_active"], newest_last_active=p["newest_last_active"],
            active_spared=p["active_sessions_spared"],
        )

    def prune(
        self, older_than_days: float, source: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> int:
        """Delete ended sessions idle for longer than the age; return the count. In short steps of
        whole sessions (the agent never waits long for the lock); a cancel stops between steps."""
        self._ensure_writable()
        return self.db.prune_sessions(older_than_days, source, progress=progress, now=self.now_dt().timestamp(),
                                      stepped=True, should_cancel=should_cancel)

    def export(
        self,
        dest: Path | str,
        fmt: str,
        *,
        session_ids: list[str] | None = None,
        source: str | None = None,
        progress: Callable[[int, int | None], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
        overwrite: bool = False,
    ) -> int:
        """Write sessions (these ids, a source, or everything) as ``jsonl`` or ``md``: atomic,
        0600, streamed. FileExistsError unless ``overwrite``; a cancelled or failed export
        (``store.export.ExportCancelled``, OSError…) leaves no file. Allowed when read-only."""
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {fmt!r} (jsonl or md)")
        write = self.db.export_jsonl if fmt == "jsonl" else self.db.export_markdown
        return write(
            Path(dest), source=source, session_ids=session_ids, progress=progress,
            should_cancel=should_cancel, overwrite=overwrite,
        )

    def activity(self, days: int = 30) -> dict[str, Any]:
        """The store's ``activity_stats`` at the app's clock and timezone (see store/stats.py)."""
        now = self.now_dt()
        offset = now.utcoffset()
        return self.db.activity_stats(
            days, now=now.timestamp(), utc_offset_s=int(offset.total_seconds()) if offset else 0
        )
