"""Benchmark the session store: writes, search and session-list paging, printed as one table.

Run ``python -m bench.bench_store`` (full: 1,000,000 messages in 100,000 sessions) or
``python -m bench.bench_store --quick`` (a smoke run on small sizes). See ``bench/README.md``
and ``docs/benchmarks.md``.

This is a measuring script, not a test: it never fails on a slow number, it reports it as MISS.
Progress goes to stderr; the machine description and the Markdown table go to stdout (and to
``--out FILE`` if given).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store import PageCursor, SessionDB
from store.connections import MMAP_SIZE
from store.messages import INSERT_MESSAGE_SQL

DEFAULT_CACHE_DIR = Path(__file__).resolve().parent / ".cache"
SEED = 7

# Targets (see docs/benchmarks.md).
LONE_P50_MAX_RATIO = 2.0  # group-commit lone-writer p50 <= 2x batching-off p50
THROUGHPUT_MIN_VS_UNBATCHED = 2.0  # 16-thread group commit >= 2x batching off ...
THROUGHPUT_MIN_VS_FLOOR = 0.40  # ... and >= 40% of the raw executemany floor
SEARCH_P95_MAX_S = 0.050
LIST_P95_MAX_S = 0.010

CONFIG_GROUP = "group commit"
CONFIG_UNBATCHED = "batching off"
CONFIG_FLOOR = "floor (executemany)"
WRITE_CONFIGS = (CONFIG_GROUP, CONFIG_UNBATCHED, CONFIG_FLOOR)

UPDATE_COUNTERS_SQL = (
    "UPDATE sessions SET message_count = COALESCE(message_count, 0) + 1, "
    "tool_call_count = COALESCE(tool_call_count, 0) + ? WHERE id = ?"
)


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ── numbers ─────────────────────────────────────────────────────────────────────────────────


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000.0
    if ms != ms:  # NaN
        return "n/a"
    if ms < 1:
        return f"{ms:.3f} ms"
    if ms < 100:
        return f"{ms:.2f} ms"
    return f"{ms:.0f} ms"


def fmt_rate(per_s: float) -> str:
    return f"{per_s:,.0f} msg/s"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


@dataclass
class Row:
    area: str
    measurement: str
    config: str
    p50: str = ""
    tail: str = ""
    value: str = ""
    target: str = ""
    result: str = ""


TABLE_HEADER = ("Area", "Measurement", "Configuration", "p50", "p95 / p99", "Throughput / notes", "Target", "Result")


def display_width(text: str) -> int:
    """Terminal columns of ``text`` (wide CJK characters take two), for aligned plain-text tables."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def markdown_table(rows: list[Row]) -> str:
    cells = [list(TABLE_HEADER)] + [
        [r.area, r.measurement, r.config, r.p50, r.tail, r.value, r.target, r.result] for r in rows
    ]
    widths = [max(display_width(c[i]) for c in cells) for i in range(len(TABLE_HEADER))]

    def line(c: list[str]) -> str:
        padded = (s + " " * (w - display_width(s)) for s, w in zip(c, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    out = [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(c) for c in cells[1:]]
    return "\n".join(out)


# ── the machine ─────────────────────────────────────────────────────────────────────────────


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def filesystem_of(path: Path) -> str:
    """The filesystem type holding ``path`` (from /proc/mounts; "unknown" elsewhere)."""
    best, fstype = "", "unknown"
    try:
        target = str(path.resolve())
        with open("/proc/mounts", encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if (
                    len(parts) >= 3
                    and (target == parts[1] or target.startswith(parts[1].rstrip("/") + "/"))
                    and len(parts[1]) > len(best)
                ):
                    best, fstype = parts[1], parts[2]
    except OSError:
        pass
    return fstype


def _loadavg() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_lines(tmp_dir: Path) -> list[str]:
    return [
        f"- Platform: {platform.platform()}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores",
        f"- Python: {platform.python_version()} ({platform.python_implementation()})",
        f"- SQLite: {sqlite3.sqlite_version}",
        f"- Load average at start (1/5/15 min): {_loadavg()}",
        f"- Scratch filesystem for write benchmarks: {filesystem_of(tmp_dir)} ({tmp_dir})",
    ]


# ── writes ──────────────────────────────────────────────────────────────────────────────────

_WORD_TEXT = (
    "the a to of and in is it for on with that this deploy config server request error retry cache index "
    "query user agent session token build test release commit branch merge docker container python function "
    "module import timeout latency database migration schema column table row search result page cursor "
    "writer reader lock transaction commit rollback checkpoint file path folder permission network socket"
)
_WORDS: tuple[str, ...] = tuple(_WORD_TEXT.split())


def message_rows(n: int, rng: random.Random) -> list[tuple[str, str]]:
    """``n`` (role, content) pairs: alternating user/assistant prose of 20–80 words."""
    rows = []
    for i in range(n):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(20, 80))]
        words.insert(rng.randint(0, len(words)), f"ticket-{rng.randint(1, 99999)}")
        rows.append(("user" if i % 2 == 0 else "assistant", " ".join(words) + "."))
    return rows


def _open_writer_store(path: Path, config: str) -> SessionDB:
    return SessionDB(path, enable_batching=(config == CONFIG_GROUP))


def _floor_connection(path: Path, session_ids: list[str]) -> sqlite3.Connection:
    """Create the schema and sessions through SessionDB, then a plain connection on the file."""
    db = SessionDB(path)
    for sid in session_ids:
        db.create_session(sid, "bench")
    db.close()
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # The store's connection settings (store.connections.open_connection), so the floor does the
    # same work per row and per commit: same durability, same page cache.
    for pragma in (
        "journal_mode = WAL",
        "synchronous = NORMAL",
        "foreign_keys = ON",
        "temp_store = MEMORY",
        f"mmap_size = {MMAP_SIZE}",
        "cache_size = -16000",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _floor_insert(conn: sqlite3.Connection, items: list[tuple[str, str, str]]) -> float:
    """One transaction: executemany the messages, then the counters. Returns elapsed seconds."""
    now = time.time()
    params = [(sid, role, content, None, None, None, now, None, None, None, None, None)
              for sid, role, content in items]
    counters = [(0, sid) for sid, _r, _c in items]
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT_MESSAGE_SQL, params)
    conn.executemany(UPDATE_COUNTERS_SQL, counters)
    conn.execute("COMMIT")
    return time.perf_counter() - t0


def bench_lone_writer(config: str, path: Path, rows: list[tuple[str, str]]) -> tuple[float, float, float]:
    """(p50, p99, mean) seconds of sequential appends of ``rows``; the floor reports total/n for all."""
    n = len(rows)
    sid = "lone-writer"
    if config == CONFIG_FLOOR:
        conn = _floor_connection(path, [sid])
        try:
            per_row = _floor_insert(conn, [(sid, r, c) for r, c in rows]) / n
        finally:
            conn.close()
        return per_row, per_row, per_row
    db = _open_writer_store(path, config)
    try:
        db.create_session(sid, "bench")
        db.create_session("warm-up", "bench")
        for role, content in rows[:20]:  # warm statement caches and the writer thread
            db.append_message("warm-up", role, content)
        lat: list[float] = []
        for role, content in rows:
            t0 = time.perf_counter()
            db.append_message(sid, role, content)
            lat.append(time.perf_counter() - t0)
    finally:
        db.close()
    return percentile(lat, 50), percentile(lat, 99), statistics.fmean(lat)


def bench_threads(config: str, path: Path, work: list[list[tuple[str, str]]]) -> tuple[float, float | None]:
    """(messages/s, mean batch size or None): one thread per ``work`` list, each to its own session."""
    threads, per_thread = len(work), len(work[0])
    sids = [f"thread-{i:02d}" for i in range(threads)]
    total = threads * per_thread
    if config == CONFIG_FLOOR:
        # The same rows, interleaved as concurrent writers would produce them, in one transaction.
        items = [(sids[t], *work[t][i]) for i in range(per_thread) for t in range(threads)]
        conn = _floor_connection(path, sids)
        try:
            elapsed = _floor_insert(conn, items)
        finally:
            conn.close()
        return total / elapsed, None
    db = _open_writer_store(path, config)
    errors: list[BaseException] = []
    try:
        for sid in sids:
            db.create_session(sid, "bench")
        before = db.get_stats()
        barrier = threading.Barrier(threads + 1)

        def worker(index: int) -> None:
            try:
                barrier.wait()
                sid = sids[index]
                for role, content in work[index]:
                    db.append_message(sid, role, content)
            except BaseException as exc:  # reported after join
                errors.append(exc)

        pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
        for t in pool:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in pool:
            t.join()
        elapsed = time.perf_counter() - t0
        after = db.get_stats()
    finally:
        db.close()
    if errors:
        raise RuntimeError(f"{len(errors)} writer thread(s) failed: {errors[0]!r}") from errors[0]
    batches = after["batch_count"] - before["batch_count"]
    writes = after["total_writes"] - before["total_writes"]
    mean_batch = writes / batches if batches else None
    return total / elapsed, mean_batch


def run_writes(tmp: Path, reps: int, lone_n: int, per_thread: int, thread_counts: Sequence[int]) -> list[Row]:
    """Every configuration once per repetition, interleaved (so a noisy spell hits all of them),
    on the same rows; the table shows the median over the repetitions."""
    lone_runs: dict[str, list[tuple[float, float, float]]] = {c: [] for c in WRITE_CONFIGS}
    rate_runs: dict[tuple[str, int], list[tuple[float, float | None]]] = {
        (c, t): [] for c in WRITE_CONFIGS for t in thread_counts
    }
    for rep in range(reps):
        rng = random.Random(SEED * 1000 + rep)
        lone_rows = message_rows(lone_n, rng)
        work = {t: [message_rows(per_thread, rng) for _ in range(t)] for t in thread_counts}
        for ci, config in enumerate(WRITE_CONFIGS):
            p50, p99, mean = bench_lone_writer(config, tmp / f"lone-{ci}-{rep}.db", lone_rows)
            lone_runs[config].append((p50, p99, mean))
            log(f"rep {rep + 1}/{reps} lone writer, {config}: p50 {fmt_ms(p50)}, p99 {fmt_ms(p99)}, "
                f"mean {fmt_ms(mean)}")
        for threads in thread_counts:
            for ci, config in enumerate(WRITE_CONFIGS):
                r, b = bench_threads(config, tmp / f"thr{threads}-{ci}-{rep}.db", work[threads])
                rate_runs[(config, threads)].append((r, b))
                log(f"rep {rep + 1}/{reps} {threads} threads, {config}: {fmt_rate(r)}")
    lone = {c: tuple(statistics.median(x[i] for x in runs) for i in range(3)) for c, runs in lone_runs.items()}
    rate: dict[tuple[str, int], tuple[float, float | None]] = {}
    for key, runs in rate_runs.items():
        batches = [b for _r, b in runs if b is not None]
        rate[key] = (statistics.median(r for r, _b in runs), statistics.median(batches) if batches else None)

    rows: list[Row] = []
    g50, un50 = lone[CONFIG_GROUP][0], lone[CONFIG_UNBATCHED][0]
    lone_label = f"lone-writer append latency ({lone_n} sequential)"
    for config in WRITE_CONFIGS:
        p50, p99, mean = lone[config]
        row = Row("write", lone_label, config, fmt_ms(p50), f"p99 {fmt_ms(p99)}", f"mean {fmt_ms(mean)}")
        if config == CONFIG_FLOOR:
            row.p50 = f"{fmt_ms(p50)} /row"
            row.tail = "(total/n)"
            row.value = f"{fmt_rate(1 / mean)}" if mean else ""
            row.target = "reference"
        elif config == CONFIG_UNBATCHED:
            row.target = "reference"
        else:
            ratio = g50 / un50 if un50 else float("inf")
            row.target = f"p50 <= {LONE_P50_MAX_RATIO:g}x batching off"
            row.result = f"{verdict(ratio <= LONE_P50_MAX_RATIO)} ({ratio:.2f}x)"
        rows.append(row)
    top = max(thread_counts)
    for threads in thread_counts:
        label = f"{threads}-thread append throughput ({threads}x{per_thread})"
        for config in WRITE_CONFIGS:
            r, mean_batch = rate[(config, threads)]
            row = Row("write", label, config, value=fmt_rate(r))
            if mean_batch is not None and config == CONFIG_GROUP:
                row.value += f" (mean batch {mean_batch:.1f})"
            if config == CONFIG_GROUP and threads == top:
                vs_un = r / rate[(CONFIG_UNBATCHED, threads)][0]
                vs_floor = r / rate[(CONFIG_FLOOR, threads)][0]
                ok = vs_un >= THROUGHPUT_MIN_VS_UNBATCHED and vs_floor >= THROUGHPUT_MIN_VS_FLOOR
                row.target = (
                    f">= {THROUGHPUT_MIN_VS_UNBATCHED:g}x batching off and >= "
                    f"{THROUGHPUT_MIN_VS_FLOOR:.0%} of floor"
                )
                row.result = f"{verdict(ok)} ({vs_un:.2f}x, {vs_floor:.0%})"
            elif config == CONFIG_GROUP:
                vs_un = r / rate[(CONFIG_UNBATCHED, threads)][0]
                row.target = "info"
                row.result = f"({vs_un:.2f}x batching off)"
            else:
                row.target = "reference"
            rows.append(row)
    return rows


# ── the generated database ──────────────────────────────────────────────────────────────────


def _demo_fingerprint() -> str:
    """A hash of the generator's source: a changed generator invalidates the cached database."""
    import store.demo as demo

    src = Path(demo.__file__).read_bytes()
    return hashlib.sha256(src).hexdigest()[:16]


def demo_database(
    cache_dir: Path, messages: int, sessions: int, *, rebuild: bool = False
) -> tuple[Path, dict[str, Any]]:
    """The generated database for these parameters, built once into ``cache_dir`` and reused.

    Rebuilt when missing, built with other parameters, changed since it was built, or when
    ``rebuild`` is set. A changed ``store/demo.py`` alone only warns (a build takes minutes, and
    the generator's output rarely changes with its source): pass ``--rebuild`` to regenerate.
    """
    from store.demo import generate

    cache_dir.mkdir(parents=True, exist_ok=True)
    name = f"demo-m{messages}-s{sessions}-seed{SEED}"
    path = cache_dir / f"{name}.db"
    meta_path = cache_dir / f"{name}.json"
    per_session = messages_per_session(messages, sessions)
    params = {
        "messages": messages,
        "sessions": sessions,
        "seed": SEED,
        "messages_per_session": list(per_session) if per_session else None,
    }
    generator = _demo_fingerprint()
    if path.exists() and meta_path.exists() and not rebuild:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        built = meta.get("built", {})
        if meta.get("params") == params and built.get("fingerprint") == _db_fingerprint(path):
            if built.get("generator") != generator:
                log(f"note: store/demo.py changed since {path.name} was built; reusing it (--rebuild to regenerate)")
                meta["stale_generator"] = True
            log(f"reusing cached database {path}")
            return path, meta
        log(f"cached database {path} was built with other parameters, or changed since; rebuilding")
    meta_path.unlink(missing_ok=True)
    log(f"generating ~{messages:,} messages in {sessions:,} sessions (seed {SEED}) into {path} ...")
    t0 = time.perf_counter()
    next_report = [0.0]

    def progress(done: int, total: int) -> None:
        if total and done / total >= next_report[0]:
            log(f"  demo build: {done:,}/{total:,} ({time.perf_counter() - t0:.0f} s)")
            next_report[0] += 0.25

    summary = generate(
        path, sessions=sessions, seed=SEED, messages_per_session=per_session, progress=progress, overwrite=True
    )
    build_s = time.perf_counter() - t0
    log(f"generated {summary.messages:,} messages in {summary.sessions:,} sessions in {build_s:.0f} s")
    meta = {
        "params": params,
        "built": {
            "messages": summary.messages,
            "sessions": summary.sessions,
            "seconds": round(build_s, 1),
            "fingerprint": _db_fingerprint(path),
            "generator": generator,
        },
    }
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
    return path, meta


def _db_fingerprint(path: Path) -> list[int]:
    """[file size, max message id, sessions]: tells whether the cached file is still the one built."""
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM messages), (SELECT count(*) FROM sessions)"
        ).fetchone()
    finally:
        conn.close()
    return [path.stat().st_size, int(row[0]), int(row[1])]


