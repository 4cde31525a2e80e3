"""A candidate's update is claimed by the transaction that stores it, and the reply by the
transaction that writes it: neither waits for the dispatcher's or the delivery worker's
own pass (under load each such pass was a transaction queued behind everyone else's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.delivery import Delivery
from bot.sandbox.world import World
from bot.telegram.dispatch import UpdateDispatcher
from tests.helpers.stories import invite


async def test_an_update_is_handled_and_answered_with_no_pass_of_either_worker(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both workers' own passes come once a minute here and nothing wakes them: the reply can
    # only come by the claims made in the transactions that stored the update and wrote the
    # reply. (A send still wakes the delivery worker for the conversation's next message.)
    monkeypatch.setattr("bot.telegram.dispatch.IDLE_CHECK_SECONDS", 60.0)
    monkeypatch.setattr(UpdateDispatcher, "wake", lambda _self: None)
    monkeypatch.setattr(Delivery, "wake", lambda _self: None)

    async def once_a_minute(_self: Delivery, _poll_seconds: float) -> float:
        return 60.0

    monkeypatch.setattr(Delivery, "_idle", once_a_minute)
    async with World(data_dir=tmp_path, database_url=database_url) as w:
        token = await invite(w)
        jane = w.telegram.candidate(700_001, "Jane", "Doe")
        await jane.send_command("/start", token)
        await jane.wait_for_message("Do you agree?", timeout=10.0)
        await jane.press("I agree", await jane.wait_for_message("Do you agree?"))
        await jane.wait_for_message("Question 1 of 2.", timeout=10.0)
