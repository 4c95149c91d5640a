"""MessageView parts turned into Rich renderables, safely.

Every function here takes raw model/user text, passes it through ``safe()`` and builds renderables
from the result (``Text``, ``Markdown`` without hyperlinks, ``Syntax``), never from markup strings.
Bodies are cut at ``MAX_BODY_CHARS`` with a "… N more characters" note.

``Guarded`` wraps a renderable factory: it builds the renderable on first render, renders it at most
once per width (Textual renders a Static twice: to measure its height, then to draw it), paints the
search terms, and falls back to plain text if the renderable raises, so a hostile message can never
put a traceback on screen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markdown import Markdown
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text

from tui.data import MessageView, ToolCall
from tui.text import one_line, safe

MAX_BODY_CHARS = 20_000
"""Bodies longer than this are cut (at a line end when one is near) with a note."""
CODE_THEME = "monokai"
HIT_STYLE = Style(color="black", bgcolor="#e5c07b", bold=True)
ARG_VALUE_CHARS = 48
SUMMARY_CHARS = 200

_ANSI_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_FTS_WORDS = frozenset({"AND", "OR", "NOT", "NEAR"})
_STRIP_HEAD = "\"'(^+-"
_STRIP_TAIL = "\"')*"


# ── search terms ─────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Terms:
    """The words of a search query, matched case-insensitively as substrings.

    A message matches when it holds every word (FTS5's implicit AND), or any word when the query
    said OR. Highlighting paints every occurrence of any word.
    """

    words: tuple[str, ...]
    any_word: bool
    pattern: re.Pattern[str]

    @classmethod
    def parse(cls, query: str | None) -> Terms | None:
        if not query:
            return None
        words: list[str] = []
        seen: set[str] = set()
        any_word = False
        for token in safe(query, keep_newlines=False).split():
            if token in _FTS_WORDS:
                any_word = any_word or token == "OR"
                continue
            if token.startswith("NEAR("):
                token = token[5:]
            if ":" in token.strip(_STRIP_HEAD) and not token.startswith('"'):
                token = token.split(":", 1)[1]  # a column filter (content:word)
            word = token.lstrip(_STRIP_HEAD).rstrip(_STRIP_TAIL).strip("\"'")
            if word and word.lower() not in seen:
                seen.add(word.lower())
                words.append(word)
        if not words:
            return None
        words = words[:16]
        ordered = sorted(words, key=len, reverse=True)  # longest first in the alternation
        pattern = re.compile("|".join(re.escape(w) for w in ordered), re.IGNORECASE)
        return cls(tuple(words), any_word, pattern)

    def matches(self, text: str | None) -> bool:
        if not text:
            return False
        low = text.lower()
        check = any if self.any_word else all
        return check(w.lower() in low for w in self.words)

    def found_in(self, text: str | None) -> bool:
        """Whether any word occurs (for marking a fold that holds a hit)."""
        return bool(text) and self.pattern.search(text) is not None  # type: ignore[arg-type]

    def paint(self, text: Text) -> Text:
        text.highlight_regex(self.pattern, HIT_STYLE)
        return text


def searchable_text(message: MessageView) -> str:
    """All the text of a message a search can match: content, reasoning, tool calls."""
    parts: list[str] = [message.content or "", message.reasoning or "", message.tool_name or ""]
    for call in message.tool_calls:
        parts += [call.name, call.arguments]
    if message.tool_calls_raw:
        parts.append(message.tool_calls_raw)
    return "\n".join(parts)


# ── cutting and counting ─────────────────────────────────────────────────────────────────────


def clip(text: str, limit: int = MAX_BODY_CHARS) -> tuple[str, int]:
    """``text`` cut to about ``limit`` characters (at a line end when one is close), and how many
    characters were left out."""
    if len(text) <= limit:
        return text, 0
    cut = text.rfind("\n", max(0, limit - 2_000), limit)
    if cut <= 0:
        cut = limit
    return text[:cut], len(text) - cut


def more_note(left_out: int) -> Text:
    return Text(f"… {left_out:,} more characters", style="dim italic")


def count_words(text: str | None) -> int:
    return len(text.split()) if text else 0


def count_lines(text: str | None) -> int:
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


# ── bodies ───────────────────────────────────────────────────────────────────────────────────


def markdown_body(text: str) -> RenderableType:
    """Message content: Markdown with highlighted code, links shown as text (no OSC 8)."""
    shown, left_out = clip(text)
    md = Markdown(safe(shown.strip("\n")), code_theme=CODE_THEME, hyperlinks=False, inline_code_theme=CODE_THEME)
    return Group(md, more_note(left_out)) if left_out else md


def reasoning_body(text: str) -> RenderableType:
    shown, left_out = clip(text)
    body = Text(safe(shown.rstrip()), style="dim italic")
    return Group(body, more_note(left_out)) if left_out else body


def pretty_json(raw: str) -> str | None:
    """``raw`` re-indented when it is a JSON object or array; None when it is not JSON (or too
    deep to re-encode)."""
    stripped = raw.lstrip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        parsed = json.loads(raw)
        return json.dumps(parsed, indent=2, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError, MemoryError):
        return None


def json_syntax(text: str) -> RenderableType:
    shown, left_out = clip(text)
    syntax = Syntax(safe(shown), "json", theme=CODE_THEME, word_wrap=True, padding=(0, 1))
    return Group(syntax, more_note(left_out)) if left_out else syntax


def arguments_body(call: ToolCall) -> RenderableType:
    """A tool call's arguments: pretty, highlighted JSON, or the raw text if it is not JSON."""
    raw = call.arguments or ""
    if not raw.strip():
        return Text("(no arguments)", style="dim italic")
    pretty = pretty_json(raw)
    if pretty is not None:
        return json_syntax(pretty)
    shown, left_out = clip(raw)
    body = Text(safe(shown))
    return Group(body, more_note(left_out)) if left_out else body


def result_body(text: str | None) -> RenderableType:
    """A tool result: pretty JSON when it is JSON, else the text as is (colour codes dropped)."""
    if not text:
        return Text("(empty result)", style="dim italic")
    if len(text) <= 4 * MAX_BODY_CHARS:
        pretty = pretty_json(text)
        if pretty is not None:
            return json_syntax(pretty)
    shown, left_out = clip(text)
    body = Text(safe(_ANSI_SGR.sub("", shown.rstrip())))
    return Group(body, more_note(left_out)) if left_out else body


def raw_calls_body(raw: str) -> RenderableType:
    shown, left_out = clip(raw)
    body = Text(safe(shown))
    return Group(body, more_note(left_out)) if left_out else body


# ── one-line summaries ───────────────────────────────────────────────────────────────────────


def _short_value(value: Any) -> str:
    if isinstance(value, str):
        value = value[: ARG_VALUE_CHARS * 4]
    try:
        dumped = json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        dumped = "…"
    return one_line(dumped[: ARG_VALUE_CHARS * 4], ARG_VALUE_CHARS)


def call_arguments_line(call: ToolCall) -> str:
    """``query="cats", limit=5``: a call's arguments on one line, each value cut short."""
    raw = call.arguments or ""
    if not raw.strip():
        return ""
    parsed = call.parsed_arguments() if len(raw) <= 4 * MAX_BODY_CHARS else None
    if isinstance(parsed, dict):
        parts = [f"{one_line(str(k)[:64])}={_short_value(v)}" for k, v in list(parsed.items())[:12]]
        return one_line(", ".join(parts), SUMMARY_CHARS)
    if parsed is not None:
        return _short_value(parsed)
    return one_line(raw[: SUMMARY_CHARS * 4], SUMMARY_CHARS)


def call_summary(call: ToolCall) -> Text:
    """``web_search(query="…")``."""
    return Text.assemble(
        (one_line(call.name, 80) or "tool", "bold"), ("(", "dim"), call_arguments_line(call), (")", "dim")
    )


def first_line(text: str | None, width: int = 80) -> str:
    if not text:
        return ""
    head = text[:2_000].lstrip()
    head = _ANSI_SGR.sub("", head.split("\n", 1)[0])
    return one_line(head, width)


# ── the guard ────────────────────────────────────────────────────────────────────────────────


def _paint_line(line: list[Segment], spans: list[tuple[int, int]], style: Style) -> list[Segment]:
    """Split the segments of one rendered line at ``spans`` (character offsets) and add ``style``."""
    out: list[Segment] = []
    pos = 0
    for seg in line:
        text, seg_style, control = seg
        if control or not text:
            out.append(seg)
            continue
        start, end = pos, pos + len(text)
        pos = end
        inside = [(max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start]
        if not inside:
            out.append(seg)
            continue
        marked = seg_style + style if seg_style else style
        cursor = 0
        for a, b in inside:
            if a > cursor:
                out.append(Segment(text[cursor:a], seg_style))
            out.append(Segment(text[a:b], marked))
            cursor = b
        if cursor < len(text):
            out.append(Segment(text[cursor:], seg_style))
    return out


class Guarded:
    """A renderable built lazily, rendered once per width, painted with search hits, never raising.

    ``fallback`` is the plain text shown if building or rendering the real renderable fails.
    """

    def __init__(
        self,
        factory: Callable[[], RenderableType],
        *,
        fallback: str = "",
        terms: Terms | None = None,
    ) -> None:
        self._factory = factory
        self._fallback = fallback
        self._terms = terms
        self._renderable: RenderableType | None = None
        self._cache: dict[int, list[list[Segment]]] = {}

    def _build(self) -> RenderableType:
        if self._renderable is None:
            try:
                self._renderable = self._factory()
            except Exception:
                self._renderable = self._fallback_text()
        return self._renderable

    def _fallback_text(self) -> Text:
        shown, left_out = clip(self._fallback)
        text = Text(safe(shown) or "(could not render this part)", style="dim")
        if left_out:
            text.append(f"\n… {left_out:,} more characters", style="dim italic")
        return text

    def prerender(self, console: Console, options: ConsoleOptions) -> None:
        """Render now (e.g. in a worker thread) so drawing at this width later costs nothing."""
        self._lines(console, options)

    def _lines(self, console: Console, options: ConsoleOptions) -> list[list[Segment]]:
        width = options.max_width
        lines = self._cache.get(width)
        if lines is not None:
            return lines
        opts = options.update(height=None)
        try:
            lines = console.render_lines(self._build(), opts, pad=False)
        except Exception:
            self._renderable = self._fallback_text()
            lines = console.render_lines(self._renderable, opts, pad=False)
        if self._terms is not None:
            lines = [self._paint(line) for line in lines]
        if len(self._cache) > 2:
            self._cache.clear()
        self._cache[width] = lines
        return lines

    def _paint(self, line: list[Segment]) -> list[Segment]:
        assert self._terms is not None
        plain = "".join(seg.text for seg in line if not seg.control)
        spans = [m.span() for m in self._terms.pattern.finditer(plain) if m.end() > m.start()]
        return _paint_line(line, spans, HIT_STYLE) if spans else line

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        new_line = Segment.line()
        for line in self._lines(console, options):
            yield from line
            yield new_line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, options.max_width)


def guarded(
    factory: Callable[[], RenderableType], fallback: str | None, terms: Terms | None
) -> Guarded:
    return Guarded(factory, fallback=fallback or "", terms=terms)


def join_nonempty(parts: Iterable[str], sep: str = " · ") -> str:
    return sep.join(p for p in parts if p)
