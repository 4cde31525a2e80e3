"""Redeliveries change nothing; rate limits and outages delay messages, never lose or repeat."""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.delivery import retry_delay
from bot.flows import outgoing
from bot.flows.outgoing import Kind
from bot.limits import DeliveryLimit
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
from storage import outbox
from storage.models import Answer, OutboxMessage, OutboxStatus, Vote
from tests.helpers.stories import invite, start_answering


async def test_redelivered_voice_update_stores_one_answer(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_010, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await jane.press("Ready")
        await jane.wait_for_message("Question 1 of 2:")
        update_id = await jane.send_voice(SAMPLES / "answer1.ogg", duration=7)
        await jane.wait_for_message("Got it")
        w.telegram.redeliver(update_id)
        await w.wait_idle()  # the redelivery was taken and handled (or recognised)
        received = [m for m in jane.inbox() if "Got it" in (m.text or "")]
        assert len(received) == 1
        answers = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Answer)).all())
        assert len(answers) == 1


async def test_redelivered_vote_click_counts_once(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        await invite(w)
        tom = w.slack.teammate(TEAMMATE)
        card = await eventually(lambda: next(iter(w.slack.messages(REVIEW_CHANNEL)), None))
        await tom.click("vote_no", message=card)
        await eventually(lambda: "No 1" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))
        edits = w.slack.messages(REVIEW_CHANNEL)[0].edits
        await tom.redeliver_last_click()
        await w.wait_idle()
        assert w.slack.messages(REVIEW_CHANNEL)[0].edits == edits

        # Changing one's mind is a new click: the vote changes, it is not added.
        await tom.click("vote_yes", message=w.slack.messages(REVIEW_CHANNEL)[0])
        await eventually(lambda: "Yes 1" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))
        assert "No 0" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0])
        votes = w.bot.uow.run_sync(lambda s, _now: s.exec(select(Vote)).all())
        assert [(v.reviewer, v.choice) for v in votes] == [(TEAMMATE, "yes")]


