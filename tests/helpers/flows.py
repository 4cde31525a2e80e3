"""A world for flow-level tests: one migrated SQLite database, factories, and the outbox.

Flows are ``(session, now)`` functions that change rows and record what must be said in the
outbox, so a rule can be checked by calling the flow and reading the rows it wrote: no
emulator, no bot, no event loop. Each call below is one transaction, as one event is in the
running bot. The end-to-end tests (tests/e2e, tests/candidate, tests/slack) keep covering
the platforms; these cover the rules, in milliseconds each.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlmodel import Session, col, create_engine, select

from bot.flows import answering, interview, openings, review
from bot.flows.answering import ReceivedAnswer
from bot.flows.conversation import of_interview
from bot.flows.interview import Invitation, TelegramPerson
from storage import migrate
from storage.models import Interview, Opening, OutboxMessage

T = TypeVar("T")

# A Thursday noon, UTC: daytime in Europe and in the Americas, so no quiet hours by accident.
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REVIEW_CHANNEL = "C0REVIEW01"
RECRUITER = "U0RITA"

# Outbox kinds as stored in the ``kind`` column (stable across refactors of the Python names).
CANDIDATE_TEXT = "candidate.text"
CARD_POST = "review.card.post"
CARD_UPDATE = "review.card.update"
THREAD_POST = "review.thread.post"
PRIVATE_NOTE = "review.private"
NOTIFY_USER = "review.notify"
EMAIL = "email"
DEEP_LINK = "https://t.me/hirebot_flows_bot?start="


def migrated_template(folder: Path) -> Path:
    """A SQLite file with every migration applied: made once, copied for each test."""
    path = folder / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@dataclass
class Candidate:
    """An invited candidate, and the Telegram account they open the link from."""

    invitation: Invitation
    person: TelegramPerson

    @property
    def interview_id(self) -> int:
        return self.invitation.interview_id

    @property
    def chat_id(self) -> int:
        return self.person.chat_id


@dataclass
class FlowWorld:
    """A database, a clock and the flows, for tests that read rows and outbox payloads."""

    engine: Engine
    now: datetime = T0
    _next_user: int = field(default=700_000, repr=False)

    @classmethod
    def from_template(cls, template: Path, folder: Path) -> FlowWorld:
        path = folder / "hirebot.db"
        shutil.copyfile(template, path)
        engine = create_engine(f"sqlite:///{path}")

        @event.listens_for(engine, "connect")
        def _no_fsync(connection: Any, _record: object) -> None:
            # A test's database dies with the test: durability would only cost an fsync a step.
            connection.execute("PRAGMA synchronous = OFF")

        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ time and transactions

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def run(self, work: Callable[[Session, datetime], T]) -> T:
        """``work(session, now)`` in one committed transaction, as the bot runs an event."""
        with Session(self.engine, expire_on_commit=False) as session:
            result = work(session, self.now)
            session.commit()
            return result

    def read(self, query: Callable[[Session], T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session:
            return query(session)

    def interview(self, interview_id: int) -> Interview:
        return self.read(lambda s: s.get_one(Interview, interview_id))

    # ------------------------------------------------------------------ factories

    def opening(self, slug: str = "backend-engineer", **spec: Any) -> Opening:
        """An opening saved as ``hirebot openings import`` would; ``spec`` overrides fields."""
        values: dict[str, Any] = {
            "slug": slug,
            "title": "Backend Engineer",
            "review_channel": REVIEW_CHANNEL,
            "questions": [
                {"text": "Why this role?", "answer_types": ["voice", "text"]},
                {"text": "What are you proud of?", "answer_types": ["voice", "text"]},
            ],
        }
        values.update(spec)
        parsed = openings.OpeningSpec.model_validate(values)
        return self.run(lambda s, now: openings.save(s, parsed, now)[0])

    def invite(
        self,
        name: str = "Jane Doe",
        opening: str = "backend-engineer",
        *,
        email: str | None = None,
        language: str = "en",
    ) -> Candidate:
        """``/hire invite``: the candidate has the link and has not opened it; with ``email``
        the link was also emailed to them (``DEEP_LINK`` + the token)."""
        invitation = self.run(
            lambda s, now: interview.invite(
                s,
                opening_slug=opening,
                candidate_name=name,
                invited_by=RECRUITER,
                now=now,
                email=email,
                language=language,
                deep_link=lambda token: DEEP_LINK + token,
            )
        )
        self._next_user += 1
        person = TelegramPerson(self._next_user, self._next_user, name.split()[0], "en")
        return Candidate(invitation, person)

    def start(self, who: Candidate) -> None:
        """The candidate opens the deep link (``/start <token>``)."""
        self.run(
            lambda s, now: interview.start(
                s, token=who.invitation.token, person=who.person, now=now
            )
        )

    def press(self, who: Candidate, label: str) -> None:
        """The candidate presses the newest button labelled ``label`` that they were sent."""
        data = self._button(who, label)
        self.run(lambda s, now: interview.press(s, person=who.person, data=data, now=now))

    def _button(self, who: Candidate, label: str) -> str:
        for message in reversed(self.to_candidate(who)):
            for row in message.get("choices") or []:
                for choice in row:
                    if choice["label"] == label:
                        return str(choice["data"])
        raise AssertionError(f"no button {label!r} was sent to {who.person.first_name}")

    def agree(self, who: Candidate) -> None:
        """Opened the link and agreed: question 1's intro is waiting."""
        self.start(who)
        self.press(who, "I agree")

    def answer(
        self, who: Candidate, text: str = "I like payments.", *, submit: bool = True
    ) -> None:
        """Ready, a typed answer (no media: the rules are the same), and Submit."""
        self.press(who, "Ready")
        received = ReceivedAnswer(kind="text", media=None, text=text, duration_seconds=None)
        self.run(lambda s, now: interview.receive(s, person=who.person, received=received, now=now))
        if submit:
            self.press(who, "Submit ✅")

    def vote(self, interview_id: int, reviewer: str, choice: review.VoteChoice) -> None:
        """``reviewer`` votes on the card, as its buttons do."""
        self.run(
            lambda s, now: review.vote(
                s, interview_id=interview_id, reviewer=reviewer, choice=choice, now=now
            )
        )

    def answered(self, who: Candidate) -> int:
        return self.read(
            lambda s: answering.answered_count(
                of_interview(s, s.get_one(Interview, who.interview_id), self.now)
            )
        )

    # ------------------------------------------------------------------ the outbox

    def outbox(self, kind: str | None = None) -> list[OutboxMessage]:
        """Every outbox row (of ``kind``), oldest first."""

        def rows(session: Session) -> list[OutboxMessage]:
            query = select(OutboxMessage).order_by(col(OutboxMessage.id))
            if kind is not None:
                query = query.where(OutboxMessage.kind == kind)
            return list(session.exec(query).all())

        return self.read(rows)

    def to_candidate(self, who: Candidate) -> list[dict[str, Any]]:
        """The payloads of every message to ``who``'s Telegram chat, oldest first."""
        return [
            dict(row.payload)
            for row in self.outbox(CANDIDATE_TEXT)
            if row.payload.get("chat_id") == who.chat_id
        ]

    def texts_to(self, who: Candidate) -> list[str]:
        return [str(p["text"]) for p in self.to_candidate(who)]

    def thread_notes(self) -> list[str]:
        """The texts posted into review threads (decisions, deadlines, answers)."""
        return [str(row.payload.get("text", "")) for row in self.outbox(THREAD_POST)]

    def last_card(self) -> dict[str, Any]:
        """The newest candidate card the flows asked to post or update."""
        rows = [r for r in self.outbox() if r.kind in (CARD_POST, CARD_UPDATE)]
        assert rows, "no card was posted"
        card = rows[-1].payload["card"]
        assert isinstance(card, dict)
        return card

    def mark(self) -> int:
        """The newest outbox row id: pass it to ``since`` to see what one step wrote."""
        rows = self.outbox()
        return (rows[-1].id or 0) if rows else 0

    def since(self, mark: int, kind: str | None = None) -> list[OutboxMessage]:
        return [r for r in self.outbox(kind) if (r.id or 0) > mark]
