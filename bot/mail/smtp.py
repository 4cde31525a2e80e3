"""Email out through SMTP (aiosmtplib): one ``EmailMessage`` per outbox row.

Layout (what Outlook, Google and Apple recognise as an invitation): ``multipart/mixed`` of a
``multipart/alternative`` (text/plain, text/html, and ``text/calendar; method=…``) and the
same calendar as an ``invite.ics`` attachment. The server's answer decides the outcome: a
4xx or an outage is retried like any delivery, a 5xx is final. Nothing here logs a body or
an address.
"""

from __future__ import annotations

import ipaddress
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from bot.config import Settings, SmtpServer
from bot.errors import DeliveryDeferred, DeliveryRefused
from bot.limits import MailLimit

_NOT_SET_UP = (
    "email is not set up: set HIREBOT_SMTP_URL and HIREBOT_MAIL_FROM to send it "
    "(see README, Settings)"
)


class MailNotSetUp:
    """The mail channel when SMTP is not configured: every email is given up, saying why."""

    async def send_email(
        self, to: str, subject: str, text: str, html: str, calendar: tuple[str, str] | None
    ) -> None:
        raise DeliveryRefused(_NOT_SET_UP)


class SmtpMailer:
    def __init__(self, server: SmtpServer, sender: str, reply_to: str | None = None) -> None:
        self._server = server
        self._sender = sender
        self._reply_to = reply_to
        self._domain = parseaddr(sender)[1].rpartition("@")[2] or None

    async def send_email(
        self, to: str, subject: str, text: str, html: str, calendar: tuple[str, str] | None
    ) -> None:
        try:
            message = self.compose(to, subject, text, html, calendar)
        except ValueError as err:  # a header the policy refuses: no retry will change it
            raise DeliveryRefused(f"the email cannot be written: {type(err).__name__}") from None
        s = self._server
        try:
            await aiosmtplib.send(
                message,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.implicit_tls,
                start_tls=None if s.implicit_tls else _start_tls(s.host),
                timeout=MailLimit.SMTP_TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPRecipientsRefused as err:
            refusal = err.recipients[0] if err.recipients else None
            code = refusal.code if refusal is not None else 550
            said = refusal.message if refusal is not None else ""
            _raise_for(code, f"the mail server refused the recipient: {code} {_redact(said, to)}")
        except aiosmtplib.SMTPAuthenticationError as err:
            # Wrong credentials in HIREBOT_SMTP_URL: retried, so nothing is lost once fixed.
            raise DeliveryDeferred(f"the mail server refused our login ({err.code})") from None
        except aiosmtplib.SMTPResponseException as err:
            _raise_for(err.code, f"the mail server answered {err.code} {_redact(err.message, to)}")
        except (aiosmtplib.SMTPException, OSError) as err:
            # Down, unreachable, timed out, hung up, TLS failed: an outage, retried.
            reason = f"the mail server cannot be reached ({type(err).__name__})"
            raise DeliveryDeferred(reason) from None

    def compose(
        self, to: str, subject: str, text: str, html: str, calendar: tuple[str, str] | None
    ) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        if self._reply_to:
            message["Reply-To"] = self._reply_to
        message["Subject"] = " ".join(subject.split())  # one line, whatever a name held
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self._domain)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        if calendar is not None:
            ics, method = calendar
            message.add_alternative(ics, subtype="calendar", params={"method": method})
            message.add_attachment(
                ics.encode(),
                maintype="text",
                subtype="calendar",
                filename="invite.ics",
                params={"method": method, "charset": "utf-8"},
            )
        return message


def _start_tls(host: str) -> bool | None:
    """STARTTLS is required on the network; a relay on this machine may go without it."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return None if loopback else True


def _raise_for(code: int, reason: str) -> None:
    if 400 <= code < 500:
        raise DeliveryDeferred(reason) from None
    raise DeliveryRefused(reason) from None


def _redact(said: str, address: str) -> str:
    """The server's words without the recipient's address (logs carry no personal data)."""
    return " ".join(said.replace(address, "<recipient>").split())[:200]


def mail_channel(settings: Settings) -> SmtpMailer | MailNotSetUp:
    """The channel the settings describe (a ConfigError when they are half set or wrong)."""
    server = settings.smtp
    if server is None or not settings.mail_from:
        return MailNotSetUp()
    return SmtpMailer(server, settings.mail_from.strip(), settings.mail_reply_to)
