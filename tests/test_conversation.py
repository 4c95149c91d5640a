"""Pilot tests of the conversation pane (tui/widgets/conversation.py and its widgets).

The database is built through ``SessionDB`` calls, then its clock-dependent columns are rewritten
with plain SQL so every run (and every snapshot) sees the same times. ``Harness`` is the smallest
app the pane needs: ``app.browser`` and a ``Footer``.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import Footer
from textual.worker import WorkerCancelled, WorkerFailed

from store import SessionDB
from tui.data import Browser, MessageView, ToolCall
from tui.render import Guarded, Terms, call_arguments_line, markdown_body, pretty_json, result_body
from tui.widgets.conversation import ConversationPane
from tui.widgets.message_view import Fold, MessageHead, pair_turns
from tui.widgets.session_header import SessionHeader

FIXED_DT = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
FIXED_TS = FIXED_DT.timestamp()
START_TS = FIXED_TS - 3 * 3600  # the main session starts three hours before "now"
MAIN = "20261120_090000_main"
PARENT = "20261119_080000_root"
CHILD_OLD = "20261120_100000_childa"
CHILD_NEW = "20261120_110000_childb"
EMPTY = "20261120_113000_empty"
HOSTILE = "20261120_114000_hostile"
BIG = "20261101_000000_big"
BIG_COUNT = 5_000

ANSWER = """Here is the fix for **the flaky deploy**:

1. pin the image tag
2. retry the health check

```python
def deploy(tag: str) -> None:
    run(["docker", "compose", "up", "-d"], env={"TAG": tag})
```

