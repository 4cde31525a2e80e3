"""A round-robin HTTP load balancer on 127.0.0.1, as the one in front of several bot
processes that share Telegram's webhook: each request goes to the next backend."""

from __future__ import annotations

import itertools
from collections import Counter

from aiohttp import ClientSession, web

from bot.sandbox.world import free_port


class Balancer:
    def __init__(self, backends: list[int]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._next = itertools.cycle(backends)
        self.served: Counter[int] = Counter()  # backend port → requests it answered 2xx
        self._runner: web.AppRunner | None = None
        self._http: ClientSession | None = None

    async def __aenter__(self) -> Balancer:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._http = ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        backend = next(self._next)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self._http.request(
            request.method,
            f"http://127.0.0.1:{backend}{request.rel_url}",
            data=await request.read(),
            headers=headers,
        ) as response:
            body = await response.read()
            if response.status < 300:
                self.served[backend] += 1
            return web.Response(status=response.status, body=body)
