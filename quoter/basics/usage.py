"""The usage plan's words the engine's ports speak: the priority lanes of the venue's token
bucket, and the guard's state the engine plans its polling from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum


class Lane(IntEnum):
    """Priority lanes, highest first: withdrawals beat quote submits beat polling."""

    WITHDRAW = 0
    SUBMIT = 1
    POLL = 2


@dataclass(frozen=True, slots=True)
class GuardState:
    """What the engine needs to plan polling: the day's spend, what each lane has left, tokens."""

    day: date
    spent_today: int
    daily_quota: int
    exhausted: bool
    left_today: Mapping[Lane, int]
    tokens_now: float
    tokens_free: Mapping[Lane, float]
    waiting: Mapping[Lane, int]
    resets_at: datetime
    # Why the quota ledger cannot be trusted (the guard is in fail-safe), or None.
    ledger_failsafe: str | None = None
