"""Settings: ``HIREBOT_*`` environment variables and ``.env``. See README for each one."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

if TYPE_CHECKING:
    from storage.media_s3 import Bucket

_PLACEHOLDERS = {"", "changeme", "change-me", "xoxb-...", "xapp-...", "todo", "secret"}

_HOW_TO_GET = {
    "telegram_token": "talk to @BotFather on Telegram (/newbot) and copy the token it gives you",
    "slack_bot_token": "Slack app settings → OAuth & Permissions → Bot User OAuth Token (xoxb-…)",
    "slack_app_token": "Slack app settings → Basic Information → App-Level Tokens, scope "
    "connections:write (xapp-…); or leave it unset and use HTTP mode with a signing secret",
    "slack_signing_secret": "Slack app settings → Basic Information → Signing Secret",
    "lever_api_key": "Lever → Settings → Integrations and API → API Credentials → Generate new "
    "key, with the Opportunities, Notes, Tags, Stages and Archive reasons endpoints",
    "lever_webhook_token": "Lever → Settings → Integrations and API → Webhooks: the signature "
    "token shown under Candidate Stage Change",
    "telegram_webhook_secret": "make one up (1-256 characters of A-Z, a-z, 0-9, _ and -), "
    "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'; Telegram sends it "
    "with every update so the bot can refuse forged ones",
}


@dataclass(frozen=True)
class SmtpServer:
    """Where email goes out: ``smtp://`` upgrades with STARTTLS, ``smtps://`` is TLS from the
    first byte. Its ``repr`` leaves the password out, so a logged setting shows no secret.

    ``require_tls``: a plain ``smtp://`` server that does not offer STARTTLS is refused (so
    neither the password nor a candidate's email crosses the network in clear); only a relay
    on this machine may go without. ``ca_file``: the certificates a private mail server's
    is checked against, instead of the system's."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None = field(default=None, repr=False)
    require_tls: bool = True
    ca_file: Path | None = None


