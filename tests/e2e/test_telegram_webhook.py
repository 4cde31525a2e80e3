"""Telegram in webhook mode: updates pushed to the bot, signed with the secret token."""

from __future__ import annotations

from pathlib import Path

from aiohttp import ClientSession
from sqlmodel import select

from bot.sandbox.world import SAMPLES, World, answer_question, eventually
from storage.models import Answer, Interview
from tests.helpers.stories import invite


async def test_candidate_answers_through_a_webhook_and_redelivery_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    async with World(data_dir=tmp_path, database_url=database_url, telegram_mode="webhook") as w:
        assert w.telegram.webhook_url.endswith("/telegram/webhook")
        assert not any(c.method == "getUpdates" for c in w.telegram.calls)  # no polling
        jane = w.telegram.candidate(700_600, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        await jane.press("I agree", await jane.wait_for_message("Do you agree?"))
        voice = await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        assert "take 1 of 3" in (voice.text or "")
        assert all(status == 200 for _, status in w.telegram.webhook_deliveries)

        pushed = len(w.telegram.webhook_deliveries)
        w.telegram.redeliver(w.telegram.webhook_deliveries[-1][0])  # Telegram retries one
        await eventually(lambda: len(w.telegram.webhook_deliveries) > pushed)
        await w.wait_idle()
        answers = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Answer)).all())
        assert [(a.take, a.submitted) for a in answers] == [(1, True)]


async def test_an_update_without_the_secret_token_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path, telegram_mode="webhook") as w:
        token = await invite(w)
        forged = {
            "update_id": 999,
            "message": {
                "message_id": 1,
                "date": 1_795_000_000,
                "text": f"/start {token}",
                "chat": {"id": 666, "type": "private"},
                "from": {"id": 666, "is_bot": False, "first_name": "Mallory"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        async with ClientSession() as http:
            for secret in ("", "guess"):
                async with http.post(
                    w.telegram.webhook_url,
                    json=forged,
                    headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                ) as response:
                    assert response.status == 401
        interview = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Interview)).one())
        assert interview.status == "invited"
        assert not any(c.method == "sendMessage" for c in w.telegram.calls)
