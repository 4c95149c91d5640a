"""Snapshot of the stats screen (demo data, fixed clock, 120x40). Accept with
``pytest tests/test_stats_snapshots.py --snapshot-update`` after looking at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import fixed_now, settle, until
from test_stats import StatsHarness

from store import SessionDB
from tui.data import Browser
from tui.screens.stats import StatsScreen

SIZE = (120, 40)


@pytest.fixture
def stats_app(demo_db: Path) -> Iterator[StatsHarness]:
    browser = Browser(SessionDB(demo_db), now=fixed_now)
    yield StatsHarness(browser)
    browser.close()


def _loaded(days: int) -> Any:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, StatsScreen)
        await until(pilot, lambda: screen.data is not None and screen.data.days == days and screen.settled)
        await settle(pilot)

    return run_before


def test_stats_30_days(snap_compare: Any, stats_app: StatsHarness) -> None:
    assert snap_compare(stats_app, terminal_size=SIZE, run_before=_loaded(30))
