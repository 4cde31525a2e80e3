"""Form submissions: a score, a rejection, a new opening, an interviewer's hours.

A submission is read and saved, then acked; or acked with the errors to show in the form
(Slack keeps it open). A form can be kept, shared or forged: who may submit it is checked
again here, not only when it was opened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from sqlmodel import Session

from bot.calendar_feed import FeedReads
from bot.errors import HirebotError
from bot.flows import interviewer_setup, openings, outgoing, pipeline, review, roles
from bot.flows.interviewer_setup import HoursRefused
from bot.slack import modals
from bot.slack.hours_form import HOURS, read_hours
from bot.slack.listeners.requests import SOURCE, bind, is_recruiter, view_key
from bot.unit_of_work import UnitOfWork


def register(app: AsyncApp, uow: UnitOfWork, feeds: FeedReads | None) -> None:
    app.view(modals.SCORE)(bind(submit_score, uow=uow))
    app.view(modals.REJECT)(bind(submit_reject, uow=uow))
    app.view(modals.OPENING_NEW)(bind(submit_opening, uow=uow))
    app.view(HOURS)(bind(submit_hours, uow=uow, feeds=feeds))


async def submit_score(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], *, uow: UnitOfWork
) -> None:
    interview_id = int(view["private_metadata"])
    reviewer = body["user"]["id"]
    rubric = await uow.run(lambda s, _now: _rubric(s, interview_id))
    read = modals.read_score(view, rubric)
    if isinstance(read, dict):
        await ack(response_action="errors", errors=read)
        return
    scores, note = read
    try:
        await uow.once(
            SOURCE,
            view_key(view),
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


async def submit_reject(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], *, uow: UnitOfWork
) -> None:
    who, user = f"#{view['private_metadata']}", body["user"]["id"]
    if not await is_recruiter(uow, user):
        await ack(response_action="errors", errors={"message": roles.refusal("reject")})
        return
    read = modals.read_reject(view)
    if isinstance(read, dict):
        await ack(response_action="errors", errors=read)
        return

    def work(session: Session, now: datetime) -> None:
        line = pipeline.reject(
            session, who=who, by=user, now=now, reason=read.reason, message=read.message
        )
        outgoing.to_team_member(session, user, line, now, about=[int(view["private_metadata"])])

    try:
        await uow.once(SOURCE, view_key(view), work)
    except HirebotError as err:
        await ack(response_action="errors", errors={"message": str(err)})
        return
    await ack()


async def submit_opening(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], *, uow: UnitOfWork
) -> None:
    spec = modals.read_opening(view)
    if isinstance(spec, dict):
        await ack(response_action="errors", errors=spec)
        return
    user = body["user"]["id"]
    if not await is_recruiter(uow, user):
        await ack(response_action="errors", errors={"title": roles.refusal("opening new")})
        return
    try:
        await uow.once(
            SOURCE, view_key(view), lambda s, now: openings.create(s, spec, by=user, now=now)
        )
    except HirebotError as err:
        await ack(response_action="errors", errors={"title": str(err)})
        return
    await ack()


async def submit_hours(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    *,
    uow: UnitOfWork,
    feeds: FeedReads | None,
) -> None:
    """Saved for the person who submits (never anyone named in the form), the summary sent
    to them by DM; a new calendar address is read at once, after the ack, so a wrong one is
    told within seconds rather than at the next scheduled read."""
    user = body["user"]["id"]
    entry = read_hours(view)
    try:
        _, saved = await uow.once(
            SOURCE,
            view_key(view),
            lambda s, now: interviewer_setup.save_hours(s, user, entry, now),
        )
    except HoursRefused as refused:
        await ack(response_action="errors", errors=refused.errors)
        return
    await ack()
    if saved is not None and saved.read_feed and feeds is not None:
        await feeds.read_now(user)


def _rubric(session: Session, interview_id: int) -> list[str]:
    return review.score_form(session, interview_id, "", recruiter=True).rubric
