"""``hermes-browse doctor [--db PATH] [--rebuild-fts] [--json]``: check the database, and rebuild
the search indexes when asked.

Exit codes: 0 healthy (or repaired), 1 problems found, 2 cannot open (one line on stderr).
Checking changes nothing. ``--rebuild-fts`` backs the file up first (``state.db.bak-…``, 0600,
verified) and refuses while another program (the agent) has the database open: a rebuild holds
the write lock for its whole length, so the agent is never made to wait on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tui.text import one_line

EXIT_HEALTHY, EXIT_PROBLEMS, EXIT_CANNOT_OPEN = 0, 1, 2


def add_doctor_parser(sub: Any, add_global_options: Any) -> None:
    p = sub.add_parser("doctor", help="check the database; repair the search indexes", description=(
        "Check the database: integrity_check, the search indexes, schema version, journal mode, sizes, "
        "the trigram window. Changes nothing unless --rebuild-fts is given. Exit 0 healthy, 1 problems "
        "found, 2 cannot open."))
    p.add_argument("--rebuild-fts", action="store_true",
                   help="back the file up, then rebuild the search indexes (stop the agent first)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    add_global_options(p, in_subcommand=True)


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"path": str(report.path), "healthy": report.healthy, "problems": report.problems,
                          "checks": report.checks, "facts": report.facts}, indent=2, default=str))
        return
    print(f"database {one_line(str(report.path))}")
    for key, value in report.facts.items():
        print(f"  {key}: {one_line(str(value), 200)}")
    for key, value in report.checks.items():
        print(f"  {key}: {one_line(value, 200)}")
    if report.healthy:
        print("healthy")
    else:
        print("problems:")
        for problem in report.problems:
            print(f"  - {one_line(problem, 300)}")


def cmd_doctor(args: argparse.Namespace, path: Path) -> int:
    from store.doctor import diagnose, rebuild_fts

    if getattr(args, "rebuild_fts", False):
        if getattr(args, "read_only", False):
            print("hermes-browse: --rebuild-fts writes to the database; it cannot be combined with --read-only",
                  file=sys.stderr)
            return EXIT_CANNOT_OPEN
        backup, done = rebuild_fts(path)
        print(f"backup: {backup}")
        for line in done:
            print(f"  {line}")
    report = diagnose(path)
    _print_report(report, getattr(args, "json", False))
    return EXIT_HEALTHY if report.healthy else EXIT_PROBLEMS
