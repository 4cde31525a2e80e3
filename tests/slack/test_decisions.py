"""Recruiters decide; the candidate always hears on Telegram, in the opening's own words."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.errors import IllegalTransition
from bot.flows import extensions
from bot.sandbox.world import (
    RECRUITER,
    REVIEW_CHANNEL,
    SAMPLES,
    TEAMMATE,
    World,
    answer_question,
    eventually,
    visible_text,
)
from storage.models import Decision, ExtensionRequest, Interview
from tests.helpers.slack import blind_opening, card, db, opened_view, replies, text_value
from tests.helpers.stories import invite, start_answering


@pytest.mark.parametrize("slack_mode", ["socket", "http"])
async def test_rejection_written_in_the_form_reaches_the_candidate_on_telegram(
    tmp_path: Path, slack_mode: str
) -> None:
    async with World(data_dir=tmp_path, slack_mode=slack_mode) as w:
        blind_opening(w, tmp_path)  # brings the opening's own rejection wording
        jane = w.telegram.candidate(700_201, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        rita = w.slack.teammate(RECRUITER)

        reply = await rita.slash("/hire", "reject Jane Doe", REVIEW_CHANNEL)
        assert reply.status == 200 and not reply.text  # the answer is the form
        form = await opened_view(w, "reject")
        message_field = next(b for b in form["blocks"] if b.get("block_id") == "message")
        prefilled = message_field["element"]["initial_value"]
        assert prefilled == "Dear Jane, Backend Engineer went to someone else. Thank you!"

        # An empty message is refused next to the field: the candidate always hears.
        await rita.submit_view(form, {"message": text_value("  ")})
        assert w.slack.view_acks[-1]["response_action"] == "errors"
        assert db(w, lambda s: s.exec(select(Interview)).one()).stage == "Async interview"

        edited = prefilled + " We'd love to see you apply again next year."
        values = {"reason": text_value("Wants a remote-only role."), "message": text_value(edited)}
        assert await rita.submit_view(form, values) == 200
        assert w.slack.view_acks[-1] == {}
        news = await jane.wait_for_message("went to someone else")
        assert news.text == edited
        parent = await card(w)
        note = await eventually(
            lambda: [m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "rejected" in m.text]
        )
        assert (
            note[0].text == f"⏹️ <@{RECRUITER}> rejected the candidate. They were told on Telegram. "
            "Reason: Wants a remote-only role."
        )
        await eventually(lambda: "Rejected" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))
        dm = await eventually(lambda: w.slack.direct_messages(RECRUITER))
        assert dm[-1].text == "Jane Doe rejected. They've been told on Telegram."
        decision = db(w, lambda s: s.exec(select(Decision)).one())
        assert (decision.kind, decision.by, decision.reason) == (
            "reject",
            RECRUITER,
            "Wants a remote-only role.",
        )

        again = await rita.slash("/hire", "reject Jane Doe", REVIEW_CHANNEL)
        assert again.text == "This candidate was already rejected."


async def test_recruiter_advances_to_a_named_stage(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_202, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        rita = w.slack.teammate(RECRUITER)
        reply = await rita.slash("/hire", "advance #1 to offer", REVIEW_CHANNEL)
        assert reply.text == "Jane Doe advanced to Offer. They've been told on Telegram."
        news = await jane.wait_for_message("Good news")
        assert "Offer" in (news.text or "")
        bad = await rita.slash("/hire", "advance #1 to CEO", REVIEW_CHANNEL)
        assert (bad.text or "").startswith("Unknown stage 'CEO'. Stages: Async interview")


async def test_expired_candidate_asks_for_more_time_and_a_recruiter_approves(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_203, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))

        def deadline_passes(session: Session) -> None:
            interview = session.exec(select(Interview)).one()
            interview.deadline_at -= timedelta(days=8)

        db(w, deadline_passes)
        await jane.send_text("hello?")
        await jane.wait_for_message("deadline")
        assert db(w, lambda s: s.exec(select(Interview)).one()).status == "expired"

        # The candidate's /more_time (the Telegram side) calls this:
        await w.bot.uow.run(lambda s, now: extensions.request_more_time(s, interview_id=1, now=now))
        parent = await card(w)
        request = await eventually(
            lambda: [m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if m.buttons()]
        )
        assert "asked for more time" in request[0].text
        assert [b["action_id"] for b in request[0].buttons()] == [
            "extension:approve:1",
            "extension:deny:1",
        ]

        # A teammate who is not a recruiter cannot decide.
        await w.slack.teammate(TEAMMATE).click("extension:approve:1", message=request[0])
        refusal = await eventually(lambda: w.slack.ephemerals(TEAMMATE))
        assert refusal[-1]["text"] == "Only recruiters can decide on more time."
        assert db(w, lambda s: s.exec(select(ExtensionRequest)).one()).status == "pending"

        await w.slack.teammate(RECRUITER).click("extension:approve:1", message=request[0])
        news = await jane.wait_for_message("given you more time")
        assert "Your new deadline is" in (news.text or "")
        decided = await eventually(
            lambda: [m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "gave 3" in m.text]
        )
        assert decided[0].ts == request[0].ts and decided[0].buttons() == []  # edited in place
        interview = db(w, lambda s: s.exec(select(Interview)).one())
        assert interview.status == "answering"
        stored = db(w, lambda s: s.exec(select(ExtensionRequest)).one())
        assert (stored.status, stored.decided_by, stored.days) == ("approved", RECRUITER, 3)

        # A second decision (two recruiters racing on the old buttons) is answered, not applied.
        with pytest.raises(IllegalTransition) as refused:
            await w.bot.uow.run(
                lambda s, now: extensions.decide(
                    s, request_id=1, approve=False, by=TEAMMATE, now=now
                )
            )
        assert str(refused.value) == f"This request was already approved by <@{RECRUITER}>."

        # The interview is answerable again: Jane finishes it.
        await jane.send_command("/start")
        await answer_question(jane, 2, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        await jane.wait_for_message("submitted all 2 answers")


async def test_recruiter_extends_and_reminds_from_the_command_line(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_204, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        rita = w.slack.teammate(RECRUITER)
        before = db(w, lambda s: s.exec(select(Interview)).one()).deadline_at

        reply = await rita.slash("/hire", "extend Jane Doe 2", REVIEW_CHANNEL)
        assert (reply.text or "").startswith("Jane Doe has a new deadline:")
        after = db(w, lambda s: s.exec(select(Interview)).one()).deadline_at
        assert after - before == timedelta(days=2)
        await jane.wait_for_message("given you more time")
        parent = await card(w)
        thread = await replies(w, parent, 1)
        assert thread[-1].text.startswith(f"⏳ <@{RECRUITER}> gave 2 more days")
        too_long = await rita.slash("/hire", "extend Jane Doe 365", REVIEW_CHANNEL)
        assert too_long.text == "Extend by 1 to 30 days."

        reply = await rita.slash("/hire", "remind Jane Doe", REVIEW_CHANNEL)
        assert (reply.text or "").startswith("Reminded Jane Doe on Telegram")
        reminder = await jane.wait_for_message("friendly reminder")
        assert "Backend Engineer" in (reminder.text or "")

        await invite(w, "John Roe")  # never opens the link
        reply = await rita.slash("/hire", "remind John Roe", REVIEW_CHANNEL)
        assert "hasn't opened their invitation yet" in (reply.text or "")
