"""``hermes-browse``: explore the agent's session history in the terminal.

With no subcommand it launches the app. Subcommands for scripts (``search``, ``export``,
``prune``, ``stats``; see ``tui/cli_commands.py``) print to stdout and exit 0 (ok), 1 (nothing
found) or 2 (usage or database error, one line on stderr). ``--db`` and ``--read-only`` are
accepted before or after the subcommand name.

Cheap checks (the file exists, is readable, is SQLite) run before the app starts, so a wrong path
costs one line on stderr and exit code 2. Everything else (opening, migrating, a newer schema)
happens inside the app, which shows an error screen instead of a traceback.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from store import DatabaseMissingError, StoreError, default_db_path
from store.connections import check_sqlite_file
from tui import __version__

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line on stderr (argparse prints the whole usage block first), exit 2.
    Subcommand parsers are made of this class too (``add_subparsers`` uses the parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def add_global_options(parser: argparse.ArgumentParser, *, in_subcommand: bool = False) -> None:
    """``--db`` and ``--read-only``. A subcommand's copies default to SUPPRESS, so an option given
    before the subcommand name is not overwritten by the subcommand's default."""
    parser.add_argument(
        "--db", metavar="PATH", default=argparse.SUPPRESS if in_subcommand else None,
        help="the session database (default: $HERMES_HOME/state.db, ~/.hermes/state.db)",
    )
    parser.add_argument(
        "--read-only", action="store_true", default=argparse.SUPPRESS if in_subcommand else False,
        help="never write to the database (no migrations)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="hermes-browse",
        description="Explore a Hermes agent's session history: sessions, messages, tool calls, search.",
        epilog="Keys: / search · enter open · tab switch pane · s source · t filter · ctrl+p commands · q quit. "
        "Without a command, the app starts. Exit codes: 0 ok, 1 nothing found, 2 usage or database error.",
    )
    add_global_options(parser)
    parser.add_argument(
        "--demo", action="store_true", help="explore generated demo data (a temporary database, removed on exit)"
    )
    parser.add_argument("--version", action="version", version=f"hermes-browse {__version__}")
    from tui.cli_commands import add_subcommands

    add_subcommands(parser, add_global_options)
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None):
        if args.demo:
            parser.error("--demo only launches the app; give --db PATH to a subcommand")
        path = Path(args.db).expanduser() if args.db else default_db_path()
        problem = precheck(path)
        if problem:
            print(f"hermes-browse: {problem}", file=sys.stderr)
            return EXIT_USAGE
        from tui.cli_commands import run_command

        return run_command(args, path)

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
    if demo_dir is not None and hasattr(signal, "SIGHUP"):
        # The terminal went away (window closed, tmux killed): still remove the demo folder below.
        signal.signal(signal.SIGHUP, _exit_on_hangup)
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


def _exit_on_hangup(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    raise SystemExit(main())
