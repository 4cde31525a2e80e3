"""What every listener shares: how a re-delivery is recognised, who is a recruiter, and how a
listener gets the parts it needs.

Slack delivers again what it did not see acknowledged in time; each inbound request is
handled once, by its ``action_ts`` (a button), its view id (a form) or its ``event_id``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from bot.flows import roles
from bot.unit_of_work import UnitOfWork

SOURCE = "slack"

Next = Callable[[], Awaitable[None]]


def bind(listener: Callable[..., Awaitable[Any]], **parts: Any) -> Callable[..., Awaitable[Any]]:
    """``listener`` with its keyword-only ``parts`` (uow, …) filled in.

    Bolt passes a listener the arguments it names (``ack``, ``body``, …) and logs it by its
    ``__name__``: the result keeps both.
    """
    return functools.update_wrapper(functools.partial(listener, **parts), listener)


def action_key(body: dict[str, Any], action: dict[str, Any]) -> str:
    return f"action:{body['user']['id']}:{action['action_ts']}"


def view_key(view: dict[str, Any]) -> str:
    return f"view:{view['id']}"


def event_key(body: dict[str, Any]) -> str:
    return f"event:{body.get('event_id')}"


async def is_recruiter(uow: UnitOfWork, user: str) -> bool:
    return await uow.run(lambda s, _now: roles.is_recruiter(s, user, uow.recruiters))
