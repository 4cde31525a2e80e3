"""Where an emulator listens: its aiohttp app on a free port of 127.0.0.1.

The socket is bound by us, not by aiohttp, so the port is known and cannot be taken by
another emulator between choosing it and listening on it (parallel tests start many).
"""

from __future__ import annotations

import socket

from aiohttp import web


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """``app`` listening on a free local port: its runner (``cleanup()`` stops it) and its
    base address, ``http://127.0.0.1:<port>``."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{port}"
