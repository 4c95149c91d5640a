"""Schema version 6 of the agent's ``state.db``, its migrations, and the store's own additions.

Two layers live in one file:

* The agent's schema (``sessions``, ``messages``, ``messages_fts`` and its triggers), exactly
  as schema version 6 defines it, with idempotent migrations from every older version.
* The store's additions, all additive and invisible to the agent's code: ``sessions.last_active``
  (kept by triggers, indexed for keyset paging), ``messages(session_id, id)``, and a trigram FTS5
  index (``messages_trgm``) over message text and tool names/arguments, for substring and CJK
  search. The trigram index covers a window of message ids that the writer's idle maintenance
  (``trigram_maintenance_step``) grows in small chunks: new rows first, then old ones, newest
  first. No insert trigger: appends (the agent's too) never pay for trigrams, and no transaction
  of ours holds the lock for long. Search covers rows outside the window with a bounded LIKE.

``plan(conn)`` only reads. ``migrate(conn)`` runs inside the caller's ``BEGIN IMMEDIATE``; it is
called only when ``plan`` returned something, so opening a current database writes nothing.
The schema version is never lowered; a newer version is reported and the caller opens read-only.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field

SCHEMA_VERSION = 6

# ── The agent's schema, version 6 ────────────────────────────────────────────────────────────

SESSIONS_COLUMNS_V1: tuple[tuple[str, str], ...] = (
    ("id", "TEXT PRIMARY KEY"),
    ("source", "TEXT NOT NULL"),
    ("user_id", "TEXT"),
    ("model", "TEXT"),
    ("model_config", "TEXT"),
    ("system_prompt", "TEXT"),
    ("parent_session_id", "TEXT"),
    ("started_at", "REAL NOT NULL"),
    ("ended_at", "REAL"),
    ("end_reason", "TEXT"),
    ("message_count", "INTEGER DEFAULT 0"),
    ("tool_call_count", "INTEGER DEFAULT 0"),
    ("input_tokens", "INTEGER DEFAULT 0"),
    ("output_tokens", "INTEGER DEFAULT 0"),
)

# Columns added by later versions: (version, table, column, type).
ADDED_COLUMNS: tuple[tuple[int, str, str, str], ...] = (
    (2, "messages", "finish_reason", "TEXT"),
    (3, "sessions", "title", "TEXT"),
    (5, "sessions", "cache_read_tokens", "INTEGER DEFAULT 0"),
    (5, "sessions", "cache_write_tokens", "INTEGER DEFAULT 0"),
    (5, "sessions", "reasoning_tokens", "INTEGER DEFAULT 0"),
    (5, "sessions", "billing_provider", "TEXT"),
    (5, "sessions", "billing_base_url", "TEXT"),
    (5, "sessions", "billing_mode", "TEXT"),
    (5, "sessions", "estimated_cost_usd", "REAL"),
    (5, "sessions", "actual_cost_usd", "REAL"),
    (5, "sessions", "cost_status", "TEXT"),
    (5, "sessions", "cost_source", "TEXT"),
    (5, "sessions", "pricing_version", "TEXT"),
    (6, "messages", "reasoning", "TEXT"),
    (6, "messages", "reasoning_details", "TEXT"),
    (6, "messages", "codex_reasoning_items", "TEXT"),
)

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    user_id TEXT,
    model TEXT,
    model_config TEXT,
    system_prompt TEXT,
    parent_session_id TEXT,
    started_at REAL NOT NULL,
    ended_at REAL,
    end_reason TEXT,
    message_count INTEGER DEFAULT 0,
    tool_call_count INTEGER DEFAULT 0,
    input_tokens INTEGER DEFAULT 0,
    output_tokens INTEGER DEFAULT 0,
    cache_read_tokens INTEGER DEFAULT 0,
    cache_write_tokens INTEGER DEFAULT 0,
    reasoning_tokens INTEGER DEFAULT 0,
    billing_provider TEXT,
    billing_base_url TEXT,
    billing_mode TEXT,
    estimated_cost_usd REAL,
    actual_cost_usd REAL,
    cost_status TEXT,
    cost_source TEXT,
    pricing_version TEXT,
    title TEXT,
    FOREIGN KEY (parent_session_id) REFERENCES sessions(id)
);

CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    role TEXT NOT NULL,
    content TEXT,
    tool_call_id TEXT,
    tool_calls TEXT,
    tool_name TEXT,
    timestamp REAL NOT NULL,
    token_count INTEGER,
    finish_reason TEXT,
    reasoning TEXT,
    reasoning_details TEXT,
    codex_reasoning_items TEXT
);
"""

