"""Messages to a candidate (issue 11): the "Send to candidate" message shortcut, "Reply to
candidate" under a candidate's question, and the confirmation form both open.

Recruiters only: anyone else is told so privately and nothing is downloaded or kept. The
shortcut is acked at once; a recording is fetched and converted after the ack, while the
form says it is being prepared.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import HirebotError, InvalidRequest
from bot.flows import escaping, questions, relay
from bot.flows.buttons import ReplyToCandidate
from bot.flows.relay import Clip, Draft, RelayKind
from bot.slack import clips, relay_form
from bot.slack.listeners.requests import SOURCE, bind, recruiters_only, tell, view_key
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def register(app: AsyncApp, uow: UnitOfWork) -> None:
    guard = [bind(recruiters_only, uow=uow, refusal=relay.REFUSAL)]
    app.shortcut(relay_form.SHORTCUT, middleware=guard)(bind(send_to_candidate, uow=uow))
    app.action(ReplyToCandidate.action_pattern(), middleware=guard)(
        bind(reply_to_candidate, uow=uow)
    )
    app.view(relay_form.RELAY_CONFIRM)(bind(confirm, uow=uow))


async def send_to_candidate(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    *,
    uow: UnitOfWork,
) -> None:
    """The shortcut on a message in a candidate's thread: a clip, a file, or its text."""
    await ack()
    user = body["user"]["id"]
    channel = str((body.get("channel") or {}).get("id") or "")
    message: dict[str, Any] = body.get("message") or {}
    thread = message.get("thread_ts")
    try:
        if message.get("bot_id") or not thread or thread == message.get("ts"):
            raise InvalidRequest(relay.OUTSIDE_THREAD)
        interview_id = await uow.run(
            lambda s, _now: relay.interview_in_thread(s, channel, str(thread))
        )
    except HirebotError as err:
        await tell(respond, str(err))
        return
    files: list[dict[str, Any]] = message.get("files") or []
    if not files:
        text = escaping.from_slack(str(message.get("text") or ""))
        await _open_draft(body, client, respond, uow, interview_id, RelayKind.TEXT, text)
        return
    opened = await client.views_open(trigger_id=body["trigger_id"], view=relay_form.preparing())
    view_id = str(opened["view"]["id"])
    try:
        clip = await clips.prepare(str(client.token), files[0], uow.media)
        caption = escaping.from_slack(str(message.get("text") or ""))
        draft = await _draft(uow, interview_id, user, clip.kind, caption, clip)
        form = relay_form.preview(draft)
    except HirebotError as err:
        log.info("send to candidate refused: %s", type(err).__name__)
        form = relay_form.problem(str(err))
    await client.views_update(view_id=view_id, view=form)


async def reply_to_candidate(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    *,
    uow: UnitOfWork,
) -> None:
    """ "Reply to candidate" under their question: a text reply (a clip goes by the shortcut)."""
    await ack()
    try:
        pressed = ReplyToCandidate.from_slack(action["action_id"], str(action.get("value") or ""))
        interview_id = await uow.run(lambda s, _now: questions.replyable(s, pressed.question_id))
    except HirebotError as err:
        await tell(respond, str(err))
        return
    await _open_draft(
        body, client, respond, uow, interview_id, RelayKind.TEXT, "", pressed.question_id
    )


async def confirm(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], *, uow: UnitOfWork
) -> None:
    """Send: queued behind the candidate's other messages, said in the thread."""
    user = body["user"]["id"]
    text = relay_form.read_text(view)
    try:
        relay_id = int(view["private_metadata"])
        await uow.once(
            SOURCE,
            view_key(view),
            lambda s, now: relay.confirm(
                s, relay_id=relay_id, by=user, recruiters=uow.recruiters, text=text, now=now
            ),
        )
    except (HirebotError, ValueError) as err:
        await ack(response_action="errors", errors={relay_form.TEXT_BLOCK: str(err)})
        return
    await ack()


async def _open_draft(
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    uow: UnitOfWork,
    interview_id: int,
    kind: RelayKind,
    text: str,
    question_id: int | None = None,
) -> None:
    try:
        draft = await _draft(uow, interview_id, body["user"]["id"], kind, text, None, question_id)
    except HirebotError as err:
        await tell(respond, str(err))
        return
    await client.views_open(trigger_id=body["trigger_id"], view=relay_form.preview(draft))


async def _draft(
    uow: UnitOfWork,
    interview_id: int,
    user: str,
    kind: RelayKind,
    text: str,
    clip: Clip | None,
    question_id: int | None = None,
) -> Draft:
    return await uow.run(
        lambda s, now: relay.draft(
            s,
            interview_id=interview_id,
            by=user,
            recruiters=uow.recruiters,
            kind=kind,
            text=text,
            now=now,
            clip=clip,
            question_id=question_id,
        )
    )
