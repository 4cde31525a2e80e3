"""What Slack's profile says of a person that a form can start from: their time zone and,
where the app may read it, their email (``users.info``); and the name a calendar invitation
shows for them.

``users:read`` gives the time zone; the email comes only with ``users:read.email`` as well.
Without it Slack simply leaves ``profile.email`` out: the form then starts with an empty
email field, and the person types theirs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profile:
    time_zone: str | None = None  # IANA name, e.g. "Europe/Berlin"
    email: str | None = None
    name: str | None = None  # the full name (a calendar shows full names), else display name


class SlackProfiles:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def of(self, user: str) -> Profile:
        """The person's profile; an empty one when Slack will not say (a missing scope, a
        deleted user): a form then starts from its defaults."""
        try:
            answer = await self._client.users_info(user=user)
        except SlackApiError as err:
            log.warning("users.info failed: %s", err.response.get("error"))
            return Profile()
        person = answer.get("user") or {}
        profile = person.get("profile") or {}
        name = str(profile.get("real_name") or profile.get("display_name") or "").strip()
        return Profile(
            time_zone=str(person["tz"]) if person.get("tz") else None,
            email=str(profile["email"]) if profile.get("email") else None,
            name=name or None,
        )

    async def direct_channel(self, user: str) -> str:
        """The id of the app's DM with ``user`` (``conversations.open``, scope im:write):
        what a thread there is posted in, as a review channel's threads are."""
        opened = await self._client.conversations_open(users=user)
        return str(opened["channel"]["id"])
