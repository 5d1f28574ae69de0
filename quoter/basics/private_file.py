"""State files that are the desk's own: written whole to a temporary file (owner-only, whatever
the umask, even over a temporary file an older run left readable) and moved into place."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_MODE = 0o600


def write_private(path: Path, text: str, *, tmp: Path | None = None, fsync: bool = True) -> None:
    """Replace `path` with `text` atomically, readable by its owner only. `tmp` is the
    temporary file (default: `path` with a .tmp suffix); `fsync` puts it on disk first."""
    tmp = path.with_suffix(".tmp") if tmp is None else tmp
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), PRIVATE_MODE)  # a temp file an older run left keeps its mode
        handle.write(text)
        if fsync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)
