"""Hostile input, fuzzed: nothing a model, a user or another program wrote can crash rendering or
drive the terminal.

Hypothesis generates message content, reasoning, titles, ids, tool names, tool results and the raw
``tool_calls`` column (JSON of every wrong shape, 10,000-level nesting, text that is not JSON,
invalid UTF-8 as BLOB or TEXT, JSON-escaped lone surrogates) from a hostile alphabet: Rich markup
(``[bold]``, ``[link=…]``, ``[/]``, ``[@click=app.quit]``), ESC/CSI/OSC/DCS/APC sequences, C1
controls (``\\x9b``, ``\\x9d``), BEL, backspace, CR, NUL, DEL, bidi overrides and isolates,
zero-width characters, line/paragraph separators, lone surrogates, very long lines.

What is checked, on the actual output (Rich segments, screen text, files, stdout):

* rendering never raises: session list rows, the session header, every part of a turn (folds
  closed and open), search snippets and hit rows, Markdown and JSONL export, CLI search output;
* no control character is emitted (``UNSAFE_TERMINAL``: C0 but ``\\n`` (tabs are expanded), DEL,
  C1, bidi embeddings/overrides/isolates and marks, U+2028/U+2029, lone surrogates), and no Rich
  control segment either;
* the Markdown export keeps ``\\n`` and ``\\t`` only (``UNSAFE_FILE``); the JSONL export escapes
  what a terminal could act on (it stays valid JSON, equal after parsing);
* a session holding a 1 MB message and a 1 MB tool output opens, scrolls and folds without a long
  event-loop stall (the bound is generous; the figure is printed by ``python -m bench.soak_hostile``).

In CI: 500 examples for the text helpers, 300 per widget property, 120 per database or CLI property,
derandomized (the same examples every run, so a failure reproduces); about 35 s on 2 cores.
``HYPOTHESIS_NIGHTLY=1 python -m pytest -m nightly tests/test_hardening_hostile.py`` runs random
ones: 10,000 per property (2,000 for the database and CLI ones).
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console, RenderableType
from rich.segment import Segment
from textual._context import active_app
from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import Footer
from textual.worker import WorkerCancelled, WorkerFailed

from store import SessionDB
from store.export import session_markdown
from store.sqlutil import decode_text, loads_or_raw
from tui.data import Browser, MessageView, SearchHit, SessionDetail, parse_tool_calls
from tui.render import Guarded, Terms
from tui.testing import StallMeter
from tui.text import UNSAFE_TERMINAL, one_line, safe
from tui.widgets.conversation import ConversationPane
from tui.widgets.message_view import Fold, MessageHead, Turn, pair_turns, turn_widgets
from tui.widgets.search_panel import hit_prompt, snippet_content
from tui.widgets.session_header import header_facts

NIGHTLY = os.environ.get("HYPOTHESIS_NIGHTLY") == "1"
FIXED_DT = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
FIXED_TS = FIXED_DT.timestamp()

UNSAFE_FILE = re.compile(UNSAFE_TERMINAL.pattern.replace(r"\x00-\x09", r"\x00-\x08"))
"""What a Markdown export may not hold: the terminal set, but tabs are allowed."""

VARIANTS = [
    pytest.param(500, True, id="ci"),
    pytest.param(
        10_000, False, id="nightly",
        marks=[pytest.mark.nightly, pytest.mark.skipif(not NIGHTLY, reason="set HYPOTHESIS_NIGHTLY=1")],
    ),
]
MEDIUM = [  # properties that build Textual widgets per example
    pytest.param(300, True, id="ci"),
    pytest.param(
        10_000, False, id="nightly",
        marks=[pytest.mark.nightly, pytest.mark.skipif(not NIGHTLY, reason="set HYPOTHESIS_NIGHTLY=1")],
    ),
]
LIGHT = [  # properties that cost a database round trip or a full Textual render per example
    pytest.param(120, True, id="ci"),
    pytest.param(
        2_000, False, id="nightly",
        marks=[pytest.mark.nightly, pytest.mark.skipif(not NIGHTLY, reason="set HYPOTHESIS_NIGHTLY=1")],
    ),
]

# ── the hostile alphabet ─────────────────────────────────────────────────────────────────────

MARKUP = [
    "[bold]", "[/]", "[/bold]", "[link=https://evil.example]", "[/link]", "[@click=app.quit]", "[@click=quit]",
    "[", "]", "[[", "]]", "\\[", "[b", "[red on blue]x[/red on blue]", "[on #ff0000]", ":warning:", "$accent",
    "<script>alert(1)</script>", "</details>", "<details>", "```", "```python\n", "~~~", "**", "`", "|", "# ",
    "\n> ", "\n- ", "\n1. ", "![img](http://x/a.png)", "[t](javascript:alert(1))", "<https://x.io>", "\\",
]
ESCAPES = [
    "\x1b[31m", "\x1b[2J", "\x1b[0m", "\x1b[?1049h", "\x1b[6n", "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "\x1b]0;pwned\x1b\\", "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "\x1bP+q544e\x1b\\", "\x1b_apc\x1b\\",
    "\x1b^pm\x1b\\", "\x1bXsos\x1b\\", "\x1bc", "\x1b7", "\x1b", "\x1b[", "\x1b]", "\x9b31m", "\x9b2J",
    "\x9d52;c;eA==\x07", "\x9d0;t\x9c", "\x90q\x9c", "\x07", "\x08", "\r", "\r\n", "\n", "\x00", "\x7f",
    "\x85", "\x0b", "\x0c", "\t", "\x1a", "\x9c",
]
UNICODE = [
    "\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c",
    "\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u2028", "\u2029", "\ud800", "\udfff", "\ud83d",
    "\u0301", "\U0001f600", "服务", "\ufffd", "\uffff", "\U000e0041", "\u0000", "x", " ", "word",
]
PIECES = MARKUP + ESCAPES + UNICODE

hostile_text: st.SearchStrategy[str] = st.one_of(
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=24).map("".join),
    st.text(alphabet=st.characters(categories=("Cc", "Cf", "Cs", "Zl", "Zp", "Zs", "Mn", "Ps", "Pe", "Lo", "Ll"))),
    st.tuples(st.sampled_from(PIECES), st.integers(1, 3_000)).map(lambda t: t[0] * t[1]),  # long runs
)
"""Any text: a mix of hostile pieces, random control/format characters, or one piece repeated."""

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(["id", "name", "function", "arguments", "type"]), hostile_text),
                        inner, max_size=4),
    ),
    max_leaves=10,
)


def _deep(n: int, kind: str) -> str:
    return {"list": "[" * n + "]" * n, "dict": '{"a":' * n + "1" + "}" * n, "open": "[" * n}[kind]


deep_json = st.tuples(st.sampled_from([50, 900, 990, 2_000, 10_000]), st.sampled_from(["list", "dict", "open"])).map(
    lambda t: _deep(*t)
)


def _dumps(value: Any) -> str:
    return json.dumps(value)  # ensure_ascii: lone surrogates arrive as \ud800 escapes, as another program writes


arguments = st.one_of(hostile_text, json_values, json_values.map(_dumps), deep_json)
function = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional={"name": st.one_of(hostile_text, json_values), "arguments": arguments}),
)
call = st.one_of(
    st.fixed_dictionaries({}, optional={"id": st.one_of(hostile_text, json_values), "type": json_values,
                                        "function": function, "name": json_values, "arguments": arguments}),
    json_values,
)
tool_calls_column: st.SearchStrategy[str | bytes | None] = st.one_of(
    st.none(),
    hostile_text.map(lambda s: safe_for_sqlite(s)),  # text that is not JSON
    st.lists(call, max_size=3).map(_dumps),  # a call list with wrong shapes inside
    call.map(_dumps),  # a dict, a number, a string, null…
    json_values.map(_dumps),
    deep_json,
    st.lists(call, min_size=1, max_size=2).map(lambda v: "[" * 1_200 + _dumps(v) + "]" * 1_200),
    st.binary(max_size=64),  # a BLOB, valid UTF-8 or not
    st.binary(max_size=64).map(lambda b: b"[" + b + b"]"),
)


def safe_for_sqlite(text: str) -> str:
    """Python's sqlite3 cannot bind lone surrogates: another program would write U+FFFD or bytes."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


