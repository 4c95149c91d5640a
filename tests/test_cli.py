"""The ``hermes-browse`` command: clear one-line errors (exit 2), --version, --help, --demo."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import build_small_db, until
from textual.pilot import Pilot

from tui import __version__, cli
from tui.app import HermesBrowseApp
from tui.screens.error import ErrorScreen
from tui.screens.main import MainScreen

ROOT = Path(__file__).resolve().parent.parent


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("hermes-browse: ")
    return err.strip()


def test_missing_database_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nowhere" / "state.db"
    assert cli.main(["--db", str(path)]) == 2
    assert one_error_line(capsys) == f"hermes-browse: no database at {path}"
    assert not path.exists() and not path.parent.exists()


def test_default_path_comes_from_hermes_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HERMES_HOME", str(tmp_path / "home"))
    assert cli.main([]) == 2
    assert one_error_line(capsys) == f"hermes-browse: no database at {tmp_path / 'home' / 'state.db'}"
    assert not (tmp_path / "home").exists()


def test_not_a_database_is_one_line_and_left_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n" * 10)
    assert cli.main(["--db", str(path)]) == 2
    assert "is not an SQLite database" in one_error_line(capsys)
    assert path.read_text() == "just some notes\n" * 10


@pytest.mark.parametrize("kind", ["directory", "empty"])
def test_other_unusable_paths(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "state.db"
    if kind == "directory":
        path.mkdir()
    else:
        path.touch()
    assert cli.main(["--db", str(path)]) == 2
    line = one_error_line(capsys)
    assert ("is a directory" in line) if kind == "directory" else ("is empty" in line)
    if kind == "empty":
        assert path.stat().st_size == 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"hermes-browse {__version__}"


def test_help_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for option in ("--db", "--read-only", "--demo", "--version"):
        assert option in out


def test_the_installed_module_runs_without_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    proc = subprocess.run(
        [sys.executable, "-m", "tui", "--db", str(missing)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr == f"hermes-browse: no database at {missing}\n"
    assert not missing.exists()


def test_the_console_script_runs(tmp_path: Path) -> None:
    """The ``hermes-browse`` script pip installed next to this Python (CI installs the package into a
    fresh virtualenv): it starts, and refuses a missing database in one line. A stale editable install
    once failed here with an ImportError while ``python -m tui`` worked."""
    script = Path(sys.executable).parent / "hermes-browse"
    if not script.exists():
        pytest.skip("hermes-browse is not installed beside this Python (pip install -e .)")
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == f"hermes-browse {__version__}", version.stderr
    missing = tmp_path / "missing.db"
    proc = subprocess.run([str(script), "--db", str(missing)], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == f"hermes-browse: no database at {missing}\n"


def run_headless(monkeypatch: pytest.MonkeyPatch, script: Any) -> list[HermesBrowseApp]:
    """Make ``cli.main`` run the app headless, driven by ``script(pilot)``; returns the app(s) run."""
    apps: list[HermesBrowseApp] = []

    def run(self: HermesBrowseApp, **kwargs: Any) -> None:
        apps.append(self)

        async def auto_pilot(pilot: Pilot[Any]) -> None:
            await script(pilot)

        super(HermesBrowseApp, self).run(headless=True, size=(120, 40), auto_pilot=auto_pilot)

    monkeypatch.setattr(HermesBrowseApp, "run", run)
    return apps


def test_newer_schema_opens_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = build_small_db(tmp_path / "state.db")
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO schema_version (version) VALUES (99)")
    con.close()
    seen: dict[str, Any] = {}

    async def script(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        seen["read_only"] = app.browser.read_only  # type: ignore[attr-defined]
        seen["reason"] = app.browser.read_only_reason  # type: ignore[attr-defined]
        await pilot.press("q")

    run_headless(monkeypatch, script)
    assert cli.main(["--db", str(path)]) == 0
    assert seen["read_only"] and "schema version 99" in seen["reason"]
    assert capsys.readouterr().err == ""


def test_a_foreign_sqlite_file_shows_the_error_screen_then_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE t (x)")
    con.close()

    async def script(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: isinstance(pilot.app.screen, ErrorScreen))
        await pilot.press("q")

    run_headless(monkeypatch, script)
    assert cli.main(["--db", str(path)]) == 2
    assert "holds no Hermes session tables" in one_error_line(capsys)


def test_demo_opens_generated_data_and_cleans_up(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    async def script(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, MainScreen), timeout=20)
        await until(pilot, lambda: bool(app.screen.session_list.total))  # type: ignore[attr-defined]
        seen["path"] = app.browser.path  # type: ignore[attr-defined]
        seen["total"] = app.screen.session_list.total  # type: ignore[attr-defined]
        await pilot.press("q")

    apps = run_headless(monkeypatch, script)
    assert cli.main(["--demo"]) == 0
    assert apps[0].demo and seen["total"] >= 100
    assert not seen["path"].exists() and not seen["path"].parent.exists()
