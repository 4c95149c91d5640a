"""Benchmark the app (``tui/``) headless, and print one Markdown table with PASS/MISS per target.

    python -m bench.bench_tui [--quick] [--db PATH]

Measured in one run, every app driven by ``App.run_test(size=(120, 40))``:

1. launch: from constructing ``HermesBrowseApp`` (opening the database read-only, as the CLI does,
   in its worker) to the first *painted* frame that shows the session list's first row, against an
   empty ``textual.app.App`` constructed and run the same way, to its first painted frame;
2. search: from the last keystroke typed into the search bar to the first painted frame that shows
   that query's results (raw, and minus the panel's debounce); also, for information, to the moment
   the panel applied them;
3. a 5,000-message conversation: ``ConversationPane.show_session`` until its first screen is
   painted (the pane's ``_settling`` flag drops after two frames with the window mounted);
4. memory: VmRSS / VmHWM of a fresh process (a child of this one) after launching on the big
   database, paging the list to its end, opening sessions (the 5,000-message one included) and
   searching.

**What "painted" means here.** Textual paints from ``Screen._on_timer_update`` (at most 60 times a
second, when widgets are dirty) or ``Screen._refresh_layout``: both end in ``Screen._compositor_refresh``,
which renders the dirty regions into a ``CompositorUpdate`` and hands it to ``App._display``. On a
real terminal ``App._display`` turns it into escape sequences (``render_segments``) and the driver
writes them; under ``run_test`` the driver is headless and ``_display`` skips both. ``FrameClock``
wraps ``App._display``: it lets the original run, then does what a real terminal's ``_display``
would (``render_segments``, without the write) and stamps the frame's time *after* that, so a
frame's time includes all of the work to produce its bytes. The frame's text (escape sequences
stripped) is what tells which frame first shows something: the session list's first row title,
or the search status "… for “query”" (set in the same UI-thread call as the result options, so the
frame that shows it shows them too). The empty app and hermes-browse are clocked by the same hook.
(``pilot.pause()`` is no frame clock: it waits for all widgets' queues and for the CPU to idle, and
then forces a repaint.)

The big database is the cached ``bench/.cache/demo-m1000000-s100000-seed7.db`` (opened read-only),
or one generated with ``store.demo.generate`` (``--quick``: 5,000 sessions). The 5,000-message
session lives in a small temporary database filled with plain SQL copies of real demo messages.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from textual._compositor import CompositorUpdate
from textual.app import App

from store import SessionDB
from tui.app import HermesBrowseApp
from tui.data import Browser
from tui.screens.main import MainScreen
from tui.text import one_line
from tui.widgets.conversation import ConversationPane
from tui.widgets.search_panel import SearchPanel
from tui.widgets.session_list import SessionList

CACHE = Path(__file__).resolve().parent / ".cache"
FULL_DB = CACHE / "demo-m1000000-s100000-seed7.db"
QUICK_DB = CACHE / "tui-quick-s5000-seed7.db"
SIZE = (120, 40)
BIG_SESSION = 5000
TIMEOUT = 60.0
HIGHLIGHT_SETTLE = 0.4  # > the main screen's 0.15 s highlight debounce

TARGET_LAUNCH_EXTRA = 0.5
TARGET_SEARCH_P95 = 0.100
TARGET_OPEN = 0.300
TARGET_RSS_MB = 200.0

FALLBACK_QUERIES = {
    "common": ["error", "file", "test", "config", "python"],
    "rare": ["kubern", "namesp", "dotfil", "clust", "journa"],
    "prefix": ["deplo", "retr", "concu", "invest", "bench"],
    "cjk": ["错误", "文件", "测试", "配置", "问题"],
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "textual": version("textual"),
    }


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


async def wait_for(cond: Callable[[], bool], what: str, timeout: float = TIMEOUT, step: float = 0.001) -> None:
    deadline = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(step)


def main_screen(app: App[Any]) -> MainScreen | None:
    screen = app.screen
    return screen if isinstance(screen, MainScreen) else None


_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


class FrameClock:
    """Stamps every frame ``app`` paints (see the module docstring) and finds the first frame
    whose text satisfies a test, checked as each frame is painted (no polling delay)."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.frames = 0
        self._waiters: list[tuple[Callable[[str], bool], list[float]]] = []
        display = app._display

        def _display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is None or app._batch_count:
                return  # the original drew nothing either
            if isinstance(renderable, CompositorUpdate):
                data = renderable.render_segments(app.console)
            else:
                data = "".join(seg.text for seg in app.console.render(renderable))
            now = time.perf_counter()
            self.frames += 1
            if self._waiters:
                text = _ESCAPES.sub("", data)
                for test, found in self._waiters:
                    if not found and test(text):
                        found.append(now)

        app._display = _display  # type: ignore[method-assign]

    def watch(self, test: Callable[[str], bool]) -> list[float]:
        """From now on, note the time of the first painted frame whose text passes ``test``
        (the returned list gets it)."""
        found: list[float] = []
        self._waiters.append((test, found))
        return found

    async def first(self, found: list[float], what: str, timeout: float = TIMEOUT) -> float:
        await wait_for(lambda: bool(found), what, timeout)
        self._waiters = [w for w in self._waiters if w[1] is not found]
        return found[0]


