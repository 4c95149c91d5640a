"""Live full-text search results: a status line and an ``OptionList`` of the best 50 hits.

Each keystroke calls ``search()``; the query runs in an exclusive thread worker that first waits
out a short debounce, so fast typing costs one query. A result is applied only if its worker was
not superseded and it answers the panel's current query: an older query never replaces a newer one.

A live search has a short time budget. When it comes back incomplete (older messages were not
searched), its hits are shown at once, the status line says older messages are still being
searched, and one more search for the same query runs with LONG_BUDGET_S; its hits replace the
first ones under the same rule (a newer query cancels it, and its late result is dropped).

Applying a result builds only the options that fill the list's height (about 10 of the 50) before
the first paint; the rest are added right after that frame, so the keystroke-to-painted time pays
for what is seen (bench/bench_tui.py). Every hit is in ``hits`` at once.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content, Span
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, get_current_worker

from tui.data import HIT_END, HIT_START, SearchHit, SearchResult
from tui.messages import HitChosen, SearchFinished
from tui.text import one_line, relative_time, safe

DEBOUNCE_S = 0.2
LONG_BUDGET_S = 2.0  # the second pass, after a live search stopped at its budget
MAX_RESULTS = 50  # 200 two-line hits cost ~100 ms of layout per keystroke (bench/bench_tui.py)
HIT_STYLE = "bold reverse"
ROLE_STYLES = {"user": "bold $primary", "assistant": "bold $success", "tool": "bold $warning"}
_SPACES = re.compile(r"\s+")
_ELLIPSES = ".…"
_MARKERS = re.compile(f"({re.escape(HIT_START)}|{re.escape(HIT_END)})")


def snippet_content(snippet: str, max_chars: int | None = None) -> Content:
    """An FTS snippet as Content: split on the \\x02/\\x03 markers first, then ``safe()`` each piece.

    (``safe()`` would turn the markers themselves into control pictures.) Whitespace collapses
    to single spaces; with ``max_chars`` the text is clipped around the first match.
    """
    plain: list[str] = []
    spans: list[Span] = []
    pos = 0
    inside = False
    for piece in _MARKERS.split(snippet):
        if piece == HIT_START:
            inside = True
            continue
        if piece == HIT_END:
            inside = False
            continue
        text = _SPACES.sub(" ", safe(piece, keep_newlines=False))
        if pos == 0:
            text = text.lstrip()
        if not text:
            continue
        if inside:
            spans.append(Span(pos, pos + len(text), HIT_STYLE))
        plain.append(text)
        pos += len(text)
    content = Content("".join(plain).rstrip(), spans)
    if max_chars is not None and len(content) > max_chars:
        first = spans[0].start if spans else 0
        start = max(0, min(first - max_chars // 3, len(content) - max_chars))
        clipped = content[start : start + max_chars - 1]
        # one ellipsis per side: the snippet's own ("…", or "..." from older stores) gives way to ours
        lead = len(clipped.plain) - len(clipped.plain.lstrip(_ELLIPSES)) if start else 0
        end = len(clipped.plain.rstrip(_ELLIPSES).rstrip())
        if end > lead:
            clipped = clipped[lead:end]
        content = Content.assemble("…" if start else "", clipped, "…")
    return content


def hit_prompt(hit: SearchHit, now: datetime, width: int) -> Content:
    """Title with source · when on the right, then ``role › snippet`` on at most two lines."""
    meta = f"{one_line(hit.source, 16)} · {relative_time(hit.timestamp, now)}"
    title_width = max(8, width - cell_len(meta) - 2)
    if hit.session_title:
        title = Content.styled(one_line(hit.session_title), "bold")
    else:
        title = Content.styled(one_line(f"session {hit.session_id}"), "italic $text-muted")
    title = title.truncate(title_width, ellipsis=True)
    head = Content.assemble(
        title, " " * max(2, width - title.cell_length - cell_len(meta)), (meta, "$text-muted")
    )
    role = one_line(hit.role, 12)
    if hit.tool_name:
        role += f" {one_line(hit.tool_name, 24)}"
    label = Content.styled(f"{role} › ", ROLE_STYLES.get(hit.role, "$text-muted"))
    room = max(20, int(width * 1.6) - label.cell_length)
    body = snippet_content(hit.snippet, max_chars=room)
    return Content.assemble(head, "\n", label, body)


class ResultList(OptionList):
    """The hits; j/k move like the session list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("enter", "select", "Open hit", tooltip="Open the conversation at this hit"),
    ]


