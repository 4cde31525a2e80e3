"""The outbox vocabulary: every message a flow may have sent, one model per kind.

A flow records what it wants said inside its own transaction (``enqueue``, or one of the
helpers below); after commit the delivery worker (bot.delivery) reads each row back once
(``read``) and hands the message to the handler for its kind, one call on a port
(CandidateChannel, ReviewChannel). Adding a kind: a model here, a handler there.

A row's payload is its model as JSON, ``kind`` included. Rows written before the models
existed have no ``kind`` in their payload: they are read by the row's kind column, and their
keys, exactly as they were written (see ``_from_before_models``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlmodel import Session

from bot.flows.meeting import Invitation
from bot.flows.ports import CandidateCard, Choice, ThreadNote
from storage import outbox


class Kind(StrEnum):
    CANDIDATE_TEXT = "candidate.text"
    CARD_POST = "review.card.post"
    CARD_UPDATE = "review.card.update"
    THREAD_POST = "review.thread.post"
    THREAD_EDIT = "review.thread.edit"
    THREAD_UPLOAD = "review.thread.upload"
    FILE_DELETE = "review.file.delete"
    THREAD_CLEAR = "review.thread.clear"  # erasure: delete every reply the bot posted
    COPY_DELETE = "review.copy.delete"  # erasure: a DM or export file that named them
    NOTIFY_USER = "review.notify"
    PRIVATE_NOTE = "review.private"
    USER_FILE = "review.user.file"
    EMAIL = "email"
    CANDIDATE_DOCUMENT = "candidate.document"
    THREAD_INVITATION = "review.thread.invitation"
    WEBHOOK = "webhook"  # a signed event to a recruiter's endpoint (bot.flows.webhooks)
    CANDIDATE_INTRO_CLIP = "candidate.intro_clip"
    CANDIDATE_RELAY = "candidate.relay"
    ATS_SYNC = "ats.sync"  # one step of a candidate's sync with the opening's ATS (issue 12)


# Ordering keys: the rows of one key are delivered one at a time, in order.
_CANDIDATE_KEY = "tg:"  # one candidate's Telegram chat
_REVIEW_KEY = "review:"  # one review thread: the card is posted before any reply or update
_ERASE_KEY = "erase:"  # the copies outside the thread of one erased interview
_USER_KEY = "user:"  # one team member's direct messages
_MAIL_KEY = "mail:"  # one email address: an invitation's update never overtakes it
_ATS_KEY = "ats:"  # one candidate's record in the opening's ATS: exactly once, in order


def candidate_key(chat_id: int) -> str:
    return f"{_CANDIDATE_KEY}{chat_id}"


def review_key(interview_id: int) -> str:
    return f"{_REVIEW_KEY}{interview_id}"


def mail_key(address: str) -> str:
    """One address's key: a digest, so it fits the column and names nobody."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()
    return f"{_MAIL_KEY}{digest[:32]}"


def ats_key(interview_id: int) -> str:
    return f"{_ATS_KEY}{interview_id}"


def interview_of(ordering_key: str) -> int | None:
    """The interview whose review thread ``ordering_key`` orders, if it is one."""
    rest = ordering_key.removeprefix(_REVIEW_KEY)
    return int(rest) if rest != ordering_key and rest.isdigit() else None


def to_an_address(ordering_key: str) -> bool:
    """Whether ``ordering_key`` orders the emails to one address."""
    return ordering_key.startswith(_MAIL_KEY)


def to_a_candidate(ordering_key: str) -> bool:
    """Whether ``ordering_key`` orders the messages to one candidate's Telegram chat."""
    return ordering_key.startswith(_CANDIDATE_KEY)


class _Message(BaseModel):
    # Frozen: a message is what was decided in the flow's transaction, not a thing to edit.
    # Unknown keys are ignored, so a row written by a newer version still goes out.
    model_config = ConfigDict(frozen=True)


class _InThread(_Message):
    """Anything about one candidate's review thread, delivered in the thread's order."""

    interview_id: int

    @property
    def ordering_key(self) -> str:
        return review_key(self.interview_id)


class _ToUser(_Message):
    """Something for one team member, delivered in the order it was said to them."""

    user: str

    @property
    def ordering_key(self) -> str:
        return f"{_USER_KEY}{self.user}"


