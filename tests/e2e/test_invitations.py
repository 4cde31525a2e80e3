"""Who may invite, and what happens to a link used twice, a wrong link, or a 'no'."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, TEAMMATE, World, eventually
from storage.models import Interview
from tests.helpers.stories import invite


async def test_teammate_who_is_not_a_recruiter_cannot_invite(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        reply = await w.slack.teammate(TEAMMATE).slash(
            "/hire", "invite backend-engineer Jane Doe", REVIEW_CHANNEL
        )
        assert "Only recruiters" in (reply.text or "")
        assert w.bot.uow.run_sync(lambda s, _now: s.exec(select(Interview)).all()) == []
        assert w.slack.messages(REVIEW_CHANNEL) == []


async def test_unknown_opening_and_unknown_command_get_a_clear_answer(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        rita = w.slack.teammate(RECRUITER)
        reply = await rita.slash("/hire", "invite frontend Jane Doe", REVIEW_CHANNEL)
        assert reply.text == ("There is no opening called 'frontend'. Openings: backend-engineer.")
        reply = await rita.slash("/hire", "hire-everyone", REVIEW_CHANNEL)
        assert "I don't know `/hire hire-everyone`" in (reply.text or "")
        assert "/hire invite" in (reply.text or "")
        assert w.bot.uow.run_sync(lambda s, _now: s.exec(select(Interview)).all()) == []


async def test_second_account_using_a_used_link_is_refused_and_recruiter_warned(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        token = await invite(w)
        jane = w.telegram.candidate(700_020, "Jane", "Doe")
        await jane.send_command("/start", token)
        await jane.wait_for_message("Do you agree?")
        mallory = w.telegram.candidate(700_666, "Mallory", None)
        await mallory.send_command("/start", token)
        refusal = await mallory.wait_for_message("already been used")
        assert "another Telegram account" in (refusal.text or "")
        warning = await eventually(
            lambda: next(iter(w.slack.direct_messages(RECRUITER)), None), what="the DM"
        )
        assert "Someone else tried to use Jane Doe's invitation link" in warning.text
        # Jane's interview is untouched and still hers.
        await jane.press("I agree")
        await jane.wait_for_message("Question 1 of 2.")


async def test_wrong_link_and_no_link_get_a_polite_explanation(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        stranger = w.telegram.candidate(700_030, "Sam", None)
        await stranger.send_command("/start", "not-a-real-token")
        await stranger.wait_for_message("I don't recognise this invitation link")
        await stranger.send_text("hello?")
        await stranger.wait_for_message("open the invitation link your recruiter sent you")


async def test_candidate_who_declines_is_thanked_and_the_team_is_told(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_040, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        await jane.press("No, thanks", await jane.wait_for_message("Do you agree?"))
        await jane.wait_for_message("nothing was recorded")
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        note = await eventually(
            lambda: next(iter(w.slack.thread(REVIEW_CHANNEL, parent.ts)), None),
            what="the note in the thread",
        )
        assert "declined" in note.text
        interview = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Interview)).one())
        assert interview.status == "declined" and interview.consented_at is None
