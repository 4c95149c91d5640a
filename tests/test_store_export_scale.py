"""Defect 12 at the sizes where the reference design fails: ``export_all`` stopped at 100,000
sessions (a hard-coded LIMIT) and loaded everything at once. These tests go past the cap and check
that the streaming export's memory does not grow with the number of sessions."""

from __future__ import annotations

import io
import sqlite3
import tracemalloc
from pathlib import Path

from store import SessionDB

REFERENCE_CAP = 100_000


def _bulk_sessions(path: Path, n: int, *, messages_each: int = 0, text: str = "") -> None:
    """``n`` sessions (and messages) inserted in one transaction by a plain connection."""
    with SessionDB(path):
        pass
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO sessions (id, source, started_at, ended_at, message_count) VALUES (?, 'cli', ?, ?, ?)",
            ((f"x{i:06d}", 1_700_000_000.0 + i, 1_700_000_000.0 + i + 1, messages_each) for i in range(n)),
        )
        if messages_each:
            conn.executemany(
                "INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, 'user', ?, ?)",
                ((f"x{i:06d}", f"{text} {i}", 1_700_000_000.0 + i) for i in range(n) for _ in range(messages_each)),
            )
    conn.close()


def test_export_all_goes_past_the_reference_cap(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _bulk_sessions(path, REFERENCE_CAP + 5)
    with SessionDB(path, read_only=True) as db:
        everything = db.export_all()
        assert len(everything) == REFERENCE_CAP + 5
        assert everything[0]["id"] == f"x{REFERENCE_CAP + 4:06d}" and everything[-1]["id"] == "x000000"
        assert sum(1 for _ in db.iter_export()) == REFERENCE_CAP + 5


def _peak_streaming(path: Path) -> tuple[int, int]:
    """(sessions written, peak traced bytes) for a JSONL export into a sink that keeps nothing."""

    class Sink(io.StringIO):
        def write(self, s: str) -> int:
            return len(s)

    with SessionDB(path, read_only=True) as db:
        tracemalloc.start()
        try:
            n = db.export_jsonl(Sink())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return n, peak


def test_streaming_export_memory_does_not_grow_with_the_history(tmp_path: Path) -> None:
    small, large = tmp_path / "small.db", tmp_path / "large.db"
    text = "lorem ipsum dolor sit amet " * 20  # ~540 characters a message
    _bulk_sessions(small, 500, messages_each=4, text=text)
    _bulk_sessions(large, 5_000, messages_each=4, text=text)  # 10x the history, ~11 MB of text
    n_small, peak_small = _peak_streaming(small)
    n_large, peak_large = _peak_streaming(large)
    assert (n_small, n_large) == (500, 5_000)
    # Loading everything would hold 10x as much; a page at a time holds about the same. (A ratio, not a
    # timing: tracemalloc counts bytes, which do not depend on the machine's load.)
    assert peak_large < 2 * peak_small + 1_000_000, (peak_small, peak_large)
    assert peak_large < 5_000_000, peak_large
