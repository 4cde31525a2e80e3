"""TLS and logins against a real SMTP server (aiosmtpd) with a certificate made in the test:
STARTTLS, TLS from the first byte, a private CA, AUTH LOGIN and PLAIN, and the refusals that
keep a password (and a candidate's email) from crossing a network in clear."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot import doctor
from bot.config import Settings, SmtpServer, smtp_server
from bot.errors import ConfigError, DeliveryDeferred
from bot.mail.smtp import SmtpMailer, mail_channel
from bot.sandbox.mailbox import Certificate, Mailbox, self_signed
from bot.sandbox.world import free_port

JANE = "jane.doe@example.org"
SENDER = "Acme hiring <hiring@acme.example>"
USER, PASSWORD = "hiring@acme.example", "p:ss w0rd/é"
IN_URL = "hiring%40acme.example:p%3Ass%20w0rd%2F%C3%A9"  # the same, percent-encoded

# aiosmtpd warns about AUTH without STARTTLS; with implicit TLS the whole connection is TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("tls"))


def mailer(url: str, ca_file: Path | None = None) -> SmtpMailer:
    settings = Settings(
        smtp_url=SecretStr(url), mail_from=SENDER, smtp_ca_file=ca_file, _env_file=None
    )
    channel = mail_channel(settings)
    assert isinstance(channel, SmtpMailer)
    return channel


async def send(channel: SmtpMailer) -> None:
    await channel.send_email(JANE, "Your interview", "Hello Jane", "<p>Hello Jane</p>", None)


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
async def test_starttls_with_a_private_ca_then_the_login_then_the_email(
    certificate: Certificate, mechanism: str
) -> None:
    port = free_port()
    box = Mailbox(
        port,
        tls="starttls",
        certificate=certificate,
        login=(USER, PASSWORD),
        mechanisms=(mechanism,),
    )
    async with box:
        await send(mailer(f"smtp://{IN_URL}@127.0.0.1:{port}", certificate.cert))
    # The server required STARTTLS before anything else; the login went over TLS, once.
    assert box.logins == [(mechanism, True)]
    (received,) = box.received
    assert received.rcpt_tos == (JANE,)
    assert received.message["Subject"] == "Your interview"


async def test_implicit_tls_smtps_logs_in_and_sends(certificate: Certificate) -> None:
    port = free_port()
    box = Mailbox(port, tls="implicit", certificate=certificate, login=(USER, PASSWORD))
    async with box:
        await send(mailer(f"smtps://{IN_URL}@127.0.0.1:{port}", certificate.cert))
    assert [over_tls for _mechanism, over_tls in box.logins] == [True]
    assert len(box.received) == 1


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
async def test_a_certificate_nobody_vouches_for_is_refused_before_the_login(
    certificate: Certificate, tls: str
) -> None:
    port = free_port()
    scheme = "smtps" if tls == "implicit" else "smtp"
    box = Mailbox(port, tls=tls, certificate=certificate, login=(USER, PASSWORD))  # type: ignore[arg-type]
    async with box:
        with pytest.raises(DeliveryDeferred) as deferred:
            await send(mailer(f"{scheme}://{IN_URL}@127.0.0.1:{port}"))  # the system's CAs
    assert "certificate is not trusted" in str(deferred.value)
    assert box.logins == [] and box.received == []


async def test_wrong_credentials_are_deferred_saying_the_login_was_refused(
    certificate: Certificate,
) -> None:
    port = free_port()
    box = Mailbox(port, tls="starttls", certificate=certificate, login=(USER, PASSWORD))
    async with box:
        with pytest.raises(DeliveryDeferred) as deferred:
            await send(mailer(f"smtp://{USER}:wrong@127.0.0.1:{port}", certificate.cert))
    assert str(deferred.value) == "the mail server refused our login (535)"
    # aiosmtplib tries each mechanism the server offers; each try went over TLS.
    assert box.received == [] and {m for m, _tls in box.logins} == {"LOGIN", "PLAIN"}
    assert all(over_tls for _m, over_tls in box.logins)


async def test_a_server_off_this_machine_without_starttls_gets_nothing_in_clear() -> None:
    port = free_port()
    # The mailbox listens on 127.0.0.1; the setting is what a server elsewhere reads as.
    remote = dataclasses.replace(
        smtp_server(f"smtp://{IN_URL}@mail.acme.example:{port}"), host="127.0.0.1"
    )
    assert remote.require_tls and remote.password == PASSWORD
    box = Mailbox(port, login=(USER, PASSWORD))  # no certificate: offers no STARTTLS
    async with box:
        with pytest.raises(DeliveryDeferred) as deferred:
            await send(SmtpMailer(remote, SENDER))
    reason = str(deferred.value)
    assert "does not offer STARTTLS" in reason and "in clear" in reason
    assert PASSWORD not in reason
    assert box.logins == [] and box.received == [] and box.tries == 0


def test_only_a_relay_on_this_machine_may_go_without_tls(tmp_path: Path) -> None:
    assert not smtp_server("smtp://127.0.0.1:25").require_tls
    assert not smtp_server("smtp://localhost:25").require_tls
    assert not smtp_server("smtp://[::1]:25").require_tls
    assert smtp_server("smtp://mail.acme.example").require_tls
    assert smtp_server("smtp://10.0.0.5:25").require_tls
    assert smtp_server("smtps://127.0.0.1").implicit_tls


def test_a_ca_file_that_is_not_there_stops_the_start(tmp_path: Path) -> None:
    missing = tmp_path / "acme-ca.pem"
    settings = Settings(
        smtp_url=SecretStr("smtp://mail.acme.example"),
        mail_from=SENDER,
        smtp_ca_file=missing,
        _env_file=None,
    )
    with pytest.raises(ConfigError, match="HIREBOT_SMTP_CA_FILE"):
        _ = settings.smtp
    missing.write_text("-----BEGIN CERTIFICATE-----\n")
    server = settings.smtp
    assert isinstance(server, SmtpServer) and server.ca_file == missing


async def test_doctor_logs_in_over_starttls_and_sends_nothing(certificate: Certificate) -> None:
    port = free_port()
    box = Mailbox(port, tls="starttls", certificate=certificate, login=(USER, PASSWORD))
    async with box:
        settings = Settings(
            smtp_url=SecretStr(f"smtp://{IN_URL}@127.0.0.1:{port}"),
            mail_from=SENDER,
            smtp_ca_file=certificate.cert,
            _env_file=None,
        )
        check = await doctor.mail(settings)
    assert check.ok, check.line
    assert check.line == f"Mail server 127.0.0.1:{port} (STARTTLS, logged in) accepts hirebot."
    assert box.received == [] and box.tries == 0 and len(box.logins) == 1


async def test_doctor_names_what_to_fix_without_the_password(certificate: Certificate) -> None:
    port = free_port()
    box = Mailbox(port, tls="implicit", certificate=certificate, login=(USER, PASSWORD))
    async with box:
        settings = Settings(
            smtp_url=SecretStr(f"smtps://{USER}:hunter2@127.0.0.1:{port}"),
            mail_from=SENDER,
            smtp_ca_file=certificate.cert,
            _env_file=None,
        )
        check = await doctor.mail(settings)
    assert not check.ok
    assert check.line == (
        "Email: the mail server refused our login (535). "
        "Fix HIREBOT_SMTP_URL (or HIREBOT_SMTP_CA_FILE)."
    )
    assert "hunter2" not in str(check)


async def test_doctor_says_email_is_optional_when_it_is_not_set_up() -> None:
    check = await doctor.mail(Settings(_env_file=None))
    assert check.ok and "Email is not set up (optional)" in check.line


async def test_a_sender_the_server_will_not_send_for_waits_for_the_setting_to_be_fixed() -> None:
    port = free_port()
    box = Mailbox(port)
    box.refuse_sender = "553 5.7.1 <hiring@acme.example>: Sender address rejected: not owned"
    async with box:
        with pytest.raises(DeliveryDeferred) as deferred:
            await send(mailer(f"smtp://127.0.0.1:{port}"))
    assert str(deferred.value) == (
        "the mail server refused our sender (HIREBOT_MAIL_FROM): 553 5.7.1 "
        "<hiring@acme.example>: Sender address rejected: not owned"
    )
    assert box.received == [] and box.tries == 0