See [the runbook](https://example.com/runbook) for details."""

REASONING = (
    "The user wants the deploy to stop failing. The health check races the container start, "
    "so a retry with backoff should fix it; pinning the tag avoids pulling a moving target."
)


# ── fixtures ─────────────────────────────────────────────────────────────────────────────────


def _fix_times(path: Path, base: float, step: float = 60.0) -> None:
    """Deterministic timestamps: messages ``step`` seconds apart from their session's start."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE sessions SET started_at = ?, ended_at = NULL WHERE id = ?", (base, MAIN))
        conn.execute("UPDATE sessions SET ended_at = ?, end_reason = 'compression' WHERE id = ?",
                     (base + 3600, MAIN))
        conn.execute("UPDATE sessions SET started_at = ?, ended_at = ? WHERE id = ?",
                     (base - 86400, base - 80000, PARENT))
        conn.execute("UPDATE sessions SET started_at = ? WHERE id = ?", (base + 3600, CHILD_OLD))
        conn.execute("UPDATE sessions SET started_at = ? WHERE id = ?", (base + 7200, CHILD_NEW))
        conn.execute("UPDATE sessions SET started_at = ? WHERE id = ?", (base + 8000, EMPTY))
        conn.execute("UPDATE sessions SET started_at = ? WHERE id = ?", (base + 9000, HOSTILE))
        rows = conn.execute("SELECT id, session_id FROM messages ORDER BY id").fetchall()
        starts = dict(conn.execute("SELECT id, started_at FROM sessions"))
        for n, (mid, sid) in enumerate(rows):
            conn.execute("UPDATE messages SET timestamp = ? WHERE id = ?", (starts[sid] + step * n, mid))
    conn.close()


def build_conversation_db(path: Path) -> None:
    """A lineage (root → main → two children), an empty session and a hostile one."""
    db = SessionDB(path)
    try:
        db.create_session(PARENT, "cli", model="claude-sonnet-4")
        db.set_session_title(PARENT, "Deploy pipeline")
        db.append_message(PARENT, "user", "Set up the deploy pipeline.")
        db.end_session(PARENT, "compression")

        db.create_session(MAIN, "telegram", model="claude-sonnet-4", parent_session_id=PARENT)
        db.set_session_title(MAIN, "Deploy pipeline #2")
        db.append_message(MAIN, "system", "You are Hermes, a helpful agent.")
        db.append_message(MAIN, "user", "The deploy is flaky again. Can you look at the health check?")
        db.append_message(
            MAIN, "assistant", "Let me look at the logs first.", reasoning=REASONING,
            tool_calls=[
                {"id": "call_1", "type": "function",
                 "function": {"name": "web_search", "arguments": '{"query": "docker health check retry", "limit": 5}'}},
                {"id": "call_2", "type": "function",
                 "function": {"name": "read_file", "arguments": '{"path": "deploy/compose.yml"}'}},
            ],
            finish_reason="tool_calls",
        )
        db.append_message(MAIN, "tool", '{"results": [{"title": "Retry health checks", "url": "https://x.test"}]}',
                          tool_call_id="call_1", tool_name="web_search")
        db.append_message(MAIN, "tool", "services:\n  web:\n    image: app:latest\n    healthcheck: {}\n",
                          tool_call_id="call_2", tool_name="read_file")
        db.append_message(MAIN, "assistant", ANSWER, finish_reason="stop", token_count=412)
        db.append_message(MAIN, "user", "Thanks, the deploy works now.")
        db.update_token_counts(MAIN, input_tokens=12_400, output_tokens=3_100, cache_read_tokens=8_000,
                               cache_write_tokens=1_200, reasoning_tokens=640, estimated_cost_usd=0.0834)

        db.create_session(CHILD_OLD, "telegram", parent_session_id=MAIN)
        db.set_session_title(CHILD_OLD, "Deploy pipeline #3")
        db.create_session(CHILD_NEW, "telegram", parent_session_id=MAIN)
        db.set_session_title(CHILD_NEW, "Deploy pipeline #4")
        db.create_session(EMPTY, "cli")

        db.create_session(HOSTILE, "cli", model="[bold red]model[/]")
        db.set_session_title(HOSTILE, "[link=https://evil.test]click[/link] me")
        db.append_message(HOSTILE, "user", HOSTILE_TEXT)
        db.append_message(
            HOSTILE, "assistant", "[bold red]not bold[/] and \x1b[31mred\x1b[0m",
            reasoning="[blink]think[/] \x1b]52;c;aGk=\x07", tool_calls="{not json",
        )
        db.append_message(
            HOSTILE, "assistant", "calls with broken arguments",
            tool_calls=[{"id": "h1", "function": {"name": "[b]evil[/b]\x1b[2J", "arguments": "{oops: [}"}},
                        {"id": "h2", "function": {"name": "deep", "arguments": "[" * 5000 + "]" * 5000}}],
        )
        db.append_message(HOSTILE, "tool", "\x1b]52;c;aGk=\x07 result [/]\r\nline2", tool_call_id="h1")
        db.append_message(HOSTILE, "assistant", "x" * 200 + "\n" + ("word " * 20 + "\n") * 10_000)
    finally:
        db.close()
    _fix_times(path, START_TS)


HOSTILE_TEXT = (
    "[bold red]x[/] [link=https://evil.test]click[/link] OSC52 \x1b]52;c;aGk=\x07 clear \x1b[2J "
    "cr\rhere NUL\x00 bell\x07 [/]"
)
SURROGATE_TEXT = "lone surrogate \ud800 here [bold]x[/] \x1b[2J"  # SQLite cannot store it: a widget test


def build_big_db(path: Path, count: int = BIG_COUNT) -> None:
    """One session of ``count`` messages (user/assistant turns with tool calls), inserted in bulk."""
    db = SessionDB(path)
    try:
        db.create_session(BIG, "cli", model="gpt-5")
        db.set_session_title(BIG, "A very long session")
    finally:
        db.close()
    rows = []
    for i in range(count):
        ts = START_TS - 86400 + i * 10
        kind = i % 4
        if kind == 0:
            rows.append((BIG, "user", f"Question {i}: how do I tune **query {i}**?", None, None, None, ts))
        elif kind == 1:
            calls = f'[{{"id": "c{i}", "function": {{"name": "sql", "arguments": "{{\\"q\\": \\"select {i}\\"}}"}}}}]'
            rows.append((BIG, "assistant", f"Checking plan {i}.", None, calls, None, ts))
        elif kind == 2:
            rows.append((BIG, "tool", f"plan for {i}:\nSCAN t\nUSE INDEX idx_{i}", f"c{i - 1}", None, "sql", ts))
        else:
            body = f"Answer {i}: add an index.\n\n```sql\nCREATE INDEX idx_{i} ON t(c);\n```\n"
            if i == 123:
                body += "\nThe needle is here.\n"
            rows.append((BIG, "assistant", body, None, None, None, ts))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO messages (session_id, role, content, tool_call_id, tool_calls, tool_name, timestamp) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", rows,
        )
        conn.execute("UPDATE sessions SET message_count = ?, started_at = ? WHERE id = ?",
                     (count, START_TS - 86400, BIG))
    conn.close()


class Harness(App[None]):
    """The smallest app a ConversationPane needs: ``browser`` and a footer for its bindings."""

    def __init__(self, browser: Browser) -> None:
        super().__init__()
        self.browser = browser
        self.opened: list[str] = []

    def compose(self) -> ComposeResult:
        yield ConversationPane(id="conversation")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ConversationPane).focus()

    def on_conversation_pane_open_session_requested(self, event: ConversationPane.OpenSessionRequested) -> None:
        self.opened.append(event.session_id)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    path = tmp_path / "t.db"
    build_conversation_db(path)
    b = Browser(SessionDB(path), now=lambda: FIXED_DT)
    yield b
    b.close()


@pytest.fixture(scope="module")
def big_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.db"
    build_big_db(path)
    return path


async def settle(pilot: object, app: App[None]) -> None:
    """Wait for the workers (reads, then mounting, which may start more reads) to finish."""
    for _ in range(50):
        with suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()  # type: ignore[attr-defined]
        busy = any(pane.busy for pane in app.query(ConversationPane))
        if not busy and not any(worker.is_running for worker in app.workers):
            return


async def open_session(pilot: object, app: Harness, session_id: str, **kwargs: object) -> ConversationPane:
    pane = app.query_one(ConversationPane)
    pane.show_session(session_id, **kwargs)  # type: ignore[arg-type]
    await settle(pilot, app)
    return pane


def screen_text(app: App[None]) -> str:
    """What the terminal shows, as plain text (one line per row)."""
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


def rendered_text(widget: Fold | MessageHead) -> str:
    """Every line a turn widget renders (off screen too), as plain text."""
    width = max(40, widget.size.width or 100)
    height = widget.virtual_size.height or widget.size.height or 1
    from textual.geometry import Region

    strips = widget.render_lines(Region(0, 0, width, height))
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def parts(pane: ConversationPane) -> list[object]:
    return list(pane.scroller.children)


def folds(pane: ConversationPane, kind: str | None = None) -> list[Fold]:
    return [w for w in pane.scroller.children if isinstance(w, Fold) and (kind is None or w.kind == kind)]


# ── opening a session ────────────────────────────────────────────────────────────────────────


async def test_opening_shows_header_facts_and_messages_in_id_order(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, MAIN)
        assert pane.session_id == MAIN
        header = app.query_one(SessionHeader)
        text = header.plain()
        for fact in ("Deploy pipeline #2", MAIN, "telegram", "claude-sonnet-4", "started 3h ago",
                     "(2026-11-20 09:00)", "ended 2026-11-20 10:00", "compression", "7 messages",
                     "in 12.4k", "out 3.1k", "cache read 8.0k", "cache write 1.2k", "reasoning 640",
                     "$0.0834 est.", "↑ parent: Deploy pipeline", "↓ 2 children", "Deploy pipeline #4",
                     "segment 2 of 3"):
            assert fact in text, fact
        heads = pane.heads()
        ids = [h.turn.message.id for h in heads]
        assert ids == sorted(ids)
        assert [h.turn.message.role for h in heads] == ["system", "user", "assistant", "assistant", "user"]
        screen = screen_text(app)
        assert "Thanks, the deploy works now." in screen
        assert "2h ago · 2026-11-20 09:07" in screen  # relative and absolute time on each message
        # the newest message is at the bottom, under the cursor
        assert pane.cursor is heads[-1]


async def test_reasoning_is_folded_space_expands_and_f_folds_all(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, MAIN)
        reasoning = folds(pane, "reasoning")[0]
        assert not reasoning.expanded and not reasoning.body_built  # built lazily
        assert "reasoning · 31 words" in rendered_text(reasoning)
        assert "health check races" not in screen_text(app)
        while pane.cursor is not reasoning:
            await pilot.press("k")
        await pilot.press("space")
        assert reasoning.expanded and reasoning.body_built
        assert "health check races" in rendered_text(reasoning)
        await pilot.press("space")
        assert not reasoning.expanded
        await pilot.press("f")
        assert all(f.expanded for f in folds(pane))
        await pilot.press("f")
        assert not any(f.expanded for f in folds(pane))


async def test_a_click_on_a_fold_opens_it_and_moves_the_cursor_there(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, MAIN)
        call = folds(pane, "call")[0]
        assert not call.expanded and pane.cursor is not call
        await pilot.click(call)
        await pilot.pause()
        assert call.expanded and pane.cursor is call
        assert '"query": "docker health check retry"' in rendered_text(call)
        await pilot.click(call, offset=(2, 0))  # the summary line again: it folds
        await pilot.pause()
        assert not call.expanded


async def test_tool_call_fold_shows_name_and_arguments_and_expands_to_json(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, MAIN)
        calls = folds(pane, "call")
        assert [c.has_hit for c in calls] == [False, False]
        line = rendered_text(calls[0])
        assert line.strip() == '▌ ▸ web_search(query="docker health check retry", limit=5)'  # one line
        children = parts(pane)
        result = children[children.index(calls[0]) + 1]
        assert isinstance(result, Fold) and result.kind == "result" and not result.expanded
        assert "result · 1 line" in rendered_text(result)
        assert "result · 4 lines" in rendered_text(children[children.index(calls[1]) + 1])
        while pane.cursor is not calls[0]:
            await pilot.press("k")
        await pilot.press("space")
        body = rendered_text(calls[0])
        assert '  "query": "docker health check retry",' in body  # pretty JSON, indented
        assert '  "limit": 5' in body
        assert not result.expanded  # the result stays folded beneath
        await pilot.press("j", "space")
        assert pane.cursor is result and result.expanded
        assert '"title": "Retry health checks"' in rendered_text(result)


async def test_brackets_ask_to_open_parent_and_newest_child(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_session(pilot, app, MAIN)
        await pilot.press("left_square_bracket")
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.opened == [PARENT, CHILD_NEW]
        await open_session(pilot, app, EMPTY)  # no lineage: nothing is posted
        await pilot.press("left_square_bracket", "right_square_bracket")
        await pilot.pause()
        assert app.opened == [PARENT, CHILD_NEW]


async def test_parent_and_child_titles_in_the_header_are_links(browser: Browser) -> None:
    """The mouse works too: a click on the parent's title, or on any child's (not only the newest,
    which ] opens), asks to open that session."""
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_session(pilot, app, MAIN)
        header = app.query_one(SessionHeader)
        assert header.facts is not None
        lines = [line.plain for line in header.facts.lines(header.content_region.width)]

        async def click_on(text: str, after: str = "") -> None:
            row = next(i for i, line in enumerate(lines) if after + text in line)
            col = lines[row].index(after + text) + len(after) + 1
            await pilot.click(SessionHeader, offset=(header.styles.padding.left + col, row))
            await pilot.pause()

        assert "↓ 2 children: Deploy pipeline #4, Deploy pipeline #3" in "\n".join(lines)
        await click_on("Deploy pipeline", after="↑ parent: ")
        assert app.opened == [PARENT]
        await click_on("Deploy pipeline #3")
        assert app.opened == [PARENT, CHILD_OLD]
        await click_on("parent", after="↑ ")  # the label is not a link, nor are the other facts
        await click_on("started")
        assert app.opened == [PARENT, CHILD_OLD]


async def test_empty_session_missing_session_and_clear_show_an_empty_state(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(ConversationPane)
        assert "Select a session" in screen_text(app)
        await open_session(pilot, app, EMPTY)
        assert "This session has no messages." in screen_text(app)
        assert EMPTY in app.query_one(SessionHeader).plain()
        await pilot.press("j", "k", "space", "f", "n", "home", "end")  # nothing to do, nothing breaks
        await open_session(pilot, app, "no-such-session")
        assert "This session no longer exists." in screen_text(app)
        await open_session(pilot, app, MAIN)
        pane.clear()
        await pilot.pause()
        assert pane.session_id is None and not pane.heads()
        assert "Select a session" in screen_text(app)


async def test_a_newer_request_wins_over_a_slower_older_one(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(ConversationPane)
        pane.show_session(HOSTILE)
        pane.show_session(EMPTY)
        pane.show_session(MAIN)
        await settle(pilot, app)
        assert pane.session_id == MAIN
        assert app.query_one(SessionHeader).detail.id == MAIN  # type: ignore[union-attr]
        assert {h.turn.message.session_id for h in pane.heads()} == {MAIN}


# ── search hits ──────────────────────────────────────────────────────────────────────────────


def hit_segments(app: App[None]) -> list[str]:
    """Texts painted with the hit style on screen."""
    from tui.render import HIT_STYLE

    out = []
    for strip in app.screen._compositor.render_strips():
        for seg in strip:
            if seg.style is not None and seg.style.bgcolor == HIT_STYLE.bgcolor:
                out.append(seg.text)
    return out


async def test_show_session_with_message_id_scrolls_to_and_highlights_it(big_path: Path) -> None:
    browser = Browser(SessionDB(big_path), now=lambda: FIXED_DT)
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, BIG, message_id=124, highlight='"needle" AND index*')
        assert pane.terms is not None and pane.terms.words == ("needle", "index")
        cursor = pane.cursor
        assert isinstance(cursor, MessageHead) and cursor.turn.message.id == 124
        scroller = pane.scroller
        top = cursor.virtual_region.y
        assert scroller.scroll_y <= top < scroller.scroll_y + scroller.scrollable_content_region.height
        painted = "".join(hit_segments(app)).lower()
        assert "needle" in painted and "index" in painted  # in that message and the others around
        assert "The needle is here." in screen_text(app)
        assert not pane.at_start and not pane.at_end
    browser.close()


async def test_n_and_shift_n_move_between_hits_loading_pages(big_path: Path) -> None:
    browser = Browser(SessionDB(big_path), now=lambda: FIXED_DT)
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, BIG, highlight="needle")
        assert pane.heads()[0].turn.first_id > 4000  # the newest page; the hit is far above
        await pilot.press("N")
        await settle(pilot, app)
        cursor = pane.cursor
        assert isinstance(cursor, MessageHead) and cursor.turn.message.id == 124
        await pilot.press("N")
        await settle(pilot, app)
        assert pane.cursor is cursor  # no older hit: stays, says so
        assert any("No more matches" in n.message for n in app._notifications)
        await pilot.press("n")
        await settle(pilot, app)
        assert pane.cursor is cursor
    browser.close()


async def test_n_moves_between_hits_in_the_window(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, MAIN, message_id=3, highlight="deploy")
        assert pane.cursor is not None and pane.cursor.message_id == 3
        seen = [3]
        for _ in range(3):
            await pilot.press("n")
            await settle(pilot, app)
            assert pane.cursor is not None
            seen.append(pane.cursor.message_id)
        assert seen == [3, 4, 7, 8]  # 4: "deploy" is in its reasoning: the cursor rests on that fold
        reasoning = folds(pane, "reasoning")[0]
        assert reasoning.expanded and pane.cursor is not reasoning
        await pilot.press("n")
        assert pane.cursor is not None and pane.cursor.message_id == 8
        assert any("No more matches" in n.message for n in app._notifications)
        for expected in (7, 4, 3):
            await pilot.press("N")
            assert pane.cursor is not None and pane.cursor.message_id == expected


async def test_a_hit_already_in_the_window_is_shown_without_reading_again(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, MAIN, message_id=3, highlight="deploy")
        heads = pane.heads()
        await open_session(pilot, app, MAIN, message_id=7, highlight="deploy")
        assert pane.heads() == heads  # the same widgets: no reload
        assert pane.cursor is not None and pane.cursor.message_id == 7
        await open_session(pilot, app, MAIN, message_id=7, highlight="flaky")  # new words: repainted
        assert pane.heads() != heads and pane.terms is not None and pane.terms.words == ("flaky",)


async def test_a_hit_inside_a_tool_result_opens_that_fold(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, MAIN, message_id=6, highlight="healthcheck")
        cursor = pane.cursor
        assert isinstance(cursor, Fold) and cursor.kind == "result" and cursor.message_id == 6
        assert cursor.expanded and "healthcheck" in "".join(hit_segments(app))


# ── a 5,000-message session ──────────────────────────────────────────────────────────────────


async def test_a_5000_message_session_opens_a_window_and_loads_older_at_the_top(big_path: Path) -> None:
    browser = Browser(SessionDB(big_path), now=lambda: FIXED_DT)
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(ConversationPane)
        await pilot.pause()
        started = time.perf_counter()
        pane.show_session(BIG)
        while not pane.heads():
            await asyncio.sleep(0.002)
        first_mount = time.perf_counter() - started
        assert len(pane.heads()) < 20  # the screenful mounted first; the rest of the page follows
        await settle(pilot, app)
        heads = pane.heads()
        assert heads[-1].turn.last_id == BIG_COUNT  # the newest message, at the bottom
        assert 30 <= len(heads) <= 60 and len(parts(pane)) <= 150  # a window, not 5,000 widgets
        assert not pane.at_start and pane.at_end
        assert first_mount < 2.0, f"first mount took {first_mount:.2f}s"
        first = heads[0].turn.first_id
        pane.scroller.scroll_home(animate=False, immediate=True)  # the top of the window
        await settle(pilot, app)
        assert pane.heads()[0].turn.first_id < first  # an older page was prepended
        assert pane.heads()[-1].turn.last_id == BIG_COUNT
        # the view stayed on what it showed: the old first turn is now far below the top
        old_first = next(h for h in pane.heads() if h.turn.first_id == first)
        assert old_first.virtual_region.y >= pane.scroller.scroll_y
    browser.close()


async def test_moving_past_the_top_loads_older_turns_and_far_ones_are_trimmed(
    big_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ConversationPane, "PAGE", 16)
    monkeypatch.setattr(ConversationPane, "MAX_TURNS", 30)
    monkeypatch.setattr(ConversationPane, "TRIM_TO", 20)
    browser = Browser(SessionDB(big_path), now=lambda: FIXED_DT)
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, BIG)
        for _ in range(10):
            pane.scroller.scroll_home(animate=False, immediate=True)
            await settle(pilot, app)
            if not pane.at_end:
                break
        assert not pane.at_end and not pane.at_start  # turns far below were removed
        assert pane.heads()[-1].turn.last_id < BIG_COUNT
        assert len(pane.heads()) <= 30 + 16
        before = pane.heads()[0].turn.first_id
        stops = [w for w in parts(pane) if isinstance(w, (MessageHead, Fold))]
        pane._set_cursor(stops[0])  # type: ignore[arg-type]
        await pilot.press("k")  # past the top: reads the previous page, then moves onto it
        await settle(pilot, app)
        assert pane.heads()[0].turn.first_id < before
        assert pane.cursor is not stops[0]
        assert pane.cursor is not None and pane.cursor.message_id < before
        pane.scroller.scroll_end(animate=False, immediate=True)  # the bottom reads newer pages back
        await settle(pilot, app)
        assert pane.heads()[-1].turn.last_id > before
        await pilot.press("home")  # the session's first page
        await settle(pilot, app)
        assert pane.at_start and pane.heads()[0].turn.first_id == 1
        assert pane.cursor is pane.heads()[0]
        await pilot.press("end")  # its last page
        await settle(pilot, app)
        assert pane.at_end and pane.heads()[-1].turn.last_id == BIG_COUNT
    browser.close()


# ── hostile content ──────────────────────────────────────────────────────────────────────────


FORBIDDEN = ("\x1b", "\x07", "\x00", "\r", "\x9b", "\x9d")


def assert_clean(text: str) -> None:
    for ch in FORBIDDEN:
        assert ch not in text, repr(ch)


async def test_hostile_content_renders_literally_and_never_reaches_the_terminal(browser: Browser) -> None:
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, HOSTILE)
        await pilot.press("f")  # every fold open: invalid JSON, raw tool calls, deep JSON
        await pilot.press("home")
        await settle(pilot, app)
        screen = screen_text(app)
        assert_clean(screen)
        assert_clean(app.export_screenshot())
        assert "[bold red]x[/]" in screen  # Rich markup shows as typed
        assert "[link=https://evil.test]click[/link] me" in screen  # the title too
        assert "[bold red]model[/]" in screen
        everything = "\n".join(rendered_text(w) for w in parts(pane))  # off screen too
        assert_clean(everything)
        assert "[blink]think[/]" in everything
        assert "{not json" in everything  # tool_calls that are not a call list
        assert "[b]evil[/b]" in everything and "{oops: [}" in everything  # invalid JSON arguments
        assert "[[[[[" in everything  # too deep to parse: shown raw
        assert "more characters" in everything  # the 1 MB message is cut
        assert "OSC52 \ufffd clear \ufffd cr\u240dhere NUL\u2400" in everything
        # no terminal hyperlink, no matter what
        assert "\x1b]8" not in everything


async def test_a_lone_surrogate_and_a_raising_renderable_never_break_rendering(browser: Browser) -> None:
    from tui.widgets.message_view import Turn, turn_widgets

    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_session(pilot, app, MAIN)
        message = MessageView(id=999, session_id=MAIN, role="assistant", content=SURROGATE_TEXT,
                              timestamp=START_TS, reasoning="\ud800", tool_calls=(ToolCall("x", "t\ud800", "{"),))
        widgets = turn_widgets(Turn(message), now=FIXED_DT, expanded=True)
        await pane.scroller.mount_all(widgets)
        await pilot.pause()
        text = "\n".join(rendered_text(w) for w in widgets)  # type: ignore[arg-type]
        assert_clean(text)
        assert "lone surrogate \ufffd here [bold]x[/]" in text
        guard = Guarded(lambda: 1 / 0, fallback="plain [b]fallback[/b]")  # type: ignore[arg-type,return-value]
        lines = Console(width=40).render_lines(guard)
        assert "plain [b]fallback[/b]" in "".join(seg.text for line in lines for seg in line)


async def test_a_huge_message_renders_fast(tmp_path: Path) -> None:
    path = tmp_path / "huge.db"
    db = SessionDB(path)
    db.create_session("huge", "cli")
    db.append_message("huge", "user", "a line of text\n" * 70_000)  # 1 MB
    db.append_message("huge", "assistant", "ok", tool_calls=[{"id": "1", "function": {
        "name": "write", "arguments": '{"text": "' + "y" * 1_000_000 + '"}'}}])
    db.append_message("huge", "tool", "z" * 1_000_000, tool_call_id="1")
    db.close()
    browser = Browser(SessionDB(path), now=lambda: FIXED_DT)
    app = Harness(browser)
    async with app.run_test(size=(120, 40)) as pilot:
        started = time.perf_counter()
        pane = await open_session(pilot, app, "huge")
        await pilot.press("f")
        await pilot.pause()
        assert time.perf_counter() - started < 5
        text = "\n".join(rendered_text(w) for w in parts(pane))
        assert text.count("more characters") == 3
    browser.close()


# ── pure parts ───────────────────────────────────────────────────────────────────────────────


def test_terms_ignore_fts_syntax_and_match_case_insensitively() -> None:
    terms = Terms.parse('"Docker Compose" OR -health* NEAR(x y) content:build AND')
    assert terms is not None
    assert terms.words == ("Docker", "Compose", "health", "x", "y", "build")
    assert terms.any_word
    assert terms.matches("the DOCKER daemon")
    strict = Terms.parse("docker compose")
    assert strict is not None and not strict.any_word
    assert strict.matches("Docker and compose") and not strict.matches("docker only")
    assert Terms.parse("") is None and Terms.parse('" * ( )') is None


def test_call_arguments_line_is_one_short_line() -> None:
    call = ToolCall("1", "web_search", '{"query": "cats\\nand dogs", "n": 3, "deep": {"a": [1, 2]}}')
    assert call_arguments_line(call) == 'query="cats\\nand dogs", n=3, deep={"a": [1, 2]}'
    long = ToolCall("2", "x", '{"text": "' + "w" * 500 + '"}')
    assert len(call_arguments_line(long)) < 80
    assert call_arguments_line(ToolCall("3", "x", "{oops\n: [}")) == "{oops : [}"
    assert call_arguments_line(ToolCall("4", "x", "")) == ""
    assert pretty_json("[" * 5000 + "]" * 5000) is None
    assert pretty_json('{"a": 1}') == '{\n  "a": 1\n}'


def test_bodies_are_cut_and_links_are_not_hyperlinks() -> None:
    console = Console(width=80, force_terminal=True, color_system="truecolor")
    with console.capture() as capture:
        console.print(markdown_body("[docs](https://evil.test) " + "x" * 30_000))
    out = capture.get()
    assert "\x1b]8;" not in out  # no OSC 8 hyperlink
    assert "https://evil.test" in out and "more characters" in out
    with console.capture() as capture:
        console.print(result_body("\x1b[31mred\x1b[0m \x1b]52;c;aGk=\x07"))
    assert "red \ufffd" in re.sub(r"\x1b\[[0-9;]*m", "", capture.get())


def test_tool_results_pair_with_their_calls() -> None:
    def m(i: int, role: str, **kw: object) -> MessageView:
        return MessageView(id=i, session_id="s", role=role, content=f"c{i}", timestamp=0, **kw)  # type: ignore[arg-type]

    calls = (ToolCall("a", "one", "{}"), ToolCall("b", "two", "{}"), ToolCall(None, "three", "{}"))
    msgs = [m(1, "user"), m(2, "assistant", tool_calls=calls), m(3, "tool", tool_call_id="b"),
            m(4, "tool", tool_call_id="a"), m(5, "tool"), m(6, "tool"), m(7, "assistant")]
    turns = pair_turns(msgs)
    assert [t.message.id for t in turns] == [1, 2, 6, 7]
    assert [r.id if r else None for r in turns[1].results] == [4, 3, 5]
    assert turns[1].message_ids == (2, 4, 3, 5)


def test_conversation_pages_are_cut_at_turn_boundaries(big_path: Path) -> None:
    browser = Browser(SessionDB(big_path), now=lambda: FIXED_DT)
    try:
        tail = browser.conversation_page(BIG, limit=10)
        assert tail.at_end and not tail.at_start and tail.messages[-1].id == BIG_COUNT
        assert tail.messages[0].role != "tool"
        older = browser.conversation_page(BIG, before_id=tail.messages[0].id, limit=10)
        assert older.messages[-1].id == tail.messages[0].id - 1 and older.messages[0].role != "tool"
        last = older.messages[-1]
        assert not (last.role == "tool" or last.tool_calls)  # never ends between a call and its result
        head = browser.conversation_page(BIG, after_id=0, limit=7)
        assert head.at_start and head.messages[0].id == 1
        after = browser.messages_after(BIG, head.messages[-1].id, limit=1)
        assert after[0].role != "tool"  # the results of the last call are all in the page
        around = browser.conversation_page(BIG, around_id=124, limit=20)
        assert around.target_id == 124 and 124 in [m.id for m in around.messages]
        assert not around.at_start and not around.at_end
        missing = browser.conversation_page(BIG, around_id=10**9, limit=5)
        assert missing.target_id is None and missing.at_end
        needle = Terms.parse("needle")
        assert needle is not None
        found = browser.find_message(BIG, lambda msg: needle.matches(msg.content), before_id=BIG_COUNT)
        assert found == 124
        assert browser.find_message(BIG, lambda msg: needle.matches(msg.content), after_id=124) is None
    finally:
        browser.close()
