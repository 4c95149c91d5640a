"""store.search.search_page: whether a search looked at every message, and a longer budget.

A search collects matches newest first under a time budget; when the budget runs out (or a LIKE
scan reaches LIKE_SCAN_ROWS) before the page is full, ``complete`` is False, and the same query
with a longer ``budget_s`` finds the rest.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

import store
from store import SearchPage, SessionDB
from store.search import collect as search_collect
from store.search import search_messages, search_page
from tests.test_search import Store

N_MESSAGES = 12_000  # about three first windows (FIRST_WINDOW rowids) of the newest-first scan
EVERY = 1_000  # one message in EVERY holds the rare words


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, set[int], set[int]]]:
    """N_MESSAGES messages; "needle" (and the short CJK word 服务) in one of every EVERY."""
    db = Store(tmp_path_factory.mktemp("complete") / "state.db")
    s = db.session("s", title="big")
    needles: set[int] = set()
    cjk: set[int] = set()
    db.conn.execute("BEGIN")
    for i in range(N_MESSAGES):
        if i % EVERY == 7:
            needles.add(db.msg(s, f"filler words and a needle in the haystack number {i}"))
        elif i % EVERY == 500:
            cjk.add(db.msg(s, f"请检查服务端 {i}"))
        else:
            db.msg(s, f"filler words of message number {i} about nothing much")
    db.conn.execute("COMMIT")
    db.index_new_rows()
    yield db, needles, cjk
    db.conn.close()


def no_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default budget is gone at once: every scan stops after its first window."""
    monkeypatch.setattr(search_collect, "SEARCH_BUDGET_S", -1.0)
    monkeypatch.setattr(search_collect, "EMPTY_BUDGET_S", -1.0)


def ids(page: SearchPage) -> set[int]:
    return {h["id"] for h in page.hits}


