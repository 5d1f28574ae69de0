"""The audit key, which seals the chain and so lives outside the trail: `QUOTER_AUDIT_KEY`,
else a key file readable by its owner only, made (owner-only) on the first start. Its value is
never logged, never in a record and never in an error message."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from quoter.audit.trail import AuditError

KEY_VARIABLE = "QUOTER_AUDIT_KEY"
MIN_KEY_CHARS = 16


class AuditKeyError(AuditError):
    """No usable audit key; the message names where it was looked for, never its value."""


def load_key(
    key_file: Path,
    audit_dir: Path,
    *,
    create: bool,
    environ: Mapping[str, str] | None = None,
) -> bytes | None:
    """The key from the environment, else from `key_file`; with `create`, a fresh key file if
    there is none (None without `create` and no key anywhere)."""
    env = os.environ if environ is None else environ
    value = env.get(KEY_VARIABLE, "").strip()
    if value:
        if len(value) < MIN_KEY_CHARS:
            raise AuditKeyError(f"audit key from {KEY_VARIABLE} is shorter than {MIN_KEY_CHARS}")
        return value.encode()
    there = key_file.exists() or key_file.is_symlink()
    if not there and not create:
        return None
    if _inside(key_file, audit_dir):
        raise AuditKeyError(
            f"{key_file}: the audit key file is inside the trail ({audit_dir}); keep it outside"
        )
    return _read(key_file) if there else _create(key_file)


def _read(key_file: Path) -> bytes:
    try:
        mode = key_file.stat().st_mode
        if not stat.S_ISREG(mode):
            raise AuditKeyError(f"{key_file}: the audit key file is not a regular file")
        if mode & 0o077:
            raise AuditKeyError(
                f"{key_file}: the audit key file is open to others (mode {mode & 0o777:o}); "
                "make it owner-only (chmod 600)"
            )
        value = key_file.read_bytes().strip()
    except OSError as error:
        raise AuditKeyError(f"{key_file}: cannot read the audit key ({error.strerror})") from None
    if len(value) < MIN_KEY_CHARS:
        raise AuditKeyError(f"{key_file}: the audit key is shorter than {MIN_KEY_CHARS}")
    return value


def _create(key_file: Path) -> bytes:
    value = secrets.token_urlsafe(32)
    try:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise AuditKeyError(f"{key_file}: cannot create the audit key ({error.strerror})") from None
    return value.encode()


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())
