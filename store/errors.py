"""The store's exceptions: each one says what happened and what was kept.

They subclass the ``sqlite3`` classes callers of the reference design already catch
(``sqlite3.OperationalError`` for lock and disk trouble), so code written against the
reference keeps working, while new code can catch ``StoreError`` for all of them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class StoreClosedError(StoreError, RuntimeError):
    """A call was made after ``SessionDB.close()``."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(f"session store for {path} is closed")


class NotADatabaseError(StoreError):
    """The file exists but is not an SQLite database. It was left untouched."""

    def __init__(self, path: Path | str, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{path} is not an SQLite database{extra}; it was left unchanged")
        self.path = Path(path)


class DatabaseMissingError(StoreError, FileNotFoundError):
    """Read-only open of a file that does not exist (browsing never creates one)."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(f"no database at {path}")
        self.path = Path(path)


class ReadOnlyError(StoreError):
    """A write was attempted on a store opened read-only."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the session store is read-only: {reason}")
        self.reason = reason


class DatabaseLockedError(StoreError, sqlite3.OperationalError):
    """Another process held the write lock for longer than the write time budget."""

    def __init__(self, waited_s: float, budget_s: float) -> None:
        super().__init__(
            f"database is locked: another process held the write lock for {waited_s:.1f} s "
            f"(time budget {budget_s:.1f} s); nothing was written"
        )
        self.waited_s = waited_s
        self.budget_s = budget_s


class DiskFullError(StoreError, sqlite3.OperationalError):
    """SQLite ran out of space (disk full, quota, or max_page_count). Nothing was written."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(
            f"database or disk is full while writing {path}; the write was rolled back, "
            "earlier data is intact"
        )


class CorruptDatabaseError(StoreError, sqlite3.DatabaseError):
    """SQLite found damage (a truncated file, a corrupt page or index). Nothing was changed."""

    def __init__(self, path: Path | str, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"{path} is damaged{extra}; it was left unchanged: check it with 'hermes-browse doctor'"
        )
        self.path = Path(path)


class SchemaTooNewError(StoreError):
    """Raised only for writes: a newer schema opens read-only (see ``SessionDB.read_only``)."""


def translate(exc: BaseException, path: Path | str) -> BaseException:
    """Map a raw sqlite3 error onto the store's clearer exception, or return it unchanged."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, sqlite3.Error):
        msg = str(exc).lower()
        if "disk is full" in msg or "database or disk is full" in msg or getattr(
            exc, "sqlite_errorcode", None
        ) == sqlite3.SQLITE_FULL:
            return DiskFullError(path)
        if "file is not a database" in msg or "file is encrypted" in msg:
            return NotADatabaseError(path, str(exc))
        if (
            "malformed" in msg or "corrupt" in msg
            or getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_CORRUPT
            or str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_CORRUPT")
            or getattr(exc, "sqlite_errorname", "") == "SQLITE_IOERR_SHORT_READ"
        ):
            return CorruptDatabaseError(path, str(exc))
        if "readonly" in msg or "read-only" in msg:
            return ReadOnlyError(f"SQLite refused to write {path}: {exc}")
    return exc
