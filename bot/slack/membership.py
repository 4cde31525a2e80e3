"""Which review channels a person is in, as Slack says (``conversations.members``).

Reviewers are the members of an opening's review channel (``bot.flows.visibility``); Slack
alone knows who they are. Each channel's members are kept for a short while, so a
``/hire status`` or a Home tab does not wait on Slack every time; someone who leaves a
channel loses sight of its candidates within that while.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from bot.flows import reports, roles
from bot.flows.visibility import Viewer
from bot.limits import SlackLimit
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class ChannelMembers:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = SlackLimit.MEMBERS_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def channels_of(self, user: str, channels: Iterable[str]) -> frozenset[str]:
        """The channels among ``channels`` that ``user`` is a member of."""
        return frozenset([c for c in set(channels) if user in await self.members(c)])

    async def members(self, channel: str) -> frozenset[str]:
        """Who is in ``channel``; nobody when hirebot cannot see it (never invited there, or a
        scope missing): then nobody reads about its candidates through hirebot either."""
        cached = self._cache.get(channel)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        members: set[str] = set()
        try:
            async for page in await self._client.conversations_members(channel=channel, limit=1000):
                members.update(page.get("members", []))
        except SlackApiError as err:
            log.warning("cannot list members of %s: %s", channel, err.response.get("error"))
            members.clear()
        found = frozenset(members)
        self._cache[channel] = (self._clock() + self._ttl, found)
        return found


class Viewers:
    """The ``Viewer`` a Slack user is: recruiter or not, and the review channels they are in."""

    def __init__(self, uow: UnitOfWork, members: ChannelMembers) -> None:
        self._uow = uow
        self._members = members

    async def of(self, user: str) -> Viewer:
        def facts(session: Session, _now: datetime) -> tuple[bool, list[str]]:
            recruiter = roles.is_recruiter(session, user, self._uow.recruiters)
            return recruiter, reports.review_channels(session)

        recruiter, channels = await self._uow.run(facts)
        return Viewer(user, recruiter, await self._members.channels_of(user, channels))
