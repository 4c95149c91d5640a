"""Many threads and several processes on one database: exact counts, no errors."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from store_helpers import fts_integrity_ok, query, run_threads, scalar, start_script, wait_until

from store import SessionDB


def test_sixteen_threads_two_hundred_appends_each(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    ids: list[int] = []
    lock = threading.Lock()
    with SessionDB(path) as d:
        d.create_session("shared", "cli")
        for i in range(16):
            d.create_session(f"t{i}", "cli")

        def work(i: int) -> None:
            mine = []
            for k in range(100):
                mine.append(d.append_message(f"t{i}", "user", f"own {i} {k}"))
                mine.append(d.append_message("shared", "assistant", f"shared {i} {k}", tool_calls=[{"id": k}]))
            with lock:
                ids.extend(mine)

        assert run_threads(16, work) == []
        assert len(ids) == len(set(ids)) == 3200
        assert d.message_count() == 3200
        assert d.message_count("shared") == 1600
        assert d.get_session("shared")["message_count"] == 1600  # type: ignore[index]
        assert d.get_session("shared")["tool_call_count"] == 1600  # type: ignore[index]
        for i in range(16):
            assert d.get_session(f"t{i}")["message_count"] == 100  # type: ignore[index]
        assert d.get_stats()["failed_writes"] == 0
    assert scalar(path, "SELECT count(*) FROM messages") == 3200
    assert set(ids) == {r[0] for r in query(path, "SELECT id FROM messages")}
    assert query(path, "SELECT count(*) FROM sessions s WHERE message_count != "
                       "(SELECT count(*) FROM messages m WHERE m.session_id = s.id)") == [(0,)]


_PROCESS_WRITER = """
import json, os, sys, threading, time
from store import SessionDB
path, tag, go = sys.argv[1], sys.argv[2], sys.argv[3]
db = SessionDB(path)
db.create_session("shared", "cli")
db.create_session(tag, "cli")
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.005)
ids, errors, lock = [], [], threading.Lock()
def work(t):
    try:
        for k in range(125):
            sid = tag if t % 2 else "shared"
            mid = db.append_message(sid, "user", f"{tag} t{t} k{k}")
            with lock:
                ids.append(mid)
    except BaseException as exc:
        with lock:
            errors.append(repr(exc))
threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
for t in threads: t.start()
for t in threads: t.join()
db.close()
print(json.dumps({"ids": ids, "errors": errors}), flush=True)
"""


def test_two_processes_with_threads_on_one_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with SessionDB(path) as d:  # create it once, so neither child races to create the file
        d.create_session("shared", "cli")
    go = tmp_path / "go"
    procs = [start_script(_PROCESS_WRITER, str(path), tag, str(go)) for tag in ("p1", "p2")]
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline().strip()
            assert line == "ready", (line, p.stderr.read() if p.stderr else "")
        go.write_text("go")
        results = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for r in results:
        assert r["errors"] == []
        assert len(r["ids"]) == 500
    all_ids = results[0]["ids"] + results[1]["ids"]
    assert len(set(all_ids)) == 1000
    assert scalar(path, "SELECT count(*) FROM messages") == 1000
    assert {r[0] for r in query(path, "SELECT id FROM messages")} == set(all_ids)
    counts = dict(query(path, "SELECT id, message_count FROM sessions"))
    assert counts == {"shared": 500, "p1": 250, "p2": 250}
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    fts_integrity_ok(path)


def test_readers_never_see_errors_during_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with SessionDB(path) as d:
        for i in range(4):
            d.create_session(f"w{i}", "cli")
            d.append_message(f"w{i}", "user", "seed koala")
        writers_done = threading.Event()
        reads = [0]
        read_errors: list[BaseException] = []
        regressions: list[str] = []

        def reader(r: int) -> None:
            last = 0
            try:
                while not writers_done.is_set():
                    sid = f"w{r % 4}"
                    d.list_sessions_page(limit=10)
                    d.list_sessions_rich()
                    d.search_messages("koala", limit=5)
                    d.get_messages_range(sid, limit=20)
                    d.get_session(sid)
                    d.count_sessions(text="w")
                    d.data_version()
                    n = d.message_count(sid)
                    if n < last:
                        regressions.append(f"{sid}: {n} < {last}")
                    last = n
                    reads[0] += 1
            except BaseException as exc:
                read_errors.append(exc)

        readers = [threading.Thread(target=reader, args=(r,), daemon=True) for r in range(4)]
        for t in readers:
            t.start()

        def writer(i: int) -> None:
            for k in range(100):
                d.append_message(f"w{i}", "assistant", f"koala {k}", tool_calls=[{"id": k}])
                if k % 50 == 0:
                    d.update_token_counts(f"w{i}", input_tokens=1)

        try:
            assert run_threads(4, writer) == []
        finally:
            writers_done.set()
            for t in readers:
                t.join(20)
        assert not any(t.is_alive() for t in readers)
        assert read_errors == []
        assert regressions == []
        assert reads[0] > 0
        assert d.message_count() == 4 + 4 * 100


_READER_PROCESS = """
import sys, time
from store import SessionDB
db = SessionDB(sys.argv[1], read_only=True)
n, errors, deadline = 0, [], time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        db.list_sessions_page(limit=5); db.search_messages("koala"); db.message_count()
        n += 1
    except BaseException as exc:
        errors.append(repr(exc)); break
db.close()
print(n, errors, flush=True)
"""


def test_read_only_process_reads_while_this_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with SessionDB(path) as d:
        d.create_session("s", "cli")
        d.append_message("s", "user", "koala")
        proc = start_script(_READER_PROCESS, str(path), "0.5")
        try:
            start = time.monotonic()
            k = 0
            while time.monotonic() - start < 0.5:
                d.append_message("s", "user", f"koala {k}")
                k += 1
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        count, errors = out.split(" ", 1)
        assert int(count) > 0
        assert errors.strip() == "[]"
        wait_until(lambda: d.message_count("s") == k + 1)
