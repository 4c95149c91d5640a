"""The scriptable subcommands of ``hermes-browse``: ``search``, ``export``, ``prune``, ``stats``.

Everything goes through ``tui.data.Browser`` (no SQL here, no Textual imports: these start fast).
Exit codes: 0 ok, 1 nothing found (no hits, unknown session, nothing to prune, an empty
history for stats), 2 usage or
database error, with one line on stderr and never a traceback. Text written by a model or a user
passes through ``tui.text.safe``/``one_line`` before it reaches a terminal; JSON output is escaped
(C1 controls and bidi overrides too, which ``ensure_ascii=False`` would let through).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from store import StoreError
from tui.data import EXPORT_FORMATS, HIT_END, HIT_START, Browser, parse_age, system_clock
from tui.text import absolute_time, human_count, money, one_line, relative_time

EXIT_OK, EXIT_NOTHING, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141
CLI_SEARCH_BUDGET_S = 10.0  # the store's live budget is 25-35 ms; here nobody is typing
PROG = "hermes-browse"

# Characters JSON leaves raw with ensure_ascii=False that a terminal may still act on: DEL, C1
# controls (\x9b is an 8-bit CSI), bidi overrides, line/paragraph separators. They only occur
# inside JSON strings, so escaping them (backslash-u plus four hex digits) keeps the document valid and equal.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class CommandError(Exception):
    """A refusal with one clear line; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


# ── the parser ───────────────────────────────────────────────────────────────────────────────


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than zero")
    return value


def _age(text: str) -> float:
    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_subcommands(
    parser: argparse.ArgumentParser, add_global_options: Callable[..., None]
) -> None:
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands (for scripts)")

    p = sub.add_parser("search", help="full-text search of every message", description=(
        "Search every message. Exit 0 with hits, 1 with none, 2 on error."))
    p.add_argument("query", metavar="QUERY", help="words or \"a phrase\" (use -- before a query starting with -)")
    p.add_argument("--json", action="store_true", help="print a JSON array of hits")
    p.add_argument("--limit", type=_positive_int, default=20, metavar="N", help="at most N hits (default 20)")
    p.add_argument("--source", metavar="S", help="only sessions from this source (cli, telegram…)")
    add_global_options(p, in_subcommand=True)

    p = sub.add_parser("export", help="export sessions as JSONL or Markdown", description=(
        "Export sessions with their messages. Writes to stdout unless -o PATH is given; a file is "
        "written atomically and privately (0600)."))
    which = p.add_mutually_exclusive_group()
    which.add_argument("--session", metavar="ID", action="append",
                       help="a session id or a unique prefix of one (repeat for several)")
    which.add_argument("--all", action="store_true", help="every session")
    p.add_argument("--source", metavar="S", help="every session from this source")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="jsonl", help="jsonl (default) or md")
    p.add_argument("-o", "--output", metavar="PATH", default="-", help="a file, or - for stdout (default)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    add_global_options(p, in_subcommand=True)

    p = sub.add_parser("prune", help="delete ended sessions idle for longer than an age", description=(
        "Delete ended sessions whose last activity is older than AGE, with their messages. Active "
        "sessions are never pruned. Shows what would go first; asks unless --yes."))
    p.add_argument("--older-than", type=_age, required=True, metavar="AGE",
                   help="days (90), or 45m, 5h, 30d, 2w")
    p.add_argument("--source", metavar="S", help="only sessions from this source")
    p.add_argument("--dry-run", action="store_true", help="only show what would be deleted")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    add_global_options(p, in_subcommand=True)

    p = sub.add_parser("stats", help="usage totals, top models and sources, largest sessions")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--days", type=_positive_int, default=30, metavar="N", help="the last N days (default 30)")
    add_global_options(p, in_subcommand=True)

    p = sub.add_parser("import", help="import sessions from a JSONL export", description=(
        "Import the sessions of a JSONL export (hermes-browse export --format jsonl) into the database, "
        "in short batches of whole sessions. Ids already present are skipped (a different content is "
        "reported as a conflict and left alone), so running it again after an interruption finishes it."))
    p.add_argument("file", metavar="FILE", help="the JSONL file to import")
    add_global_options(p, in_subcommand=True)

    from tui.cli_doctor import add_doctor_parser

    add_doctor_parser(sub, add_global_options)


# ── running ──────────────────────────────────────────────────────────────────────────────────


def _err(line: str) -> None:
    print(f"{PROG}: {one_line(line)}", file=sys.stderr, flush=True)


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, StoreError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, sqlite3.Error) and not isinstance(exc, StoreError):
        return f"database error: {text}"
    return text