class TimedList(list):  # type: ignore[type-arg]
    """``SearchPanel.applied`` that also notes when each query's results were applied."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, item: Any) -> None:
        self.times.append(time.perf_counter())
        super().append(item)


def row_label(app: App[Any]) -> str | None:
    """The start of the session list's first row as painted (its title, or preview), once loaded."""
    screen = main_screen(app)
    if screen is None:
        return None
    try:
        row = screen.query_one(SessionList).row_at(0)
    except Exception:
        return None
    if row is None:
        return None
    label = one_line(row.title) if row.title else one_line(row.preview) or "(no messages)"
    return label[:12]


def first_rows_loaded(app: App[Any]) -> bool:
    screen = main_screen(app)
    if screen is None:
        return False
    try:
        return screen.query_one(SessionList).row_at(0) is not None
    except Exception:
        return False


# ── databases ─────────────────────────────────────────────────────────────────────────────


def big_db(path: Path | None, quick: bool) -> Path:
    if path is not None:
        return path
    if not quick and FULL_DB.exists():
        return FULL_DB
    target = QUICK_DB if quick else FULL_DB
    if not target.exists():
        from store.demo import generate

        sessions = 5000 if quick else 100_000
        log(f"generating {target} ({sessions:,} sessions; the full size takes minutes)…")
        CACHE.mkdir(parents=True, exist_ok=True)
        generate(target, sessions=sessions, seed=7)
    return target


def build_big_session(source_db: Path, dest: Path, n: int = BIG_SESSION) -> str:
    """A database with one ``n``-message session: whole demo sessions' messages (text, tool calls,
    tool results, reasoning), copied in order with plain SQL into one session."""
    SessionDB(dest).close()  # the schema (tables, FTS triggers)
    src = sqlite3.connect(f"file:{source_db}?mode=ro", uri=True)
    ids = [r[0] for r in src.execute("SELECT id FROM sessions ORDER BY message_count DESC LIMIT 2000")]
    cols = (
        "role, content, tool_call_id, tool_calls, tool_name, token_count, finish_reason, reasoning, "
        "reasoning_details, codex_reasoning_items"
    )
    rows: list[tuple[Any, ...]] = []
    for sid in ids:
        rows.extend(src.execute(f"SELECT {cols} FROM messages WHERE session_id = ? ORDER BY id", (sid,)))
        if len(rows) >= n:
            break
    src.close()
    rows = rows[:n]
    session_id = "bench-5000-messages"
    start = time.time() - 5 * n - 3600
    con = sqlite3.connect(dest)
    with con:
        con.execute(
            "INSERT INTO sessions (id, source, model, started_at, message_count, tool_call_count, title) "
            "VALUES (?, 'cli', 'claude-sonnet-4', ?, ?, ?, 'A 5,000-message session')",
            (session_id, start, len(rows), sum(1 for r in rows if r[3])),
        )
        con.executemany(
            f"INSERT INTO messages (session_id, timestamp, {cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(session_id, start + 5 * i, *r) for i, r in enumerate(rows)],
        )
    kinds = {
        "tool_calls": sum(1 for r in rows if r[3]),
        "tool results": sum(1 for r in rows if r[0] == "tool"),
        "reasoning": sum(1 for r in rows if r[7]),
    }
    con.close()
    log(f"built the {len(rows)}-message session ({kinds})")
    return session_id


