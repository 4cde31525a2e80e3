"""Sharing a candidate (bot.flows.sharing): the card's *Share* button, its form, and the
thread's *Revoke link* button. Recruiters only, checked on the button and again on the form
(a form can be kept or forged)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from bot.errors import HirebotError
from bot.flows import review, sharing
from bot.flows.buttons import OpenShare, RevokeShare
from bot.flows.sharing import NewLink
from bot.slack.listeners.requests import (
    SOURCE,
    act_once,
    bind,
    is_recruiter,
    open_form,
    recruiters_only,
    view_key,
)
from bot.slack.membership import ChannelMembers
from bot.slack.share_form import SHARE, ShareRequest, link_view, read_share, share_view
from bot.unit_of_work import UnitOfWork
from storage.models import Interview, Opening


def register(
    app: AsyncApp, uow: UnitOfWork, members: ChannelMembers, address: Callable[[str], str]
) -> None:
    """``address``: a link's token → the address its holder opens (HIREBOT_PUBLIC_URL)."""
    guard = [bind(recruiters_only, uow=uow, refusal=sharing.REFUSAL)]
    app.action(OpenShare.action_pattern(), middleware=guard)(bind(open_share, uow=uow))
    app.view(SHARE)(bind(submit_share, uow=uow, members=members, address=address))
    revoke_guard = [bind(recruiters_only, uow=uow, refusal=REVOKE_REFUSAL)]
    app.action(RevokeShare.action_pattern(), middleware=revoke_guard)(bind(revoke, uow=uow))


REVOKE_REFUSAL = "Only recruiters can revoke a share link."


async def open_share(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    *,
    uow: UnitOfWork,
) -> None:
    await open_form(
        ack,
        body,
        action,
        client,
        respond,
        uow,
        OpenShare.from_slack,
        lambda s, pressed, _user: share_view(
            pressed.interview_id, _card_name(s, pressed.interview_id)
        ),
    )


async def submit_share(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    context: AsyncBoltContext,
    *,
    uow: UnitOfWork,
    members: ChannelMembers,
    address: Callable[[str], str],
) -> None:
    user = body["user"]["id"]
    if not await is_recruiter(uow, user):
        await ack(response_action="errors", errors={"people": sharing.REFUSAL})
        return
    read = read_share(view)
    if isinstance(read, dict):
        await ack(response_action="errors", errors=read)
        return
    # A channel hirebot is not in would refuse the post after the form closed: say so now.
    outside = [c for c in read.channels if context.bot_user_id not in await members.members(c)]
    if outside:
        named = ", ".join(f"<#{c}>" for c in outside)
        error = f"hirebot is not in {named}: /invite @hirebot there first, or pick people."
        await ack(response_action="errors", errors={"channels": error})
        return
    interview_id = int(view["private_metadata"])
    channel = await uow.run(lambda s, _now: _review_channel(s, interview_id))
    readers = await members.members(channel) if channel else frozenset()

    def work(session: Session, now: datetime) -> tuple[NewLink | None, str | None]:
        return _share(session, now, interview_id, user, read, readers)

    try:
        _, done = await uow.once(SOURCE, view_key(view), work)
    except HirebotError as err:
        await ack(
            response_action="errors", errors={"holder" if read.holder else "people": str(err)}
        )
        return
    link, shared = done or (None, None)
    if link is None:
        await ack()
        return
    await ack(response_action="update", view=link_view(link, address(link.token), shared))


async def revoke(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    *,
    uow: UnitOfWork,
) -> None:
    await act_once(
        ack,
        body,
        action,
        respond,
        uow,
        RevokeShare.from_slack,
        lambda s, now, pressed, user: sharing.revoke(
            s, link_id=pressed.link_id, by=user, recruiter=True, now=now
        ),
    )


def _share(
    session: Session,
    now: datetime,
    interview_id: int,
    user: str,
    read: ShareRequest,
    readers: frozenset[str],
) -> tuple[NewLink | None, str | None]:
    """One transaction: the Slack copies and the link, or neither."""
    shared = None
    if read.people or read.channels:
        shared = sharing.share_in_slack(
            session,
            interview_id=interview_id,
            by=user,
            recruiter=True,  # checked just before, against the same database
            people=read.people,
            channels=read.channels,
            members=readers,
            now=now,
        )
    link = None
    if read.holder:
        link = sharing.create_link(
            session,
            interview_id=interview_id,
            by=user,
            recruiter=True,
            holder=read.holder,
            days=read.days,
            now=now,
        )
    return link, shared


def _card_name(session: Session, interview_id: int) -> str:
    """The candidate as the card shows them (an alias under blind review)."""
    interview = review.under_review(session, interview_id, "shares")
    return review.card(session, interview).candidate


def _review_channel(session: Session, interview_id: int) -> str | None:
    interview = session.get(Interview, interview_id)
    if interview is None:
        return None
    return session.get_one(Opening, interview.opening_id).review_channel