def messages_per_session(messages: int, sessions: int) -> tuple[int, int] | None:
    """The generator's default long-tailed counts average about 10 per session; for another
    ratio, a uniform range with that mean."""
    ratio = messages / max(1, sessions)
    if abs(ratio - 10) < 0.5:
        return None
    lo = max(0, int(ratio // 2))
    return lo, max(lo, round(2 * ratio - lo))


def save_meta(cache_dir: Path, db_path: Path, meta: dict[str, Any]) -> None:
    meta_path = cache_dir / (db_path.stem + ".json")
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")


# ── choosing search terms from the database ─────────────────────────────────────────────────

_TOKEN = re.compile(r"[^\W_]+")  # roughly unicode61's tokens: runs of letters and digits
_ALPHA = re.compile(r"[A-Za-z]+")
_COMPOUND_RUN = re.compile(r"(?<![\\\w.\-/])[A-Za-z][\w.\-]*[-.][\w.\-]*")
_COMPOUND = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)+")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")

QUERIES_PER_KIND = 30
QUERY_PICKER_VERSION = 3  # bump when choose_queries changes: cached query lists are then re-picked


def _sample_contents(conn: sqlite3.Connection, rng: random.Random, want: int) -> list[str]:
    max_id = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
    if not max_id:
        return []
    ids = sorted(rng.sample(range(1, max_id + 1), min(want, max_id)))
    out: list[str] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        out += [
            r[0]
            for r in conn.execute(
                f"SELECT content FROM messages WHERE id IN ({marks}) AND content IS NOT NULL ORDER BY id", chunk
            )
        ]
    return out


