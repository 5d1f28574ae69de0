"""The desk's book as the limits see it: open quotes (in flight or live), fills, positions,
credit used and recent mids. Owned by the engine; the checks read it through a `BookView`."""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from quoter.domain import Action
from quoter.pricing.delivery import DeliveryBucket
from quoter.risk.checks import QUOTE_WINDOW_S, BookView, Proposal

CENT_EUR = 0.01


@dataclass(frozen=True, slots=True)
class Fill:
    rfq_id: str
    side: Action
    price_eur_mwh: float


class RiskBook:
    """Mutable, single-owner state. A quote's methods cost O(its buckets) or amortised O(1);
    settling costs O(log n) a paid month; `beyond` and `positions_mwh` walk every position."""

    def __init__(self, *, drift_window_s: float, fill_window_s: float, payment_day: int) -> None:
        self._drift_window_s = drift_window_s
        self._fill_window_s = fill_window_s
        self._payment_day = payment_day
        self._open: dict[str, Proposal] = {}
        # Pruned to their windows at every check: a cap here would only undercount.
        self._sent: deque[float] = deque()
        self._fills: deque[float] = deque()
        self._positions: defaultdict[DeliveryBucket, float] = defaultdict(float)
        self._pending_long: defaultdict[DeliveryBucket, float] = defaultdict(float)
        self._pending_short: defaultdict[DeliveryBucket, float] = defaultdict(float)
        # Credit by counterparty company name, the one name both an RFQ and a trade carry (a
        # restart rebuilds it from trades); the limits are looked up by the RFQ's requester id.
        self._credit: defaultdict[str, float] = defaultdict(float)
        self._credit_pending: defaultdict[str, float] = defaultdict(float)
        # (paid on, counterparty, EUR): a delivery month's credit use, until it is paid for
        self._unpaid: list[tuple[datetime, str, float]] = []
        self._mids: dict[Hashable, MidWindow] = {}

    @property
    def positions_mwh(self) -> Mapping[DeliveryBucket, float]:
        return dict(self._positions)

    def beyond(self, limit_mwh: float) -> list[DeliveryBucket]:
        """The buckets whose position is beyond `limit_mwh` either way."""
        return [b for b, v in self._positions.items() if abs(v) > limit_mwh]

    @property
    def credit_used_eur(self) -> Mapping[str, float]:
        """Credit used by fills whose delivery is not yet paid for, by counterparty name."""
        return dict(self._credit)

    def view(self, proposal: Proposal, *, now_s: float, curve_age_s: float) -> BookView:
        rfq = proposal.rfq
        name = rfq.requester_name
        return BookView(
            now_s=now_s,
            curve_age_s=curve_age_s,
            open_quotes=len(self._open),
            already_open=proposal.rfq.id in self._open,
            quotes_last_minute=_within(self._sent, now_s, QUOTE_WINDOW_S),
            fills_in_window=_within(self._fills, now_s, self._fill_window_s),
            positions_mwh=self._positions,
            pending_long_mwh=self._pending_long,
            pending_short_mwh=self._pending_short,
            credit_used_eur={
                rfq.requester_id: self._credit.get(name, 0.0) + self._credit_pending.get(name, 0.0)
            },
            mid_range=self._mid_range(proposal.product_key, now_s),
        )

    def _mid_range(self, key: Hashable, now_s: float) -> tuple[float, float] | None:
        window = self._mids.get(key)
        return None if window is None else window.range(now_s, self._drift_window_s)

    def recent_fills(self, now_s: float) -> int:
        return _within(self._fills, now_s, self._fill_window_s)

    def record_mid(self, proposal: Proposal, now_s: float) -> None:
        self._mids.setdefault(proposal.product_key, MidWindow()).add(now_s, proposal.mid)

    def reserve(self, proposal: Proposal, now_s: float) -> None:
        """A quote is about to be sent: it counts against every limit from now on."""
        self.release(proposal.rfq.id)
        self._open[proposal.rfq.id] = proposal
        self._sent.append(now_s)
        self._apply_pending(proposal, +1.0)

    def release(self, rfq_id: str) -> None:
        """The RFQ's quote is gone (refused, withdrawn, expired, lost)."""
        proposal = self._open.pop(rfq_id, None)
        if proposal is not None:
            self._apply_pending(proposal, -1.0)

    def add_trade(
        self,
        buckets_mwh: Mapping[DeliveryBucket, float],
        sign: float,
        counterparty: str,
        price_eur_mwh: float,
    ) -> None:
        """A trade done before this run (read from the venue at start): its position, and its
        credit use until each month of its delivery has been paid for."""
        for bucket, mwh in buckets_mwh.items():
            self._positions[bucket] += sign * mwh
        self._use_credit(counterparty, price_eur_mwh, buckets_mwh)

    @property
    def quotes_open(self) -> int:
        """Quotes counted against the limits now (sent, live, or not yet known gone)."""
        return len(self._open)

    def take_trades(self, rebuilt: RiskBook) -> None:
        """The positions and credit of `rebuilt` (a book of the venue's trades alone) replace
        this book's; its quotes' reservations and its windows stay. Only while no quote of ours
        is open: a fill of one would be counted by the rebuild and again by its record."""
        if self._open:
            raise ValueError(f"{len(self._open)} quote(s) open: the rebuild would miscount")
        self._positions = defaultdict(float, rebuilt._positions)
        self._credit = defaultdict(float, rebuilt._credit)
        self._unpaid = list(rebuilt._unpaid)

    def record_fill(self, fill: Fill, now_s: float) -> tuple[DeliveryBucket, ...]:
        """Our quote was taken: pending exposure becomes position and credit use. Returns the
        buckets whose position moved."""
        proposal = self._open.get(fill.rfq_id)
        if proposal is None:
            return ()
        self.release(fill.rfq_id)
        sign = 1.0 if fill.side is Action.BUY else -1.0
        for bucket, mwh in proposal.buckets_mwh.items():
            self._positions[bucket] += sign * mwh
        self._use_credit(proposal.rfq.requester_name, fill.price_eur_mwh, proposal.buckets_mwh)
        self._fills.append(now_s)
        return tuple(proposal.buckets_mwh)

    def _use_credit(
        self, counterparty: str, price_eur_mwh: float, buckets_mwh: Mapping[DeliveryBucket, float]
    ) -> None:
        for bucket, mwh in buckets_mwh.items():
            eur = abs(price_eur_mwh * mwh)
            self._credit[counterparty] += eur
            paid_on = payment_date(bucket.month, self._payment_day)
            heapq.heappush(self._unpaid, (paid_on, counterparty, eur))

    def settle(self, now: datetime) -> None:
        """Free the credit of the delivery months paid for by `now`."""
        unpaid = self._unpaid
        while unpaid and unpaid[0][0] <= now:
            _, who, used = heapq.heappop(unpaid)
            left = self._credit[who] - used
            if left >= CENT_EUR:  # less is the residue of adding and taking away floats
                self._credit[who] = left
            else:
                del self._credit[who]

    def _apply_pending(self, proposal: Proposal, sign: float) -> None:
        self._credit_pending[proposal.rfq.requester_name] += sign * proposal.notional_eur
        for side in proposal.sides:
            pending = self._pending_long if side is Action.BUY else self._pending_short
            for bucket, mwh in proposal.buckets_mwh.items():
                pending[bucket] += sign * mwh
                if abs(pending[bucket]) < 1e-9:
                    del pending[bucket]


