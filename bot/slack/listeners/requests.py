"""What every listener shares: how a re-delivery is recognised, who is a recruiter (and the
middleware that turns anyone else away), how a button press is worked on once, how a person
is answered privately, and how a listener gets the parts it needs.

Slack delivers again what it did not see acknowledged in time; each inbound request is
handled once, by its ``action_ts`` (a button), its view id (a form) or its ``event_id``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from bot.errors import HirebotError, described
from bot.flows import roles
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SOURCE = "slack"

Next = Callable[[], Awaitable[None]]
B = TypeVar("B")


def bind(listener: Callable[..., Awaitable[Any]], **parts: Any) -> Callable[..., Awaitable[Any]]:
    """``listener`` with its keyword-only ``parts`` (uow, …) filled in, and a failure after
    its ack handled here (see ``_after_ack``).

    Bolt passes a listener the arguments it names (``ack``, ``body``, …) and logs it by its
    ``__name__``: the result keeps both.
    """
    bound = functools.partial(listener, **parts)

    async def guarded(**kwargs: Any) -> Any:
        try:
            return await bound(**kwargs)
        except Exception as err:
            ack = kwargs.get("ack")
            if ack is None or ack.response is None:
                raise  # not acked: Bolt's error path answers Slack (bot.slack.app.failed)
            await _after_ack(listener.__name__, err, kwargs.get("respond"))
            return None

    return functools.update_wrapper(guarded, listener)


# Said when work after the ack failed unexpectedly (its transaction rolled back).
FAILED_AFTER_ACK = "Something went wrong on my side and nothing was changed. Please try again."


async def _after_ack(what: str, err: Exception, respond: AsyncRespond | None) -> None:
    """Log a failure after the ack (its type and place, never its text) and tell the person.

    Raised instead, it would reach Bolt's own error path, which takes the ack back when the
    failure comes within Bolt's 10 ms wait for it (slack_bolt/listener/asyncio_runner.py
    sets the ack's response to None), and Slack then shows the person a timeout.
    """
    log.error("slack %s failed after its ack: %s", what, described(err))
    if respond is None:
        return
    try:
        await tell(respond, FAILED_AFTER_ACK)
    except Exception as told:  # no response_url (an event, some forms): the log says it
        log.warning("slack %s: could not tell the person: %s", what, described(told))


def action_key(body: dict[str, Any], action: dict[str, Any]) -> str:
    return f"action:{body['user']['id']}:{action['action_ts']}"


def view_key(view: dict[str, Any]) -> str:
    return f"view:{view['id']}"


def event_key(body: dict[str, Any]) -> str:
    return f"event:{body.get('event_id')}"


async def is_recruiter(uow: UnitOfWork, user: str) -> bool:
    return await uow.run(lambda s, _now: roles.is_recruiter(s, user, uow.recruiters))


async def tell(respond: AsyncRespond, text: str) -> None:
    """A private line to the person who pressed or used the shortcut; their message stays."""
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def recruiters_only(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    next: Next,
    *,
    uow: UnitOfWork,
    refusal: str,
) -> BoltResponse | None:
    """Middleware: only recruiters press these (or use this shortcut); anyone else is acked,
    told ``refusal`` privately, and nothing runs (nothing is downloaded or kept)."""
    if not await is_recruiter(uow, body["user"]["id"]):
        response = await ack()
        await tell(respond, refusal)
        return response
    await next()
    return None


async def act_once(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    uow: UnitOfWork,
    read: Callable[[str, str], B],
    act: Callable[[Session, datetime, B, str], str | None],
) -> None:
    """Ack, read the button as its typed class, run the flow once per press (a redelivered
    action changes nothing), and tell the presser privately what came of it: the flow's
    line, or why nothing changed (a refusal, forged or stale data)."""
    await ack()
    user = body["user"]["id"]
    line: str | None
    try:
        pressed = read(action["action_id"], str(action.get("value") or ""))
        _, line = await uow.once(
            SOURCE, action_key(body, action), lambda s, now: act(s, now, pressed, user)
        )
    except HirebotError as err:
        log.info("button press refused: %s", type(err).__name__)
        line = str(err)
    if line:
        await tell(respond, line)


async def open_form(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    uow: UnitOfWork,
    read: Callable[[str, str], B],
    form: Callable[[Session, B, str], dict[str, Any]],
) -> None:
    """Ack, read the button as its typed class, build the form it opens from the database,
    and open it; why not (a refusal, forged or stale data) is told to the presser privately."""
    await ack()
    user = body["user"]["id"]
    try:
        pressed = read(action["action_id"], str(action.get("value") or ""))
        view = await uow.run(lambda s, _now: form(s, pressed, user))
    except HirebotError as err:
        await tell(respond, str(err))
        return
    await client.views_open(trigger_id=body["trigger_id"], view=view)
