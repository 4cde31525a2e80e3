"""The App Home tab, rendered for the person who opens it, and its "Set my interview hours"
button, which opens the same form as ``/hire availability``."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows import reports
from bot.slack.hire import hours_form_for
from bot.slack.home import SET_HOURS, home_view
from bot.slack.listeners.requests import bind
from bot.slack.membership import Viewers
from bot.slack.profiles import SlackProfiles
from bot.unit_of_work import UnitOfWork


def register(app: AsyncApp, uow: UnitOfWork, viewers: Viewers, profiles: SlackProfiles) -> None:
    app.event("app_home_opened")(bind(home_opened, uow=uow, viewers=viewers))
    app.action(SET_HOURS)(bind(open_hours_form, uow=uow, profiles=profiles))


async def home_opened(
    event: dict[str, Any], client: AsyncWebClient, *, uow: UnitOfWork, viewers: Viewers
) -> None:
    if event.get("tab", "home") != "home":
        return
    user = event["user"]
    viewer = await viewers.of(user)
    home = await uow.run(lambda s, _now: reports.home(s, viewer))
    # The Home tab is a view, rendered on demand; publishing it again is harmless.
    await client.views_publish(user_id=user, view=home_view(home))


async def open_hours_form(
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    *,
    uow: UnitOfWork,
    profiles: SlackProfiles,
) -> None:
    await ack()
    # The form is always the presser's own: whose hours it saves is read from the submission.
    view = await hours_form_for(uow, profiles, body["user"]["id"])
    await client.views_open(trigger_id=body["trigger_id"], view=view)
