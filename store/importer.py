"""Import an export JSONL file (what ``SessionDB.export_jsonl`` writes) into an existing store.

One line per session: the session's columns plus ``messages``, a list of its messages in order.
The store is shared with a live agent, so an import of any size is never one long transaction:

* **Validated first.** The whole file is read once without writing: a line that is not JSON, a
  record without ``id``/``source``/``started_at``/``messages``, a field of the wrong type, a
  non-finite number, a message without ``role``/``timestamp`` raises ``ImportFileError`` naming
  the line, and nothing at all is written. Unknown keys (columns of a newer agent) are ignored.
* **Batches of whole sessions.** Then sessions are written in batches, each one short write
  operation through the writer (``batch_budget_s``, ~30 ms: a batch stops taking sessions once
  its time is spent, at least one session each). A session is all or nothing: it is inserted
  with all its messages in one savepoint, never split across transactions (a single huge session
  therefore holds the lock for as long as its own rows take).
* **Re-runnable.** A session whose id is already in the store is never written again: if it has
  the same ``source``, ``started_at`` and messages (role, content, timestamps, tool calls…) it is
  counted as ``skipped`` (a re-run after a crash, or an overlapping export); if its content
  differs it is a **conflict**: left exactly as it is, the imported record is dropped, and its id
  is reported. Titles, counters, end state and parent links are not compared (the store's copy
  may have been renamed, continued or ended since). A re-run after a kill therefore finishes the
  import without duplicating anything. A later line repeating an id of an earlier line is
  ignored (``duplicates``).
* **Titles stay unique.** A title is cleaned as ``titles.sanitize_title`` does (a title over the
  length limit is cut). When another session already holds it, the imported session keeps it
  with a lineage suffix (``"x"`` → ``"x #2"``, one above the highest number in use; reported in
  ``titles_renamed``); should that exceed the limit, the title is dropped.
* **Parent links never break the foreign key.** A session is inserted with its parent only if
  the parent is already in the store; otherwise with no parent, and the link is restored in the
  same transaction that imports the parent later in the file (also in a re-run). A parent found
  neither in the store nor in the file is left unlinked (``parents_unlinked``).
* **Untrusted text** is only ever a bound parameter; lone surrogates become U+FFFD
  (``sqlutil.clean_text``), as everywhere else in the store. Message ids of the file are not
  kept: messages get new ids in the store, in file order; timestamps are kept.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import titles
from .errors import StoreError
from .sqlutil import clean_text, loads_or_raw

Reader = Callable[[Callable[[sqlite3.Connection], Any]], Any]

DEFAULT_BATCH_SESSIONS = 200
DEFAULT_BATCH_MESSAGES = 2000
DEFAULT_BATCH_BUDGET_S = 0.03

SESSION_TEXT_FIELDS = (
    "user_id", "model", "system_prompt", "end_reason", "billing_provider", "billing_base_url",
    "billing_mode", "cost_status", "cost_source", "pricing_version",
)
SESSION_INT_FIELDS = (
    "message_count", "tool_call_count", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_tokens", "reasoning_tokens",
)
SESSION_REAL_FIELDS = ("ended_at", "estimated_cost_usd", "actual_cost_usd")
# Insert order of the session columns (``last_active`` is left to the store's triggers).
SESSION_COLUMNS = (
    "id", "source", "started_at", "model_config", "parent_session_id", "title",
    *SESSION_TEXT_FIELDS, *SESSION_INT_FIELDS, *SESSION_REAL_FIELDS,
)
MESSAGE_TEXT_FIELDS = ("content", "tool_call_id", "tool_name", "finish_reason", "reasoning")
MESSAGE_JSON_FIELDS = ("reasoning_details", "codex_reasoning_items")
MESSAGE_COLUMNS = (
    "role", "content", "tool_call_id", "tool_calls", "tool_name", "timestamp", "token_count",
    "finish_reason", "reasoning", "reasoning_details", "codex_reasoning_items",
)
_TOOL_CALLS = MESSAGE_COLUMNS.index("tool_calls")


class ImportFileError(StoreError, ValueError):
    """The file is not a valid export; ``line`` is 1-based (0: the file as a whole)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.detail = message


@dataclass
class ImportReport:
    """What an import did. ``conflicts``: ids already in the store with different content."""

    path: str
    sessions_in_file: int = 0
    imported: int = 0
    messages: int = 0
    skipped: int = 0
    conflicts: list[str] = field(default_factory=list)
    duplicates: int = 0
    titles_renamed: list[tuple[str, str, str | None]] = field(default_factory=list)  # (id, wanted, got)
    parents_unlinked: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "sessions_in_file": self.sessions_in_file, "imported": self.imported,
            "messages": self.messages, "skipped": self.skipped, "conflicts": list(self.conflicts),
            "duplicates": self.duplicates,
            "titles_renamed": [list(t) for t in self.titles_renamed],
            "parents_unlinked": self.parents_unlinked, "batches": self.batches,
        }