def _human_stdout() -> None:
    """Never fail on an unencodable character in human output."""
    try:
        sys.stdout.reconfigure(errors="replace")  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        pass


def run_command(args: argparse.Namespace, path: Path) -> int:
    commands: dict[str, Callable[[argparse.Namespace, Path], int]] = {
        "search": cmd_search, "export": cmd_export, "prune": cmd_prune, "stats": cmd_stats,
    }
    commands["import"] = cmd_import
    from tui.cli_doctor import cmd_doctor

    commands["doctor"] = cmd_doctor
    try:
        return commands[args.command](args, path)
    except CommandError as exc:
        _err(str(exc))
        return exc.code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and keep Python from complaining at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_BROKEN_PIPE
    except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
        _err(_error_line(exc))
        return EXIT_USAGE


def _open(path: Path, read_only: bool) -> Browser:
    return Browser.open_existing(path, read_only=read_only)


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _dump_json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(float(ts), UTC).isoformat().replace("+00:00", "Z")


# ── search ───────────────────────────────────────────────────────────────────────────────────


def _marked(snippet: str, start: str, end: str) -> str:
    """The snippet on one line, safe, with the store's \\x02…\\x03 match markers replaced."""
    out: list[str] = []
    for part in re.split(f"([{HIT_START}{HIT_END}])", snippet):
        if part == HIT_START:
            out.append(start)
        elif part == HIT_END:
            out.append(end)
        elif part:
            text = one_line(part)  # collapses whitespace: keep a space next to a marker
            if part[:1].isspace() and out:
                text = " " + text
            if part[-1:].isspace():
                text += " "
            out.append(text)
    return "".join(out).strip()


def cmd_search(args: argparse.Namespace, path: Path) -> int:
    browser = _open(path, read_only=True)  # searching never writes
    try:
        # Not live typing: a script or a person waiting for an answer gets the thorough search at once.
        result = browser.search(args.query, source=args.source, limit=args.limit, prefix=False,
                                budget_s=CLI_SEARCH_BUDGET_S)
    finally:
        browser.close()
    if result.error:
        raise CommandError(result.error)
    cut = "" if result.complete else f"searched for {CLI_SEARCH_BUDGET_S:g} s: older messages may hold more matches"
    if args.json:
        hits = [
            {
                "id": h.message_id, "session_id": h.session_id, "title": h.session_title, "source": h.source,
                "role": h.role, "timestamp": _iso(h.timestamp), "epoch": h.timestamp,
                "snippet": _marked(h.snippet, ">>>", "<<<"), "tool_name": h.tool_name,
            }
            for h in result.hits
        ]
        print(_dump_json(hits))
    else:
        _human_stdout()
        tty = _is_tty(sys.stdout) and not os.environ.get("NO_COLOR")
        start, end = ("\x1b[1m", "\x1b[22m") if tty else (">>>", "<<<")
        now = system_clock()
        for h in result.hits:
            label = one_line(h.session_title, 60) if h.session_title else one_line(h.session_id)
            role = one_line(h.role) + (f" ({one_line(h.tool_name, 40)})" if h.tool_name else "")
            print(f"{label} · {one_line(h.source)} · {role} · {relative_time(h.timestamp, now)}")
            print(f"  {_marked(h.snippet, start, end)}")
            print(f"  session {one_line(h.session_id)}")
            print()
    if not result.hits:
        where = f" in source {args.source!r}" if args.source else ""
        extra = f" ({result.hidden_by_filter} in other sources)" if result.hidden_by_filter else ""
        _err(f"no messages match {args.query!r}{where}{extra}" + (f"; {cut}" if cut else ""))
        return EXIT_NOTHING
    if cut:
        sys.stdout.flush()
        _err(cut)
    return EXIT_OK


