"""Snapshots of managing history: the delete dialog and the inline title editor showing a refusal.

Fixed clock, fixed database (conftest's small one), cursors frozen. Create or accept with
``pytest tests/test_manage_snapshots.py --snapshot-update`` after looking at them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PATH_LABEL, fixed_now, freeze_cursors, settle, until
from textual.pilot import Pilot

from store import SessionDB
from tui.app import HermesBrowseApp
from tui.data import Browser
from tui.screens.delete import DeleteScreen
from tui.screens.main import MainScreen

SIZE = (120, 40)


@pytest.fixture
def app(small_db: Path) -> Iterator[HermesBrowseApp]:
    browser = Browser(SessionDB(small_db), now=fixed_now)
    yield HermesBrowseApp(browser=browser, path_label=PATH_LABEL)
    browser.close()


async def _delete_parent(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("c")  # every segment of a chain on its own row (a chain is one row by default)
    await settle(pilot)
    await pilot.press(*"jjjjjjj")  # chain-2: a parent, with messages
    await settle(pilot)
    await pilot.press("d")
    await until(pilot, lambda: isinstance(pilot.app.screen, DeleteScreen))
    await settle(pilot)


async def _rename_refused(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("j", "r")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    editor = screen.title_editor
    assert editor is not None
    editor.input.value = "Deploy the docs site"  # s-3h's title
    await pilot.press("enter")
    await until(pilot, lambda: editor.error is not None)
    freeze_cursors(pilot.app)
    await settle(pilot)


def test_delete_dialog(snap_compare: Any, app: HermesBrowseApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=_delete_parent)


def test_rename_editor_with_a_refusal(snap_compare: Any, app: HermesBrowseApp) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=_rename_refused)
