"""The Bolt app: ``/hire``, buttons, modals, thread replies, the App Home.

The request path: Bolt's built-ins (signature check in HTTP mode, self-event filter) → the
recruiter guard (listener middleware: refuses with an ephemeral sentence, nothing runs) →
the listener. Every listener acks within Slack's 3 s: slash commands answer in their ack
(fast database work only); buttons ack first and work after; form submissions are saved,
then acked (or acked with the errors to show). Thread replies are stored in listener
middleware, before Bolt's automatic ack of events. Re-deliveries are recognised by
``action_ts``, the view id and ``event_id``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from bot.errors import HirebotError, described
from bot.flows import (
    comments,
    escaping,
    extensions,
    openings,
    outgoing,
    pipeline,
    reports,
    review,
    roles,
)
from bot.flows.review import VoteChoice
from bot.services import Services
from bot.slack import events, modals
from bot.slack.blocks import SCORE_ACTION, VOTE_ACTION_PREFIX
from bot.slack.hire import AnswerAfterAck, HireCommand, HireCommands
from bot.slack.home import home_view
from bot.slack.membership import ChannelMembers, Viewers

log = logging.getLogger(__name__)
SOURCE = "slack"
_EXTENSION_ACTION = re.compile(rf"^({extensions.APPROVE}|{extensions.DENY}):(\d+)$")

Next = Callable[[], Awaitable[None]]


def build_app(
    client: AsyncWebClient,
    services: Services,
    *,
    signing_secret: str | None,
    telegram_username: Callable[[], str],
) -> AsyncApp:
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret or "",
        # Socket Mode requests are not signed; HTTP mode requests always are.
        request_verification_enabled=signing_secret is not None,
    )
    viewers = Viewers(services, ChannelMembers(client))
    commands = HireCommands(services, telegram_username, viewers)

    @app.error
    async def failed(error: Exception, body: dict[str, Any]) -> None:
        # Bolt's own handler logs str(error): SQL parameters, a payload, a person's words.
        log.error("slack %s failed: %s", _request_ids(body), described(error))

    async def is_recruiter(user: str) -> bool:
        return await services.db.run(lambda s: roles.is_recruiter(s, user, services.recruiters))

    # ------------------------------------------------------------------ guards

    # A guard that refuses returns the ack's response: Bolt then skips the listener.
    async def hire_guard(ack: AsyncAck, command: dict[str, Any], next: Next) -> BoltResponse | None:
        refusal = await commands.refusal(HireCommand.from_payload(command))
        if refusal is not None:
            return await ack(text=refusal, response_type="ephemeral")
        await next()
        return None

    async def recruiter_button_guard(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, next: Next
    ) -> BoltResponse | None:
        if not await is_recruiter(body["user"]["id"]):
            response = await ack()
            await respond(
                text="Only recruiters can decide on more time.",
                response_type="ephemeral",
                replace_original=False,
            )
            return response
        await next()
        return None

    # ------------------------------------------------------------------ /hire

    @app.command("/hire", middleware=[hire_guard])
    async def hire(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        parsed = HireCommand.from_payload(command)
        reply = await commands.answer(parsed)
        if isinstance(reply, str):
            await ack(text=reply, response_type="ephemeral")
            return
        if isinstance(reply, AnswerAfterAck):
            await ack()
            await respond(text=await commands.finish(reply), response_type="ephemeral")
            return
        await ack()
        try:
            await client.views_open(trigger_id=parsed.trigger_id, view=reply.view)
        except SlackApiError as err:
            log.warning("views.open failed: %s", err.response.get("error"))
            await respond(
                text="I couldn't open the form (Slack said "
                f"`{err.response.get('error')}`). Please run the command again.",
                response_type="ephemeral",
            )

    # ------------------------------------------------------------------ card buttons

    @app.action(re.compile(f"^{VOTE_ACTION_PREFIX}"))
    async def vote(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        choice = VoteChoice(action["action_id"].removeprefix(VOTE_ACTION_PREFIX))
        interview_id = int(action["value"])
        reviewer = body["user"]["id"]
        key = f"action:{reviewer}:{action['action_ts']}"
        try:
            await services.handle_once(
                SOURCE,
                key,
                lambda s, now: review.vote(
                    s, interview_id=interview_id, reviewer=reviewer, choice=choice, now=now
                ),
            )
        except HirebotError as err:
            log.info("vote refused: %s", err)

    @app.action(SCORE_ACTION)
    async def open_score(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        interview_id = int(action["value"])
        reviewer = body["user"]["id"]
        recruiter = await is_recruiter(reviewer)
        try:
            form = await services.db.run(
                lambda s: review.score_form(s, interview_id, reviewer, recruiter=recruiter)
            )
        except HirebotError as err:
            await respond(text=str(err), response_type="ephemeral", replace_original=False)
            return
        await client.views_open(trigger_id=body["trigger_id"], view=modals.score_view(form))

    @app.action(_EXTENSION_ACTION, middleware=[recruiter_button_guard])
    async def decide_extension(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        match = _EXTENSION_ACTION.match(action["action_id"])
        assert match is not None
        approve, request_id = match.group(1) == extensions.APPROVE, int(match.group(2))
        user = body["user"]["id"]
        try:
            _, line = await services.handle_once(
                SOURCE,
                f"action:{user}:{action['action_ts']}",
                lambda s, now: extensions.decide(
                    s, request_id=request_id, approve=approve, by=user, now=now
                ),
            )
        except HirebotError as err:
            line = str(err)
        if line:
            await respond(text=line, response_type="ephemeral", replace_original=False)

    # ------------------------------------------------------------------ forms

    @app.view(modals.SCORE)
    async def submit_score(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        interview_id = int(view["private_metadata"])
        reviewer = body["user"]["id"]
        rubric = await services.db.run(lambda s: _rubric(s, interview_id))
        read = modals.read_score(view, rubric)
        if isinstance(read, dict):
            await ack(response_action="errors", errors=read)
            return
        scores, note = read
        try:
            await services.handle_once(
                SOURCE,
                f"view:{view['id']}",
                lambda s, now: review.score(
                    s,
                    interview_id=interview_id,
                    reviewer=reviewer,
                    scores=scores,
                    note=note,
                    now=now,
                ),
            )
        except HirebotError as err:
            await ack(response_action="errors", errors={"note": str(err)})
            return
        await ack()

    @app.view(modals.REJECT)
    async def submit_reject(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        who, user = f"#{view['private_metadata']}", body["user"]["id"]
        # The command was guarded, but a form can be kept, shared or forged: check again.
        if not await is_recruiter(user):
            await ack(response_action="errors", errors={"message": roles.refusal("reject")})
            return
        read = modals.read_reject(view)
        if isinstance(read, dict):
            await ack(response_action="errors", errors=read)
            return

        def work(session: Session, now: Any) -> None:
            line = pipeline.reject(
                session, who=who, by=user, now=now, reason=read.reason, message=read.message
            )
            outgoing.to_team_member(session, user, line, now, about=[int(view["private_metadata"])])

        try:
            await services.handle_once(SOURCE, f"view:{view['id']}", work)
        except HirebotError as err:
            await ack(response_action="errors", errors={"message": str(err)})
            return
        await ack()

    @app.view(modals.OPENING_NEW)
    async def submit_opening(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        spec = modals.read_opening(view)
        if isinstance(spec, dict):
            await ack(response_action="errors", errors=spec)
            return
        user = body["user"]["id"]
        if not await is_recruiter(user):  # the command was guarded; the form is checked too
            await ack(response_action="errors", errors={"title": roles.refusal("opening new")})
            return
        try:
            await services.handle_once(
                SOURCE,
                f"view:{view['id']}",
                lambda s, now: openings.create(s, spec, by=user, now=now),
            )
        except HirebotError as err:
            await ack(response_action="errors", errors={"title": str(err)})
            return
        await ack()

    # ------------------------------------------------------------------ events

    async def store_thread_reply(body: dict[str, Any], event: dict[str, Any], next: Next) -> None:
        # Listener middleware runs before Bolt's automatic ack: the note is saved first.
        change = _comment_change(event)
        if change is not None:
            await services.handle_once(SOURCE, f"event:{body.get('event_id')}", change)
        await next()

    @app.event("message", middleware=[store_thread_reply])
    async def thread_message() -> None:
        return None

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        viewer = await viewers.of(user)
        home = await services.db.run(lambda s: reports.home(s, viewer))
        # The Home tab is a view, rendered on demand; publishing it again is harmless.
        await client.views_publish(user_id=user, view=home_view(home))

    events.register(app, services)
    return app


def _request_ids(body: dict[str, Any]) -> str:
    """What a failed request was, by kind and ids only (never its text)."""
    event = body.get("event") or {}
    view = body.get("view") or {}
    actions = body.get("actions") or [{}]
    parts = [
        str(body.get("type") or body.get("command") or "request"),
        str(event.get("type") or ""),
        str(body.get("event_id") or ""),
        str(actions[0].get("action_id") or ""),
        str(view.get("callback_id") or ""),
    ]
    return " ".join(p for p in parts if p)


def _rubric(session: Session, interview_id: int) -> list[str]:
    return review.score_form(session, interview_id, "", recruiter=True).rubric


def _comment_change(event: dict[str, Any]) -> Callable[[Session, Any], object] | None:
    """The change a ``message`` event makes to our notes, if it is a human's thread reply."""
    subtype = event.get("subtype")
    channel = str(event.get("channel") or "")
    if subtype == "message_changed":
        message = event.get("message") or {}
        ts, text = str(message.get("ts") or ""), escaping.from_slack(str(message.get("text") or ""))
        return lambda s, now: comments.edit(s, message_id=ts, text=text, now=now)
    if subtype == "message_deleted":
        deleted = str(event.get("deleted_ts") or "")
        return lambda s, now: comments.delete(s, message_id=deleted, now=now)
    thread_id, reply_id = str(event.get("thread_ts") or ""), str(event.get("ts") or "")
    human = event.get("user") and not event.get("bot_id")
    if subtype not in (None, "thread_broadcast", "file_share") or not human:
        return None
    if not thread_id or thread_id == reply_id:
        return None  # a channel message, not a reply in a candidate's thread
    # Stored as plain text, like everything people type; shown escaped (bot.flows.escaping).
    author, said = str(event["user"]), escaping.from_slack(str(event.get("text") or ""))
    return lambda s, now: comments.record(
        s,
        channel=channel,
        thread_id=thread_id,
        message_id=reply_id,
        author=author,
        text=said,
        now=now,
    )