@dataclass
class _Session:
    line: int
    id: str
    values: dict[str, Any]
    messages: list[tuple[Any, ...]]


# ── parsing and validation ───────────────────────────────────────────────────────────────────


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any, where: str, line: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ImportFileError(line, f"{where} is missing")
        return None
    if not isinstance(value, str):
        raise ImportFileError(line, f"{where} must be text, not {type(value).__name__}")
    return clean_text(value)  # type: ignore[no-any-return]


def _int(value: Any, where: str, line: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ImportFileError(line, f"{where} must be a whole number, not {type(value).__name__}")
    if not -(2**63) <= value < 2**63:
        raise ImportFileError(line, f"{where} is out of range")
    return value


def _real(value: Any, where: str, line: int, *, required: bool = False) -> float | None:
    if value is None:
        if required:
            raise ImportFileError(line, f"{where} is missing")
        return None
    if not _is_number(value):
        what = "not finite" if isinstance(value, float) else f"not {type(value).__name__}"
        raise ImportFileError(line, f"{where} must be a number, {what}")
    return float(value)


def _json_text(value: Any, where: str, line: int) -> str | None:
    """A structured column: text is stored as it is, a list/object as JSON (None if empty)."""
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value)  # type: ignore[no-any-return]
    if isinstance(value, (list, dict)):
        return clean_text(json.dumps(value, ensure_ascii=False)) if value else None  # type: ignore[no-any-return]
    raise ImportFileError(line, f"{where} must be text, a list or an object, not {type(value).__name__}")


def _tool_calls(value: Any, where: str, line: int) -> str | None:
    """``tool_calls`` as the export decoded it: a list/object (stored as JSON), or a string. A
    string that is itself JSON was a JSON string (re-encode it); any other string was stored
    raw (keep it raw). Either way a re-export gives back the same value."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            json.loads(value)
        except (ValueError, RecursionError):
            return clean_text(value)  # type: ignore[no-any-return]
        return clean_text(json.dumps(value, ensure_ascii=False))  # type: ignore[no-any-return]
    if isinstance(value, (list, dict)):
        return clean_text(json.dumps(value, ensure_ascii=False)) if value else None  # type: ignore[no-any-return]
    if isinstance(value, (bool, int)) or _is_number(value):
        return json.dumps(value)
    raise ImportFileError(line, f"{where} must be a list, an object or text, not {type(value).__name__}")


def _message(raw: Any, index: int, session_id: str, line: int) -> tuple[Any, ...]:
    where = f"message {index + 1}"
    if not isinstance(raw, dict):
        raise ImportFileError(line, f"{where} is not an object")
    sid = raw.get("session_id")
    if sid is not None and clean_text(sid) != session_id:
        raise ImportFileError(line, f"{where} belongs to session {str(sid)[:60]!r}, not {session_id[:60]!r}")
    role = _text(raw.get("role"), f"{where}: role", line, required=True)
    if not role:
        raise ImportFileError(line, f"{where}: role is empty")
    values: dict[str, Any] = {
        "role": role,
        "timestamp": _real(raw.get("timestamp"), f"{where}: timestamp", line, required=True),
        "token_count": _int(raw.get("token_count"), f"{where}: token_count", line),
        "tool_calls": _tool_calls(raw.get("tool_calls"), f"{where}: tool_calls", line),
    }
    for name in MESSAGE_TEXT_FIELDS:
        values[name] = _text(raw.get(name), f"{where}: {name}", line)
    for name in MESSAGE_JSON_FIELDS:
        values[name] = _json_text(raw.get(name), f"{where}: {name}", line)
    return tuple(values[c] for c in MESSAGE_COLUMNS)


def _title(raw: Any, line: int) -> str | None:
    text = _text(raw, "title", line)
    if text is None:
        return None
    try:
        return titles.sanitize_title(text)
    except ValueError:  # over the limit: cut (cleaning only ever shortens)
        return titles.sanitize_title(text[: titles.MAX_TITLE_LENGTH])


def parse_record(obj: Any, line: int) -> _Session:
    """One export line, validated and converted to the values the store will hold."""
    if not isinstance(obj, dict):
        raise ImportFileError(line, f"expected a session object, found {type(obj).__name__} (not an export?)")
    for key in ("id", "source", "started_at", "messages"):
        if key not in obj:
            raise ImportFileError(line, f"missing {key!r} (not a hermes-browse export?)")
    sid = _text(obj["id"], "id", line, required=True)
    if not sid:
        raise ImportFileError(line, "id is empty")
    values: dict[str, Any] = {
        "id": sid,
        "source": _text(obj["source"], "source", line, required=True),
        "started_at": _real(obj["started_at"], "started_at", line, required=True),
        "model_config": _json_text(obj.get("model_config"), "model_config", line),
        "parent_session_id": _text(obj.get("parent_session_id"), "parent_session_id", line) or None,
        "title": _title(obj.get("title"), line),
    }
    for name in SESSION_TEXT_FIELDS:
        values[name] = _text(obj.get(name), name, line)
    for name in SESSION_INT_FIELDS:
        values[name] = _int(obj.get(name), name, line) or 0
    for name in SESSION_REAL_FIELDS:
        values[name] = _real(obj.get(name), name, line)
    if values["parent_session_id"] == sid:
        values["parent_session_id"] = None  # a session cannot continue itself
    msgs = obj["messages"]
    if not isinstance(msgs, list):
        raise ImportFileError(line, f"'messages' must be a list, not {type(msgs).__name__}")
    return _Session(line, sid, values, [_message(m, i, sid, line) for i, m in enumerate(msgs)])


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based numbers; bytes that are not UTF-8 are an error."""
    with open(path, encoding="utf-8", newline="\n") as fh:
        number = 0
        while True:
            try:
                text = fh.readline()
            except UnicodeDecodeError as exc:
                raise ImportFileError(number + 1, f"not UTF-8 text ({exc.reason})") from None
            if not text:
                return
            number += 1
            if text.strip():
                yield number, text


