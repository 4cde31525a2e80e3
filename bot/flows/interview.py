"""The candidate's interview over chat: invite → start → consent → questions → completed.

Entry points are called by the Telegram adapter, one per update, inside one transaction.
Each records what the candidate (and the team) must be told through the outbox; nothing is
sent from here. Questions themselves are in ``bot.flows.answering``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.errors import InvalidRequest, NotFound
from bot.flows import (
    answering,
    audit,
    buttons,
    candidate_email,
    erasure,
    escaping,
    extensions,
    outgoing,
    questions,
    review,
    scheduling,
    texts,
)
from bot.flows.answering import Expect, MediaWelcome, ReceivedAnswer
from bot.flows.conversation import (
    Conversation,
    of_interview,
    of_telegram_user,
    telegram_interviews,
    zone,
)
from bot.flows.lifecycle import ACTIVE, STARTED, Event, move
from bot.flows.openings import opening_named
from bot.flows.ports import Choice
from bot.limits import InviteLimit, ReviewLimit
from storage.models import Candidate, Interview, InterviewStatus

Work = Callable[[Session, datetime], object]


@dataclass(frozen=True)
class Invitation:
    """The result of an invite. ``token`` goes into the deep link and is never stored."""

    interview_id: int
    token: str
    candidate: str
    opening: str
    deadline: datetime
    emailed: bool = False  # the deep link also went to the candidate's address


@dataclass(frozen=True)
class TelegramPerson:
    user_id: int
    chat_id: int
    first_name: str
    language_code: str | None


# Marks an invite token already replaced by its hash (``seal_token``). Never part of a real
# token: deep-link tokens are [A-Za-z0-9_-].
SEALED = "~"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def seal_token(token: str) -> str:
    """What an update stored for later handling keeps of an invite token: its hash.

    A token a person typed that merely looks sealed is sealed again, so a hash is never
    accepted in place of the token itself.
    """
    return SEALED + hash_token(token)


def invite(
    session: Session,
    *,
    opening_slug: str,
    candidate_name: str,
    invited_by: str,
    now: datetime,
    email: str | None = None,
    language: str = "en",
    time_multiplier: float = 1.0,
    deep_link: Callable[[str], str] | None = None,
    preview_in: str | None = None,
) -> Invitation:
    """Invite a candidate; ``time_multiplier`` scales every time limit (extra time).

    With an ``email`` and ``deep_link`` (the token → the Telegram link that starts the
    interview), the invitation is also emailed, so a candidate who never sees the
    recruiter's own message still starts. ``preview_in``: a recruiter's preview
    (bot.flows.preview), whose card and answers go to that channel (their DM)."""
    if not 1.0 <= time_multiplier <= ReviewLimit.EXTRA_TIME_MAX_FACTOR:
        raise InvalidRequest(
            f"Extra time goes from 1 to {ReviewLimit.EXTRA_TIME_MAX_FACTOR}, e.g. `time=1.5`."
        )
    if email is not None and not candidate_email.is_address(email):
        raise InvalidRequest(
            f"`{escaping.mrkdwn(email)}` is not an email address I can send to: give one "
            "address, e.g. `jane@example.com`."
        )
    opening = opening_named(session, opening_slug)
    if not candidate_name.strip():
        raise NotFound(
            "Please give the candidate's name, e.g. /hire invite backend-engineer Jane Doe"
        )
    candidate = Candidate(
        name=candidate_name.strip(), email=email, language=language, created_at=now
    )
    session.add(candidate)
    session.flush()
    token = secrets.token_urlsafe(InviteLimit.TOKEN_BYTES)
    assert opening.id is not None and candidate.id is not None
    interview = Interview(
        opening_id=opening.id,
        candidate_id=candidate.id,
        token_hash=hash_token(token),
        status=InterviewStatus.INVITED,
        deadline_at=now + timedelta(days=opening.deadline_days),
        invited_by=invited_by,
        created_at=now,
        time_multiplier=time_multiplier,
        preview=preview_in is not None,
    )
    session.add(interview)
    session.flush()
    review.open_review(session, interview, now, channel=preview_in)
    assert interview.id is not None
    audit.about(
        session,
        interview,
        actor=invited_by,
        action=audit.Action.INVITED,
        now=now,
        language=language,
        emailed=email is not None,
        extra_time=time_multiplier != 1.0,
    )
    emailed = deep_link is not None and candidate_email.invite(
        session, interview.id, deep_link(token), now
    )
    return Invitation(
        interview.id, token, candidate.name, opening.title, interview.deadline_at, emailed
    )


def start(session: Session, *, token: str, person: TelegramPerson, now: datetime) -> None:
    """``/start <token>``: bind the invite to this Telegram account and ask for consent."""
    token_hash = token.removeprefix(SEALED) if token.startswith(SEALED) else hash_token(token)
    interview = session.exec(select(Interview).where(Interview.token_hash == token_hash)).first()
    if interview is None:
        _tell_stranger(session, person, "unknown_invite", now)
        return
    if interview.status == InterviewStatus.WITHDRAWN:
        _tell_stranger(session, person, "withdrawn", now)
        return
    candidate = session.get_one(Candidate, interview.candidate_id)
    if candidate.telegram_user_id not in (None, person.user_id):
        _tell_stranger(session, person, "invite_taken", now)
        outgoing.to_team_member(
            session,
            interview.invited_by,
            f"⚠️ Someone else tried to use {escaping.mrkdwn(candidate.name)}'s invitation link "
            "from another Telegram account. They were refused; "
            "the link stays with the first account.",
            now,
            about=[interview.id] if interview.id is not None else [],
        )
        return
    if candidate.telegram_user_id is None:
        candidate.telegram_user_id = person.user_id
        candidate.telegram_chat_id = person.chat_id
        candidate.language = texts.language_for(person.language_code or candidate.language)
    conv = of_interview(session, interview, now)
    if _closed(conv):
        return
    if interview.status == InterviewStatus.INVITED:
        move(interview, Event.START)
        interview.started_at = now
        audit.about(session, interview, actor=audit.CANDIDATE, action=audit.Action.STARTED, now=now)
        _welcome(conv)
        review.refresh_card(session, interview, now)
        return
    conv.say("resume")
    _where_you_are(conv)


def message(session: Session, *, person: TelegramPerson, now: datetime) -> None:
    """Anything that is not an answer or a command: remind the candidate where they are."""
    conv = _known(session, person, now)
    if conv is not None and not _closed(conv):
        _where_you_are(conv)


def resume(session: Session, *, person: TelegramPerson, now: datetime) -> None:
    """A bare ``/start``, hours or days later: carry on exactly where they were."""
    conv = _known(session, person, now)
    if conv is not None and not _closed(conv):
        if conv.interview.status in STARTED:
            conv.say("resume")
        _where_you_are(conv)


def press(session: Session, *, person: TelegramPerson, data: str, now: datetime) -> None:
    """A button under one of our messages: it acts on the interview it names, only."""
    pressed = buttons.candidate_press(data)
    conv = _pressed_on(session, person, pressed.interview_id, now)
    if conv is None:
        return
    # Language, erasure and more time are answered even after the interview closed.
    match pressed:
        case buttons.Language(code=code):
            _choose_language(conv, code)
            return
        case buttons.EraseAnswer(answer=answer):
            _answer_erase(conv, answer == buttons.Confirm.YES)
            return
        case buttons.MoreTime():
            request_more_time(conv)
            return
        case buttons.SendQuestion(answer=answer, question_id=question_id):
            questions.answer_offer(conv, question_id, answer == buttons.Confirm.YES)
            return
        # The live interview comes after the answers: the answering deadline is not its own.
        case buttons.PickSlot() | buttons.MoreSlots() | buttons.ChangeCall():
            scheduling.press(conv, pressed)
            return
    if _closed(conv):
        return
    if isinstance(pressed, buttons.ConsentAnswer):
        _answer_consent(conv, pressed.answer == buttons.Consent.AGREE)
        return
    if conv.interview.status != InterviewStatus.ANSWERING or isinstance(pressed, buttons.Stale):
        conv.say("stale_button")
        _where_you_are(conv)  # while answering: the current step again
        return
    match pressed:
        case buttons.Ready(index=index):
            answering.ready(conv, index)
        case buttons.Submit(index=index, take=take):
            answering.submit(conv, index, take)
        case buttons.Rerecord(index=index, take=take):
            answering.rerecord(conv, index, take)


def _pressed_on(
    session: Session, person: TelegramPerson, interview_id: int | None, now: datetime
) -> Conversation | None:
    """The interview a button belongs to, if it is this person's; else say why not."""
    if interview_id is None:
        # A button from before buttons named their interview: unambiguous with one only.
        if len(telegram_interviews(session, person.user_id)) > 1:
            _tell_stranger(session, person, "stale_button", now)
            return None
        return _known(session, person, now)
    interview = session.get(Interview, interview_id)
    owner = session.get(Candidate, interview.candidate_id) if interview is not None else None
    if interview is None or owner is None or owner.telegram_user_id != person.user_id:
        # A forged or foreign button: another person's interview is never touched.
        _tell_stranger(session, person, "button_not_yours", now)
        return None
    return of_interview(session, interview, now)


