"""``hirebot doctor``: is this installation ready to run? One line per check: OK, or the fix.

It talks to the real Slack and Telegram (auth.test, getMe, each review channel) with the
configured tokens, opens the database, writes a probe to the media bucket when one is set,
looks for the Whisper model, and logs in to the SMTP server when email is set up (sending
nothing), but changes nothing except a probe file in the data dir (and a probe object it
deletes). Tokens never appear in what it prints.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import aiohttp
from alembic.script import ScriptDirectory
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.errors import ConfigError, DeliveryDeferred, DeliveryRefused
from bot.flows import ats_sync, roles
from bot.flows.openings import listed
from bot.integrations.ats import AtsError
from bot.integrations.clients import client_for
from bot.mail.smtp import MailNotSetUp, mail_channel
from bot.slack.scopes import BOT_SCOPES
from bot.unit_of_work import opened
from storage import migrate
from storage.media import MediaUnavailable, media_store


@dataclass(frozen=True)
class Check:
    ok: bool
    line: str

    def __str__(self) -> str:
        return f"{'OK ' if self.ok else 'FIX'}  {self.line}"


async def diagnose(settings: Settings) -> list[Check]:
    checks = [_data_dir(settings), *await _media_bucket(settings), *_database(settings)]
    checks += await _slack(settings)
    checks.append(await _telegram(settings))
    checks.append(_whisper(settings))
    checks.append(await mail(settings))
    checks.append(_share_links(settings))
    checks += await ats_mappings(settings)
    return checks


def _share_links(settings: Settings) -> Check:
    """Where share links point (bot.web.share); not a fault when unset, but worth a word:
    a link to HOST:PORT opens only where that address is reachable."""
    if settings.public_url:
        if not settings.public_url.startswith(("https://", "http://")):
            return Check(False, "HIREBOT_PUBLIC_URL must start with https:// (share links).")
        return Check(True, f"Share links open at {settings.public_url.rstrip('/')}/share/….")
    return Check(
        True,
        f"Share links open at http://{settings.http_host}:{settings.http_port}/share/… "
        "(set HIREBOT_PUBLIC_URL to your HTTPS address for people outside this network).",
    )


async def mail(settings: Settings) -> Check:
    """The SMTP server takes hirebot's TLS and login (nothing is sent)."""
    try:
        channel = mail_channel(settings)
    except ConfigError as err:
        return Check(False, str(err))
    if isinstance(channel, MailNotSetUp):
        return Check(
            True,
            "Email is not set up (optional): invitations and decisions go by Telegram only. "
            "Set HIREBOT_SMTP_URL and HIREBOT_MAIL_FROM to email candidates.",
        )
    try:
        where = await channel.check()
    except (DeliveryDeferred, DeliveryRefused) as err:
        return Check(False, f"Email: {err}. Fix HIREBOT_SMTP_URL (or HIREBOT_SMTP_CA_FILE).")
    return Check(True, f"Mail server {where} accepts hirebot.")


def _data_dir(settings: Settings) -> Check:
    probe = settings.media_dir / f".doctor-{uuid.uuid4().hex}"
    try:
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        return Check(
            False,
            f"Data dir {settings.data_dir} is not writable ({err.strerror}): create it or set "
            "HIREBOT_DATA_DIR to a folder this user can write.",
        )
    return Check(True, f"Data dir {settings.data_dir.resolve()} is writable.")


async def _media_bucket(settings: Settings) -> list[Check]:
    """With HIREBOT_MEDIA_S3_BUCKET set: can this process write, read and delete there?"""
    try:
        bucket = settings.media_bucket
        if bucket is None:
            return []
        store = media_store(settings.media_dir, bucket)
    except (ConfigError, ModuleNotFoundError) as err:
        return [Check(False, str(err))]
    try:
        return [Check(True, await asyncio.to_thread(store.check))]
    except MediaUnavailable as err:
        return [
            Check(
                False,
                f"{err}: check HIREBOT_MEDIA_S3_ENDPOINT, _BUCKET and _REGION, and that the "
                "credentials may put, get, delete and list there (hirebot does not create the "
                "bucket). A service that refuses server-side encryption needs "
                "HIREBOT_MEDIA_S3_ENCRYPTION=false.",
            )
        ]


