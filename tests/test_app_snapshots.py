"""Snapshots of the real screens on demo data with a fixed clock (the scenes of tui/screenshots.py).

Create or accept with ``pytest tests/test_app_snapshots.py --snapshot-update`` after looking at
them (``python -m tui.screenshots`` writes the same pictures to screenshots/).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tui import screenshots
from tui.app import HermesBrowseApp

SIZE = screenshots.SIZE


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshots.build_demo(tmp_path_factory.mktemp("shots"))


@pytest.fixture
def demo_app(demo_template: Path, tmp_path: Path) -> Iterator[HermesBrowseApp]:
    db = tmp_path / "state.db"
    db.write_bytes(demo_template.read_bytes())
    app = screenshots.demo_app(db)
    yield app
    app.close_store()


def test_main_screen(snap_compare: Any, demo_app: HermesBrowseApp) -> None:
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=screenshots.scene_main)


def test_search_results(snap_compare: Any, demo_app: HermesBrowseApp) -> None:
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=screenshots.scene_search)


def test_conversation_in_main_screen(snap_compare: Any, demo_app: HermesBrowseApp) -> None:
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=screenshots.scene_conversation)


def test_error_screen(snap_compare: Any) -> None:
    assert snap_compare(screenshots.error_app(), terminal_size=SIZE, run_before=screenshots.scene_error)
