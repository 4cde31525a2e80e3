"""A webhook receiver on 127.0.0.1 (a real aiohttp server) that checks each delivery's
signature the way the README tells receivers to, and the payload JSON Schemas."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator, FormatChecker

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "webhooks" / "v1"


def schema_errors(body: dict[str, Any]) -> list[str]:
    """What is wrong with ``body`` against its type's schema (none: it is the contract)."""
    path = SCHEMAS / f"{body.get('type')}.schema.json"
    if not path.exists():
        return [f"no schema for {body.get('type')!r}"]
    validator = Draft202012Validator(json.loads(path.read_text()), format_checker=FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def verified(secret: str, header: str, body: bytes) -> bool:
    """The README's verification: ``t=<unix>,v1=<hex>``, HMAC-SHA256 of ``t + "." + body``."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


@dataclass
class Delivery:
    headers: dict[str, str]
    raw: bytes
    answered: int

    @property
    def body(self) -> dict[str, Any]:
        parsed = json.loads(self.raw)
        assert isinstance(parsed, dict)
        return parsed


@dataclass
class Receiver:
    """Answers each POST with the next of ``answers`` (then 200); records every request.

    An answer is a status code, or ``("hang", seconds)`` to answer only after that long (a
    timeout), or ``(429, "Retry-After value")``.
    """

    url: str = ""
    secret: str = ""
    answers: list[Any] = field(default_factory=list)
    got: list[Delivery] = field(default_factory=list)
    forged: int = 0

    def accepted(self) -> list[dict[str, Any]]:
        return [d.body for d in self.got if 200 <= d.answered < 300]

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        answer = self.answers.pop(0) if self.answers else 200
        headers = dict(request.headers)
        if self.secret and not verified(self.secret, headers["Hirebot-Signature"], raw):
            self.forged += 1
            answer = 400
        if isinstance(answer, tuple) and answer[0] == "hang":
            await asyncio.sleep(answer[1])
            answer = 200
        retry_after = None
        if isinstance(answer, tuple):
            answer, retry_after = answer
        self.got.append(Delivery(headers, raw, answer))
        response = web.Response(status=answer, text="ok")
        if retry_after is not None:
            response.headers["Retry-After"] = retry_after
        return response


@asynccontextmanager
async def receiver(port: int) -> AsyncIterator[Receiver]:
    found = Receiver(url=f"http://127.0.0.1:{port}/hooks/hirebot")
    app = web.Application()
    app.router.add_post("/hooks/hirebot", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield found
    finally:
        await runner.cleanup()
