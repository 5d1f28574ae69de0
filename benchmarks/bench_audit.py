"""The audit trail on this disk: records per second with fsync on every record and without,
and the latency a durable quote-intent record adds to a quote (p50, p99), HMAC chain, scrub and
anchor included; verify's speed and the start's (which verifies the whole trail). The trail is
written under the working directory's `var/` (the bot's own disk)."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from quoter.audit import GENESIS, JsonlAudit, verify
from quoter.audit.chain import seal

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = b"bench-audit-key-0123456789abcdef"
DURABLE_RECORDS = 2_000
BUFFERED_RECORDS = 50_000

INTENT = {
    "rfq-id": "6f1c0d2e-2b1a-4c55-9d3e-0a1b2c3d4e5f",
    "client-quote-id": "qtr-1a2b3c4d-000123",
    "strategy": "curve-spread",
    "strategy-version": "1",
    "strategy-params": {"half_spread_eur_mwh": 0.5, "skew_eur_mwh_per_mwh": 0.0001},
    "decision": {
        "side": "sell",
        "mid": 87.12,
        "price": 87.62,
        "bid": None,
        "ask": None,
        "components": {"mid": 87.12, "half-spread": 0.5, "skew": 0.0},
        "delivery-hours": 720,
        "energy-mwh": 7200.0,
        "curve-id": "synthetic-2026-03-02",
        "curve-as-of": "2026-03-02T06:00:00+00:00",
    },
    "curve-age-s": 10800.0,
    "checks": [
        {"code": code, "passed": True, "detail": ""}
        for code in ("collar", "drift", "volume", "notional", "open-quotes", "rate", "position")
    ],
    "valid-until": "2026-03-02T09:05:00+00:00",
}


def _write(directory: Path, count: int, *, durable: bool) -> list[float]:
    audit = JsonlAudit(directory, key=KEY, anchor_path=_anchor(directory))
    times = []
    for n in range(count):
        at = START + timedelta(milliseconds=n)
        started = time.perf_counter()
        audit.record("quote-intent", at, INTENT, durable=durable)
        times.append(time.perf_counter() - started)
    audit.close()
    return times


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run() -> None:
    Path("var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir="var", prefix="bench-audit-") as tmp:
        durable = _write(Path(tmp) / "durable", DURABLE_RECORDS, durable=True)
        buffered = _write(Path(tmp) / "buffered", BUFFERED_RECORDS, durable=False)
        trail = Path(tmp) / "buffered"
        started = time.perf_counter()
        result = verify(trail, key=KEY, anchor_path=_anchor(trail))
        verify_s = time.perf_counter() - started
        started = time.perf_counter()
        JsonlAudit(trail, key=KEY, anchor_path=_anchor(trail)).close()
        start_s = time.perf_counter() - started
    assert result.intact, result.summary()
    assert result.keyed == result.records
    print(
        f"durable (fsync each): {len(durable) / sum(durable):,.0f} records/s; "
        f"latency added to a quote p50 {_percentile(durable, 0.5) * 1e3:.3f} ms, "
        f"p99 {_percentile(durable, 0.99) * 1e3:.3f} ms, max {max(durable) * 1e3:.3f} ms"
    )
    print(
        f"buffered (flush, no fsync): {len(buffered) / sum(buffered):,.0f} records/s; "
        f"p50 {_percentile(buffered, 0.5) * 1e6:.1f} us, "
        f"p99 {_percentile(buffered, 0.99) * 1e6:.1f} us "
        f"(mean {statistics.fmean(buffered) * 1e6:.1f} us: chain, scrub, serialise, write)"
    )
    print(
        f"verify: {result.records:,} records in {verify_s:.2f} s "
        f"({result.records / verify_s:,.0f} records/s); {len(_line()):,} bytes a record"
    )
    print(f"start (the whole trail verified): {start_s:.2f} s for {result.records:,} records")


def _anchor(directory: Path) -> Path:
    return directory.with_name(directory.name + "-anchor.json")


def _line() -> bytes:
    return seal(1, START.isoformat(), "quote-intent", INTENT, GENESIS, KEY)[1]
