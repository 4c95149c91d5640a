"""hermes-browse's session store: the agent's ``state.db`` (SQLite, WAL, FTS5), safely shared.

``from store import SessionDB`` gives the reference design's API; see ``store/db.py``.
"""

from .db import SessionDB
from .errors import (
    CorruptDatabaseError,
    DatabaseLockedError,
    DatabaseMissingError,
    DiskFullError,
    NotADatabaseError,
    ReadOnlyError,
    StoreClosedError,
    StoreError,
)
from .importer import ImportFileError, ImportReport
from .listing import PageCursor
from .paths import DEFAULT_DB_PATH, default_db_path, get_hermes_home
from .schema import SCHEMA_VERSION
from .search import SearchPage

__all__ = [
    "DEFAULT_DB_PATH",
    "SCHEMA_VERSION",
    "CorruptDatabaseError",
    "DatabaseLockedError",
    "DatabaseMissingError",
    "DiskFullError",
    "ImportFileError",
    "ImportReport",
    "NotADatabaseError",
    "PageCursor",
    "ReadOnlyError",
    "SearchPage",
    "SessionDB",
    "StoreClosedError",
    "StoreError",
    "default_db_path",
    "get_hermes_home",
]
