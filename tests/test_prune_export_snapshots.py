"""Snapshots of the prune and export modals (fixed clocks, cursors frozen, workers settled).

Create or accept with ``pytest tests/test_prune_export_snapshots.py --snapshot-update`` after
looking at them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

import store.cleanup
from store import SessionDB
from tests.conftest import FIXED_TS, _FrozenTime, fixed_now, freeze_cursors, settle, until
from tests.test_prune_export import Harness, build_prune_db
from tui.actions import open_export, open_prune
from tui.data import Browser
from tui.screens.confirm import ConfirmScreen
from tui.screens.export import ExportScreen
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
