"""Where the agent keeps its history: ``$HERMES_HOME/state.db`` (default ``~/.hermes``)."""

from __future__ import annotations

import os
from pathlib import Path


def get_hermes_home() -> Path:
    """The agent's home folder: ``$HERMES_HOME``, else ``~/.hermes``."""
    env = os.environ.get("HERMES_HOME")
    return Path(env).expanduser() if env else Path.home() / ".hermes"


def default_db_path() -> Path:
    """The agent's session database, read from the environment at call time."""
    return get_hermes_home() / "state.db"


DEFAULT_DB_PATH = default_db_path()
