from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime

import pytest

from tests.sandbox.client import Venue

MARCH = {"start": "2026-03-28T23:00:00Z", "end": "2026-03-29T22:00:00Z"}
OCTOBER = {"start": "2026-10-24T22:00:00Z", "end": "2026-10-25T23:00:00Z"}


def per_instant(data: list[dict[str, object]]) -> dict[datetime, float]:
    sums: dict[datetime, float] = defaultdict(float)
    for entry in data:
        quantity = entry["quantity"]
        assert isinstance(quantity, dict)
        sums[datetime.fromisoformat(str(entry["interval-start"]))] += quantity["value"]
    return dict(sums)


async def shape_of(venue: Venue, maturity: dict[str, str], resolution: str, fmt: str) -> dict:  # type: ignore[type-arg]
    rfq = await venue.make_rfq(
        instrument={"load": "custom", "maturity": maturity},
        **{"load-shape": {"resolution": resolution, "format": fmt}},
    )
    assert rfq["quantity"]["ref"] == f"/v2.2/rfqs/{rfq['id']}/load-shape"
    reply = await venue.call("GET", f"/rfqs/{rfq['id']}/load-shape")
    assert reply.status == 200
    body: dict = reply.body  # type: ignore[type-arg]
    assert (body["resolution"], body["format"], body["unit"]) == (resolution, fmt, "MW")
    amounts = [e["quantity"]["value"] for e in body["data"]]
    assert all(a >= 0 for a in amounts)
    return body


@pytest.mark.parametrize(
    ("maturity", "resolution", "fmt", "entries", "instants"),
    [
        (MARCH, "PT1H", "23/25", 23, 23),
        (MARCH, "PT1H", "24/25", 24, 23),
        (MARCH, "PT15M", "23/25", 92, 92),
        (MARCH, "PT15M", "24/25", 96, 92),
        (OCTOBER, "PT1H", "23/25", 25, 25),
        (OCTOBER, "PT1H", "24/25", 25, 25),
        (OCTOBER, "PT15M", "24/25", 100, 100),
    ],
)
async def test_dst_day_formats(
    venue: Venue,
    maturity: dict[str, str],
    resolution: str,
    fmt: str,
    entries: int,
    instants: int,
) -> None:
    body = await shape_of(venue, maturity, resolution, fmt)
    assert len(body["data"]) == entries
    sums = per_instant(body["data"])
    assert len(sums) == instants
    assert min(sums.values()) > 0  # the zero entry never hides a real volume
    step = 3600 if resolution == "PT1H" else 900
    starts = sorted(sums)
    assert all((b - a).total_seconds() == step for a, b in itertools.pairwise(starts))
    average = sum(sums.values()) / len(sums)
    assert abs(average - 10.0) < 0.01  # quantity.amount is the average


async def test_24_25_writes_the_missing_march_hour_as_zero(venue: Venue) -> None:
    body = await shape_of(venue, MARCH, "PT1H", "24/25")
    starts = [e["interval-start"] for e in body["data"]]
    assert starts[1:4] == [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T02:00:00+01:00",
        "2026-03-29T03:00:00+02:00",
    ]
    assert body["data"][2]["quantity"]["value"] == 0.0
    october = await shape_of(venue, OCTOBER, "PT1H", "23/25")
    starts = [e["interval-start"] for e in october["data"]]
    assert starts[2:4] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]


async def test_standard_loads_have_no_shape(venue: Venue) -> None:
    rfq = await venue.make_rfq()
    reply = await venue.call("GET", f"/rfqs/{rfq['id']}/load-shape")
    assert (reply.status, reply.body["error"]["code"]) == (404, "NOT_FOUND")
    reply = await venue.control("POST", "/rfqs", {"load-shape": {"resolution": "PT1H"}})
    assert reply.status == 400
    gas = {"instrument": {"commodity": "gas", "load": "custom"}}
    assert (await venue.control("POST", "/rfqs", gas)).status == 400