class CandidateText(_Message):
    kind: Literal[Kind.CANDIDATE_TEXT] = Kind.CANDIDATE_TEXT
    chat_id: int
    text: str
    choices: tuple[tuple[Choice, ...], ...] = ()

    @property
    def ordering_key(self) -> str:
        return candidate_key(self.chat_id)


class CardPost(_Message):
    kind: Literal[Kind.CARD_POST] = Kind.CARD_POST
    review_post_id: int
    card: CandidateCard

    @property
    def ordering_key(self) -> str:
        return review_key(self.card.interview_id)


class CardUpdate(_Message):
    """The whole card again (see ``update_card``)."""

    kind: Literal[Kind.CARD_UPDATE] = Kind.CARD_UPDATE
    review_post_id: int
    card: CandidateCard

    @property
    def ordering_key(self) -> str:
        return review_key(self.card.interview_id)


class _Note(_InThread):
    text: str
    key: str | None = None
    choices: tuple[Choice, ...] = ()

    @property
    def note(self) -> ThreadNote:
        return ThreadNote(text=self.text, choices=self.choices, key=self.key or None)


class ThreadPost(_Note):
    """A reply under the card. With ``thread_message_id`` its Slack id is recorded on that
    ``ThreadMessage`` so it can be edited later; without, nobody edits it (a decision, a
    deadline, a reminder)."""

    kind: Literal[Kind.THREAD_POST] = Kind.THREAD_POST
    review_post_id: int
    thread_message_id: int | None = None


class ThreadEdit(_Note):
    kind: Literal[Kind.THREAD_EDIT] = Kind.THREAD_EDIT
    thread_message_id: int


class ThreadUpload(_InThread):
    """A recording uploaded under the card; its file id is recorded on ``thread_message_id``."""

    kind: Literal[Kind.THREAD_UPLOAD] = Kind.THREAD_UPLOAD
    review_post_id: int
    media_path: str
    media_title: str | None = None
    thread_message_id: int | None = None  # None only in rows from before answers were keyed


class FileDelete(_InThread):
    kind: Literal[Kind.FILE_DELETE] = Kind.FILE_DELETE
    file_id: str


class ThreadClear(_InThread):
    """Delete every reply (and file) the bot posted under the candidate's card."""

    kind: Literal[Kind.THREAD_CLEAR] = Kind.THREAD_CLEAR
    review_post_id: int


class CopyDelete(_Message):
    """Delete a message or file shared outside the thread (see ``SharedCopy``)."""

    kind: Literal[Kind.COPY_DELETE] = Kind.COPY_DELETE
    interview_id: int
    channel: str
    message_id: str | None = None
    file_id: str | None = None

    @property
    def ordering_key(self) -> str:
        return f"{_ERASE_KEY}{self.interview_id}"


class ThreadLink(_Message):
    """A link to a candidate's review thread, labelled ``label``: its address is the
    platform's to give (Slack's chat.getPermalink), once the card is posted, so delivery
    asks for it when it sends the message."""

    interview_id: int
    label: str


class NotifyUser(_ToUser):
    """A direct message; ``about``: the interviews whose candidates it names (erasure);
    ``thread_link``: a link to a review thread, added under the text when it is sent."""

    kind: Literal[Kind.NOTIFY_USER] = Kind.NOTIFY_USER
    text: str
    about: tuple[int, ...] = ()
    thread_link: ThreadLink | None = None


class PrivateNote(_ToUser):
    """Something only ``user`` may see (a blind-review reveal), shown in ``channel``."""

    kind: Literal[Kind.PRIVATE_NOTE] = Kind.PRIVATE_NOTE
    channel: str
    text: str


class UserFile(_ToUser):
    """A text file (an export) in ``user``'s direct messages; ``about`` as for a DM."""

    kind: Literal[Kind.USER_FILE] = Kind.USER_FILE
    filename: str
    title: str
    content: str
    about: tuple[int, ...] = ()


class Email(_Message):
    """One email to one address: a plain-text and an HTML body (the HTML already escaped
    by whoever wrote it), optionally with a calendar invitation, rendered when sent."""

    kind: Literal[Kind.EMAIL] = Kind.EMAIL
    to: str
    subject: str
    text: str
    html: str
    invitation: Invitation | None = None
    # The candidate's interview it is about: a refusal is told in that review thread.
    interview_id: int | None = None
    # Who the thread calls the recipient there (mrkdwn: "<@U0ALEX>"); None: the candidate.
    to_whom: str | None = None

    @property
    def ordering_key(self) -> str:
        return mail_key(self.to)


