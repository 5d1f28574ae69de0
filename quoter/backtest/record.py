"""Tapes from elsewhere: the sandbox's RFQs after a run, and the real venue's RFQs and trades.

From the sandbox every outcome driver is known (its competing dealers' best price on the side
the requester really takes, the cancellation). From the real venue only our side of the story
is: an RFQ we won traded at our price, so the best competitor was worse than it (we write no
competitor, which the auction model fills; our trade price is the `reference_price`); an RFQ we
lost or did not quote tells nothing about the winning price (no driver is written: under the
auction model any quote fills it; give such tapes the logistic model, or add prices from a
market data source). A two-way RFQ's real side is known only from our trade; otherwise it is
written as the side a buyer would take (`buy`). Custom RFQs get their load shape as side files.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from quoter.backtest.shapes import write_shape
from quoter.backtest.tape import TapeRfq, tape_frame
from quoter.domain import Action, Load, Rfq, Trade
from quoter.sandbox.shapes import domain_shape, load_shape_json
from quoter.sandbox.store import Store
from quoter.venue.port import Venue

PAGE = 100


def sandbox_tape(store: Store, shapes_dir: Path | None = None) -> pd.DataFrame:
    """Every RFQ the sandbox holds as a tape row (load shapes written under `shapes_dir`)."""
    entries, refs = [], {}
    for sim in sorted(store.rfqs.values(), key=lambda s: (s.rfq.created_at, s.id)):
        side = sim.requester_side
        rfq = _as_new(sim.rfq)
        shape = None
        if sim.shape is not None:
            if shapes_dir is None:
                continue  # a custom RFQ needs its shape file
            instrument = rfq.instrument
            shape = domain_shape(sim.shape, instrument, rfq.quantity_mw)
            ref = f"{shapes_dir.name}/{rfq.id}.json"
            write_shape(
                load_shape_json(sim.shape, instrument, rfq.quantity_mw), shapes_dir.parent / ref
            )
            refs[rfq.id] = ref
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


def _as_new(rfq: Rfq) -> Rfq:
    from dataclasses import replace

    from quoter.domain import MyQuoteStatus, RfqStatus

    return replace(
        rfq,
        status=RfqStatus.OPEN,
        updated_at=rfq.created_at,
        my_quote_status=MyQuoteStatus.NOT_QUOTED,
    )


async def venue_tape(venue: Venue, since: datetime, shapes_dir: Path | None = None) -> pd.DataFrame:
    """The RFQs the venue shows updated since `since`, with our trades as outcome drivers."""
    rfqs: dict[str, Rfq] = {}
    for page_number in range(10_000):
        page = await venue.list_rfqs(updated_since=since, limit=PAGE, skip=page_number * PAGE)
        rfqs.update({r.id: r for r in page.items})
        if len(page.items) + len(page.rejected) < PAGE:
            break
    trades: dict[str, Trade] = {}
    for page_number in range(10_000):
        found = await venue.list_trades(traded_from=since, limit=PAGE, skip=page_number * PAGE)
        trades.update({t.rfq_id: t for t in found.items})
        if len(found.items) + len(found.rejected) < PAGE:
            break
    entries, refs = [], {}
    for rfq in sorted(rfqs.values(), key=lambda r: (r.created_at, r.id)):
        trade = trades.get(rfq.id)
        side = rfq.action or (trade.action.opposite if trade is not None else Action.BUY)
        shape = None
        if rfq.instrument.load is Load.CUSTOM:
            if shapes_dir is None:
                continue
            shape = await venue.get_load_shape(rfq.id)
            ref = f"{shapes_dir.name}/{rfq.id}.json"
            write_shape(_shape_json(shape), shapes_dir.parent / ref)
            refs[rfq.id] = ref
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
    return tape_frame(entries, refs)


def _shape_json(shape: object) -> dict[str, object]:
    from quoter.domain import LoadShape

    assert isinstance(shape, LoadShape)
    return {
        "resolution": "PT1H" if shape.resolution_s == 3600 else "PT15M",
        "unit": "MW",
        "format": "23/25",
        "data": [
            {"interval-start": s.isoformat(), "quantity": {"value": v}}
            for s, v in zip(shape.starts, shape.volumes_mw, strict=True)
        ],
    }