AGENT_INDEXES: dict[str, str] = {
    "idx_sessions_source": "CREATE INDEX IF NOT EXISTS idx_sessions_source ON sessions(source)",
    "idx_sessions_parent": "CREATE INDEX IF NOT EXISTS idx_sessions_parent ON sessions(parent_session_id)",
    "idx_sessions_started": "CREATE INDEX IF NOT EXISTS idx_sessions_started ON sessions(started_at DESC)",
    "idx_messages_session": "CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id, timestamp)",
}

TITLE_INDEX_SQL = (
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_sessions_title_unique "
    "ON sessions(title) WHERE title IS NOT NULL"
)

FTS_TABLE_SQL = """
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
    content,
    content=messages,
    content_rowid=id
)
"""

FTS_TRIGGERS: dict[str, str] = {
    "messages_fts_insert": """
CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END""",
    "messages_fts_delete": """
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES('delete', old.id, old.content);
END""",
    "messages_fts_update": """
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES('delete', old.id, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END""",
}

# ── The store's additions ────────────────────────────────────────────────────────────────────

# Index only a prefix of long tool output and tool arguments (index size), never reasoning.
INDEX_PREFIX_CHARS = 4000


def _trgm_content(row: str) -> str:
    return (
        f"CASE WHEN {row}.role = 'tool' THEN substr({row}.content, 1, {INDEX_PREFIX_CHARS}) "
        f"ELSE {row}.content END"
    )


def _trgm_tools(row: str) -> str:
    return (
        f"NULLIF(trim(coalesce({row}.tool_name, '') || ' ' || "
        f"coalesce(substr({row}.tool_calls, 1, {INDEX_PREFIX_CHARS}), '')), '')"
    )


# The trigram table indexes this view; the triggers below compute the same expressions, so an
# FTS5 'rebuild' or 'integrity-check' sees exactly what the triggers indexed.
TRGM_SOURCE_VIEW_SQL = f"""
CREATE VIEW IF NOT EXISTS messages_trgm_source AS
SELECT m.id AS id, {_trgm_content("m")} AS content, {_trgm_tools("m")} AS tools
FROM messages AS m
"""

TRGM_TABLE_SQL = """
CREATE VIRTUAL TABLE IF NOT EXISTS messages_trgm USING fts5(
    content,
    tools,
    content='messages_trgm_source',
    content_rowid='id',
    tokenize='trigram'
)
"""

# ``store_meta`` holds the trigram index's window: messages with trgm_low <= id < trgm_high are
# indexed. New rows (ids >= trgm_high) are indexed by the writer's idle maintenance, a chunk at a
# time, not by a trigger: a trigram insert trigger cost ~70% of every append, the agent's own
# appends included (triggers live in the file). Search scans rows outside the window with LIKE.
META_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS store_meta (
    key TEXT PRIMARY KEY,
    value
)
"""

# Revision of the store's own additions (not the agent's schema_version): 2 = windowed trigram.
STORE_REVISION = 2

_INDEXED = (
    "old.id >= coalesce((SELECT value FROM store_meta WHERE key = 'trgm_low'), 0) "
    "AND old.id < coalesce((SELECT value FROM store_meta WHERE key = 'trgm_high'), 0)"
)

TRGM_TRIGGERS: dict[str, str] = {
    "messages_trgm_delete": f"""
CREATE TRIGGER IF NOT EXISTS messages_trgm_delete AFTER DELETE ON messages WHEN {_INDEXED} BEGIN
    INSERT INTO messages_trgm(messages_trgm, rowid, content, tools)
    VALUES ('delete', old.id, {_trgm_content("old")}, {_trgm_tools("old")});