def search_queries(db: Path) -> list[tuple[str, str]]:
    meta = db.with_suffix(".json")
    picked: dict[str, list[str]] = {}
    if meta.exists():
        queries = json.loads(meta.read_text()).get("queries", {})
        picked = {
            "common": queries.get("common", [])[:5],
            "rare": queries.get("rare", [])[:5],
            "prefix": queries.get("prefix", [])[:5],
            "cjk": queries.get("cjk34", [])[:3] + queries.get("cjk2", [])[:2],
        }
    for kind, fallback in FALLBACK_QUERIES.items():
        if len(picked.get(kind, [])) < 5:
            picked[kind] = fallback
    return [(kind, q) for kind, qs in picked.items() for q in qs]


# ── 1. launch ─────────────────────────────────────────────────────────────────────────────


async def launch_empty() -> float:
    t0 = time.perf_counter()
    app: App[None] = App()
    clock = FrameClock(app)
    painted = clock.watch(lambda text: True)
    async with app.run_test(size=SIZE):
        return await clock.first(painted, "the empty app's first frame") - t0


async def launch_hermes(db: Path) -> float:
    t0 = time.perf_counter()
    app = HermesBrowseApp(db, read_only=True)
    clock = FrameClock(app)

    def shows_first_row(text: str) -> bool:
        label = row_label(app)
        return label is not None and label in text

    painted = clock.watch(shows_first_row)
    try:
        async with app.run_test(size=SIZE):
            return await clock.first(painted, "the first painted page of sessions") - t0
    finally:
        app.close_store()


# ── 2. search ─────────────────────────────────────────────────────────────────────────────


async def type_text(pilot: Any, text: str) -> float:
    """Press each character; return the time just before the last keystroke."""
    for ch in text[:-1]:
        await pilot.press(ch)
    t_last = time.perf_counter()
    await pilot.press(text[-1])
    return t_last


async def bench_search(db: Path, queries: list[tuple[str, str]]) -> tuple[list[dict[str, Any]], float]:
    app = HermesBrowseApp(db, read_only=True)
    out: list[dict[str, Any]] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: first_rows_loaded(app), "the first page of sessions")
            screen = main_screen(app)
            assert screen is not None
            panel = screen.query_one(SearchPanel)
            panel.applied = applied_at = TimedList()
            clock = FrameClock(app)
            debounce = panel.debounce
            store_calls: list[tuple[str, float, float]] = []  # query, start, end of the store's search
            browser = app.browser
            search = browser.search

            def timed_search(query: str, *a: Any, **k: Any) -> Any:
                t = time.perf_counter()
                try:
                    return search(query, *a, **k)
                finally:
                    store_calls.append((query, t, time.perf_counter()))

            browser.search = timed_search  # type: ignore[method-assign]
            await pilot.press("slash")
            pane = screen.query_one(ConversationPane)
            for kind, query in [("warm-up", "warmup"), *queries]:
                # the previous query's first hit opens in the pane after a debounce: let it finish,
                # so each query is timed on an idle UI (as after a pause in typing)
                await pilot.pause(HIGHLIGHT_SETTLE)
                await wait_for(lambda: not pane.busy, "the pane")
                screen.search_input.value = ""
                await pilot.pause()
                await wait_for(lambda: panel.result is None, "the cleared search")
                before = len(panel.applied)
                store_calls.clear()
                shown = clock.watch(lambda text, q=query: f"for “{q}”" in text)  # type: ignore[misc]
                t_last = await type_text(pilot, query)
                await wait_for(
                    lambda q=query, b=before: len(panel.applied) > b and panel.applied[-1] == q,  # type: ignore[misc]
                    f"results for {query!r}",
                )
                applied = applied_at.times[-1]
                painted = await clock.first(shown, f"the painted results for {query!r}")
                calls = [c for c in store_calls if c[0] == query]
                start, end = (calls[-1][1], calls[-1][2]) if calls else (applied, applied)
                if kind != "warm-up":
                    out.append(
                        {"kind": kind, "query": query, "applied": applied - t_last, "painted": painted - t_last,
                         "hits": len(panel.hits), "store": end - start, "to_store": start - t_last,
                         "ui": applied - end}
                    )
                    log(
                        f"  search {kind:7} {query!r:24} {1000 * (painted - t_last):7.1f} ms "
                        f"(store {1000 * (end - start):.1f} ms, apply {1000 * (applied - end):.1f} ms, "
                        f"paint {1000 * (painted - applied):.1f} ms)  "
                        f"{len(panel.hits)} hits"
                    )
    finally:
        app.close_store()
    return out, debounce