def iter_records(path: Path) -> Iterator[_Session]:
    for number, text in _lines(path):
        try:
            obj = json.loads(text)
        except RecursionError:
            raise ImportFileError(number, "JSON nested too deeply") from None
        except ValueError as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise ImportFileError(number, f"not JSON ({msg})") from None
        yield parse_record(obj, number)


# ── writing ──────────────────────────────────────────────────────────────────────────────────


def _compare_key(messages: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Messages as the export shows them (tool calls decoded), for an equality test that does
    not depend on how JSON was spelled (``ensure_ascii``, spacing)."""
    return [(*m[:_TOOL_CALLS], loads_or_raw(m[_TOOL_CALLS]), *m[_TOOL_CALLS + 1 :]) for m in messages]


def _stored(conn: sqlite3.Connection, session: _Session) -> str | None:
    """'same' or 'conflict' if the id is in the store, else None. Reads only."""
    row = conn.execute("SELECT source, started_at FROM sessions WHERE id = ?", (session.id,)).fetchone()
    if row is None:
        return None
    if row[0] != session.values["source"] or row[1] != session.values["started_at"]:
        return "conflict"
    rows = conn.execute(
        f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM messages WHERE session_id = ? ORDER BY id", (session.id,)
    ).fetchall()
    have = [tuple(r) for r in rows]
    return "same" if _compare_key(have) == _compare_key(session.messages) else "conflict"


@dataclass
class _Outcome:
    status: str  # "imported" or "present" (appeared since it was classified)
    title: str | None = None
    unlinked: bool = False


def _insert_messages(conn: sqlite3.Connection, s: _Session) -> None:
    conn.executemany(
        f"INSERT INTO messages (session_id, {', '.join(MESSAGE_COLUMNS)}) "
        f"VALUES (?, {', '.join('?' for _ in MESSAGE_COLUMNS)})",
        [(s.id, *m) for m in s.messages],
    )


def _insert_session(
    conn: sqlite3.Connection,
    s: _Session,
    columns: list[str],
    linkable: Callable[[str], bool],
    children: dict[str, list[str]],
) -> _Outcome:
    values = dict(s.values)
    title = values["title"]
    if title and conn.execute("SELECT 1 FROM sessions WHERE title = ?", (title,)).fetchone():
        title = titles.next_in_lineage(conn, title)
        if len(title) > titles.MAX_TITLE_LENGTH:
            title = None
        values["title"] = title
    parent = values["parent_session_id"]
    unlinked = False
    if parent and conn.execute("SELECT 1 FROM sessions WHERE id = ?", (parent,)).fetchone() is None:
        values["parent_session_id"] = None
        unlinked = True  # restored when the parent is imported (see the caller)
    conn.execute(
        f"INSERT INTO sessions ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [values[c] for c in columns],
    )
    _insert_messages(conn, s)
    for child in children.get(s.id, ()):
        if linkable(child):
            conn.execute(
                "UPDATE sessions SET parent_session_id = ? WHERE id = ? AND parent_session_id IS NULL",
                (s.id, child),
            )
    return _Outcome("imported", title, unlinked)


def _write_batch(
    conn: sqlite3.Connection,
    batch: list[_Session],
    columns: list[str],
    statuses: dict[str, str],
    children: dict[str, list[str]],
    budget_s: float,
) -> list[_Outcome]:
    """Insert sessions of ``batch`` in order until ``budget_s`` is spent (at least one). Runs in
    the writer's transaction; returns one outcome per session taken."""
    deadline = time.monotonic() + budget_s
    out: list[_Outcome] = []
    here: set[str] = set()

    def linkable(child: str) -> bool:
        return child in here or statuses.get(child) in ("imported", "same")

    for s in batch:
        if out and time.monotonic() >= deadline:
            break
        if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (s.id,)).fetchone() is not None:
            out.append(_Outcome("present"))
            continue
        conn.execute("SAVEPOINT hermes_import_session")
        try:
            outcome = _insert_session(conn, s, columns, linkable, children)
        except BaseException:
            conn.execute("ROLLBACK TO hermes_import_session")
            conn.execute("RELEASE hermes_import_session")
            raise
        conn.execute("RELEASE hermes_import_session")
        here.add(s.id)
        out.append(outcome)
    return out


