"""Text the agent cannot encode, and bytes another program wrote, never fail a write or a read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store import SessionDB


def test_lone_surrogates_are_stored_as_replacement_characters(tmp_path: Path) -> None:
    with SessionDB(tmp_path / "s.db") as db:
        db.create_session("a", "cli", system_prompt="prompt \ud800")
        db.append_message("a", "assistant", "half an emoji \ud83d", reasoning="r\udfff",
                          tool_calls=[{"id": "c1", "function": {"name": "t", "arguments": "\ud800"}}])
        msg = db.get_messages("a")[0]
        assert msg["content"] == "half an emoji \ufffd"
        assert msg["reasoning"] == "r\ufffd"
        assert msg["tool_calls"][0]["function"]["arguments"] == "\ufffd"
        assert db.get_session("a")["system_prompt"] == "prompt \ufffd"
        assert db.get_session("a")["message_count"] == 1
        assert [h["id"] for h in db.search_messages("emoji")] == [msg["id"]]


def test_invalid_utf8_written_by_another_program_reads_with_replacement(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SessionDB(path) as db:
        db.create_session("a", "cli")
        db.append_message("a", "user", "fine")
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO messages (session_id, role, content, timestamp) VALUES ('a', 'user', CAST(X'6869FF80' AS TEXT), 1)"
    )
    raw.commit()
    raw.close()
    with SessionDB(path, read_only=True) as db:
        contents = [m["content"] for m in db.get_messages("a")]
        assert contents == ["fine", "hi\ufffd\ufffd"]
        assert db.list_sessions_page(limit=5)[0]["id"] == "a"
        assert db.export_session("a")["messages"][1]["content"] == "hi\ufffd\ufffd"