def _clean_tokens(text: str) -> list[tuple[str, bool]]:
    """unicode61-like tokens of ``text``, each with False when it is glued to an escape
    (``\\nThe`` stored literally in JSON-ish tool output) and so not something a user types."""
    return [(m.group(0), m.start() == 0 or text[m.start() - 1] != "\\") for m in _TOKEN.finditer(text)]


def _typed_in_corpus(conn: sqlite3.Connection, term: str) -> bool:
    """True if some message holding the token ``term`` has it as a word of its own (not ``\\nterm``)."""
    row = conn.execute(
        "SELECT content FROM messages WHERE id = "
        "(SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? LIMIT 1)",
        ('"' + term + '"',),
    ).fetchone()
    if row is None or not isinstance(row[0], str):
        return False
    return re.search(rf"(?<![\\\w]){re.escape(term)}(?!\w)", row[0], re.IGNORECASE) is not None


def _pick(rng: random.Random, pool: Sequence[str], accept: Callable[[str], bool] | None = None) -> list[str]:
    """Up to QUERIES_PER_KIND of ``pool`` in a seeded order, keeping those ``accept`` allows."""
    order = list(pool)
    rng.shuffle(order)
    out: list[str] = []
    for item in order:
        if accept is None or accept(item):
            out.append(item)
            if len(out) == QUERIES_PER_KIND:
                break
    return out


