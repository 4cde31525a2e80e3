"""Email side of the sandbox: a real SMTP server on 127.0.0.1 (aiosmtpd) and its mailbox.

Why: hirebot's SMTP adapter talks to it exactly as to a mail provider (EHLO, optional AUTH,
MAIL, RCPT, DATA), so tests and the demo see the message a recipient would get. It can
refuse recipients (``refuse``: one reply per RCPT, e.g. a 550 or a greylisting 451) and ask
for a login. ``hirebot demo`` and every sandbox World start one (aiosmtpd is a main
dependency for that reason).
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    """One message as the server took it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class Mailbox:
    """A local SMTP server; ``async with`` or ``start``/``stop`` around its use."""

    def __init__(
        self, port: int, *, refuse: list[str] | None = None, login: tuple[str, str] | None = None
    ) -> None:
        self.port = port
        self.received: list[Received] = []
        self.refuse = list(refuse or [])
        self.tries = 0  # RCPT commands seen
        self._login = login
        options: dict[str, Any] = {}
        if login is not None:
            # Loopback only: the adapter requires STARTTLS everywhere else.
            options = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": False,
            }
        self._controller = Controller(self, hostname="127.0.0.1", port=port, **options)

    def start(self) -> Mailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    async def __aenter__(self) -> Mailbox:
        return self.start()

    async def __aexit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # aiosmtpd's handler hooks

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.tries += 1
        if self.refuse:
            return self.refuse.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        expected = self._login
        ok = (
            expected is not None
            and isinstance(data, LoginPassword)
            and (data.login, data.password) == (expected[0].encode(), expected[1].encode())
        )
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535 itself