# What an email row stops keeping once it is finished with: its bodies carry the invitation's
# deep link, a token that is otherwise only stored as its hash.
EMAIL_BODIES = ("text", "html")


class CandidateDocument(_Message):
    """A calendar invitation as a file in the candidate's Telegram chat, rendered when sent
    (its DTSTAMP is the send's time, like the email's)."""

    kind: Literal[Kind.CANDIDATE_DOCUMENT] = Kind.CANDIDATE_DOCUMENT
    chat_id: int
    filename: str
    caption: str
    invitation: Invitation

    @property
    def ordering_key(self) -> str:
        return candidate_key(self.chat_id)


class ThreadInvitation(_InThread):
    """The same invitation shared as an .ics file under the candidate's card, with a comment
    saying who it was emailed to and who it could not be."""

    kind: Literal[Kind.THREAD_INVITATION] = Kind.THREAD_INVITATION
    review_post_id: int
    filename: str
    title: str
    comment: str
    invitation: Invitation


class Webhook(_Message):
    """One event to one webhook endpoint, in the order of that endpoint's events. ``body`` is
    the JSON exactly as it is signed and sent; ``about``: the interview whose candidate it
    concerns, so erasing them drops it while undelivered (see bot.flows.webhooks)."""

    kind: Literal[Kind.WEBHOOK] = Kind.WEBHOOK
    endpoint_id: int
    event_id: str
    event_type: str
    body: str
    about: tuple[int, ...] = ()

    @property
    def ordering_key(self) -> str:
        return webhook_key(self.endpoint_id)


def webhook_key(endpoint_id: int) -> str:
    return f"hook:{endpoint_id}"


class CandidateIntroClip(_Message):
    """An opening's (or a question's) intro clip in the candidate's chat, in order with the
    rest of the conversation. The clip is read when sent: a removed clip is skipped, and
    once Telegram has it, later candidates get it by Telegram's file id (no upload)."""

    kind: Literal[Kind.CANDIDATE_INTRO_CLIP] = Kind.CANDIDATE_INTRO_CLIP
    chat_id: int
    clip_id: int

    @property
    def ordering_key(self) -> str:
        return candidate_key(self.chat_id)


class CandidateRelay(_Message):
    """A message from the hiring team (``bot.flows.relay``): text or a recording, read from
    its ``Relay`` row when sent, so an erasure meanwhile leaves nothing to send."""

    kind: Literal[Kind.CANDIDATE_RELAY] = Kind.CANDIDATE_RELAY
    chat_id: int
    relay_id: int

    @property
    def ordering_key(self) -> str:
        return candidate_key(self.chat_id)


class AtsSync(_Message):
    """One step of a candidate's sync with the opening's ATS (bot.flows.ats_sync), in order.

    Ids and our own enum values only: what the ATS is told (names, transcripts, tallies) is
    read when it is sent, so an erased candidate's rows carry nothing of them.
    """

    kind: Literal[Kind.ATS_SYNC] = Kind.ATS_SYNC
    interview_id: int
    step: str
    decision: str | None = None
    stage: str | None = None
    key: str  # the note's marker in the ATS: a retry finds a note already posted

    @property
    def ordering_key(self) -> str:
        return ats_key(self.interview_id)


Message = Annotated[
    CandidateText
    | CardPost
    | CardUpdate
    | ThreadPost
    | ThreadEdit
    | ThreadUpload
    | FileDelete
    | ThreadClear
    | CopyDelete
    | NotifyUser
    | PrivateNote
    | UserFile
    | Email
    | CandidateDocument
    | ThreadInvitation
    | Webhook
    | CandidateIntroClip
    | CandidateRelay
    | AtsSync,
    Field(discriminator="kind"),
]
_MESSAGE: TypeAdapter[Message] = TypeAdapter(Message)
_KINDS = frozenset(Kind)


def enqueue(session: Session, message: Message, now: datetime) -> None:
    """Record ``message`` in the outbox, in the flow's transaction."""
    outbox.enqueue(
        session,
        ordering_key=message.ordering_key,
        kind=message.kind,
        payload=encode(message),
        now=now,
    )


def encode(message: Message) -> dict[str, Any]:
    return message.model_dump(mode="json")


