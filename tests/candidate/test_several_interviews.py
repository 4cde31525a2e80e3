"""One person, several interviews: each button moves only its own interview."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.sandbox.telegram import TelegramSandbox
from bot.sandbox.world import SAMPLES, World
from storage.models import Answer, Interview
from tests.helpers.stories import invite


def _interviews(world: World) -> list[tuple[int, str, int, str]]:
    rows = world.bot.uow.run_sync(
        lambda s, _now: s.exec(select(Interview).order_by(col(Interview.id))).all()
    )
    return [(i.id or 0, i.status, i.question_index, i.phase) for i in rows]


def _answers(world: World) -> list[tuple[int, int, bool]]:
    rows = world.bot.uow.run_sync(
        lambda s, _now: s.exec(select(Answer).order_by(col(Answer.id))).all()
    )
    return [(a.interview_id, a.take, a.submitted) for a in rows]


async def test_a_candidate_invited_twice_answers_both_and_old_buttons_move_only_their_own(
    tmp_path: Path, database_url: str
) -> None:
    async with World(data_dir=tmp_path, database_url=database_url) as w:
        jane = w.telegram.candidate(700_900, "Jane", "Doe")
        first, second = await invite(w), await invite(w)  # a re-invitation
        await jane.send_command("/start", first)
        await jane.press("I agree", await jane.wait_for_message("Do you agree?"))
        intro_a = await jane.wait_for_message("Question 1 of 2.")
        mark = len(jane.inbox())
        await jane.send_command("/start", second)
        await jane.press("I agree", await jane.wait_for_message("Do you agree?", after=mark))
        intro_b = await jane.wait_for_message("Question 1 of 2.", after=mark)
        (a, *_), (b, *_) = _interviews(w)
        assert _interviews(w) == [(a, "answering", 0, "intro"), (b, "answering", 0, "intro")]

        # Ready on the first interview's (older) message starts the first interview.
        mark = len(jane.inbox())
        await jane.press("Ready", intro_a)
        await jane.wait_for_message("Question 1 of 2:", after=mark)
        assert _interviews(w) == [(a, "answering", 0, "answering"), (b, "answering", 0, "intro")]

        # The recording goes to the interview waiting for one.
        mark = len(jane.inbox())
        await jane.send_voice(SAMPLES / "answer1.ogg")
        got_it = await jane.wait_for_message("Got it", after=mark)
        await jane.press("Submit ✅", got_it)
        await jane.wait_for_message("Answer 1 submitted", after=mark)
        await jane.wait_for_message("Question 2 of 2.", after=mark)
        assert _answers(w) == [(a, 1, True)]

        # A stale button of the first interview says so and never moves the second.
        mark = len(jane.inbox())
        await jane.press("Ready", intro_a)
        stale = await jane.wait_for_message(after=mark)
        assert stale.text == "That button belongs to an earlier step."
        assert _interviews(w) == [(a, "answering", 1, "intro"), (b, "answering", 0, "intro")]

        # The second interview is answered on its own buttons.
        mark = len(jane.inbox())
        await jane.press("Ready", intro_b)
        await jane.wait_for_message("Question 1 of 2:", after=mark)
        await jane.send_voice(SAMPLES / "answer2.ogg")
        got_it = await jane.wait_for_message("Got it", after=mark)
        await jane.press("Submit ✅", got_it)
        await jane.wait_for_message("Answer 1 submitted", after=mark)
        assert _answers(w) == [(a, 1, True), (b, 1, True)]
        assert _interviews(w) == [(a, "answering", 1, "intro"), (b, "answering", 1, "intro")]
        for sent in jane.inbox():
            for _label, data in sent.buttons():
                assert len(data.encode()) <= 64


async def test_a_forged_button_naming_another_persons_interview_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    async with World(data_dir=tmp_path, database_url=database_url) as w:
        jane = w.telegram.candidate(700_901, "Jane", "Doe")
        mallory = w.telegram.candidate(700_902, "Mallory", "Roe")
        await jane.send_command("/start", await invite(w, "Jane Doe"))
        await jane.press("I agree", await jane.wait_for_message("Do you agree?"))
        await jane.wait_for_message("Question 1 of 2.")
        await mallory.send_command("/start", await invite(w, "Mallory Roe"))
        consent = await mallory.wait_for_message("Do you agree?")
        before = _interviews(w)
        (jane_interview, *_), _ = before

        mark = len(mallory.inbox())
        await mallory.press_forged(f"ready:0@{jane_interview}", consent)
        refusal = await mallory.wait_for_message(after=mark)
        assert refusal.text == (
            "That button does not belong to your interview, so nothing was changed."
        )
        await w.telegram.wait_idle()
        assert _interviews(w) == before
        assert len(mallory.inbox()) == mark + 1
        assert len(jane.inbox()) == 3  # welcome, consent, question 1's intro: nothing new
        assert _answers(w) == []


async def test_an_old_button_without_an_interview_still_works_with_one_interview(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_903, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        consent = await jane.wait_for_message("Do you agree?")
        mark = len(jane.inbox())
        await jane.press_forged("consent:agree", consent)  # as sent before buttons had ids
        await jane.wait_for_message("Question 1 of 2.", after=mark)
        [(_id, status, _index, phase)] = _interviews(w)
        assert (status, phase) == ("answering", "intro")


async def test_the_emulator_refuses_callback_data_over_64_bytes(tmp_path: Path) -> None:
    async with TelegramSandbox() as sandbox:
        jane = sandbox.candidate(700_904)
        bot = Bot(sandbox.token, base_url=sandbox.api_url)
        async with bot:
            for size, accepted in ((64, True), (65, False)):
                markup = InlineKeyboardMarkup(
                    [[InlineKeyboardButton("Ready", callback_data="x" * size)]]
                )
                if accepted:
                    await bot.send_message(jane.chat_id, "fits", reply_markup=markup)
                    continue
                with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
                    await bot.send_message(jane.chat_id, "too long", reply_markup=markup)
        assert [m.text for m in jane.inbox()] == ["fits"]


async def test_malformed_button_data_is_answered_as_a_stale_button_and_changes_nothing(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_905, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        await jane.press("I agree", await jane.wait_for_message("Do you agree?"))
        intro = await jane.wait_for_message("Question 1 of 2.")
        before = _interviews(w)
        [(mine, *_)] = before
        for data in (
            f"ready:x@{mine}",
            f"submit:0@{mine}",
            f"consent:maybe@{mine}",
            f"readyy:0@{mine}",
            "ready:+1",
            "ready:0@abc",
            "garbage",
        ):
            mark = len(jane.inbox())
            await jane.press_forged(data, intro)
            stale = await jane.wait_for_message(after=mark)
            assert stale.text == "That button belongs to an earlier step.", data
            await jane.wait_for_message("Question 1 of 2.", after=mark + 1)  # where she is
            await w.telegram.wait_idle()
            assert _interviews(w) == before, data
        assert _answers(w) == []