END""",
    "messages_trgm_update": f"""
CREATE TRIGGER IF NOT EXISTS messages_trgm_update
AFTER UPDATE OF content, role, tool_name, tool_calls ON messages WHEN {_INDEXED} BEGIN
    INSERT INTO messages_trgm(messages_trgm, rowid, content, tools)
    VALUES ('delete', old.id, {_trgm_content("old")}, {_trgm_tools("old")});
    INSERT INTO messages_trgm(rowid, content, tools)
    VALUES (new.id, {_trgm_content("new")}, {_trgm_tools("new")});
END""",
}
OBSOLETE_TRIGGERS = ("messages_trgm_insert",)


def _recomputed_last_active(session_ref: str) -> str:
    return (
        "max(started_at, coalesce((SELECT max(m.timestamp) FROM messages AS m "
        f"WHERE m.session_id = {session_ref}), started_at))"
    )


ACTIVITY_TRIGGERS: dict[str, str] = {
    "sessions_last_active_insert": """
CREATE TRIGGER IF NOT EXISTS sessions_last_active_insert AFTER INSERT ON sessions
WHEN new.last_active IS NULL BEGIN
    UPDATE sessions SET last_active = new.started_at WHERE id = new.id;
END""",
    "messages_last_active_insert": """
CREATE TRIGGER IF NOT EXISTS messages_last_active_insert AFTER INSERT ON messages BEGIN
    UPDATE sessions SET last_active = max(coalesce(last_active, started_at), new.timestamp)
    WHERE id = new.session_id;
END""",
    # Another program (an import, a clock fix) may rewrite timestamps: recompute from the rows.
    "messages_last_active_update": f"""
CREATE TRIGGER IF NOT EXISTS messages_last_active_update
AFTER UPDATE OF timestamp, session_id ON messages BEGIN
    UPDATE sessions SET last_active = {_recomputed_last_active("new.session_id")} WHERE id = new.session_id;
    UPDATE sessions SET last_active = {_recomputed_last_active("old.session_id")}
    WHERE id = old.session_id AND old.session_id IS NOT new.session_id;
END""",
    "sessions_last_active_update": f"""
CREATE TRIGGER IF NOT EXISTS sessions_last_active_update AFTER UPDATE OF started_at ON sessions BEGIN
    UPDATE sessions SET last_active = {_recomputed_last_active("new.id")} WHERE id = new.id;
