"""SIGKILL of a writer process in the middle of a large prune, a large import and renames.

Each scenario (``bench/soak_crash.py``, shared with the longer soak ``python -m bench.soak_crash``)
copies a prepared database, runs the operation in a child process, kills it with SIGKILL, then
checks with plain SQLite connections: ``PRAGMA integrity_check``, ``foreign_key_check``, the FTS5
``integrity-check`` of ``messages_fts`` and of the windowed ``messages_trgm``, that the operation
was all or nothing (prune: every candidate or none; import: each session whole or absent, exactly
as in the source; rename: old title or new, titles unique), that nothing else was lost, and that
running the operation again finishes it.

Kills fall at seeded random points, plus one per operation that certainly lands inside a
transaction: the child waits there (a hook in its progress callback, or around the importer's
per-session insert) until it is killed.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
from store_helpers import STORE_ROOT

if str(STORE_ROOT) not in sys.path:
    sys.path.insert(0, str(STORE_ROOT))

from bench import soak_crash as soak

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

SEEDS = (11, 23)  # the longer run: python -m bench.soak_crash
PRUNE_SESSIONS = 700  # ~2 delete chunks of 500 candidates, ~5,000 messages, trigram fully indexed
IMPORT_SESSIONS = 250  # ~2,500 messages, imported 8 sessions per batch into another demo history
RENAME_SESSIONS = 30


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crash-sources")


def _assert_clean(tally: soak.Tally) -> None:
    assert tally.ok, "\n".join(tally.problems)
    assert tally.problems == []


# ── (a) prune ────────────────────────────────────────────────────────────────────────────────


def test_sigkill_inside_prune_transaction_rolls_it_back_whole(prepared: Path, tmp_path: Path) -> None:
    src = soak.build_prune_source(prepared, PRUNE_SESSIONS, 1)
    tally = soak.Tally("prune")
    soak.prune_once(src, tmp_path, random.Random(0), tally, hold_at=1)
    _assert_clean(tally)
    assert tally.landed == {"rolled back": 1}  # killed after deleting a chunk, before COMMIT


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_mid_prune_is_all_or_nothing_and_rerun_finishes(prepared: Path, tmp_path: Path, seed: int) -> None:
    src = soak.build_prune_source(prepared, PRUNE_SESSIONS, 1)
    tally = soak.Tally("prune")
    soak.prune_once(src, tmp_path, random.Random(seed), tally)
    _assert_clean(tally)
    assert tally.kills == 1


# ── (b) import ───────────────────────────────────────────────────────────────────────────────


def test_sigkill_inside_import_batch_keeps_sessions_whole(prepared: Path, tmp_path: Path) -> None:
    jsonl, src_db, base = soak.build_import_source(prepared, IMPORT_SESSIONS, 1)
    source = soak._export_map(src_db)
    tally = soak.Tally("import")
    # Killed inside the 3rd batch (8 sessions a batch): its 4th session's row written, not its messages.
    soak.import_once(jsonl, source, base, tmp_path, random.Random(0), tally, hold_at=20)
    _assert_clean(tally)
    assert tally.landed == {"mid-import": 1}


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_mid_import_leaves_whole_sessions_and_rerun_completes(
    prepared: Path, tmp_path: Path, seed: int
) -> None:
    jsonl, src_db, base = soak.build_import_source(prepared, IMPORT_SESSIONS, 1)
    source = soak._export_map(src_db)
    tally = soak.Tally("import")
    soak.import_once(jsonl, source, base, tmp_path, random.Random(seed), tally)
    _assert_clean(tally)


def test_import_check_catches_a_half_imported_session(prepared: Path, tmp_path: Path) -> None:
    """The checker itself: a session missing one message is reported as half-applied."""
    jsonl, src_db, _base = soak.build_import_source(prepared, IMPORT_SESSIONS, 1)
    source = soak._export_map(src_db)
    path = tmp_path / "t.db"
    with soak.SessionDB(path) as db:
        db.import_jsonl(jsonl)
    victim = next(sid for sid, rec in source.items() if len(rec["messages"]) >= 2)
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("DELETE FROM messages WHERE id = (SELECT max(id) FROM messages WHERE session_id = ?)", (victim,))
    conn.close()
    tally = soak.Tally("import")
    soak._check_import(path, source, {}, tally, complete=True)
    assert tally.half_applied == 1 and victim in tally.problems[0]


# ── (c) rename ───────────────────────────────────────────────────────────────────────────────


def test_sigkill_inside_rename_transaction_keeps_the_old_title(prepared: Path, tmp_path: Path) -> None:
    src = soak.build_rename_source(prepared, RENAME_SESSIONS)
    tally = soak.Tally("rename")
    soak.rename_once(src, RENAME_SESSIONS, tmp_path, random.Random(0), tally, hold_at=7)
    _assert_clean(tally)  # the 7th successful rename's UPDATE ran but never committed: old title


@pytest.mark.parametrize("seed", (*SEEDS, 41))
def test_sigkill_mid_rename_leaves_old_or_new_title(prepared: Path, tmp_path: Path, seed: int) -> None:
    src = soak.build_rename_source(prepared, RENAME_SESSIONS)
    tally = soak.Tally("rename")
    soak.rename_once(src, RENAME_SESSIONS, tmp_path, random.Random(seed), tally)
    _assert_clean(tally)


# ── the checks themselves ────────────────────────────────────────────────────────────────────


def test_trigram_check_sees_a_stale_entry_outside_the_window(prepared: Path, tmp_path: Path) -> None:
    """The windowed trigram check passes on a sound file and fails when the index holds a row the
    window says is not indexed (a plain integrity-check cannot tell: it needs the window)."""
    src = soak.build_rename_source(prepared, RENAME_SESSIONS)  # messages outside the trigram window
    path = tmp_path / "t.db"
    path.write_bytes(src.read_bytes())
    assert soak.integrity_problems(path) == []
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute(
        "INSERT INTO messages_trgm(rowid, content, tools) "
        "SELECT id, content, tools FROM messages_trgm_source WHERE id = (SELECT min(id) FROM messages)"
    )
    conn.close()
    problems = soak.integrity_problems(path)
    assert any("messages_trgm" in p for p in problems), problems
