"""The search panel on its own: snippet clipping, and results built a screenful first.

The panel runs in a small host app whose ``browser`` answers every query with fixed hits.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from textual.app import App, ComposeResult

from tui.data import HIT_END, HIT_START, SearchHit, SearchResult
from tui.widgets.search_panel import ResultList, SearchPanel, snippet_content

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


# ── snippet clipping ──────────────────────────────────────────────────────────────────────


def test_clipping_after_the_snippets_own_ascii_ellipsis_adds_no_second_one() -> None:
    assert snippet_content("foo... bar baz qux", max_chars=7).plain == "foo…"
    assert snippet_content("foo.. bar baz qux", max_chars=6).plain == "foo…"


def test_clipping_after_the_snippets_own_unicode_ellipsis_adds_no_second_one() -> None:
    assert snippet_content("foo… bar baz qux", max_chars=5).plain == "foo…"
    assert snippet_content("foo …bar baz qux", max_chars=6).plain == "foo…"


def test_clipping_in_plain_text_still_ends_with_one_ellipsis() -> None:
    assert snippet_content("alpha beta gamma delta", max_chars=10).plain == "alpha bet…"


def test_clipping_on_both_sides_keeps_the_highlight_and_one_ellipsis_per_side() -> None:
    snippet = "... " + "x" * 40 + f" {HIT_START}needle{HIT_END} and then... more text to cut away"
    content = snippet_content(snippet, max_chars=24)
    text = content.plain
    assert text.startswith("…") and not text.startswith("……")
    assert text.endswith("…") and not text.endswith(".…") and not text.endswith("……")
    assert [text[span.start : span.end] for span in content.spans] == ["needle"]


def test_a_snippet_that_fits_is_left_as_the_store_wrote_it() -> None:
    assert snippet_content("…start of it... end…", max_chars=80).plain == "…start of it... end…"


# ── results: a screenful first, the rest after the first paint ───────────────────────────


def make_hit(i: int) -> SearchHit:
    return SearchHit(
        message_id=i, session_id=f"s-{i}", session_title=f"Session number {i}", source="cli", role="user",
        timestamp=NOW.timestamp() - 60 * i,
        snippet=f"some words before {HIT_START}needle{HIT_END} and a few words after it, number {i}",
    )


class FakeBrowser:
    def __init__(self, n: int) -> None:
        self.hits = tuple(make_hit(i) for i in range(n))

    def search(self, query: str, **_: Any) -> SearchResult:
        return SearchResult(query, self.hits)

    def now_dt(self) -> datetime:
        return NOW


class PanelApp(App[None]):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.browser = FakeBrowser(n)

    def compose(self) -> ComposeResult:
        yield SearchPanel(id="search-panel")


async def until(condition: Any, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_results_are_built_a_screenful_first_then_all_of_them() -> None:
    app = PanelApp(50)
    calls: list[tuple[str, int]] = []
    set_options, add_options = ResultList.set_options, ResultList.add_options

    inside_set = False

    def spy_set(self: ResultList, options: Any) -> Any:
        nonlocal inside_set
        options = list(options)
        calls.append(("set", len(options)))
        inside_set = True
        try:
            return set_options(self, options)
        finally:
            inside_set = False

    def spy_add(self: ResultList, options: Any) -> Any:
        options = list(options)
        if not inside_set:
            calls.append(("add", len(options)))
        return add_options(self, options)

    ResultList.set_options, ResultList.add_options = spy_set, spy_add  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(60, 24)) as pilot:
            await pilot.pause()
            panel = app.query_one(SearchPanel)
            panel.debounce = 0
            results = panel.results
            calls.clear()  # (the list's own construction adds no options)
            panel.search("needle")
            await until(lambda: panel.applied == ["needle"] and results.option_count == 50)
            await pilot.pause()
            assert len(calls) == 2 and calls[0][0] == "set" and calls[1][0] == "add"
            first = calls[0][1]
            assert 0 < first < 50 and calls[1][1] == 50 - first
            rows = results.scrollable_content_region.height
            heights = [results._heights[i] for i in range(first)]  # OptionList's own measure
            assert sum(heights) >= rows > sum(heights[:-1])  # just enough to fill the list
            assert [results.get_option_at_index(i).id for i in range(50)] == [str(i) for i in range(50)]
            assert results.highlighted == 0 and len(panel.hits) == 50
            await pilot.press("end")  # the whole list can be walked
            assert panel.highlighted_hit == panel.hits[-1]
    finally:
        ResultList.set_options, ResultList.add_options = set_options, add_options  # type: ignore[method-assign]


async def test_the_rest_of_a_replaced_result_is_never_added() -> None:
    app = PanelApp(50)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        panel = app.query_one(SearchPanel)
        panel.debounce = 0
        panel.search("needle")
        await until(lambda: panel.applied == ["needle"] and panel.results.option_count == 50)
        old = panel._generation
        panel.search("")  # cleared: no options
        await pilot.pause()
        panel._add_rest(old, NOW, 40)  # a late call for the replaced result
        assert panel.results.option_count == 0 and panel.hits == []


async def test_a_short_result_is_built_at_once() -> None:
    app = PanelApp(3)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        panel = app.query_one(SearchPanel)
        panel.debounce = 0
        panel.search("needle")
        await until(lambda: panel.applied == ["needle"])
        assert panel.results.option_count == 3
