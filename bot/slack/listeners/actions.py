"""Buttons: a vote or the score form on a candidate card, a decision on more time, whether a
live call happened, a recruiter's Reschedule / Cancel under a booked live interview.

Each press is acked first and worked on after (Slack wants the ack within 3 s). The button's
data is read by its typed class in ``bot.flows.buttons``; data that is not one of ours, and
a press the flow refuses, change nothing and tell the person why, privately.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import HirebotError
from bot.flows import call_outcomes, extensions, pipeline, review, roles, scheduling
from bot.flows.buttons import (
    CallOutcome,
    ExtensionDecision,
    OfferCall,
    OpenScore,
    TeamCallChange,
    Verdict,
    Vote,
)
from bot.slack import modals
from bot.slack.listeners.requests import (
    SOURCE,
    act_once,
    action_key,
    bind,
    open_form,
    recruiters_only,
)
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def register(app: AsyncApp, uow: UnitOfWork) -> None:
    app.action(Vote.action_pattern())(bind(vote, uow=uow))
    app.action(OpenScore.action_pattern())(bind(open_score, uow=uow))
    app.action(
        ExtensionDecision.action_pattern(),
        middleware=[bind(recruiters_only, uow=uow, refusal=MORE_TIME_REFUSAL)],
    )(bind(decide_extension, uow=uow))
    app.action(CallOutcome.action_pattern())(bind(mark_call, uow=uow))
    app.action(
        TeamCallChange.action_pattern(),
        middleware=[bind(recruiters_only, uow=uow, refusal=CALL_REFUSAL)],
    )(bind(change_call, uow=uow))
    app.action(
        OfferCall.action_pattern(),
        middleware=[bind(recruiters_only, uow=uow, refusal=CALL_REFUSAL)],
    )(bind(offer_call, uow=uow))


MORE_TIME_REFUSAL = "Only recruiters can decide on more time."
CALL_REFUSAL = "Only recruiters can book, reschedule or cancel a candidate's call."


async def vote(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    *,
    uow: UnitOfWork,
) -> None:
    await ack()
    reviewer = body["user"]["id"]
    try:
        pressed = Vote.from_slack(action["action_id"], str(action.get("value") or ""))
        await uow.once(
            SOURCE,
            action_key(body, action),
            lambda s, now: review.vote(
                s,
                interview_id=pressed.interview_id,
                reviewer=reviewer,
                choice=pressed.choice,
                now=now,
            ),
        )
    except HirebotError as err:
        log.info("vote refused: %s", type(err).__name__)
        await _tell_privately(client, body, str(err))


async def open_score(
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
        OpenScore.from_slack,
        lambda s, pressed, reviewer: modals.score_view(
            review.score_form(
                s,
                pressed.interview_id,
                reviewer,
                recruiter=roles.is_recruiter(s, reviewer, uow.recruiters),
            )
        ),
    )


async def decide_extension(
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
        ExtensionDecision.from_slack,
        lambda s, now, pressed, user: extensions.decide(
            s,
            request_id=pressed.request_id,
            approve=pressed.verdict == Verdict.APPROVE,
            by=user,
            now=now,
        ),
    )


async def mark_call(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    *,
    uow: UnitOfWork,
) -> None:
    """Held / No-show under "Did the call happen?"; the flow decides who may press."""
    await act_once(
        ack,
        body,
        action,
        respond,
        uow,
        CallOutcome.from_slack,
        lambda s, now, pressed, user: call_outcomes.mark(
            s,
            booking_id=pressed.booking_id,
            outcome=pressed.outcome,
            by=user,
            recruiters=uow.recruiters,
            now=now,
        ),
    )


async def change_call(
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
        TeamCallChange.from_slack,
        lambda s, now, pressed, user: scheduling.team_change(
            s, booking_id=pressed.booking_id, change=pressed.change, by=user, now=now
        ),
    )


async def offer_call(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    *,
    uow: UnitOfWork,
) -> None:
    """ "Book a call" on the card: the same as ``/hire book #id``."""
    await act_once(
        ack,
        body,
        action,
        respond,
        uow,
        OfferCall.from_slack,
        lambda s, now, pressed, _user: pipeline.book_call(
            s, who=f"#{pressed.interview_id}", now=now
        ),
    )


async def _tell_privately(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    """An ephemeral message to the person who pressed, in the channel of the button."""
    channel = str((body.get("channel") or {}).get("id") or "")
    try:
        await client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)
    except SlackApiError as err:
        log.warning("chat.postEphemeral failed: %s", err.response.get("error"))
