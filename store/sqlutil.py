"""Small helpers shared by the store's SQL modules."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

# SQLite caps bound variables (32,766 since 3.32; older builds 999): chunk long id lists.
MAX_VARIABLES = 500

# The escape character for LIKE patterns. In SQL text this is ONE backslash: ESCAPE '\'.
LIKE_ESCAPE_SQL = "ESCAPE '\\'"


_SURROGATES = re.compile(r"[\ud800-\udfff]")


def clean_text(value: Any) -> Any:
    """Text SQLite can store: lone surrogates (which models do emit, and UTF-8 cannot encode)
    become U+FFFD instead of failing the whole write. Non-strings pass through."""
    if isinstance(value, str) and not value.isascii() and _SURROGATES.search(value):
        return _SURROGATES.sub("\ufffd", value)
    return value


def decode_text(raw: bytes) -> str:
    """The connections' text factory: invalid UTF-8 written by another program is shown with
    U+FFFD instead of making the whole read fail."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


# What ``json.dumps(..., ensure_ascii=False)`` leaves raw that a terminal or an editor may act on:
# DEL, C1 controls (\x9b is an 8-bit CSI), bidi controls, line/paragraph separators, and lone
# surrogates (which UTF-8 cannot even encode). They can only occur inside JSON strings.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def json_escape_unsafe(text: str) -> str:
    """JSON text with those characters written as ``\\u`` escapes (four hex digits): still valid JSON, equal
    once parsed, and safe to ``cat`` or to write as UTF-8."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def like_escape(text: str) -> str:
    """Make ``%``, ``_`` and ``\\`` in user text literal inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" for _ in values)


def chunks(values: Sequence[Any], size: int = MAX_VARIABLES) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def dumps_or_none(value: Any) -> str | None:
    """JSON for a structured field; None for None or empty containers (as the reference)."""
    if value is None:
        return None
    if isinstance(value, (list, dict, tuple, str)) and not value:
        return None
    return clean_text(json.dumps(value, ensure_ascii=False))


def loads_or_raw(value: Any) -> Any:
    """Decode a JSON column; text written by another program that is not JSON passes through."""
    if not value or not isinstance(value, (str, bytes)):
        return value
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError, ValueError, RecursionError):
        return value


def row_dicts(rows: Iterable[sqlite3.Row]) -> list[dict[str, Any]]:
    return [dict(r) for r in rows]
