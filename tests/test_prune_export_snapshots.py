"""Snapshots of the prune and export modals (fixed clocks, cursors frozen, workers settled).

Create or accept with ``pytest tests/test_prune_export_snapshots.py --snapshot-update`` after
looking at them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

import store.cleanup
from store import SessionDB
from tests.conftest import FIXED_TS, _FrozenTime, fixed_now, freeze_cursors, screen_text, settle, until
from tests.test_prune_export import Harness, build_prune_db
from tui.actions import open_export, open_prune
from tui.data import Browser
from tui.screens.confirm import ConfirmScreen
from tui.screens.export import ExportScreen
from tui.screens.progress import ProgressScreen
from tui.screens.prune import PruneScreen

SIZE = (100, 34)


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setattr(store.cleanup, "time", _FrozenTime(FIXED_TS))
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    browser = Browser(SessionDB(build_prune_db(tmp_path / "state.db")), now=fixed_now)
    yield Harness(browser)
    browser.close()


def test_prune_modal_with_preview(snap_compare: Any, harness: Harness) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        open_prune(pilot.app.base)
        await until(pilot, lambda: isinstance(pilot.app.screen, PruneScreen))
        await settle(pilot)
        pilot.app.screen.query_one("#prune-age").value = "30d"
        await settle(pilot)
        freeze_cursors(pilot.app)

    assert snap_compare(harness, terminal_size=SIZE, run_before=run_before)


def test_export_modal(snap_compare: Any, harness: Harness) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        open_export(pilot.app.base, source="cli")
        await until(pilot, lambda: isinstance(pilot.app.screen, ExportScreen))
        await settle(pilot)
        freeze_cursors(pilot.app)

    assert snap_compare(harness, terminal_size=SIZE, run_before=run_before)


def test_export_overwrite_confirmation(snap_compare: Any, harness: Harness) -> None:
    Path("hermes-export-20260310-1200.jsonl").write_text("an earlier export\n")

    async def run_before(pilot: Pilot[Any]) -> None:
        open_export(pilot.app.base, session_ids=["old-2"])
        await until(pilot, lambda: isinstance(pilot.app.screen, ExportScreen))
        await settle(pilot)
        freeze_cursors(pilot.app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.pause()

    assert snap_compare(harness, terminal_size=SIZE, run_before=run_before)


def test_progress_modal_mid_job(snap_compare: Any, harness: Harness) -> None:
    """The progress modal of a prune, three steps in (a stand-in job that waits until cancelled)."""

    def job(report: Any, is_cancelled: Any) -> int:
        report(3, 8)
        while not is_cancelled():
            time.sleep(0.02)
        return 3

    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(ProgressScreen(
            "Pruning 8 sessions", job, unit="sessions",
            note="In short steps; cancel stops after the current one and keeps what was deleted.",
        ))
        await until(pilot, lambda: isinstance(pilot.app.screen, ProgressScreen)
                    and "3 of 8" in screen_text(pilot.app))
        freeze_cursors(pilot.app)

    assert snap_compare(harness, terminal_size=SIZE, run_before=run_before)