def expects(
    session: Session, *, person: TelegramPerson, kind: str, size_bytes: int | None, now: datetime
) -> Expect:
    """Before downloading anything: is this answer welcome now? If not, say why."""
    conv = _answering(session, person, now)
    return Expect.NOTHING if conv is None else answering.expects(conv, kind, size_bytes)


def expects_text(session: Session, *, person: TelegramPerson, text: str, now: datetime) -> Expect:
    """A typed message: an answer while an answer step waits for one; outside an answer
    step, a question for the hiring team, which the candidate is asked to confirm."""
    conv = _known(session, person, now)
    if conv is None:
        return Expect.NOTHING
    past = conv.interview.status in ACTIVE and conv.now >= conv.interview.deadline_at
    if not past and questions.may_ask(conv, typed=True):
        questions.offer(conv, text)
        return Expect.NOTHING
    if _closed(conv):
        return Expect.NOTHING
    if conv.interview.status != InterviewStatus.ANSWERING:
        _where_you_are(conv)
        return Expect.NOTHING
    return answering.expects(conv, "text", None)


def expects_media(
    session: Session, *, person: TelegramPerson, kind: str, size_bytes: int | None, now: datetime
) -> MediaWelcome:
    """:func:`expects` for a recording, with how far to measure it (see MediaWelcome)."""
    conv = _answering(session, person, now)
    if conv is None:
        return MediaWelcome(Expect.NOTHING)
    expect = answering.expects(conv, kind, size_bytes)
    return MediaWelcome(expect, answering.measure_up_to(conv))


