"""Export: this session, the current source filter, or everything, as JSONL or Markdown.

The destination defaults to a timestamped name in the current folder (from the app's clock, so
screenshots are stable) whose extension follows the format unless the user typed their own. An
existing file is replaced only after a ``ConfirmScreen``; the export itself runs in a cancellable
``ProgressScreen`` and the store writes atomically (0600 temp file, then rename), so a cancelled
or failed export leaves no file. The screen dismisses with an ``ExportDone`` (or None).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState

from tui.data import Browser
from tui.screens.confirm import ConfirmScreen
from tui.screens.form import FormDialog
from tui.screens.progress import JobOutcome, ProgressScreen, describe_error
from tui.text import one_line, safe

SCOPE_GROUP = "export-scope"
FORMATS: dict[str, tuple[str, str]] = {  # id: (extension, label)
    "jsonl": (".jsonl", "JSONL: one session per line, with its messages (the store's format)"),
    "md": (".md", "Markdown: a readable transcript"),
}


def default_name(now: datetime, fmt: str) -> str:
    return f"hermes-export-{now:%Y%m%d-%H%M}{FORMATS[fmt][0]}"


@dataclass(frozen=True)
class ExportScope:
    """What is exported: ``session_ids`` or ``source`` (None and None: everything)."""

    session_ids: tuple[str, ...] | None = None
    source: str | None = None

    @property
    def kind(self) -> str:
        if self.session_ids is not None:
            return "session" if len(self.session_ids) == 1 else "sessions"
        return "source" if self.source else "everything"


@dataclass(frozen=True)
class ScopeInfo:
    description: str
    count: int


@dataclass(frozen=True)
class ExportDone:
    count: int
    path: Path
    fmt: str


class ExportScreen(FormDialog["ExportDone | None"]):
    DEFAULT_CSS = """
    ExportScreen {
        align: center middle;
        #export-box {
            width: 80;
            max-width: 95%;
            height: auto;
            padding: 1 2;
            border: round $accent;
            border-title-color: $accent;
            border-title-style: bold;
            border-subtitle-color: $text-muted;
            background: $surface;
        }
        .export-heading { color: $text-muted; margin-top: 1; }
        #export-what { margin-top: 0; }
        #export-scope { width: 1fr; height: auto; padding: 0 1; border-left: outer $accent 50%; }
        #export-format { width: 1fr; border: none; padding: 0; background: $surface; }
        #export-format:focus { border: none; }
        #export-dest { width: 1fr; }
        #export-error { width: 1fr; height: auto; color: $error; text-style: bold; display: none; }
        #export-error.-shown { display: block; }
        #export-note { width: 1fr; color: $text-muted; }
        #export-buttons { height: auto; align-horizontal: right; margin-top: 1; }
        #export-buttons Button { margin-left: 2; width: auto; }
    }
    """

    def __init__(
        self,
        browser: Browser,
        *,
        session_ids: list[str] | None = None,
        source: str | None = None,
        folder: Path | None = None,
    ) -> None:
        super().__init__()
        self.browser = browser
        self.scope = ExportScope(tuple(session_ids) if session_ids is not None else None,
                                 None if session_ids is not None else source)
        self.folder = folder  # where a relative destination goes (None: the current folder)
        self.fmt = "jsonl"
        self._stamp = browser.now_dt()
        self._auto_value = default_name(self._stamp, self.fmt)
        self._info: ScopeInfo | None = None
        self._busy = False
        self._typed = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box") as box:
            box.border_title = "Export sessions"
            box.border_subtitle = "enter exports · esc closes"
            yield Label("What", classes="export-heading", id="export-what")
            yield Static(Content.styled("Counting…", "$text-muted"), id="export-scope")
            yield Label("Format", classes="export-heading")
            with RadioSet(id="export-format"):
                for fmt, (_ext, label) in FORMATS.items():
                    yield RadioButton(label, value=fmt == self.fmt, id=f"export-fmt-{fmt}")
            yield Label("Save to (relative paths go in the current folder)", classes="export-heading")
            yield Input(self._auto_value, id="export-dest", select_on_focus=False)
            yield Static("", id="export-error", markup=False)
            yield Static(Content("The file is private (0600), written whole or not at all; "
                                 "a large export can be cancelled."), id="export-note")
            with Horizontal(id="export-buttons"):
                yield Button("Cancel", id="export-cancel", classes="form-cancel")
                yield Button("Export", id="export-confirm", classes="form-confirm", variant="primary", disabled=True)

    def on_mount(self) -> None:
        dest = self.query_one("#export-dest", Input)
        dest.focus()
        dest.cursor_position = len(dest.value)
        self.load_scope()

    # scope --------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group=SCOPE_GROUP, exit_on_error=False)
    def load_scope(self) -> ScopeInfo:
        scope, browser = self.scope, self.browser
        if scope.session_ids is not None and len(scope.session_ids) == 1:
            detail = browser.session_detail(scope.session_ids[0])
            if detail is None:
                return ScopeInfo("This session no longer exists.", 0)
            title = one_line(detail.title or detail.id, 60)
            return ScopeInfo(f"This session: {title} · {detail.message_count:,} messages", 1)
        if scope.session_ids is not None:
            n = len(scope.session_ids)
            return ScopeInfo(f"{n:,} selected session{'s' if n != 1 else ''}", n)
        n = browser.count_sessions(source=scope.source)
        what = f"{n:,} session{'s' if n != 1 else ''}"
        if scope.source:
            return ScopeInfo(f"Sessions from {one_line(scope.source, 40)}: {what}", n)
        return ScopeInfo(f"Everything: {what}", n)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != SCOPE_GROUP:
            return
        event.stop()
        scope = self.query_one("#export-scope", Static)
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, ScopeInfo):
            self._info = event.worker.result
            scope.update(Content(self._info.description))
        elif event.state is WorkerState.ERROR:
            error = event.worker.error or RuntimeError("the store could not be read")
            scope.update(Content.styled(f"Could not count: {one_line(describe_error(error))}", "$error"))
        self._update_button()

    def _update_button(self) -> None:
        button = self.query_one("#export-confirm", Button)
        info = self._info
        if info is not None and info.count == 0:
            button.label = "Nothing to export"
        elif info is not None:
            button.label = f"Export {info.count:,} session{'s' if info.count != 1 else ''}"
        button.disabled = self._busy or info is None or info.count == 0
        button.refresh(layout=True)

    # format and destination ---------------------------------------------------------------
    @on(RadioSet.Changed, "#export-format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        old, new = self.fmt, (event.pressed.id or "").removeprefix("export-fmt-")
        if new not in FORMATS or new == old:
            return
        self.fmt = new
        dest = self.query_one("#export-dest", Input)
        value = dest.value
        if value == self._auto_value:
            value = default_name(self._stamp, new)
            self._auto_value = value
        elif value.endswith(FORMATS[old][0]):  # our extension on the user's name: follow the format
            value = value[: -len(FORMATS[old][0])] + FORMATS[new][0]
        else:
            return  # the user's own extension (or none): keep it
        dest.value = value
        dest.cursor_position = len(value)

    @on(Input.Changed, "#export-dest")
    def _dest_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#export-error").remove_class("-shown")

    def _show_error(self, message: str) -> None:
        error = self.query_one("#export-error", Static)
        error.update(Content(safe(message)))
        error.add_class("-shown")

    def _destination(self) -> Path | None:
        """The destination path, or None after showing why it can't be used."""
        text = self.query_one("#export-dest", Input).value.strip()
        if not text:
            self._show_error("Type a file name to export to.")
            return None
        self._typed = text
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = (self.folder or Path.cwd()) / path
        folder = path.parent
        if path.is_dir():
            self._show_error(f"{path} is a folder: add a file name.")
            return None
        if not folder.is_dir():
            self._show_error(f"The folder {folder} does not exist: create it first, or pick another.")
            return None
        if not os.access(folder, os.W_OK | os.X_OK):
            self._show_error(f"Can't write in {folder}: permission denied.")
            return None
        return path

    def _shown(self, path: Path) -> str:
        """The path as the user typed it when relative (\"… in the current folder\"), else in full."""
        if self._typed and not Path(self._typed).expanduser().is_absolute():
            return f"{self._typed} (in the current folder)" if self.folder is None else self._typed
        return str(path)

    # exporting ----------------------------------------------------------------------------
    def confirm(self) -> None:
        if self._busy or self._info is None or self._info.count == 0:
            return
        path = self._destination()
        if path is None:
            return
        if path.exists():
            self._busy = True  # until the question is answered
            self._update_button()

            def answered(yes: bool | None) -> None:
                self._busy = False
                self._update_button()
                if yes:  # later: pushed from inside the dismiss, the progress screen was popped in its place
                    self.call_later(self._run, path, overwrite=True)
                else:
                    self._show_error(f"{path.name} was kept: pick another name, or confirm to replace it.")

            self.app.push_screen(
                ConfirmScreen(f"{self._shown(path)} already exists.\nReplace it with this export?",
                              "Replace", "Keep it", title="Replace the file?"),
                answered,
            )
            return
        self._run(path, overwrite=False)

    def _run(self, path: Path, *, overwrite: bool) -> None:
        self._busy = True
        self._update_button()
        self.query_one("#export-error").remove_class("-shown")
        browser, fmt, scope = self.browser, self.fmt, self.scope
        total = self._info.count if self._info else 0

        def job(report: Any, is_cancelled: Any) -> int:
            return browser.export(
                path, fmt,
                session_ids=list(scope.session_ids) if scope.session_ids is not None else None,
                source=scope.source, progress=report, should_cancel=is_cancelled, overwrite=overwrite,
            )

        self.app.push_screen(
            ProgressScreen(f"Exporting {total:,} session{'s' if total != 1 else ''}", job,
                           unit="sessions", note=f"to {path}"),
            lambda outcome: self._exported(outcome, path, fmt),
        )

    def _exported(self, outcome: JobOutcome | None, path: Path, fmt: str) -> None:
        self._busy = False
        self._update_button()
        if outcome is not None and outcome.ok:
            self.dismiss(ExportDone(int(outcome.result or 0), path, fmt))
            return
        if outcome is None or outcome.cancelled:
            self._show_error("Export cancelled: no file was written.")
            self.notify("Export cancelled: no file was written.", markup=False)
            return
        message = f"Export failed, no file was written: {describe_error(outcome.error or RuntimeError())}"
        self._show_error(message)
        self.notify(message, title="Export failed", severity="error", markup=False)