END""",
}

STORE_INDEXES: dict[str, str] = {
    "idx_messages_session_id": "CREATE INDEX IF NOT EXISTS idx_messages_session_id ON messages(session_id, id)",
    "idx_sessions_last_active": (
        "CREATE INDEX IF NOT EXISTS idx_sessions_last_active ON sessions(last_active, id)"
    ),
    "idx_sessions_source_last_active": (
        "CREATE INDEX IF NOT EXISTS idx_sessions_source_last_active ON sessions(source, last_active, id)"
    ),
}

BACKFILL_LAST_ACTIVE_SQL = """
UPDATE sessions SET last_active = max(
    started_at,
    coalesce((SELECT max(m.timestamp) FROM messages AS m WHERE m.session_id = sessions.id), started_at)
)
WHERE last_active IS NULL
"""


# ── Inspection (reads only) ──────────────────────────────────────────────────────────────────


@dataclass
class SchemaState:
    """What the database holds now, read without writing anything."""

    version: int | None  # None: no schema_version table or no row
    tables: set[str] = field(default_factory=set)
    triggers: set[str] = field(default_factory=set)
    indexes: set[str] = field(default_factory=set)
    columns: dict[str, set[str]] = field(default_factory=dict)
    journal_mode: str = ""
    trgm_low: int | None = None  # trigram window [trgm_low, trgm_high) (None: table absent)
    trgm_high: int | None = None
    store_revision: int = 0
    max_message_id: int = 0

    @property
    def is_empty(self) -> bool:
        return "sessions" not in self.tables and "messages" not in self.tables

    @property
    def too_new(self) -> bool:
        return self.version is not None and self.version > SCHEMA_VERSION

    @property
    def has_fts(self) -> bool:
        return "messages_fts" in self.tables

    @property
    def has_trigram(self) -> bool:
        return "messages_trgm" in self.tables and self.trgm_low is not None and self.trgm_high is not None

    @property
    def trigram_complete(self) -> bool:
        return self.has_trigram and (self.trgm_low or 0) <= 1 and (self.trgm_high or 0) > self.max_message_id

    @property
    def has_last_active(self) -> bool:
        return "last_active" in self.columns.get("sessions", set())


def inspect(conn: sqlite3.Connection) -> SchemaState:
    """Read the schema objects and version. Never writes."""
    rows = conn.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
    state = SchemaState(version=None)
    for kind, name, _tbl in rows:
        if kind == "table":
            state.tables.add(name)
        elif kind == "trigger":
            state.triggers.add(name)
        elif kind == "index":
            state.indexes.add(name)
    for table in ("sessions", "messages"):
        if table in state.tables:
            state.columns[table] = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
    if "schema_version" in state.tables:
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        state.version = int(row[0]) if row and row[0] is not None else None
    if "store_meta" in state.tables:
        meta = dict(conn.execute(
            "SELECT key, value FROM store_meta WHERE key IN ('trgm_low', 'trgm_high', 'store_revision')"
        ).fetchall())
        state.trgm_low = int(meta["trgm_low"]) if meta.get("trgm_low") is not None else None
        state.trgm_high = int(meta["trgm_high"]) if meta.get("trgm_high") is not None else None
        state.store_revision = int(meta.get("store_revision") or 0)
    if "messages" in state.tables:
        row = conn.execute("SELECT max(id) FROM messages").fetchone()
        state.max_message_id = int(row[0] or 0)
    state.journal_mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    return state


def plan(state: SchemaState, *, trigram_supported: bool) -> list[str]:
    """The changes ``migrate`` would make, as short descriptions; empty means write nothing."""
    if state.too_new:
        return []
    todo: list[str] = []
    if state.journal_mode != "wal":
        todo.append("journal_mode=wal")
    if state.is_empty:
        return [*todo, "create schema"]
    if state.version is None or state.version < SCHEMA_VERSION:
        todo.append(f"schema version {state.version} -> {SCHEMA_VERSION}")
    for _v, table, column, _t in ADDED_COLUMNS:
        if column not in state.columns.get(table, set()):
            todo.append(f"add column {table}.{column}")
    if not state.has_last_active:
        todo.append("add column sessions.last_active")
    missing_idx = [n for n in (*AGENT_INDEXES, *STORE_INDEXES) if n not in state.indexes]
    todo += [f"create index {n}" for n in missing_idx]
    if not state.has_fts:
        todo.append("create messages_fts and index existing messages")
    todo += [f"create trigger {n}" for n in (*FTS_TRIGGERS, *ACTIVITY_TRIGGERS) if n not in state.triggers]
    if trigram_supported:
        if "messages_trgm" not in state.tables or state.trgm_low is None:
            todo.append("create messages_trgm")
        elif state.store_revision < STORE_REVISION or state.trgm_high is None:
            todo.append(f"store additions revision {state.store_revision} -> {STORE_REVISION}")
        todo += [f"create trigger {n}" for n in TRGM_TRIGGERS if n not in state.triggers]
        todo += [f"drop trigger {n}" for n in OBSOLETE_TRIGGERS if n in state.triggers]
    return todo


def compat_views(state: SchemaState) -> tuple[str, ...]:
    """TEMP views that give an old schema (opened read-only, so never migrated) the columns of
    version 6. A TEMP object shadows the main table of the same name for unqualified SQL, so
    every query of the store works unchanged; FTS5 reads ``main.messages`` directly."""
    views: list[str] = []
    for table in ("sessions", "messages"):
        have = state.columns.get(table)
        if not have:
            continue
        extra = [
            f'{"0" if "DEFAULT 0" in coltype else "NULL"} AS "{column}"'
            for _v, t, column, coltype in ADDED_COLUMNS
            if t == table and column not in have
        ]
        if extra:
            views.append(f"CREATE TEMP VIEW IF NOT EXISTS {table} AS SELECT *, {', '.join(extra)} FROM main.{table}")
    return tuple(views)


def trigram_supported(conn: sqlite3.Connection) -> bool:
    """FTS5's trigram tokenizer arrived in SQLite 3.34."""
    return sqlite3.sqlite_version_info >= (3, 34, 0)