def refuse_media(session: Session, *, person: TelegramPerson, problem: str, now: datetime) -> None:
    conv = _answering(session, person, now)
    if conv is not None:
        answering.refuse_media(conv, problem)


def receive(
    session: Session, *, person: TelegramPerson, received: ReceivedAnswer, now: datetime
) -> None:
    """A measured answer (its file already on disk): record it as the next take."""
    conv = _answering(session, person, now)
    if conv is not None and answering.expects(conv, received.kind, None) != Expect.NOTHING:
        answering.receive(conv, received)


# Candidate commands


def command(
    session: Session, *, person: TelegramPerson, name: str, argument: str, now: datetime
) -> None:
    """/help, /status, /more_time, /delete_my_data, /language, /timezone."""
    conv = of_telegram_user(session, person.user_id, now)
    if conv is None:
        key = "help" if name == "help" else "status.none"
        _tell_stranger(session, person, key, now)
        return
    if name == "help":
        conv.say("help")
    elif name == "status":
        _status(conv)
    elif name == "more_time":
        request_more_time(conv)
    elif name == "delete_my_data":
        if conv.interview.status == InterviewStatus.WITHDRAWN:
            conv.say("withdrawn")
            return
        no, yes = (
            conv.choice(conv.text("delete.no"), buttons.EraseAnswer(buttons.Confirm.NO)),
            conv.choice(conv.text("delete.yes"), buttons.EraseAnswer(buttons.Confirm.YES)),
        )
        conv.say("delete.confirm", [[no, yes]])
    elif name == "language":
        _choose_language(conv, argument)
    elif name == "timezone":
        _set_timezone(conv, argument)
    elif name == "ask":
        if questions.may_ask(conv, typed=False):
            questions.ask(conv, argument)
        elif conv.interview.status == InterviewStatus.WITHDRAWN:
            conv.say("withdrawn")
        else:
            conv.say("ask.not_now")


