"""Untrusted text made safe to show, and times made human.

Everything a model or a user wrote (content, titles, tool arguments and results) goes through
``safe()`` before it reaches a renderable: control characters, ESC/CSI/OSC sequences (an OSC 52
clipboard write, a title change), carriage returns and bidi overrides are replaced by visible
stand-ins, so nothing reaches the terminal but printable text. Build renderables with
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
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


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
    if not keep_newlines:
        s = s.replace("\n", " ")
    s = _CONTROL.sub(_control_picture, s)
    return _BIDI.sub("", s)


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
