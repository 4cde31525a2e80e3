"""``/hire`` subcommands: parse the text, call one flow, answer the person who typed it.

The answer is the slash command's own acknowledgement (ephemeral, to the person who typed it),
or a modal to open (reject, opening new). The invite link in an answer is never stored: only
its hash is. Who may run what is checked before any of this, by the recruiter guard.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.address_policy import AddressPolicy, only_refused
from bot.errors import HirebotError
from bot.flows import (
    audit,
    audit_trail,
    erasure,
    escaping,
    extensions,
    interview,
    interviewer_setup,
    intro_clips,
    outgoing,
    pipeline,
    preview,
    reports,
    roles,
    webhooks,
)
from bot.flows.moments import format_deadline
from bot.slack import modals
from bot.slack.hours_form import hours_view
from bot.slack.membership import Viewers
from bot.slack.profiles import SlackProfiles
from bot.unit_of_work import UnitOfWork

USAGE = """*hirebot* — `/hire` commands (🔒 recruiters only):
• `/hire invite <opening> <name> [email] [lang=xx] [time=1.5]` 🔒 — their link (emailed too)
• `/hire preview <opening>` 🔒 — take the interview yourself on Telegram; answers come to your DM
• `/hire intro <opening> [remove [question]]` 🔒 — its intro clips (set them from a clip's ⋯ menu)
• `/hire status [opening|candidate]` — where things stand
• `/hire remind <candidate>` 🔒 — nudge a candidate on Telegram (by email before they open it)
• `/hire extend <candidate> <days>` 🔒 — move a candidate's deadline
• `/hire advance <candidate or #id> [to <stage>]` 🔒 — move forward; the candidate is told
• `/hire book <candidate or #id>` 🔒 — offer live-interview times again on Telegram
• `/hire reject <candidate or #id>` 🔒 — a form for the reason and the candidate's message
• `/hire erase <candidate or #id>` 🔒 — delete a candidate's recordings and details
• `/hire export [opening] [csv|json]` 🔒 — a CSV (or JSON, with transcripts) in your DMs
• `/hire audit <candidate or #id>` 🔒 — who did what to that interview, oldest first (UTC)
• `/hire webhooks [add <https://…> <event…> | remove <#id> | test <#id>]` 🔒 — signed events
• `/hire stats [opening]` — completion and review times, live-call booking and no-show rates
• `/hire opening list` · `/hire opening new` 🔒 — openings
• `/hire recruiters [list|add @user|remove @user]` — who decides (changes 🔒)
• `/hire availability` — your hours for live interviews, and your calendar
• `/hire help` — this list"""

_LANGUAGE = re.compile(r"^(?:lang|language)=([a-z]{2})$", re.IGNORECASE)
_EXTRA_TIME = re.compile(r"^(?:time|extra-time)=x?(\d+(?:\.\d+)?)x?$", re.IGNORECASE)
_EMAIL = re.compile(r"^(?:<mailto:[^|>]+\|)?([^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+)>?$")


@dataclass(frozen=True)
class HireCommand:
    user: str
    text: str
    trigger_id: str = ""

    @classmethod
    def from_payload(cls, command: dict[str, Any]) -> HireCommand:
        # Slack escapes &, < and > in what was typed (mentions stay <@U…>): unescape once,
        # so a name is stored as typed and escaped again wherever it is shown.
        return cls(
            user=str(command["user_id"]),
            text=escaping.from_slack(str(command.get("text") or "")),
            trigger_id=str(command.get("trigger_id") or ""),
        )

    @property
    def verb(self) -> str:
        return self.text.split(maxsplit=1)[0].lower() if self.text.strip() else "help"

    @property
    def rest(self) -> str:
        parts = self.text.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""

    @property
    def action(self) -> str:
        """What the guard checks: the verb, or "verb sub" for grouped commands."""
        if self.verb in ("opening", "recruiters"):
            sub = self.rest.split(maxsplit=1)[0].lower() if self.rest else "list"
            return f"{self.verb} {sub}"
        return self.verb


@dataclass(frozen=True)
class OpenModal:
    """The answer is a form: open ``view`` with the command's trigger id."""

    view: dict[str, Any]


@dataclass(frozen=True)
class AnswerAfterAck:
    """A report that reads many rows: ack at once, answer through the response_url."""

    work: Callable[[], Awaitable[str]]


Reply = str | OpenModal | AnswerAfterAck


class HireCommands:
    def __init__(
        self,
        uow: UnitOfWork,
        telegram_username: Callable[[], str],
        viewers: Viewers,
        profiles: SlackProfiles,
        addresses: AddressPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._addresses = addresses or AddressPolicy()  # where a webhook may point
        self._viewers = viewers
        self._profiles = profiles
        self._telegram_username = telegram_username
        self._verbs: dict[str, Callable[[HireCommand], Awaitable[Reply]]] = {
            "invite": self.invite,
            "preview": self.preview,
            "intro": self.intro,
            "status": self.status,
            "remind": self.remind,
            "extend": self.extend,
            "advance": self.advance,
            "book": self.book,
            "reject": self.reject,
            "erase": self.erase,
            "export": self.export,
            "audit": self.audit,
            "webhooks": self.hooks,
            "stats": self.stats,
            "opening": self.opening,
            "openings": self.opening_list,
            "recruiters": self.recruiters,
            "availability": self.availability,
            "help": self.help,
        }

    def known(self, command: HireCommand) -> bool:
        return command.verb in self._verbs

    async def refusal(self, command: HireCommand) -> str | None:
        """Why ``command.user`` may not run this, or None when they may."""
        if not self.known(command):
            return None  # answered with the usage
        if command.action not in roles.RECRUITER_ONLY or command.user in self._uow.recruiters:
            return None  # decided without a database round trip before the ack
        allowed = await self._uow.run(
            lambda s, _now: roles.may(s, command.action, command.user, self._uow.recruiters)
        )
        return None if allowed else roles.refusal(command.action)

    async def answer(self, command: HireCommand) -> Reply:
        """The reply to one ``/hire`` command; errors become the sentence for the user."""
        handler = self._verbs.get(command.verb)
        if handler is None:
            return f"I don't know `/hire {escaping.mrkdwn(command.verb)}`.\n{USAGE}"
        try:
            return await handler(command)
        except HirebotError as err:
            return str(err)

    async def finish(self, later: AnswerAfterAck) -> str:
        """Run a report acked earlier; errors become the sentence for the user."""
        try:
            return await later.work()
        except HirebotError as err:
            return str(err)

    # ------------------------------------------------------------------ candidates

    async def invite(self, command: HireCommand) -> Reply:
        slug, _, rest = command.rest.partition(" ")
        name_words: list[str] = []
        email: str | None = None
        language = "en"
        multiplier = 1.0
        for word in rest.split():
            if match := _LANGUAGE.match(word):
                language = match.group(1).lower()
            elif match := _EXTRA_TIME.match(word):
                multiplier = float(match.group(1))
            elif match := _EMAIL.match(word):
                email = match.group(1)
            else:
                name_words.append(word)
        name = " ".join(name_words)
        if not slug or not name:
            return (
                "Usage: `/hire invite <opening> <candidate name> [email] [lang=xx] [time=1.5]`, "
                "e.g. `/hire invite backend-engineer Jane Doe jane@example.com lang=de`"
            )
        username = self._telegram_username()

        def deep_link(token: str) -> str:
            return f"https://t.me/{username}?start={token}"

        invitation = await self._uow.run(
            lambda s, now: interview.invite(
                s,
                opening_slug=slug,
                candidate_name=name,
                invited_by=command.user,
                now=now,
                email=email,
                language=language,
                time_multiplier=multiplier,
                deep_link=deep_link,
            )
        )
        link = deep_link(invitation.token)
        deadline = format_deadline(invitation.deadline)
        name, opening = escaping.mrkdwn(invitation.candidate), escaping.mrkdwn(invitation.opening)
        emailed = (
            f"I'm also emailing them the invitation with this link at {escaping.mrkdwn(email)}; "
            "if it cannot be delivered, their thread will say why.\n"
            if invitation.emailed and email
            else ""
        )
        return (
            f"Invited *{name}* to *{opening}* "
            f"(#{invitation.interview_id}). Deadline: {deadline}.\n"
            f"{emailed}"
            f"Send them this link (it works for one Telegram account only):\n{link}\n\n"
            f"Ready to paste:\n>Hi {name.split()[0]}, thanks for applying! "
            f"Our first step is a short async interview on Telegram: open {link} and answer "
            f"a few questions by voice or video, any time before {deadline}."
        )

    async def preview(self, command: HireCommand) -> Reply:
        slug = command.rest.strip()
        if not slug or " " in slug:
            return "Usage: `/hire preview <opening>`, e.g. `/hire preview backend-engineer`"
        profile = await self._profiles.of(command.user)
        try:
            direct = await self._profiles.direct_channel(command.user)
        except SlackApiError as err:
            return (
                "I could not open our DM to put your preview's answers in "
                f"(Slack said `{err.response.get('error')}`): run `hirebot doctor`."
            )
        invitation = await self._uow.run(
            lambda s, now: preview.start(
                s,
                opening_slug=slug,
                recruiter=command.user,
                name=profile.name,
                direct_channel=direct,
                now=now,
            )
        )
        username = self._telegram_username()
        return preview.reply(invitation, lambda token: f"https://t.me/{username}?start={token}")

    async def intro(self, command: HireCommand) -> Reply:
        words = command.rest.split()
        usage = "Usage: `/hire intro <opening>` or `/hire intro <opening> remove [question]`"
        if not words or len(words) > 3 or (len(words) > 1 and words[1].lower() != "remove"):
            return usage
        slug = words[0]
        if len(words) == 1:
            return await self._uow.run(lambda s, _now: intro_clips.listing(s, slug))
        if len(words) == 3 and not words[2].isdigit():
            return usage
        number = int(words[2]) if len(words) == 3 else None
        return await self._uow.run(
            lambda s, now: intro_clips.remove_by_team(
                s, slug=slug, number=number, by=command.user, now=now
            )
        )

    async def status(self, command: HireCommand) -> Reply:
        async def work() -> str:
            viewer = await self._viewers.of(command.user)
            return await self._uow.run(
                lambda s, now: reports.status(s, command.rest, viewer=viewer, now=now)
            )

        return AnswerAfterAck(work)

    async def remind(self, command: HireCommand) -> Reply:
        if not command.rest:
            return "Usage: `/hire remind <candidate or #id>`"
        return await self._uow.run(lambda s, now: pipeline.remind(s, who=command.rest, now=now))

    async def extend(self, command: HireCommand) -> Reply:
        who, _, days = command.rest.rpartition(" ")
        if not who.strip() or not days.strip().isdigit():
            return "Usage: `/hire extend <candidate or #id> <days>`, e.g. `/hire extend #12 3`"
        return await self._uow.run(
            lambda s, now: extensions.extend(s, who=who, days=int(days), by=command.user, now=now)
        )

    async def advance(self, command: HireCommand) -> Reply:
        who, _, stage = command.rest.partition(" to ")
        if not who.strip():
            return "Usage: `/hire advance <candidate or #id> [to <stage>]`"
        return await self._uow.run(
            lambda s, now: pipeline.advance(
                s, who=who, by=command.user, now=now, stage=stage or None
            )
        )

    async def book(self, command: HireCommand) -> Reply:
        if not command.rest:
            return "Usage: `/hire book <candidate or #id>`"
        return await self._uow.run(lambda s, now: pipeline.book_call(s, who=command.rest, now=now))

    async def reject(self, command: HireCommand) -> Reply:
        if not command.rest:
            return "Usage: `/hire reject <candidate or #id>`"
        draft = await self._uow.run(lambda s, _now: pipeline.rejection_draft(s, command.rest))
        return OpenModal(modals.reject_view(draft))

    async def erase(self, command: HireCommand) -> Reply:
        who, confirmed = command.rest, command.rest.lower().endswith(" confirm")
        who = who[: -len(" confirm")] if confirmed else who
        if not who.strip():
            return "Usage: `/hire erase <candidate or #id>`"

        return await self._uow.run(
            lambda s, now: erasure.erase_for_recruiter(
                s, who=who, confirmed=confirmed, by=command.user, now=now
            )
        )

    # ------------------------------------------------------------------ reports

    async def export(self, command: HireCommand) -> Reply:
        return AnswerAfterAck(lambda: self._export(command))

    async def _export(self, command: HireCommand) -> str:
        words = command.rest.split()
        fmt = "csv"
        if words and words[-1].lower() in reports.EXPORT_FORMATS:
            fmt = words.pop().lower()
        if len(words) > 1:
            return "Usage: `/hire export [opening] [csv|json]`"
        slug = words[0] if words else None

        def work(session: Session, now: Any) -> str:
            content, count = reports.export(session, slug, fmt)
            name = f"hirebot-{slug or 'all-openings'}-{now:%Y%m%d-%H%M}.{fmt}"
            outgoing.file_to_team_member(
                session,
                user=command.user,
                filename=name,
                title=f"Candidates: {slug or 'all openings'}",
                content=content,
                now=now,
                about=reports.named_in_export(session, slug),
            )
            audit.exported(
                session, by=command.user, opening_slug=slug, rows=count, now=now, fmt=fmt
            )
            return f"Exported {count} candidate{'s' if count != 1 else ''}: check your DMs."

        return await self._uow.run(work)

    async def audit(self, command: HireCommand) -> Reply:
        if not command.rest:
            return "Usage: `/hire audit <candidate or #id>`"
        return await self._uow.run(
            lambda s, now: audit_trail.trail(s, who=command.rest, by=command.user, now=now)
        )

    async def stats(self, command: HireCommand) -> Reply:
        async def work() -> str:
            viewer = await self._viewers.of(command.user)
            return await self._uow.run(
                lambda s, _now: reports.stats_text(s, command.rest or None, viewer)
            )

        return AnswerAfterAck(work)

    async def hooks(self, command: HireCommand) -> Reply:
        sub, _, rest = command.rest.partition(" ")
        sub = sub.lower() or "list"
        if sub == "list":
            return await self._uow.run(lambda s, _now: webhooks.listing(s))
        if sub == "add" and len(rest.split()) >= 2:
            url, *names = rest.split()
            events = webhooks.events_named(names)
            url = webhooks.checked_url(url, self._addresses)
            if await only_refused(urlsplit(url).hostname or "", self._addresses):
                return webhooks.REFUSED
            added = await self._uow.run(
                lambda s, now: webhooks.add(s, url=url, events=events, by=command.user, now=now)
            )
            return (
                f"Added webhook *#{added.endpoint_id}* for {', '.join(added.events)}.\n"
                f"Its signing secret, shown this once (keep it in your receiver's settings):\n"
                f"`{added.secret}`\n"
                "Each delivery is signed in the `Hirebot-Signature` header; see the README, "
                "*Webhooks*, to verify it."
            )
        if sub in ("remove", "test") and rest.strip().lstrip("#").isdigit():
            endpoint = int(rest.strip().lstrip("#"))
            act = webhooks.remove if sub == "remove" else webhooks.send_test
            return await self._uow.run(lambda s, now: act(s, endpoint, by=command.user, now=now))
        return (
            "Usage: `/hire webhooks`, `/hire webhooks add <https://…> <event…>` "
            f"(events: {webhooks.NAMED}), "
            "`/hire webhooks remove <#id>`, `/hire webhooks test <#id>`"
        )

    # ------------------------------------------------------------------ openings, roles

    async def opening(self, command: HireCommand) -> Reply:
        sub = command.action.split()[1]
        if sub == "list":
            return await self.opening_list(command)
        if sub == "new":
            return OpenModal(modals.opening_view())
        return "Usage: `/hire opening list` or `/hire opening new`"

    async def opening_list(self, command: HireCommand) -> Reply:
        async def work() -> str:
            viewer = await self._viewers.of(command.user)
            return await self._uow.run(lambda s, _now: reports.opening_list(s, viewer))

        return AnswerAfterAck(work)

    async def recruiters(self, command: HireCommand) -> Reply:
        sub = command.action.split()[1]
        target = command.rest.split(maxsplit=1)[1] if len(command.rest.split()) > 1 else ""
        configured = self._uow.recruiters
        if sub == "list":
            people = await self._uow.run(lambda s, _now: roles.everyone(s, configured))
            if not people:
                return "No recruiters yet: set HIREBOT_RECRUITERS to your Slack user id."
            return "Recruiters: " + ", ".join(f"<@{p}>" for p in people)
        if sub not in ("add", "remove") or not target:
            return "Usage: `/hire recruiters list`, `/hire recruiters add @user`, `… remove @user`"
        user = roles.user_id(target)
        if sub == "add":
            return await self._uow.run(
                lambda s, now: roles.add(
                    s, user=user, by=command.user, configured=configured, now=now
                )
            )
        return await self._uow.run(
            lambda s, now: roles.remove(
                s, user=user, by=command.user, configured=configured, now=now
            )
        )

    # ------------------------------------------------------------------ interviewers

    async def availability(self, command: HireCommand) -> Reply:
        return OpenModal(await hours_form_for(self._uow, self._profiles, command.user))

    async def help(self, command: HireCommand) -> Reply:
        return USAGE


async def hours_form_for(uow: UnitOfWork, profiles: SlackProfiles, user: str) -> dict[str, Any]:
    """The interview-hours form for ``user``: what they stored, or a first one from their
    Slack profile's time zone and email."""
    profile = await profiles.of(user)
    form = await uow.run(
        lambda s, now: interviewer_setup.form_for(
            s, user, now=now, slack_zone=profile.time_zone, slack_email=profile.email
        )
    )
    return hours_view(form)