class MidWindow:
    """The lowest and highest mid of one product in a sliding time window, amortised O(1) a mid:
    each side keeps only the mids that can still be its extreme (a mid outlived by a newer one
    at least as low can never again be the lowest), oldest first."""

    def __init__(self) -> None:
        self._low: deque[tuple[float, float]] = deque()
        self._high: deque[tuple[float, float]] = deque()

    def add(self, t_s: float, mid: float) -> None:
        while self._low and self._low[-1][1] >= mid:
            self._low.pop()
        self._low.append((t_s, mid))
        while self._high and self._high[-1][1] <= mid:
            self._high.pop()
        self._high.append((t_s, mid))

    def range(self, now_s: float, window_s: float) -> tuple[float, float] | None:
        """(lowest, highest) of the mids added within `window_s` before `now_s`, if any."""
        for side in (self._low, self._high):
            while side and now_s - side[0][0] > window_s:
                side.popleft()
        if not self._low:
            return None
        return self._low[0][1], self._high[0][1]


def _within(times: deque[float], now_s: float, window_s: float) -> int:
    """How many times lie inside the window; older ones are dropped for good (times only
    grow), so a check costs nothing like the day's history."""
    while times and now_s - times[0] >= window_s:
        times.popleft()
    return len(times)


def payment_date(month: str, day: int) -> datetime:
    """When delivery month `month` (YYYY-MM) is paid for: `day` of the next month, 00:00 UTC,
    or the Monday after if that is a Saturday or Sunday (holidays are not known here)."""
    year, number = int(month[:4]), int(month[5:7])
    paid = datetime(year + number // 12, number % 12 + 1, day, tzinfo=UTC)
    if paid.weekday() >= 5:  # Saturday or Sunday
        paid += timedelta(days=7 - paid.weekday())
    return paid