# ── export ───────────────────────────────────────────────────────────────────────────────────


class _SafeJsonWriter:
    """Wraps stdout when it is a terminal: escapes what a terminal could act on (valid JSON)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text))

    def flush(self) -> None:
        self.out.flush()


def _progress_printer() -> Callable[[int, int | None], None] | None:
    if not _is_tty(sys.stderr):
        return None
    last = [0.0]

    def progress(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last[0] < 0.1 and done != total:
            return
        last[0] = now
        of = f"/{total}" if total else ""
        sys.stderr.write(f"\rexported {done}{of} sessions")
        sys.stderr.flush()

    return progress


def cmd_export(args: argparse.Namespace, path: Path) -> int:
    if not (args.session or args.all or args.source):
        raise CommandError("say what to export: --session ID, --all or --source S")
    if args.session and args.source:
        raise CommandError("--session and --source cannot be combined")
    to_stdout = args.output == "-"
    dest = None if to_stdout else Path(args.output).expanduser()
    if dest is not None:
        if dest.is_dir():
            raise CommandError(f"{dest} is a directory; give a file name")
        if dest.exists() and not args.force:
            raise CommandError(f"{dest} already exists; use --force to replace it")
        if not dest.parent.is_dir():
            raise CommandError(f"no folder {dest.parent} to write {dest.name} in")
    browser = _open(path, read_only=True)  # exporting never writes to the store
    progress: Callable[[int, int | None], None] | None = None
    try:
        ids: list[str] | None = None
        if args.session:
            ids = []
            for wanted in args.session:
                resolved = browser.db.resolve_session_id(wanted.strip())
                if resolved is None:
                    matches = browser.find_sessions(wanted.strip(), limit=2)
                    prefixed = [s for s in matches if s.id.startswith(wanted.strip())]
                    why = "matches several sessions; give more of the id" if len(prefixed) > 1 else "matches no session"
                    raise CommandError(f"session {wanted!r} {why}", EXIT_NOTHING)
                if resolved not in ids:
                    ids.append(resolved)
        else:
            if browser.count_sessions(source=args.source) == 0:
                where = f" from source {args.source!r}" if args.source else ""
                raise CommandError(f"no sessions{where} to export", EXIT_NOTHING)
        # progress on stderr when it is a terminal, unless the export itself is going there too
        show_progress = _is_tty(sys.stderr) and not (to_stdout and _is_tty(sys.stdout))
        progress = _progress_printer() if show_progress else None
        source = None if ids else args.source
        if to_stdout:
            try:
                sys.stdout.reconfigure(encoding="utf-8", newline="\n")  # type: ignore[union-attr]
            except (AttributeError, ValueError):
                pass
            out: Any = sys.stdout
            if args.format == "jsonl" and _is_tty(sys.stdout):
                out = _SafeJsonWriter(sys.stdout)
            write = browser.db.export_jsonl if args.format == "jsonl" else browser.db.export_markdown
            count = write(out, source=source, session_ids=ids, progress=progress)
            sys.stdout.flush()
        else:
            assert dest is not None
            try:
                count = browser.export(dest, args.format, session_ids=ids, source=source,
                                       progress=progress, overwrite=args.force)
            except FileExistsError:
                raise CommandError(f"{dest} already exists; use --force to replace it") from None
    finally:
        browser.close()
        if progress is not None:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
    if dest is not None:
        print(f"exported {count} session{'s' if count != 1 else ''} to {dest}", file=sys.stderr)
    return EXIT_OK


# ── prune ────────────────────────────────────────────────────────────────────────────────────


def _age_text(days: float) -> str:
    if days >= 1:
        return f"{days:g} day{'s' if days != 1 else ''}"
    hours = days * 24
    if hours >= 1:
        return f"{hours:g} hour{'s' if hours != 1 else ''}"
    return f"{hours * 60:g} minutes"


def _confirm(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def cmd_prune(args: argparse.Namespace, path: Path) -> int:
    browser = _open(path, read_only=args.read_only or args.dry_run)
    try:
        if not args.dry_run and browser.read_only:
            raise CommandError(f"cannot prune: the session store is read-only: "
                               f"{browser.read_only_reason or 'opened read-only'}")
        p = browser.prune_preview(args.older_than, args.source)
        _human_stdout()
        now = system_clock()
        where = f" from source {one_line(args.source)!r}" if args.source else ""
        print(f"ended sessions{where} idle for more than {_age_text(args.older_than)}:")
        print(f"  sessions: {p.sessions}")
        print(f"  messages: {p.messages}")
        if p.sessions:
            print(f"  oldest last activity: {absolute_time(p.oldest_last_active, now)}")
            print(f"  newest last activity: {absolute_time(p.newest_last_active, now)}")
        print(f"  active sessions spared: {p.active_spared}")
        sys.stdout.flush()
        if p.sessions == 0:
            _err("nothing to prune")
            return EXIT_NOTHING
        if args.dry_run:
            return EXIT_OK
        if not args.yes:
            if not _is_tty(sys.stdin):
                raise CommandError("refusing to prune without --yes when stdin is not a terminal")
            if not _confirm(f"delete {p.sessions} sessions and {p.messages} messages?"):
                _err("nothing was deleted")
                return EXIT_NOTHING
        done = [0]  # sessions deleted by the steps committed so far

        def progress(deleted: int, total: int) -> None:
            done[0] = deleted

        try:
            deleted = browser.prune(args.older_than, args.source, progress=progress)
        except KeyboardInterrupt:
            _err(f"interrupted: {_sessions(done[0])} deleted before it stopped (at least; each whole); "
                 "run it again to finish")
            return EXIT_INTERRUPTED
        except (StoreError, sqlite3.Error) as exc:
            if not done[0]:
                raise
            raise CommandError(f"{_error_line(exc)}; {_sessions(done[0])} had been deleted before that "
                               "(each whole); run it again to finish") from exc
    finally:
        browser.close()
    print(f"deleted {_sessions(deleted)}")
    return EXIT_OK


def _sessions(n: int) -> str:
    return f"{n} session{'s' if n != 1 else ''}"


# ── stats ────────────────────────────────────────────────────────────────────────────────────


def _stats_payload(browser: Browser, days: int) -> dict[str, Any]:
    activity = browser.activity(days)
    db = browser.db.get_stats()
    return {
        "database": {
            "path": str(browser.path), "sessions": db.get("sessions"), "messages": db.get("messages"),
            "schema_version": db.get("schema_version"), "read_only": db.get("read_only"),
            "read_only_reason": db.get("read_only_reason"),
        },
        "days": activity["days"],
        "since": _iso(activity["since"]),
        "totals": activity["totals"],
        "per_day": activity["per_day"],
        "top_models": activity["per_model"],
        "top_sources": activity["per_source"],
        "largest_sessions": activity["largest_sessions"],
    }


def cmd_stats(args: argparse.Namespace, path: Path) -> int:
    browser = _open(path, read_only=args.read_only)
    try:
        data = _stats_payload(browser, args.days)
    finally:
        browser.close()
    # An empty history is "nothing found" (exit 1, one line on stderr), its figures printed all the same.
    code = EXIT_OK if data["database"]["sessions"] else EXIT_NOTHING
    if args.json:
        print(_dump_json(data))
        if code:
            _err("no sessions in the database")
        return code
    _human_stdout()
    db, t = data["database"], data["totals"]
    ro = f"yes ({one_line(db['read_only_reason'])})" if db["read_only"] else "no"
    print(f"database {one_line(db['path'])}")
    print(f"  sessions {db['sessions']} · messages {db['messages']} · schema v{db['schema_version']} · read-only {ro}")
    print()
    print(f"last {data['days']} days")
    print(f"  sessions {t['sessions']} · messages {t['messages']} · tokens {human_count(t['tokens'])}"
          f" · cost {money(t['cost_usd'])}")
    for title, key, rows in (("top models", "model", data["top_models"]),
                             ("top sources", "source", data["top_sources"])):
        if not rows:
            continue
        print()
        print(title)
        for r in rows:
            print(f"  {one_line(r[key], 40):<40} {r['sessions']:>6} sessions {r['messages']:>8} messages"
                  f" {human_count(r['tokens']):>7} tokens {money(r['cost_usd']):>10}")
    if data["largest_sessions"]:
        print()
        print("largest sessions")
        for r in data["largest_sessions"]:
            label = one_line(r.get("title") or r["id"], 50)
            print(f"  {label:<50} {r['message_count']:>6} messages {human_count(r['tokens']):>7} tokens"
                  f"  {one_line(r['source'])}  {one_line(r['id'])}")
    if code:
        sys.stdout.flush()
        _err("no sessions in the database")
    return code


# ── import ───────────────────────────────────────────────────────────────────────────────────


def cmd_import(args: argparse.Namespace, path: Path) -> int:
    from store import ImportFileError

    source = Path(args.file).expanduser()
    if source.is_dir():
        raise CommandError(f"{source} is a directory, not an export file")
    if not source.is_file():
        raise CommandError(f"no file {source} to import")
    browser = _open(path, read_only=args.read_only)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.1 or done == total:
            last[0] = now
            sys.stderr.write(f"\rimported {done}/{total} sessions")
            sys.stderr.flush()

    show = _is_tty(sys.stderr)
    try:
        if browser.read_only:
            raise CommandError(f"cannot import: the session store is read-only: "
                               f"{browser.read_only_reason or 'opened read-only'}")
        try:
            report = browser.db.import_jsonl(source, progress=progress if show else None)
        except ImportFileError as exc:
            where = f"{source}:{exc.line}" if exc.line else str(source)
            raise CommandError(f"{where}: {exc.detail}; nothing was imported") from None
        except UnicodeDecodeError:
            raise CommandError(f"{source}: not UTF-8 text; nothing was imported") from None
    finally:
        browser.close()
        if show:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
    _human_stdout()
    print(f"imported {report.imported} session{'s' if report.imported != 1 else ''} "
          f"({report.messages} messages) from {one_line(str(source))}")
    if report.skipped:
        print(f"  skipped {report.skipped} already present")
    if report.duplicates:
        print(f"  ignored {report.duplicates} repeated ids in the file")
    if report.conflicts:
        shown = ", ".join(one_line(c, 40) for c in report.conflicts[:5])
        more = f" and {len(report.conflicts) - 5} more" if len(report.conflicts) > 5 else ""
        print(f"  {len(report.conflicts)} conflicts (id present with different content, left as is): {shown}{more}")
    for sid, wanted, got in report.titles_renamed[:5]:
        new = f"as {one_line(got, 60)!r}" if got else "without a title"
        print(f"  title {one_line(wanted or '', 60)!r} is taken: session {one_line(sid, 40)} imported {new}")
    if len(report.titles_renamed) > 5:
        print(f"  … {len(report.titles_renamed) - 5} more titles renamed")
    if report.parents_unlinked:
        print(f"  {report.parents_unlinked} sessions imported without their parent (not in the file or the database)")
    return EXIT_OK