_SMTP_PORTS = {"smtp": 587, "smtps": 465}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (traffic to it never crosses a network)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def smtp_server(url: str, ca_file: Path | None = None) -> SmtpServer:
    """``HIREBOT_SMTP_URL`` read, or a ConfigError that says what is wrong (never the URL:
    it holds the password)."""
    how = (
        "HIREBOT_SMTP_URL must look like smtp://user:password@host:587 (STARTTLS) or "
        "smtps://user:password@host:465 (TLS); percent-encode special characters"
    )
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(f"{how}: the URL cannot be read.") from None
    if parts.scheme not in _SMTP_PORTS:
        raise ConfigError(f"{how}: the scheme is not smtp or smtps.")
    if not parts.hostname:
        raise ConfigError(f"{how}: it names no host.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"{how}: nothing may follow the port.")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ConfigError(f"{how}: a password needs a user name.")
    return SmtpServer(
        host=parts.hostname,
        port=port or _SMTP_PORTS[parts.scheme],
        implicit_tls=parts.scheme == "smtps",
        username=username,
        password=password,
        require_tls=not is_loopback(parts.hostname),
        ca_file=ca_file,
    )


def _revealed(value: SecretStr | None) -> str:
    return value.get_secret_value().strip() if value is not None else ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HIREBOT_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./hirebot-data")
    database_url: str | None = None

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str = "https://api.telegram.org/file/bot"
    # Set: Telegram pushes updates to this public HTTPS URL (which must reach
    # HIREBOT_HTTP_HOST:PORT/telegram/webhook), instead of the bot polling for them.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    http_host: str = "127.0.0.1"
    http_port: int = 3000
    # Where people outside Slack reach hirebot's web server (share links), e.g.
    # https://hirebot.acme.example behind your proxy; unset: http://HOST:PORT.
    public_url: str | None = None

    recruiters: str = ""

    # Email (invitations, calendar invitations): unset, no email is sent (each is given up
    # with the reason). The URL carries the credentials, so it is a secret.
    smtp_url: SecretStr | None = None
    mail_from: str | None = None  # e.g. "Rita at Acme <hiring@acme.example>"
    mail_reply_to: str | None = None
    # A private mail server's CA (PEM): its certificate is checked against this file instead
    # of the system's certificates; unset, the system's.
    smtp_ca_file: Path | None = None

    # Calendar feeds (issue 10) are read only from public addresses; "allow" also lets
    # loopback and private networks through (the sandbox, tests, a calendar server on the
    # company network). Link-local addresses (cloud metadata) stay refused either way.
    calendar_private_hosts: Literal["refuse", "allow"] = "refuse"

    # Media in an S3-compatible bucket (AWS S3, MinIO, R2, B2) that every process reaches;
    # unset: the data dir's media folder. Credentials: HIREBOT_MEDIA_S3_ACCESS_KEY and
    # _SECRET_KEY, else boto's usual chain (AWS_ACCESS_KEY_ID…, a profile, an instance role).
    media_s3_bucket: str | None = None
    media_s3_endpoint: str | None = None  # e.g. http://127.0.0.1:9000; unset: AWS S3
    media_s3_region: str | None = None  # R2: auto; unset: AWS_DEFAULT_REGION or us-east-1
    media_s3_prefix: str = "media/"
    # Ask for server-side encryption (SSE-S3, AES256) on every write; false for a service
    # that refuses the header.
    media_s3_encryption: bool = True
    media_s3_access_key: SecretStr | None = None
    media_s3_secret_key: SecretStr | None = None

    # Retention (issue 12): no opening keeps a decided candidate longer than this many days,
    # whatever its retention_days says.
    retention_max_days: int = Field(default=730, ge=1, le=3650)

    # Lever (issue 12): an API key (Settings → Integrations and API → API Credentials), the
    # Lever user hirebot's writes are made as (perform_as), and the webhooks' signature token.
    lever_api_key: SecretStr | None = None
    lever_api_url: str = "https://api.lever.co/v1"
    lever_perform_as: str | None = None
    lever_webhook_token: SecretStr | None = None

    # Greenhouse Harvest (issue 12; bot.integrations.greenhouse reads and checks them).
    greenhouse_api_key: SecretStr | None = None
    greenhouse_api_url: str = "https://harvest.greenhouse.io/v1/"
    greenhouse_user_id: str | None = None  # On-Behalf-Of on every write
    greenhouse_webhook_secret: SecretStr | None = None
    greenhouse_note_visibility: Literal["admin_only", "private", "public"] = "private"

    whisper_backend: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    whisper_model: str = "tiny.en"
    # How many answers are transcribed at once; unset: one per two cores, at most four (one
    # with openai-whisper). Each is a model replica's memory.
    whisper_workers: int | None = Field(default=None, ge=1)
    # true: when the bot process transcribes, Whisper runs in processes of its own next to
    # it (bot/transcription/apart.py): a crash in Whisper or its decoder takes down one of
    # them, not the bot. Off by default: on the 2-core reference machine it bought no
    # latency for the candidates (`hirebot bench load`, README) and costs a process's memory.
    whisper_apart: bool = False
    # PostgreSQL only (issue 13): true, the bot process transcribes nothing and leaves every
    # answer to `hirebot worker` processes; false, it also runs a worker of its own.
    external_workers: bool = False

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hirebot.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def media_bucket(self) -> Bucket | None:
        """The media bucket, None for the local folder; a ConfigError when half set up."""
        from storage.media_s3 import Bucket

        name = (self.media_s3_bucket or "").strip()
        access = _revealed(self.media_s3_access_key)
        secret = _revealed(self.media_s3_secret_key)
        if not name:
            if self.media_s3_endpoint or access or secret:
                raise ConfigError(
                    "HIREBOT_MEDIA_S3_BUCKET is not set: with the other HIREBOT_MEDIA_S3_* "
                    "settings, name the bucket the media goes to (or unset them all to keep "
                    "media in the data dir)."
                )
            return None
        if bool(access) != bool(secret):
            raise ConfigError(
                "Set both HIREBOT_MEDIA_S3_ACCESS_KEY and HIREBOT_MEDIA_S3_SECRET_KEY, or "
                "neither (then AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a profile are used)."
            )
        endpoint = (self.media_s3_endpoint or "").strip() or None
        if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
            raise ConfigError(
                "HIREBOT_MEDIA_S3_ENDPOINT must be an http(s) URL, e.g. https://s3.example.com."
            )
        prefix = self.media_s3_prefix.strip().strip("/")
        return Bucket(
            name=name,
            endpoint_url=endpoint,
            region=(self.media_s3_region or "").strip() or None,
            prefix=f"{prefix}/" if prefix else "",
            encrypt=self.media_s3_encryption,
            access_key=access or None,
            secret_key=secret or None,
        )

    @property
    def recruiter_ids(self) -> frozenset[str]:
        return frozenset(r.strip() for r in self.recruiters.split(",") if r.strip())

    @property
    def smtp(self) -> SmtpServer | None:
        """The SMTP server, None when email is not set up; a ConfigError when half set up."""
        raw = self.smtp_url.get_secret_value().strip() if self.smtp_url is not None else ""
        if not raw:
            return None
        ca_file = self.smtp_ca_file
        if ca_file is not None and not ca_file.is_file():
            raise ConfigError(
                f"HIREBOT_SMTP_CA_FILE names no readable file ({ca_file}): give the PEM file "
                "of the certificate authority that signed your mail server's certificate."
            )
        server = smtp_server(raw, ca_file)
        if not (self.mail_from or "").strip():
            raise ConfigError(
                "HIREBOT_MAIL_FROM is not set: with HIREBOT_SMTP_URL, name the sender, "
                "e.g. HIREBOT_MAIL_FROM='Acme hiring <hiring@acme.example>'."
            )
        return server

    @property
    def slack_socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def secret(self, name: str) -> str:
        """The secret's value, or a ConfigError that says how to get it."""
        value: SecretStr | None = getattr(self, name)
        raw = value.get_secret_value().strip() if value is not None else ""
        if raw.lower() in _PLACEHOLDERS or raw.endswith("..."):
            env = f"HIREBOT_{name.upper()}"
            raise ConfigError(f"{env} is not set. To get it: {_HOW_TO_GET[name]}.")
        return raw

    @property
    def telegram_webhook(self) -> bool:
        return bool(self.telegram_webhook_url)

    @property
    def postgres(self) -> bool:
        return self.db_url.startswith(("postgresql", "postgres:"))

    def check_for_workers(self) -> None:
        """External workers (and ``hirebot worker``) need the one shared PostgreSQL."""
        if not self.postgres:
            raise ConfigError(
                "Transcription workers share their jobs through PostgreSQL: set "
                "HIREBOT_DATABASE_URL=postgresql://… (on SQLite the bot transcribes answers "
                "itself; unset HIREBOT_EXTERNAL_WORKERS)."
            )

    def check_for_run(self) -> None:
        """Refuse to start without the secrets a real run needs."""
        if self.external_workers:
            self.check_for_workers()
        self.secret("telegram_token")
        _ = self.smtp  # a malformed SMTP URL stops the start, with what is wrong
        _ = self.media_bucket  # so does a half-configured media bucket
        if self.telegram_webhook:
            self.secret("telegram_webhook_secret")
        self.secret("slack_bot_token")
        if self.slack_app_token is None:
            self.secret("slack_signing_secret")
        else:
            self.secret("slack_app_token")
