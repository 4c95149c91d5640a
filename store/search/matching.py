"""Matching text in Python: prefix verification and snippets made without FTS5."""


from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

from .limits import ELLIPSIS, SNIPPET_RADIUS
from .query import _Item, _Term

# ── Matching text in Python: prefix verification and snippets ────────────────────────────────

# unicode61 tokens, near enough: runs of letters and digits, case-folded, Latin diacritics removed.
_TOKEN_RE = re.compile(r"[^\W_]+")


def _fold(token: str) -> str:
    token = token.lower()
    if token.isascii():
        return token
    return "".join(ch for ch in unicodedata.normalize("NFD", token) if not unicodedata.combining(ch))


def _term_tokens(term: _Term) -> tuple[str, ...]:
    return tuple(_fold(tok) for part in term.parts for tok in _TOKEN_RE.findall(part))


@lru_cache(maxsize=256)
def _term_regex(tokens: tuple[str, ...], prefix: bool) -> re.Pattern[str]:
    """The term's tokens at word boundaries, any separators between them, case-insensitive."""
    body = r"[\W_]+".join(re.escape(tok) for tok in tokens)
    tail = r"[^\W_]*" if prefix else r"(?![^\W_])"  # a prefix match spans the whole word
    return re.compile(r"(?<![^\W_])" + body + tail, re.IGNORECASE)


def _token_spans(want: tuple[str, ...], prefix: bool, tokens: list[tuple[str, int, int]]) -> list[tuple[int, int]]:
    """Where ``want`` occurs as consecutive tokens (the last one maybe a prefix)."""
    n = len(want)
    spans = []
    for i in range(len(tokens) - n + 1):
        last = tokens[i + n - 1][0]
        if not (last.startswith(want[-1]) if prefix else last == want[-1]):
            continue
        if all(tokens[i + j][0] == want[j] for j in range(n - 1)):
            spans.append((tokens[i][1], tokens[i + n - 1][2]))
    return spans


@lru_cache(maxsize=256)
def _literal_regex(raw: str, prefix: bool) -> re.Pattern[str]:
    """A literal term's own text, case-insensitive, any whitespace for a space; a prefix spans its word."""
    body = r"\s+".join(re.escape(piece) for piece in raw.split())
    return re.compile(body + (r"[^\W_]*" if prefix else ""), re.IGNORECASE)


def _substring_spans(term: _Term, text: str) -> list[tuple[int, int]]:
    pattern = re.compile(re.escape(term.raw), re.IGNORECASE)
    return [m.span() for m in pattern.finditer(text)]


def _evaluate(items: Sequence[_Item], spans_of: Callable[[_Term], list[tuple[int, int]]]) -> list | None:
    """None if the text does not match ``items`` (FTS5 precedence: NOT, then AND, then OR);
    else the spans of the positive terms of the groups that matched."""
    groups: list[list[tuple[bool, _Term]]] = [[]]
    negate = False
    for item in items:
        if item == "OR":
            groups.append([])
        elif item == "NOT":
            negate = True
        elif isinstance(item, _Term):
            groups[-1].append((negate, item))
            negate = False
    matched = False
    spans: list[tuple[int, int]] = []
    for group in groups:
        found: list[tuple[int, int]] = []
        for negated, term in group:
            term_spans = spans_of(term)
            if negated == bool(term_spans):
                break
            found += term_spans
        else:
            matched = True
            spans += found
    return spans if matched else None


def _word_match(items: Sequence[_Item], text: str) -> list | None:
    """``items`` matched against ``text`` as unicode61 would: words, phrases, prefixes; a literal
    term (``C++``, ``v2.1``) also needs its own text there (its spans are then that text)."""
    folded: list[tuple[str, int, int]] | None = None

    def spans_of(term: _Term) -> list[tuple[int, int]]:
        nonlocal folded
        want = _term_tokens(term)
        if not want:
            return []
        spans = [m.span() for m in _term_regex(want, term.prefix).finditer(text)]
        if not spans and not text.isascii():
            if folded is None:  # unicode61 also matches "cafe" in "café": fold and compare tokens
                folded = [(_fold(m.group()), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]
            spans = _token_spans(want, term.prefix, folded)
        if spans and term.literal:  # C++, v2.1: the words and the text as typed
            return [m.span() for m in _literal_regex(term.raw, term.prefix).finditer(text)]
        return spans

    return _evaluate(items, spans_of)


def _substring_match(items: Sequence[_Item], text: str) -> list | None:
    return _evaluate(items, lambda term: _substring_spans(term, text))


def _mark(text: str, spans: list[tuple[int, int]], markers: tuple[str, str]) -> str:
    """A snippet of ``text`` around its first span, every span inside it between the markers."""
    if not spans:
        return text[: 2 * SNIPPET_RADIUS] + (ELLIPSIS if len(text) > 2 * SNIPPET_RADIUS else "")
    spans = sorted(set(spans))
    first_start, first_end = spans[0]
    start = max(0, first_start - SNIPPET_RADIUS)
    stop = min(len(text), first_end + SNIPPET_RADIUS)
    out: list[str] = [ELLIPSIS if start > 0 else ""]
    pos = start
    for a, b in spans:
        if a < pos or b > stop:
            continue
        out += [text[pos:a], markers[0], text[a:b], markers[1]]
        pos = b
    out += [text[pos:stop], ELLIPSIS if stop < len(text) else ""]
    return "".join(out)


