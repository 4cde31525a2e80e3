"""The Lever emulator beside the whole bot, for e2e tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.sandbox import lever as emulator
from bot.sandbox.lever import LeverSandbox
from bot.sandbox.world import World
from tests.helpers.ats import synced_opening

ATS_BLOCK = f"""
ats:
  kind: lever
  job: {emulator.POSTING}
  invite_stage: stage-async
  stages:
    Live interview: stage-onsite
    Offer: stage-offer
  reject_reason: reason-underqualified
"""


@asynccontextmanager
async def lever_world(tmp_path: Path) -> AsyncIterator[tuple[World, LeverSandbox]]:
    """The sample opening, synced with the Lever emulator's posting and stages."""
    async with LeverSandbox() as lever:
        world = World(
            data_dir=tmp_path / "data",
            opening_file=synced_opening(tmp_path, "backend-lever", ATS_BLOCK),
            extra_settings=lever.settings(),
        )
        async with world as w:
            lever.webhook_url = f"http://127.0.0.1:{w.bot.http_port}/ats/lever"
            yield w, lever
