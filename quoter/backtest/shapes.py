"""Load-shape side files of a tape: the contract's load-shape JSON, read with the venue's parser."""

from __future__ import annotations

from pathlib import Path

import orjson

from quoter.domain import LoadShape
from quoter.venue.errors import MalformedResponse
from quoter.venue.parse import parse_load_shape


def read_shape(path: Path) -> LoadShape:
    """The load shape in `path`; ValueError naming the file when it cannot be used."""
    try:
        raw = orjson.loads(path.read_bytes())
        return parse_load_shape(raw)
    except OSError as error:
        raise ValueError(f"{path}: cannot read: {error.strerror}") from None
    except (orjson.JSONDecodeError, MalformedResponse) as error:
        raise ValueError(f"{path}: not a load shape: {error}") from None


def write_shape(document: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document))
