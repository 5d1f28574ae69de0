"""The last strategy swap, kept beside the audit trail (owner-only). A swap changes what the bot
quotes with until it stops; the next start quotes with the configuration's strategy again. The
record lets that start say so, loudly (its banner, the status screen, the start's audit record)
instead of reverting in silence. A start whose configuration names the swapped strategy has
taken the swap in: the record is removed."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from quoter.basics.private_file import write_private
from quoter.engine.config import EngineConfig
from quoter.timefmt import stamp_text

log = logging.getLogger(__name__)

SWAP_FILE = "strategy-swap.json"


def record_path(engine: EngineConfig) -> Path:
    return engine.audit_dir.parent / SWAP_FILE


def save(
    path: Path, name: str, params: Mapping[str, object], *, at: datetime, by: str, source: str
) -> None:
    """Keep the swap; a record that cannot be written is said (a restart would then revert in
    silence), and the swap stands."""
    body = {"name": name, "params": dict(params), "at": at.isoformat(), "by": by, "source": source}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(body, indent=1, default=str))
    except OSError as error:
        log.error(
            "cannot keep the swap in %s (%s): a restart will quote with the configuration's "
            "strategy without saying so",
            path,
            error.strerror,
        )


def reverted(path: Path, name: str, params: Mapping[str, object]) -> str | None:
    """What a start quoting with `name` and `params` (the configuration's) reverts, in one
    line; None when the last run quoted with them too. A damaged or unreadable record is
    taken as the dangerous case: the last run may have quoted with another strategy."""
    ours = f"this run quotes with the configuration's {name} {_json(params)}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"{path} cannot be read ({error.strerror}): {_MAY_HAVE}; {ours}"
    try:
        data = json.loads(text)
        swapped, swapped_params = str(data["name"]), dict(data["params"])
        at, by = str(data["at"]), str(data["by"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"{path} is damaged: {_MAY_HAVE}; {ours}"
    if swapped == name and _json(swapped_params) == _json(params):
        path.unlink(missing_ok=True)  # the configuration has taken the swap in
        return None
    return (
        f"the last run was swapped to {swapped} {_json(swapped_params)} at {stamp_text(at)} "
        f"by {by}; {ours}: `quoter swap` to swap again, or name it in the configuration"
    )


_MAY_HAVE = "the last run may have been swapped to another strategy"


def _json(params: Mapping[str, object]) -> str:
    return json.dumps(dict(params), sort_keys=True, default=str)
