"""Email out through SMTP (aiosmtplib): one ``EmailMessage`` per outbox row.

Layout (what Outlook, Google and Apple recognise as an invitation): ``multipart/mixed`` of a
``multipart/alternative`` (text/plain, text/html, and ``text/calendar; method=…``) and the
same calendar as an ``invite.ics`` attachment. The server's answer decides the outcome: a
4xx or an outage is retried like any delivery, a 5xx is final. Nothing here logs a body or
an address.
"""

from __future__ import annotations

import contextlib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import NoReturn

import aiosmtplib

from bot.config import Settings, SmtpServer
from bot.errors import DeliveryDeferred, DeliveryRefused, RecipientRefused
from bot.flows.meeting import Person
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
        await self._converse(message, to)

    async def check(self) -> str:
        """``hirebot doctor``: connect, TLS and log in as a send would, then say goodbye
        without sending anything. How it went, or DeliveryDeferred/Refused saying why not."""
        encrypted = await self._converse(None, "")
        s = self._server
        how = "TLS" if s.implicit_tls else "STARTTLS" if encrypted else "in clear, on this machine"
        login = "logged in" if s.username is not None else "no login"
        return f"{s.host}:{s.port} ({how}, {login})"

    async def _converse(self, message: EmailMessage | None, to: str) -> bool:
        """One SMTP conversation, the server's answers translated into delivery outcomes;
        whether it was encrypted."""
        try:
            return await self._deliver(message)
        except aiosmtplib.SMTPRecipientsRefused as err:
            refusal = err.recipients[0] if err.recipients else None
            code = refusal.code if refusal is not None else 550
            said = refusal.message if refusal is not None else ""
            answer = f"{code} {_redact(said, to)}"
            if code >= 500:
                reason = f"the mail server refused the recipient: {answer}"
                raise RecipientRefused(reason, answer) from None
            _raise_for(code, f"the mail server refused the recipient: {answer}")
        except aiosmtplib.SMTPAuthenticationError as err:
            # Wrong credentials in HIREBOT_SMTP_URL: retried, so nothing is lost once fixed.
            raise DeliveryDeferred(f"the mail server refused our login ({err.code})") from None
        except aiosmtplib.SMTPSenderRefused as err:
            # HIREBOT_MAIL_FROM is not ours to use there: every email would fail the same way,
            # so they wait (and the recruiters hear) until the setting is fixed.
            said = f"{err.code} {_redact(err.message, to)}"
            raise DeliveryDeferred(
                f"the mail server refused our sender (HIREBOT_MAIL_FROM): {said}"
            ) from None
        except aiosmtplib.SMTPResponseException as err:
            answer = f"{err.code} {_redact(err.message, to)}"
            if isinstance(err, aiosmtplib.SMTPDataError) and err.code >= 500:
                # Refused after the message was read (content, size, policy): this email.
                reason = f"the mail server refused the email: {answer}"
                raise RecipientRefused(reason, answer) from None
            _raise_for(err.code, f"the mail server answered {answer}")
        except (aiosmtplib.SMTPException, OSError) as err:
            untrusted = _certificate_problem(err)
            if untrusted is not None:
                # A setting to fix (HIREBOT_SMTP_CA_FILE), or an impostor: retried, never sent.
                reason = f"the mail server's certificate is not trusted ({untrusted})"
                raise DeliveryDeferred(reason) from None
            # Down, unreachable, timed out, hung up, TLS failed: an outage, retried.
            reason = f"the mail server cannot be reached ({type(err).__name__})"
            raise DeliveryDeferred(reason) from None

    async def _deliver(self, message: EmailMessage | None) -> bool:
        """One SMTP conversation: connect, TLS as the settings demand, log in, send (None:
        send nothing, a check).

        Written out rather than ``aiosmtplib.send`` so that a server which does not offer
        STARTTLS where it is required is refused before anything, the password above all,
        is sent in clear.
        """
        s = self._server
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.implicit_tls,
            start_tls=False,  # decided below, once the server has said what it offers
            cert_bundle=str(s.ca_file) if s.ca_file is not None else None,
            timeout=MailLimit.SMTP_TIMEOUT_SECONDS,
        )
        await client.connect()
        encrypted = s.implicit_tls
        try:
            if not s.implicit_tls:
                await client.ehlo()
                if client.supports_extension("starttls"):
                    await client.starttls()
                    encrypted = True
                elif s.require_tls:
                    raise DeliveryDeferred(
                        f"the mail server {s.host}:{s.port} does not offer STARTTLS, and "
                        "hirebot sends nothing (least of all the password) in clear over a "
                        "network: use a server that offers it, or smtps:// (TLS from the start)"
                    )
            if client.last_ehlo_response is None:  # TLS from the start, or just upgraded
                await client.ehlo()
            if s.username is not None:
                if not client.supports_extension("auth"):
                    raise DeliveryDeferred(
                        "the mail server does not offer AUTH, but HIREBOT_SMTP_URL has a user "
                        "name: leave the credentials out, or use the server's submission port"
                    )
                await client.login(s.username, s.password or "")
            if message is not None:
                await client.send_message(message)
        except BaseException:
            client.close()
            raise
        # Sent: a hiccup while saying goodbye must not send it again.
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit()
        client.close()
        return encrypted

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
            # iMIP (RFC 6047 §2.4): the text/calendar part's method= equals the calendar's
            # METHOD; Google reads the part, Outlook and Apple the alternative or the file.
            message.add_alternative(ics, subtype="calendar", params={"method": method})
            message.add_attachment(
                ics.encode(),
                maintype="text",
                subtype="calendar",
                filename="invite.ics",
                params={"method": method, "charset": "utf-8"},
            )
        return message


def _certificate_problem(err: BaseException | None) -> str | None:
    """Why the server's certificate was refused, if that is what ``err`` (or what it wraps)
    is; aiosmtplib wraps the ``ssl`` error of a TLS connection in its own."""
    seen = 0
    while err is not None and seen < 5:
        if isinstance(err, ssl.SSLCertVerificationError):
            return str(err.verify_message or "verification failed")
        err, seen = err.__cause__ or err.__context__, seen + 1
    return None


def _raise_for(code: int, reason: str) -> NoReturn:
    if 400 <= code < 500:
        raise DeliveryDeferred(reason) from None
    raise DeliveryRefused(reason) from None


def _redact(said: str, address: str) -> str:
    """The server's words without the recipient's address (logs carry no personal data)."""
    if address:
        said = said.replace(f"<{address}>", "<recipient>").replace(address, "<recipient>")
    return " ".join(said.split())[:200]


def mail_channel(settings: Settings) -> SmtpMailer | MailNotSetUp:
    """The channel the settings describe (a ConfigError when they are half set or wrong)."""
    server = settings.smtp
    if server is None or not settings.mail_from:
        return MailNotSetUp()
    return SmtpMailer(server, settings.mail_from.strip(), settings.mail_reply_to)


def organizer(settings: Settings) -> Person | None:
    """Who the calendar invitations come from: the sender, HIREBOT_MAIL_FROM (RFC 6047: an
    iMIP REQUEST's ORGANIZER is the one replies go to). None when it is not set."""
    name, address = parseaddr((settings.mail_from or "").strip())
    if not address:
        return None
    try:
        return Person(name=name or address, email=address)
    except ValueError:  # not one plain address: the invitations use the placeholder
        return None