async def test_telegram_rate_limit_delays_a_question_without_losing_or_repeating_it(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_011, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        consent = await jane.wait_for_message("Do you agree?")
        w.telegram.fail("sendMessage", status=429, retry_after=2, times=1)
        pressed = time.monotonic()
        await jane.press("I agree", consent)
        await jane.wait_for_message("Question 1 of 2.", timeout=20)
        assert time.monotonic() - pressed >= 2.0  # honoured retry_after
        assert sum("Question 1 of 2." in (m.text or "") for m in jane.inbox()) == 1


async def test_slack_429_storm_delays_posts_but_loses_and_duplicates_none(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        # Slack answers 429 to the first three card posts, then a 500: all is delivered once.
        w.slack.fail("chat.postMessage", status=429, retry_after=1, times=3)
        await invite(w, "Jane Doe")
        await invite(w, "John Roe")
        await eventually(
            lambda: len(w.slack.messages(REVIEW_CHANNEL)) == 2, seconds=30, what="both cards"
        )
        await eventually(
            lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0,
            what="the outbox to drain",
        )
        names = sorted(visible_text(m).split("*")[1] for m in w.slack.messages(REVIEW_CHANNEL))
        assert names == ["Jane Doe", "John Roe"]
        posts = [c for c in w.slack.calls if c.method == "chat.postMessage"]
        assert len(posts) == 5  # 3 refused + 2 delivered, no duplicate


async def test_five_429s_with_retry_after_1_delay_a_card_by_about_5_seconds(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        w.slack.fail("chat.postMessage", status=429, retry_after=1, times=5)
        started = time.monotonic()
        await invite(w, "Jane Doe")
        await eventually(
            lambda: w.slack.messages(REVIEW_CHANNEL), seconds=40, what="the card after 5 × 429"
        )
        waited = time.monotonic() - started
        # Slack's word as given (5 × 1 s), not our doubling on top (1+2+4+8+16 = 31 s).
        assert 4.5 <= waited <= 9, waited
        posts = [c for c in w.slack.calls if c.method == "chat.postMessage"]
        # slack_sdk's AsyncWebClient retries only connection errors by default: no 429 was
        # retried inside the SDK as well as by the outbox.
        assert len(posts) == 6


@pytest.mark.parametrize(
    ("status", "content_type"), [(502, "text/plain"), (503, "text/html"), (502, "application/json")]
)
async def test_a_proxy_error_page_instead_of_json_is_retried_like_any_outage(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, status: int, content_type: str
) -> None:
    async with World(data_dir=tmp_path) as w:
        w.slack.fail_with_text(
            "chat.postMessage",
            status=status,
            text="upstream connect error or disconnect/reset before headers. reset reason: "
            "connection termination",
            content_type=content_type,
            times=2,
        )
        with caplog.at_level(logging.WARNING, logger="bot.delivery"):
            await invite(w, "Jane Doe")
            await eventually(lambda: w.slack.messages(REVIEW_CHANNEL), what="the card")
        assert "Jane Doe" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0])
        posts = [c for c in w.slack.calls if c.method == "chat.postMessage"]
        assert len(posts) == 3  # two error pages, then the post
        deferred = [r for r in caplog.records if "deferred" in r.getMessage()]
        assert len(deferred) == 2 and all("Slack" in r.getMessage() for r in deferred)
        assert not [r for r in caplog.records if r.exc_info], "an error, not an outage"


async def test_a_card_slack_refuses_for_good_is_reported_once_and_wedges_nothing(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        # Slack refuses the card itself (a 200 with ok=false, as for every API error).
        w.slack.fail(
            "chat.postMessage", status=200, retry_after=None, error="invalid_blocks", times=1
        )
        jane = w.telegram.candidate(700_012, "Jane", "Doe")
        await start_answering(w, jane, await invite(w, "Jane Doe"))
        dm = await eventually(
            lambda: [m.text for m in w.slack.direct_messages(RECRUITER) if "gave up" in m.text],
            what="the recruiter's DM",
        )
        assert "candidate #" in dm[0] and "invalid_blocks" in dm[0]

        # The answer cannot go under a card that does not exist: it is given up with a clear
        # reason, not retried forever, and not reported a second time.
        await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg", 7))
        await eventually(
            lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0, what="outbox"
        )
        rows = w.bot.uow.run_sync(lambda s, _now: s.exec(select(OutboxMessage)).all())
        failed = [r for r in rows if r.status == OutboxStatus.FAILED]
        assert failed[0].kind == Kind.CARD_POST and "invalid_blocks" in (failed[0].last_error or "")
        assert all("never posted" in (r.last_error or "") for r in failed[1:])
        assert len(failed) >= 2
        assert len([m for m in w.slack.direct_messages(RECRUITER) if "gave up" in m.text]) == 1
        assert w.slack.messages(REVIEW_CHANNEL) == []
        # The candidate's own conversation went on meanwhile.
        await jane.wait_for_message("Question 2 of 2.")


def test_each_retry_waits_what_the_platform_said_or_doubles_up_to_five_minutes() -> None:
    assert [retry_delay(attempts, 1.0).total_seconds() for attempts in range(5)] == [1.0] * 5
    assert [retry_delay(attempts, None).total_seconds() for attempts in (0, 1, 2, 8, 9, 30)] == [
        1.0,
        2.0,
        4.0,
        256.0,
        300.0,
        300.0,
    ]


async def test_a_candidate_hears_back_while_slow_slack_calls_fill_their_lane(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_012, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        consent = await jane.wait_for_message("Do you agree?")
        # Slack hangs: more notes to team members than the outbox sends at once, each to a
        # conversation of its own, so every slot for Slack is taken by a call that waits.
        w.slack.hold("chat.postEphemeral")
        users = [f"U0SLOW{i:03d}" for i in range(DeliveryLimit.BATCH + 5)]
        for user in users:
            w.slack.add_user(user, user.lower())
            w.slack.channel(REVIEW_CHANNEL).members.append(user)

        def notes(session: Session, now: datetime) -> None:
            for user in users:
                outgoing.privately(
                    session, channel=REVIEW_CHANNEL, user=user, text="a note", now=now
                )

        w.bot.uow.run_sync(notes)
        await eventually(
            lambda: w.slack.held("chat.postEphemeral") == DeliveryLimit.BATCH,
            what="Slack's lane full",
        )
        await jane.press("I agree", consent)
        await jane.wait_for_message("Question 1 of 2.")  # not behind the held calls
        assert w.slack.held("chat.postEphemeral") == DeliveryLimit.BATCH

        w.slack.release("chat.postEphemeral")

        def all_sent() -> bool:
            rows = w.bot.uow.run_sync(lambda s, _now: s.exec(select(OutboxMessage)).all())
            return all(r.status == OutboxStatus.SENT for r in rows)

        await eventually(all_sent, seconds=60, what="every note sent once released")


async def test_a_message_sent_while_the_database_is_away_is_recorded_not_sent_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram took the question, then the database failed the sent mark (a restart):
    the mark is retried, so the row is not left leased to be sent again later."""
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_012, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        failures = {"left": 2}

        def database_away(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            marking = statement.startswith("UPDATE outboxmessage") and "sent_at" in statement
            if marking and failures["left"] > 0:
                failures["left"] -= 1
                raise OperationalError(statement, None, sqlite3.OperationalError("disk I/O error"))

        event.listen(w.bot.uow.db.engine, "before_cursor_execute", database_away)
        with caplog.at_level(logging.WARNING):
            await jane.press("Ready")
            await jane.wait_for_message("Question 1 of 2:")
            await w.wait_idle()
        event.remove(w.bot.uow.db.engine, "before_cursor_execute", database_away)
        assert failures["left"] == 0
        said = [m.text for m in jane.inbox()]
        assert len(said) == len(set(said))  # each message once, the question included
        rows = w.bot.uow.run_sync(lambda s, _now: s.exec(select(OutboxMessage)).all())
        assert all(r.status == OutboxStatus.SENT for r in rows)
        retried = [r for r in caplog.records if "recording it failed, retrying" in r.message]
        assert len(retried) == 2
        assert "never retrieved" not in caplog.text
