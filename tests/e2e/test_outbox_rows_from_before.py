"""Outbox rows written before the typed messages, or that no message fits, after an upgrade.

Rows still waiting in a database when hirebot is upgraded carry payloads without ``kind``
(the shapes bot/flows/say.py wrote): each must still reach the Telegram and Slack emulators.
A row that no model fits is given up with a reason that names the fault and none of its
content, and its conversation goes on.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.flows import review
from bot.sandbox.world import (
    RECRUITER,
    REVIEW_CHANNEL,
    SAMPLES,
    TEAMMATE,
    World,
    eventually,
    visible_text,
)
from storage import outbox
from storage.models import (
    Candidate,
    Interview,
    OutboxMessage,
    OutboxStatus,
    ReviewPost,
    SharedCopy,
    ThreadMessage,
)
from tests.helpers.stories import invite, start_answering

# (kind column, ordering key, payload) as say.py wrote them; filled in per interview below.
Row = tuple[str, str, dict[str, Any]]


def _started(w: World) -> tuple[int, int, int] | None:
    """The interview, its review post (once posted) and the candidate's chat."""

    def ids(session: Session, _now: datetime) -> tuple[int, int, int] | None:
        interview = session.exec(select(Interview)).one()
        post = session.exec(select(ReviewPost)).one()
        chat = session.get_one(Candidate, interview.candidate_id).telegram_chat_id
        if post.message_id is None or chat is None:
            return None
        assert interview.id is not None and post.id is not None
        return interview.id, post.id, chat

    return w.bot.uow.run_sync(ids)


async def _deliver(w: World, rows: list[Row]) -> list[int]:
    """Insert ``rows`` as a database from before the upgrade holds them; wait until each is
    settled (sent or given up)."""

    def add(session: Session, _now: datetime) -> list[int]:
        added = [
            outbox.enqueue(session, ordering_key=key, kind=kind, payload=payload, now=w.clock())
            for kind, key, payload in rows
        ]
        session.flush()
        return [row.id for row in added if row.id is not None]

    ids = w.bot.uow.run_sync(add)
    w.bot.delivery.wake()

    def settled(session: Session, _now: datetime) -> bool:
        return not session.exec(
            select(OutboxMessage.id)
            .where(col(OutboxMessage.id).in_(ids))
            .where(OutboxMessage.status == OutboxStatus.PENDING)
        ).first()

    await eventually(lambda: w.bot.uow.run_sync(settled), what="the rows from before")
    return ids


def _statuses(w: World, ids: list[int]) -> list[tuple[str, str | None]]:
    rows = w.bot.uow.run_sync(
        lambda s, _now: s.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids))
            .order_by(col(OutboxMessage.id))
        ).all()
    )
    return [(row.status, row.last_error) for row in rows]