def choose_queries(db_path: Path) -> dict[str, list[str]]:
    """~30 query texts per kind, picked deterministically (seeded) from the database itself.

    Word kinds come from the FTS vocabulary (document counts); phrases, compounds and CJK terms
    from a seeded sample of message texts. Terms that only exist glued to an escape sequence
    (``\\nfoo``) are skipped: nobody would type them.
    """
    rng = random.Random(SEED)
    uri = f"file:{db_path.resolve()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.bench_vocab USING fts5vocab(main, 'messages_fts', 'row')")
        alnum = [
            (str(term), int(doc))
            for term, doc in conn.execute("SELECT term, doc FROM temp.bench_vocab")
            if str(term).isascii() and str(term).isalnum()
        ]
        vocab = [(t, d) for t, d in alnum if t.isalpha()]
        typed = lambda t: _typed_in_corpus(conn, t)  # noqa: E731

        common = _pick_common(conn, vocab)
        # Rare: in 1 to 10 messages.
        rare = _pick(rng, sorted(t for t, d in vocab if 1 <= d <= 10 and len(t) >= 5), typed)
        if len(rare) < QUERIES_PER_KIND:
            more = sorted(t for t, d in alnum if 1 <= d <= 10 and len(t) >= 5 and not t.isdigit())
            rare += _pick(rng, [t for t in more if t not in rare], typed)[: QUERIES_PER_KIND - len(rare)]
        # Type-ahead: the first 4 or 5 letters of a word that is in 50+ messages.
        stems = sorted({t[: 4 + (hash_int(t) % 2)] for t, d in vocab if len(t) >= 7 and d >= 50 and typed(t)})
        prefixes = _pick(rng, stems)

        contents = _sample_contents(conn, rng, 8000)
    finally:
        conn.close()

    phrases: list[str] = []
    compounds: set[str] = set()
    cjk_counts: dict[int, dict[str, int]] = {2: {}, 3: {}, 4: {}}
    for text in contents:
        tokens = _clean_tokens(text)
        if len(phrases) < QUERIES_PER_KIND * 8 and len(tokens) >= 6:
            start = rng.randrange(0, len(tokens) - 3)
            trio = tokens[start : start + 3]
            if all(ok and _ALPHA.fullmatch(tok) for tok, ok in trio):
                phrases.append('"' + " ".join(tok for tok, _ok in trio) + '"')
        for m in _COMPOUND_RUN.finditer(text):
            term = m.group(0).rstrip(".-_")
            parts = re.split(r"[-.]", term)
            if _COMPOUND.fullmatch(term) and "-" in term and sum(1 for p in parts if _ALPHA.search(p)) >= 2:
                compounds.add(term)
        for run in _CJK_RUN.findall(text):
            for length in (2, 3, 4):
                for i in range(len(run) - length + 1):
                    sub = run[i : i + length]
                    cjk_counts[length][sub] = cjk_counts[length].get(sub, 0) + 1

    def frequent(counts: dict[str, int], n: int) -> list[str]:
        return [t for t, _c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]

    cjk_long = frequent(cjk_counts[3], 60) + frequent(cjk_counts[4], 60)
    return {
        "rare": rare,
        "common": common,
        "prefix": prefixes,
        "phrase": _pick(rng, phrases),
        "hyphenated": _pick(rng, sorted(compounds)),
        "cjk2": _pick(rng, frequent(cjk_counts[2], 100)),
        "cjk34": _pick(rng, cjk_long),
        "newest": list(common),
    }


