"""Tapes from elsewhere: the sandbox's RFQs as it ran, and a contract venue's RFQs and trades.

From the sandbox (`quoter sandbox --record-tape PATH`) every outcome driver is known: its
competing dealers' best price on the side the requester really takes, the cancellation, the
load shape. The recorder reads the sandbox's own store in its process, because the contract
carries none of these: no API, ours or enmacc's, tells the competitors' prices. It collects
new RFQs as they arrive, so those the store later evicts are kept, up to `MAX_RECORDED`.

From a contract venue (`quoter backtest record`; the real entender, or a sandbox over HTTP)
only our side of the story is known. An RFQ we won traded at our price, so the best competitor
was worse (no competitor is written, which the auction model fills; our trade price is the
`reference_price`). An RFQ we lost or did not quote tells nothing about the winning price (no
driver is written: under the auction model any quote fills it; give such tapes the logistic
model, or add prices from a market data source). A two-way RFQ's real side is known only from
our trade; otherwise it is written as the side a buyer would take (`buy`). Cancellations are
not known. Custom RFQs cost one more request each, for their load shape (a side file).

The export pages `GET /rfqs?updated-since=FROM` (oldest update first) and `GET /trades` through
the client and its usage-plan guard, so every request counts against the day's quota in the
same ledger the bot uses; a recording stops before `max_requests` (default a tenth of the
default daily quota) and says how to narrow it. Record a window that has ended: the RFQs in it
are kept by `created_at`, and paging stops once updates are a day past the window's end.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from quoter.backtest.shapes import write_shape
from quoter.backtest.tape import TapeRfq, tape_frame
from quoter.domain import Action, Load, LoadShape, MyQuoteStatus, Rfq, RfqStatus, Trade
from quoter.domain.trading import Page
from quoter.sandbox.records import SimRfq
from quoter.sandbox.shapes import domain_shape, load_shape_json
from quoter.sandbox.store import Store
from quoter.venue.paging import Paged
from quoter.venue.port import Venue

PAGE = 100
MAX_REQUESTS = 500
END_GRACE = timedelta(days=1)  # an RFQ created in the window has ended by then
MAX_RECORDED = 500_000  # RFQs one sandbox recording keeps; past it new ones are counted only
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class RecordingTooLarge(Exception):
    """The window needs more requests than the recording may spend."""


def shapes_dir_for(tape: Path) -> Path:
    """Where a tape's load-shape side files go: a folder beside it."""
    return tape.parent / f"{tape.stem}-shapes"


# -- the sandbox ---------------------------------------------------------------------------


def sandbox_tape(store: Store, shapes_dir: Path | None = None) -> pd.DataFrame:
    """Every RFQ the sandbox holds as a tape row (load shapes written under `shapes_dir`)."""
    return sims_tape(store.rfqs.values(), shapes_dir)


def sims_tape(sims: Iterable[SimRfq], shapes_dir: Path | None = None) -> pd.DataFrame:
    """Sandbox RFQs as tape rows; custom ones are left out without a `shapes_dir`."""
    entries, refs = [], {}
    for sim in sorted(sims, key=lambda s: (s.rfq.created_at, s.id)):
        side = sim.requester_side
        rfq = _as_new(sim.rfq)
        shape = None
        if sim.shape is not None:
            if shapes_dir is None:
                continue
            instrument = rfq.instrument
            shape = domain_shape(sim.shape, instrument, rfq.quantity_mw)
            refs[rfq.id] = _write_shape(
                shapes_dir, rfq.id, load_shape_json(sim.shape, instrument, rfq.quantity_mw)
            )
        entries.append(
            TapeRfq(
                rfq=rfq,
                shape=shape,
                requester_side=side,
                competitor_price=sim.best_ask if side is Action.BUY else sim.best_bid,
                requester_limit=None,
                reference_price=None,
                cancel_at=sim.cancel_at,
            )
        )
    return tape_frame(entries, refs)


class SandboxRecorder:
    """Every RFQ the sandbox's store has held since the recorder started, those it has since
    evicted too (it keeps only the newest `max_rfqs`): `collect` more often than it fills."""

    def __init__(self, store: Store, limit: int = MAX_RECORDED) -> None:
        self._store = store
        self._limit = limit
        self._seen: dict[str, SimRfq] = {}
        self.dropped = 0  # arrived after the recording was full
        self.gaps = 0  # collects that found the store turned over: RFQs lost, uncounted

    def collect(self) -> None:
        # The store appends new RFQs and evicts from the front: the unseen ones are its tail.
        fresh = []
        for rfq_id in reversed(self._store.rfqs):
            if rfq_id in self._seen:
                break
            fresh.append(self._store.rfqs[rfq_id])
        else:
            if self._seen and fresh:  # nothing seen before is left: some went unseen too
                self.gaps += 1
        for sim in reversed(fresh):
            if len(self._seen) < self._limit:
                self._seen[sim.id] = sim
            else:
                self.dropped += 1

    def __len__(self) -> int:
        return len(self._seen)

    def tape(self, shapes_dir: Path | None = None) -> pd.DataFrame:
        self.collect()
        return sims_tape(self._seen.values(), shapes_dir)