# ── checking output ──────────────────────────────────────────────────────────────────────────


def assert_clean(text: str, what: str = "output", unsafe: re.Pattern[str] = UNSAFE_TERMINAL) -> None:
    found = unsafe.search(text)
    if found is not None:
        around = text[max(0, found.start() - 40) : found.end() + 40]
        raise AssertionError(f"{what} emitted {found.group(0)!r} at {found.start()}: {around!r}")


def segments(renderable: RenderableType, width: int = 80) -> list[Segment]:
    console = Console(width=width, file=io.StringIO(), color_system="truecolor", force_terminal=True,
                      legacy_windows=False)
    return list(console.render(renderable, console.options))


def assert_renders_clean(renderable: RenderableType, width: int = 80) -> str:
    """Render to Rich segments; none may be a control segment or hold an unsafe character."""
    segs = segments(renderable, width)
    for seg in segs:
        assert not seg.control, f"control segment {seg!r}"
    text = "".join(seg.text for seg in segs)
    assert_clean(text)
    return text


def fuzz(examples: int, derandomize: bool) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=examples, deadline=None, derandomize=derandomize, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                               HealthCheck.large_base_example],
    )


def _message(mid: int, role: str, content: str | None, reasoning: str | None, column: Any,
             tool_name: str | None = None, tool_call_id: str | None = None) -> MessageView:
    return MessageView.from_row({
        "id": mid, "session_id": "s", "role": role, "content": content, "timestamp": FIXED_TS,
        "reasoning": reasoning, "tool_calls": loads_or_raw(column), "tool_name": tool_name,
        "tool_call_id": tool_call_id, "finish_reason": content and content[:5], "token_count": 3,
    })


