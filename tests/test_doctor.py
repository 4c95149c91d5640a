"""``hermes-browse doctor``: reports (exit 0 healthy, 1 problems, 2 cannot open), changes nothing
unless asked; ``--rebuild-fts`` backs up first (0600, verified), then rebuilds or recreates the
indexes, and refuses while another program has the database open."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bench.soak_baddb import CASES, build_base, changed_files, make_case, snapshot, try_cli
from store import SessionDB

BY_NAME = {c.name: c for c in CASES}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_base(tmp_path_factory.mktemp("doctor") / "state.db", sessions=6, per_session=6)


def test_healthy_database_exit_0_and_unchanged(tmp_path: Path, template: Path) -> None:
    path = make_case(BY_NAME["unknown tables and columns"], tmp_path / "d", template)
    before = snapshot(path.parent)
    code, _err = try_cli(path, "doctor")
    assert code == 0
    assert changed_files(before, snapshot(path.parent)) == []


@pytest.mark.parametrize("name", ["messages_fts garbled", "messages_fts dropped", "corrupt messages leaf page"])
def test_problems_exit_1_and_unchanged(tmp_path: Path, template: Path, name: str) -> None:
    path = make_case(BY_NAME[name], tmp_path / "d", template)
    before = snapshot(path.parent)
    from store.doctor import diagnose

    report = diagnose(path)
    assert not report.healthy
    assert try_cli(path, "doctor")[0] == 1
    assert changed_files(before, snapshot(path.parent)) == []


def test_cannot_open_exit_2_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database")
    code, err = try_cli(path, "doctor")
    assert code == 2 and err.count("\n") == 1 and err.startswith("hermes-browse: ")


@pytest.mark.parametrize("name", ["messages_fts garbled", "messages_fts dropped", "messages_trgm garbled"])
def test_rebuild_fts_backs_up_then_repairs(tmp_path: Path, template: Path, name: str) -> None:
    path = make_case(BY_NAME[name], tmp_path / "d", template)
    original = path.read_bytes()
    code, err = try_cli(path, "doctor", "--rebuild-fts")
    assert code == 0, err
    backups = list(path.parent.glob("state.db.bak-*"))
    assert len(backups) == 1
    assert stat.S_IMODE(os.stat(backups[0]).st_mode) == 0o600
    con = sqlite3.connect(backups[0])
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("SELECT count(*) FROM messages").fetchone()[0] == 36
    finally:
        con.close()
    assert original  # the repaired file now searches again, through the agent's index too
    with SessionDB(path) as db:
        db.wait_for_maintenance()
        assert db.search_messages("wombat")
        db.create_session("after", "cli")
        db.append_message("after", "user", "quokka after repair")
        assert [r["session_id"] for r in db.search_messages("quokka")] == ["after"]
    assert try_cli(path, "doctor")[0] == 0


def test_rebuild_refuses_while_another_program_has_it_open(tmp_path: Path, template: Path) -> None:
    path = make_case(BY_NAME["messages_fts garbled"], tmp_path / "d", template)
    agent = subprocess.Popen(  # another process holding the WAL open, as the running agent does
        [sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT count(*) FROM sessions').fetchone(); print('ready', flush=True); time.sleep(60)",
         str(path)], stdout=subprocess.PIPE, text=True,
    )
    try:
        assert agent.stdout is not None and agent.stdout.readline().strip() == "ready"
        before = snapshot(path.parent)
        code, err = try_cli(path, "doctor", "--rebuild-fts")
        assert code == 2 and "stop it first" in err and err.count("\n") == 1
        assert changed_files(before, snapshot(path.parent)) == []
        assert not list(path.parent.glob("state.db.bak-*"))
    finally:
        agent.kill()
        agent.wait()
