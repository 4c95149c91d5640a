"""Export: one session as a dict, every session as a stream, JSONL written atomically.

``iter_export`` reads one session and its messages at a time (keyset over session ids), so an
export of any size runs at constant memory. ``write_jsonl`` writes to a temporary file (0600)
beside the destination and renames it into place only when complete; a failure or a
cancellation leaves nothing behind. It also accepts an open text file object.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

PRIVATE_FILE_MODE = 0o600


class ExportCancelled(Exception):
    """Raised inside ``write_jsonl`` when ``should_cancel()`` turns true; nothing is left behind."""


def dumps_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str) + "\n"


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
    folder = dest.parent if str(dest.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            count = write(fh)
            fh.flush()
            os.fsync(fh.fileno())
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


def write_records(
    fh: IO[str],
    records: Iterator[dict[str, Any]],
    *,
    total: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> int:
    written = 0
    for record in records:
        if should_cancel is not None and should_cancel():
            raise ExportCancelled("export cancelled")
        fh.write(dumps_line(record))
        written += 1
        if progress is not None:
            progress(written, total)
    return written