@pytest.fixture(scope="module", autouse=True)
def _an_app() -> Iterator[None]:
    """Widgets built outside ``run_test`` (``Static.update`` needs an app for its console)."""
    token = active_app.set(App())
    yield
    active_app.reset(token)


def render_turn(turn: Turn, terms: Terms | None, width: int) -> str:
    """Every widget of a turn, folds closed then open, rendered to segments and checked."""
    out = []
    for expanded in (False, True):
        for widget in turn_widgets(turn, now=FIXED_DT, terms=terms, expanded=expanded):
            out.append(assert_renders_clean(widget.content, width))  # type: ignore[arg-type]
    return "\n".join(out)


# ── the text helpers themselves ──────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("examples", "derandomize"), VARIANTS)
def test_safe_and_one_line_never_emit_a_control_character(examples: int, derandomize: bool) -> None:
    @fuzz(examples, derandomize)
    @given(hostile_text, st.integers(1, 200))
    @example("\x1b]52;c;ZWNobyBwd25lZA==\x07\x9b2J\u202eevil\u2028\ud800", 10)
    def check(text: str, width: int) -> None:
        assert_clean(safe(text), "safe()")
        line = one_line(text, width)
        assert_clean(line, "one_line()")
        assert "\n" not in line and len(line) <= width
        if not re.search(r"[\x1b\x80-\x9f]", text):  # markup is shown as typed: every bracket survives
            assert safe(text).count("[") == text.count("[") and safe(text).count("]") == text.count("]")

    check()


