"""The sanitizer: any user text becomes a safe FTS5 (or trigram, or LIKE) query."""


from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .limits import _UNSEGMENTED_RANGES, CONNECTORS, MAX_QUERY_CHARS, MAX_TERMS, MAX_TRIGRAMS_PER_TERM, OPERATORS

# ── The sanitizer ────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class _Term:
    """One search term: emitted to unicode61 as a phrase of ``parts``; matched as ``raw`` by substring."""

    parts: tuple[str, ...]
    raw: str
    prefix: bool = False
    quoted: bool = False  # the user's own "phrase"

    @property
    def literal(self) -> bool:
        """True if ``raw`` holds characters unicode61 drops (``C++``, ``C#``, ``v2.1``, ``a_b``,
        ``"note: fix"``): the phrase of ``parts`` alone would be a different query ("C" finds
        "plain C code"), so it only selects candidates and ``raw`` must also appear in the text,
        case-insensitively (whitespace in a quoted phrase matching any whitespace)."""
        return " ".join(self.raw.split()) != " ".join(self.parts)


_Item = _Term | str  # a str item is an operator: AND, OR or NOT


@lru_cache(maxsize=16_384)
def _char_class(ch: str) -> str:
    """'w' token character (as unicode61 sees it), 'm' combining mark, 'c' connector, '*', or ' '."""
    if ch in CONNECTORS:
        return "c"
    if ch == "*":
        return "*"
    cat = unicodedata.category(ch)
    if cat[0] in "LN" or cat == "Co":
        return "w"
    if cat[0] == "M":
        return "m"
    return " "


def _word_parts(text: str) -> tuple[str, ...]:
    """The words unicode61 makes of ``text`` (runs of letters, digits and their marks)."""
    parts: list[str] = []
    cur: list[str] = []
    has_word = False
    for ch in text + " ":
        cls = _char_class(ch)
        if cls in "wm":
            cur.append(ch)
            has_word = has_word or cls == "w"
            continue
        if cur and has_word:  # a run of marks alone is no token
            parts.append("".join(cur))
        cur, has_word = [], False
    return tuple(parts)


def _clean(query: object) -> str:
    if not isinstance(query, str):
        return ""
    text = query[:MAX_QUERY_CHARS]
    # Lone surrogates cannot be bound; control characters (NUL ends an FTS5 string) are spaces.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)


def _unquoted_items(text: str) -> list[_Item]:
    """Terms and operators of text outside "quotes": runs of word, connector and * characters."""
    items: list[_Item] = []
    runs: list[str] = []
    cur: list[str] = []
    for ch in text + " ":
        if _char_class(ch) == " ":
            if cur:
                runs.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    for run in runs:
        pieces = run.split("*")
        for i, piece in enumerate(pieces):
            star = i < len(pieces) - 1  # a * right after this piece: prefix query
            body = piece.lstrip("".join(CONNECTORS))
            if body in OPERATORS and len(pieces) == 1 and body == piece:
                items.append(body)
                continue
            parts = _word_parts(body)
            if not parts:  # punctuation only, or a leading *
                continue
            # Keep a trailing + or # (C++, C#) for substring routes; drop trailing punctuation.
            raw = body.rstrip("-._/:@")
            items.append(_Term(parts=parts, raw=raw, prefix=star))
    return items


def _parse(query: object, *, prefix_last: bool = False) -> list[_Item]:
    """Terms and operators of ``query``; operators only ever stand between two terms."""
    text = _clean(query)
    raw_items: list[_Item] = []
    pos = 0
    while pos < len(text):
        start = text.find('"', pos)
        if start < 0:
            raw_items += _unquoted_items(text[pos:])
            break
        end = text.find('"', start + 1)
        if end < 0:  # a stray quote is a space
            raw_items += _unquoted_items(text[pos:start] + " " + text[start + 1 :])
            break
        raw_items += _unquoted_items(text[pos:start])
        inner = text[start + 1 : end]
        star = text[end + 1 : end + 2] == "*"
        parts = _word_parts(inner)
        if parts:
            raw_items.append(_Term(parts=parts, raw=" ".join(inner.split()), prefix=star, quoted=True))
        pos = end + 1 + (1 if star else 0)

    items: list[_Item] = []
    terms = 0
    for item in raw_items:
        if isinstance(item, str):
            if items and isinstance(items[-1], _Term):  # leading or doubled operators are dropped
                items.append(item)
        elif terms < MAX_TERMS:
            items.append(item)
            terms += 1
    while items and isinstance(items[-1], str):  # trailing operators are dropped
        items.pop()
    if prefix_last and items:
        last = items[-1]
        assert isinstance(last, _Term)
        if not last.quoted and not last.prefix:
            items[-1] = _Term(parts=last.parts, raw=last.raw, prefix=True)
    return items


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts_expr(items: Sequence[_Item]) -> str:
    """The unicode61 MATCH expression: every term one quoted phrase, so nothing parses as syntax."""
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        else:
            out.append(_fts_string(" ".join(item.parts)) + ("*" if item.prefix else ""))
    return " ".join(out)