class Unreadable(ValueError):
    """An outbox row no model fits: an unknown kind or a malformed payload. Its text names
    the kind and the fields at fault, never their values (they may be a candidate's words)."""


def read(kind: str, ordering_key: str, payload: object) -> Message:
    """The message an outbox row holds, whenever it was written."""
    if kind not in _KINDS:
        raise Unreadable(f"unknown kind {kind!r}")
    if not isinstance(payload, Mapping):
        raise Unreadable(f"{kind}: the payload is not a JSON object")
    if "kind" not in payload:
        payload = _from_before_models(kind, ordering_key, payload)
    elif payload["kind"] != kind:
        raise Unreadable(f"{kind}: the payload says it is another kind")
    try:
        return _MESSAGE.validate_python(payload)
    except ValidationError as err:
        wrong = sorted(
            {
                f"{'.'.join(str(part) for part in e['loc'][1:]) or 'payload'} ({e['type']})"
                for e in err.errors(include_input=False, include_url=False)
            }
        )
        raise Unreadable(f"{kind}: {', '.join(wrong)}") from None


def _from_before_models(kind: str, ordering_key: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A payload written before the models: the same keys, but the kind only in the row's
    column and the interview only in the ordering key (``review:12``, ``erase:12``)."""
    upgraded = {**payload, "kind": kind}
    for prefix in (_REVIEW_KEY, _ERASE_KEY):
        rest = ordering_key.removeprefix(prefix)
        if rest != ordering_key and rest.isdigit() and "interview_id" not in upgraded:
            upgraded["interview_id"] = int(rest)
    return upgraded


# What the flows say, by what they mean. Each builds one message and enqueues it.


def to_candidate(
    session: Session,
    chat_id: int,
    text: str,
    now: datetime,
    choices: list[list[Choice]] | None = None,
) -> None:
    rows = tuple(tuple(row) for row in choices or ())
    enqueue(session, CandidateText(chat_id=chat_id, text=text, choices=rows), now)


def post_card(session: Session, review_post_id: int, card: CandidateCard, now: datetime) -> None:
    enqueue(session, CardPost(review_post_id=review_post_id, card=card), now)


def update_card(session: Session, review_post_id: int, card: CandidateCard, now: datetime) -> None:
    """Re-render the card. Each update carries the whole card, so one still waiting to go out
    is replaced rather than followed: a burst of votes makes one Slack call, not one each
    (chat.update is rate-limited per channel)."""
    message = CardUpdate(review_post_id=review_post_id, card=card)
    outbox.drop_pending(session, ordering_key=message.ordering_key, kind=message.kind)
    enqueue(session, message, now)


def to_thread(
    session: Session,
    *,
    interview_id: int,
    review_post_id: int,
    text: str,
    now: datetime,
) -> None:
    """A note in the thread that is never edited later (decisions, deadlines, reminders)."""
    message = ThreadPost(interview_id=interview_id, review_post_id=review_post_id, text=text)
    enqueue(session, message, now)


def keyed_to_thread(
    session: Session,
    *,
    interview_id: int,
    review_post_id: int,
    thread_message_id: int,
    note: ThreadNote,
    now: datetime,
) -> None:
    """Post a reply whose id is recorded on ``ThreadMessage`` so it can be edited later."""
    message = ThreadPost(
        interview_id=interview_id,
        review_post_id=review_post_id,
        thread_message_id=thread_message_id,
        text=note.text,
        key=note.key,
        choices=note.choices,
    )
    enqueue(session, message, now)


def edit_in_thread(
    session: Session, *, interview_id: int, thread_message_id: int, note: ThreadNote, now: datetime
) -> None:
    message = ThreadEdit(
        interview_id=interview_id,
        thread_message_id=thread_message_id,
        text=note.text,
        key=note.key,
        choices=note.choices,
    )
    enqueue(session, message, now)


def upload_to_thread(
    session: Session,
    *,
    interview_id: int,
    review_post_id: int,
    media_path: str,
    media_title: str,
    thread_message_id: int,
    now: datetime,
) -> None:
    """Upload a recording under the reply ``thread_message_id`` (which records its file id)."""
    message = ThreadUpload(
        interview_id=interview_id,
        review_post_id=review_post_id,
        media_path=media_path,
        media_title=media_title,
        thread_message_id=thread_message_id,
    )
    enqueue(session, message, now)


def delete_file(session: Session, *, interview_id: int, file_id: str, now: datetime) -> None:
    enqueue(session, FileDelete(interview_id=interview_id, file_id=file_id), now)


def clear_thread(
    session: Session, *, interview_id: int, review_post_id: int, now: datetime
) -> None:
    enqueue(session, ThreadClear(interview_id=interview_id, review_post_id=review_post_id), now)


def delete_copy(
    session: Session,
    *,
    interview_id: int,
    channel: str,
    message_id: str | None,
    file_id: str | None,
    now: datetime,
) -> None:
    message = CopyDelete(
        interview_id=interview_id, channel=channel, message_id=message_id, file_id=file_id
    )
    enqueue(session, message, now)


def privately(session: Session, *, channel: str, user: str, text: str, now: datetime) -> None:
    enqueue(session, PrivateNote(channel=channel, user=user, text=text), now)


def file_to_team_member(
    session: Session,
    *,
    user: str,
    filename: str,
    title: str,
    content: str,
    now: datetime,
    about: Sequence[int] = (),
) -> None:
    """``about``: the interviews whose candidates the file lists; delivery records where it
    landed for each (``SharedCopy``), so erasing one of them deletes the file."""
    message = UserFile(
        user=user, filename=filename, title=title, content=content, about=tuple(about)
    )
    enqueue(session, message, now)


def to_team_member(
    session: Session,
    user: str,
    text: str,
    now: datetime,
    about: Sequence[int] = (),
    thread_link: ThreadLink | None = None,
) -> None:
    """A direct message; ``about`` as for ``file_to_team_member`` (a DM naming a candidate);
    ``thread_link``: a link to a review thread, under the text."""
    message = NotifyUser(user=user, text=text, about=tuple(about), thread_link=thread_link)
    enqueue(session, message, now)


def email(
    session: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    now: datetime,
    invitation: Invitation | None = None,
    interview_id: int | None = None,
    to_whom: str | None = None,
) -> None:
    """An email, sent through SMTP after commit, with ``invitation`` attached as an .ics;
    ``interview_id``: the candidate it concerns, whose thread hears if it cannot go out."""
    message = Email(
        to=to,
        subject=subject,
        text=text,
        html=html,
        invitation=invitation,
        interview_id=interview_id,
        to_whom=to_whom,
    )
    enqueue(session, message, now)


def document_to_candidate(
    session: Session,
    *,
    chat_id: int,
    filename: str,
    caption: str,
    invitation: Invitation,
    now: datetime,
) -> None:
    """``invitation`` as an .ics file in the candidate's chat, after what was said before."""
    message = CandidateDocument(
        chat_id=chat_id, filename=filename, caption=caption, invitation=invitation
    )
    enqueue(session, message, now)


def invitation_to_thread(
    session: Session,
    *,
    interview_id: int,
    review_post_id: int,
    filename: str,
    title: str,
    comment: str,
    invitation: Invitation,
    now: datetime,
) -> None:
    """``invitation`` as an .ics file under the candidate's card, ``comment`` above it."""
    message = ThreadInvitation(
        interview_id=interview_id,
        review_post_id=review_post_id,
        filename=filename,
        title=title,
        comment=comment,
        invitation=invitation,
    )
    enqueue(session, message, now)


def intro_clip_to_candidate(session: Session, *, chat_id: int, clip_id: int, now: datetime) -> None:
    """The intro clip ``clip_id`` in the candidate's chat, after what was said before."""
    enqueue(session, CandidateIntroClip(chat_id=chat_id, clip_id=clip_id), now)


def relay_to_candidate(session: Session, *, chat_id: int, relay_id: int, now: datetime) -> None:
    """The team's message ``relay_id`` to the candidate, after what was said to them before."""
    enqueue(session, CandidateRelay(chat_id=chat_id, relay_id=relay_id), now)


def to_ats(
    session: Session,
    *,
    interview_id: int,
    step: str,
    key: str,
    now: datetime,
    decision: str | None = None,
    stage: str | None = None,
) -> None:
    """One step of the candidate's ATS sync, after the steps queued before it."""
    message = AtsSync(interview_id=interview_id, step=step, key=key, decision=decision, stage=stage)
    enqueue(session, message, now)


def candidate_lane() -> str:
    """The prefix of every candidate chat's ordering key (bot.delivery sends them apart)."""
    return _CANDIDATE_KEY