# ── conversation parts ───────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("examples", "derandomize"), MEDIUM)
def test_every_part_of_a_turn_renders_without_control_sequences(examples: int, derandomize: bool) -> None:
    @fuzz(examples, derandomize)
    @given(hostile_text, st.one_of(st.none(), hostile_text), tool_calls_column, hostile_text,
           st.one_of(st.none(), hostile_text), st.sampled_from([12, 40, 120]))
    @example("x" * 1_000_000, "r" * 1_000_000, '[{"id":"1","function":{"name":"w","arguments":"'
             + "[" * 10_000 + "]" * 10_000 + '"}}]', "z" * 1_000_000, None, 120)
    @example("[bold]", None, "[" * 10_000 + "]" * 10_000, "\x1b[2J", "[/]", 40)
    def check(content: str, reasoning: str | None, column: Any, result: str, query: str | None, width: int) -> None:
        column = column if isinstance(column, bytes) else (safe_for_sqlite(column) if column else column)
        msg = _message(1, "assistant", content, reasoning, column)
        results = [_message(2 + k, "tool", result, None, None, tool_name=one_line(result, 8),
                            tool_call_id=call.id if isinstance(call.id, str) else None)
                   for k, call in enumerate(msg.tool_calls)]
        turns = pair_turns([msg, *results])
        terms = Terms.parse(query)
        for turn in turns:
            render_turn(turn, terms, width)

    check()


def test_a_raising_renderable_falls_back_to_clean_text() -> None:
    guard = Guarded(lambda: 1 / 0, fallback="\x1b]52;c;eA==\x07 [b]plain[/b]")  # type: ignore[arg-type,return-value]
    text = assert_renders_clean(guard)
    assert "[b]plain[/b]" in text


# ── list rows, header, search ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("examples", "derandomize"), MEDIUM)
def test_header_and_search_hits_render_without_control_sequences(examples: int, derandomize: bool) -> None:
    @fuzz(examples, derandomize)
    @given(hostile_text, hostile_text, hostile_text, hostile_text, st.sampled_from([10, 60, 150]))
    def check(title: str, sid: str, source: str, snippet: str, width: int) -> None:
        from tui.data import LineageLink

        link = LineageLink(id=sid, title=None, started_at=FIXED_TS, message_count=1, end_reason=title)
        detail = SessionDetail(
            id=sid, title=title, source=source, model=title, started_at=FIXED_TS, ended_at=FIXED_TS,
            end_reason=source, message_count=2, tool_call_count=1, input_tokens=1, output_tokens=2,
            cache_read_tokens=0, cache_write_tokens=0, reasoning_tokens=0, cost_usd=0.1, cost_is_estimate=True,
            parent=link, children=(link, link), lineage=(link, link),
        )
        for line in header_facts(detail, FIXED_DT).lines(width):
            assert_renders_clean(line, width)
        assert_clean(snippet_content(snippet).plain, "snippet")
        marked = f"{snippet}\x02{title}\x03{source}"
        hit = SearchHit(message_id=1, session_id=sid, session_title=title or None, source=source, role=source,
                        timestamp=FIXED_TS, snippet=marked, tool_name=title)
        prompt = hit_prompt(hit, FIXED_DT, width)
        assert isinstance(prompt, Content)
        assert_clean(prompt.plain, "hit row")

    check()


# ── the raw database: another program's rows ─────────────────────────────────────────────────


@pytest.fixture(scope="module")
def raw_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("hostile") / "state.db"
    SessionDB(path).close()
    yield path


def _insert_raw(con: sqlite3.Connection, n: int, sid: Any, title: Any, content: Any, column: Any, reasoning: Any,
                tool_name: Any) -> None:
    """One session, an assistant message and a tool message, as another program might write them
    (the newest session of the database: ``n`` grows)."""
    ts = FIXED_TS + 10 * n
    con.execute(
        "INSERT INTO sessions (id, source, model, title, started_at, end_reason, parent_session_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", (sid, "cli" if title is None else title, title, title, ts, title, title))
    con.execute(
        "INSERT INTO messages (session_id, role, content, tool_calls, timestamp, reasoning, finish_reason) "
        "VALUES (?, 'assistant', ?, ?, ?, ?, ?)", (sid, content, column, ts, reasoning, title))
    con.execute(
        "INSERT INTO messages (session_id, role, content, tool_name, tool_call_id, timestamp) "
        "VALUES (?, 'tool', ?, ?, ?, ?)", (sid, content, tool_name, tool_name, ts + 1))
    con.execute("UPDATE sessions SET message_count = 2 WHERE id = ?", (sid,))


