"""The candidate's interview over Telegram: every step, every kind of reply, every way back.

Each story runs the real bot (PTB, Bolt) against the sandbox and asserts what the candidate
and the team received and what was stored.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.sandbox.world import (
    REVIEW_CHANNEL,
    SAMPLES,
    World,
    answer_question,
    eventually,
)
from storage import outbox
from storage.models import Candidate, Interview, OutboxMessage
from tests.candidate.media_files import silent_video, tone_voice_note
from tests.helpers.candidate import (
    answers_stored,
    begin_three_questions,
    three_question_opening,
)
from tests.helpers.stories import invite, start_answering
from tests.recordings import assert_uploaded_recording


async def test_full_interview_with_voice_video_note_and_video(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path, opening_file=three_question_opening(tmp_path)) as w:
        jane = await begin_three_questions(w)
        await answer_question(jane, 1, 3, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        await answer_question(jane, 2, 3, lambda: jane.send_video_note(SAMPLES / "answer2.mp4"))
        await answer_question(jane, 3, 3, lambda: jane.send_video(SAMPLES / "answer2.mp4"))
        done = await jane.wait_for_message("you've submitted all 3 answers")
        assert "you'll hear back from them here by" in (done.text or "")
        answers = answers_stored(w)
        assert [(a.media_kind, a.take, a.submitted) for a in answers] == [
            ("voice", 1, True),
            ("video_note", 1, True),
            ("video", 1, True),
        ]
        assert answers[0].duration_seconds is not None
        assert abs(answers[0].duration_seconds - 7.06) < 0.3  # decoded, not Telegram's claim
        assert all(
            a.prep_seconds_used is not None and a.elapsed_seconds is not None for a in answers
        )
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        await eventually(
            # Three answers, each followed by its recording, then "completed".
            lambda: len(w.slack.thread(REVIEW_CHANNEL, parent.ts)) == 7,
            seconds=120,
            what="posts",
        )
        interview = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Interview)).one())
        assert interview.status == "completed" and interview.consent_version is not None


async def test_candidate_rerecords_first_answer_and_only_the_submitted_take_is_posted(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path, opening_file=three_question_opening(tmp_path)) as w:
        jane = await begin_three_questions(w)
        await jane.press("Ready")
        await jane.wait_for_message("Question 1 of 3:")
        await jane.send_voice(SAMPLES / "answer2.ogg")
        first = await jane.wait_for_message("take 1 of 2")
        assert [label for label, _ in first.buttons()] == ["Submit ✅", "Record again 🔁 (1 left)"]
        mark = len(jane.inbox())
        await jane.press("Record again 🔁 (1 left)", first)
        await jane.wait_for_message("record it again", after=mark)
        await jane.send_voice(SAMPLES / "answer1.ogg")
        last = await jane.wait_for_message("That was your last take")
        assert [label for label, _ in last.buttons()] == ["Submit ✅"]
        await jane.press("Submit ✅", last)
        await jane.wait_for_message("Question 2 of 3.")
        # A stale button from the first take changes nothing.
        await jane.press("Submit ✅", first)
        await jane.wait_for_message("belongs to an earlier step")

        take1, take2 = answers_stored(w)
        assert (take1.take, take1.superseded, take1.submitted, take1.media_path) == (
            1,
            True,
            False,
            None,
        )
        assert (take2.take, take2.submitted) == (2, True)
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        post = await eventually(
            lambda: next(
                (m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "payment" in m.text),
                None,
            ),
            seconds=60,
        )
        assert "take 2" in post.text
        [uploaded] = w.slack.files
        assert_uploaded_recording(uploaded.data, SAMPLES / "answer1.ogg")
        # The replaced take's file was deleted as soon as she chose to record again.
        stored = [p.name.split(".")[0] for p in (tmp_path / "media").glob("*/*")]
        assert stored == [take2.media_sha256]


async def test_over_limit_answer_is_refused_in_strict_mode(tmp_path: Path) -> None:
    long_note = tone_voice_note(tmp_path / "long.ogg", 15)
    async with World(data_dir=tmp_path / "d", opening_file=three_question_opening(tmp_path)) as w:
        jane = await begin_three_questions(w)
        await jane.press("Ready")
        await jane.wait_for_message("Question 1 of 3:")
        mark = len(jane.inbox())
        await jane.send_voice(long_note, duration=15)
        refusal = await jane.wait_for_message("allows up to", after=mark)
        assert refusal.text == (
            "Your answer is 15 s long, and this question allows up to 10 s. Please record a "
            "shorter answer — this one wasn't saved and doesn't count as a take."
        )
        assert answers_stored(w) == []
        # The candidate records a shorter one: it is take 1 of 2.
        await jane.send_voice(SAMPLES / "answer1.ogg")
        await jane.wait_for_message("take 1 of 2")


async def test_over_limit_answer_is_kept_and_flagged_in_soft_mode(tmp_path: Path) -> None:
    # Silence: Whisper skips it at once (a tone would make it loop for half a minute).
    long_note = tone_voice_note(tmp_path / "long.ogg", 15, amplitude=0.0)
    async with World(
        data_dir=tmp_path / "d", opening_file=three_question_opening(tmp_path, strict=False)
    ) as w:
        jane = await begin_three_questions(w)
        await answer_question(jane, 1, 3, lambda: jane.send_voice(long_note, duration=15))
        heads_up = next(m for m in jane.inbox() if "Heads-up" in (m.text or ""))
        assert heads_up.text == "Heads-up: this answer is 15 s, over the 10 s suggested."
        [answer] = answers_stored(w)
        assert answer.over_limit and answer.submitted
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        post = await eventually(
            lambda: next(iter(w.slack.thread(REVIEW_CHANNEL, parent.ts)), None), seconds=60
        )
        assert "over the time limit" in post.text


async def test_every_kind_of_bad_input_gets_a_specific_answer_and_changes_nothing(
    tmp_path: Path,
) -> None:
    no_audio = silent_video(tmp_path / "silent.mp4")
    garbage = tmp_path / "broken.ogg"
    garbage.write_bytes(b"OggS" + bytes(range(256)) * 40)
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(b"%PDF-1.4 not a recording")
    types = "voice note, video note or video"
    async with World(data_dir=tmp_path / "d", opening_file=three_question_opening(tmp_path)) as w:
        jane = await begin_three_questions(w)
        await jane.press("Ready")
        await jane.wait_for_message("Question 1 of 3:")
        cases = [
            (jane.send_sticker(), f"Nice sticker! To answer, please send a {types}."),
            (jane.send_photo(pdf), f"I can't use photos as answers. Please send a {types}."),
            (
                jane.send_location(52.5, 13.4),
                f"I don't need your location. To answer, please send a {types}.",
            ),
            (
                jane.send_contact("+49 30 1234567"),
                f"I don't need a contact. To answer, please send a {types}.",
            ),
            (
                jane.send_poll("Lunch?"),
                f"I can't answer polls, sorry. To answer the question, send a {types}.",
            ),
            (
                jane.send_text("I'd rather type"),
                f"Thanks! This question needs a spoken answer, though: please send a {types}.",
            ),
            (
                jane.send_document(pdf, "application/pdf", "cv.pdf"),
                f"That file isn't a recording I can use. Please send a {types}.",
            ),
            (
                jane.send_video(no_audio, duration=2),
                "This file has no sound track, so there is nothing to listen to. Please record "
                f"your answer again as a {types} with sound.",
            ),
            (
                jane.send_voice(garbage, duration=3),
                "I couldn't open this file: it looks damaged or isn't a recording I can play. "
                f"Please record your answer again as a {types}.",
            ),
            (
                jane.send_oversized_voice(),
                "That file is too big for me to receive (the limit is 20 MB). Please record a "
                "shorter answer, or send it as a voice or video note.",
            ),
        ]
        for send, expected in cases:
            mark = len(jane.inbox())
            await send
            reply = await jane.wait_for_message(after=mark)
            assert reply.text == expected
        assert answers_stored(w) == []
        interview = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Interview)).one())
        assert (interview.question_index, interview.phase) == (0, "answering")
        assert list((tmp_path / "d" / "media").glob("*/*")) == []
        # And the real answer still works afterwards.
        await jane.send_voice(SAMPLES / "answer1.ogg")
        await jane.wait_for_message("take 1 of 2")


async def test_candidate_resumes_after_a_restart_and_is_never_asked_twice(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path, opening_file=three_question_opening(tmp_path)) as w:
        jane = await begin_three_questions(w)
        await answer_question(jane, 1, 3, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        await jane.wait_for_message("Question 2 of 3.")
        await w.stop_bot()
        await w.start_bot()
        mark = len(jane.inbox())
        await jane.send_command("/start")
        back = await jane.wait_for_message("Welcome back", after=mark)
        intro = await jane.wait_for_message("Question 2 of 3.", after=mark)
        assert jane.inbox().index(intro) > jane.inbox().index(back)
        assert not any("Question 1 of 3" in (m.text or "") for m in jane.inbox()[mark:])
        await answer_question(jane, 2, 3, lambda: jane.send_video_note(SAMPLES / "answer2.mp4"))
        assert [a.take for a in answers_stored(w)] == [1, 1]


async def test_german_speaking_candidate_is_interviewed_in_german(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        hans = w.telegram.candidate(700_200, "Hans", "Meier", language_code="de")
        await hans.send_command("/start", await invite(w, "Hans Meier"))
        consent = await hans.wait_for_message("Sind Sie einverstanden?")
        assert [label for label, _ in consent.buttons()] == ["Einverstanden", "Nein, danke"]
        await hans.press("Einverstanden")
        intro = await hans.wait_for_message("Frage 1 von 2.")
        assert [label for label, _ in intro.buttons()] == ["Bereit"]
        # ...and can switch to English.
        await hans.send_command("/language")
        choose = await hans.wait_for_message("Welche Sprache")
        await hans.press("English", choose)
        await hans.wait_for_message("I'll write in English")


async def test_status_help_and_more_time(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_300, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await jane.send_command("/status")
        status = await jane.wait_for_message("you've answered 0 of 2 questions")
        assert "Deadline:" in (status.text or "")
        await jane.send_command("/help")
        await jane.wait_for_message("/delete_my_data")
        await jane.send_command("/more_time")
        await jane.wait_for_message("I've asked the hiring team for more time")
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        note = await eventually(
            lambda: next(
                (m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "more time" in m.text),
                None,
            )
        )
        assert "The candidate asked for more time" in note.text
        assert [b["action_id"] for b in note.buttons()] == [
            "extension:approve:1",
            "extension:deny:1",
        ]


async def test_delete_my_data_leaves_no_file_or_row_behind(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path, opening_file=three_question_opening(tmp_path)) as w:
        jane = await begin_three_questions(w)
        await answer_question(jane, 1, 3, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        await eventually(lambda: w.slack.thread(REVIEW_CHANNEL, parent.ts), seconds=60)
        await jane.send_command("/delete_my_data")
        confirm = await jane.wait_for_message("It can't be undone")
        await jane.press("Yes, delete everything", confirm)
        await jane.wait_for_message("Done: your recordings")
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)

        assert answers_stored(w) == []
        assert list((tmp_path / "media").glob("*/*")) == []
        candidate = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Candidate)).one())
        assert candidate.name.startswith("Withdrawn candidate")
        assert (candidate.telegram_user_id, candidate.telegram_chat_id, candidate.email) == (
            None,
            None,
            None,
        )
        # No stored message still carries what she said or her name.
        rows = w.bot.uow.run_sync(lambda s, _now: s.exec(select(OutboxMessage)).all())
        stored = " ".join(str(r.payload) for r in rows)
        assert "payment" not in stored.lower() and "Jane" not in stored
        card = w.slack.messages(REVIEW_CHANNEL)[0]
        await eventually(lambda: "Withdrawn candidate" in card.text, what="the card renamed")
        assert any("withdrew" in m.text for m in w.slack.thread(REVIEW_CHANNEL, parent.ts))
        # She is a stranger to the bot now.
        mark = len(jane.inbox())
        await jane.send_text("hello?")
        await jane.wait_for_message("open the invitation link", after=mark)


PRACTICE = """
slug: backend-engineer
title: Backend Engineer
review_channel: C0REVIEW01
practice_question: What did you have for breakfast?
questions:
  - text: Tell us about a system you built.
    prep_seconds: 20
    answer_seconds: 60
