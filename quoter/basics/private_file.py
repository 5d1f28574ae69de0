"""State files that are the desk's own: written whole to a temporary file (owner-only, whatever
the umask, even over a temporary file an older run left readable) and moved into place."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_MODE = 0o600


def write_private(
    path: Path, content: str | bytes, *, tmp: Path | None = None, fsync: bool = True
) -> None:
    """Replace `path` with `content` atomically, readable by its owner only. `tmp` is the
    temporary file (default: `path`'s name and .tmp, so files that differ only in their suffix
    never share one). `fsync` makes it durable: the file is
    on disk before it replaces the old one, and the rename is, once this returns (the folder is
    synced too), so a power cut leaves the old file or the new one, never none."""
    tmp = path.with_name(path.name + ".tmp") if tmp is None else tmp
    data = content.encode("utf-8") if isinstance(content, str) else content
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), PRIVATE_MODE)  # a temp file an older run left keeps its mode
        handle.write(data)
        if fsync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)
    if fsync:
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
