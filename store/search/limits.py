"""Tuning constants of the search: time budgets, windows and caps (measured at 1M messages)."""


from __future__ import annotations

MAX_QUERY_CHARS = 2048
MAX_TERMS = 64  # FTS5 nests binary NOTs; keep the tree far below its depth limit (256)
TRIGRAM_MIN_CHARS = 3
RANK_CANDIDATES = 500  # newest word-route matches ranked by bm25 in "rank" order
RANK_POSTINGS = 50_000  # doclist entries bm25 may walk to count phrase frequencies (~4 ms)
DF_PROBE = 256  # how far back a token's DF_PROBE-th newest row lies tells how common it is
MAX_PROBES = 16
PREFIX_PAGES_MAX = 100  # index leaf pages a prefix query may merge (~0.1 ms each) before we verify instead
MAX_TRIGRAMS_PER_TERM = 4  # trigrams of a term looked up in the index; LIKE checks the rest
LIKE_SCAN_ROWS = 200_000  # most message ids a LIKE fallback examines
SEARCH_BUDGET_S = 0.025  # time for collecting matches; ranking and the page cost a few ms more
EMPTY_BUDGET_S = 0.035  # ... and while nothing at all was found (an empty page is cheap to build)
MAX_BUDGET_S = 600.0  # the longest budget a caller may ask for
MAX_WINDOW_S = 0.1  # longest a window of a newest-first scan is sized to take (long budgets only)
FALLBACK_BUDGET_S = 0.010  # a substring fallback that only adds to word hits
SNIPPET_BUDGET_S = 0.003  # FTS5 snippet() queries for the page; then snippets are made in Python
MIN_LIKE_SLICE_S = 0.005  # a LIKE scan always gets at least this long
PROGRESS_OPS = 2000  # SQLite VM steps between clock checks in a LIKE scan
FIRST_WINDOW = 4096  # rowids in the first window of a newest-first scan
MAX_WINDOW_GROWTH = 16
MIN_WINDOW = 256
MAX_IDS_PER_QUERY = 900  # bound variables per statement (old SQLite builds allow 999)
SNIPPET_CLUSTER_GAP = 4096  # page rowids closer than this share one snippet() query
VERIFY_TEXT_CHARS = 32_000  # text read per message to check a prefix match or make a snippet
VERIFY_BATCH = 512  # substring candidates fetched at a time for a prefix query
VERIFY_CHUNK = 64  # candidates checked between clock checks
CONTEXT_CHARS = 200
MAX_COUNT = 1_000_000_000  # limit, offset and cap are clamped to this
SNIPPET_TOKENS = 40  # unicode61 snippet length, in tokens (FTS5 allows up to 64)
SNIPPET_RADIUS = 40  # characters either side of the first hit in snippets made in Python
ELLIPSIS = "\u2026"  # marks elided text in snippets (one character, "…")

OPERATORS = frozenset({"AND", "OR", "NOT"})
# Characters that join word parts into one compound token: chat-send, v2.1, a@b.c, /usr/bin, C++.
CONNECTORS = frozenset("-._/:@+#")
_LIKE_OPS = {"AND": "AND", "OR": "OR", "NOT": "AND NOT"}

# Scripts unicode61 does not segment into words (it makes a whole run one token).
_UNSEGMENTED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Hangul compatibility Jamo, Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFFDC),  # half-width Katakana and Hangul
    (0x1B000, 0x1B16F),  # Kana supplement and extensions
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