# -- a contract venue ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VenueRecording:
    tape: pd.DataFrame
    requests: int
    malformed: int  # items the venue sent that the client set aside


@dataclass(slots=True)
class _Budget:
    limit: int
    spent: int = 0

    def take(self, what: str) -> None:
        if self.spent >= self.limit:
            raise RecordingTooLarge(
                f"the window needs more than {self.limit} requests (reached while reading "
                f"{what}); narrow --from/--to or raise --max-requests"
            )
        self.spent += 1


async def venue_tape(
    venue: Venue,
    start: datetime,
    end: datetime,
    shapes_dir: Path | None = None,
    *,
    max_requests: int = MAX_REQUESTS,
) -> VenueRecording:
    """The RFQs created in [start, end), with our trades in them as outcome drivers; custom
    RFQs are left out without a `shapes_dir`."""
    budget = _Budget(max_requests)
    rfqs, malformed = await _rfqs_created(venue, start, end, budget)
    trades: dict[str, Trade] = {}
    if rfqs:
        until = max(end, *(r.quote_deadline for r in rfqs))
        trades, bad = await _trades(venue, start, until, budget)
        malformed += bad
    entries, refs = [], {}
    for rfq in rfqs:
        trade = trades.get(rfq.id)
        side = rfq.action or (trade.action.opposite if trade is not None else Action.BUY)
        shape = None
        if rfq.instrument.load is Load.CUSTOM:
            if shapes_dir is None:
                continue
            budget.take(f"the load shape of {rfq.id}")
            shape = await venue.get_load_shape(rfq.id)
            refs[rfq.id] = _write_shape(shapes_dir, rfq.id, _shape_json(shape))
        entries.append(
            TapeRfq(
                rfq=_as_new(rfq),
                shape=shape,
                requester_side=side,
                competitor_price=None,
                requester_limit=None,
                reference_price=None if trade is None else trade.price.value,
                cancel_at=None,
            )
        )
    return VenueRecording(tape_frame(entries, refs), budget.spent, malformed)


async def _rfqs_created(
    venue: Venue, start: datetime, end: datetime, budget: _Budget
) -> tuple[list[Rfq], int]:
    found: dict[str, Rfq] = {}
    malformed = 0
    stop_after = end + END_GRACE

    def read(limit: int, skip: int) -> Awaitable[Page[Rfq]]:
        budget.take(f"RFQs page {skip // limit + 1}")
        return venue.list_rfqs(updated_since=start, limit=limit, skip=skip)

    async for page in Paged(read, limit=PAGE, max_pages=None, what="list_rfqs"):  # the budget
        found.update({r.id: r for r in page.items if start <= r.created_at < end})
        malformed += len(page.rejected)
        if page.items and page.items[-1].updated_at > stop_after:
            break
    return sorted(found.values(), key=lambda r: (r.created_at, r.id)), malformed


async def _trades(
    venue: Venue, start: datetime, until: datetime, budget: _Budget
) -> tuple[dict[str, Trade], int]:
    found: dict[str, Trade] = {}
    malformed = 0

    def read(limit: int, skip: int) -> Awaitable[Page[Trade]]:
        budget.take(f"trades page {skip // limit + 1}")
        return venue.list_trades(traded_from=start, traded_to=until, limit=limit, skip=skip)

    async for page in Paged(read, limit=PAGE, max_pages=None, what="list_trades"):  # the budget
        found.update({t.rfq_id: t for t in page.items})
        malformed += len(page.rejected)
    return found, malformed


# -- both ----------------------------------------------------------------------------------


def _as_new(rfq: Rfq) -> Rfq:
    """The RFQ as it first showed: open, not quoted (the replay decides the rest)."""
    return replace(
        rfq,
        status=RfqStatus.OPEN,
        updated_at=rfq.created_at,
        my_quote_status=MyQuoteStatus.NOT_QUOTED,
    )


def _write_shape(shapes_dir: Path, rfq_id: str, document: object) -> str:
    """Writes the shape beside the tape; returns its path relative to the tape's folder. An id
    from the venue is untrusted: one that is no plain file name is hashed into one."""
    name = rfq_id if SAFE_NAME.fullmatch(rfq_id) else hashlib.sha256(rfq_id.encode()).hexdigest()
    ref = f"{shapes_dir.name}/{name}.json"
    write_shape(document, shapes_dir.parent / ref)
    return ref


def _shape_json(shape: LoadShape) -> dict[str, object]:
    return {
        "resolution": "PT1H" if shape.resolution_s == 3600 else "PT15M",
        "unit": "MW",
        "format": "23/25",
        "data": [
            {"interval-start": s.isoformat(), "quantity": {"value": v}}
            for s, v in zip(shape.starts, shape.volumes_mw, strict=True)
        ],
    }
