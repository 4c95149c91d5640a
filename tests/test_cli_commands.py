"""The scriptable subcommands (``search``, ``export``, ``prune``, ``stats``), run as a user would:
``python -m tui ...`` in a subprocess, against small databases built in tmp_path."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from store import DatabaseLockedError, SessionDB
from tui.cli import main as cli_main
from tui.data import Browser

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400.0
OSC52 = "\x1b]52;c;aGk=\x07"
HOSTILE = f"paste {OSC52} the zebrafish [bold]x[/] now \x9b31m done"


def hb(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "", "HERMES_HOME": "/nonexistent-hermes-home"}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], cwd=ROOT, capture_output=True, text=True,
        input=stdin if stdin is not None else "", timeout=30, env=env, encoding="utf-8",
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("hermes-browse: ")
    return proc.stderr.strip()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Four sessions: two ended cli ones, an active telegram one, and a hostile one."""
    path = tmp_path / "state.db"
    with SessionDB(path) as db:
        db.create_session("alpha-1111", "cli", model="m1")
        db.set_session_title("alpha-1111", "Kubernetes rollout")
        db.append_message("alpha-1111", "user", "how do I restart the kubernetes deployment?")
        db.append_message("alpha-1111", "assistant", "Use kubectl rollout restart deployment/web.")
        db.end_session("alpha-1111", "user_exit")
        db.create_session("alpha-2222", "cli", model="m2")
        db.append_message("alpha-2222", "user", "plan a picnic menu")
        db.end_session("alpha-2222", "user_exit")
        db.create_session("beta-3333", "telegram", model="m1")
        db.append_message("beta-3333", "user", "still chatting about the picnic")
        db.create_session("evil-4444", "cli", model="m1")
        db.set_session_title("evil-4444", "[bold]x[/]")
        db.append_message("evil-4444", "assistant", HOSTILE)
        db.end_session("evil-4444", "user_exit")
    return path


def age_sessions(path: Path, ids: list[str], days: float) -> None:
    """Move sessions (and their messages) ``days`` into the past; triggers recompute last_active."""
    then = time.time() - days * DAY
    conn = sqlite3.connect(path)
    with conn:
        for sid in ids:
            conn.execute(
                "UPDATE sessions SET started_at = ?, ended_at = CASE WHEN ended_at IS NULL THEN NULL ELSE ? END "
                "WHERE id = ?",
                (then, then, sid),
            )
            conn.execute("UPDATE messages SET timestamp = ? WHERE session_id = ?", (then, sid))
    conn.close()


