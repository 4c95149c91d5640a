"""Soak the renderers with hostile input and print one Markdown table.

    python -m bench.soak_hostile [--examples N] [--seed S]

For each kind of input (the strategies of ``tests/test_hardening_hostile.py``: Rich markup,
ESC/CSI/OSC/DCS and C1 sequences, control characters, bidi overrides, zero-width characters, lone
surrogates, 10,000-level JSON, ``tool_calls`` of every wrong shape, invalid UTF-8…) it runs N
random examples through the real rendering code and counts the examples that raised and those whose
output held a control character (``tui.text.UNSAFE_TERMINAL``, or for the Markdown export the same
set but tabs). Then it opens a session holding a 1 MB message, a 1 MB tool call and a 1 MB tool
output in the conversation pane (headless, 120x40), scrolls through it and folds/unfolds
everything, and reports the longest event-loop stall of each step (``tui.testing.StallMeter``).
Run from the repository root (the test module is imported from ``tests/``).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

import test_hardening_hostile as h  # noqa: E402  (the strategies and checks of the tests)

from store import SessionDB  # noqa: E402
from store.export import session_markdown  # noqa: E402
from tui.data import Browser, SearchHit  # noqa: E402
from tui.render import Terms  # noqa: E402
from tui.text import one_line, safe  # noqa: E402
from tui.widgets.message_view import pair_turns  # noqa: E402
from tui.widgets.search_panel import hit_prompt  # noqa: E402
from tui.widgets.session_header import header_facts  # noqa: E402


@dataclass
class Row:
    kind: str
    inputs: str
    examples: int = 0
    exceptions: int = 0
    unsafe: int = 0
    seconds: float = 0.0
    first_failure: str = ""


def soak(row: Row, strategy: st.SearchStrategy[Any], check: Callable[..., None], examples: int, seed: int) -> Row:
    """Run ``check`` on ``examples`` draws; an AssertionError means unsafe output, anything else
    an exception. Nothing stops the run."""

    def body(args: tuple[Any, ...]) -> None:
        row.examples += 1
        try:
            check(*args)
        except AssertionError as exc:
            row.unsafe += 1
            row.first_failure = row.first_failure or f"{str(exc)[:120]!r}"
        except Exception as exc:
            row.exceptions += 1
            row.first_failure = row.first_failure or f"{type(exc).__name__}: {str(exc)[:100]!r}"

    run = settings(
        max_examples=examples, deadline=None, database=None, derandomize=False,
        suppress_health_check=list(HealthCheck),
    )(given(strategy)(body))
    started = time.perf_counter()
    with redirect_stderr(io.StringIO()):
        from hypothesis import seed as hypothesis_seed

        hypothesis_seed(seed)(run)()
    row.seconds = time.perf_counter() - started
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak_hostile")
    parser.add_argument("--examples", type=int, default=2_000, help="examples per kind (default 2,000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    n, seed = args.examples, args.seed
    rows: list[Row] = []
    token = h.active_app.set(h.App())
    tmp = Path(tempfile.mkdtemp(prefix="soak-hostile-"))

    def text_check(text: str, width: int) -> None:
        h.assert_clean(safe(text))
        h.assert_clean(one_line(text, width))

    rows.append(soak(Row("text", "safe() / one_line()"), st.tuples(h.hostile_text, st.integers(1, 200)),
                     text_check, n, seed))

    def turn_check(content: str, reasoning: str | None, column: Any, result: str, query: str | None) -> None:
        column = column if isinstance(column, bytes) else (h.safe_for_sqlite(column) if column else column)
        msg = h._message(1, "assistant", content, reasoning, column)
        results = [h._message(2 + k, "tool", result, None, None, tool_call_id=c.id) for k, c in
                   enumerate(msg.tool_calls)]
        for turn in pair_turns([msg, *results]):
            h.render_turn(turn, Terms.parse(query), 80)

    rows.append(soak(
        Row("conversation", "content, reasoning, tool_calls column, tool result, search terms; folds closed/open"),
        st.tuples(h.hostile_text, st.one_of(st.none(), h.hostile_text), h.tool_calls_column, h.hostile_text,
                  st.one_of(st.none(), h.hostile_text)),
        turn_check, n, seed))

    def header_check(title: str, sid: str, snippet: str) -> None:
        from tui.data import LineageLink, SessionDetail

        link = LineageLink(id=sid, title=None, started_at=h.FIXED_TS, message_count=1, end_reason=title)
        detail = SessionDetail(
            id=sid, title=title, source=title, model=title, started_at=h.FIXED_TS, ended_at=None, end_reason=None,
            message_count=1, tool_call_count=0, input_tokens=0, output_tokens=0, cache_read_tokens=0,
            cache_write_tokens=0, reasoning_tokens=0, cost_usd=None, cost_is_estimate=False, parent=link,
            children=(link,), lineage=(link, link))
        for line in header_facts(detail, h.FIXED_DT).lines(60):
            h.assert_renders_clean(line, 60)
        hit = SearchHit(1, sid, title or None, title, title, h.FIXED_TS, f"{snippet}\x02{title}\x03", title)
        h.assert_clean(hit_prompt(hit, h.FIXED_DT, 80).plain)

    rows.append(soak(Row("header + search hits", "title, id, source, model, snippet, tool name"),
                     st.tuples(h.hostile_text, h.hostile_text, h.hostile_text), header_check, n, seed))

    db_path = tmp / "raw.db"
    SessionDB(db_path).close()
    con = sqlite3.connect(db_path, isolation_level=None)
    browser = Browser(SessionDB(db_path, read_only=True), now=lambda: h.FIXED_DT)
    count = iter(range(10**9))

    def raw_check(title: str, content: str, column: Any, as_bytes: bool) -> None:
        k = next(count)
        sid = f"{h.safe_for_sqlite(title)[:40]}\x1b[2J-{k}"
        if isinstance(column, str):
            column = h.safe_for_sqlite(column)
        h._insert_raw(con, k, sid, h._as_stored(f"{title} {k}", as_bytes), h._as_stored(content, as_bytes),
                      column, h._as_stored(title, False), h.safe_for_sqlite(title))
        row = next(r for r in browser.sessions_page(0, 3) if r.id == sid)
        h.assert_clean(one_line(row.label))
        detail = browser.session_detail(sid)
        assert detail is not None
        for line in header_facts(detail, h.FIXED_DT).lines(60):
            h.assert_renders_clean(line, 60)
        for turn in pair_turns(browser.conversation_page(sid).messages):
            h.render_turn(turn, None, 60)
        record = browser.db.export_session(sid)
        h.assert_clean(session_markdown(record or {}), unsafe=h.UNSAFE_FILE)
        out = io.StringIO()
        browser.db.export_jsonl(out, session_ids=[sid])
        h.assert_clean(out.getvalue())
        json.loads(out.getvalue())

    rows.append(soak(
        Row("rows of another program", "raw INSERT: title/id/source/model, content, tool_calls, BLOB or TEXT; "
            "list row, header, conversation, Markdown + JSONL export"),
        st.tuples(h.hostile_text, h.hostile_text, h.tool_calls_column, st.booleans()), raw_check,
        max(1, n // 4), seed))

    from tui.cli import main as cli_main

    def cli_check(query: str, as_json: bool) -> None:
        out = io.StringIO()
        with redirect_stdout(out), redirect_stderr(io.StringIO()):
            code = cli_main(["--db", str(db_path), "search", h.safe_for_sqlite(query) or "x",
                             *(["--json"] if as_json else [])])
        assert code in (0, 1), f"exit {code}"
        h.assert_clean(out.getvalue().replace("\n", ""))

    rows.append(soak(Row("CLI search", "hostile query over the hostile rows above, text and --json"),
                     st.tuples(h.hostile_text, st.booleans()), cli_check, max(1, n // 10), seed))

    def query_check(query: str) -> None:
        for prefix in (False, True):
            result = browser.search(query, prefix=prefix, limit=5)
            assert result.error is None or isinstance(result.error, str)

    rows.append(soak(Row("FTS queries", "hostile query, prefix and not, via Browser.search"),
                     st.tuples(h.hostile_text), query_check, n, seed))
    browser.close()
    con.close()
    h.active_app.reset(token)

    huge = h.build_huge_db(tmp / "huge.db")
    stalls = asyncio.run(h.drive_huge_session(huge))

    print(f"hostile-input soak: {n:,} examples per kind (a quarter for database rows, a tenth for the CLI), "
          f"seed {seed}\n")
    print("| kind | inputs fuzzed | examples | exceptions | control sequences emitted | seconds |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.kind} | {r.inputs} | {r.examples:,} | {r.exceptions} | {r.unsafe} | {r.seconds:.1f} |")
    print()
    print("| 1 MB session (1 MB message, 1 MB tool call, 1 MB tool output, 1 MB line) | longest stall |")
    print("|---|---:|")
    for step, label in (("open", "open the session"), ("scroll", "scroll through it (home, pgdn ×6, end, pgup ×6)"),
                        ("fold", "unfold everything, scroll, fold everything")):
        print(f"| {label} | {stalls[step] * 1000:.0f} ms |")
    failures = [r for r in rows if r.first_failure]
    for r in failures:
        print(f"\nfirst failure, {r.kind}: {r.first_failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
