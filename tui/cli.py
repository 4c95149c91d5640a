"""``hermes-browse``: explore the agent's session history in the terminal.

Cheap checks (the file exists, is readable, is SQLite) run before the app starts, so a wrong path
costs one line on stderr and exit code 2. Everything else (opening, migrating, a newer schema)
happens inside the app, which shows an error screen instead of a traceback.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from store import DatabaseMissingError, StoreError, default_db_path
from store.connections import check_sqlite_file
from tui import __version__

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hermes-browse",
        description="Explore a Hermes agent's session history: sessions, messages, tool calls, search.",
        epilog="Keys: / search · enter open · tab switch pane · s source · t filter · ctrl+p commands · q quit",
    )
    parser.add_argument(
        "--db", metavar="PATH", help="the session database (default: $HERMES_HOME/state.db, ~/.hermes/state.db)"
    )
    parser.add_argument("--read-only", action="store_true", help="never write to the database (no migrations)")
    parser.add_argument(
        "--demo", action="store_true", help="explore generated demo data (a temporary database, removed on exit)"
    )
    parser.add_argument("--version", action="version", version=f"hermes-browse {__version__}")
    return parser


def precheck(path: Path) -> str | None:
    """Why ``path`` cannot be browsed, in one line, or None. Reads 16 bytes at most; creates nothing."""
    try:
        if not path.exists():
            return str(DatabaseMissingError(path))
        if path.is_dir():
            return f"{path} is a directory, not a database"
        if not os.access(path, os.R_OK):
            return f"cannot read {path}: permission denied"
        if path.stat().st_size == 0:
            return f"{path} is empty: it holds no Hermes sessions"
        check_sqlite_file(path)
    except StoreError as exc:
        return str(exc)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    demo_dir: Path | None = None
    if args.demo:
        demo_dir = Path(tempfile.mkdtemp(prefix="hermes-browse-demo-"))
        path = demo_dir / "state.db"
    else:
        path = Path(args.db).expanduser() if args.db else default_db_path()
        problem = precheck(path)
        if problem:
            print(f"hermes-browse: {problem}", file=sys.stderr)
            return EXIT_USAGE

    from tui.app import HermesBrowseApp  # Textual loads only once the path is known to be usable
    from tui.screens.error import error_line

    app = HermesBrowseApp(path, read_only=args.read_only, demo=args.demo, watch_changes=True)
    try:
        app.run()
    except KeyboardInterrupt:
        return 130
    finally:
        app.close_store()
        if demo_dir is not None:
            shutil.rmtree(demo_dir, ignore_errors=True)
    if app.open_error is not None:
        print(f"hermes-browse: {error_line(app.open_error)}", file=sys.stderr)
        return EXIT_USAGE
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
