"""store.search: the FTS5 sanitizer, the search routes (unicode61, trigram, LIKE) and their results."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store import schema, search
from store.search import collect as search_collect
from store.search import count_matches, needs_trigram, sanitize_fts5_query, search_messages
from store.search import limits as search_limits
from store.search import page as search_page
from store.search import query as search_query

# ── Building databases ───────────────────────────────────────────────────────────────────────


class Store:
    """A state.db built with store.schema and plain INSERTs, as the agent writes it."""

    def __init__(self, path: Path, *, trigram: bool = True) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA synchronous = OFF")  # test speed only
        self.migrate(trigram=trigram)
        self.ts = 1_700_000_000.0

    def migrate(self, *, trigram: bool) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        schema.migrate(self.conn, trigram_supported=trigram)
        self.conn.execute("COMMIT")

    def session(self, sid: str, source: str = "cli", title: str | None = None) -> str:
        self.conn.execute(
            "INSERT INTO sessions (id, source, model, started_at, title) VALUES (?, ?, 'm-1', ?, ?)",
            (sid, source, self.ts, title),
        )
        return sid

    def msg(
        self,
        sid: str,
        content: str | None,
        role: str = "user",
        *,
        tool_name: str | None = None,
        tool_calls: Any = None,
    ) -> int:
        self.ts += 1
        calls = json.dumps(tool_calls) if tool_calls is not None else None
        cur = self.conn.execute(
            "INSERT INTO messages (session_id, role, content, tool_name, tool_calls, timestamp) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (sid, role, content, tool_name, calls, self.ts),
        )
        return int(cur.lastrowid)

    def drop_fts(self) -> None:
        for name in schema.FTS_TRIGGERS:
            self.conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        self.conn.execute("DROP TABLE messages_fts")

    def drop_trigram(self) -> None:
        for name in schema.TRGM_TRIGGERS:
            self.conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        self.conn.execute("DROP TABLE messages_trgm")
        self.conn.execute("DELETE FROM store_meta WHERE key = 'trgm_low'")

    def index_new_rows(self) -> None:
        """What the store's writer does within a second of new rows: grow the trigram window
        over them (old rows below the window are left to the backfill)."""
        meta = "SELECT value FROM store_meta WHERE key = 'trgm_high'"
        try:
            high = self.conn.execute(meta).fetchone()
        except sqlite3.OperationalError:
            return
        top = self.conn.execute("SELECT max(id) FROM messages").fetchone()[0]
        if high is None or top is None or high[0] > top or not self.has_trigram():
            return
        self.conn.execute("BEGIN IMMEDIATE")
        while (high := self.conn.execute(meta).fetchone()[0]) <= top:  # new rows only, not the backfill
            schema.trigram_maintenance_step(self.conn, chunk=top + 1 - high, budget_s=60)
        self.conn.execute("COMMIT")

    def has_trigram(self) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages_trgm'").fetchone() is not None

    def search(self, query: str, **kw: Any) -> list[dict[str, Any]]:
        self.index_new_rows()
        return search_messages(self.conn, query, **kw)

    def ids(self, query: str, **kw: Any) -> set[int]:
        kw.setdefault("limit", 100)
        return {r["id"] for r in self.search(query, **kw)}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "state.db")
    yield store
    store.conn.close()


RESULT_KEYS = {
    "id",
    "session_id",
    "role",
    "snippet",
    "timestamp",
    "tool_name",
    "source",
    "model",
    "session_started",
    "context",
    "title",
    "match",
}

# ── The sanitizer: exact output ──────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hello world", '"hello" "world"'),
        ("TODO: fix", '"TODO" "fix"'),
        ("TODO:fix", '"TODO fix"'),
        ("user@example.com", '"user example com"'),
        ("https://x.io/a/b", '"https x io a b"'),
        ("/usr/local/bin", '"usr local bin"'),
        # The expression for unicode61; these terms also need their own text (see test_literal_terms).
        ("C++", '"C"'),
        ("C#", '"C"'),
        ("foo_bar", '"foo bar"'),
        ("my-app.config.ts", '"my app config ts"'),
        ("v2.1", '"v2 1"'),
        ("P2.2", '"P2 2"'),
        ("chat-send", '"chat send"'),
        ('say "exact phrase" now', '"say" "exact phrase" "now"'),
        ('"unbalanced quote', '"unbalanced" "quote"'),
        ('a "b c" "d', '"a" "b c" "d"'),
        ("apples AND pears", '"apples" AND "pears"'),
        ("apples OR pears NOT plums", '"apples" OR "pears" NOT "plums"'),
        ("AND apples", '"apples"'),
        ("apples OR", '"apples"'),
        ("apples AND OR pears", '"apples" AND "pears"'),
        ("NOT", ""),
        ("apples and or not pears", '"apples" "and" "or" "not" "pears"'),
        ("deploy*", '"deploy"*'),
        ("*deploy", '"deploy"'),
        ("deploy** x", '"deploy"* "x"'),
        ("NEAR(a b)", '"NEAR" "a" "b"'),
        ("col:val", '"col val"'),
        ("{a b}: c", '"a" "b" "c"'),
        ("a^b $c =d ~e", '"a" "b" "c" "d" "e"'),
        ("'quoted' [x] <y> ;z, !w? \\v %u", '"quoted" "x" "y" "z" "w" "v" "u"'),
        ("修改youer服务端", '"修改youer服务端"'),
        ("", ""),
        ("   \t\n ", ""),
        ("!@#$%^&*()", ""),
        ('"', ""),
        ('""', ""),
        ('" "', ""),
        ("a\x00b", '"a" "b"'),
    ],
)
def test_sanitize_output(query: str, expected: str) -> None:
    assert sanitize_fts5_query(query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("deplo", '"deplo"*'),
        ("fix depl", '"fix" "depl"*'),
        ("my-ap", '"my ap"*'),
        ("deploy*", '"deploy"*'),
        ('"exact phrase"', '"exact phrase"'),  # a closed phrase is left as typed
        ("apples AND", '"apples"*'),
        ("", ""),
    ],
)
def test_sanitize_prefix_last(query: str, expected: str) -> None:
    assert sanitize_fts5_query(query, prefix_last=True) == expected


@pytest.mark.parametrize(
    ("query", "literal"),
    [
        ("C++", ["C++"]),
        ("C#", ["C#"]),
        ("v2.1", ["v2.1"]),
        ("a_b", ["a_b"]),
        ("my-app.config.ts", ["my-app.config.ts"]),
        ("user@example.com", ["user@example.com"]),
        ('"TODO: fix" now', ["TODO: fix"]),
        ('"100%"', ["100%"]),
        ("my-app.con*", ["my-app.con"]),
        ("hello world", []),
        ('"exact  phrase"', []),
        ("TODO: fix", []),  # a trailing colon is a separator, not part of the term
        ("-a +b __init__ .v2 café", []),
        ("修改youer服务端", []),
    ],
)
def test_literal_terms(query: str, literal: list[str]) -> None:
    """Terms whose punctuation unicode61 drops are matched by their own text too."""
    items = search_query._parse(query)
    assert [t.raw for t in items if isinstance(t, search_query._Term) and t.literal] == literal


def test_candidate_expression_keeps_literal_negations_out() -> None:
    """"a NOT C++" must still find "a in plain C": the NOT is checked on the text, not by FTS5."""
    q = search_collect._query(search_query._parse("apples NOT C++ OR pears NOT plums"))
    assert q.fts == '"apples" OR "pears" NOT "plums"'
    assert q.literal and q.literal_sql is None
    q = search_collect._query(search_query._parse("love C++ v2.1"))
    assert q.fts == '"love" "C" "v2 1"'
    assert q.literal_sql is not None and q.literal_sql[1] == ("%C++%", "%v2.1%")
    assert search_collect._query(search_query._parse("plain words")).literal is False


def test_sanitize_caps_long_input() -> None:
    out = sanitize_fts5_query("word " * 2000)  # 10,000 characters
    assert out.startswith('"word"')
    assert out.count('"word"') <= search_limits.MAX_TERMS
    assert sanitize_fts5_query("x" * 10_000) == '"' + "x" * search_limits.MAX_QUERY_CHARS + '"'


NASTY = [
    'a"b"c"',
    "((((",
    "))))",
    "a OR OR OR b",
    "NOT NOT NOT",
    "* * *",
    "^a",
    "a:b:c:",
    "-a -b",
    "+a +b",
    "a + b",
    '""""""',
    "'''",
    "\\",
    "\\\\%_",
    "NEAR(",
    "col : x",
    "{x y}:",
    "a AND (b OR c)",
    "x\x00y",
    "\u0301",
    "a\u0301",
    "\ue000",
    "\U0001f600 emoji",
    "\ud800 lone surrogate",
    "a" * 5000,
    "NOT a",
    "a NOT",
    "AND",
    "OR",
    "a NOT b NOT c " * 60,
    '"a" * "b"',
    "***deploy",
    "deploy***",
    "a*b*c",
    "x.y.z.*",
    "@@@",
    "#",
    "C++++",
    "..",
    "::",
    "//",
    "v2.",
    ".v2",
    "_",
    "__init__",
]


@pytest.mark.parametrize("query", NASTY)
def test_sanitized_queries_are_valid_fts5(query: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(content)")
    conn.execute("CREATE VIRTUAL TABLE g USING fts5(content, tools, tokenize='trigram')")
    conn.execute("INSERT INTO t VALUES ('a b c deploy x y z')")
    conn.execute("INSERT INTO g VALUES ('a b c deploy x y z', 'tool')")
    for prefix_last in (False, True):
        expr = sanitize_fts5_query(query, prefix_last=prefix_last)
        if expr:
            conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall()
        items = search_query._parse(query, prefix_last=prefix_last)
        if items:
            conn.execute("SELECT rowid FROM g WHERE g MATCH ?", (search_query._trigram_expr(items),)).fetchall()


def test_needs_trigram() -> None:
    assert needs_trigram("服务端")
    assert needs_trigram("修改youer服务端")
    assert needs_trigram("สวัสดี")
    assert needs_trigram("カタカナ")
    assert needs_trigram("안녕하세요")
    assert not needs_trigram("hello world")
    assert not needs_trigram("café Ελληνικά русский")


# ── The sanitizer: the right messages ────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, int]]]:
    """One database for the read-only query tests (built once per module)."""
    db = Store(tmp_path_factory.mktemp("corpus") / "state.db")
    s = db.session("s1")
    texts = {
        "todo": "TODO: fix the flaky login test",
        "email": "mail me at user@example.com today",
        "email_near": "user at example dot com",
        "url": "see https://x.io/a/b for details",
        "url_other": "see https://x.io/c for other details",
        "path": "installed it to /usr/local/bin/tool",
        "cpp": "I love C++ templates",
        "csharp": "the service is written in C# mostly",
        "plain_c": "some plain C code",
        "win_path": "open C:\\Users\\x now",
        "version_split": "got v2 1 at last",
        "snake_split": "foo bar qux",
        "config_split": "my app config ts",
        "email_split": "user example com",
        "chat_send_split": "a chat send button",
        "todo_split": "TODO fix it",
        "config_ts": "edit my-app.config.ts and restart",
        "config_far": "config for my app is in ts files",
        "version": "released v2.1 yesterday",
        "version_far": "v2 had 1 bug",
        "p22": "milestone P2.2 is done",
        "chat_send": "call chat-send when ready",
        "send_chat": "send a chat message",
        "snake": "rename foo_bar to baz",
        "apples": "apples are red",
        "pears": "pears are green",
        "both": "apples and pears together",
        "deploy": "the deployment finished",
        "quote": "an unbalanced thing happened",
        "phrase": "exact phrase here",
        "phrase_split": "phrase exact here",
    }
    db.conn.execute("BEGIN")
    ids = {key: db.msg(s, text) for key, text in texts.items()}
    db.conn.execute("COMMIT")
    yield db, ids
    db.conn.close()


@pytest.mark.parametrize(
    ("query", "must", "must_not"),
    [
        ("TODO: fix", {"todo"}, set()),
        ("user@example.com", {"email"}, {"email_near"}),
        ("https://x.io/a/b", {"url"}, {"url_other"}),
        ("/usr/local/bin", {"path"}, set()),
        ("C++", {"cpp"}, {"plain_c", "win_path", "csharp"}),
        ("c++", {"cpp"}, {"plain_c", "win_path", "csharp"}),
        ("C#", {"csharp"}, {"plain_c", "win_path", "cpp"}),
        ("my-app.config.ts", {"config_ts"}, {"config_far", "config_split"}),
        ("v2.1", {"version"}, {"version_far", "version_split"}),
        ("P2.2", {"p22"}, set()),
        ("chat-send", {"chat_send"}, {"send_chat", "chat_send_split"}),
        ("foo_bar", {"snake"}, {"snake_split"}),
        ("user@example.com", {"email"}, {"email_split"}),
        ('"TODO: fix"', {"todo"}, {"todo_split"}),
        ("C++ OR apples", {"cpp", "apples", "both"}, {"plain_c", "win_path"}),
        ("plain NOT C++", {"plain_c"}, {"cpp"}),
        ("templates NOT C++", set(), {"cpp"}),
        ("code NOT C#", {"plain_c"}, {"csharp"}),
        ('"exact phrase"', {"phrase"}, {"phrase_split"}),
        ('"unbalanced thing', {"quote"}, set()),
        ("apples OR pears", {"apples", "pears", "both"}, set()),
        ("apples AND pears", {"both"}, {"apples", "pears"}),
        ("apples NOT pears", {"apples"}, {"both", "pears"}),
        ("AND apples NOT", {"apples", "both"}, {"pears"}),
        ("apples and pears", {"both"}, {"apples", "pears"}),  # "and" is a word here
        ("deploy*", {"deploy"}, set()),
        ("*deploy*", {"deploy"}, set()),
    ],
)
def test_queries_find_the_right_messages(
    corpus_db: tuple[Store, dict[str, int]], query: str, must: set[str], must_not: set[str]
) -> None:
    db, corpus = corpus_db
    found = db.ids(query)
    assert {corpus[k] for k in must} <= found, query
    assert not ({corpus[k] for k in must_not} & found), query


def test_prefix_type_ahead(corpus_db: tuple[Store, dict[str, int]]) -> None:
    db, corpus = corpus_db
    assert [(h["id"], h["match"]) for h in db.search("deplo")] == [(corpus["deploy"], "trigram")]
    assert [(h["id"], h["match"]) for h in db.search("deplo", prefix=True)] == [(corpus["deploy"], "fts")]
    assert db.ids("fl") == set()
    assert db.ids("fl", prefix=True) == {corpus["todo"]}
    assert corpus["config_ts"] in db.ids("my-app.con", prefix=True)


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "!!!", "()", '"', '""', "AND", "OR NOT", "*", "-", "..."])
def test_nothing_searchable_gives_no_results(corpus_db: tuple[Store, dict[str, int]], query: str) -> None:
    db, _ = corpus_db
    assert db.search(query) == []
    assert count_matches(db.conn, query) == 0


def test_long_input_is_capped_not_rejected(corpus_db: tuple[Store, dict[str, int]]) -> None:
    db, corpus = corpus_db
    assert db.ids("flaky " + "!" * 10_000) == {corpus["todo"]}
    assert db.search("flaky " * 2000) != []
    assert db.search("x" * 10_000) == []


@pytest.mark.parametrize("query", NASTY)
def test_nasty_queries_never_raise(corpus_db: tuple[Store, dict[str, int]], query: str) -> None:
    db, _ = corpus_db
    for order in ("rank", "newest"):
        assert isinstance(db.search(query, order=order, prefix=True), list)
    assert count_matches(db.conn, query) >= 0


# ── Results: shape, context, order, filters ──────────────────────────────────────────────────


def test_result_shape_and_snippet_markers(db: Store) -> None:
    s = db.session("s1", source="telegram", title="Deploy day")
    mid = db.msg(s, "we shipped the kubernetes upgrade on friday", role="assistant")
    [hit] = db.search("kubernetes")
    assert set(hit) == RESULT_KEYS
    assert hit["id"] == mid
    assert hit["session_id"] == "s1"
    assert hit["role"] == "assistant"
    assert hit["source"] == "telegram"
    assert hit["model"] == "m-1"
    assert hit["title"] == "Deploy day"
    assert hit["match"] == "fts"
    assert isinstance(hit["timestamp"], float) and isinstance(hit["session_started"], float)
    assert ">>>kubernetes<<<" in hit["snippet"]
    [hit] = db.search("kubernetes", snippet_markers=("[", "]"))
    assert "[kubernetes]" in hit["snippet"]


def test_context_is_the_same_session_when_sessions_interleave(db: Store) -> None:
    a, b = db.session("a"), db.session("b")
    db.msg(a, "a1 question")
    db.msg(b, "b1 other talk")
    db.msg(a, "a2 " + "long answer " * 50, role="assistant")
    db.msg(b, "b2 other talk")
    hit_id = db.msg(a, "a3 the needle is here")
    db.msg(b, "b3 other talk")
    db.msg(a, "a4 thanks", role="assistant")
    [hit] = db.search("needle")
    assert hit["id"] == hit_id
    # As the reference: previous, the hit itself, next, in id order (here of the same session).
    assert [c["role"] for c in hit["context"]] == ["assistant", "user", "assistant"]
    before, itself, after = hit["context"]
    assert before["content"].startswith("a2 ") and len(before["content"]) == 200
    assert itself == {"role": "user", "content": "a3 the needle is here"}
    assert after == {"role": "assistant", "content": "a4 thanks"}
    assert all(set(c) == {"role", "content"} for c in hit["context"])
    # The first and last message of a session have one neighbour each.
    assert db.search("question")[0]["context"] == [
        {"role": "user", "content": "a1 question"},
        {"role": "assistant", "content": before["content"]},
    ]
    assert db.search("thanks")[0]["context"] == [
        {"role": "user", "content": "a3 the needle is here"},
        {"role": "assistant", "content": "a4 thanks"},
    ]


def test_context_of_the_hit_is_trimmed_like_its_neighbours(db: Store) -> None:
    s = db.session("s")
    long_hit = db.msg(s, "mongoose " + "x" * 500)
    [hit] = db.search("mongoose")
    assert hit["id"] == long_hit
    assert hit["context"] == [{"role": "user", "content": ("mongoose " + "x" * 500)[:200]}]


def test_context_of_a_lone_message_and_null_content_is_empty_text(db: Store) -> None:
    s = db.session("s")
    db.msg(s, None, role="assistant", tool_calls=[{"function": {"name": "x"}}])
    db.msg(s, "zebra crossing")
    [hit] = db.search("zebra")
    assert hit["context"] == [{"role": "assistant", "content": ""}, {"role": "user", "content": "zebra crossing"}]
    t = db.session("t")
    db.msg(t, "okapi alone")
    [hit] = db.search("okapi")
    assert hit["context"] == [{"role": "user", "content": "okapi alone"}]
    # A hit found in its tool call (content NULL) is itself in its context, with empty content.
    call = db.msg(t, None, role="assistant", tool_calls=[{"function": {"name": "pangolin_tool"}}])
    [hit] = db.search("pangolin_tool")
    assert hit["id"] == call
    assert hit["context"] == [{"role": "user", "content": "okapi alone"}, {"role": "assistant", "content": ""}]


def test_rank_versus_newest(db: Store) -> None:
    s = db.session("s")
    strong = db.msg(s, "walrus walrus walrus")
    weak = [db.msg(s, "a long message that mentions walrus once among many other words " * 3) for _ in range(3)]
    ranked = [r["id"] for r in db.search("walrus")]
    newest = [r["id"] for r in db.search("walrus", order="newest")]
    assert ranked[0] == strong
    assert newest == [*reversed(weak), strong]
    assert set(ranked) == set(newest)


def test_paging_is_consistent(db: Store) -> None:
    s = db.session("s")
    made = {db.msg(s, f"pager item {i} " + "pad " * (i % 5)) for i in range(25)}
    for order in ("rank", "newest"):
        pages = [db.search("pager", limit=10, offset=o, order=order) for o in (0, 10, 20)]
        got = [r["id"] for p in pages for r in p]
        assert [len(p) for p in pages] == [10, 10, 5]
        assert len(got) == len(set(got)) and set(got) == made
    assert db.search("pager", limit=10, offset=30) == []
    assert db.search("pager", limit=0) == []


def test_source_and_role_filters(db: Store) -> None:
    cli, tg = db.session("c", source="cli"), db.session("t", source="telegram")
    u = db.msg(cli, "ostrich question")
    a = db.msg(cli, "ostrich answer", role="assistant")
    t = db.msg(tg, "ostrich on telegram")
    assert db.ids("ostrich") == {u, a, t}
    assert db.ids("ostrich", source_filter=["telegram"]) == {t}
    assert db.ids("ostrich", source_filter=["cli", "telegram"]) == {u, a, t}
    assert db.ids("ostrich", source_filter=[]) == set()
    assert db.ids("ostrich", exclude_sources=["telegram"]) == {u, a}
    assert db.ids("ostrich", exclude_sources=[]) == {u, a, t}
    assert db.ids("ostrich", role_filter=["assistant"]) == {a}
    assert db.ids("ostrich", role_filter=["user"], source_filter=["cli"]) == {u}
    assert db.ids("ostrich", source_filter=["x' OR 1=1 --"]) == set()
    assert count_matches(db.conn, "ostrich") == 3
    assert count_matches(db.conn, "ostrich", source_filter=["discord"]) == 0
    assert count_matches(db.conn, "ostrich", role_filter=["user"]) == 2
    assert count_matches(db.conn, "ostrich", cap=2) == 2


def test_filtered_search_widens_past_the_candidate_cap(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_collect, "RANK_CANDIDATES", 10)
    monkeypatch.setattr(search_collect, "FIRST_WINDOW", 8)
    common, rare = db.session("c", source="cli"), db.session("r", source="cron")
    old = db.msg(rare, "heron from cron")
    for i in range(200):
        db.msg(common, f"heron number {i}")
    assert db.ids("heron", source_filter=["cron"]) == {old}
    assert db.ids("heron", source_filter=["cron"], order="newest") == {old}
    assert len(db.search("heron", limit=50)) == 50


def test_unknown_order_means_rank_and_bad_numbers_are_tolerated(db: Store) -> None:
    s = db.session("s")
    db.msg(s, "gecko")
    assert len(db.search("gecko", order="sideways")) == 1
    assert db.search("gecko", limit=-5) == []
    assert len(db.search("gecko", offset=-3)) == 1
    assert len(db.search("gecko", limit=10**30)) == 1
    assert db.search("gecko", offset=10**30) == []
    assert count_matches(db.conn, "gecko", cap=10**30) == 1


# ── Substring, CJK and tool routes ───────────────────────────────────────────────────────────


def test_cjk_trigram_and_short_cjk_like(db: Store) -> None:
    s = db.session("s")
    mid = db.msg(s, "请帮我修改youer服务端的配置")
    other = db.msg(s, "服务器已经重启")
    db.msg(s, "unrelated english text")
    [hit] = db.search("服务端")
    assert hit["id"] == mid and hit["match"] == "trigram"
    assert ">>>服务端<<<" in hit["snippet"]
    hits = db.search("服务")  # two characters: below trigram size
    assert {h["id"] for h in hits} == {mid, other}
    assert {h["match"] for h in hits} == {"like"}
    assert all(">>>服务<<<" in h["snippet"] for h in hits)
    assert db.ids("修改youer服务端") == {mid}
    assert db.ids("youer服务") == {mid}
    assert count_matches(db.conn, "服务") == 2


def test_other_unsegmented_scripts(db: Store) -> None:
    s = db.session("s")
    thai = db.msg(s, "ผมอยากสวัสดีครับทุกคน")
    jp = db.msg(s, "データベースを再起動しました")
    assert db.ids("สวัสดี") == {thai}
    assert db.ids("再起動") == {jp}


def test_substring_fallback_finds_inside_words(db: Store) -> None:
    s = db.session("s")
    glued = db.msg(s, "loaded myconfig from disk")
    plain = db.msg(s, "the config is fine")
    hits = db.search("config")
    assert [h["id"] for h in hits] == [plain, glued]  # word hits first
    assert [h["match"] for h in hits] == ["fts", "trigram"]
    assert ">>>config<<<" in hits[1]["snippet"]
    assert db.ids("config", order="newest") == {plain, glued}
    assert {h["id"]: h["match"] for h in db.search("con")} == {plain: "trigram", glued: "trigram"}
    assert count_matches(db.conn, "config") == 2


def test_no_substring_fallback_when_the_page_is_full_or_terms_are_short(db: Store) -> None:
    s = db.session("s")
    glued = db.msg(s, "loaded myconfig from disk")
    words = [db.msg(s, f"config {i}") for i in range(3)]
    assert db.ids("config", limit=3) == set(words)
    assert glued in db.ids("config", limit=4)
    db.msg(s, "xyab")
    assert db.ids("ab") == set()  # 2-character Latin terms do not go to substring search


def test_tool_names_and_arguments_are_found(db: Store) -> None:
    s = db.session("s")
    call = db.msg(
        s,
        None,
        role="assistant",
        tool_calls=[{"id": "c1", "function": {"name": "terminal", "arguments": '{"command": "kubectl rollout"}'}}],
    )
    result = db.msg(s, "deployment restarted", role="tool", tool_name="web_search")
    [hit] = db.search("rollout")
    assert hit["id"] == call and hit["match"] == "trigram" and hit["role"] == "assistant"
    assert ">>>rollout<<<" in hit["snippet"]
    [hit] = db.search("web_search")
    assert hit["id"] == result and hit["tool_name"] == "web_search" and hit["role"] == "tool"
    assert ">>>web_search<<<" in hit["snippet"]
    assert db.ids("rollout", role_filter=["user"]) == set()
    assert count_matches(db.conn, "rollout", role_filter=["user"]) == 0
    assert count_matches(db.conn, "rollout") == 1


def test_trigram_substring_keeps_punctuation(db: Store) -> None:
    s = db.session("s")
    cpp = db.msg(s, "templates in c++ are hard")
    db.msg(s, "the letter c alone")
    assert cpp in db.ids("C++")


# ── Terms with punctuation unicode61 drops (C++, C#, v2.1, a_b) ──────────────────────────────


def test_literal_terms_are_checked_past_many_lookalikes(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """"C" is in many messages: the word route still finds the old "C#" ones, under OR/NOT (checked
    in Python, window by window) and alone (checked by SQL), with filters and in both orders."""
    monkeypatch.setattr(search_collect, "FIRST_WINDOW", 8)
    cli, tg = db.session("c", source="cli"), db.session("t", source="telegram")
    old = db.msg(cli, "written in C# again")
    old_tg = db.msg(tg, "more C# on telegram")
    for i in range(300):
        db.msg(cli, f"plain C number {i}")
    for query in ("C#", "c#", "C# OR zzzq", "C# NOT zzzq", "zzzq OR C#"):
        for order in ("rank", "newest"):
            hits = db.search(query, order=order, limit=50)
            assert {h["id"] for h in hits} == {old, old_tg}, (query, order)
            assert {h["match"] for h in hits} == {"fts"}
        assert db.ids(query, source_filter=["cli"]) == {old}, query
        assert db.ids(query, role_filter=["assistant"]) == set(), query
        assert count_matches(db.conn, query) == 2, query
    assert db.ids("plain NOT C#", limit=500) == db.ids("plain", limit=500)
    assert len(db.ids("plain NOT C#", limit=500)) == 300
    [hit] = db.search("C# OR zzzq", source_filter=["telegram"])
    assert hit["snippet"] == "more >>>C#<<< on telegram"


def test_literal_check_continues_inside_a_window_cut_by_its_limit(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real and lookalike matches interleaved, more of both than one window's LIMIT: none skipped."""
    monkeypatch.setattr(search_collect, "FIRST_WINDOW", 10_000)
    s = db.session("s")
    real = set()
    db.conn.execute("BEGIN")
    for i in range(150):
        real.add(db.msg(s, f"C# item {i}"))
        db.msg(s, f"C item {i}")
        db.msg(s, f"C# item {i}".replace("#", " #"))  # "C #": the words, not the text
    db.conn.execute("COMMIT")
    for query in ("C# OR zzzq", "C#"):
        assert db.ids(query, limit=500, order="newest") == real, query
        assert [h["id"] for h in db.search(query, limit=100, order="newest")] == sorted(real, reverse=True)[:100]


