"""A reusable progress modal that runs one blocking job in a thread worker.

``ProgressScreen(title, job)`` runs ``job(report, is_cancelled)`` where ``report(done, total)``
may be called from the worker thread as often as the job likes (the bar is updated at most ~20
times a second) and ``is_cancelled()`` turns True once the user pressed escape/Cancel (or the app
is quitting). Cancellation is cooperative: the screen waits for the job to stop (an export removes
its temporary file first) and only then dismisses. With ``cancellable=False`` (an all-or-nothing
prune) there is no Cancel button, and escape only explains why.

The screen dismisses with a ``JobOutcome``: ``result`` on success, ``error`` when the job raised
(never a traceback on screen), ``cancelled`` when it stopped because it was asked to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui.screens.modal import DismissOnTop
from tui.text import safe

Report = Callable[[int, "int | None"], None]
Job = Callable[[Report, Callable[[], bool]], Any]

UPDATE_INTERVAL_S = 0.05  # at most ~20 bar updates a second
JOB_GROUP = "progress-job"


@dataclass(frozen=True)
class JobOutcome:
    result: Any = None
    error: BaseException | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled


class ProgressScreen(DismissOnTop, ModalScreen[JobOutcome]):
    DEFAULT_CSS = """
    ProgressScreen {
        align: center middle;
        #progress-box {
            width: 64;
            max-width: 95%;
            height: auto;
            padding: 1 2;
            border: round $accent;
            border-title-style: bold;
            border-subtitle-color: $text-muted;
            background: $surface;
        }
        #progress-status { width: 1fr; margin-bottom: 1; }
        #progress-bar { width: 1fr; margin-bottom: 1; }
        #progress-bar Bar { width: 1fr; }
        #progress-note { width: 1fr; color: $text-muted; }
        #progress-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel_job", "Cancel", show=False)]

    def __init__(
        self,
        title: str,
        job: Job,
        *,
        cancellable: bool = True,
        note: str | None = None,
        unit: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.job = job
        self.cancellable = cancellable
        self.note = note
        self.unit = unit
        self._cancel = threading.Event()
        self._last_update = 0.0

    def compose(self) -> ComposeResult:
        with Vertical(id="progress-box") as box:
            box.border_title = safe(self.title_text, keep_newlines=False)
            box.border_subtitle = "esc cancels" if self.cancellable else "please wait"
            yield Static(Content("Starting…"), id="progress-status")
            yield ProgressBar(id="progress-bar", show_eta=False)
            if self.note:
                yield Static(Content(safe(self.note)), id="progress-note")
            if self.cancellable:
                with Horizontal(id="progress-buttons"):
                    yield Button("Cancel", id="progress-cancel")

    def on_mount(self) -> None:
        self.run_job()
        if self._cancel.is_set():
            self._show_cancelling()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    # the worker ---------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group=JOB_GROUP, exit_on_error=False)
    def run_job(self) -> Any:
        worker = get_current_worker()

        def is_cancelled() -> bool:
            return self._cancel.is_set() or worker.is_cancelled

        def report(done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - self._last_update < UPDATE_INTERVAL_S and done != total:
                return
            self._last_update = now
            try:
                self.app.call_from_thread(self._show_progress, worker, done, total)
            except RuntimeError:  # the app is shutting down
                pass

        return self.job(report, is_cancelled)

    def _show_progress(self, worker: Worker[Any], done: int, total: int | None) -> None:
        if worker.is_cancelled or not self.is_attached:
            return
        bar = self.query_one("#progress-bar", ProgressBar)
        bar.update(total=total, progress=done)
        unit = f" {self.unit}" if self.unit else ""
        text = f"{done:,} of {total:,}{unit}" if total is not None else f"{done:,}{unit}"
        if self._cancel.is_set():
            text += " · cancelling…"
        self.query_one("#progress-status", Static).update(Content(text))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != JOB_GROUP:
            return
        event.stop()
        if event.state is WorkerState.SUCCESS:
            self._finish(JobOutcome(result=event.worker.result))
        elif event.state is WorkerState.ERROR:
            error = event.worker.error or RuntimeError("the job failed")
            self._finish(JobOutcome(error=error, cancelled=self._cancel.is_set()))
        elif event.state is WorkerState.CANCELLED:
            self._finish(JobOutcome(cancelled=True))

    def _finish(self, outcome: JobOutcome) -> None:
        """Dismiss with ``outcome``. ``DismissOnTop`` waits until this screen is on top: a command palette
        (ctrl+p) opened over it would otherwise be closed in its place (and this screen left behind with
        its job done)."""
        self.dismiss(outcome)

    # cancelling ---------------------------------------------------------------------------
    @on(Button.Pressed, "#progress-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel_job()

    def action_cancel_job(self) -> None:
        if not self.cancellable:
            self.notify("This cannot be interrupted: it is all or nothing.", markup=False)
            return
        if self._cancel.is_set():
            return
        self._cancel.set()  # the job sees it at its next check, cleans up and raises; then we dismiss
        self._show_cancelling()

    def _show_cancelling(self) -> None:
        # Escape can arrive before the screen has composed (keys typed ahead): on_mount shows it then.
        for status in self.query("#progress-status").results(Static):
            status.update(Content("Cancelling…"))
        for button in self.query("#progress-cancel").results(Button):
            button.disabled = True
            button.label = "Cancelling…"


def describe_error(error: BaseException) -> str:
    """One calm sentence for an error from a job (store errors already say what was kept)."""
    import errno

    if isinstance(error, OSError) and not isinstance(error, FileExistsError):
        where = f" ({error.filename})" if error.filename else ""
        if error.errno == errno.ENOSPC:
            return f"the disk is full{where}; nothing was written"
        if isinstance(error, PermissionError):
            return f"permission denied{where}"
        if isinstance(error, FileNotFoundError):
            return f"no such file or folder{where}"
        if error.strerror:
            return f"{error.strerror}{where}"
    return str(error) or type(error).__name__