async def test_rows_written_before_the_typed_messages_reach_telegram_and_slack(
    tmp_path: Any,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_040, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        interview_id, post_id, chat = await eventually(lambda: _started(w), what="the card")
        review_key, dm_key = f"review:{interview_id}", f"user:{RECRUITER}"

        def prepare(session: Session, _now: datetime) -> tuple[dict[str, Any], int, int]:
            card = review.card(session, session.get_one(Interview, interview_id))
            # say.card_json: the dataclass as a dict, the deadline in ISO format.
            old_card = {**asdict(card), "deadline": card.deadline.isoformat()}
            old_card["candidate"] = "Jane Before"
            reply = ThreadMessage(
                interview_id=interview_id, key="before:reply", created_at=w.clock()
            )
            upload = ThreadMessage(
                interview_id=interview_id, key="before:file", created_at=w.clock()
            )
            session.add_all([reply, upload])
            session.flush()
            assert reply.id is not None and upload.id is not None
            return old_card, reply.id, upload.id

        old_card, reply_id, upload_id = w.bot.uow.run_sync(prepare)
        media = w.bot.media.put((SAMPLES / "answer1.ogg").read_bytes(), ".ogg")
        first: list[Row] = [
            (
                "candidate.text",
                f"tg:{chat}",
                {
                    "chat_id": chat,
                    "text": "A question from before",
                    "choices": [[{"label": "Old button", "data": "before:1"}]],
                },
            ),
            ("review.card.post", review_key, {"review_post_id": post_id, "card": old_card}),
            ("review.card.update", review_key, {"review_post_id": post_id, "card": old_card}),
            ("review.thread.post", review_key, {"review_post_id": post_id, "text": "A note"}),
            (
                "review.thread.post",
                review_key,
                {
                    "review_post_id": post_id,
                    "thread_message_id": reply_id,
                    "text": "A reply from before",
                    "key": "before:reply",
                    "choices": [],
                },
            ),
            (
                "review.thread.edit",
                review_key,
                {
                    "thread_message_id": reply_id,
                    "text": "A reply from before, edited",
                    "key": "before:reply",
                    "choices": [],
                },
            ),
            (
                "review.thread.upload",
                review_key,
                {
                    "review_post_id": post_id,
                    "media_path": media.relpath,
                    "media_title": "A recording from before",
                    "thread_message_id": upload_id,
                },
            ),
            (
                "review.notify",
                dm_key,
                {"user": RECRUITER, "text": "A DM from before", "about": [interview_id]},
            ),
            (
                "review.user.file",
                dm_key,
                {
                    "user": RECRUITER,
                    "filename": "before.csv",
                    "title": "An export from before",
                    "content": "name\nJane Doe\n",
                    "about": [interview_id],
                },
            ),
            (
                "review.private",
                f"user:{TEAMMATE}",
                {"channel": REVIEW_CHANNEL, "user": TEAMMATE, "text": "A reveal from before"},
            ),
        ]
        ids = await _deliver(w, first)
        assert _statuses(w, ids) == [(OutboxStatus.SENT, None)] * len(first)

        question = next(m for m in jane.inbox() if m.text == "A question from before")
        assert question.buttons() == [("Old button", "before:1")]
        [card] = w.slack.messages(REVIEW_CHANNEL)  # the card post from before: posted once
        assert "Jane Before" in visible_text(card)
        thread = [m.text for m in w.slack.thread(REVIEW_CHANNEL, card.ts)]
        assert "A note" in thread and "A reply from before, edited" in thread
        recorded = w.bot.uow.run_sync(
            lambda s, _now: (
                s.get_one(ThreadMessage, reply_id),
                s.get_one(ThreadMessage, upload_id),
            )
        )
        assert recorded[0].message_id is not None
        [uploaded] = [f for f in w.slack.files if f.title == "A recording from before"]
        assert recorded[1].file_id == uploaded.id
        [dm] = [m for m in w.slack.direct_messages(RECRUITER) if m.text == "A DM from before"]
        assert any(f.filename == "before.csv" for f in w.slack.files)
        copies = w.bot.uow.run_sync(
            lambda s, _now: s.exec(
                select(SharedCopy).where(SharedCopy.interview_id == interview_id)
            ).all()
        )
        assert len(copies) == 2  # the DM and the export, recorded for erasure
        assert any(e["text"] == "A reveal from before" for e in w.slack.ephemerals(TEAMMATE))

        then: list[Row] = [
            ("review.file.delete", review_key, {"file_id": uploaded.id}),
            ("review.thread.clear", review_key, {"review_post_id": post_id}),
            (
                "review.copy.delete",
                f"erase:{interview_id}",
                {"channel": dm.channel, "message_id": dm.ts, "file_id": None},
            ),
        ]
        ids = await _deliver(w, then)
        assert _statuses(w, ids) == [(OutboxStatus.SENT, None)] * len(then)
        assert uploaded.id not in [f.id for f in w.slack.files]
        assert w.slack.thread(REVIEW_CHANNEL, card.ts) == []
        assert "A DM from before" not in [m.text for m in w.slack.direct_messages(RECRUITER)]


async def test_a_row_no_message_fits_is_given_up_unquoted_and_its_chat_goes_on(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.delivery")
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_041, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        _, _, chat = await eventually(lambda: _started(w), what="the card")
        key = f"tg:{chat}"
        ids = await _deliver(
            w,
            [
                ("candidate.poll", key, {"chat_id": chat, "text": "SECRET poll"}),
                ("candidate.text", key, {"chat_id": chat, "text": ["SECRET words"]}),
                ("candidate.text", key, {"chat_id": chat, "text": "After the broken ones"}),
            ],
        )
        assert _statuses(w, ids) == [
            (OutboxStatus.FAILED, "unreadable: unknown kind 'candidate.poll'"),
            (OutboxStatus.FAILED, "unreadable: candidate.text: text (string_type)"),
            (OutboxStatus.SENT, None),
        ]
        await jane.wait_for_message("After the broken ones")
        logged = [r.getMessage() for r in caplog.records if r.name == "bot.delivery"]
        assert any(f"outbox {ids[0]} (candidate.poll) given up: unreadable" in m for m in logged)
        assert any(f"outbox {ids[1]} (candidate.text) given up: unreadable" in m for m in logged)
        assert not [m for m in logged if "SECRET" in m]
