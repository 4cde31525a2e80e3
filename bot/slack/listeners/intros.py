""" "Use as intro for opening…": a recruiter makes a Slack clip an opening's intro (issue 11).

Recruiters only: anyone else is told so privately, and nothing is downloaded. The shortcut
opens the form at once (Slack's trigger lasts 3 seconds); the clip is fetched and converted
after the form is submitted and acked, the way "Send to candidate" fetches one
(bot.slack.clips), and the recruiter hears the outcome in a DM.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import HirebotError, InvalidRequest
from bot.flows import intro_clips, openings, outgoing
from bot.flows.intro_clips import ConvertedClip
from bot.slack import clips, intro_form
from bot.slack.listeners.requests import SOURCE, bind, is_recruiter, recruiters_only, tell, view_key
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def register(app: AsyncApp, uow: UnitOfWork) -> None:
    guard = [bind(recruiters_only, uow=uow, refusal=intro_clips.REFUSAL)]
    app.shortcut(intro_form.SHORTCUT, middleware=guard)(bind(use_as_intro, uow=uow))
    app.view(intro_form.CHOOSE)(bind(chosen, uow=uow))


async def use_as_intro(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    *,
    uow: UnitOfWork,
) -> None:
    """The shortcut on a message: a clip (or an audio/video file) → the form."""
    await ack()
    files: list[dict[str, Any]] = (body.get("message") or {}).get("files") or []
    try:
        if not files:
            raise InvalidRequest(intro_clips.NOT_A_CLIP)
        clips.route(files[0])
    except InvalidRequest:
        await tell(respond, intro_clips.NOT_A_CLIP)
        return
    listed = await uow.run(lambda s, _now: [(o.slug, o.title) for o in openings.listed(s)])
    if not listed:
        await tell(respond, "There is no opening yet: create one with `/hire opening new`.")
        return
    await client.views_open(trigger_id=body["trigger_id"], view=intro_form.choose(listed, files[0]))


async def chosen(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    *,
    uow: UnitOfWork,
) -> None:
    """The opening (and question) chosen: fetch, convert and keep the clip, then say so."""
    user = body["user"]["id"]
    slug, number, file = intro_form.read(view)
    try:
        await uow.run(lambda s, _now: intro_clips.target(s, slug, number))
    except HirebotError as err:
        await ack(response_action="errors", errors={intro_form.QUESTION_BLOCK: str(err)})
        return
    await ack()
    if not await is_recruiter(uow, user):  # the form outlived their role
        await _tell(uow, user, intro_clips.REFUSAL)
        return
    try:
        clip = await clips.prepare(str(client.token), file, uow.media)
    except HirebotError as err:
        log.info("use as intro refused: %s", type(err).__name__)
        await _tell(uow, user, f"⚠️ That clip cannot be an intro: {err}")
        return
    converted = ConvertedClip(
        kind=clip.kind.value,
        media_path=clip.media_path,
        duration_seconds=clip.duration_seconds,
        width=0,  # Telegram reads the size from the file
        height=0,
        source_sha256=f"slack:{file.get('id')}"[:64],
    )
    await uow.once(
        SOURCE,
        view_key(view),
        lambda s, now: intro_clips.set_from_team(
            s, slug=slug, number=number, converted=converted, by=user, now=now
        ),
    )


async def _tell(uow: UnitOfWork, user: str, text: str) -> None:
    await uow.run(lambda s, now: outgoing.to_team_member(s, user, text, now))
