"""Bad databases (issue 5, item 8): truncated, a corrupt page, a -wal of another database, the
search index dropped or garbled, extra tables and columns. Each opens or is refused with one clear
line, in the store, the CLI and the app, and none is modified (files hashed and timed before and
after). The damage is made by ``bench.soak_baddb`` (the soak prints the same cases as a table).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import until

from bench.soak_baddb import CASES, Case, build_base, changed_files, make_case, snapshot, try_app_open, try_cli
from store import CorruptDatabaseError, SessionDB, StoreError
from tui.app import HermesBrowseApp
from tui.screens.error import ErrorScreen
from tui.screens.main import MainScreen

BY_NAME = {c.name: c for c in CASES}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_base(tmp_path_factory.mktemp("baddb") / "state.db", sessions=12, per_session=10)


def damaged(case: Case, tmp_path: Path, template: Path) -> Path:
    return make_case(case, tmp_path / "data", template)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_bad_database_opens_or_is_refused_clearly_and_is_not_modified(
    case: Case, tmp_path: Path, template: Path
) -> None:
    path = damaged(case, tmp_path, template)
    before = snapshot(path.parent)
    # the store: a StoreError with one line, never a raw sqlite3 error
    try:
        db = SessionDB(path, read_only=True)
    except StoreError as exc:
        assert case.expect == "refused"
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        try:
            for row in db.search_sessions(limit=100):
                try:
                    db.get_messages(row["id"])
                except StoreError:
                    pass  # a damaged page: a clear error for that session, the rest still reads
            try:
                db.list_sessions_page(limit=100)
            except StoreError:
                pass  # the list's previews read messages: a clear error, never a raw one
        finally:
            db.close()
    # the app's open path, which may open read-write
    app = try_app_open(path)
    assert not app.raw_errors, app.raw_errors
    assert app.label == case.expect, (app.label, app.error, app.reason)
    # the command line: exit 0, or exit 2 with one line
    for args in (("stats",), ("search", "wombat")):
        code, err = try_cli(path, *args)
        assert code in (0, 2), (args, code, err)
        if code == 2:
            assert err.count("\n") == 1 and err.startswith("hermes-browse: ") and "Traceback" not in err
    assert changed_files(before, snapshot(path.parent)) == []


def test_corrupt_page_error_names_the_damage_and_the_doctor(tmp_path: Path, template: Path) -> None:
    path = damaged(BY_NAME["corrupt messages leaf page"], tmp_path, template)
    with SessionDB(path, read_only=True) as db:
        errors = []
        for row in db.search_sessions(limit=100):
            try:
                db.get_messages(row["id"])
            except CorruptDatabaseError as exc:
                errors.append(str(exc))
    assert errors and "damaged" in errors[0] and "hermes-browse doctor" in errors[0]


def test_missing_fts_opens_read_only_and_search_still_finds(tmp_path: Path, template: Path) -> None:
    path = damaged(BY_NAME["messages_fts dropped"], tmp_path, template)
    before = snapshot(path.parent)
    from tui.data import Browser

    browser = Browser.open_existing(path)
    try:
        assert browser.read_only and "messages_fts is missing" in (browser.read_only_reason or "")
        assert browser.search("wombat", prefix=False).hits  # falls back to the trigram/LIKE routes
    finally:
        browser.close()
    assert changed_files(before, snapshot(path.parent)) == []


def test_foreign_wal_is_never_merged_into_the_database(tmp_path: Path, template: Path) -> None:
    """A -wal copied from another store: SQLite does not notice (no link from a WAL to its database)
    and a read-write close would write its pages into this file. Browsing must never do that."""
    path = damaged(BY_NAME["-wal of another database"], tmp_path, template)
    before = snapshot(path.parent)
    assert try_app_open(path).error
    assert try_cli(path, "stats")[0] == 2
    assert changed_files(before, snapshot(path.parent)) == []


def test_unmerged_wal_from_a_crash_opens_read_only_with_the_newest_rows(tmp_path: Path, template: Path) -> None:
    path = damaged(BY_NAME["-wal with unmerged commits (crash)"], tmp_path, template)
    before = snapshot(path.parent)
    from tui.data import Browser

    browser = Browser.open_existing(path)
    try:
        assert browser.read_only and "-wal holds changes" in (browser.read_only_reason or "")
        assert [m["content"] for m in browser.db.get_messages("s-new")] == ["zucchini newest message"]
    finally:
        browser.close()
    assert changed_files(before, snapshot(path.parent)) == []


def test_extra_tables_and_columns_are_kept_and_browsable(tmp_path: Path, template: Path) -> None:
    path = damaged(BY_NAME["unknown tables and columns"], tmp_path, template)
    with SessionDB(path, read_only=True) as db:
        assert db.get_session("s000") is not None
        assert db.search_messages("wombat")
    with SessionDB(path) as db:  # a writable open keeps what another program added
        db.create_session("mine", "cli")
    con = __import__("sqlite3").connect(path)
    try:
        assert con.execute("SELECT body FROM notes").fetchall() == [("kept",)]
        assert con.execute("SELECT mood FROM sessions WHERE id = 'mine'").fetchone() == ("calm",)
    finally:
        con.close()


async def test_app_shows_an_error_screen_for_a_damaged_file(tmp_path: Path, template: Path) -> None:
    path = damaged(BY_NAME["corrupt messages root page"], tmp_path, template)
    before = snapshot(path.parent)
    app = HermesBrowseApp(path)
    async with app.run_test() as pilot:
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        assert isinstance(app.open_error, CorruptDatabaseError)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "damaged" in text and "doctor" in text
    app.close_store()
    assert changed_files(before, snapshot(path.parent)) == []


async def test_app_header_says_why_a_database_without_fts_is_read_only(tmp_path: Path, template: Path) -> None:
    path = damaged(BY_NAME["messages_fts dropped"], tmp_path, template)
    app = HermesBrowseApp(path)
    async with app.run_test(size=(200, 30)) as pilot:
        from conftest import screen_text

        # the header is drawn after the screen is pushed: wait for it rather than a fixed pause
        await until(pilot, lambda: isinstance(app.screen, MainScreen)
                    and "read-only: the search index messages_fts is missing" in screen_text(app))
    app.close_store()
    shutil.rmtree(tmp_path / "data")
