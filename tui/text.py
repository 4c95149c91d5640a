"""Untrusted text made safe to show, and times made human.

Everything a model or a user wrote (content, titles, tool arguments and results) goes through
``safe()`` before it reaches a renderable: ESC/CSI/OSC/DCS sequences (an OSC 52 clipboard write, a
title change), in 7-bit or 8-bit (C1) form, become U+FFFD; other control characters (NUL, BEL,
backspace, a lone carriage return…) become visible control pictures (␀ ␇ ␈ ␍); tabs are expanded,
U+2028/U+2029 become newlines, bidi overrides and invisible format characters are dropped, lone
surrogates become U+FFFD. Nothing reaches the terminal but printable text and ``\n``
(``UNSAFE_TERMINAL`` is the set that never does; the hostile-input fuzz tests check it). Build renderables with
``rich.text.Text`` / ``textual.content.Content`` from the result, never with markup strings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# ESC-introduced sequences (CSI, OSC, DCS, APC, PM, SOS and two-byte escapes), whole.
_ESCAPE_SEQ = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[@-Z\\-_])"
)
# C1 controls introduce the same sequences in 8-bit form (\x9b = CSI, \x9d = OSC).
_C1_SEQ = re.compile(r"[\x90\x98\x9d\x9e\x9f][^\x07\x9c]*(?:\x07|\x9c)?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi marks, embeddings, overrides and isolates (they reorder the rest of the terminal line), and
# invisible characters with no meaning on a terminal (zero-width space, word joiner and invisible
# operators, BOM, deprecated format controls, interlinear annotations). ZWJ/ZWNJ stay: emoji and
# scripts need them.
_INVISIBLE = re.compile(
    r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b\u2060-\u2064\u206a-\u206f\ufeff\u180e\ufff9-\ufffb]"
)
_LINE_SEPARATORS = re.compile(r"[\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

UNSAFE_TERMINAL = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""What ``safe()`` output never holds: C0 controls but ``\\n`` (tabs are expanded), DEL, C1 controls,
bidi marks, embeddings, overrides and isolates, line/paragraph separators, lone surrogates."""


def _control_picture(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ ␁ … ␟ (Unicode control pictures)
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def safe(text: object, *, keep_newlines: bool = True, tab: str = "    ") -> str:
    """Neutralize control and escape sequences; keep newlines (or not) and expand tabs."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if _SURROGATE.search(s):
        s = _SURROGATE.sub("\ufffd", s)
    s = _ESCAPE_SEQ.sub("\ufffd", s)
    s = _C1_SEQ.sub("\ufffd", s)
    s = s.replace("\r\n", "\n").replace("\t", tab)
    if "\u2028" in s or "\u2029" in s:
        s = _LINE_SEPARATORS.sub("\n", s)
    if not keep_newlines:
        s = s.replace("\n", " ")
    s = _CONTROL.sub(_control_picture, s)
    return _INVISIBLE.sub("", s)


def one_line(text: object, width: int | None = None) -> str:
    """Safe, single-line, whitespace collapsed, cut to ``width`` with an ellipsis."""
    s = " ".join(safe(text, keep_newlines=False).split())
    if width is not None and len(s) > width:
        return s[: max(0, width - 1)] + "…"
    return s


def relative_time(ts: float | None, now: datetime) -> str:
    """just now, 5m ago, 3h ago, yesterday, 3d ago, then the date (in ``now``'s timezone)."""
    if ts is None:
        return "—"
    tz = now.tzinfo or UTC
    then = datetime.fromtimestamp(float(ts), tz)
    delta = now - then
    if delta < timedelta(seconds=0):
        return then.strftime("%Y-%m-%d")  # from the future (a jumped clock): be literal
    if delta < timedelta(minutes=1):
        return "just now"
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60)}m ago"
    if delta < timedelta(hours=24) and then.date() == now.date():
        return f"{int(delta.total_seconds() // 3600)}h ago"
    if then.date() == (now - timedelta(days=1)).date():
        return "yesterday"
    if delta < timedelta(hours=24):
        return f"{int(delta.total_seconds() // 3600)}h ago"
    if delta < timedelta(days=7):
        return f"{max(2, delta.days)}d ago"
    if then.year == now.year:
        return then.strftime("%b %d")
    return then.strftime("%Y-%m-%d")


def absolute_time(ts: float | None, now: datetime) -> str:
    if ts is None:
        return "—"
    tz = now.tzinfo or UTC
    return datetime.fromtimestamp(float(ts), tz).strftime("%Y-%m-%d %H:%M")


def human_count(n: int | float | None) -> str:
    if not n:
        return "0"
    n = float(n)
    for unit in ("", "k", "M", "B"):
        if abs(n) < 1000:
            return f"{n:.0f}{unit}" if unit == "" or n >= 100 else f"{n:.1f}{unit}"
        n /= 1000
    return f"{n:.1f}T"


def money(usd: float | None) -> str:
    if usd is None:
        return "—"
    return f"${usd:,.4f}" if usd < 1 else f"${usd:,.2f}"
