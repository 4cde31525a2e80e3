"""Which adapter speaks for an opening's ``ats.kind``, built from the environment's secrets.

Adding an ATS (Ashby) is one entry here, its module and its emulator.
"""

from __future__ import annotations

from bot.config import Settings
from bot.integrations.ats import AtsClient
from bot.integrations.greenhouse import GreenhouseAccount, GreenhouseClient
from bot.integrations.lever import LeverClient


def client_for(kind: str, settings: Settings, job: str | None = None) -> AtsClient:
    """The adapter for ``kind``, for the opening's ``job``; ConfigError (saying how to fix
    it) when that ATS's secrets are not set; KeyError for a kind hirebot does not speak."""
    if kind == LeverClient.kind:
        token = settings.lever_webhook_token
        return LeverClient(
            api_key=settings.secret("lever_api_key"),
            perform_as=settings.lever_perform_as,
            posting=job,
            api_url=settings.lever_api_url,
            webhook_token=token.get_secret_value() if token is not None else None,
        )
    if kind == GreenhouseClient.kind:
        return GreenhouseClient(GreenhouseAccount.required(settings), job)
    raise KeyError(kind)


def kinds() -> tuple[str, ...]:
    """The kinds hirebot speaks (the inbound route answers 404 to any other)."""
    return (LeverClient.kind, GreenhouseClient.kind)