def request_more_time(conv: Conversation) -> None:
    """The candidate asks for more time: the review thread hears it; recruiters decide."""
    if conv.interview.status in (InterviewStatus.COMPLETED, InterviewStatus.WITHDRAWN):
        _where_you_are(conv)
        return
    # The request appears in the review thread with Approve/Deny buttons (bot.flows.extensions).
    if extensions.request_more_time(conv.session, interview_id=conv.interview_id, now=conv.now):
        conv.say("more_time.sent")
    else:
        conv.say("more_time.pending")


def _status(conv: Conversation) -> None:
    if conv.interview.status == InterviewStatus.WITHDRAWN:
        conv.say("withdrawn")
        return
    conv.say(
        "status",
        opening=conv.opening.title,
        answered=answering.answered_count(conv),
        count=len(conv.questions),
        deadline=conv.deadline(),
    )
    scheduling.show_booked(conv)


def _choose_language(conv: Conversation, argument: str) -> None:
    code = argument.strip().lower()
    if code in texts.language_names():
        conv.candidate.language = code
        conv.say("language.set")
        return
    choices = [
        [conv.choice(name, buttons.Language(code)) for code, name in texts.language_names().items()]
    ]
    conv.say("language.choose", choices)


def _set_timezone(conv: Conversation, argument: str) -> None:
    name = argument.strip()
    if not name or zone(name).key != name:
        conv.say("timezone.bad", value=name or "?")
        return
    conv.candidate.timezone = name
    conv.say("timezone.set", timezone=name)


# Consent and erasure


def _welcome(conv: Conversation) -> None:
    company = conv.opening.company
    conv.say(
        "welcome",
        name=conv.candidate.name.split()[0],
        opening=conv.opening.title,
        at_company=conv.text("at_company", company=company) if company else "",
        count=len(conv.questions),
        deadline=conv.deadline(),
    )
    choices = [
        [
            conv.choice(conv.text("consent.agree"), buttons.ConsentAnswer(buttons.Consent.AGREE)),
            conv.choice(
                conv.text("consent.decline"), buttons.ConsentAnswer(buttons.Consent.DECLINE)
            ),
        ]
    ]
    conv.say("consent", choices)


def _answer_consent(conv: Conversation, agreed: bool) -> None:
    if conv.interview.status != InterviewStatus.CONSENT_PENDING:
        conv.say("stale_button")
        _where_you_are(conv)
        return
    if not agreed:
        move(conv.interview, Event.DECLINE)
        audit.about(
            conv.session,
            conv.interview,
            actor=audit.CANDIDATE,
            action=audit.Action.CONSENTED,
            now=conv.now,
            agreed=False,
        )
        conv.say("declined")
        review.note_in_thread(
            conv.session, conv.interview, "🚫 The candidate declined to take part.", conv.now
        )
        review.refresh_card(conv.session, conv.interview, conv.now)
        return
    move(conv.interview, Event.AGREE)
    conv.interview.consented_at = conv.now
    conv.interview.consent_version = texts.CONSENT_VERSION
    audit.about(
        conv.session,
        conv.interview,
        actor=audit.CANDIDATE,
        action=audit.Action.CONSENTED,
        now=conv.now,
        agreed=True,
    )
    answering.begin(conv)
    review.refresh_card(conv.session, conv.interview, conv.now)