def _as_stored(text: str, as_bytes: bool) -> str | bytes:
    """Text as another program might store it: TEXT, or a BLOB of invalid UTF-8 around it."""
    clean = safe_for_sqlite(text)
    return b"\xff\xfe" + clean.encode() + b"\xc3(" if as_bytes else clean


counter = iter(range(10**9))


@pytest.mark.parametrize(("examples", "derandomize"), LIGHT)
def test_rows_written_by_another_program_read_render_and_export_cleanly(
    examples: int, derandomize: bool, raw_db: Path
) -> None:
    con = sqlite3.connect(raw_db, isolation_level=None)
    browser = Browser(SessionDB(raw_db, read_only=True), now=lambda: FIXED_DT)

    @fuzz(examples, derandomize)
    @given(hostile_text, hostile_text, tool_calls_column, hostile_text, st.booleans())
    @example("[@click=app.quit]\x1b]0;t\x07", "\x9b2J", "[" * 10_000, "\u202e", False)
    @example("t", "c", b"\xff\xfe[{", "r", True)
    def check(title: str, content: str, column: Any, reasoning: str, as_bytes: bool) -> None:
        n = next(counter)
        sid = f"{safe_for_sqlite(title)[:40]}\x1b[2J-{n}"
        title = f"{title} {n}"  # titles are unique
        if isinstance(column, str):
            column = safe_for_sqlite(column)
        _insert_raw(con, n, sid, _as_stored(title, as_bytes), _as_stored(content, as_bytes), column,
                    _as_stored(reasoning, False), safe_for_sqlite(title))
        # the list row and the header
        rows = browser.sessions_page(0, 5, text=None)
        assert any(r.id == sid for r in rows)
        row = next(r for r in rows if r.id == sid)
        assert_clean(one_line(row.label), "list row")
        detail = browser.session_detail(sid)
        assert detail is not None
        for line in header_facts(detail, FIXED_DT).lines(60):
            assert_renders_clean(line, 60)
        # the conversation, every fold
        page = browser.conversation_page(sid)
        for turn in pair_turns(page.messages):
            render_turn(turn, None, 60)
        # exports
        record = browser.db.export_session(sid)
        assert record is not None
        assert_clean(session_markdown(record), "Markdown export", UNSAFE_FILE)
        out = io.StringIO()
        browser.db.export_jsonl(out, session_ids=[sid])
        line = out.getvalue()
        assert_clean(line, "JSONL export")
        assert json.loads(line)["id"] == sid

    try:
        check()
    finally:
        browser.close()
        con.close()


def test_json_too_deep_to_parse_is_kept_raw_and_shown_literally() -> None:
    deep = "[" * 10_000 + "]" * 10_000  # json.loads gives up (RecursionError): the text stays as it was
    assert loads_or_raw(deep) == deep
    calls, raw = parse_tool_calls(loads_or_raw(deep))
    assert calls == () and raw == deep
    assert loads_or_raw('[{"a": [[1]]}]') == [{"a": [[1]]}]  # ordinary nesting still parses
    calls, raw = parse_tool_calls([{"id": [None], "function": {"name": 5, "arguments": {"a": 1}}}])
    assert calls[0].id == "[None]" and calls[0].name == "5" and calls[0].arguments == '{"a": 1}'


def test_invalid_utf8_decodes_with_replacement() -> None:
    assert decode_text(b"ok \xff\xfe\xc3(") == "ok \ufffd\ufffd\ufffd("


# ── the CLI ──────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("examples", "derandomize"), LIGHT)
def test_cli_search_output_is_neutralized(examples: int, derandomize: bool, raw_db: Path) -> None:
    from tui.cli import main

    con = sqlite3.connect(raw_db, isolation_level=None)

    @fuzz(examples, derandomize)
    @given(hostile_text, hostile_text, st.booleans(), st.booleans())
    @example("\x1b]52;c;eA==\x07", "needle \x9b2J \u202e [bold]", False, True)
    def check(title: str, content: str, as_json: bool, untitled: bool) -> None:
        n = next(counter)
        sid = f"{safe_for_sqlite(title)[:20]}\x1b]0;x\x07{n}"
        title = f"{title} {n}"  # titles are unique
        _insert_raw(con, n, sid, None if untitled else safe_for_sqlite(title),
                    f"needle{n} " + safe_for_sqlite(content), None, None, safe_for_sqlite(title))
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(["--db", str(raw_db), "search", f"needle{n}", *(["--json"] if as_json else [])])
        assert code == 0
        assert_clean(out.getvalue().replace("\n", ""), "CLI search")
        if as_json:
            assert json.loads(out.getvalue())[0]["session_id"] == sid

    try:
        check()
    finally:
        con.close()


