"""The App Home tab, rendered for the person who opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows import reports
from bot.slack.home import home_view
from bot.slack.listeners.requests import bind
from bot.slack.membership import Viewers
from bot.unit_of_work import UnitOfWork


def register(app: AsyncApp, uow: UnitOfWork, viewers: Viewers) -> None:
    app.event("app_home_opened")(bind(home_opened, uow=uow, viewers=viewers))


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
