"""``SessionDB``: the store's public API (the reference design's, plus what a browser needs).

Opening never harms the file it is pointed at:

* a file that is not SQLite is refused before SQLite opens it, and left unchanged;
* a missing file is created 0600 only for a writable store (``read_only=True`` never creates);
* a database at a newer schema version, or one whose file or folder is not writable, opens
  read-only (``db.read_only`` is True and ``db.read_only_reason`` says why);
* nothing is written when nothing needs migrating.

Reads run on pooled ``query_only`` connections (many threads at once); writes go through the one
writer (see ``store.writer``). Every method may be called from any thread.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from . import cleanup, export, importer, listing, messages, rawfile, schema, search, sessions, stats, titles
from .connections import (
    READ_BUSY_TIMEOUT_MS,
    ReaderPool,
    ReadOnlyPlan,
    check_sqlite_file,
    create_private_file,
    open_connection,
    place_unwritable_reason,
    plan_read_only,
    remove_unused_sidecars,
    tighten_sidecars,
)
from .errors import (
    DatabaseMissingError,
    ReadOnlyError,
    StoreClosedError,
    StoreError,
    translate,
)
from .paths import default_db_path
from .sqlutil import clean_text, dumps_or_none
from .writer import Writer

log = logging.getLogger(__name__)
T = TypeVar("T")

WRITER_BUSY_TIMEOUT_MS = 100  # the writer's own retry loop (with jitter) owns the lock budget
TRIGRAM_CHUNK = 500  # rows per maintenance transaction at most; each also stops after ~50 ms of work
# New rows (the agent's) wait above the trigram window until there are this many: search scans them
# with LIKE meanwhile (a few ms), and a store opened on a database that needs no migration writes
# nothing for the agent's every few messages.
TRIGRAM_BACKLOG_ROWS = 2000


class SessionDB:
    """SQLite-backed session storage with FTS5 search, a reader pool and a group-commit writer."""

    DEFAULT_POOL_SIZE = 5
    DEFAULT_BATCH_SIZE = 50
    DEFAULT_BATCH_WAIT_MS = 0.0  # group commit: the writer never waits on a timer by default
    DEFAULT_LOCK_TIMEOUT_S = 15.0
    MAX_TITLE_LENGTH = titles.MAX_TITLE_LENGTH

    def __init__(
        self,
        db_path: Path | str | None = None,
        pool_size: int | None = None,
        batch_size: int | None = None,
        batch_wait_ms: float | None = None,
        enable_batching: bool = True,
        *,
        read_only: bool = False,
        lock_timeout: float | None = None,
        create: bool = True,
    ) -> None:
        """Open (or create) the store.

        ``batch_wait_ms`` is how long the writer may linger for more writes after the first one
        of a batch; the default 0 is pure group commit. ``lock_timeout`` (seconds) is how long
        a write waits for another process's write lock before raising ``DatabaseLockedError``.
        ``create=False`` (how a browser opens) refuses a missing file and a database without the
        agent's tables instead of creating them: nothing is written to a file that is not ours.
        """
        path = Path(db_path).expanduser() if db_path else default_db_path()
        self.db_path = path
        rawfile.hold(path)  # from here, peeks at its files never drop this process's SQLite locks
        self._held = True
        try:
            self._open(path, pool_size, batch_size, batch_wait_ms, enable_batching,
                       read_only=read_only, lock_timeout=lock_timeout, create=create)
        except BaseException:
            self._release_raw()
            raise

    def _release_raw(self) -> None:
        if self._held:
            self._held = False
            rawfile.release(self.db_path)

    def _open(
        self,
        path: Path,
        pool_size: int | None,
        batch_size: int | None,
        batch_wait_ms: float | None,
        enable_batching: bool,
        *,
        read_only: bool,
        lock_timeout: float | None,
        create: bool,
    ) -> None:
        self.db_path = path
        self.pool_size = pool_size or self.DEFAULT_POOL_SIZE
        self._closed = False
        self._close_lock = threading.Lock()
        self._watch_lock = threading.Lock()
        self._watch_conn: sqlite3.Connection | None = None
        self._writer: Writer | None = None
        self.read_only_reason: str | None = "opened read-only" if read_only else None
        self.read_only_note: str | None = None  # how a read-only place is read (a snapshot, a frozen view)
        self.migrated: list[str] = []

        exists = check_sqlite_file(self.db_path)  # raises NotADatabaseError, touching nothing
        if (read_only or not create) and not self.db_path.exists():
            raise DatabaseMissingError(self.db_path)
        if not read_only and exists:
            reason = self._unwritable_reason()
            if reason:
                self.read_only_reason = reason
        created = False
        if self.read_only_reason is None and not self.db_path.exists():
            create_private_file(self.db_path)
            created = True

        ro = self.read_only_reason is not None
        self._sidecars_before = any(Path(f"{self.db_path}{s}").exists() for s in ("-wal", "-shm"))
        self._plan: ReadOnlyPlan | None = plan_read_only(self.db_path) if ro else None
        try:
            probe = open_connection(self.db_path, read_only=ro, busy_timeout_ms=READ_BUSY_TIMEOUT_MS, plan=self._plan)
        except sqlite3.Error as exc:
            self._tidy_sidecars()
            self._discard_plan()
            raise translate(exc, self.db_path) from exc
        try:
            state = schema.inspect(probe)
        except sqlite3.Error as exc:
            probe.close()
            self._tidy_sidecars()
            self._discard_plan()
            raise translate(exc, self.db_path) from exc

        if not create and "sessions" not in state.tables:
            probe.close()
            self._tidy_sidecars()
            self._discard_plan()
            raise StoreError(f"{self.db_path} is an SQLite database but holds no Hermes sessions; left unchanged")
        if state.too_new:
            self.read_only_reason = (
                f"schema version {state.version} is newer than this store knows ({schema.SCHEMA_VERSION})"
            )
        if self.read_only_reason is not None:
            probe.close()
            if state.is_empty:
                self._tidy_sidecars()
                self._discard_plan()
                raise StoreError(f"{self.db_path} holds no Hermes session tables")
            self._state = state
            if self._plan is None:  # a newer schema found by a writable probe
                self._plan = plan_read_only(self.db_path)
            self.read_only_note = self._plan.note
            if self.read_only_note:
                self.read_only_reason = f"{self.read_only_reason}; {self.read_only_note}"
        else:
            self._open_writer(probe, state, batch_size, batch_wait_ms, enable_batching, lock_timeout)
            if created:
                tighten_sidecars(self.db_path)
        compat = schema.compat_views(self._state) if self.read_only else ()
        self._pool = ReaderPool(
            self.db_path, self.pool_size, read_only_file=self.read_only, init_sql=compat, plan=self._plan
        )

    def _unwritable_reason(self) -> str | None:
        return place_unwritable_reason(self.db_path)

    def unwritable_reason(self) -> str | None:
        """Why this process cannot write the file or create files beside it (now), or None."""
        return place_unwritable_reason(self.db_path)

    @property
    def schema_state(self) -> schema.SchemaState:
        """What the schema held when the store opened (read once; never written)."""
        return self._state

    def _tidy_sidecars(self) -> None:
        if not self._sidecars_before and self._plan is not None and not self._plan.immutable \
                and self._plan.snapshot_dir is None:
            remove_unused_sidecars(self.db_path)

    def _discard_plan(self) -> None:
        if self._plan is not None:
            self._plan.discard()

    def _open_writer(
        self,
        conn: sqlite3.Connection,
        state: schema.SchemaState,
        batch_size: int | None,
        batch_wait_ms: float | None,
        enable_batching: bool,
        lock_timeout: float | None,
    ) -> None:
        conn.execute(f"PRAGMA busy_timeout = {WRITER_BUSY_TIMEOUT_MS}")
        trigram = schema.trigram_supported(conn)
        todo = schema.plan(state, trigram_supported=trigram)
        if "journal_mode=wal" in todo:
            conn.execute(f"PRAGMA busy_timeout = {READ_BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute(f"PRAGMA busy_timeout = {WRITER_BUSY_TIMEOUT_MS}")
            if str(mode).lower() != "wal":
                log.warning("could not switch %s to WAL (journal_mode=%s)", self.db_path, mode)
        self._state = state
        self._writer = Writer(
            self.db_path,
            conn,
            enable_batching=enable_batching,
            batch_size=batch_size or self.DEFAULT_BATCH_SIZE,
            linger_ms=batch_wait_ms if batch_wait_ms is not None else self.DEFAULT_BATCH_WAIT_MS,
            lock_timeout_s=lock_timeout if lock_timeout is not None else self.DEFAULT_LOCK_TIMEOUT_S,
            idle_task=self._trigram_step,
            idle_probe=(lambda c: schema.trigram_pending(c, TRIGRAM_BACKLOG_ROWS))
            if schema.trigram_supported(conn) else None,
        )
        if [t for t in todo if t != "journal_mode=wal"]:
            try:
                self.migrated = self._writer.execute(
                    lambda c: schema.migrate(c, trigram_supported=trigram)
                )
            except BaseException:
                self._writer.close()
                raise
            self._state = self._writer.execute(schema.inspect)
            self._writer.wake_maintenance()

    def _trigram_step(self, conn: sqlite3.Connection) -> bool:
        """One chunk of trigram indexing (new rows first, then old ones); True if more remain."""
        if "messages_trgm" not in self._state.tables:
            return False
        remaining = schema.trigram_maintenance_step(conn, TRIGRAM_CHUNK)
        return remaining > 0

    # ── plumbing ──────────────────────────────────────────────────────────────────────────

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    @property
    def closed(self) -> bool:
        return self._closed

    def _execute_write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreClosedError(self.db_path)
        if self._writer is None:
            raise ReadOnlyError(self.read_only_reason or "no writer")
        return self._writer.execute(fn)

    def _execute_read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreClosedError(self.db_path)
        with self._pool.connection() as conn:
            try:
                return fn(conn)
            except sqlite3.Error as exc:
                raise translate(exc, self.db_path) from exc

    def close(self) -> None:
        """Commit what was queued, then close every connection. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._writer is not None:
            self._writer.close()
        self._pool.close()
        with self._watch_lock:
            if self._watch_conn is not None:
                self._watch_conn.close()
                self._watch_conn = None
        if self._writer is None:
            self._tidy_sidecars()
        self._discard_plan()
        self._release_raw()

    def __enter__(self) -> SessionDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_for_maintenance(self, max_seconds: float = 600.0) -> None:
        """Finish background maintenance (the trigram backfill) now."""
        if self._writer is not None:
            self._writer.run_idle_until_done(max_seconds)

    # ── session lifecycle ─────────────────────────────────────────────────────────────────

    def create_session(
        self,
        session_id: str,
        source: str,
        model: str | None = None,
        model_config: dict[str, Any] | None = None,
        system_prompt: str | None = None,
        user_id: str | None = None,
        parent_session_id: str | None = None,
    ) -> str:
        """Create a session record (no-op if the id exists). Returns the session id."""
        source, model, system_prompt, user_id = (clean_text(v) for v in (source, model, system_prompt, user_id))
        self._execute_write(
            lambda c: sessions.create_session(
                c, session_id, source, model, model_config, system_prompt, user_id, parent_session_id
            )
        )
        return session_id

    def end_session(self, session_id: str, end_reason: str) -> None:
        """Mark a session ended. The first end wins; ``reopen_session`` allows a new one."""
        self._execute_write(lambda c: sessions.end_session(c, session_id, end_reason))

    def reopen_session(self, session_id: str) -> None:
        self._execute_write(lambda c: sessions.reopen_session(c, session_id))

    def update_system_prompt(self, session_id: str, system_prompt: str) -> None:
        prompt = clean_text(system_prompt)
        self._execute_write(lambda c: sessions.update_system_prompt(c, session_id, prompt))

    def ensure_session(self, session_id: str, source: str = "unknown", model: str | None = None) -> None:
        self._execute_write(lambda c: sessions.ensure_session(c, session_id, source, model))

    def update_token_counts(
        self,
        session_id: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        model: str | None = None,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        reasoning_tokens: int = 0,
        estimated_cost_usd: float | None = None,
        actual_cost_usd: float | None = None,
        cost_status: str | None = None,
        cost_source: str | None = None,
        pricing_version: str | None = None,
        billing_provider: str | None = None,
        billing_base_url: str | None = None,
        billing_mode: str | None = None,
        absolute: bool = False,
    ) -> None:
        """Add per-call deltas (default) or, with ``absolute=True``, set cumulative totals."""
        params = sessions.token_params(
            session_id, input_tokens=input_tokens, output_tokens=output_tokens,
            cache_read_tokens=cache_read_tokens, cache_write_tokens=cache_write_tokens,
            reasoning_tokens=reasoning_tokens, estimated_cost_usd=estimated_cost_usd,
            actual_cost_usd=actual_cost_usd, cost_status=cost_status, cost_source=cost_source,
            pricing_version=pricing_version, billing_provider=billing_provider,
            billing_base_url=billing_base_url, billing_mode=billing_mode, model=model,
        )
        sql = sessions.ABSOLUTE_TOKENS_SQL if absolute else sessions.INCREMENT_TOKENS_SQL
        self._execute_write(lambda c: c.execute(sql, params))

    def set_token_counts(
        self,
        session_id: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        model: str | None = None,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        reasoning_tokens: int = 0,
        estimated_cost_usd: float | None = None,
        actual_cost_usd: float | None = None,
        cost_status: str | None = None,
        cost_source: str | None = None,
        pricing_version: str | None = None,
        billing_provider: str | None = None,
        billing_base_url: str | None = None,
        billing_mode: str | None = None,
    ) -> None:
        """Set token counters to absolute values (the estimate is set as given, even None)."""
        params = sessions.token_params(
            session_id, input_tokens=input_tokens, output_tokens=output_tokens,
            cache_read_tokens=cache_read_tokens, cache_write_tokens=cache_write_tokens,
            reasoning_tokens=reasoning_tokens, estimated_cost_usd=estimated_cost_usd,
            actual_cost_usd=actual_cost_usd, cost_status=cost_status, cost_source=cost_source,
            pricing_version=pricing_version, billing_provider=billing_provider,
            billing_base_url=billing_base_url, billing_mode=billing_mode, model=model,
        )
        self._execute_write(lambda c: c.execute(sessions.SET_TOKENS_SQL, params))

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        return self._execute_read(lambda c: sessions.get_session(c, session_id))

    def resolve_session_id(self, session_id_or_prefix: str) -> str | None:
        """The exact id, or the single id starting with the prefix; None if none or ambiguous."""
        return self._execute_read(lambda c: listing.resolve_session_id(c, session_id_or_prefix))

    # ── titles ────────────────────────────────────────────────────────────────────────────

    @staticmethod
    def sanitize_title(title: str | None) -> str | None:
        return titles.sanitize_title(title)

    def set_session_title(self, session_id: str, title: str | None) -> bool:
        """Set or clear (empty/whitespace) a title. True if the session exists.

        Raises ValueError when the title is too long, has only invisible characters, or is
        used by another session.
        """
        clean = titles.validate_new_title(title)
        return self._execute_write(lambda c: titles.set_title(c, session_id, clean)) > 0

    def get_session_title(self, session_id: str) -> str | None:
        return self._execute_read(lambda c: titles.get_title(c, session_id))

    def get_session_by_title(self, title: str) -> dict[str, Any] | None:
        return self._execute_read(lambda c: titles.get_by_title(c, title))

    def resolve_session_by_title(self, title: str) -> str | None:
        return self._execute_read(lambda c: titles.resolve_by_title(c, title))

    def get_next_title_in_lineage(self, base_title: str) -> str:
        return self._execute_read(lambda c: titles.next_in_lineage(c, base_title))

    # ── listing ───────────────────────────────────────────────────────────────────────────

    def list_sessions_rich(
        self,
        source: str | None = None,
        exclude_sources: list[str] | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Sessions newest first, each with ``preview`` (first user message) and ``last_active``."""
        return self._execute_read(
            lambda c: listing.list_sessions_rich(
                c, source=source, exclude_sources=exclude_sources, limit=limit, offset=offset,
                has_last_active=self._state.has_last_active,
            )
        )

    def list_sessions_page(
        self,
        limit: int = 50,
        after: listing.PageCursor | tuple[float, str] | None = None,
        *,
        offset: int = 0,
        source: str | None = None,
        exclude_sources: list[str] | None = None,
        text: str | None = None,
        chain_tips_only: bool = False,
    ) -> list[dict[str, Any]]:
        """A keyset page ordered by last activity (see ``store.listing.list_sessions_page``);
        ``chain_tips_only`` lists a compression chain once, as its newest segment."""
        return self._execute_read(
            lambda c: listing.list_sessions_page(
                c, limit=limit, after=after, offset=offset, source=source,
                exclude_sources=exclude_sources, text=text, has_last_active=self._state.has_last_active,
                chain_tips_only=chain_tips_only,
            )
        )

    def count_sessions(
        self, *, source: str | None = None, exclude_sources: list[str] | None = None, text: str | None = None,
        chain_tips_only: bool = False,
    ) -> int:
        return self._execute_read(
            lambda c: listing.count_sessions_filtered(
                c, source=source, exclude_sources=exclude_sources, text=text, chain_tips_only=chain_tips_only,
            )
        )

    def list_sources(self) -> list[str]:
        return self._execute_read(
            lambda c: [r[0] for r in c.execute("SELECT DISTINCT source FROM sessions ORDER BY source")]
        )

    def search_sessions(self, source: str | None = None, limit: int = 20, offset: int = 0) -> list[dict[str, Any]]:
        return self._execute_read(lambda c: listing.search_sessions(c, source=source, limit=limit, offset=offset))

    def session_count(self, source: str | None = None) -> int:
        return self._execute_read(lambda c: listing.session_count(c, source))

    def get_lineage(self, session_id: str) -> list[dict[str, Any]]:
        """The compression chain through a session, root first, to its newest tip."""
        return self._execute_read(lambda c: listing.get_lineage(c, session_id))

    def get_children(self, session_id: str) -> list[dict[str, Any]]:
        return self._execute_read(lambda c: listing.get_children(c, session_id))

    # ── messages ──────────────────────────────────────────────────────────────────────────

    def append_message(
        self,
        session_id: str,
        role: str,
        content: str | None = None,
        tool_name: str | None = None,
        tool_calls: Any = None,
        tool_call_id: str | None = None,
        token_count: int | None = None,
        finish_reason: str | None = None,
        reasoning: str | None = None,
        reasoning_details: Any = None,
        codex_reasoning_items: Any = None,
    ) -> int:
        """Append a message; bump the session's counters. Returns the message id, once committed."""
        content, reasoning, tool_name, tool_call_id, finish_reason = (
            clean_text(v) for v in (content, reasoning, tool_name, tool_call_id, finish_reason)
        )
        tool_calls_json = dumps_or_none(tool_calls)
        details_json = dumps_or_none(reasoning_details)
        codex_json = dumps_or_none(codex_reasoning_items)
        n_calls = messages.count_tool_calls(tool_calls)
        return self._execute_write(
            lambda c: messages.append(
                c, session_id, role, content, tool_call_id, tool_calls_json, tool_name, token_count,
                finish_reason, reasoning, details_json, codex_json, n_calls,
            )
        )

    def get_messages(self, session_id: str) -> list[dict[str, Any]]:
        """Every message of a session, in id order; ``tool_calls`` decoded from JSON."""
        return self._execute_read(lambda c: messages.get_messages(c, session_id))

    def get_messages_as_conversation(self, session_id: str) -> list[dict[str, Any]]:
        return self._execute_read(lambda c: messages.get_conversation(c, session_id))

    def get_messages_range(
        self, session_id: str, *, after_id: int | None = None, before_id: int | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """A page of messages in id order (see ``store.messages.get_range``)."""
        return self._execute_read(
            lambda c: messages.get_range(c, session_id, after_id=after_id, before_id=before_id, limit=limit)
        )

    def get_message_window(
        self, session_id: str, around_id: int, before: int = 50, after: int = 50
    ) -> list[dict[str, Any]]:
        """The message ``around_id`` with up to ``before``/``after`` neighbours of its session."""
        return self._execute_read(lambda c: messages.get_window(c, session_id, around_id, before, after))

    def message_position(self, session_id: str, message_id: int) -> int:
        return self._execute_read(lambda c: messages.position(c, session_id, message_id))

    def message_count(self, session_id: str | None = None) -> int:
        return self._execute_read(lambda c: messages.count(c, session_id))

    # ── search ────────────────────────────────────────────────────────────────────────────

    @staticmethod
    def _sanitize_fts5_query(query: str) -> str:
        return search.sanitize_fts5_query(query)

    def search_messages(
        self,
        query: str,
        source_filter: list[str] | None = None,
        exclude_sources: list[str] | None = None,
        role_filter: list[str] | None = None,
        limit: int = 20,
        offset: int = 0,
        *,
        order: str = "rank",
        prefix: bool = False,
        snippet_markers: tuple[str, str] = (">>>", "<<<"),
    ) -> list[dict[str, Any]]:
        """Full-text search; never raises for any query text (see ``store.search``). The hits of
        ``search_page`` with the default time budget (the reference's shape: a list of dicts)."""
        return self.search_page(
            query, source_filter=source_filter, exclude_sources=exclude_sources, role_filter=role_filter,
            limit=limit, offset=offset, order=order, prefix=prefix, snippet_markers=snippet_markers,
        ).hits

    def search_page(
        self,
        query: str,
        *,
        source_filter: list[str] | None = None,
        exclude_sources: list[str] | None = None,
        role_filter: list[str] | None = None,
        limit: int = 20,
        offset: int = 0,
        order: str = "rank",
        prefix: bool = False,
        snippet_markers: tuple[str, str] = (">>>", "<<<"),
        budget_s: float | None = None,
        cancel: threading.Event | None = None,
    ) -> search.SearchPage:
        """``search_messages``'s hits and whether the search was complete (``SearchPage.complete``
        is False when it stopped at its time budget with older messages unsearched). ``budget_s``
        asks for a longer (or shorter) budget than the default ~25 ms; setting ``cancel`` stops it
        early (a superseded long search frees its connection). Never raises for any query text."""
        return self._execute_read(
            lambda c: search.search_page(
                c, query, source_filter=source_filter, exclude_sources=exclude_sources,
                role_filter=role_filter, limit=limit, offset=offset, order=order, prefix=prefix,
                snippet_markers=snippet_markers, budget_s=budget_s, cancel=cancel,
            )
        )

    def count_search_matches(
        self,
        query: str,
        source_filter: list[str] | None = None,
        exclude_sources: list[str] | None = None,
        role_filter: list[str] | None = None,
        cap: int = 1000,
    ) -> int:
        return self._execute_read(
            lambda c: search.count_matches(
                c, query, source_filter=source_filter, exclude_sources=exclude_sources,
                role_filter=role_filter, cap=cap,
            )
        )

    # ── export ────────────────────────────────────────────────────────────────────────────

    def export_session(self, session_id: str) -> dict[str, Any] | None:
        """One session with all its messages, or None."""
        def _do(c: sqlite3.Connection) -> dict[str, Any] | None:
            s = sessions.get_session(c, session_id)
            return None if s is None else {**s, "messages": messages.get_messages(c, session_id)}
        return self._execute_read(_do)

    def iter_export(
        self, source: str | None = None, session_ids: list[str] | None = None, page: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every session (newest first) with its messages, one at a time: constant memory."""
        if session_ids is not None:
            for sid in session_ids:
                record = self.export_session(sid)
                if record is not None:
                    yield record
            return
        cursor: tuple[float, str] | None = None
        while True:
            def _page(c: sqlite3.Connection, cur: tuple[float, str] | None = cursor) -> list[dict[str, Any]]:
                where, params = ["1"], []
                if source:
                    where.append("source = ?")
                    params.append(source)
                if cur is not None:
                    where.append("(started_at, id) < (?, ?)")
                    params += list(cur)
                rows = c.execute(
                    f"SELECT * FROM sessions WHERE {' AND '.join(where)} "
                    "ORDER BY started_at DESC, id DESC LIMIT ?",
                    [*params, page],
                ).fetchall()
                return [{**dict(r), "messages": messages.get_messages(c, r["id"])} for r in rows]
            batch = self._execute_read(_page)
            if not batch:
                return
            yield from batch
            cursor = (batch[-1]["started_at"], batch[-1]["id"])

    def export_all(self, source: str | None = None) -> list[dict[str, Any]]:
        """Every session with its messages as a list (no cap); prefer ``iter_export`` for size."""
        return list(self.iter_export(source=source))

    def export_jsonl(
        self,
        dest: Path | str | IO[str],
        *,
        source: str | None = None,
        session_ids: list[str] | None = None,
        progress: Callable[[int, int | None], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
        overwrite: bool = True,
    ) -> int:
        """Write sessions as JSONL (one session with its messages per line). Returns the count.

        A path is written atomically and privately (0600; temp file, then rename); a failure
        or cancellation leaves no file. A file object is written to as is.
        """
        return self._export(export.write_records, dest, source=source, session_ids=session_ids,
                            progress=progress, should_cancel=should_cancel, overwrite=overwrite)

    def export_markdown(
        self,
        dest: Path | str | IO[str],
        *,
        source: str | None = None,
        session_ids: list[str] | None = None,
        progress: Callable[[int, int | None], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
        overwrite: bool = True,
    ) -> int:
        """Write readable Markdown transcripts (reasoning and tool calls in ``<details>``).

        Same guarantees as ``export_jsonl``: atomic, private, constant memory, cancellable.
        """
        return self._export(export.write_markdown, dest, source=source, session_ids=session_ids,
                            progress=progress, should_cancel=should_cancel, overwrite=overwrite)

    def _export(
        self,
        writer: Callable[..., int],
        dest: Path | str | IO[str],
        *,
        source: str | None,
        session_ids: list[str] | None,
        progress: Callable[[int, int | None], None] | None,
        should_cancel: Callable[[], bool] | None,
        overwrite: bool,
    ) -> int:
        total = len(session_ids) if session_ids is not None else self.session_count(source)
        records = self.iter_export(source=source, session_ids=session_ids)

        def write(fh: IO[str]) -> int:
            return writer(fh, records, total=total, progress=progress, should_cancel=should_cancel)

        if hasattr(dest, "write"):
            return write(dest)  # type: ignore[arg-type]
        return export.atomic_write(Path(dest), write, overwrite=overwrite)  # type: ignore[arg-type]

    # ── import ────────────────────────────────────────────────────────────────────────────

    def import_jsonl(
        self,
        path: Path | str,
        *,
        batch_sessions: int = importer.DEFAULT_BATCH_SESSIONS,
        batch_messages: int = importer.DEFAULT_BATCH_MESSAGES,
        batch_budget_s: float = importer.DEFAULT_BATCH_BUDGET_S,
        progress: Callable[[int, int], None] | None = None,
    ) -> importer.ImportReport:
        """Import an ``export_jsonl`` file: validated first (``ImportFileError`` names the line,
        nothing written), then whole sessions in short batches (each one write of ~``batch_budget_s``).

        Ids already in the store are skipped (``conflicts`` lists those whose content differs),
        so running it again after an interruption finishes it without duplicates. See
        ``store.importer`` for titles, parent links and the rest.
        """
        if self._closed:
            raise StoreClosedError(self.db_path)
        if self._writer is None:
            raise ReadOnlyError(self.read_only_reason or "no writer")
        return importer.import_jsonl(
            path, read=self._execute_read, write=self._execute_write, batch_sessions=batch_sessions,
            batch_messages=batch_messages, batch_budget_s=batch_budget_s, progress=progress,
        )

    # ── cleanup ───────────────────────────────────────────────────────────────────────────

    def clear_messages(self, session_id: str) -> None:
        self._execute_write(lambda c: cleanup.clear_messages(c, session_id))

    def delete_session(self, session_id: str) -> bool:
        """Delete a session and its messages; its children are kept, detached. True if found."""
        return self._execute_write(lambda c: cleanup.delete_session(c, session_id))

    def delete_sessions(self, session_ids: list[str]) -> int:
        return self._execute_write(lambda c: cleanup.delete_sessions(c, list(session_ids)))

    def prune_sessions(
        self,
        older_than_days: float = 90,
        source: str | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
        now: float | None = None,
        stepped: bool = False,
        should_cancel: Callable[[], bool] | None = None,
    ) -> int:
        """Delete ended sessions whose last activity is older than N days. Returns the count.

        Active (not ended) sessions are never pruned. ``now`` (epoch seconds) is the clock the age is
        measured from (default: the real time).

        By default all or nothing, in one transaction, which holds the write lock for as long as the
        deletes take (seconds for thousands of sessions). ``stepped=True`` deletes in short
        transactions of whole sessions, the longest idle first, sized to take about
        ``cleanup.PRUNE_STEP_TARGET_S`` each, with a pause between them so that another process waiting for
        the lock (the agent) gets it. A crash or ``should_cancel()`` (asked between steps) stops it
        with the steps done so far kept; running it again finishes it.
        """
        cutoff = cleanup.cutoff_for(older_than_days, now)
        has_la = self._state.has_last_active
        if not stepped:
            def _do(c: sqlite3.Connection) -> int:
                ids = cleanup.prune_candidates(c, cutoff, source, has_la)
                return cleanup.delete_sessions(c, ids, progress)
            return self._execute_write(_do)

        total = self.prune_preview(older_than_days, source, now=now)["sessions"]
        return cleanup.prune_in_steps(
            lambda limit: self._execute_write(lambda c: cleanup.prune_step(c, cutoff, source, has_la, limit)),
            total, progress=progress, should_cancel=should_cancel,
        )

    def prune_preview(
        self, older_than_days: float = 90, source: str | None = None, *, now: float | None = None
    ) -> dict[str, Any]:
        """What ``prune_sessions`` would delete (same arguments), without deleting."""
        cutoff = cleanup.cutoff_for(older_than_days, now)
        return self._execute_read(
            lambda c: cleanup.prune_preview(c, cutoff, source, self._state.has_last_active)
        )

    # ── statistics and change detection ───────────────────────────────────────────────────

    def _trigram_complete(self) -> bool:
        try:
            return self._execute_read(lambda c: not schema.trigram_pending(c)) and self._state.has_trigram
        except StoreError:
            return False

    def get_stats(self) -> dict[str, Any]:
        """Counts and writer statistics. Reads only: never checkpoints."""
        counts = self._execute_read(stats.totals)
        w = self._writer.stats if self._writer is not None else None
        cp = w.last_checkpoint if w is not None else None
        return {
            "total_writes": w.total_writes if w else 0,
            "batched_writes": w.batched_writes if w else 0,
            "batch_count": w.batch_count if w else 0,
            "pending_writes": self._writer.pending() if self._writer is not None else 0,
            "failed_writes": w.failed_writes if w else 0,
            "max_batch": w.max_batch if w else 0,
            "checkpoint": {
                "busy": cp[0] if cp else None,
                "log": cp[1] if cp else None,
                "checkpointed": cp[2] if cp else None,
            },
            **counts,
            "pool_size": self.pool_size,
            "write_count": w.total_writes if w else 0,
            "read_only": self.read_only,
            "read_only_reason": self.read_only_reason,
            "schema_version": self._state.version,
            "trigram_index_complete": self._trigram_complete(),
        }

    def activity_stats(
        self, days: int = 30, *, now: float | None = None, utc_offset_s: int = 0, top: int = 10
    ) -> dict[str, Any]:
        """Per-day sessions/messages/tokens/cost, top models and sources, largest sessions."""
        return self._execute_read(
            lambda c: stats.activity(c, days=days, now=now, utc_offset_s=utc_offset_s, top=top)
        )

    def data_version(self) -> int:
        """A number that changes whenever any connection (any process) commits a change.

        Cheap (no table is read): poll it to know when to refresh.
        """
        if self._closed:
            raise StoreClosedError(self.db_path)
        with self._watch_lock:
            if self._watch_conn is None:
                self._watch_conn = open_connection(
                    self.db_path, read_only=True, busy_timeout_ms=READ_BUSY_TIMEOUT_MS, plan=self._plan
                )
            try:
                return int(self._watch_conn.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error as exc:
                raise translate(exc, self.db_path) from exc
