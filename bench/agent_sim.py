"""A stand-in for the live agent: writes sessions and messages into a database at a set rate.

It replays the demo generator's history (``store.demo``: realistic users, answers, reasoning,
tool calls and outputs, CJK, several sources) through the store's public write API, one call per
message, exactly as the agent does while it works: ``create_session``, ``set_session_title``,
``append_message``, ``update_token_counts``, ``end_session``. Besides the generated sessions, one
long conversation (``<prefix>main``) gets every third message, so a reader can follow a session
that keeps growing for the whole run.

Every write is acknowledged only once committed; each acknowledged write is appended to a ledger
(JSON lines, flushed per line) with its wall-clock time, so another process can measure how long
the written data took to appear on its screen and check afterwards that nothing was lost:

    {"t": 1700000000.1, "kind": "session", "sid": "live-…"}
    {"t": 1700000000.2, "kind": "msg", "sid": "live-…", "mid": 1234, "crc": 99, "len": 812}
    {"t": 1700000060.0, "kind": "done", "messages": 3000, "sessions": 90, "append_ms": {...}}

Pacing: message ``i`` is due at ``start + i / rate``; a late write is not skipped, the schedule
just runs behind (``behind_s`` in the summary says by how much at worst: how long the agent was
kept waiting by someone else's lock).

    python -m bench.agent_sim DB --rate 50 --seconds 60 --ledger ledger.jsonl [--seed 11]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from store import SessionDB, StoreError
from store.demo import _MESSAGE_COLUMNS, _SESSION_COLUMNS, DEFAULT_NOW, _Generator

MAIN_EVERY = 3  # every third message goes to the long-running conversation


def crc(text: str | None) -> int:
    return zlib.crc32((text or "").encode("utf-8", "surrogatepass"))


def generated_traffic(seed: int, sessions: int = 400) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(session row, message row) pairs in the generator's id order (sessions interleave)."""
    gen = _Generator(seed, DEFAULT_NOW, sessions, None)
    known: dict[str, dict[str, Any]] = {}
    for session_rows, message_rows in gen.batches():
        for row in session_rows:
            record = dict(zip(_SESSION_COLUMNS, row, strict=True))
            known[str(record["id"])] = record
        for row in message_rows:
            message = dict(zip(_MESSAGE_COLUMNS, row, strict=True))
            yield known[str(message["session_id"])], message


class Ledger:
    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, **record: Any) -> None:
        record["t"] = time.time()
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()


class Agent:
    """Writes the traffic through ``db``, keeping the bookkeeping the agent keeps."""

    def __init__(self, db: SessionDB, ledger: Ledger, prefix: str) -> None:
        self.db = db
        self.ledger = ledger
        self.prefix = prefix
        self.started: dict[str, str] = {}  # generated id -> written id
        self.remaining: dict[str, int] = {}
        self.append_s: list[float] = []
        self.sessions = 0
        self.messages = 0
        self.main = f"{prefix}main"

    def start_main(self) -> None:
        self._create(self.main, "cli", "claude-sonnet-4", None, title=f"live conversation {self.prefix}")

    def _create(self, sid: str, source: str, model: str | None, parent: str | None, title: str | None) -> None:
        self.db.create_session(sid, source, model=model, parent_session_id=parent)
        if title:
            try:
                self.db.set_session_title(sid, title)
            except ValueError:  # a clash with an existing title: the agent numbers it, as it does
                self.db.set_session_title(sid, self.db.get_next_title_in_lineage(title))
        self.sessions += 1
        self.ledger.write(kind="session", sid=sid)

    def _session_for(self, record: dict[str, Any]) -> str:
        gid = str(record["id"])
        sid = self.started.get(gid)
        if sid is None:
            sid = self.prefix + gid
            parent = record["parent_session_id"]
            parent_sid = self.started.get(str(parent)) if parent else None
            self._create(sid, str(record["source"]), record["model"], parent_sid, record["title"])
            self.started[gid] = sid
            self.remaining[gid] = int(record["message_count"] or 0)
        return sid

    def append(self, sid: str, message: dict[str, Any]) -> None:
        calls = message["tool_calls"]
        began = time.perf_counter()
        mid = self.db.append_message(
            sid, str(message["role"]), message["content"], tool_name=message["tool_name"],
            tool_calls=json.loads(calls) if isinstance(calls, str) else None,
            tool_call_id=message["tool_call_id"], token_count=message["token_count"],
            finish_reason=message["finish_reason"], reasoning=message["reasoning"],
        )
        self.append_s.append(time.perf_counter() - began)
        self.messages += 1
        content = message["content"]
        self.ledger.write(kind="msg", sid=sid, mid=mid, crc=crc(content), len=len(content or ""))
        if message["role"] == "assistant" and message["token_count"]:
            self.db.update_token_counts(sid, input_tokens=int(message["token_count"]) * 3,
                                        output_tokens=int(message["token_count"]))

    def write(self, record: dict[str, Any], message: dict[str, Any]) -> None:
        if self.messages % MAIN_EVERY == 0:
            self.append(self.main, message)
            return
        sid = self._session_for(record)
        self.append(sid, message)
        gid = str(record["id"])
        self.remaining[gid] -= 1
        if self.remaining[gid] <= 0 and record["end_reason"]:
            self.db.end_session(sid, str(record["end_reason"]))

    def summary(self, behind_s: float) -> dict[str, Any]:
        ms = sorted(s * 1000 for s in self.append_s) or [0.0]
        return {
            "messages": self.messages, "sessions": self.sessions, "behind_s": round(behind_s, 3),
            "append_ms": {"median": round(statistics.median(ms), 2),
                          "p99": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 2),
                          "max": round(ms[-1], 2)},
        }


def run(path: Path, *, rate: float, seconds: float, ledger: IO[str], seed: int = 11,
        prefix: str = "live-", lock_timeout: float = 15.0) -> dict[str, Any]:
    """Write for ``seconds`` at ``rate`` messages per second; returns (and logs) the summary."""
    log = Ledger(ledger)
    db = SessionDB(path, lock_timeout=lock_timeout)
    agent = Agent(db, log, prefix)
    behind = 0.0
    try:
        agent.start_main()
        total = int(rate * seconds)
        traffic = generated_traffic(seed, sessions=max(50, total // 8))
        start = time.monotonic()
        for i in range(total):
            due = start + i / rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            else:
                behind = max(behind, now - due)
            try:
                record, message = next(traffic)
            except StopIteration:  # more messages asked than the generator planned: start again
                traffic = generated_traffic(seed + i, sessions=max(50, total // 8))
                record, message = next(traffic)
            agent.write(record, message)
    finally:
        db.close()
    summary = agent.summary(behind)
    log.write(kind="done", **summary)
    return summary


def read_ledger(path: Path) -> list[dict[str, Any]]:
    """The ledger's complete lines (a line being written may be cut: it is left out)."""
    records = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.endswith("\n"):
                records.append(json.loads(line))
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--rate", type=float, default=2.0, help="messages per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--ledger", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--prefix", default="live-")
    args = parser.parse_args(argv)
    try:
        with open(args.ledger, "a", encoding="utf-8") as ledger:
            summary = run(args.db, rate=args.rate, seconds=args.seconds, ledger=ledger, seed=args.seed,
                          prefix=args.prefix)
    except (StoreError, OSError) as exc:
        print(f"agent_sim: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