def _database(settings: Settings) -> list[Check]:
    try:
        current = migrate.current(settings.db_url)
        head = ScriptDirectory.from_config(
            migrate.alembic_config(settings.db_url)
        ).get_current_head()
    except Exception as err:  # any driver error is a line for the person, not a traceback
        return [
            Check(
                False,
                f"Database unreachable ({type(err).__name__}): check HIREBOT_DATABASE_URL "
                "(or leave it unset for SQLite in the data dir).",
            )
        ]
    if current != head:
        return [
            Check(
                False,
                f"Database is at migration {current or 'none'}, the code needs {head}: "
                "run `hirebot migrate`.",
            )
        ]
    checks = [Check(True, f"Database reachable, migrations current ({head}).")]
    with opened(settings.db_url, settings.media_dir) as uow:
        people = uow.run_sync(lambda s, _now: roles.everyone(s, settings.recruiter_ids))
    if people:
        checks.append(Check(True, f"{len(people)} recruiter(s) can invite and decide."))
    else:
        checks.append(
            Check(
                False,
                "Nobody can invite candidates: set HIREBOT_RECRUITERS to your Slack user id "
                "(profile → ⋮ → Copy member ID).",
            )
        )
    return checks


async def _slack(settings: Settings) -> list[Check]:
    try:
        token = settings.secret("slack_bot_token")
    except ConfigError as err:
        return [Check(False, str(err))]
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=10)
    try:
        auth = await client.auth_test()
    except SlackApiError as err:
        return [
            Check(
                False,
                f"Slack refused the bot token ({err.response.get('error')}): copy the Bot User "
                "OAuth Token (xoxb-…) from OAuth & Permissions into HIREBOT_SLACK_BOT_TOKEN.",
            )
        ]
    except (TimeoutError, SlackClientError, aiohttp.ClientError, OSError) as err:
        return [Check(False, f"Slack unreachable at {settings.slack_api_url} ({err!r}).")]
    checks = [Check(True, f"Slack: bot @{auth.get('user')} in workspace {auth.get('team')}.")]
    checks.append(_slack_scopes(auth.headers.get("x-oauth-scopes")))
    checks.append(await _slack_connection(settings))
    checks += await _review_channels(settings, client)
    return checks


def _slack_scopes(granted: str | None) -> Check:
    """Slack names the token's scopes on each answer: any hirebot needs and lacks fails at
    run time (missing_scope), so say now which to add."""
    if granted is None:
        return Check(True, "Slack did not list the token's scopes; not checked.")
    missing = sorted(BOT_SCOPES - {s.strip() for s in granted.split(",")})
    if missing:
        return Check(
            False,
            f"The Slack app lacks the scope(s) {', '.join(missing)}: add them under OAuth & "
            "Permissions → Bot Token Scopes (or paste slack-app-manifest.yaml again), then "
            "reinstall the app to the workspace.",
        )
    return Check(True, "Slack: the bot token has every scope hirebot uses.")


async def _slack_connection(settings: Settings) -> Check:
    if not settings.slack_socket_mode:
        try:
            settings.secret("slack_signing_secret")
        except ConfigError as err:
            return Check(False, str(err))
        return Check(True, "Slack HTTP mode: signing secret set (requests are verified).")
    try:
        app_token = settings.secret("slack_app_token")
        app = AsyncWebClient(base_url=settings.slack_api_url, timeout=10)
        await app.apps_connections_open(app_token=app_token)
    except ConfigError as err:
        return Check(False, str(err))
    except SlackApiError as err:
        return Check(
            False,
            f"Slack refused the app-level token ({err.response.get('error')}): create one "
            "with connections:write under Basic Information → App-Level Tokens.",
        )
    return Check(True, "Slack Socket Mode: the app-level token can open a connection.")


