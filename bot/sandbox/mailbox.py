"""Email side of the sandbox: a real SMTP server on 127.0.0.1 (aiosmtpd) and its mailbox.

Why: hirebot's SMTP adapter talks to it exactly as to a mail provider (EHLO, optional AUTH,
MAIL, RCPT, DATA), so tests and the demo see the message a recipient would get. It can
refuse recipients (``refuse``: one reply per RCPT, e.g. a 550 or a greylisting 451), ask for
a login (only over TLS, as a real submission server does, when it has a certificate), and
speak TLS: ``tls="starttls"`` offers STARTTLS (and then requires it), ``tls="implicit"`` is
TLS from the first byte (smtps, port 465). ``self_signed`` writes a certificate for it.
``hirebot demo`` and every sandbox World start one (aiosmtpd is a main dependency for that
reason).
"""

from __future__ import annotations

import email
import ssl
import subprocess
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    """One message as the server took it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost: ``cert`` is also the CA file a
    client trusts it by (HIREBOT_SMTP_CA_FILE)."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def self_signed(directory: Path, name: str = "mailbox") -> Certificate:
    """Write a fresh self-signed certificate (``openssl``, a P-256 key, one day) into
    ``directory``."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    command = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True
    )
    return Certificate(cert, key)


class Mailbox:
    """A local SMTP server; ``async with`` or ``start``/``stop`` around its use."""

    def __init__(
        self,
        port: int,
        *,
        refuse: list[str] | None = None,
        login: tuple[str, str] | None = None,
        tls: Literal["none", "starttls", "implicit"] = "none",
        certificate: Certificate | None = None,
        mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
    ) -> None:
        self.port = port
        self.received: list[Received] = []
        self.refuse = list(refuse or [])
        self.tries = 0  # RCPT commands seen
        self.refuse_sender: str | None = None  # the reply to MAIL FROM, e.g. a 553
        self.logins: list[tuple[str, bool]] = []  # (mechanism, whether over TLS) per AUTH
        self._login = login
        if tls != "none" and certificate is None:
            raise ValueError("a TLS mailbox needs a certificate (see self_signed)")
        options: dict[str, Any] = {}
        if login is not None:
            options = {
                "authenticator": self._authenticate,
                "auth_required": True,
                # Without a certificate: loopback only, where the adapter allows a clear login.
                # Implicit TLS: the whole connection is TLS (aiosmtpd's check knows STARTTLS
                # only, and would refuse every login).
                "auth_require_tls": tls == "starttls",
                "auth_exclude_mechanism": [m for m in ("LOGIN", "PLAIN") if m not in mechanisms],
            }
        if tls == "starttls" and certificate is not None:
            options |= {"tls_context": certificate.server_context(), "require_starttls": True}
        if tls == "implicit" and certificate is not None:
            options["ssl_context"] = certificate.server_context()
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

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse_sender is not None:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

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
        over_tls = server.transport.get_extra_info("sslcontext") is not None
        self.logins.append((mechanism, over_tls))
        expected = self._login
        ok = (
            expected is not None
            and isinstance(data, LoginPassword)
            and (data.login, data.password) == (expected[0].encode(), expected[1].encode())
        )
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535 itself
