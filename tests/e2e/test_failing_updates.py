"""Updates that fail or that hirebot cannot act on: recorded, answered 200, never redelivered
for a day, and the candidate hears that something went wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlmodel import select

from bot.flows import interview
from bot.limits import InboxLimit
from bot.sandbox.world import SAMPLES, WEBHOOK_SECRET, World, eventually
from storage.models import Answer, InboxStatus, InboxUpdate, Interview, OutboxMessage
from tests.helpers.stories import invite

SORRY = "Sorry, something went wrong on our side. Please try again."
SORRY_DE = "Entschuldigung, bei uns ist etwas schiefgelaufen. Bitte versuchen Sie es noch einmal."


def _row(world: World, update_id: int) -> InboxUpdate | None:
    return world.bot.uow.run_sync(lambda s, _now: s.get(InboxUpdate, update_id))


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_an_update_that_keeps_failing_is_recorded_and_the_candidate_told_once(
    tmp_path: Path, database_url: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with World(data_dir=tmp_path, database_url=database_url, telegram_mode=mode) as w:
        hans = w.telegram.candidate(700_800, "Hans", "Meier", language_code="de")
        await hans.send_command("/start", await invite(w, "Hans Meier"))
        await hans.wait_for_message("Sind Sie einverstanden?")
        calls: list[str] = []

        def broken(*args: Any, **kwargs: Any) -> None:
            calls.append(kwargs["name"])
            raise RuntimeError("Hans Meier said something secret")

        monkeypatch.setattr(interview, "command", broken)
        mark = len(hans.inbox())
        update_id = await hans.send_command("/status")
        sorry = await hans.wait_for_message(SORRY_DE, after=mark, timeout=30)

        row = await eventually(lambda: _row(w, update_id))
        assert (row.status, row.last_error, row.attempts) == (
            InboxStatus.FAILED,
            "RuntimeError",
            InboxLimit.MAX_ATTEMPTS,
        )
        assert row.payload == {}  # the error's type and the update id only; no content
        assert calls == ["status"] * InboxLimit.MAX_ATTEMPTS  # retried a bounded number
        assert [m.text for m in hans.inbox()[mark:]] == [sorry.text]
        if mode == "webhook":
            # Telegram was told it may forget the update at once: no redelivery for a day.
            assert [s for u, s in w.telegram.webhook_deliveries if u == update_id] == [200]

        # The chat is not wedged: the next update is handled.
        monkeypatch.undo()
        mark = len(hans.inbox())
        await hans.send_command("/help")
        await hans.wait_for_message(after=mark)
        assert SORRY_DE not in (hans.inbox()[-1].text or "")


async def test_updates_hirebot_cannot_act_on_are_answered_200_and_change_nothing(
    tmp_path: Path, database_url: str
) -> None:
    async with World(data_dir=tmp_path, database_url=database_url, telegram_mode="webhook") as w:
        token = await invite(w)
        jane = w.telegram.candidate(700_801, "Jane", "Doe")
        user = {"id": jane.user_id, "is_bot": False, "first_name": "Jane"}
        private = {"id": jane.chat_id, "type": "private", "first_name": "Jane"}
        channel = {"id": -100_123, "type": "channel", "title": "News"}
        start = {
            "message_id": 1,
            "date": 1_795_000_000,
            "chat": private,
            "from": user,
            "text": f"/start {token}",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        }
        voice = {"file_id": "x", "file_unique_id": "y", "duration": 3, "file_size": 10}
        updates = [
            # A channel post has no sender: it used to trip an assertion (answered 500).
            {
                "channel_post": {
                    "message_id": 2,
                    "date": 1_795_000_000,
                    "chat": channel,
                    "voice": voice,
                }
            },
            # An edit of an earlier message is not a new message, let alone an answer.
            {"edited_message": {**start, "edit_date": 1_795_000_100}},
            # The same /start in a group is not the candidate's private chat.
            {"message": {**start, "chat": {"id": -42, "type": "group", "title": "Friends"}}},
            {
                "my_chat_member": {
                    "chat": private,
                    "from": user,
                    "date": 1_795_000_000,
                    "old_chat_member": {"status": "member", "user": user},
                    "new_chat_member": {"status": "kicked", "user": user, "until_date": 0},
                }
            },
        ]
        async with ClientSession() as http:
            for update_id, update in enumerate(updates, start=9_000):
                async with http.post(
                    w.telegram.webhook_url,
                    json={"update_id": update_id, **update},
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                ) as response:
                    assert response.status == 200
        rows = w.bot.uow.run_sync(lambda s, _now: s.exec(select(InboxUpdate)).all())
        assert [(r.update_id, r.status, r.payload) for r in rows] == [
            (n, InboxStatus.IGNORED, {}) for n in range(9_000, 9_000 + len(updates))
        ]
        await w.telegram.wait_idle()
        assert w.telegram.calls_of("sendMessage") == []
        assert w.telegram.calls_of("getFile") == []
        status = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Interview.status)).one())
        assert status == "invited"
        assert w.bot.uow.run_sync(lambda s, _now: s.exec(select(Answer)).all()) == []
        kinds = w.bot.uow.run_sync(lambda s, _now: s.exec(select(OutboxMessage.kind)).all())
        assert kinds == ["review.card.post"]  # the invitation's card; nothing since


async def test_a_poisoned_recording_does_not_hold_up_another_candidate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One candidate's update failing (and being retried) never blocks anyone else's."""
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_802, "Jane", "Doe")
        ken = w.telegram.candidate(700_803, "Ken", "Roe")
        await jane.send_command("/start", await invite(w, "Jane Doe"))
        await jane.wait_for_message("Do you agree?")
        original = interview.command

        def broken_for_jane(session: Any, *, person: Any, **kwargs: Any) -> None:
            if person.user_id == jane.user_id:
                raise RuntimeError("poison")
            original(session, person=person, **kwargs)

        monkeypatch.setattr(interview, "command", broken_for_jane)
        await jane.send_command("/status")
        await jane.send_voice(SAMPLES / "answer1.ogg")  # waits behind Jane's /status
        await ken.send_command("/help")
        await ken.wait_for_message("/status", timeout=5)  # while Jane's update is retried
        assert SORRY not in [m.text for m in jane.inbox()]
        await jane.wait_for_message(SORRY, timeout=30)