async def _review_channels(settings: Settings, client: AsyncWebClient) -> list[Check]:
    try:
        with opened(settings.db_url, settings.media_dir) as uow:
            openings = uow.run_sync(lambda s, _now: listed(s))
    except Exception:
        return []  # the database line already says what is wrong
    checks: list[Check] = []
    for opening in openings:
        try:
            info = await client.conversations_info(channel=opening.review_channel)
        except SlackApiError as err:
            error = err.response.get("error")
            fix = (
                f"the app needs the {err.response.get('needed')} scope (see above)"
                if error == "missing_scope"
                else "pick an existing channel"
            )
            checks.append(
                Check(
                    False,
                    f"Opening {opening.slug}: review channel {opening.review_channel} "
                    f"({error}): {fix}.",
                )
            )
            continue
        if info["channel"].get("is_member"):
            checks.append(Check(True, f"Opening {opening.slug}: hirebot is in its channel."))
        else:
            checks.append(
                Check(
                    False,
                    f"Opening {opening.slug}: hirebot is not in <#{opening.review_channel}>: "
                    "type `/invite @hirebot` there.",
                )
            )
    return checks


async def ats_mappings(settings: Settings) -> list[Check]:
    """Each opening synced with an ATS: its key works, and its job, stages and reason exist."""
    try:
        with opened(settings.db_url, settings.media_dir) as uow:
            synced = [
                (o.slug, spec)
                for o in uow.run_sync(lambda s, _now: listed(s))
                if (spec := ats_sync.spec_of(o)) is not None
            ]
    except Exception:
        return []  # the database line already says what is wrong
    checks: list[Check] = []
    for slug, spec in synced:
        vendor = spec.kind.title()
        try:
            client = client_for(spec.kind, settings, spec.job)
        except (ConfigError, KeyError) as err:
            checks.append(Check(False, f"Opening {slug}: {vendor} is not set up ({err})."))
            continue
        stages = [*spec.stages.values(), *([spec.invite_stage] if spec.invite_stage else [])]
        try:
            unknown = await client.unknown_ids(stages, spec.reject_reason)
        except AtsError as err:
            checks.append(Check(False, f"Opening {slug}: {vendor} answered: {err}."))
            continue
        finally:
            await client.close()
        if unknown:
            checks.append(
                Check(
                    False,
                    f"Opening {slug}: {vendor} does not know {', '.join(unknown)}: fix the "
                    "opening's ats: block and import it again.",
                )
            )
        else:
            checks.append(
                Check(True, f"Opening {slug}: {vendor} knows its job, stages and reason.")
            )
    return checks


async def _telegram(settings: Settings) -> Check:
    try:
        token = settings.secret("telegram_token")
    except ConfigError as err:
        return Check(False, str(err))
    url = f"{settings.telegram_api_url}{token}/getMe"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(url) as response,
        ):
            body = await response.json(content_type=None)
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as err:
        # The URL holds the token: name the host only.
        return Check(False, f"Telegram unreachable ({type(err).__name__}).")
    if not body.get("ok"):
        return Check(
            False,
            "Telegram refused the token: copy it again from @BotFather into "
            "HIREBOT_TELEGRAM_TOKEN.",
        )
    return Check(True, f"Telegram: bot @{body['result'].get('username')}.")


def _whisper(settings: Settings) -> Check:
    from bot.transcription.models import resolve_model

    try:
        model = resolve_model(settings.whisper_model)
    except ConfigError as err:
        return Check(False, str(err))
    return Check(True, f"Whisper model {settings.whisper_model}: {model}.")


def report(checks: list[Check]) -> str:
    return "\n".join(str(c) for c in checks)