@pytest.mark.parametrize("order", ["rank", "newest"])
def test_a_search_cut_by_its_budget_says_so_and_a_longer_budget_finds_all(
    big: tuple[Store, set[int], set[int]], monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    db, needles, _ = big
    no_budget(monkeypatch)
    cut = search_page(db.conn, "needle", limit=50, order=order)
    assert cut.complete is False
    assert ids(cut) and ids(cut) < needles  # the newest few: a proper subset
    assert min(ids(cut)) > min(needles)
    full = search_page(db.conn, "needle", limit=50, order=order, budget_s=5)
    assert full.complete is True
    assert ids(full) == needles
    # search_messages is the default-budget page, cut or not
    assert [h["id"] for h in search_messages(db.conn, "needle", limit=50, order=order)] == [
        h["id"] for h in cut.hits
    ]


def test_a_full_page_is_complete_even_when_the_budget_ran_out(
    big: tuple[Store, set[int], set[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _, _ = big
    no_budget(monkeypatch)
    page = search_page(db.conn, "filler", limit=20, order="newest")
    assert len(page.hits) == 20 and page.complete is True


def test_a_verified_prefix_search_cut_by_its_budget_says_so(
    big: tuple[Store, set[int], set[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, needles, _ = big
    monkeypatch.setattr(search_collect, "PREFIX_PAGES_MAX", -1)  # candidates checked in Python
    monkeypatch.setattr(search_collect, "VERIFY_BATCH", 2)
    monkeypatch.setattr(search_collect, "VERIFY_CHUNK", 1)
    no_budget(monkeypatch)
    cut = search_page(db.conn, "needl", prefix=True, limit=50)
    assert cut.complete is False and ids(cut) < needles
    full = search_page(db.conn, "needl", prefix=True, limit=50, budget_s=5)
    assert full.complete is True and ids(full) == needles


def test_a_like_scan_stopped_at_its_row_limit_is_incomplete_until_given_a_longer_budget(
    big: tuple[Store, set[int], set[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _, cjk = big
    monkeypatch.setattr(search_collect, "LIKE_SCAN_ROWS", 2_500)  # two characters: a LIKE scan
    cut = search_page(db.conn, "服务", limit=50)
    assert cut.complete is False
    assert {h["match"] for h in cut.hits} == {"like"}
    assert ids(cut) == {i for i in cjk if i > N_MESSAGES - 2_500}
    full = search_page(db.conn, "服务", limit=50, budget_s=5)  # 200x the budget: 200x the rows
    assert full.complete is True and ids(full) == cjk
    # the page was full within the rows scanned: nothing older could be on it
    assert search_page(db.conn, "服务", limit=1, order="newest").complete is True


def test_a_like_scan_cut_by_its_budget_is_incomplete(
    big: tuple[Store, set[int], set[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _, cjk = big
    no_budget(monkeypatch)
    monkeypatch.setattr(search_collect, "MIN_LIKE_SLICE_S", -1.0)
    monkeypatch.setattr(search_collect, "PROGRESS_OPS", 1)
    cut = search_page(db.conn, "服务", limit=50)
    assert cut.complete is False and ids(cut) < cjk
    full = search_page(db.conn, "服务", limit=50, budget_s=5)
    assert full.complete is True and ids(full) == cjk


def test_ordinary_searches_on_a_small_database_are_complete(tmp_path: Path) -> None:
    db = Store(tmp_path / "small.db")
    s = db.session("s")
    hit = db.msg(s, "the kubernetes upgrade shipped")
    cjk = db.msg(s, "请帮我修改服务端的配置")
    db.msg(s, "something else")
    db.index_new_rows()
    for query, kw, expected in [
        ("kubernetes", {}, {hit}),
        ("kube", {"prefix": True}, {hit}),
        ("ubernet", {}, {hit}),  # the substring fallback
        ("服务端", {}, {cjk}),  # trigram
        ("服务", {}, {cjk}),  # LIKE
        ("nothing-here", {}, set()),
        ("", {}, set()),
    ]:
        page = search_page(db.conn, query, **kw)
        assert page.complete is True, query
        assert ids(page) == expected, query
        assert page.hits == search_messages(db.conn, query, **kw)


@pytest.mark.parametrize("budget", [0, -3, math.nan, math.inf, "junk", None, 1e300])
def test_odd_budgets_never_raise(big: tuple[Store, set[int], set[int]], budget: object) -> None:
    db, needles, _ = big
    page = search_page(db.conn, "needle", limit=50, budget_s=budget)  # type: ignore[arg-type]
    assert ids(page) <= needles
    assert search_collect._budget(budget) <= search_collect.MAX_BUDGET_S


def test_session_db_search_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert store.SearchPage is SearchPage and "SearchPage" in store.__all__
    with SessionDB(tmp_path / "state.db") as d:
        d.create_session("A", "cli")
        first = d.append_message("A", "user", "alpha needle one")
        second = d.append_message("A", "assistant", "beta needle two")
        d.append_message("A", "user", "gamma")
        page = d.search_page("needle", order="newest")
        assert isinstance(page, SearchPage) and page.complete is True
        assert [h["id"] for h in page.hits] == [second, first]
        assert page.hits == d.search_messages("needle", order="newest")
        assert d.search_page("needle", source_filter=["nope"]).hits == []
        assert d.search_page("needle", role_filter=["user"], budget_s=2).hits[0]["id"] == first
        with pytest.raises(AttributeError):
            page.complete = False  # type: ignore[misc]


def test_search_messages_keeps_its_signature() -> None:
    import inspect

    assert list(inspect.signature(SessionDB.search_messages).parameters) == [
        "self", "query", "source_filter", "exclude_sources", "role_filter", "limit", "offset",
        "order", "prefix", "snippet_markers",
    ]
    assert list(inspect.signature(search_messages).parameters) == [
        "conn", "query", "source_filter", "exclude_sources", "role_filter", "limit", "offset",
        "order", "prefix", "snippet_markers", "caps",
    ]
    assert inspect.signature(search_messages).return_annotation in ("list[dict[str, Any]]", list)


def test_a_cancelled_long_search_stops_at_once(big: tuple[Store, set[int], set[int]]) -> None:
    import threading
    import time

    db, needles, cjk = big
    cancel = threading.Event()
    cancel.set()
    started = time.perf_counter()
    page = search_page(db.conn, "needle", limit=50, budget_s=60, cancel=cancel)
    assert page.complete is False and ids(page) < needles
    page = search_page(db.conn, "服务", limit=50, budget_s=60, cancel=cancel)
    assert page.complete is False and ids(page) < cjk
    assert time.perf_counter() - started < 5