def _candidate_fts_items(items: Sequence[_Item]) -> list[_Item]:
    """``items`` without the NOT clauses of literal terms: the unicode61 expression that finds every
    match (``a NOT C++`` must keep "a in plain C", which ``"a" NOT "C"`` would drop)."""
    out: list[_Item] = []
    skip = False
    for i, item in enumerate(items):
        if skip:
            skip = False
            continue
        if item == "NOT":
            nxt = items[i + 1] if i + 1 < len(items) else None
            if isinstance(nxt, _Term) and nxt.literal:
                skip = True
                continue
        out.append(item)
    return out


def _trigram_expr(items: Sequence[_Item]) -> str:
    """The trigram MATCH expression: every term its raw text, found as a substring of either column."""
    return " ".join(item if isinstance(item, str) else _fts_string(item.raw) for item in items)


def _sparse_trigrams(raw: str) -> list[str]:
    """A few trigrams of ``raw`` that together cover it (non-overlapping, the last one flush with
    its end), at most MAX_TRIGRAMS_PER_TERM spread evenly."""
    if len(raw) <= 3:
        return [raw]
    starts = list(range(0, len(raw) - 2, 3))
    if starts[-1] != len(raw) - 3:
        starts.append(len(raw) - 3)
    if len(starts) > MAX_TRIGRAMS_PER_TERM:
        k = MAX_TRIGRAMS_PER_TERM
        starts = [starts[round(i * (len(starts) - 1) / (k - 1))] for i in range(k)]
    out: list[str] = []
    for start in starts:
        tri = raw[start : start + 3]
        if tri.lower() not in (t.lower() for t in out):
            out.append(tri)
    return out


def _trigram_candidates(items: Sequence[_Item]) -> tuple[str, bool]:
    """The trigram MATCH expression, and whether its rows still need checking by LIKE.

    FTS5 evaluates a phrase of n trigrams by walking n doclists and comparing positions, which
    for a long term costs tens of ms per window. So each term becomes a few of its trigrams
    (AND), NOT clauses are left out, and the caller checks the real condition with LIKE. LIKE
    folds only ASCII case, so a term with other cased letters keeps the exact phrase expression.
    """
    terms = [item for item in items if isinstance(item, _Term)]
    if any(not ch.isascii() and ch.lower() != ch.upper() for t in terms for ch in t.raw):
        return _trigram_expr(items), False
    groups: list[str] = []
    for group in _or_groups(items):
        tokens: list[str] = []
        for term in _positive_terms(group):
            tokens += [_fts_string(tri) for tri in _sparse_trigrams(term.raw)]
        groups.append("(" + " ".join(tokens) + ")")
    return " OR ".join(groups), True


def sanitize_fts5_query(query: str, *, prefix_last: bool = False) -> str:
    """Turn any text into a safe FTS5 MATCH expression for ``messages_fts``, or "" if nothing is left.

    Balanced "phrases" are kept; a stray quote is a space. FTS5 syntax characters separate words,
    except that a compound joined by ``- . _ / : @ + #`` (``my-app.config.ts``, ``v2.1``,
    ``user@example.com``, ``C++``) becomes one phrase of its word parts, which unicode61 matches
    in the original text. Upper-case AND/OR/NOT between two terms stay operators; ``word*`` stays
    a prefix query; ``prefix_last`` makes the last term a prefix query (type-ahead).

    unicode61 cannot see the punctuation it drops, so for such a term (``C++`` becomes ``"C"``,
    ``v2.1`` ``"v2 1"``) this expression is only a candidate filter: ``search_messages`` also
    requires the term's own text in the message.
    """
    return _fts_expr(_parse(query, prefix_last=prefix_last))


def needs_trigram(query: str) -> bool:
    """True if ``query`` has characters of a script unicode61 does not split into words (CJK, Thai...)."""
    return isinstance(query, str) and any(_unsegmented(ch) for ch in query[:MAX_QUERY_CHARS])


def query_terms(query: str) -> list[str]:
    """The searchable terms of ``query`` as typed (operators dropped), e.g. for highlighting."""
    return [item.raw for item in _parse(query) if isinstance(item, _Term)]


def _unsegmented(ch: str) -> bool:
    code = ord(ch)
    return code >= 0x0E00 and any(lo <= code <= hi for lo, hi in _UNSEGMENTED_RANGES)


def _or_groups(items: Sequence[_Item]) -> list[list[_Item]]:
    groups: list[list[_Item]] = [[]]
    for item in items:
        if item == "OR":
            groups.append([])
        else:
            groups[-1].append(item)
    return groups


def _positive_terms(group: Sequence[_Item]) -> Iterator[_Term]:
    """The terms of one AND group that are not negated by a preceding NOT."""
    negated = False
    for item in group:
        if isinstance(item, str):
            negated = item == "NOT"
            continue
        if not negated:
            yield item
        negated = False


