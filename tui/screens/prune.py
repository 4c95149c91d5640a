"""Prune: delete ended sessions idle for longer than an age, after showing exactly what would go.

The preview (sessions, messages, oldest/newest last activity, active sessions spared) is read in
a debounced thread worker as the age or the source changes; the Prune button is enabled only when
the preview on screen matches the inputs and would delete something. Pruning runs in a
``ProgressScreen``, in short steps of whole sessions (so the agent never waits long for the write
lock); cancelling stops it between two steps and keeps what was deleted. The screen dismisses with a
``PruneDone`` (or None when closed without pruning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui.data import Browser, PrunePreview, parse_age
from tui.screens.form import FormDialog
from tui.screens.progress import JobOutcome, ProgressScreen, describe_error
from tui.text import absolute_time, one_line, relative_time, safe
from tui.widgets.select import GuardedSelect

PREVIEW_DEBOUNCE_S = 0.25
DEFAULT_AGE = "90d"
PREVIEW_GROUP = "prune-preview"
SOURCES_GROUP = "prune-sources"


@dataclass(frozen=True)
class PruneDone:
    deleted: int
    preview: PrunePreview
    stopped: bool = False  # cancelled between two steps: ``deleted`` is what went before


def describe_age(days: float) -> str:
    if days >= 7 and days % 7 == 0:
        weeks = days / 7
        return f"{weeks:g} week{'s' if weeks != 1 else ''} ({days:g} days)"
    if days >= 1:
        return f"{days:g} day{'s' if days != 1 else ''}"
    hours = days * 24
    if hours >= 1:
        return f"{round(hours, 2):g} hour{'s' if hours != 1 else ''}"
    minutes = days * 1440
    return f"{round(minutes, 1):g} minute{'s' if minutes != 1 else ''}"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class PruneScreen(FormDialog["PruneDone | None"]):
    DEFAULT_CSS = """
    PruneScreen {
        align: center middle;
        #prune-box {
            width: 76;
            max-width: 95%;
            height: auto;
            padding: 1 2;
            border: round $error;
            border-title-color: $error;
            border-title-style: bold;
            border-subtitle-color: $text-muted;
            background: $surface;
        }
        #prune-intro { width: 1fr; color: $text-muted; margin-bottom: 1; }
        #prune-inputs { height: auto; }
        #prune-inputs Label { padding: 1 1 0 0; width: auto; }
        #prune-age { width: 16; }
        #prune-source { width: 1fr; margin-left: 1; }
        #prune-age-error { width: 1fr; color: $error; height: auto; display: none; }
        #prune-preview {
            width: 1fr;
            height: auto;
            min-height: 4;
            margin-top: 1;
            padding: 0 1;
            border-left: outer $error 50%;
        }
        #prune-error { width: 1fr; height: auto; color: $error; text-style: bold; margin-top: 1; display: none; }
        #prune-age-error.-shown, #prune-error.-shown { display: block; }
        #prune-note { width: 1fr; color: $text-muted; margin-top: 1; }
        #prune-buttons { height: auto; align-horizontal: right; margin-top: 1; }
        #prune-buttons Button { margin-left: 2; width: auto; }
    }
    """

    def __init__(self, browser: Browser, source: str | None = None, age: str = DEFAULT_AGE) -> None:
        super().__init__()
        self.browser = browser
        self.initial_source = source
        self.initial_age = age
        self._preview: PrunePreview | None = None
        self._wanted: tuple[float, str | None] | None = None  # what the preview must match
        self._busy = False

    def compose(self) -> ComposeResult:
        options = [(safe(self.initial_source, keep_newlines=False), self.initial_source)] if self.initial_source else []
        with Vertical(id="prune-box") as box:
            box.border_title = "Prune old sessions"
            box.border_subtitle = "enter prunes · esc closes"
            yield Static(
                Content("Deletes ended sessions, with their messages, whose last activity is older than the age. "
                        "Sessions still active are never pruned."),
                id="prune-intro",
            )
            with Horizontal(id="prune-inputs"):
                yield Label("Older than")
                yield Input(self.initial_age, placeholder="90d, 2w, 5h", id="prune-age", select_on_focus=False)
                yield GuardedSelect(options, prompt="All sources", value=self.initial_source or Select.NULL,
                             id="prune-source")
            yield Static("", id="prune-age-error", markup=False)
            yield Static(Content.styled("Counting…", "$text-muted"), id="prune-preview")
            yield Static("", id="prune-error", markup=False)
            yield Static(Content("Deletes in short steps, each session whole, so the agent is never kept waiting "
                                 "for the database. It can be cancelled: what was deleted stays deleted."),
                         id="prune-note")
            with Horizontal(id="prune-buttons"):
                yield Button("Cancel", id="prune-cancel", classes="form-cancel")
                yield Button("Prune", id="prune-confirm", classes="form-confirm", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#prune-age", Input).focus()
        self.load_sources()
        self._inputs_changed(delay=0.0)

    # inputs -------------------------------------------------------------------------------
    @property
    def source(self) -> str | None:
        value = self.query_one("#prune-source", Select).value
        return value if isinstance(value, str) else None

    @on(Input.Changed, "#prune-age")
    def _age_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._inputs_changed()

    @on(Select.Changed, "#prune-source")
    def _source_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._inputs_changed()

    def _inputs_changed(self, delay: float = PREVIEW_DEBOUNCE_S) -> None:
        age_error = self.query_one("#prune-age-error", Static)
        try:
            days = parse_age(self.query_one("#prune-age", Input).value)
        except ValueError as exc:
            self._wanted = None
            self.workers.cancel_group(self, PREVIEW_GROUP)
            age_error.update(Content(safe(str(exc))))
            age_error.add_class("-shown")
            self.query_one("#prune-preview", Static).update(
                Content.styled("Type an age: days (90), or 45m, 5h, 30d, 2w.", "$text-muted"))
            self._update_button()
            return
        age_error.remove_class("-shown")
        wanted = (days, self.source)
        if wanted == self._wanted:
            return
        self._wanted = wanted
        if self._preview is None or (self._preview.older_than_days, self._preview.source) != wanted:
            self.query_one("#prune-preview", Static).update(Content.styled("Counting…", "$text-muted"))
        self._update_button()
        self.load_preview(days, self.source, delay)

    def _update_button(self) -> None:
        button = self.query_one("#prune-confirm", Button)
        p = self._current_preview()
        if self._busy:
            button.disabled = True
        elif p is None:
            button.label = "Prune"
            button.disabled = True
        elif p.sessions == 0:
            button.label = "Nothing to prune"
            button.disabled = True
        else:
            button.label = f"Prune {plural(p.sessions, 'session')}"
            button.disabled = False
        button.refresh(layout=True)

    def _current_preview(self) -> PrunePreview | None:
        p = self._preview
        if p is None or self._wanted is None or (p.older_than_days, p.source) != self._wanted:
            return None
        return p

    # workers ------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group=SOURCES_GROUP, exit_on_error=False)
    def load_sources(self) -> None:
        worker = get_current_worker()
        sources = self.browser.sources()
        try:
            self.app.call_from_thread(self._show_sources, worker, sources)
        except RuntimeError:
            pass

    def _show_sources(self, worker: Worker[Any], sources: list[str]) -> None:
        if worker.is_cancelled or not self.is_attached:
            return
        select = self.query_one("#prune-source", Select)
        current = self.source
        names = list(sources)
        if current and current not in names:
            names.append(current)
        with self.prevent(Select.Changed):
            select.set_options([(safe(s, keep_newlines=False), s) for s in names])
            if current:
                select.value = current

    @work(thread=True, exclusive=True, group=PREVIEW_GROUP, exit_on_error=False)
    def load_preview(self, days: float, source: str | None, delay: float) -> None:
        worker = get_current_worker()
        if delay and worker.cancelled_event.wait(delay):
            return  # superseded while waiting
        preview = self.browser.prune_preview(days, source)
        try:
            self.app.call_from_thread(self._show_preview, worker, preview)
        except RuntimeError:
            pass

    def _show_preview(self, worker: Worker[Any], preview: PrunePreview) -> None:
        if worker.is_cancelled or not self.is_attached:
            return
        self._preview = preview
        if (preview.older_than_days, preview.source) == self._wanted:
            self.query_one("#prune-preview", Static).update(self._preview_content(preview))
        self._update_button()

    def _preview_content(self, p: PrunePreview) -> Content:
        now = self.browser.now_dt()
        where = f" from {one_line(p.source)}" if p.source else ""
        lines: list[Content] = [
            Content.assemble(("Idle for more than ", "$text-muted"), (describe_age(p.older_than_days), "bold"),
                             (where, "$text-muted")),
        ]
        if p.sessions == 0:
            lines.append(Content.styled(f"Nothing would be deleted: no ended session{where} is that old.", "bold"))
        else:
            lines.append(Content.assemble(
                ("Would delete ", ""), (plural(p.sessions, "session"), "bold $error"), (" · ", "$text-muted"),
                (plural(p.messages, "message"), "bold $error"),
            ))

            def when(ts: float | None) -> str:
                rel, exact = relative_time(ts, now), absolute_time(ts, now)
                return exact if exact.startswith(rel) else f"{rel} ({exact})"

            lines.append(Content.assemble(("Oldest last active: ", "$text-muted"), (when(p.oldest_last_active), "")))
            lines.append(Content.assemble(("Newest last active: ", "$text-muted"), (when(p.newest_last_active), "")))
        if p.active_spared:
            lines.append(Content.styled(
                f"{plural(p.active_spared, 'active session')} that old {'is' if p.active_spared == 1 else 'are'} "
                "spared (not ended: never pruned).", "$success"))
        else:
            lines.append(Content.styled("No active session is that old.", "$text-muted"))
        return Content("\n").join(lines)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if group not in (PREVIEW_GROUP, SOURCES_GROUP) or event.state is not WorkerState.ERROR:
            return
        event.stop()
        error = event.worker.error or RuntimeError("the store could not be read")
        if group == PREVIEW_GROUP and not event.worker.is_cancelled:
            self.query_one("#prune-preview", Static).update(
                Content.styled(f"Could not count: {one_line(describe_error(error))}", "$error"))
        elif group == SOURCES_GROUP:
            self.notify(f"Could not list the sources: {describe_error(error)}", severity="warning", markup=False)

    # pruning ------------------------------------------------------------------------------
    def confirm(self) -> None:
        preview = self._current_preview()
        if self._busy or preview is None or preview.sessions == 0:
            return
        self._busy = True
        self._update_button()
        self.query_one("#prune-error").remove_class("-shown")
        browser, days, source = self.browser, preview.older_than_days, preview.source

        def job(report: Any, is_cancelled: Any) -> tuple[int, bool]:
            deleted = browser.prune(days, source, progress=report, should_cancel=is_cancelled)
            return deleted, bool(is_cancelled())

        self.app.push_screen(
            ProgressScreen(
                f"Pruning {plural(preview.sessions, 'session')}", job, unit="sessions",
                note="In short steps; cancel stops after the current one and keeps what was deleted.",
            ),
            lambda outcome: self._pruned(outcome, preview),
        )

    def _pruned(self, outcome: JobOutcome | None, preview: PrunePreview) -> None:
        self._busy = False
        if outcome is not None and outcome.ok:
            deleted, stopped = outcome.result
            self.dismiss(PruneDone(int(deleted), preview, stopped=bool(stopped)))
            return
        reason = describe_error(outcome.error) if outcome and outcome.error else "stopped"
        message = (f"The prune stopped: {reason}. Sessions deleted before that stay deleted (each whole); "
                   "the count below is fresh.")
        error = self.query_one("#prune-error", Static)
        error.update(Content(safe(message)))
        error.add_class("-shown")
        self.notify(message, title="Prune failed", severity="error", markup=False)
        self._wanted = None  # count again: the store may have changed
        self._preview = None
        self._inputs_changed(delay=0.0)
