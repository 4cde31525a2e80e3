"""``/hire`` subcommands: parse the text, call one flow, answer the recruiter.

The answer is the slash command's own acknowledgement (ephemeral, to the person who typed it).
The invite link in it is never stored: only its hash is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.errors import HirebotError
from bot.flows import interview, pipeline, roles
from bot.services import Services
from storage.models import Opening

USAGE = """*hirebot* — `/hire` commands:
• `/hire invite <opening> <candidate name>` — invite a candidate (recruiters)
• `/hire advance <candidate or #id> [to <stage>]` — move a candidate forward (recruiters)
• `/hire reject <candidate or #id>` — reject, and tell the candidate (recruiters)
• `/hire openings` — list openings
• `/hire help` — this list"""


@dataclass(frozen=True)
class HireCommand:
    user: str
    text: str

    @property
    def verb(self) -> str:
        return self.text.split(maxsplit=1)[0].lower() if self.text.strip() else "help"

    @property
    def rest(self) -> str:
        parts = self.text.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""


class HireCommands:
    def __init__(self, services: Services, telegram_username: Callable[[], str]) -> None:
        self._s = services
        self._telegram_username = telegram_username
        self._verbs: dict[str, Callable[[HireCommand], Awaitable[str]]] = {
            "invite": self.invite,
            "advance": self.advance,
            "reject": self.reject,
            "openings": self.openings,
            "help": self.help,
        }

    async def answer(self, command: HireCommand) -> str:
        """The reply to one ``/hire`` command; errors become the sentence for the user."""
        handler = self._verbs.get(command.verb)
        if handler is None:
            return f"I don't know `/hire {command.verb}`.\n{USAGE}"
        if not roles.may(command.verb, command.user, self._s.recruiters):
            return f"Only recruiters can use `/hire {command.verb}`. Ask a recruiter to add you."
        try:
            return await handler(command)
        except HirebotError as err:
            return str(err)

    async def invite(self, command: HireCommand) -> str:
        slug, _, name = command.rest.partition(" ")
        if not slug or not name.strip():
            return (
                "Usage: `/hire invite <opening> <candidate name>`, "
                "e.g. `/hire invite backend-engineer Jane Doe`"
            )
        invitation = await self._s.run(
            lambda s, now: interview.invite(
                s, opening_slug=slug, candidate_name=name, invited_by=command.user, now=now
            )
        )
        link = f"https://t.me/{self._telegram_username()}?start={invitation.token}"
        deadline = interview.format_deadline(invitation.deadline)
        return (
            f"Invited *{invitation.candidate}* to *{invitation.opening}* "
            f"(#{invitation.interview_id}). Deadline: {deadline}.\n"
            f"Send them this link (it works for one Telegram account only):\n{link}\n\n"
            f"Ready to paste:\n>Hi {invitation.candidate.split()[0]}, thanks for applying! "
            f"Our first step is a short async interview on Telegram: open {link} and answer "
            f"a few questions by voice or video, any time before {deadline}."
        )

    async def advance(self, command: HireCommand) -> str:
        who, _, stage = command.rest.partition(" to ")
        if not who.strip():
            return "Usage: `/hire advance <candidate or #id> [to <stage>]`"
        return await self._s.run(
            lambda s, now: pipeline.advance(
                s, who=who, by=command.user, now=now, stage=stage or None
            )
        )

    async def reject(self, command: HireCommand) -> str:
        if not command.rest:
            return "Usage: `/hire reject <candidate or #id>`"
        return await self._s.run(
            lambda s, now: pipeline.reject(s, who=command.rest, by=command.user, now=now)
        )

    async def openings(self, command: HireCommand) -> str:
        def listing(session: Session, _now: object) -> list[Opening]:
            return list(session.exec(select(Opening).order_by(col(Opening.slug))).all())

        rows = await self._s.run(listing)
        if not rows:
            return "No openings yet. Import one with `hirebot openings import FILE.yaml`."
        return "Openings:\n" + "\n".join(
            f"• `{o.slug}` — {o.title} (reviews in <#{o.review_channel}>)" for o in rows
        )

    async def help(self, command: HireCommand) -> str:
        return USAGE