# ── 3. the 5,000-message conversation ─────────────────────────────────────────────────────


async def open_big_session(small: Path, session_id: str, reps: int) -> tuple[list[float], list[float]]:
    browser = Browser(SessionDB(small, read_only=True))
    app = HermesBrowseApp(browser=browser)
    first: list[float] = []
    settled: list[float] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: first_rows_loaded(app), "the list")
            screen = main_screen(app)
            assert screen is not None
            pane = screen.query_one(ConversationPane)
            # the highlighted row opens by itself after the highlight debounce: let that finish
            await wait_for(lambda: pane.session_id == session_id and not pane.busy, "the automatic open")
            await pilot.pause()
            for _ in range(reps + 1):  # the first one warms up
                pane.clear()
                await pilot.pause()
                t0 = time.perf_counter()
                pane.show_session(session_id)
                await wait_for(
                    lambda: pane.detail is not None and not pane._settling and bool(pane.heads()),
                    "the first screen",
                )
                t1 = time.perf_counter()
                await wait_for(lambda: not pane.busy, "the whole window")
                t2 = time.perf_counter()
                first.append(t1 - t0)
                settled.append(t2 - t0)
                await pilot.pause()
    finally:
        app.close_store()
    log(f"  open 5,000 messages: first screen {[round(1000 * x) for x in first[1:]]} ms")
    return first[1:], settled[1:]


# ── 4. memory (in a child process, so it starts clean) ────────────────────────────────────


def status_kb() -> dict[str, int]:
    """The kB figures of /proc/self/status (VmRSS, VmHWM, RssAnon, RssFile, ...)."""
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            out[key] = int(rest.split()[0])
    return out


def rss_kb() -> tuple[int, int]:
    st = status_kb()
    return st.get("VmRSS", 0), st.get("VmHWM", 0)