# ── the app: a 1 MB message does not freeze the UI ───────────────────────────────────────────


class Harness(App[None]):
    def __init__(self, browser: Browser) -> None:
        super().__init__()
        self.browser = browser

    def compose(self) -> ComposeResult:
        yield ConversationPane(id="conversation")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ConversationPane).focus()


def build_huge_db(path: Path) -> Path:
    """A session with a 1 MB hostile message, a 1 MB tool call and a 1 MB tool output."""
    line = "a line [bold]of[/] text \x1b]52;c;eA==\x07 \x9b2J \u202e rtl\r\n"
    with SessionDB(path) as db:
        db.create_session("huge", "cli")
        db.append_message("huge", "user", "needle " + line * (1_000_000 // len(line)))
        db.append_message("huge", "assistant", "ok", reasoning="think [@click=app.quit] " * 40_000,
                          tool_calls=[{"id": "1", "function": {
                              "name": "write", "arguments": json.dumps({"text": "y\x1b[2J" * 200_000})}}])
        db.append_message("huge", "tool", ("z" * 199 + "\n") * 5_000, tool_call_id="1")
        db.append_message("huge", "assistant", "x" * 1_000_000)  # one very long line
    return path


def screen_segments_text(app: App[None]) -> str:
    """The characters the compositor would write (control segments such as cursor moves excluded)."""
    return "".join(seg.text for strip in app.screen._compositor.render_strips() for seg in strip
                   if not seg.control)


async def _settle(pilot: Any, app: App[None]) -> None:
    for _ in range(50):
        with suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(pane.busy for pane in app.query(ConversationPane)) and not any(
            w.is_running for w in app.workers
        ):
            return


async def drive_huge_session(path: Path) -> dict[str, float]:
    """Open the huge session, scroll through it and fold/unfold everything; the longest stalls."""
    browser = Browser(SessionDB(path, read_only=True), now=lambda: FIXED_DT)
    app = Harness(browser)
    stalls: dict[str, float] = {}
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            pane = app.query_one(ConversationPane)
            async with StallMeter() as meter:
                pane.show_session("huge")
                await _settle(pilot, app)
            stalls["open"] = meter.longest
            async with StallMeter() as meter:
                for key in ("home", *["pagedown"] * 6, "end", *["pageup"] * 6):
                    await pilot.press(key)
                await _settle(pilot, app)
            stalls["scroll"] = meter.longest
            async with StallMeter() as meter:
                await pilot.press("f")  # every fold open
                await _settle(pilot, app)
                for key in ("home", *["pagedown"] * 4, "end"):
                    await pilot.press(key)
                await pilot.press("f")  # and closed again
                await _settle(pilot, app)
            stalls["fold"] = meter.longest
            assert_clean(screen_segments_text(app), "screen")
            await pilot.press("f")
            await _settle(pilot, app)
            everything = []
            for widget in pane.scroller.children:
                if isinstance(widget, MessageHead | Fold):
                    everything.append(assert_renders_clean(widget.content, 116))  # type: ignore[arg-type]
            text = "\n".join(everything)
            stalls["more_notes"] = text.count("more characters")
    finally:
        browser.close()
    return stalls


async def test_a_1mb_message_and_tool_output_do_not_freeze_the_ui(tmp_path: Path) -> None:
    stalls = await drive_huge_session(build_huge_db(tmp_path / "huge.db"))
    # Each body is cut for display with a "… N more characters" note.
    assert stalls.pop("more_notes") >= 4
    assert max(stalls.values()) < 2.0, stalls  # generous: the figure is reported by bench.soak_hostile