def expected_hits(db_path: Path, queries: dict[str, list[str]], limit: int = 20) -> dict[str, list[int]]:
    """For each query, how many of the first ``limit`` hits surely exist, found without a time budget:
    word kinds by a plain FTS5 MATCH of the store's own sanitized expression, 3-4 character CJK by
    the trigram table, 2-character CJK by LIKE. A search returning fewer missed some."""
    from store.search import sanitize_fts5_query

    conn = sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True)
    out: dict[str, list[int]] = {}
    try:
        for key, _label, kwargs in SEARCH_KINDS:
            counts: list[int] = []
            for q in queries.get(key, []):
                if key == "cjk2":
                    sql = "SELECT count(*) FROM (SELECT 1 FROM messages WHERE content LIKE ? LIMIT ?)"
                    arg = f"%{q}%"
                elif key == "cjk34":
                    sql = "SELECT count(*) FROM (SELECT 1 FROM messages_trgm WHERE messages_trgm MATCH ? LIMIT ?)"
                    arg = '"' + q.replace('"', '""') + '"'
                else:
                    sql = "SELECT count(*) FROM (SELECT 1 FROM messages_fts WHERE messages_fts MATCH ? LIMIT ?)"
                    arg = sanitize_fts5_query(q, prefix_last=bool(kwargs.get("prefix")))
                try:
                    counts.append(int(conn.execute(sql, (arg, limit)).fetchone()[0]))
                except sqlite3.Error:
                    counts.append(0)
            out[key] = counts
    finally:
        conn.close()
    return out


