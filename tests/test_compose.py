"""compose.yaml, the reference deployment, read as Docker Compose would read it: the services
the README describes, a health check for each that keeps running, and only setting names
hirebot knows (a misspelt HIREBOT_ variable would be ignored without a word)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
HIREBOT_VARIABLE = re.compile(r"^HIREBOT_([A-Z0-9_]+)$")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())  # merges <<
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def test_the_reference_topology() -> None:
    services = _services()
    assert {"postgres", "minio", "bot-1", "bot-2", "worker-1", "worker-2", "proxy"} <= set(services)
    bots = [s for s in services.values() if s.get("command") == ["run"]]
    workers = [s for s in services.values() if s.get("command") == ["worker"]]
    assert len(bots) == 2 and len(workers) == 2
    for bot in bots:
        env = bot["environment"]
        # Slack in HTTP mode (signing secret, no app token), Telegram by webhook.
        assert "HIREBOT_SLACK_SIGNING_SECRET" in env and "HIREBOT_SLACK_APP_TOKEN" not in env
        assert env["HIREBOT_TELEGRAM_WEBHOOK_URL"].endswith("/telegram/webhook")
        assert env["HIREBOT_EXTERNAL_WORKERS"] == "true"
    for process in bots + workers:
        env = process["environment"]
        assert env["HIREBOT_DATABASE_URL"].startswith("postgresql://")
        assert env["HIREBOT_MEDIA_S3_ENDPOINT"] == "http://minio:9000"
        assert (ROOT / process.get("build", ".")).joinpath("Dockerfile").is_file()


def test_every_service_that_keeps_running_has_a_health_check() -> None:
    for name, service in _services().items():
        if service.get("restart") == "no":  # a one-shot setup step, waited for by others
            continue
        check = service.get("healthcheck", {}).get("test")
        assert check and check[0] in ("CMD", "CMD-SHELL"), name
    worker = _services()["worker-1"]
    assert worker["healthcheck"]["test"] == ["CMD", "hirebot", "worker", "--check"]


def test_what_a_service_waits_for_exists_and_says_how() -> None:
    services = _services()
    for name, service in services.items():
        for needed, how in service.get("depends_on", {}).items():
            assert needed in services, (name, needed)
            condition = how["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[needed], (name, needed)
            else:
                assert condition == "service_completed_successfully"
                assert services[needed].get("restart") == "no", (name, needed)


def test_every_hirebot_variable_is_a_setting() -> None:
    fields = set(Settings.model_fields)
    named = {
        variable
        for service in _services().values()
        for variable in (service.get("environment") or {})
        if variable.startswith("HIREBOT_")
    }
    assert len(named) > 10
    unknown = {v for v in named if HIREBOT_VARIABLE.match(v)[1].lower() not in fields}  # type: ignore[index]
    assert unknown == set()