class SearchPanel(Vertical):
    """Search results for the query typed in the search bar."""

    DEFAULT_CSS = """
    SearchPanel {
        height: 1fr;
        #search-status { height: auto; padding: 0 1; color: $text-muted; }
        #search-status.-error { color: $error; }
        ResultList { height: 1fr; background: $surface; scrollbar-size-vertical: 1; scrollbar-gutter: stable; }
        ResultList.-textual-compact > .option-list--option { padding: 0 1; }
    }
    """

    class _Result(Message):
        def __init__(
            self, worker: Worker[None], result: SearchResult, source: str | None, budget_s: float | None
        ) -> None:
            super().__init__()
            self.worker, self.result, self.source, self.budget_s = worker, result, source, budget_s

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.debounce = DEBOUNCE_S
        self.long_budget = LONG_BUDGET_S
        self.deep_searches = 0  # second passes started (tests read it)
        self.query_text = ""
        self.source: str | None = None
        self.result: SearchResult | None = None
        self.applied: list[str] = []  # queries whose results were shown, in order (tests read it)
        self.stale_dropped = 0
        self._hits: list[SearchHit] = []
        self._generation = 0  # bumped whenever the options are replaced (stale "add the rest" calls skip)

    def compose(self) -> ComposeResult:
        yield Static(Content("Type to search every message."), id="search-status")
        yield ResultList(id="search-results", compact=True)

    @property
    def results(self) -> ResultList:
        return self.query_one(ResultList)

    @property
    def hits(self) -> list[SearchHit]:
        return list(self._hits)

    @property
    def highlighted_hit(self) -> SearchHit | None:
        index = self.results.highlighted
        return self._hits[index] if index is not None and index < len(self._hits) else None

    # ── searching ─────────────────────────────────────────────────────────────────────────

    def search(self, query: str, source: str | None = None) -> None:
        """Search (debounced) for ``query``; an empty query clears the results at once."""
        self.query_text, self.source = query, source
        if not query.strip():
            self.workers.cancel_group(self, "search")
            self.result = None
            self._hits = []
            self._generation += 1
            self.results.clear_options()
            self._status("Type to search every message.")
            return
        self._status("Searching…")
        self._run(query, source, self.debounce)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _run(self, query: str, source: str | None, debounce: float, budget_s: float | None = None) -> None:
        """One search; ``budget_s`` None is the live pass (the store's short budget), else the
        second pass. Both are in one exclusive group: a newer keystroke cancels either, and
        cancelling stops the store's search too."""
        worker = get_current_worker()
        if worker.cancelled_event.wait(debounce):
            return  # superseded by a newer keystroke while waiting
        try:
            result = self.app.browser.search(  # type: ignore[attr-defined]
                query, source=source, prefix=True, limit=MAX_RESULTS, budget_s=budget_s,
                cancel=worker.cancelled_event,
            )
        except Exception as exc:  # the store says what went wrong; show it in the panel
            result = SearchResult(query, (), error=str(exc) or type(exc).__name__)
        if not worker.is_cancelled:
            self.post_message(self._Result(worker, result, source, budget_s))

    @on(_Result)
    def _apply(self, message: _Result) -> None:
        message.stop()
        result = message.result
        if message.worker.is_cancelled or result.query != self.query_text or message.source != self.source:
            self.stale_dropped += 1
            return
        # the second pass replaces the first one's hits: keep the cursor on the hit it was on
        keep = self.highlighted_hit if message.budget_s is not None else None
        self.result = result
        self.applied.append(result.query)
        self._generation += 1
        now = self.app.browser.now_dt()  # type: ignore[attr-defined]
        results = self.results
        # option padding (2) and the scrollbar's gutter (1, kept by `scrollbar-gutter: stable`) come
        # off the list's width: the width OptionList wraps the prompts to
        width = max(24, (results.size.width or self.size.width or 60) - 3)
        self._hits = list(result.hits)
        options = self._first_screen(now, width)
        results.set_options(options)
        if options:
            same = [i for i, hit in enumerate(self._hits[: len(options)]) if keep and hit.message_id == keep.message_id]
            if same:  # the pane already shows this hit: move the cursor without showing it again
                with self.prevent(OptionList.OptionHighlighted):
                    results.highlighted = same[0]
            else:
                results.highlighted = 0
        if len(options) < len(self._hits):
            self.call_after_refresh(self._add_rest, self._generation, now, width)
        deep = not result.complete and result.error is None and message.budget_s is None
        status = self.describe(result)
        if deep:
            status = f"{status.removesuffix('.')} · still searching older messages…"
        elif not result.complete and result.error is None and message.budget_s is not None:
            status = f"{status.removesuffix('.')} · searched for {message.budget_s:g} s: older messages may hold more"
        self._status(status, error=result.error is not None)
        self.post_message(SearchFinished(result.query, len(self._hits)))
        if deep:
            self.deep_searches += 1
            self._run(result.query, message.source, 0.0, self.long_budget)

    def _first_screen(self, now: datetime, width: int) -> list[Option]:
        """The options that fill the list's height (all of them if it has no size yet). Their
        heights are measured as OptionList measures them, so it reuses each prompt's cached height."""
        results = self.results
        rows = results.scrollable_content_region.height
        options: list[Option] = []
        filled = 0
        for i, hit in enumerate(self._hits):
            if rows and filled >= rows:
                break
            prompt = hit_prompt(hit, now, width)
            filled += prompt.get_height(results.styles, width)
            options.append(Option(prompt, id=str(i)))
        return options

    def _add_rest(self, generation: int, now: datetime, width: int) -> None:
        """After the first paint: the options below the fold (unless the options were replaced)."""
        results = self.results
        start = results.option_count
        if generation != self._generation or start >= len(self._hits):
            return
        results.add_options(
            Option(hit_prompt(hit, now, width), id=str(i)) for i, hit in enumerate(self._hits[start:], start)
        )

    def describe(self, result: SearchResult) -> str:
        q = f"“{one_line(result.query, 40)}”"
        if result.error:
            return f"⚠ Search failed: {one_line(result.error, 200)}"
        n = len(result.hits)
        if n:
            more = f" (first {MAX_RESULTS})" if n >= MAX_RESULTS else ""
            where = f" in {one_line(self.source, 20)}" if self.source else ""
            return f"{n} hit{'s' if n != 1 else ''}{more} for {q}{where} · enter opens"
        if result.hidden_by_filter:
            hidden = result.hidden_by_filter
            more = "+" if hidden >= 1000 else ""
            return (
                f"No results for {q} in source {one_line(self.source, 20)}, but {hidden}{more} "
                f"hit{'s' if hidden != 1 else ''} in other sources: press s on the list to change the source."
            )
        return f"No results for {q}."

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#search-status", Static)
        status.update(Content(text))
        status.set_class(error, "-error")

    @on(OptionList.OptionSelected, "#search-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index < len(self._hits):
            self.post_message(HitChosen(self._hits[event.option_index], self.query_text))
