"""A load balancer on 127.0.0.1 in front of several bot processes, as nginx or a cloud load
balancer stands in front of them in production.

Telegram pushes every webhook update to one public URL; the balancer hands each request to
the next bot process in turn, and to the one after when a process does not answer (killed,
restarting), like nginx's ``proxy_next_upstream error``. When none answers, Telegram gets 502
and keeps the update to push again.
"""

from __future__ import annotations

import itertools
from collections import Counter

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.sandbox.world import free_port


class Balancer:
    """``async with Balancer(ports) as lb``: ``lb.url + path`` reaches one of ``ports``."""

    def __init__(self, ports: list[int], port: int = 0) -> None:
        self.ports = ports
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.served: Counter[int] = Counter()  # backend port → requests it answered 2xx
        self.passed_on = 0  # requests a process did not take, handed to the next one
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: ClientSession | None = None

    async def __aenter__(self) -> Balancer:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._relay)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._http = ClientSession(timeout=ClientTimeout(total=30))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _relay(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        first = next(self._turn)
        for attempt in range(len(self.ports)):
            port = self.ports[(first + attempt) % len(self.ports)]
            try:
                async with self._http.request(
                    request.method,
                    f"http://127.0.0.1:{port}{request.path_qs}",
                    data=body,
                    headers=headers,
                ) as answer:
                    if answer.status < 300:
                        self.served[port] += 1
                    return web.Response(
                        status=answer.status,
                        body=await answer.read(),
                        content_type=answer.content_type,
                    )
            except (ClientError, OSError):
                self.passed_on += 1
        return web.Response(status=502, text="no upstream answered")
