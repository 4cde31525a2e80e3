"""Slack events: teammates' replies in a candidate's thread, and the bot joining a channel.

Events are acked by Bolt as soon as the listener middleware lets them through, so a thread
reply is stored in listener middleware, before the ack: a note is never acked and lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from sqlmodel import Session

from bot.flows import comments, escaping, undelivered
from bot.slack.listeners.requests import SOURCE, Next, bind, event_key
from bot.unit_of_work import UnitOfWork


def register(app: AsyncApp, uow: UnitOfWork) -> None:
    app.event("message", middleware=[bind(store_thread_reply, uow=uow)])(thread_message)
    app.event("member_joined_channel")(bind(bot_joined_channel, uow=uow))


async def store_thread_reply(
    body: dict[str, Any], event: dict[str, Any], next: Next, *, uow: UnitOfWork
) -> None:
    change = _comment_change(event)
    if change is not None:
        await uow.once(SOURCE, event_key(body), change)
    await next()


async def thread_message() -> None:
    """Stored by ``store_thread_reply`` already; Bolt acks the event after this."""
    return None


async def bot_joined_channel(
    body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext, *, uow: UnitOfWork
) -> None:
    """hirebot was invited to a channel: what waited for it is delivered now.

    Slack sends ``member_joined_channel`` for every member who joins a channel the bot
    is in; only the bot's own arrival matters here.
    """
    if event.get("user") != context.bot_user_id:
        return
    channel = str(event.get("channel") or "")
    await uow.once(
        SOURCE,
        event_key(body),
        lambda s, now: undelivered.channel_available(s, channel=channel, now=now),
    )


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
