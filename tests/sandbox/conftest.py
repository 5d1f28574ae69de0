"""The `venue` fixture: a client session on the function's sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from quoter.sandbox.server import RunningSandbox
from tests.sandbox.client import Venue


@pytest.fixture
async def venue(sandbox: RunningSandbox) -> AsyncIterator[Venue]:
    async with aiohttp.ClientSession(sandbox.base_url) as session:
        yield Venue(sandbox, session)