def test_literal_terms_in_long_messages_and_prefixes(db: Store, prefix_route: str) -> None:
    s = db.session("s")
    far = db.msg(s, "x " * (search_limits.VERIFY_TEXT_CHARS // 2) + "then v2.1 shipped")
    near = db.msg(s, "v2 1 are two words")
    assert db.ids("v2.1") == {far}
    assert db.ids("v2.1 OR zzzq") == {far}  # past the text checked in Python: unicode61's word is kept
    typed = db.msg(s, "see my-app.config.ts")
    db.msg(s, "my app configures")
    assert db.ids("my-app.con", prefix=True) == {typed}
    assert db.ids("my-app.con*") == {typed}
    [hit] = db.search("my-app.con*")
    assert ">>>my-app.config<<<" in hit["snippet"]
    assert near in db.ids("v2")


def test_snippets_mark_elided_text_with_one_character(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    s = db.session("s")
    text = " ".join(f"w{i}" for i in range(100)) + " narwhal C++ " + " ".join(f"z{i}" for i in range(100))
    db.msg(s, text)
    for budget in (search_limits.SNIPPET_BUDGET_S, 0.0):  # FTS5's snippet(), then made in Python
        monkeypatch.setattr(search_page, "SNIPPET_BUDGET_S", budget)
        for query, marked in (("narwhal", ">>>narwhal<<<"), ("C++", ">>>C++<<<")):
            [hit] = db.search(query)
            snippet = hit["snippet"]
            assert snippet.startswith("\u2026") and snippet.endswith("\u2026"), snippet
            assert "..." not in snippet and marked in snippet, snippet


# ── Databases without the store's tables, old trigram watermark, read-only ───────────────────


def _fill_degraded(db: Store) -> dict[str, int]:
    s = db.session("s")
    return {
        "glued": db.msg(s, "loaded myconfig from disk"),
        "word": db.msg(s, "the config is fine"),
        "cjk": db.msg(s, "请帮我修改youer服务端的配置"),
        "tool": db.msg(s, "done", role="tool", tool_name="web_search"),
        "pct": db.msg(s, "progress 100% done"),
        "thousand": db.msg(s, "we have 1000 items"),
        "under": db.msg(s, "call a_b now"),
        "axb": db.msg(s, "call axb now"),
    }


def _check_degraded(db: Store, m: dict[str, int], word_route: str) -> None:
    assert db.ids("config") == {m["word"], m["glued"]}
    assert [h["match"] for h in db.search("config")] == [word_route, "like"]
    assert db.ids("服务端") == {m["cjk"]}
    assert db.ids("服务") == {m["cjk"]}
    assert db.ids("web_search") == {m["tool"]}
    assert ">>>服务端<<<" in db.search("服务端")[0]["snippet"]
    assert count_matches(db.conn, "config") == 2


def test_database_without_trigram_table(tmp_path: Path) -> None:
    db = Store(tmp_path / "old.db", trigram=False)
    m = _fill_degraded(db)
    assert "messages_trgm" not in {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master")}
    _check_degraded(db, m, "fts")
    # LIKE wildcards in the query stay literal.
    assert db.ids("a_b") == {m["under"]}
    assert db.ids('"100%"') == {m["pct"]}


def test_database_without_any_fts_table(tmp_path: Path) -> None:
    db = Store(tmp_path / "bare.db", trigram=False)
    db.drop_fts()
    m = _fill_degraded(db)
    assert db.ids("config") == {m["word"], m["glued"]}
    assert {h["match"] for h in db.search("config")} == {"like"}
    assert db.ids("服务") == {m["cjk"]}
    assert db.ids("a_b") == {m["under"]}
    assert db.ids('"100%"') == {m["pct"]}
    assert db.ids("fi") == {m["glued"], m["word"]}  # without FTS tables even short terms are substrings
    assert db.ids("is fine") == {m["word"]}
    # Boolean operators keep FTS5's meaning in the LIKE route too (NULL tool columns included).
    assert db.ids("config NOT myconfig") == {m["word"]}
    assert db.ids("myconfig OR a_b") == {m["glued"], m["under"]}
    assert db.ids("call NOT axb OR 1000") == {m["under"], m["thousand"]}


def test_database_with_trigram_but_without_messages_fts(tmp_path: Path) -> None:
    db = Store(tmp_path / "trgm_only.db")
    db.drop_fts()
    m = _fill_degraded(db)
    assert db.ids("config") == {m["word"], m["glued"]}
    assert {h["match"] for h in db.search("config")} == {"trigram"}
    assert db.ids("服务") == {m["cjk"]}
    assert db.ids("web_search") == {m["tool"]}


def test_trigram_backfill_in_progress_uses_like_below_the_watermark(tmp_path: Path) -> None:
    db = Store(tmp_path / "upgrading.db", trigram=False)
    s = db.session("s")
    old = db.msg(s, "old myconfig line")
    old_cjk = db.msg(s, "旧的服务端日志")
    db.migrate(trigram=True)  # the trigram index starts empty; old rows await the backfill
    low = db.conn.execute("SELECT value FROM store_meta WHERE key = 'trgm_low'").fetchone()[0]
    assert low > old_cjk
    new = db.msg(s, "new myconfig line")
    hits = {h["id"]: h["match"] for h in db.search("myconfig")}
    assert hits == {old: "fts", new: "fts"}
    hits = {h["id"]: h["match"] for h in db.search("config")}
    assert hits == {new: "trigram", old: "like"}
    assert {h["id"] for h in db.search("服务端")} == {old_cjk}
    # Once maintenance has grown the window over every row, both come from the trigram index.
    db.conn.execute("BEGIN IMMEDIATE")
    while schema.trigram_maintenance_step(db.conn):
        pass
    db.conn.execute("COMMIT")
    assert {h["id"]: h["match"] for h in db.search("config")} == {new: "trigram", old: "trigram"}


def test_read_only_connection(db: Store) -> None:
    m = _fill_degraded(db)
    ro = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    ro.row_factory = sqlite3.Row
    ro.execute("PRAGMA query_only = ON")
    try:
        assert {h["id"] for h in search_messages(ro, "config", limit=50)} == {m["word"], m["glued"]}
        assert {h["id"] for h in search_messages(ro, "服务", limit=50)} == {m["cjk"]}
        assert {h["id"] for h in search_messages(ro, "服务端", limit=50)} == {m["cjk"]}
        assert count_matches(ro, "config") == 2
    finally:
        ro.close()


def test_plain_tuple_rows_work_too(db: Store) -> None:
    s = db.session("s")
    mid = db.msg(s, "tuple rows")
    plain = sqlite3.connect(db.path)
    try:
        assert [h["id"] for h in search_messages(plain, "tuple")] == [mid]
    finally:
        plain.close()


def test_empty_database_and_missing_tables(tmp_path: Path) -> None:
    db = Store(tmp_path / "empty.db")
    assert db.search("anything") == []
    assert count_matches(db.conn, "anything") == 0
    bare = sqlite3.connect(tmp_path / "nothing.db")
    assert search_messages(bare, "anything") == []
    assert count_matches(bare, "anything") == 0


def test_detect_caps(tmp_path: Path) -> None:
    full = Store(tmp_path / "full.db")
    caps = search.detect_caps(full.conn)
    assert (caps.messages, caps.fts, caps.trigram, caps.trgm_low, caps.title) == (True, True, True, 1, True)
    old = Store(tmp_path / "old.db", trigram=False)
    old.drop_fts()
    caps = search.detect_caps(old.conn)
    assert (caps.fts, caps.trigram) == (False, False)


# ── Prefix queries, ranking bounds, time budgets ─────────────────────────────────────────────


@pytest.fixture(params=["fts5-prefix", "verified"])
def prefix_route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Cheap prefixes go to FTS5; costly ones (estimated from its page index) are verified in Python."""
    if request.param == "verified":
        monkeypatch.setattr(search_collect, "PREFIX_PAGES_MAX", -1)
    return str(request.param)


def test_prefix_queries_match_word_starts(db: Store, prefix_route: str) -> None:
    s = db.session("s")
    start = db.msg(s, "the deployment went fine")
    inside = db.msg(s, "we redeployed it")
    accented = db.msg(s, "un café au lait")
    hits = db.search("deplo*")
    assert [(h["id"], h["match"]) for h in hits] == [(start, "fts"), (inside, "trigram")]
    assert ">>>deployment<<<" in hits[0]["snippet"]
    assert ">>>deplo<<<" in hits[1]["snippet"]
    assert db.ids("de*") == {start}  # two characters: no substring fallback
    assert db.ids("CAF*") == {accented}
    if prefix_route == "fts5-prefix":
        assert db.ids("cafe*") == {accented}  # unicode61 folds diacritics
    # (Verified candidates come from the trigram index, which in SQLite 3.40 does not fold
    # diacritics: there "cafe*" does not find "café".)
    assert db.ids("deplo* NOT fine") == {inside}
    assert db.ids("deplo* OR lait") == {start, inside, accented}
    assert count_matches(db.conn, "de*") == 1


def test_prefix_routes_agree_with_fts5(db: Store, prefix_route: str) -> None:
    s = db.session("s")
    text_of: dict[int, str] = {}
    for text in [
        "the deployment went fine",
        "we redeployed it",
        "deploy now",
        "Deployed!",
        "my-app.config.ts here",
        "my app configures",
        "un café au lait",
        "cafeteria open",
        "deploy-bot said hi",
        "the deploy key",
        "nothing to see",
        "DEPLOYMENT_ID=3",
    ]:
        text_of[db.msg(s, text)] = text
    for query in [
        "dep*",
        "deploy*",
        "my-app.con*",
        '"the deploy"*',
        "deploy* OR cafet*",
        "caf*",
        "deploy* NOT the",
        "the dep*",
        "deployment_i*",
        "con* app",
    ]:
        expected = {
            r[0]
            for r in db.conn.execute(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (sanitize_fts5_query(query),)
            )
        }
        # A term with punctuation unicode61 drops also needs its own text: "my-app.con*" is
        # not "my app con*" ("my app configures").
        literal = {"my-app.con*": "my-app.con", "deployment_i*": "deployment_i"}.get(query)
        if literal:
            expected = {i for i in expected if literal in text_of[i].lower()}
        words = {h["id"] for h in db.search(query, limit=100) if h["match"] == "fts"}
        assert words == expected, query
    assert "my app configures" not in {text_of[h["id"]] for h in db.search("my-app.con*", limit=100)}


def test_common_terms_are_left_out_of_ranking(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_collect, "DF_PROBE", 2)
    monkeypatch.setattr(search_collect, "RANK_POSTINGS", 10)
    s = db.session("s")
    short = db.msg(s, "common common common")  # the best bm25 hit for "common" alone
    strong = db.msg(s, "rare rare rare and the common word")
    for i in range(40):
        db.msg(s, f"common filler number {i} with more words to make it long")
    weak = db.msg(s, "rare once in a long common message with many other words in it")
    # "common" is in every row: too costly to count, so "rare" alone ranks.
    assert [h["id"] for h in db.search("common rare")] == [strong, weak]
    # Nothing affordable to rank by: newest first, the same as order="newest".
    ranked = [h["id"] for h in db.search("common", limit=50)]
    assert ranked == [h["id"] for h in db.search("common", limit=50, order="newest")]
    assert ranked[-1] == short
    assert [h["id"] for h in db.search("rare OR common", limit=2)] == [weak, ranked[1]]
    monkeypatch.setattr(search_collect, "RANK_POSTINGS", 10_000)
    assert db.search("common", limit=1)[0]["id"] == short


def test_snippets_fall_back_to_python_after_the_snippet_budget(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    s = db.session("s")
    db.msg(s, "we shipped the kubernetes upgrade on friday")
    db.msg(s, "tool ran", role="tool", tool_name="kubectl_apply")
    monkeypatch.setattr(search_page, "SNIPPET_BUDGET_S", 0.0)
    [hit] = db.search("kubernetes")
    assert hit["snippet"] == "we shipped the >>>kubernetes<<< upgrade on friday"
    [hit] = db.search("kubectl_apply")
    assert hit["match"] == "trigram" and hit["snippet"] == ">>>kubectl_apply<<<"


def test_an_exhausted_time_budget_still_gives_the_first_window(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    s = db.session("s")
    word = db.msg(s, "budget word here")
    cjk = db.msg(s, "服务端")
    monkeypatch.setattr(search_collect, "SEARCH_BUDGET_S", -1.0)
    monkeypatch.setattr(search_collect, "EMPTY_BUDGET_S", -1.0)
    assert db.ids("budget") == {word}
    assert db.ids("服务") == {cjk}
    monkeypatch.setattr(search_collect, "MIN_LIKE_SLICE_S", -1.0)
    monkeypatch.setattr(search_collect, "PROGRESS_OPS", 1)
    assert db.ids("服务") == set()  # the LIKE scan was interrupted at once: no hits, no error
    assert db.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 2  # handler removed
    monkeypatch.setattr(search_collect, "EMPTY_BUDGET_S", 10.0)  # while nothing is found, the scan goes on
    assert db.ids("服务") == {cjk}
    monkeypatch.undo()
    assert db.ids("服务") == {cjk}


def test_prefix_cost_estimate(tmp_path: Path) -> None:
    db = Store(tmp_path / "p.db")
    s = db.session("s")
    db.conn.execute("BEGIN")
    for i in range(300):
        db.msg(s, f"word{i} thing{i} other{i % 7}")
    db.conn.execute("COMMIT")
    q = search_collect._query(search_query._parse("thing* zz*"))
    assert 0 <= search_collect._prefix_pages(db.conn, q) < search_limits.PREFIX_PAGES_MAX
    assert search_collect._prefix_pages(db.conn, search_collect._query(search_query._parse("thing"))) == 0
    bare = Store(tmp_path / "bare.db", trigram=False)
    bare.drop_fts()
    assert search_collect._prefix_pages(bare.conn, q) == float("inf")


def test_long_substrings_use_a_few_trigrams_and_a_like_check(db: Store) -> None:
    s = db.session("s")
    hit = db.msg(s, "the discord relay fixture broke")
    db.msg(s, "relay the discord fixture")  # every trigram of the query, not in order
    assert search_query._sparse_trigrams("discord relay fixture") == ["dis", "d r", "y f", "ure"]
    assert search_query._sparse_trigrams("config") == ["con", "fig"]
    assert search_query._sparse_trigrams("abcd") == ["abc", "bcd"]
    assert [(h["id"], h["match"]) for h in db.search('"elay fixt"')] == [(hit, "trigram")]
    assert [h["id"] for h in db.search('"elay fixt" NOT broke')] == []
    assert [h["id"] for h in db.search('"elay fixt" OR zzzqqq')] == [hit]


def test_substrings_with_non_ascii_case_keep_the_exact_trigram_phrase(db: Store) -> None:
    s = db.session("s")
    hit = db.msg(s, "Привет, мир")
    assert search_query._trigram_candidates(search_query._parse("ИВЕТ")) == ('"ИВЕТ"', False)
    assert [(h["id"], h["match"]) for h in db.search("ИВЕТ")] == [(hit, "trigram")]
    assert [(h["id"], h["match"]) for h in db.search("ПРИВЕТ")] == [(hit, "fts")]
