"""``POST /ats/{kind}``: an ATS's webhook, verified by its adapter, handled once, stored
before it is answered.

Answers: 404 for an ATS hirebot does not speak or that is not set up; 401 for a forged or
replayed delivery (nothing changes); 503 when the ATS cannot be asked who the candidate is
(it retries the delivery); 200 once the outcome is committed, whatever it is (an event we do
not act on, a redelivery, an invitation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from bot.config import Settings
from bot.errors import ConfigError
from bot.flows import ats_inbound
from bot.integrations.ats import AtsError, Forged
from bot.integrations.clients import client_for, kinds
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

PATH = "/ats/{kind}"


def routes(
    app: web.Application, uow: UnitOfWork, settings: Settings, bot_username: Callable[[], str]
) -> None:
    """Add the ATS webhook route to the bot's web server."""
    app.router.add_post(PATH, AtsWebhook(uow, settings, bot_username).handle)


class AtsWebhook:
    def __init__(
        self, uow: UnitOfWork, settings: Settings, bot_username: Callable[[], str]
    ) -> None:
        self._uow = uow
        self._settings = settings
        self._bot_username = bot_username

    async def handle(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        if kind not in kinds():
            return web.Response(status=404)
        try:
            client = client_for(kind, self._settings)
        except ConfigError:
            return web.Response(status=404)  # that ATS is not set up here
        try:
            body = await request.read()
            try:
                change = client.stage_change(request.headers, body, self._uow.now())
            except Forged as err:
                log.warning("refused a %s webhook: %s", kind, err)
                return web.Response(status=401)
            if change is None:
                return web.Response(status=200)  # an event hirebot does not act on
            try:
                change = await client.filled_in(change)
            except AtsError as err:
                log.warning("a %s webhook waits: %s", kind, err)
                return web.Response(status=503)  # the ATS delivers it again
        finally:
            await client.close()
        username = self._bot_username()

        def deep_link(token: str) -> str:
            return f"https://t.me/{username}?start={token}"

        invited_by = min(self._settings.recruiter_ids, default="hirebot")
        found = change
        _first, outcome = await self._uow.once(
            f"ats:{kind}",
            change.delivery_id[:128],
            lambda s, now: ats_inbound.stage_changed(
                s, kind=kind, change=found, invited_by=invited_by, deep_link=deep_link, now=now
            ),
        )
        log.info("%s webhook: %s", kind, outcome.value if outcome else "handled before")
        return web.Response(status=200)
