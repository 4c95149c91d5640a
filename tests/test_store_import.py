"""``SessionDB.import_jsonl`` (store/importer.py) and ``hermes-browse import``: round trips of
``export_jsonl``, re-runs, conflicts, titles, parent links, validation with line numbers, and the
CLI's exit codes. The SIGKILL tests of the import are in tests/test_hardening_crash.py."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from store_helpers import query, scalar

import store.importer as importer
from store import ImportFileError, ReadOnlyError, SessionDB

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "paste \x1b]52;c;aGk=\x07 [bold]x[/] '); DROP TABLE sessions; --"


def _source(path: Path) -> Path:
    """A small history with what an export can hold: titles, a compression chain, tool calls
    (a list, and a raw string that is not JSON), reasoning details, hostile text, a lone surrogate."""
    with SessionDB(path) as db:
        db.create_session("root-1", "cli", model="m1", model_config={"temperature": 0.2})
        db.set_session_title("root-1", "Kubernetes rollout")
        db.append_message("root-1", "user", "restart the deployment")
        db.append_message("root-1", "assistant", "running it", tool_calls=[
            {"id": "c1", "type": "function", "function": {"name": "terminal", "arguments": '{"cmd": "kubectl"}'}}],
            reasoning="think", reasoning_details=[{"type": "reasoning.text", "text": "think"}])
        db.append_message("root-1", "tool", "deployment restarted", tool_name="terminal", tool_call_id="c1")
        db.end_session("root-1", "compression")
        db.create_session("child-2", "cli", model="m1", parent_session_id="root-1")
        db.set_session_title("child-2", "Kubernetes rollout #2")
        db.append_message("child-2", "user", HOSTILE + " lone \ud800 surrogate")
        db.end_session("child-2", "user_exit")
        db.create_session("solo-3", "telegram")
        db.append_message("solo-3", "user", "混合 текст déjà vu")
        db.update_token_counts("solo-3", input_tokens=12, output_tokens=34, estimated_cost_usd=0.5)
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("UPDATE messages SET tool_calls = 'not json {' WHERE session_id = 'solo-3'")
    conn.close()
    return path


def _export(tmp_path: Path) -> tuple[Path, Path]:
    src = _source(tmp_path / "src.db")
    out = tmp_path / "export.jsonl"
    with SessionDB(src) as db:
        db.export_jsonl(out)
    return src, out


def _norm(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for r in records:
        r = dict(r)
        r["messages"] = [{k: v for k, v in m.items() if k != "id"} for m in r["messages"]]
        out[r["id"]] = r
    return out


def _all(path: Path) -> dict[str, dict[str, Any]]:
    with SessionDB(path) as db:
        return _norm(db.export_all())


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


# ── round trip and re-runs ───────────────────────────────────────────────────────────────────


def test_import_of_an_export_reproduces_every_session(tmp_path: Path) -> None:
    src, jsonl = _export(tmp_path)
    dst = tmp_path / "dst.db"
    with SessionDB(dst) as db:
        report = db.import_jsonl(jsonl)
    assert (report.imported, report.messages, report.skipped, report.conflicts) == (3, 5, 0, [])
    assert report.sessions_in_file == 3 and report.parents_unlinked == 0 and report.titles_renamed == []
    assert _all(dst) == _all(src)  # every column, titles, parent link, last_active; messages but their ids
    assert scalar(dst, "SELECT tool_calls FROM messages WHERE session_id = 'solo-3'") == "not json {"
    assert "\ufffd surrogate" in scalar(dst, "SELECT content FROM messages WHERE session_id = 'child-2'")
    assert scalar(dst, "SELECT count(*) FROM sessions") == 3  # the hostile text stayed text
    assert query(dst, "PRAGMA foreign_key_check") == []
    conn = sqlite3.connect(str(dst))
    conn.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
    assert conn.execute("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'deployment'").fetchone()[0] == 2
    conn.close()


def test_running_the_import_again_skips_everything(tmp_path: Path) -> None:
    _src, jsonl = _export(tmp_path)
    dst = tmp_path / "dst.db"
    with SessionDB(dst) as db:
        db.import_jsonl(jsonl)
        before = _norm(db.export_all())
        again = db.import_jsonl(jsonl)
        assert (again.imported, again.skipped, again.conflicts, again.batches) == (0, 3, [], 0)
        assert _norm(db.export_all()) == before


def test_a_present_id_with_other_content_is_a_conflict_left_alone(tmp_path: Path) -> None:
    _src, jsonl = _export(tmp_path)
    dst = tmp_path / "dst.db"
    with SessionDB(dst) as db:
        db.create_session("solo-3", "telegram")
        db.append_message("solo-3", "user", "a different conversation")
        report = db.import_jsonl(jsonl)
        assert report.conflicts == ["solo-3"] and report.imported == 2 and report.skipped == 0
        assert [m["content"] for m in db.get_messages("solo-3")] == ["a different conversation"]


def test_a_taken_title_gets_a_lineage_suffix_and_stays_unique(tmp_path: Path) -> None:
    _src, jsonl = _export(tmp_path)
    dst = tmp_path / "dst.db"
    with SessionDB(dst) as db:
        db.create_session("mine", "cli")
        db.set_session_title("mine", "Kubernetes rollout")
        report = db.import_jsonl(jsonl)
        assert db.get_session_title("mine") == "Kubernetes rollout"
        titles = {s: db.get_session_title(s) for s in ("root-1", "child-2")}
    # The export is newest first: child-2 ("… #2", free) comes first; root-1 then finds its title
    # taken and gets the next number in the lineage.
    assert titles == {"child-2": "Kubernetes rollout #2", "root-1": "Kubernetes rollout #3"}
    assert report.titles_renamed == [("root-1", "Kubernetes rollout", "Kubernetes rollout #3")]
    assert query(dst, "SELECT title FROM sessions WHERE title IS NOT NULL GROUP BY title HAVING count(*) > 1") == []


def test_parent_links_are_restored_whatever_the_order_and_never_break_the_foreign_key(tmp_path: Path) -> None:
    _src, jsonl = _export(tmp_path)
    records = {r["id"]: r for r in _lines(jsonl)}
    assert list(records).index("child-2") < list(records).index("root-1")  # newest first: child first
    orphan = dict(records["solo-3"], id="orphan-4", parent_session_id="nowhere")
    orphan["messages"] = [dict(m, session_id="orphan-4") for m in orphan["messages"]]
    path = _write(tmp_path / "f.jsonl", [records["child-2"], orphan, records["root-1"]])
    dst = tmp_path / "dst.db"
    with SessionDB(dst) as db:
        report = db.import_jsonl(path, batch_budget_s=0.0)  # one session per write: links across batches
        assert db.get_session("child-2")["parent_session_id"] == "root-1"  # type: ignore[index]
        assert db.get_session("orphan-4")["parent_session_id"] is None  # type: ignore[index]
    assert report.parents_unlinked == 1 and report.batches == 3
    assert query(dst, "PRAGMA foreign_key_check") == []


def test_parent_link_is_restored_by_a_rerun_after_an_interruption(tmp_path: Path) -> None:
    _src, jsonl = _export(tmp_path)
    records = {r["id"]: r for r in _lines(jsonl)}
    dst = tmp_path / "dst.db"
    with SessionDB(dst) as db:
        db.import_jsonl(_write(tmp_path / "part.jsonl", [records["child-2"]]))  # the parent never came
        assert db.get_session("child-2")["parent_session_id"] is None  # type: ignore[index]
        report = db.import_jsonl(jsonl)
        assert (report.imported, report.skipped) == (2, 1)
        assert db.get_session("child-2")["parent_session_id"] == "root-1"  # type: ignore[index]


def test_each_batch_is_one_write_of_whole_sessions(tmp_path: Path) -> None:
    _src, jsonl = _export(tmp_path)
    dst = tmp_path / "dst.db"
    seen: list[int] = []
    with SessionDB(dst) as db:
        write = db._execute_write

        def spy(fn: Any) -> Any:
            result = write(fn)
            seen.append(scalar(dst, "SELECT count(*) FROM messages"))
            return result

        db._execute_write = spy  # type: ignore[method-assign]
        report = db.import_jsonl(jsonl, batch_sessions=2)
    assert report.batches == len(seen) == 2  # 2 sessions, then 1
    assert seen == [2, 5]  # child-2 (1) + solo-3 (1); then root-1 (3): never part of a session


def test_a_failing_session_rolls_back_its_whole_batch_and_a_rerun_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _src, jsonl = _export(tmp_path)
    dst = tmp_path / "dst.db"
    real = importer._insert_session
    calls = [0]

    def flaky(conn: sqlite3.Connection, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        out = real(conn, *args, **kwargs)  # rows written, then the failure
        if calls[0] == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return out

    monkeypatch.setattr(importer, "_insert_session", flaky)
    with SessionDB(dst) as db:
        with pytest.raises(sqlite3.Error):
            db.import_jsonl(jsonl, batch_budget_s=0.0)
        assert db.session_count() == 1 and db.message_count() == 1  # the first batch only
        monkeypatch.setattr(importer, "_insert_session", real)
        report = db.import_jsonl(jsonl)
        assert (report.imported, report.skipped) == (2, 1)
    assert _all(dst) == _all(tmp_path / "src.db")


def test_repeated_ids_in_a_file_are_imported_once(tmp_path: Path) -> None:
    _src, jsonl = _export(tmp_path)
    lines = jsonl.read_text(encoding="utf-8")
    twice = tmp_path / "twice.jsonl"
    twice.write_text(lines + lines, encoding="utf-8")
    with SessionDB(tmp_path / "dst.db") as db:
        report = db.import_jsonl(twice)
        assert (report.imported, report.duplicates, report.sessions_in_file) == (3, 3, 3)
        assert db.message_count() == 5


def test_a_read_only_store_refuses_to_import(tmp_path: Path) -> None:
    src, jsonl = _export(tmp_path)
    with SessionDB(src, read_only=True) as db, pytest.raises(ReadOnlyError):
        db.import_jsonl(jsonl)


# ── validation ───────────────────────────────────────────────────────────────────────────────

_GOOD = {"id": "ok-1", "source": "cli", "started_at": 1.0, "messages": [{"role": "user", "timestamp": 2.0}]}


def _bad(**changes: Any) -> dict[str, Any]:
    rec = json.loads(json.dumps(_GOOD))
    rec["id"] = "bad-9"
    for key, value in changes.items():
        if key.startswith("msg_"):
            if value is ...:
                del rec["messages"][0][key[4:]]
            else:
                rec["messages"][0][key[4:]] = value
        elif value is ...:
            del rec[key]
        else:
            rec[key] = value
    return rec


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"id": "x", "source": "cli",', "not JSON"),
        ("[1, 2, 3]", "expected a session object"),
        ('"just a string"', "expected a session object"),
        (_bad(messages=...), "missing 'messages'"),
        (_bad(id=...), "missing 'id'"),
        (_bad(id=""), "id is empty"),
        (_bad(id=7), "id must be text"),
        (_bad(source=None), "source is missing"),
        (_bad(started_at="yesterday"), "started_at must be a number"),
        (_bad(started_at=True), "started_at must be a number"),
        ('{"id": "n", "source": "cli", "started_at": NaN, "messages": []}', "not finite"),
        (_bad(messages={"role": "user"}), "'messages' must be a list"),
        (_bad(input_tokens=1.5), "input_tokens must be a whole number"),
        (_bad(title=["a"]), "title must be text"),
        (_bad(model_config=3), "model_config must be text, a list or an object"),
        (_bad(msg_role=...), "message 1: role is missing"),
        (_bad(msg_timestamp=...), "message 1: timestamp is missing"),
        (_bad(msg_content={"a": 1}), "message 1: content must be text"),
        (_bad(msg_session_id="other"), "belongs to session 'other'"),
        (_bad(messages=["hello"]), "message 1 is not an object"),
        ("[" * 100000 + "]" * 100000, "line 2"),
    ],
)
def test_an_invalid_line_is_named_and_nothing_is_written(tmp_path: Path, line: Any, needle: str) -> None:
    path = _write(tmp_path / "in.jsonl", [_GOOD, line, dict(_GOOD, id="ok-3")])
    with SessionDB(tmp_path / "dst.db") as db:
        with pytest.raises(ImportFileError) as info:
            db.import_jsonl(path)
        assert db.session_count() == 0  # validated before anything is written
    assert info.value.line == 2
    assert str(info.value).startswith("line 2: ") and needle in str(info.value)


def test_a_file_that_is_not_an_export_fails_on_its_first_line(tmp_path: Path) -> None:
    md = tmp_path / "notes.md"
    md.write_text("# Kubernetes rollout\n\nsome text\n", encoding="utf-8")
    with SessionDB(tmp_path / "dst.db") as db, pytest.raises(ImportFileError, match=r"^line 1: not JSON"):
        db.import_jsonl(md)
    binary = tmp_path / "x.bin"
    binary.write_bytes(b'{"id": "\xff\xfe"}\n')
    with SessionDB(tmp_path / "dst.db") as db, pytest.raises(ImportFileError, match=r"^line 1: not UTF-8"):
        db.import_jsonl(binary)


def test_lenient_where_the_export_is_lenient(tmp_path: Path) -> None:
    """Blank lines, unknown keys (a newer agent's columns), a lone surrogate escape, an over-long
    title (cut to the limit), a message without content."""
    rec = dict(_GOOD, id="x\ud800y", title="T" * 150 + "\u200b", future_column=1)
    rec["messages"] = [{"role": "assistant", "timestamp": 3, "content": "a \udfff b", "new_field": [1]}]
    path = tmp_path / "in.jsonl"
    path.write_text("\n" + json.dumps(rec) + "\n\n", encoding="utf-8")
    with SessionDB(tmp_path / "dst.db") as db:
        report = db.import_jsonl(path)
        assert report.imported == 1
        s = db.get_session("x\ufffdy")
        assert s is not None and s["title"] == "T" * 100
        assert db.get_messages("x\ufffdy")[0]["content"] == "a \ufffd b"


# ── the command line ─────────────────────────────────────────────────────────────────────────


def hb(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "", "HERMES_HOME": "/nonexistent-hermes-home"}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], cwd=ROOT, capture_output=True, text=True,
        input="", timeout=60, env=env, encoding="utf-8",
    )


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("hermes-browse: ")
    return proc.stderr.strip()


def test_cli_import_reports_counts_and_a_rerun_skips(tmp_path: Path) -> None:
    _src, jsonl = _export(tmp_path)
    dst = tmp_path / "dst.db"
    with SessionDB(dst) as db:
        db.create_session("mine", "cli")
        db.set_session_title("mine", "Kubernetes rollout")
    first = hb("import", str(jsonl), "--db", str(dst))
    assert first.returncode == 0, first.stderr
    assert "imported 3 sessions (5 messages)" in first.stdout
    assert "'Kubernetes rollout' is taken" in first.stdout and "Kubernetes rollout #3" in first.stdout
    second = hb("--db", str(dst), "import", str(jsonl))
    assert second.returncode == 0, second.stderr
    assert "imported 0 sessions" in second.stdout and "skipped 3 already present" in second.stdout
    assert scalar(dst, "SELECT count(*) FROM sessions") == 4


def test_cli_import_of_a_bad_file_is_one_line_with_the_line_number(tmp_path: Path) -> None:
    dst = tmp_path / "dst.db"
    SessionDB(dst).close()
    bad = _write(tmp_path / "bad.jsonl", [_GOOD, _GOOD, '{"id": 1'])
    line = _one_error_line(hb("import", str(bad), "--db", str(dst)))
    assert f"{bad}:3: not JSON" in line and "nothing was imported" in line
    assert scalar(dst, "SELECT count(*) FROM sessions") == 0


@pytest.mark.parametrize("case", ["missing-file", "directory", "missing-db", "read-only"])
def test_cli_import_refusals_exit_2_with_one_line(tmp_path: Path, case: str) -> None:
    _src, jsonl = _export(tmp_path)
    dst = tmp_path / "dst.db"
    SessionDB(dst).close()
    args = {
        "missing-file": ["import", str(tmp_path / "nope.jsonl"), "--db", str(dst)],
        "directory": ["import", str(tmp_path), "--db", str(dst)],
        "missing-db": ["import", str(jsonl), "--db", str(tmp_path / "none.db")],
        "read-only": ["import", str(jsonl), "--db", str(dst), "--read-only"],
    }[case]
    line = _one_error_line(hb(*args))
    assert {"missing-file": "no file", "directory": "is a directory", "missing-db": "none.db",
            "read-only": "read-only"}[case] in line
    assert scalar(dst, "SELECT count(*) FROM sessions") == 0