def _answer_erase(conv: Conversation, confirmed: bool) -> None:
    if not confirmed:
        conv.say("delete.kept")
        return
    if conv.interview.status == InterviewStatus.WITHDRAWN:
        conv.say("withdrawn")
        return
    chat_id, language = conv.chat_id, conv.language
    # Every interview of theirs (another opening, a re-invite), not only this one.
    erasure.erase_person(conv.session, conv.interview, by="the candidate", now=conv.now)
    # The candidate row no longer knows their chat; the goodbye goes to the chat we had.
    outgoing.to_candidate(conv.session, chat_id, texts.text(language, "delete.done"), conv.now)


# Where the candidate is


def _known(session: Session, person: TelegramPerson, now: datetime) -> Conversation | None:
    conv = of_telegram_user(session, person.user_id, now)
    if conv is None:
        _tell_stranger(session, person, "no_invite", now)
    return conv


def _answering(session: Session, person: TelegramPerson, now: datetime) -> Conversation | None:
    """The conversation when the candidate is answering questions; else tell them where."""
    conv = _known(session, person, now)
    if conv is None or _closed(conv):
        return None
    if conv.interview.status != InterviewStatus.ANSWERING:
        _where_you_are(conv)
        return None
    return conv


def _closed(conv: Conversation) -> bool:
    """Expire the interview if its deadline passed; True (and say why) when it is over."""
    status = conv.interview.status
    if status in ACTIVE and conv.now >= conv.interview.deadline_at:
        expire(conv)
        return True
    if status == InterviewStatus.EXPIRED:
        conv.say("invite_expired", _more_time_button(conv), deadline=conv.deadline())
        return True
    if status == InterviewStatus.WITHDRAWN:
        conv.say("withdrawn")
        return True
    return False


def expire(conv: Conversation) -> None:
    """The deadline passed: close the interview, tell the candidate and the team."""
    move(conv.interview, Event.EXPIRE)
    if conv.candidate.telegram_chat_id is not None:
        conv.say("expired_now", _more_time_button(conv), deadline=conv.deadline())
    review.note_in_thread(
        conv.session, conv.interview, "⌛ The deadline passed: the interview expired.", conv.now
    )
    review.refresh_card(conv.session, conv.interview, conv.now)


def _more_time_button(conv: Conversation) -> list[list[Choice]]:
    return [[conv.choice(conv.text("ask_more_time"), buttons.MoreTime())]]


def _where_you_are(conv: Conversation) -> None:
    status = conv.interview.status
    if status == InterviewStatus.CONSENT_PENDING:
        _welcome(conv)
    elif status == InterviewStatus.ANSWERING:
        answering.repeat_step(conv)
    elif status == InterviewStatus.COMPLETED:
        conv.say("already_completed")
    elif status == InterviewStatus.WITHDRAWN:
        conv.say("withdrawn")
    elif status == InterviewStatus.EXPIRED:
        conv.say("invite_expired", _more_time_button(conv), deadline=conv.deadline())
    else:
        conv.say("not_answering")


def apologise(
    session: Session, *, user_id: int, chat_id: int, language_code: str | None, now: datetime
) -> None:
    """An update we could not handle, even after retries: ask the person to try again."""
    known = session.exec(
        select(Candidate.language)
        .where(Candidate.telegram_user_id == user_id)
        .order_by(col(Candidate.id).desc())
    ).first()
    language = texts.language_for(known or language_code)
    outgoing.to_candidate(session, chat_id, texts.text(language, "went_wrong"), now)


def _tell_stranger(session: Session, person: TelegramPerson, key: str, now: datetime) -> None:
    language = texts.language_for(person.language_code)
    outgoing.to_candidate(session, person.chat_id, texts.text(language, key), now)
