"""How a time is shown to a person, everywhere: ISO 8601 with its offset, in the desk's time
zone (Europe/Berlin, the zone of the venue's trading hours), and which clock it is from."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from quoter.domain.market import MARKET_TIMEZONE

DESK_ZONE = MARKET_TIMEZONE


def stamp(at: datetime) -> str:
    """`2026-12-01 09:00:00+01:00`: the instant in the desk's zone, to the second, with its
    offset. A naive time is refused: it names no instant."""
    if at.tzinfo is None:
        raise ValueError(f"{at!r} has no offset: it names no instant")
    return at.astimezone(DESK_ZONE).isoformat(sep=" ", timespec="seconds")


def stamp_text(text: object) -> str:
    """An ISO time from a record or a status, as `stamp` shows it; anything else as it is."""
    if not isinstance(text, str):
        return "-" if text is None else str(text)
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return text if at.tzinfo is None else stamp(at)


def hour_minute(at: datetime) -> str:
    """`08:00+01:00`: a time of day in the desk's zone, with its offset."""
    local = at.astimezone(DESK_ZONE)
    offset = local.isoformat()[-6:]
    return f"{local:%H:%M}{offset}"


class WallTimeFormatter(logging.Formatter):
    """Log lines stamped like every other time, marked as wall time (the machine's clock, not
    the demo's or the venue's)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return stamp(datetime.fromtimestamp(record.created, UTC)) + " wall"


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is when a line is logged: rich's live status screen
    replaces it while it runs, to keep log lines above the status."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: int = logging.WARNING) -> None:
    """The root handler with the desk's formatter: one convention for every log line."""
    handler = _StderrHandler()
    handler.setFormatter(WallTimeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