# ── Migration (inside the caller's BEGIN IMMEDIATE) ──────────────────────────────────────────


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def _objects(conn: sqlite3.Connection, kind: str) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))}


def migrate(conn: sqlite3.Connection, *, trigram_supported: bool) -> list[str]:
    """Bring the database to schema 6 plus the store's additions. Returns what was done.

    Idempotent: every step checks before it acts, so a concurrent migration by another process
    (or an agent at an older version) is harmless. Runs in the caller's transaction; the
    version row is only ever raised.
    """
    done: list[str] = []
    tables = _objects(conn, "table")
    fresh = "sessions" not in tables and "messages" not in tables
    for stmt in _split(SCHEMA_SQL):
        conn.execute(stmt)
    if fresh:
        done.append("created schema")

    # Version row: insert if missing, raise if lower; never lower.
    row = conn.execute("SELECT count(*), max(version) FROM schema_version").fetchone()
    if row[0] == 0:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
    elif row[1] is None or row[1] < SCHEMA_VERSION:
        conn.execute(
            "UPDATE schema_version SET version = ? WHERE version IS NULL OR version < ?",
            (SCHEMA_VERSION, SCHEMA_VERSION),
        )
        done.append(f"schema version {row[1]} -> {SCHEMA_VERSION}")

    for _v, table, column, coltype in ADDED_COLUMNS:
        if column not in _columns(conn, table):
            conn.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {coltype}')
            done.append(f"added {table}.{column}")

    added_last_active = False
    if "last_active" not in _columns(conn, "sessions"):
        conn.execute("ALTER TABLE sessions ADD COLUMN last_active REAL")
        added_last_active = True
        done.append("added sessions.last_active")
    if added_last_active or not fresh:
        cur = conn.execute(BACKFILL_LAST_ACTIVE_SQL)
        if cur.rowcount:
            done.append(f"backfilled last_active for {cur.rowcount} sessions")

    indexes = _objects(conn, "index")
    for name, sql in (*AGENT_INDEXES.items(), *STORE_INDEXES.items()):
        if name not in indexes:
            conn.execute(sql)
            done.append(f"created index {name}")
    if "idx_sessions_title_unique" not in indexes:
        dupes = conn.execute(
            "SELECT title FROM sessions WHERE title IS NOT NULL GROUP BY title HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        if dupes is None:
            conn.execute(TITLE_INDEX_SQL)
            done.append("created unique title index")
        # else: an old database with duplicate titles keeps them; set_session_title still
        # refuses new duplicates in code. Renaming user data in a migration would be worse.

    tables = _objects(conn, "table")
    if "messages_fts" not in tables:
        conn.execute(FTS_TABLE_SQL)
        # Rows written before the FTS table existed must be indexed too.
        conn.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
        done.append("created messages_fts and indexed existing messages")
    triggers = _objects(conn, "trigger")
    for name, sql in (*FTS_TRIGGERS.items(), *ACTIVITY_TRIGGERS.items()):
        if name not in triggers:
            conn.execute(sql)
            done.append(f"created trigger {name}")

    if trigram_supported:
        done += _migrate_trigram(conn, tables)
    return done


def _meta(conn: sqlite3.Connection, key: str) -> int | None:
    row = conn.execute("SELECT value FROM store_meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row is not None and row[0] is not None else None


def _set_meta(conn: sqlite3.Connection, key: str, value: int) -> None:
    conn.execute("INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", (key, value))


def _migrate_trigram(conn: sqlite3.Connection, tables: set[str]) -> list[str]:
    """Create the windowed trigram index, or move an older revision (indexed by an insert
    trigger, so complete from trgm_low up) to the window."""
    done: list[str] = []
    conn.execute(META_TABLE_SQL)
    top = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
    if "messages_trgm" not in tables or _meta(conn, "trgm_low") is None:
        conn.execute("DROP TABLE IF EXISTS messages_trgm")
        conn.execute(TRGM_SOURCE_VIEW_SQL)
        conn.execute(TRGM_TABLE_SQL)
        # An empty window just above the newest row: maintenance grows it both ways.
        _set_meta(conn, "trgm_low", top + 1)
        _set_meta(conn, "trgm_high", top + 1)
        done.append("created messages_trgm")
    elif _meta(conn, "trgm_high") is None:
        _set_meta(conn, "trgm_high", top + 1)  # revision 1 indexed every row from trgm_low up
        done.append("trigram index: window up to the newest row")
    stale = (_meta(conn, "store_revision") or 0) < STORE_REVISION
    triggers = _objects(conn, "trigger")
    for name in OBSOLETE_TRIGGERS:
        if name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
            done.append(f"dropped trigger {name}")
    for name, sql in TRGM_TRIGGERS.items():
        if stale and name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        if stale or name not in triggers:
            conn.execute(sql)
            done.append(f"created trigger {name}")
    if stale:
        _set_meta(conn, "store_revision", STORE_REVISION)
    return done


def trigram_maintenance_step(
    conn: sqlite3.Connection, chunk: int = 500, budget_s: float = 0.05, sub_chunk: int = 50
) -> int:
    """Grow the trigram window, inside the caller's transaction, by up to ``chunk`` rows or
    until ``budget_s`` has passed (rows of long tool output cost ~20x a short message: time
    bounds how long the write lock is held, not the row count).

    New rows first (ids from trgm_high up to the newest), then old rows below trgm_low, newest
    first. Returns how many ids are still outside the window (0: complete). Interleaves safely
    with the agent's writes: the delete/update triggers act only on rows inside the window.
    """
    low, high = _meta(conn, "trgm_low"), _meta(conn, "trgm_high")
    if low is None or high is None:
        return 0
    smallest, top = conn.execute("SELECT min(id), max(id) FROM messages").fetchone()
    if top is None:
        return 0
    deadline = time.monotonic() + budget_s
    done = 0
    while done < chunk and time.monotonic() < deadline:
        step = min(sub_chunk, chunk - done)
        if high <= top:
            new_high = min(top + 1, high + step)
            conn.execute(_TRGM_FILL_SQL, (high, new_high))
            done += new_high - high
            high = new_high
            _set_meta(conn, "trgm_high", high)
        elif low > max(1, smallest):
            new_low = max(smallest, low - step)
            conn.execute(_TRGM_FILL_SQL, (new_low, low))
            done += low - new_low
            low = 1 if new_low <= smallest else new_low
            _set_meta(conn, "trgm_low", low)
        else:
            break
    pending_new = max(0, top + 1 - high)
    pending_old = max(0, low - max(1, smallest)) if low > 1 else 0
    return pending_new + pending_old


_TRGM_FILL_SQL = (
    "INSERT INTO messages_trgm(rowid, content, tools) "
    "SELECT id, content, tools FROM messages_trgm_source WHERE id >= ? AND id < ?"
)


def trigram_pending(conn: sqlite3.Connection, min_new: int = 1) -> bool:
    """Cheap check (two indexed reads, no transaction): are old rows below the window still to
    index (a migration's backfill), or at least ``min_new`` new rows above it?"""
    try:
        low, high = _meta(conn, "trgm_low"), _meta(conn, "trgm_high")
    except sqlite3.OperationalError:
        return False
    if low is None or high is None:
        return False
    smallest, top = conn.execute("SELECT min(id), max(id) FROM messages").fetchone()
    return top is not None and (top - high + 1 >= max(1, min_new) or low > max(1, smallest))


def _split(script: str) -> list[str]:
    """Split the DDL script on statement boundaries (it holds no triggers or string semicolons)."""
    return [s.strip() for s in script.split(";") if s.strip()]