def session_ids(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM sessions")}
    finally:
        conn.close()


# ── search ───────────────────────────────────────────────────────────────────────────────────


def test_search_found(db_path: Path) -> None:
    proc = hb("--db", str(db_path), "search", "kubectl")
    assert proc.returncode == 0, proc.stderr
    assert "Kubernetes rollout" in proc.stdout
    assert ">>>kubectl<<<" in proc.stdout  # not a TTY: plain markers, no ANSI
    assert "session alpha-1111" in proc.stdout
    assert "\x1b" not in proc.stdout


def test_search_global_options_after_the_subcommand(db_path: Path) -> None:
    proc = hb("search", "picnic", "--source", "telegram", "--db", str(db_path), "--read-only")
    assert proc.returncode == 0, proc.stderr
    assert "beta-3333" in proc.stdout and "alpha-2222" not in proc.stdout


def test_search_not_found_exits_1(db_path: Path) -> None:
    proc = hb("search", "--db", str(db_path), "nonexistentword")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "no messages match" in one_error_line(proc)


def test_search_json(db_path: Path) -> None:
    proc = hb("--db", str(db_path), "search", "picnic", "--json", "--limit", "5")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert {h["session_id"] for h in hits} == {"alpha-2222", "beta-3333"}
    for h in hits:
        assert set(h) >= {"id", "session_id", "title", "source", "role", "timestamp", "epoch", "snippet",
                          "tool_name"}
        assert h["timestamp"].endswith("Z") and isinstance(h["epoch"], float)
        assert ">>>picnic<<<" in h["snippet"]


def test_search_json_no_hits_is_empty_array_exit_1(db_path: Path) -> None:
    proc = hb("--db", str(db_path), "search", "nonexistentword", "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == []


def test_search_hostile_content_cannot_drive_the_terminal(db_path: Path) -> None:
    proc = hb("--db", str(db_path), "search", "zebrafish")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\x9b" not in proc.stdout
    assert "[bold]x[/]" in proc.stdout  # shown literally, not interpreted
    proc = hb("--db", str(db_path), "search", "zebrafish", "--json")
    assert proc.returncode == 0
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\x9b" not in proc.stdout
    (hit,) = json.loads(proc.stdout)
    assert hit["title"] == "[bold]x[/]"


# ── export ───────────────────────────────────────────────────────────────────────────────────


def test_export_session_prefix_to_file(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    proc = hb("--db", str(db_path), "export", "--session", "alpha-1", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["id"] == "alpha-1111"
    assert [m["role"] for m in record["messages"]] == ["user", "assistant"]
    assert proc.stdout == ""


def test_export_to_stdout(db_path: Path) -> None:
    proc = hb("--db", str(db_path), "export", "--all")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {r["id"] for r in records} == {"alpha-1111", "alpha-2222", "beta-3333", "evil-4444"}
    assert all(r["messages"] for r in records)
    assert proc.stderr == ""  # no progress when stderr is not a terminal


def test_export_source_markdown(db_path: Path) -> None:
    proc = hb("export", "--source", "telegram", "--format", "md", "-o", "-", "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# beta-3333")
    assert "still chatting about the picnic" in proc.stdout
    assert "alpha" not in proc.stdout


def test_export_refuses_to_overwrite_without_force(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("keep me\n")
    proc = hb("--db", str(db_path), "export", "--all", "-o", str(out))
    assert proc.returncode == 2
    assert "already exists" in one_error_line(proc)
    assert out.read_text() == "keep me\n"
    proc = hb("--db", str(db_path), "export", "--all", "-o", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_text().splitlines()) == 4


@pytest.mark.parametrize("wanted, why", [("nope", "matches no session"), ("alpha", "matches several")])
def test_export_unknown_or_ambiguous_session_exits_1(db_path: Path, tmp_path: Path, wanted: str, why: str) -> None:
    out = tmp_path / "out.jsonl"
    proc = hb("--db", str(db_path), "export", "--session", wanted, "-o", str(out))
    assert proc.returncode == 1
    assert why in one_error_line(proc)
    assert not out.exists()


def test_export_needs_a_selection(db_path: Path) -> None:
    proc = hb("--db", str(db_path), "export")
    assert proc.returncode == 2
    assert "--session" in one_error_line(proc)


def test_missing_database_is_one_line_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    for args in (["export", "--all"], ["search", "x"], ["stats"], ["prune", "--older-than", "1", "--yes"]):
        proc = hb("--db", str(missing), *args)
        assert proc.returncode == 2
        assert one_error_line(proc) == f"hermes-browse: no database at {missing}"
    assert not missing.exists()


def test_not_a_database_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just notes\n" * 10)
    proc = hb("stats", "--db", str(path))
    assert proc.returncode == 2
    assert "is not an SQLite database" in one_error_line(proc)


# ── prune ────────────────────────────────────────────────────────────────────────────────────


def test_prune_dry_run_prints_counts_and_deletes_nothing(db_path: Path) -> None:
    age_sessions(db_path, ["alpha-1111", "beta-3333"], days=40)
    proc = hb("--db", str(db_path), "prune", "--older-than", "30", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "sessions: 1" in proc.stdout and "messages: 2" in proc.stdout
    assert "active sessions spared: 1" in proc.stdout
    assert session_ids(db_path) == {"alpha-1111", "alpha-2222", "beta-3333", "evil-4444"}


def test_prune_dry_run_nothing_to_prune_exits_1(db_path: Path) -> None:
    proc = hb("--db", str(db_path), "prune", "--older-than", "2w", "--dry-run")
    assert proc.returncode == 1
    assert "sessions: 0" in proc.stdout
    assert "nothing to prune" in one_error_line(proc)


def test_prune_without_yes_on_non_tty_stdin_refuses(db_path: Path) -> None:
    age_sessions(db_path, ["alpha-1111"], days=40)
    proc = hb("--db", str(db_path), "prune", "--older-than", "30", stdin="y\n")
    assert proc.returncode == 2
    assert one_error_line(proc) == "hermes-browse: refusing to prune without --yes when stdin is not a terminal"
    assert "alpha-1111" in session_ids(db_path)


def test_prune_yes_deletes_only_ended_old_sessions(db_path: Path) -> None:
    age_sessions(db_path, ["alpha-1111", "beta-3333", "evil-4444"], days=10)
    proc = hb("prune", "--older-than", "5d", "--yes", "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr
    assert "deleted 2 sessions" in proc.stdout
    # beta-3333 is old but still active; alpha-2222 is ended but recent
    assert session_ids(db_path) == {"alpha-2222", "beta-3333"}
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM messages WHERE session_id = 'alpha-1111'").fetchone()[0] == 0
    finally:
        conn.close()


def test_prune_hours_and_source(db_path: Path) -> None:
    age_sessions(db_path, ["alpha-1111", "evil-4444"], days=1)
    proc = hb("--db", str(db_path), "prune", "--older-than", "5h", "--source", "telegram", "--yes")
    assert proc.returncode == 1  # nothing from telegram is ended and old
    assert session_ids(db_path) == {"alpha-1111", "alpha-2222", "beta-3333", "evil-4444"}


def test_prune_read_only_refused(db_path: Path) -> None:
    age_sessions(db_path, ["alpha-1111"], days=40)
    proc = hb("--db", str(db_path), "--read-only", "prune", "--older-than", "30", "--yes")
    assert proc.returncode == 2
    assert "read-only" in one_error_line(proc)
    assert "alpha-1111" in session_ids(db_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write a read-only file")
def test_prune_unwritable_file_refused(db_path: Path) -> None:
    age_sessions(db_path, ["alpha-1111"], days=40)
    db_path.chmod(0o400)
    try:
        proc = hb("--db", str(db_path), "prune", "--older-than", "30", "--yes")
    finally:
        db_path.chmod(0o600)
    assert proc.returncode == 2
    assert "not writable" in one_error_line(proc)


def test_prune_newer_schema_refused(db_path: Path) -> None:
    age_sessions(db_path, ["alpha-1111"], days=40)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (999)")
    conn.close()
    proc = hb("--db", str(db_path), "prune", "--older-than", "30", "--yes")
    assert proc.returncode == 2
    assert "schema version 999 is newer" in one_error_line(proc)
    assert "alpha-1111" in session_ids(db_path)
    assert hb("--db", str(db_path), "prune", "--older-than", "30", "--dry-run").returncode == 0


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("answer, code", [("y", 0), ("n", 1)])
def test_prune_asks_on_a_terminal(db_path: Path, answer: str, code: int) -> None:
    age_sessions(db_path, ["alpha-1111"], days=40)
    primary, secondary = os.openpty()
    try:
        os.write(primary, f"{answer}\n".encode())
        proc = subprocess.run(
            [sys.executable, "-m", "tui", "--db", str(db_path), "prune", "--older-than", "30"],
            cwd=ROOT, stdin=secondary, capture_output=True, text=True, timeout=30,
        )
    finally:
        os.close(secondary)
        os.close(primary)
    assert proc.returncode == code, proc.stderr
    assert "[y/N]" in proc.stderr and "Traceback" not in proc.stderr
    assert ("alpha-1111" in session_ids(db_path)) is (answer == "n")


def test_prune_bad_age_is_usage_error(db_path: Path) -> None:
    proc = hb("--db", str(db_path), "prune", "--older-than", "soon")
    assert proc.returncode == 2
    assert "not an age" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(("stop", "code", "said"), [
    (DatabaseLockedError(3.0, 3.0), 2, "3 sessions had been deleted before that (each whole); run it again"),
    (KeyboardInterrupt(), 130, "interrupted: 3 sessions deleted before it stopped"),
])
def test_prune_stopped_after_some_steps_says_what_was_deleted(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    stop: BaseException, code: int, said: str,
) -> None:
    """The CLI prunes in steps: a failure or ^C after some of them says how many went, in one line."""
    age_sessions(db_path, ["alpha-1111", "beta-3333"], days=40)

    def stopped(self: Browser, days: float, source: str | None = None, progress: Any = None,
                should_cancel: Any = None) -> int:
        progress(3, 10)
        raise stop

    monkeypatch.setattr(Browser, "prune", stopped)
    rc = cli_main(["--db", str(db_path), "prune", "--older-than", "30", "--yes"])
    err = capsys.readouterr().err
    assert rc == code
    assert err.count("\n") == 1 and err.startswith("hermes-browse: ") and said in err, err


# ── stats ────────────────────────────────────────────────────────────────────────────────────


def test_stats_human(db_path: Path) -> None:
    proc = hb("--db", str(db_path), "stats")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "sessions 4 · messages 5" in out
    assert "schema v" in out and "read-only no" in out
    assert "top models" in out and "m1" in out and "top sources" in out and "telegram" in out
    assert "largest sessions" in out and "Kubernetes rollout" in out
    assert "\x1b" not in out and "[bold]x[/]" in out


def test_stats_json(db_path: Path) -> None:
    proc = hb("stats", "--json", "--days", "7", "--db", str(db_path), "--read-only")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["days"] == 7
    assert data["database"]["sessions"] == 4 and data["database"]["messages"] == 5
    assert data["database"]["read_only"] is True and isinstance(data["database"]["schema_version"], int)
    assert data["totals"]["sessions"] == 4
    assert {r["model"] for r in data["top_models"]} == {"m1", "m2"}
    assert {r["source"] for r in data["top_sources"]} == {"cli", "telegram"}
    assert data["largest_sessions"][0]["id"] == "alpha-1111"


def test_stats_on_demo_database(tmp_path: Path) -> None:
    from store.demo import generate

    path = tmp_path / "demo.db"
    generate(path, sessions=40, seed=7)
    proc = hb("--db", str(path), "stats", "--days", "365", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["database"]["sessions"] == 40


def test_stats_of_an_empty_history_is_nothing_found(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SessionDB(path).close()
    for extra in ([], ["--json"]):
        proc = hb("--db", str(path), "stats", *extra)
        assert proc.returncode == 1
        assert one_error_line(proc) == "hermes-browse: no sessions in the database"
        assert "sessions" in proc.stdout  # the figures are printed all the same


@pytest.mark.parametrize("args", [
    ["prune"], ["search"], ["export", "--format", "csv"], ["bogus"], ["--nope"], ["stats", "--days", "many"],
])
def test_usage_errors_are_one_line_exit_2(args: list[str]) -> None:
    proc = hb(*args)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("hermes-browse"), proc.stderr
    assert "--help" in proc.stderr and "usage:" not in proc.stderr and "Traceback" not in proc.stderr


# ── the app's options are unchanged ──────────────────────────────────────────────────────────


def test_demo_with_a_subcommand_is_a_usage_error() -> None:
    proc = hb("--demo", "stats")
    assert proc.returncode == 2
    assert "--demo" in proc.stderr and "Traceback" not in proc.stderr


def test_help_lists_the_subcommands() -> None:
    proc = hb("--help")
    assert proc.returncode == 0
    for word in ("search", "export", "prune", "stats", "--db", "--read-only", "--demo", "--version"):
        assert word in proc.stdout


def test_search_uses_a_long_budget_and_says_when_even_that_was_cut(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI is not live typing: it asks the store for the thorough search (10 s), and if even that
    stopped early it says so in one line on stderr; the hits still print and it exits 0."""
    from tui.cli_commands import CLI_SEARCH_BUDGET_S
    from tui.data import SearchResult

    seen: list[float | None] = []
    real = Browser.search

    def cut_short(self: Browser, query: str, **kw: Any) -> SearchResult:
        seen.append(kw.get("budget_s"))
        result = real(self, query, **kw)
        return SearchResult(result.query, result.hits, result.hidden_by_filter, result.error, complete=False)

    monkeypatch.setattr(Browser, "search", cut_short)
    rc = cli_main(["--db", str(db_path), "search", "kubernetes"])
    out, err = capsys.readouterr()
    assert seen == [CLI_SEARCH_BUDGET_S]
    assert rc == 0 and "Kubernetes rollout" in out
    assert err == "hermes-browse: searched for 10 s: older messages may hold more matches\n"
