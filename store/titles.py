"""Session titles: sanitizing, uniqueness, and lineage ("my task", "my task #2", …)."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from .sqlutil import LIKE_ESCAPE_SQL, like_escape

MAX_TITLE_LENGTH = 100

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Zero-width characters, bidi overrides/isolates, line/paragraph separators, BOM, specials.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufffc\ufff9-\ufffb]")
_LINEAGE = re.compile(r"^(.*?) #(\d+)$")


def sanitize_title(title: str | None) -> str | None:
    """Clean a title: drop control and invisible characters, collapse whitespace.

    Returns None for an empty result. Raises ValueError when longer than MAX_TITLE_LENGTH.
    Lone surrogates (not encodable as UTF-8) are dropped too.
    """
    if not title:
        return None
    cleaned = title.encode("utf-8", "ignore").decode("utf-8") if _has_surrogates(title) else title
    cleaned = _CONTROL.sub("", cleaned)
    cleaned = _INVISIBLE.sub("", cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_TITLE_LENGTH:
        raise ValueError(f"Title too long ({len(cleaned)} chars, max {MAX_TITLE_LENGTH})")
    return cleaned


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def validate_new_title(title: str | None) -> str | None:
    """As ``sanitize_title``, but refuse text made only of invisible characters.

    Empty or whitespace-only input clears the title (None); text that had visible intent but
    sanitizes to nothing (zero-width characters, control codes) is an error, not a silent clear.
    """
    cleaned = sanitize_title(title)
    if cleaned is None and title and title.strip():
        raise ValueError("Title has only invisible or control characters")
    return cleaned


def set_title(conn: sqlite3.Connection, session_id: str, title: str | None) -> int:
    """Set (or clear, with None) a title inside the writer's transaction. Returns rowcount."""
    if title:
        conflict = conn.execute(
            "SELECT id FROM sessions WHERE title = ? AND id != ?", (title, session_id)
        ).fetchone()
        if conflict:
            raise ValueError(f"Title '{title}' is already in use by session {conflict[0]}")
    try:
        cur = conn.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, session_id))
    except sqlite3.IntegrityError as exc:  # another process took it between check and update
        raise ValueError(f"Title '{title}' is already in use by another session") from exc
    return cur.rowcount


def get_title(conn: sqlite3.Connection, session_id: str) -> str | None:
    row = conn.execute("SELECT title FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return row[0] if row else None


def get_by_title(conn: sqlite3.Connection, title: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM sessions WHERE title = ?", (title,)).fetchone()
    return dict(row) if row else None


def _numbered_variants(conn: sqlite3.Connection, base: str) -> list[sqlite3.Row]:
    rows = conn.execute(
        f"SELECT id, title, started_at FROM sessions WHERE title LIKE ? {LIKE_ESCAPE_SQL} "
        "ORDER BY started_at DESC, id DESC",
        (f"{like_escape(base)} #%",),
    ).fetchall()
    return [r for r in rows if (m := _LINEAGE.match(r["title"])) and m.group(1) == base]


def resolve_by_title(conn: sqlite3.Connection, title: str) -> str | None:
    """The latest numbered continuation of ``title`` if any, else the exact title's session."""
    numbered = _numbered_variants(conn, title)
    if numbered:
        return str(numbered[0]["id"])
    row = conn.execute("SELECT id FROM sessions WHERE title = ?", (title,)).fetchone()
    return str(row[0]) if row else None


def lineage_base(title: str) -> str:
    m = _LINEAGE.match(title)
    return m.group(1) if m else title


def next_in_lineage(conn: sqlite3.Connection, base_title: str) -> str:
    """"x" → "x" if free, else "x #N" with N one above the highest in use."""
    base = lineage_base(base_title)
    exact = conn.execute("SELECT 1 FROM sessions WHERE title = ?", (base,)).fetchone()
    numbered = _numbered_variants(conn, base)
    if not exact and not numbered:
        return base
    highest = max([1, *(int(_LINEAGE.match(r["title"]).group(2)) for r in numbered)])  # type: ignore[union-attr]
    return f"{base} #{highest + 1}"
