"""The chain's head kept outside the trail: the seq and MAC of the last durable record, and
the seq the keyed chain starts at, signed with the audit key and replaced atomically (0600)
at every durable write. A trail cut back behind it, or rewritten, no longer reaches it."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path

import orjson

from quoter.audit.chain import canonical, mac
from quoter.basics.private_file import write_private


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int
    mac: str
    keyed_from: int

    def body(self) -> dict[str, object]:
        return {"seq": self.seq, "mac": self.mac, "keyed-from": self.keyed_from}


class AnchorDamaged(Exception):
    """The anchor cannot be trusted; the message names the file and why (never the key)."""


def read_anchor(path: Path, key: bytes | None) -> Anchor | None:
    """The anchor, None if there is no file; AnchorDamaged if it is unreadable, malformed or
    (with `key`) its signature does not verify."""
    if not path.exists() and not path.is_symlink():
        return None
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise AnchorDamaged(f"{path}: cannot read the audit anchor ({error.strerror})") from None
    try:
        found = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise AnchorDamaged(f"{path}:1: the audit anchor is not JSON") from None
    anchor = _parse(found)
    if anchor is None:
        raise AnchorDamaged(
            f"{path}:1: the audit anchor lacks seq, mac, keyed-from or sig of the right type"
        )
    assert isinstance(found, dict)
    if key is not None and not hmac.compare_digest(_sign(anchor, key), str(found["sig"])):
        raise AnchorDamaged(
            f"{path}:1: the audit anchor's signature does not verify (edited, or another key)"
        )
    return anchor


def _parse(found: object) -> Anchor | None:
    if not isinstance(found, dict):
        return None
    seq, seal, keyed_from, sig = (found.get(k) for k in ("seq", "mac", "keyed-from", "sig"))
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (seq, keyed_from))
    if not ints or not isinstance(seal, str) or not isinstance(sig, str):
        return None
    assert isinstance(seq, int)
    assert isinstance(keyed_from, int)
    return Anchor(seq, seal, keyed_from)


def write_anchor(path: Path, anchor: Anchor, key: bytes) -> None:
    """Replace the anchor atomically and durably, owner-only."""
    body = anchor.body() | {"sig": _sign(anchor, key)}
    write_private(path, orjson.dumps(body))


def _sign(anchor: Anchor, key: bytes) -> str:
    return mac(b"audit-anchor\n" + canonical(anchor.body()), key)
