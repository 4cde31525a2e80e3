"""Local Slack for tests and demos: ``async with SlackSandbox() as slack: ...``.

Why: hirebot talks to Slack only through slack_bolt / slack_sdk, so the sandbox is a real
server (Web API over HTTP, Socket Mode over WebSocket, signed HTTP requests to the bot)
that those clients connect to unchanged; scripted teammates play the hiring team.
The implementation lives in ``slack_api`` (server) and ``slack_people`` (teammates).
"""

from __future__ import annotations

from bot.sandbox.slack_api import (
    Ack,
    ApiCall,
    SlackApiEmulator,
    SlackMessage,
    SlashResult,
    UploadedFile,
)
from bot.sandbox.slack_people import SandboxTeammate

__all__ = [
    "Ack",
    "ApiCall",
    "SandboxTeammate",
    "SlackMessage",
    "SlackSandbox",
    "SlashResult",
    "UploadedFile",
]


class SlackSandbox(SlackApiEmulator):
    """A one-workspace Slack on 127.0.0.1 with a random free port.

    ``mode`` is ``"socket"`` (deliver over the bot's Socket Mode connection) or ``"http"``
    (POST signed requests to ``http_target``). Channel ``C0GENERAL`` exists from the start
    with every user in it; other channels need ``add_channel`` and, as on real Slack, the
    bot must be a member to post there. Close the bot's Socket Mode handler before leaving
    the ``async with`` block, or its auto-reconnect keeps retrying a dead server.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-sandbox",
        app_token: str = "xapp-sandbox",
        signing_secret: str = "sandbox-signing-secret",
        team_id: str = "T0SANDBOX",
        bot_user_id: str = "U0HIREBOT",
    ) -> None:
        super().__init__(
            bot_token=bot_token,
            app_token=app_token,
            signing_secret=signing_secret,
            team_id=team_id,
            bot_user_id=bot_user_id,
        )
        self._teammates: dict[str, SandboxTeammate] = {}

    async def __aenter__(self) -> SlackSandbox:
        await super().__aenter__()
        return self

    def teammate(self, user_id: str, name: str | None = None) -> SandboxTeammate:
        """The scripted human ``user_id``; registered as a workspace user on first use."""
        if user_id not in self._users:
            self.add_user(user_id, name or user_id.lower())
        if user_id not in self._teammates:
            self._teammates[user_id] = SandboxTeammate(self, user_id, self._users[user_id].name)
        return self._teammates[user_id]