async def memory_child(db: Path, small: Path, session_id: str, queries: list[str]) -> dict[str, Any]:
    app = HermesBrowseApp(db, read_only=True)
    result: dict[str, Any] = {}
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: first_rows_loaded(app), "the first page of sessions")
            result["after_launch_kb"] = rss_kb()[0]
            screen = main_screen(app)
            assert screen is not None
            lst = screen.query_one(SessionList)
            pane = screen.query_one(ConversationPane)
            lst.focus()
            await pilot.press("end")
            total = lst.total or 0
            await wait_for(lambda: lst.row_at(total - 1) is not None, "the last page")
            await pilot.pause(0.5)
            await wait_for(lambda: not pane.busy, "the pane")
            opened = 0
            for index in (total - 1, total // 2, 0, 1, 2):
                row = lst.row_at(index)
                if row is None:
                    lst.cursor = index
                    await wait_for(lambda i=index: lst.row_at(i) is not None, "a page")  # type: ignore[misc]
                    row = lst.row_at(index)
                assert row is not None
                pane.show_session(row.id)
                await wait_for(lambda r=row: pane.session_id == r.id and not pane.busy, "a session")  # type: ignore[misc]
                opened += 1
            # the 5,000-message session lives in another database: point the app at it meanwhile
            big_browser = app.browser
            app.browser = Browser(SessionDB(small, read_only=True))
            try:
                pane.show_session(session_id)
                await wait_for(lambda: pane.session_id == session_id and not pane.busy, "the big session")
                await pilot.pause(0.3)
                result["after_big_session_kb"] = rss_kb()[0]
            finally:
                small_browser, app.browser = app.browser, big_browser
            panel = screen.query_one(SearchPanel)
            await pilot.press("slash")
            for query in queries:
                screen.search_input.value = query
                await wait_for(lambda q=query: bool(panel.applied) and panel.applied[-1] == q, "a search")  # type: ignore[misc]
            await pilot.pause(0.2)
            gc.collect()
            st = status_kb()
            result.update(rss_kb=st.get("VmRSS", 0), hwm_kb=st.get("VmHWM", 0), anon_kb=st.get("RssAnon", 0),
                          file_kb=st.get("RssFile", 0), opened=opened + 1, searches=len(queries), total=total)
            small_browser.close()
    finally:
        app.close_store()
    return result


def measure_memory(db: Path, small: Path, session_id: str, queries: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.bench_tui", "--db", str(db), "--memory-child", str(small), session_id,
           json.dumps(queries)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        raise RuntimeError(f"the memory run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ── the run ───────────────────────────────────────────────────────────────────────────────


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def ms(x: float) -> str:
    return f"{1000 * x:.0f} ms"


async def run(args: argparse.Namespace) -> str:
    db = big_db(args.db, args.quick)
    reps_launch = 2 if args.quick else 5
    reps_open = 3 if args.quick else 10
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        n_sessions, n_messages = con.execute(
            "SELECT (SELECT count(*) FROM sessions), (SELECT max(id) FROM messages)"
        ).fetchone()
    log(f"database {db}: {n_sessions:,} sessions, ~{n_messages:,} messages")
    tmp = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    try:
        small = tmp / "big-session.db"
        session_id = build_big_session(db, small)

        log("1. launch")
        await launch_empty()  # warm imports and caches for both
        await launch_hermes(db)
        empty: list[float] = []
        hermes: list[float] = []
        for _ in range(reps_launch):
            empty.append(await launch_empty())
            hermes.append(await launch_hermes(db))
            log(f"  empty {ms(empty[-1])}  hermes-browse {ms(hermes[-1])}")

        log("2. search")
        queries = search_queries(db)
        if args.quick:
            queries = queries[::2]
        hits, debounce = await bench_search(db, queries)

        log("3. open the 5,000-message session")
        first, settled = await open_big_session(small, session_id, reps_open)

        log("4. memory (child process)")
        mem = measure_memory(db, small, session_id, [q for _, q in queries[::4]])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    e50, h50 = statistics.median(empty), statistics.median(hermes)
    extra = h50 - e50
    raw = [h["painted"] for h in hits]
    after = [x - debounce for x in raw]
    applied = [h["applied"] - debounce for h in hits]
    paint_t = [h["painted"] - h["applied"] for h in hits]
    rss_mb, hwm_mb = mem["rss_kb"] / 1024, mem["hwm_kb"] / 1024
    store_t = [h["store"] for h in hits]
    ui_t = [h["ui"] for h in hits]
    wait_t = [h["to_store"] - debounce for h in hits]
    kinds = sorted({h["kind"] for h in hits})
    per_kind = ", ".join(
        f"{k} {ms(statistics.median([h['painted'] - debounce for h in hits if h['kind'] == k]))}" for k in kinds
    )

    m = machine()
    lines = [
        f"Machine: {m['platform']} · {m['cpu']} · {m['cores']} cores · Python {m['python']} · "
        f"textual {m['textual']}",
        "",
        f"Database: `{db.name}`, {n_sessions:,} sessions, ~{n_messages:,} messages (read-only); "
        f"terminal {SIZE[0]}×{SIZE[1]}, headless (`run_test`).",
        "",
        "| Measurement | p50 | p95 | Target | Result |",
        "|---|---|---|---|---|",
        f"| Launch: empty `textual.app.App` to its first painted frame ({len(empty)} runs) | {ms(e50)} | "
        f"{ms(max(empty))} (max) | reference | |",
        f"| Launch: hermes-browse to the first painted frame showing the session list's first row "
        f"({len(hermes)} runs) | {ms(h50)} | {ms(max(hermes))} (max) | | |",
        f"| Launch: hermes-browse minus empty app (medians) | {ms(extra)} | | ≤ 500 ms more | "
        f"{verdict(extra <= TARGET_LAUNCH_EXTRA)} |",
        f"| Search: last keystroke to results painted, raw ({len(raw)} queries) | {ms(pct(raw, 50))} | "
        f"{ms(pct(raw, 95))} | | |",
        f"| Search: last keystroke to results painted, minus the {ms(debounce)} debounce | {ms(pct(after, 50))} | "
        f"{ms(pct(after, 95))} | p95 ≤ 100 ms | {verdict(pct(after, 95) <= TARGET_SEARCH_P95)} |",
        f"| Search: same, to results applied (before building and painting them) | {ms(pct(applied, 50))} | "
        f"{ms(pct(applied, 95))} | (info) | |",
        f"| Search, part: last keystroke to the store call, minus debounce | {ms(pct(wait_t, 50))} | "
        f"{ms(pct(wait_t, 95))} | (info) | |",
        f"| Search, part: `Browser.search` in the worker | {ms(pct(store_t, 50))} | {ms(pct(store_t, 95))} | "
        "(info) | |",
        f"| Search, part: store call returned to results applied (UI thread) | {ms(pct(ui_t, 50))} | "
        f"{ms(pct(ui_t, 95))} | (info) | |",
        f"| Search, part: results applied to painted (options built, laid out, frame rendered) | "
        f"{ms(pct(paint_t, 50))} | {ms(pct(paint_t, 95))} | (info) | |",
        f"| Open a 5,000-message session: `show_session` to first screen painted ({len(first)} runs) | "
        f"{ms(pct(first, 50))} | {ms(pct(first, 95))} | ≤ 300 ms | {verdict(pct(first, 95) <= TARGET_OPEN)} |",
        f"| Open a 5,000-message session: to the whole window mounted (`busy` False) | {ms(pct(settled, 50))} | "
        f"{ms(pct(settled, 95))} | (info) | |",
        f"| Memory: VmRSS after browsing (list to the end, {mem['opened']} sessions incl. 5,000 messages, "
        f"{mem['searches']} searches) | {rss_mb:.0f} MB | peak (VmHWM) {hwm_mb:.0f} MB | ≤ 200 MB | "
        f"{verdict(rss_mb <= TARGET_RSS_MB)} |",
        "",
        f"Search medians by kind (painted, minus debounce): {per_kind}. Memory along the way: "
        f"{mem['after_launch_kb'] / 1024:.0f} MB after launch, {mem['after_big_session_kb'] / 1024:.0f} MB "
        f"with the 5,000-message session open. At the end, of the VmRSS: {mem['anon_kb'] / 1024:.0f} MB "
        f"anonymous (the heap), {mem['file_kb'] / 1024:.0f} MB file-backed (code, and database pages SQLite "
        "reads through its memory map).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_tui", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 sessions, fewer repetitions")
    parser.add_argument("--db", type=Path, default=None, help="the big database (default: the cached demo)")
    parser.add_argument("--memory-child", nargs=3, metavar=("SMALL_DB", "SESSION", "QUERIES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        small, session_id, queries = args.memory_child
        result = asyncio.run(memory_child(args.db, Path(small), session_id, json.loads(queries)))
        print(json.dumps(result))
        return 0
    print(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
