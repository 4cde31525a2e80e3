"""The Greenhouse emulator and the real client pointed at it, for adapter and e2e tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.integrations.greenhouse import GreenhouseAccount, GreenhouseClient
from bot.sandbox.greenhouse import WEBHOOK_SECRET, GreenhouseSandbox


def account_for(gh: GreenhouseSandbox, **changes: Any) -> GreenhouseAccount:
    """The account hirebot would read from HIREBOT_GREENHOUSE_* for this sandbox."""
    account = GreenhouseAccount(
        api_key=gh.api_key, user_id=gh.user_id, webhook_secret=WEBHOOK_SECRET, api_url=gh.api_url
    )
    return replace(account, **changes)


def client_for(gh: GreenhouseSandbox, page_size: int = 100, **changes: Any) -> GreenhouseClient:
    """The real client on the sandbox's main job."""
    return GreenhouseClient(account_for(gh, **changes), gh.job_id, page_size=page_size)
