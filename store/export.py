"""Export: one session as a dict, every session as a stream, JSONL written atomically.

``iter_export`` reads one session and its messages at a time (keyset over session ids), so an
export of any size runs at constant memory. ``write_jsonl`` writes to a temporary file (0600)
beside the destination and renames it into place only when complete; a failure or a
cancellation leaves nothing behind (a write error such as ENOSPC names the destination). It also
accepts an open text file object; an existing FIFO or character device is written in place.
"""

from __future__ import annotations

import html
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

from .sqlutil import json_escape_unsafe

PRIVATE_FILE_MODE = 0o600


class ExportCancelled(Exception):
    """Raised inside ``write_jsonl`` when ``should_cancel()`` turns true; nothing is left behind."""


def dumps_line(record: dict[str, Any]) -> str:
    """One JSONL line; characters a terminal could act on (C1, bidi…) are escaped (lossless)."""
    return json_escape_unsafe(json.dumps(record, ensure_ascii=False, default=str)) + "\n"


def atomic_write(
    dest: Path,
    write: Callable[[IO[str]], int],
    *,
    overwrite: bool = True,
) -> int:
    """Write a private file atomically: temp file 0600 in the same folder, fsync, rename.

    ``write(fh)`` returns a count that is passed back. Any exception (including cancellation)
    removes the temporary file and leaves ``dest`` as it was.
    """
    dest = Path(dest)
    if dest.exists() and not overwrite:
        raise FileExistsError(f"{dest} already exists")
    if _is_stream(dest):
        return _write_stream(dest, write)
    folder = dest.parent if str(dest.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                count = write(fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            _raise_naming(exc, dest)
        if not overwrite and dest.exists():
            raise FileExistsError(f"{dest} already exists")
        os.replace(tmp, dest)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    return count


def _is_stream(dest: Path) -> bool:
    """An existing FIFO or character device (``/dev/stdout``, ``/dev/full``, a pipe from ``>(gzip)``):
    written in place. Renaming a temporary file over it would replace the device node or the pipe
    with a regular file (and, run as root, break ``/dev/null`` for everyone)."""
    try:
        mode = dest.stat().st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _write_stream(dest: Path, write: Callable[[IO[str]], int]) -> int:
    try:
        with open(dest, "w", encoding="utf-8", newline="\n") as fh:
            count = write(fh)
            fh.flush()
    except OSError as exc:
        _raise_naming(exc, dest)
    return count


def _raise_naming(exc: OSError, dest: Path) -> NoReturn:
    """Re-raise ``exc`` naming the destination when it names no file (a failed write or fsync says
    only "No space left on device"), so the caller can say which export failed."""
    if exc.filename is not None or exc.errno is None:
        raise exc
    raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(dest)) from exc


def write_records(
    fh: IO[str],
    records: Iterator[dict[str, Any]],
    *,
    total: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    render: Callable[[dict[str, Any]], str] = dumps_line,
    separator: str = "",
) -> int:
    """Stream ``records`` to ``fh`` one at a time (JSONL by default). Checks ``should_cancel``
    before each record and raises ExportCancelled; reports ``progress(done, total)``."""
    written = 0
    for record in records:
        if should_cancel is not None and should_cancel():
            raise ExportCancelled("export cancelled")
        if written and separator:
            fh.write(separator)
        fh.write(render(record))
        written += 1
        if progress is not None:
            progress(written, total)
    return written


# ── Markdown transcripts ─────────────────────────────────────────────────────────────────────

_MD_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _clean(text: object) -> str:
    """Keep newlines and tabs; replace other control characters (ESC, OSC, NUL…) and bidi
    controls (a "Trojan source" override) with U+FFFD, so a transcript printed with ``cat`` or
    shown in an editor cannot drive the terminal or reorder text. Lone surrogates become U+FFFD,
    U+2028/U+2029 newlines. Message content is Markdown and is written as such (HTML in it too);
    reasoning, tool results and arguments are fenced longer than any backtick run inside."""
    s = "" if text is None else str(text)
    s = s.replace("\r\n", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _MD_CONTROL.sub("\ufffd", s)


def _line(text: object) -> str:
    """A single-line field (title, id, role, tool name): cleaned, on one line."""
    return " ".join(_clean(text).split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(body: str, lang: str = "") -> str:
    """A fenced block whose fence is longer than any backtick run inside ``body``."""
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{body}\n{ticks}"


def _html(text: str) -> str:
    return html.escape(text, quote=False)


def _stamp(ts: object) -> str:
    try:
        return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return "—"


def _pretty_args(arguments: object) -> str:
    if isinstance(arguments, str):
        try:
            return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            return arguments
    return json.dumps(arguments, indent=2, ensure_ascii=False, default=str)


def _tool_calls(value: object) -> list[tuple[str, str]]:
    if not value:
        return []
    if isinstance(value, str):
        return [("tool_calls (not JSON)", value)]
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            fn = item.get("function") if isinstance(item.get("function"), dict) else item
            out.append((str(fn.get("name") or "tool"), _pretty_args(fn.get("arguments", ""))))
        else:
            out.append(("tool", json.dumps(item, ensure_ascii=False, default=str)))
    return out


def session_markdown(record: dict[str, Any]) -> str:
    """A readable transcript of one exported session: a metadata header, then messages by role;
    reasoning, tool calls (pretty JSON) and tool results in collapsible ``<details>`` sections."""
    title = _line(record.get("title") or record.get("id"))
    lines = [f"# {title}", ""]
    meta = [
        ("Session", f"`{_line(record.get('id'))}`"),
        ("Source", _clean(record.get("source"))),
        ("Model", _clean(record.get("model") or "—")),
        ("Started", _stamp(record.get("started_at"))),
        ("Ended", _stamp(record.get("ended_at")) + (
            f" ({_clean(record.get('end_reason'))})" if record.get("end_reason") else "")
         if record.get("ended_at") else "— (active)"),
        ("Parent", f"`{_clean(record['parent_session_id'])}`" if record.get("parent_session_id") else "—"),
        ("Messages", str(record.get("message_count") or len(record.get("messages") or []))),
        ("Tokens", "in {} · out {} · cache read {} · cache write {} · reasoning {}".format(
            *(int(record.get(k) or 0) for k in (
                "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")))),
    ]
    cost = record.get("actual_cost_usd")
    if cost is None and record.get("estimated_cost_usd") is not None:
        meta.append(("Cost", f"${float(record['estimated_cost_usd']):.4f} (estimated)"))
    elif cost is not None:
        meta.append(("Cost", f"${float(cost):.4f}"))
    lines += ["| | |", "|---|---|", *(f"| {k} | {_cell(v)} |" for k, v in meta), ""]
    for msg in record.get("messages") or []:
        role = _line(msg.get("role") or "?")
        heading = f"## {role.capitalize()} · {_stamp(msg.get('timestamp'))}"
        if role == "tool" and msg.get("tool_name"):
            heading += f" · `{_line(msg['tool_name'])}`"
        lines += [heading, ""]
        if msg.get("reasoning"):
            reasoning = _clean(msg["reasoning"])
            words = len(reasoning.split())
            lines += [f"<details><summary>Reasoning · {words} words</summary>", "", _fence(reasoning), "",
                      "</details>", ""]
        content = _clean(msg.get("content") or "")
        if role == "tool":
            n = content.count("\n") + 1 if content else 0
            lines += [f"<details><summary>Result · {n} lines</summary>", "", _fence(content), "", "</details>", ""]
        elif content:
            lines += [content, ""]
        for name, args in _tool_calls(msg.get("tool_calls")):
            lines += [f"<details><summary>Tool call · <code>{_html(_line(name))}</code></summary>", "",
                      _fence(_clean(args), "json"), "", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(
    fh: IO[str],
    records: Iterator[dict[str, Any]],
    *,
    total: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> int:
    """Transcripts of every record, separated by rules; streams one session at a time."""
    return write_records(
        fh, records, total=total, progress=progress, should_cancel=should_cancel,
        render=session_markdown, separator="\n---\n\n",
    )
