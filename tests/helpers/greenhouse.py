"""The Greenhouse emulator and the real client pointed at it, for adapter and e2e tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.integrations.greenhouse import GreenhouseAccount, GreenhouseClient
from bot.sandbox.greenhouse import WEBHOOK_SECRET, GreenhouseSandbox
from bot.sandbox.world import World
from tests.helpers.ats import synced_opening


def account_for(gh: GreenhouseSandbox, **changes: Any) -> GreenhouseAccount:
    """The account hirebot would read from HIREBOT_GREENHOUSE_* for this sandbox."""
    account = GreenhouseAccount(
        api_key=gh.api_key, user_id=gh.user_id, webhook_secret=WEBHOOK_SECRET, api_url=gh.api_url
    )
    return replace(account, **changes)


def client_for(gh: GreenhouseSandbox, page_size: int = 100, **changes: Any) -> GreenhouseClient:
    """The real client on the sandbox's main job."""
    return GreenhouseClient(account_for(gh, **changes), gh.job_id, page_size=page_size)


# The emulator's job 3001 has the stages 30010 Application Review, 30011 Async Interview,
# 30012 Phone Screen, 30013 Onsite, 30014 Offer; 5001 is a rejection reason.
ATS_BLOCK = """
ats:
  kind: greenhouse
  job: "3001"
  invite_stage: "30011"
  stages:
    Live interview: "30012"
    Offer: "30014"
  reject_reason: "5001"
"""


@asynccontextmanager
async def greenhouse_world(tmp_path: Path) -> AsyncIterator[tuple[World, GreenhouseSandbox]]:
    opening = synced_opening(tmp_path, "backend-greenhouse", ATS_BLOCK)
    async with GreenhouseSandbox() as gh:
        gh.retry_delays = (0.2,) * 6  # Greenhouse's 1 min … 8 h, compressed
        gh.rate_window = 1.0  # 429s ask for at most a second's wait
        world = World(
            data_dir=tmp_path / "data", opening_file=opening, extra_settings=gh.settings()
        )
        async with world as w:
            gh.subscribe(f"http://127.0.0.1:{w.bot.http_port}/ats/greenhouse")
            yield w, gh