def import_jsonl(
    path: Path | str,
    *,
    read: Reader,
    write: Reader,
    batch_sessions: int = DEFAULT_BATCH_SESSIONS,
    batch_messages: int = DEFAULT_BATCH_MESSAGES,
    batch_budget_s: float = DEFAULT_BATCH_BUDGET_S,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``path`` through the store's ``read``/``write`` callables (see the module docstring).

    Raises ``ImportFileError`` (nothing written) for an invalid file, ``OSError`` if it cannot
    be read; a store error during the writing phase leaves every committed batch in place (run
    the import again to finish it).
    """
    path = Path(path)
    if path.is_dir():
        raise ImportFileError(0, f"{path} is a directory, not an export file")
    report = ImportReport(str(path))

    # Pass 1: validate everything, learn the ids, their lines and the parent links. Writes nothing.
    first_line: dict[str, int] = {}
    children: dict[str, list[str]] = {}
    for s in iter_records(path):
        if s.id in first_line:
            continue
        first_line[s.id] = s.line
        parent = s.values["parent_session_id"]
        if parent:
            children.setdefault(parent, []).append(s.id)
    report.sessions_in_file = len(first_line)
    columns = [c for c in SESSION_COLUMNS if c in read(_session_columns)]
    statuses: dict[str, str] = {}  # id -> imported | same | conflict
    done = 0

    def settle(s: _Session, status: str) -> None:
        nonlocal done
        statuses[s.id] = status
        if status == "same":
            report.skipped += 1
        elif status == "conflict":
            report.conflicts.append(s.id)
        done += 1

    def flush(batch: list[_Session]) -> None:
        nonlocal done
        # Classify with reads first (outside the write lock): what is already in the store?
        fresh: list[_Session] = []
        known = read(lambda c: [_stored(c, s) for s in batch])
        for s, status in zip(batch, known, strict=True):
            if status is None:
                fresh.append(s)
            else:
                settle(s, status)
        while fresh:
            outcomes = write(
                lambda c, todo=fresh: _write_batch(c, todo, columns, statuses, children, batch_budget_s)
            )
            report.batches += 1
            taken, fresh = fresh[: len(outcomes)], fresh[len(outcomes) :]
            for s, o in zip(taken, outcomes, strict=True):
                if o.status == "present":  # someone else wrote this id in the meantime
                    settle(s, read(lambda c, s=s: _stored(c, s)) or "conflict")
                    continue
                settle(s, "imported")
                report.imported += 1
                report.messages += len(s.messages)
                if o.title != s.values["title"]:
                    report.titles_renamed.append((s.id, s.values["title"], o.title))
                if o.unlinked and s.values["parent_session_id"] not in first_line:
                    report.parents_unlinked += 1
            if progress is not None:
                progress(done, report.sessions_in_file)
        if progress is not None:
            progress(done, report.sessions_in_file)

    # Pass 2: write, batch by batch, whole sessions only.
    batch: list[_Session] = []
    n_messages = 0
    for s in iter_records(path):
        if first_line.get(s.id) != s.line:
            report.duplicates += 1
            continue
        batch.append(s)
        n_messages += len(s.messages)
        if len(batch) >= batch_sessions or n_messages >= batch_messages:
            flush(batch)
            batch, n_messages = [], 0
    if batch:
        flush(batch)
    return report


def _session_columns(conn: sqlite3.Connection) -> set[str]:
    return {r[1] for r in conn.execute("PRAGMA table_info(sessions)")}
