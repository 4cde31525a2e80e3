"""A pressed button's spinner stops once the press is stored, not after its handler's work."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.flows import interview
from bot.sandbox.world import World, eventually
from tests.helpers.stories import invite, start_answering


def _answers(w: World, query_id: str) -> list[int]:
    """The status of each answerCallbackQuery Telegram got for ``query_id``."""
    return [
        call.status
        for call in w.telegram.calls_of("answerCallbackQuery")
        if str(call.params.get("callback_query_id")) == query_id
    ]


async def test_a_press_is_answered_while_its_transaction_still_runs(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load the handler's transaction waits its turn; the candidate should not watch
    the spinner meanwhile. The press is already in the inbox, so it will be handled."""
    async with World(data_dir=tmp_path / "data", database_url=database_url) as w:
        jane = w.telegram.candidate(700_300, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        mark = len(jane.inbox())

        held, pressed = threading.Event(), threading.Event()
        real_press = interview.press

        def slow_press(*args: Any, **kwargs: Any) -> None:
            pressed.set()
            held.wait(30)  # the transaction is still running (the database thread's)
            real_press(*args, **kwargs)

        monkeypatch.setattr(interview, "press", slow_press)
        update_id = await jane.press("Ready")
        query_id = str(w.telegram.update(update_id)["callback_query"]["id"])
        try:
            await eventually(pressed.is_set, what="the handler's transaction to start")
            await eventually(lambda: _answers(w, query_id), what="the press to be answered")
            assert _answers(w, query_id) == [200]
            assert not [m for m in jane.inbox()[mark:] if "Question 1 of 2:" in (m.text or "")]
        finally:
            held.set()
        await jane.wait_for_message("Question 1 of 2:", after=mark)
        await asyncio.sleep(0.2)
        assert _answers(w, query_id) == [200], "answered once"