"""


async def test_practice_question_is_never_kept_or_shown_to_reviewers(tmp_path: Path) -> None:
    async with World(
        data_dir=tmp_path, opening_file=three_question_opening(tmp_path, body=PRACTICE)
    ) as w:
        jane = w.telegram.candidate(700_500, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        await jane.press("I agree", await jane.wait_for_message("Do you agree?"))
        intro = await jane.wait_for_message("First, a practice question")
        await jane.press("Ready", intro)
        await jane.wait_for_message("Practice question:\nWhat did you have for breakfast?")
        await jane.send_voice(SAMPLES / "answer2.ogg", duration=6)
        done = await jane.wait_for_message("that was 6 s")
        assert "not kept" in (done.text or "")
        await jane.wait_for_message("Question 1 of 1.")
        assert answers_stored(w) == []
        assert list((tmp_path / "media").glob("*/*")) == []
        assert not any(c.method == "getFile" for c in w.telegram.calls)  # never downloaded
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        assert w.slack.thread(REVIEW_CHANNEL, parent.ts) == []


async def test_extra_time_accommodation_scales_preparation_and_answer_time(
    tmp_path: Path,
) -> None:
    from bot.flows import interview

    async with World(
        data_dir=tmp_path, opening_file=three_question_opening(tmp_path, body=PRACTICE)
    ) as w:
        invitation = await w.bot.uow.run(
            lambda s, now: interview.invite(
                s,
                opening_slug="backend-engineer",
                candidate_name="Jane Doe",
                invited_by="U0RECRUITER",
                now=now,
                time_multiplier=1.5,
            )
        )
        jane = w.telegram.candidate(700_501, "Jane", "Doe")
        await jane.send_command("/start", invitation.token)
        await jane.press("I agree", await jane.wait_for_message("Do you agree?"))
        await jane.press("Ready", await jane.wait_for_message("First, a practice question"))
        await jane.send_voice(SAMPLES / "answer2.ogg", duration=6)
        intro = await jane.wait_for_message("Question 1 of 1.")
        assert "30 s to prepare and up to 1:30 min to answer" in (intro.text or "")


async def test_telegram_outage_delays_messages_without_losing_or_repeating_them(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_502, "Jane", "Doe")
        w.telegram.fail("sendMessage", status=502, times=3)
        await jane.send_command("/start", await invite(w))
        await jane.wait_for_message("Do you agree?", timeout=30)
        texts = [m.text or "" for m in jane.inbox()]
        assert len(texts) == 2 and texts[0].startswith("Hi Jane!")
        failed = [c for c in w.telegram.calls if c.method == "sendMessage" and c.status == 502]
        assert len(failed) == 3


async def test_two_quick_messages_are_answered_in_the_order_they_were_sent(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_503, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        mark = len(jane.inbox())
        await jane.send_sticker()
        await jane.send_command("/status")
        await jane.wait_for_message("you've answered 0 of 2", after=mark)
        replies = [m.text or "" for m in jane.inbox()[mark:]]
        assert replies[0].startswith("Press Ready first")  # the sticker's answer comes first
        assert "you've answered 0 of 2" in replies[-1]


async def test_an_answer_post_in_flight_during_erasure_does_not_stay_in_slack(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path, opening_file=three_question_opening(tmp_path)) as w:
        jane = await begin_three_questions(w)
        parent = w.slack.messages(REVIEW_CHANNEL)[0]
        w.slack.hold("chat.postMessage")  # Slack is slow: the answer post hangs in flight
        await answer_question(jane, 1, 3, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
        await eventually(lambda: w.slack.held("chat.postMessage") > 0, what="the post in flight")
        await jane.send_command("/delete_my_data")
        await jane.press("Yes, delete everything", await jane.wait_for_message("can't be undone"))
        await jane.wait_for_message("Done: your recordings")
        w.slack.release("chat.postMessage")  # the post lands after the erasure committed

        def redacted() -> bool:
            replies = w.slack.thread(REVIEW_CHANNEL, parent.ts)
            return any("withdrew" in m.text for m in replies) and not any(
                "Tell us about a system" in m.text for m in replies
            )

        await eventually(redacted, what="the late post redacted")
        replies = [m.text for m in w.slack.thread(REVIEW_CHANNEL, parent.ts)]
        assert len(replies) == 1 and "withdrew" in replies[0]  # the late post was deleted too
        assert w.slack.files == []  # its recording was never uploaded
