"""Property tests: no text makes the sanitizer emit invalid FTS5, or makes a search raise.

500 examples per property by default (derandomized: the same examples every run). The nightly
variant runs 10,000 random examples per property when ``HYPOTHESIS_NIGHTLY=1`` is set (the
``nightly`` marker is deselected by pyproject's ``addopts``; a later ``-m nightly`` wins):

    HYPOTHESIS_NIGHTLY=1 python -m pytest -m nightly tests/test_search_property.py
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import schema
from store.search import collect as search_collect
from store.search import count_matches, sanitize_fts5_query, search_messages
from store.search import query as search_query

NIGHTLY = os.environ.get("HYPOTHESIS_NIGHTLY") == "1"

VARIANTS = [
    pytest.param(500, True, id="default"),
    pytest.param(
        10_000,
        False,
        id="nightly",
        marks=[pytest.mark.nightly, pytest.mark.skipif(not NIGHTLY, reason="set HYPOTHESIS_NIGHTLY=1")],
    ),
]

# Pieces that matter to FTS5 and to the sanitizer, mixed into arbitrary text.
PIECES = [
    '"',
    '""',
    "'",
    "*",
    "**",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ":",
    "^",
    "+",
    "-",
    ".",
    "_",
    "/",
    "@",
    "#",
    "%",
    "\\",
    "~",
    "|",
    "&",
    ",",
    ";",
    "!",
    "?",
    "$",
    "=",
    "<",
    ">",
    "`",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "and",
    "or",
    "not",
    "NEAR(",
    "col:",
    "{a b}:",
    "TODO:",
    "C++",
    "C#",
    "v2.1",
    "a_b",
    "my-app.config.ts",
    "user@example.com",
    "https://x.io/a",
    "服务",
    "服务端",
    "สวัสดี",
    "\x00",
    "\x01",
    "\n",
    "\t",
    "\u0301",
    "\ue000",
    "\u200d",
    " ",
    "  ",
    "the",
    "config",
    "x",
]

# The hostile alphabet of tests/test_hardening_hostile.py: markup, escape sequences, C1, bidi…
HOSTILE = [
    "[bold]", "[/]", "[link=https://evil.example]", "[@click=app.quit]", "\x1b[2J", "\x1b]52;c;eA==\x07",
    "\x1bP+q\x1b\\", "\x9b31m", "\x9d0;t\x9c", "\x07", "\x08", "\r", "\x7f", "\x85", "\u202e", "\u2066",
    "\u200b", "\u200d", "\ufeff", "\u2028", "\ud800", "\udfff", "\x00", "x" * 5_000, "[" * 1_000,
]

queries = st.one_of(
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.sampled_from(PIECES), st.text(max_size=4)), max_size=10).map(
        "".join),
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8", categories=("Cc", "Cf", "P", "S", "Z", "Lo", "Ll", "Mn"))),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=5)), max_size=12).map("".join),
    st.lists(st.sampled_from(PIECES), max_size=12).map(" ".join),
)


def _run(examples: int, derandomize: bool, test: Callable[[str], None]) -> None:
    settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )(given(queries)(test))()


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path: Path = tmp_path_factory.mktemp("search_property") / "state.db"
    c = sqlite3.connect(path, isolation_level=None)
    c.row_factory = sqlite3.Row
    c.execute("BEGIN IMMEDIATE")
    schema.migrate(c, trigram_supported=True)
    c.execute("COMMIT")
    c.execute("BEGIN")
    for i, source in enumerate(("cli", "telegram", "cron")):
        c.execute("INSERT INTO sessions (id, source, started_at) VALUES (?, ?, ?)", (f"s{i}", source, 1.0 + i))
    texts = [
        "TODO: fix the config",
        "my-app.config.ts and v2.1",
        "修改youer服务端",
        "C++ and C# and a_b",
        "user@example.com https://x.io/a",
        "the NOT AND OR words",
        "100% done",
        "สวัสดีครับ",
    ]
    for i, text in enumerate(texts * 4):
        c.execute(
            "INSERT INTO messages (session_id, role, content, tool_name, timestamp) VALUES (?, ?, ?, ?, ?)",
            (f"s{i % 3}", ("user", "assistant", "tool")[i % 3], text, "web_search" if i % 3 == 2 else None, i),
        )
    c.execute("COMMIT")
    yield c
    c.close()


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(":memory:")
    c.execute("CREATE VIRTUAL TABLE t USING fts5(content)")
    c.execute("CREATE VIRTUAL TABLE g USING fts5(content, tools, tokenize='trigram')")
    c.execute("INSERT INTO t VALUES ('the config x and a b')")
    c.execute("INSERT INTO g VALUES ('the config x and a b', 'web_search')")
    c.execute("CREATE TABLE m (content TEXT, tool_name TEXT, tool_calls TEXT)")
    c.execute("INSERT INTO m VALUES ('the config x and a b', NULL, '[]')")
    yield c
    c.close()


@pytest.mark.parametrize(("examples", "derandomize"), VARIANTS)
def test_sanitized_query_is_always_valid_fts5(examples: int, derandomize: bool, fts: sqlite3.Connection) -> None:
    def check(query: str) -> None:
        for prefix_last in (False, True):
            expr = sanitize_fts5_query(query, prefix_last=prefix_last)
            assert isinstance(expr, str)
            if expr:  # raises OperationalError if FTS5 cannot parse it
                fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall()
            items = search_query._parse(query, prefix_last=prefix_last)
            assert bool(items) == bool(expr)
            if not items:
                continue
            # Every expression the routes build internally must parse too (the search itself
            # would swallow the error and quietly find nothing).
            for expr in (
                search_query._trigram_expr(items),
                search_query._trigram_candidates(items)[0],
                search_query._trigram_candidates(search_collect._candidate_items(items))[0],
            ):
                fts.execute("SELECT rowid FROM g WHERE g MATCH ?", (expr,)).fetchall()
            cond, params = search_collect._like_condition(items)
            fts.execute(f"SELECT count(*) FROM m WHERE {cond}", params).fetchall()

    _run(examples, derandomize, check)


@pytest.mark.parametrize(("examples", "derandomize"), VARIANTS)
def test_search_never_raises(examples: int, derandomize: bool, conn: sqlite3.Connection) -> None:
    def check(query: str) -> None:
        for order, prefix in (("rank", False), ("newest", True)):
            results = search_messages(conn, query, order=order, prefix=prefix, limit=5)
            assert isinstance(results, list) and len(results) <= 5
            for hit in results:
                assert "content" not in hit and hit["match"] in {"fts", "trigram", "like"}
        results = search_messages(conn, query, source_filter=["cli"], role_filter=["user"], limit=5)
        assert all(h["source"] == "cli" and h["role"] == "user" for h in results)
        assert 0 <= count_matches(conn, query, cap=50) <= 50
        with mock.patch.object(search_collect, "PREFIX_PAGES_MAX", -1):  # prefixes verified in Python
            assert isinstance(search_messages(conn, query, prefix=True, limit=5), list)

    _run(examples, derandomize, check)


# Compounds of short words and the punctuation unicode61 drops, and texts made of the same pieces.
_WORDS = ["c", "C", "v2", "1", "a", "b", "app", "x"]
_GLUE = ["+", "#", ".", "_", "-", "@", "/", ":", "++", " ", "  ", ", "]
compounds = st.lists(st.one_of(st.sampled_from(_WORDS), st.sampled_from(_GLUE[:-3])), min_size=2, max_size=5).map(
    "".join
)
texts = st.lists(st.one_of(st.sampled_from(_WORDS), st.sampled_from(_GLUE)), min_size=1, max_size=12).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(term=compounds, corpus=st.lists(texts, min_size=1, max_size=8))
def test_word_hits_of_a_compound_hold_its_text(term: str, corpus: list[str]) -> None:
    """A term with punctuation unicode61 drops never silently becomes the phrase of its words: each
    word-route hit holds the term's text, and each message holding it as words and text is found."""
    items = search_query._parse(term)
    if len(items) != 1 or not isinstance(items[0], search_query._Term):
        return
    raw = items[0].raw
    c = sqlite3.connect(":memory:", isolation_level=None)
    try:
        schema.migrate(c, trigram_supported=True)
        c.execute("INSERT INTO sessions (id, source, started_at) VALUES ('s', 'cli', 1)")
        for i, text in enumerate(corpus):
            c.execute(
                "INSERT INTO messages (session_id, role, content, timestamp) VALUES ('s', 'user', ?, ?)", (text, i)
            )
        for query in (term, term + " OR zzzq"):
            hits = search_messages(c, query, limit=50)
            word_hits = {h["id"] for h in hits if h["match"] == "fts"}
            texts_by_id = dict(c.execute("SELECT id, content FROM messages"))
            phrase = {r[0] for r in c.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?",
                                               (sanitize_fts5_query(term),))}
            expected = {i for i in phrase if raw.lower() in texts_by_id[i].lower()}
            assert word_hits == expected, (query, raw, corpus)
    finally:
        c.close()
