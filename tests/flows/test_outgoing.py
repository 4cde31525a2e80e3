"""The outbox vocabulary: each kind of message survives its row, and rows from before the
models (payloads without ``kind``) still read as the same messages (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.flows import outgoing
from bot.flows.meeting import Invitation, InvitationMethod, Meeting, Person
from bot.flows.outgoing import (
    AtsSync,
    CandidateDocument,
    CandidateIntroClip,
    CandidateRelay,
    CandidateText,
    CardPost,
    CardUpdate,
    CopyDelete,
    Email,
    FileDelete,
    Kind,
    NotifyUser,
    PrivateNote,
    ThreadClear,
    ThreadEdit,
    ThreadInvitation,
    ThreadLink,
    ThreadPost,
    ThreadUpload,
    Unreadable,
    UserFile,
)
from bot.flows.ports import CandidateCard, Choice, ThreadNote
from bot.unit_of_work import UnitOfWork
from storage import outbox
from storage.models import OutboxMessage

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


CARD = CandidateCard(
    interview_id=7,
    candidate="Jane Doe",
    opening="Backend Engineer",
    answered=1,
    questions=2,
    status="in progress",
    stage="screen",
    deadline=T0 + timedelta(days=7),
    tally={"yes": 1, "no": 0},
    blind=False,
    votes_cast=1,
    rubric=("Clarity", "Depth"),
    scores={"Clarity": 4.5},
    scored_by=2,
)
INVITATION = Invitation(
    meeting=Meeting(
        uid="booking-7@hirebot",
        sequence=1,
        start=T0 + timedelta(days=3),
        end=T0 + timedelta(days=3, minutes=45),
        zone="Europe/Berlin",
        title="Live interview",
        url="https://meet.jit.si/hirebot-x",
        organizer=Person(name="Rita", email="rita@acme.example"),
        attendees=(Person(name="Jane Doe", email="Jane.Doe@Example.org"),),
    ),
    method=InvitationMethod.CANCEL,
)
READY = Choice(label="Ready", data="ready:7")
NOTE = ThreadNote(text="Answer 1: hello", choices=(Choice("▶ Play", "play:1"),), key="answer:1")

# What a flow says (through the helper it calls) → the message that must come out of its row,
# and the ordering key the row must have.
HOOK = outgoing.Webhook(
    endpoint_id=2, event_id="evt_1", event_type="review.voted", body="{}", about=(7,)
)

SAID: list[tuple[Callable[[Session], None], outgoing.Message, str]] = [
    (
        lambda s: outgoing.to_candidate(s, 42, "Question 1", T0, [[READY]]),
        CandidateText(chat_id=42, text="Question 1", choices=((READY,),)),
        "tg:42",
    ),
    (
        lambda s: outgoing.post_card(s, 3, CARD, T0),
        CardPost(review_post_id=3, card=CARD),
        "review:7",
    ),
    (
        lambda s: outgoing.update_card(s, 3, CARD, T0),
        CardUpdate(review_post_id=3, card=CARD),
        "review:7",
    ),
    (
        lambda s: outgoing.to_thread(s, interview_id=7, review_post_id=3, text="Due", now=T0),
        ThreadPost(interview_id=7, review_post_id=3, text="Due"),
        "review:7",
    ),
    (
        lambda s: outgoing.keyed_to_thread(
            s, interview_id=7, review_post_id=3, thread_message_id=5, note=NOTE, now=T0
        ),
        ThreadPost(
            interview_id=7,
            review_post_id=3,
            thread_message_id=5,
            text=NOTE.text,
            key=NOTE.key,
            choices=NOTE.choices,
        ),
        "review:7",
    ),
    (
        lambda s: outgoing.edit_in_thread(
            s, interview_id=7, thread_message_id=5, note=NOTE, now=T0
        ),
        ThreadEdit(
            interview_id=7, thread_message_id=5, text=NOTE.text, key=NOTE.key, choices=NOTE.choices
        ),
        "review:7",
    ),
    (
        lambda s: outgoing.upload_to_thread(
            s,
            interview_id=7,
            review_post_id=3,
            media_path="ab/abcdef.ogg",
            media_title="Answer 1",
            thread_message_id=5,
            now=T0,
        ),
        ThreadUpload(
            interview_id=7,
            review_post_id=3,
            media_path="ab/abcdef.ogg",
            media_title="Answer 1",
            thread_message_id=5,
        ),
        "review:7",
    ),
    (
        lambda s: outgoing.delete_file(s, interview_id=7, file_id="F01", now=T0),
        FileDelete(interview_id=7, file_id="F01"),
        "review:7",
    ),
    (
        lambda s: outgoing.clear_thread(s, interview_id=7, review_post_id=3, now=T0),
        ThreadClear(interview_id=7, review_post_id=3),
        "review:7",
    ),
    (
        lambda s: outgoing.delete_copy(
            s, interview_id=7, channel="D0RITA", message_id="1.5", file_id=None, now=T0
        ),
        CopyDelete(interview_id=7, channel="D0RITA", message_id="1.5"),
        "erase:7",
    ),
    (
        lambda s: outgoing.to_team_member(s, "U0RITA", "Jane finished", T0, about=[7]),
        NotifyUser(user="U0RITA", text="Jane finished", about=(7,)),
        "user:U0RITA",
    ),
    (
        lambda s: outgoing.to_team_member(
            s,
            "U0ALEX",
            "Your call with Jane",
            T0,
            about=[7],
            thread_link=ThreadLink(interview_id=7, label="Open the thread"),
        ),
        NotifyUser(
            user="U0ALEX",
            text="Your call with Jane",
            about=(7,),
            thread_link=ThreadLink(interview_id=7, label="Open the thread"),
        ),
        "user:U0ALEX",
    ),
    (
        lambda s: outgoing.privately(s, channel="C0REVIEW", user="U0TOM", text="It's Jane", now=T0),
        PrivateNote(channel="C0REVIEW", user="U0TOM", text="It's Jane"),
        "user:U0TOM",
    ),
    (
        lambda s: outgoing.file_to_team_member(
            s,
            user="U0RITA",
            filename="report.csv",
            title="Report",
            content="name\nJane Doe\n",
            now=T0,
            about=[7, 8],
        ),
        UserFile(
            user="U0RITA",
            filename="report.csv",
            title="Report",
            content="name\nJane Doe\n",
            about=(7, 8),
        ),
        "user:U0RITA",
    ),
    (
        lambda s: outgoing.email(
            s,
            to="Jane.Doe@Example.org",
            subject="Your interview",
            text="Monday",
            html="<p>Monday</p>",
            invitation=INVITATION,
            now=T0,
        ),
        Email(
            to="Jane.Doe@Example.org",
            subject="Your interview",
            text="Monday",
            html="<p>Monday</p>",
            invitation=INVITATION,
        ),
        # One key per address, whatever its case; a digest, so the column names nobody.
        outgoing.mail_key("jane.doe@example.org"),
    ),
    (
        lambda s: outgoing.document_to_candidate(
            s,
            chat_id=42,
            filename="interview.ics",
            caption="Your interview",
            invitation=INVITATION,
            now=T0,
        ),
        CandidateDocument(
            chat_id=42, filename="interview.ics", caption="Your interview", invitation=INVITATION
        ),
        "tg:42",  # after the confirmation the candidate was sent before it
    ),
    (
        lambda s: outgoing.invitation_to_thread(
            s,
            interview_id=7,
            review_post_id=3,
            filename="interview.ics",
            title="Calendar invitation",
            comment="Emailed to Jane Doe",
            invitation=INVITATION,
            now=T0,
        ),
        ThreadInvitation(
            interview_id=7,
            review_post_id=3,
            filename="interview.ics",
            title="Calendar invitation",
            comment="Emailed to Jane Doe",
            invitation=INVITATION,
        ),
        "review:7",
    ),
    (
        lambda s: outgoing.enqueue(s, HOOK, T0),
        HOOK,
        "hook:2",
    ),
    (
        lambda s: outgoing.intro_clip_to_candidate(s, chat_id=42, clip_id=5, now=T0),
        CandidateIntroClip(chat_id=42, clip_id=5),
        "tg:42",  # after the consent, before question 1's intro
    ),
    (
        lambda s: outgoing.relay_to_candidate(s, chat_id=42, relay_id=5, now=T0),
        CandidateRelay(chat_id=42, relay_id=5),
        "tg:42",  # in order with everything else said to the candidate
    ),
    (
        lambda s: outgoing.to_ats(
            s,
            interview_id=7,
            step="decided",
            key="0123abcd",
            now=T0,
            decision="advance",
            stage="Live interview",
        ),
        AtsSync(
            interview_id=7,
            step="decided",
            key="0123abcd",
            decision="advance",
            stage="Live interview",
        ),
        "ats:7",
    ),
]

# Kinds that came after the models: no row of theirs was ever written without ``kind``.
BORN_WITH_MODELS = {
    Kind.EMAIL,
    Kind.CANDIDATE_DOCUMENT,
    Kind.THREAD_INVITATION,
    Kind.WEBHOOK,
    Kind.CANDIDATE_INTRO_CLIP,
    Kind.CANDIDATE_RELAY,
    Kind.ATS_SYNC,
}


def test_every_kind_of_message_is_said_by_some_flow_helper() -> None:
    assert {message.kind for _, message, _ in SAID} == set(Kind)


def _written_and_read(
    session: Session, _now: datetime, say: Callable[[Session], None]
) -> tuple[OutboxMessage, outgoing.Message]:
    say(session)
    session.flush()
    row = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(1)).one()
    session.expire(row)  # read the payload back from the database, not the identity map
    return row, outgoing.read(row.kind, row.ordering_key, row.payload)


def test_each_message_comes_back_from_its_row_as_written(uow: UnitOfWork) -> None:
    for say, expected, key in SAID:
        row, message = uow.run_sync(partial(_written_and_read, say=say))
        assert type(message) is type(expected)
        assert message == expected
        assert (row.kind, row.ordering_key) == (expected.kind, key)
        assert message.ordering_key == key
        assert row.payload["kind"] == expected.kind  # new rows say what they are


def test_a_card_message_gives_back_the_card_and_a_note_message_the_note(uow: UnitOfWork) -> None:
    card_post, keyed = SAID[1][0], SAID[4][0]

    def read_all(session: Session, _now: datetime) -> list[outgoing.Message]:
        card_post(session)
        keyed(session)
        session.flush()
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return [outgoing.read(r.kind, r.ordering_key, r.payload) for r in rows]

    card, note = uow.run_sync(read_all)
    assert isinstance(card, CardPost) and card.card == CARD
    assert card.card.deadline == T0 + timedelta(days=7)  # a datetime again, time zone kept
    assert isinstance(note, ThreadPost) and note.note == NOTE


# Payloads exactly as bot/flows/say.py wrote them before the models (the row's kind column,
# its ordering key, its JSON), each with the message it must read as.
OLD_CARD: dict[str, Any] = {
    "interview_id": 7,
    "candidate": "Jane Doe",
    "opening": "Backend Engineer",
    "answered": 1,
    "questions": 2,
    "status": "in progress",
    "stage": "screen",
    "deadline": "2026-12-04T12:00:00+00:00",
    "tally": {"yes": 1, "no": 0},
    "blind": False,
    "votes_cast": 1,
    "rubric": ["Clarity", "Depth"],
    "scores": {"Clarity": 4.5},
    "scored_by": 2,
}
OLD_NOTE = {
    "text": NOTE.text,
    "key": "answer:1",
    "choices": [{"label": "▶ Play", "data": "play:1"}],
}
BEFORE: list[tuple[str, str, dict[str, Any], outgoing.Message]] = [
    (
        "candidate.text",
        "tg:42",
        {"chat_id": 42, "text": "Question 1", "choices": [[{"label": "Ready", "data": "ready:7"}]]},
        CandidateText(chat_id=42, text="Question 1", choices=((READY,),)),
    ),
    (
        "candidate.text",
        "tg:42",
        {"chat_id": 42, "text": "Bye", "choices": []},
        CandidateText(chat_id=42, text="Bye"),
    ),
    (
        "review.card.post",
        "review:7",
        {"review_post_id": 3, "card": OLD_CARD},
        CardPost(review_post_id=3, card=CARD),
    ),
    (
        "review.card.update",
        "review:7",
        {"review_post_id": 3, "card": OLD_CARD},
        CardUpdate(review_post_id=3, card=CARD),
    ),
    (  # to_thread: a note nobody edits, without key or choices
        "review.thread.post",
        "review:7",
        {"review_post_id": 3, "text": "Due"},
        ThreadPost(interview_id=7, review_post_id=3, text="Due"),
    ),
    (  # keyed_to_thread
        "review.thread.post",
        "review:7",
        {"review_post_id": 3, "thread_message_id": 5, **OLD_NOTE},
        ThreadPost(
            interview_id=7,
            review_post_id=3,
            thread_message_id=5,
            text=NOTE.text,
            key="answer:1",
            choices=NOTE.choices,
        ),
    ),
    (  # a reply erasure redacted while it was in flight
        "review.thread.post",
        "review:7",
        {
            "review_post_id": 3,
            "thread_message_id": 5,
            "text": "(erased)",
            "key": None,
            "choices": [],
        },
        ThreadPost(interview_id=7, review_post_id=3, thread_message_id=5, text="(erased)"),
    ),
    (
        "review.thread.edit",
        "review:7",
        {"thread_message_id": 5, **OLD_NOTE},
        ThreadEdit(
            interview_id=7,
            thread_message_id=5,
            text=NOTE.text,
            key="answer:1",
            choices=NOTE.choices,
        ),
    ),
    (
        "review.thread.upload",
        "review:7",
        {
            "review_post_id": 3,
            "media_path": "ab/abcdef.ogg",
            "media_title": "Answer 1",
            "thread_message_id": 5,
        },
        ThreadUpload(
            interview_id=7,
            review_post_id=3,
            media_path="ab/abcdef.ogg",
            media_title="Answer 1",
            thread_message_id=5,
        ),
    ),
    (
        "review.file.delete",
        "review:7",
        {"file_id": "F01"},
        FileDelete(interview_id=7, file_id="F01"),
    ),
    (
        "review.thread.clear",
        "review:7",
        {"review_post_id": 3},
        ThreadClear(interview_id=7, review_post_id=3),
    ),
    (
        "review.copy.delete",
        "erase:7",
        {"channel": "D0RITA", "message_id": None, "file_id": "F02"},
        CopyDelete(interview_id=7, channel="D0RITA", file_id="F02"),
    ),
    (
        "review.notify",
        "user:U0RITA",
        {"user": "U0RITA", "text": "Jane finished", "about": [7]},
        NotifyUser(user="U0RITA", text="Jane finished", about=(7,)),
    ),
    (
        "review.private",
        "user:U0TOM",
        {"channel": "C0REVIEW", "user": "U0TOM", "text": "It's Jane"},
        PrivateNote(channel="C0REVIEW", user="U0TOM", text="It's Jane"),
    ),
    (
        "review.user.file",
        "user:U0RITA",
        {
            "user": "U0RITA",
            "filename": "report.csv",
            "title": "Report",
            "content": "name\nJane Doe\n",
            "about": [7, 8],
        },
        UserFile(
            user="U0RITA",
            filename="report.csv",
            title="Report",
            content="name\nJane Doe\n",
            about=(7, 8),
        ),
    ),
]


def test_rows_from_before_the_models_read_as_the_same_messages(uow: UnitOfWork) -> None:
    assert {kind for kind, *_ in BEFORE} == set(Kind) - BORN_WITH_MODELS

    def write_and_read(session: Session, _now: datetime) -> list[outgoing.Message]:
        for kind, key, payload, _ in BEFORE:
            outbox.enqueue(session, ordering_key=key, kind=kind, payload=payload, now=T0)
        session.flush()
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return [outgoing.read(r.kind, r.ordering_key, r.payload) for r in rows]

    for message, (_, key, _, expected) in zip(uow.run_sync(write_and_read), BEFORE, strict=True):
        assert message == expected
        assert message.ordering_key == key


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        ("review.poll", {"text": "Jane Doe"}, "unknown kind 'review.poll'"),
        ("candidate.text", ["Jane Doe"], "candidate.text: the payload is not a JSON object"),
        (
            "candidate.text",
            {"kind": "review.notify", "user": "U1", "text": "Jane Doe"},
            "candidate.text: the payload says it is another kind",
        ),
        (
            "candidate.text",
            {"chat_id": "Jane Doe", "choices": [[{"label": "Jane Doe"}]]},
            "candidate.text: chat_id (int_parsing), choices.0.0.data (missing), text (missing)",
        ),
        (
            "review.card.update",
            {"review_post_id": 3, "card": {**OLD_CARD, "deadline": "Jane Doe"}},
            "review.card.update: card.deadline (datetime_from_date_parsing)",
        ),
    ],
)
def test_an_unreadable_row_says_what_is_wrong_without_quoting_it(
    kind: str, payload: Any, reason: str
) -> None:
    with pytest.raises(Unreadable) as raised:
        outgoing.read(kind, "tg:42", payload)
    assert str(raised.value) == reason
    assert "Jane" not in str(raised.value)