def _pick_common(conn: sqlite3.Connection, vocab: list[tuple[str, int]]) -> list[str]:
    """The words in the most messages ("the" first, if present)."""
    by_doc = sorted(vocab, key=lambda t: (-t[1], t[0]))
    return [t for t, _d in by_doc if len(t) >= 3][:QUERIES_PER_KIND]


def hash_int(text: str) -> int:
    """A stable small hash (``hash()`` is salted per process)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


# (kind key, label, search_messages keyword arguments)
SEARCH_KINDS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("rare", "rare word", {}),
    ("common", "common word", {}),
    ("prefix", "prefix (type-ahead)", {"prefix": True}),
    ("phrase", '"exact phrase"', {}),
    ("hyphenated", "hyphenated/dotted term", {}),
    ("cjk2", "CJK, 2 chars", {}),
    ("cjk34", "CJK, 3-4 chars", {}),
    ("newest", "common word, newest first", {"order": "newest"}),
)


def run_search(
    db: SessionDB, queries: dict[str, list[str]], expected: dict[str, list[int]], passes: int
) -> tuple[list[Row], dict[str, str]]:
    """Rows for the table, and the slowest query of each kind (by its median over the passes).

    ``expected[kind][i]`` is how many hits query i surely has (up to 20); fewer found is reported
    as "incomplete" (the search's time budget cut it short)."""
    rows: list[Row] = []
    slowest: dict[str, str] = {}
    for key, label, kwargs in SEARCH_KINDS:
        qs = queries.get(key, [])
        if not qs:
            rows.append(Row("search", label, "limit=20", target="p95 <= 50 ms", result="SKIP (no terms)"))
            continue
        hits: list[int] = []
        routes: dict[str, int] = {}
        for q in qs:  # warm-up pass (also counts hits and the routes that found them)
            found = db.search_messages(q, limit=20, **kwargs)
            hits.append(len(found))
            for r in found:
                routes[str(r.get("match"))] = routes.get(str(r.get("match")), 0) + 1
        lat: list[float] = []
        per_query: dict[str, list[float]] = {q: [] for q in qs}
        for _ in range(passes):
            for q in qs:
                t0 = time.perf_counter()
                db.search_messages(q, limit=20, **kwargs)
                elapsed = time.perf_counter() - t0
                lat.append(elapsed)
                per_query[q].append(elapsed)
        slowest[key] = max(qs, key=lambda q: statistics.median(per_query[q]))
        p50, p95 = percentile(lat, 50), percentile(lat, 95)
        empty = sum(1 for h in hits if h == 0)
        want = expected.get(key, [])
        short = sum(1 for h, e in zip(hits, want, strict=False) if h < e)
        example = qs[0] if len(qs[0]) <= 24 else qs[0][:21] + "..."
        value = f"{len(qs)} q x {passes}, {statistics.mean(hits):.1f} hits/q"
        if empty:
            value += f", {empty} q empty"
        if want:
            value += f", {short} q incomplete"
        if routes:
            total = sum(routes.values())
            value += ", via " + "/".join(
                f"{name} {count / total:.0%}" for name, count in sorted(routes.items(), key=lambda t: -t[1])
            )
        rows.append(
            Row(
                "search",
                f"{label}, e.g. {example}",
                "order=" + kwargs.get("order", "rank") + (", prefix" if kwargs.get("prefix") else ""),
                fmt_ms(p50),
                f"p95 {fmt_ms(p95)}",
                value,
                "p95 <= 50 ms",
                verdict(p95 <= SEARCH_P95_MAX_S),
            )
        )
        log(f"search {label}: p50 {fmt_ms(p50)}, p95 {fmt_ms(p95)} ({value})")
    return rows, slowest


# ── --explain: which statements a call ran, what each costs, and its plan ───────────────────

_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_NUMBER_LITERAL = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\b", re.IGNORECASE)
_RERUN_LIMIT_S = 2.0


def _shape(sql: str) -> str:
    """The statement with its literals replaced by ?, whitespace collapsed."""
    text = _NUMBER_LITERAL.sub("?", _STRING_LITERAL.sub("?", sql))
    text = re.sub(r"\?(?:\s*,\s*\?)+", "?, ...", text)
    return " ".join(text.split())


def explain_call(db_path: Path, title: str, call: Callable[[sqlite3.Connection], Any]) -> list[str]:
    """Run ``call`` on a fresh read-only connection, tracing its statements; then re-run each
    statement alone (timed, capped at 2 s) and show the plan of each distinct statement shape."""
    from store.connections import READ_BUSY_TIMEOUT_MS, open_connection

    conn = open_connection(db_path, read_only=True, busy_timeout_ms=READ_BUSY_TIMEOUT_MS)
    try:
        call(conn)  # warm
        traced: list[str] = []
        conn.set_trace_callback(traced.append)
        t0 = time.perf_counter()
        call(conn)
        total = time.perf_counter() - t0
        conn.set_trace_callback(None)
        shapes: dict[str, tuple[str, int, float]] = {}
        for sql in traced:
            head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
            if head not in ("SELECT", "WITH"):
                continue
            deadline = time.perf_counter() + _RERUN_LIMIT_S
            conn.set_progress_handler(lambda d=deadline: time.perf_counter() > d, 10_000)
            s0 = time.perf_counter()
            try:
                conn.execute(sql).fetchall()
            except sqlite3.OperationalError:
                pass
            finally:
                conn.set_progress_handler(None, 0)
            spent = time.perf_counter() - s0
            key = _shape(sql)
            first, count, acc = shapes.get(key, (sql, 0, 0.0))
            shapes[key] = (first, count + 1, acc + spent)
        out = [f"### {title}", "", f"Whole call: {fmt_ms(total)}; statements re-run one by one:", ""]
        for key, (first, count, acc) in sorted(shapes.items(), key=lambda kv: -kv[1][2]):
            out.append(f"- {count} x, {fmt_ms(acc)} in all: `{key[:400]}`")
            try:
                plan = conn.execute("EXPLAIN QUERY PLAN " + first).fetchall()
            except sqlite3.Error as exc:
                out.append(f"    - (no plan: {exc})")
                continue
            depth: dict[int, int] = {0: 0}
            for node_id, parent, _unused, detail in plan:
                depth[node_id] = depth.get(parent, 0) + 1
                out.append("    " + "  " * (depth[node_id] - 1) + f"- {detail}")
        out.append("")
        return out
    finally:
        conn.close()


def explain_search(db_path: Path, queries: dict[str, str]) -> list[str]:
    from store import search as search_mod

    out: list[str] = []
    for key, label, kwargs in SEARCH_KINDS:
        q = queries.get(key)
        if q is None:
            continue
        out += explain_call(
            db_path,
            f"search {label}: {q!r} {kwargs or ''}".rstrip(),
            lambda c, q=q, kw=kwargs: search_mod.search_messages(c, q, limit=20, **kw),
        )
    return out


def explain_listing(db_path: Path, offset: int) -> list[str]:
    from store import listing

    return explain_call(
        db_path,
        f"list_sessions_page(limit=50, offset={offset:,})",
        lambda c: listing.list_sessions_page(c, limit=50, offset=offset),
    )


# ── the session list ────────────────────────────────────────────────────────────────────────


def run_listing(db: SessionDB, calls: int) -> list[Row]:
    total = db.session_count()
    mid, deep = total // 2, max(0, total - 50)
    probe = db.list_sessions_page(limit=1, offset=max(0, total - 100))
    cases: list[tuple[str, dict[str, Any]]] = [
        ("top (offset 0)", {}),
        (f"offset {mid:,}", {"offset": mid}),
        (f"offset {deep:,}", {"offset": deep}),
    ]
    if probe:
        cursor = PageCursor(float(probe[0]["last_active"]), str(probe[0]["id"]))
        cases.append((f"keyset after= row {max(0, total - 100):,}", {"after": cursor}))
    rows: list[Row] = []
    for label, kwargs in cases:
        got = len(db.list_sessions_page(limit=50, **kwargs))  # warm-up
        lat: list[float] = []
        for _ in range(calls):
            t0 = time.perf_counter()
            db.list_sessions_page(limit=50, **kwargs)
            lat.append(time.perf_counter() - t0)
        p50, p95 = percentile(lat, 50), percentile(lat, 95)
        rows.append(
            Row(
                "list",
                f"list_sessions_page(limit=50), {label}",
                f"{total:,} sessions",
                fmt_ms(p50),
                f"p95 {fmt_ms(p95)}",
                f"{got} rows",
                "p95 <= 10 ms",
                verdict(p95 <= LIST_P95_MAX_S),
            )
        )
        log(f"list {label}: p50 {fmt_ms(p50)}, p95 {fmt_ms(p95)}")
    return rows


# ── main ────────────────────────────────────────────────────────────────────────────────────


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.bench_store", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run (20,000 messages)")
    p.add_argument("--messages", type=int, default=None, help="messages in the generated DB (1,000,000)")
    p.add_argument("--sessions", type=int, default=None, help="sessions in the generated DB (100,000)")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="where the generated DB is kept")
    p.add_argument("--rebuild", action="store_true", help="regenerate the cached database even if present")
    p.add_argument("--tmp-dir", type=Path, default=None, help="scratch folder for the write benchmarks")
    p.add_argument("--out", type=Path, default=None, help="also write the Markdown report to this file")
    p.add_argument("--only", default="writes,search,list", help="comma-separated subset: writes,search,list")
    p.add_argument(
        "--explain",
        action="store_true",
        help="after the table, show the statements, their cost and EXPLAIN QUERY PLAN for the slowest "
        "query of each search kind and for the deepest list page",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    messages = args.messages or (20_000 if args.quick else 1_000_000)
    sessions = args.sessions or max(1, messages // 10)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    reps = 1 if args.quick else 3
    search_passes = 1 if args.quick else 3
    list_calls = 20 if args.quick else 50

    rows: list[Row] = []
    explained: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hermes-bench-", dir=args.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        machine = machine_lines(tmp)
        if "writes" in only:
            rows += run_writes(tmp, reps, lone_n=500, per_thread=300, thread_counts=(4, 16))

    if only & {"search", "list"}:
        db_path, meta = demo_database(args.cache_dir, messages, sessions, rebuild=args.rebuild)
        if "search" in only:
            queries = meta.get("queries")
            if not queries or meta.get("query_picker") != QUERY_PICKER_VERSION:
                log("choosing query terms from the database ...")
                queries = choose_queries(db_path)
                meta["queries"] = queries
                meta["expected"] = expected_hits(db_path, queries)
                meta["query_picker"] = QUERY_PICKER_VERSION
                save_meta(args.cache_dir, db_path, meta)
        db = SessionDB(db_path, read_only=True)
        try:
            n_msgs = db.message_count()
            log(f"database: {n_msgs:,} messages, {db.session_count():,} sessions")
            n_sessions = db.session_count()
            if "search" in only:
                search_rows, slowest = run_search(db, queries, meta.get("expected", {}), search_passes)
                rows += search_rows
                if args.explain:
                    explained += explain_search(db_path, slowest)
            if "list" in only:
                rows += run_listing(db, list_calls)
                if args.explain:
                    explained += explain_listing(db_path, max(0, n_sessions - 50))
        finally:
            db.close()
        built = meta.get("built", {})
        machine.append(
            f"- Generated database: {db_path.name}, {n_msgs:,} messages in {n_sessions:,} sessions "
            f"(store.demo seed {SEED}, generator {built.get('generator', '?')}"
            + (", older than the current store/demo.py)" if meta.get("stale_generator") else ")")
        )

    command = "python -m bench.bench_store " + " ".join(argv if argv is not None else sys.argv[1:])
    report = "\n".join(
        [
            "## Machine",
            "",
            *machine,
            f"- Command: `{command.strip()}`",
            f"- Wall time: {time.perf_counter() - started:.0f} s",
            "",
            "## Results",
            "",
            markdown_table(rows),
            "",
            *(["## Statements and plans (--explain)", "", *explained] if explained else []),
        ]
    )
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
