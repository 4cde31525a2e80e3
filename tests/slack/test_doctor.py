"""``hirebot doctor``: every line OK on a good setup, and a fix for what is wrong."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.doctor import diagnose, report
from bot.sandbox.world import World


async def test_doctor_passes_a_working_setup_and_names_the_fix_for_a_bad_one(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        settings = w.settings()
        checks = await diagnose(settings)
        assert all(c.ok for c in checks), report(checks)
        text = report(checks)
        for expected in (
            "Data dir",
            "migrations current",
            "Slack: bot @hirebot",
            "Socket Mode",
            "Opening backend-engineer: hirebot is in its channel.",
            f"Telegram: bot @{w.telegram.bot_username}",
            "Whisper model tiny.en",
            "Share links open at http://127.0.0.1:",
        ):
            assert expected in text

        w.slack.channel("C0REVIEW01").members.remove(w.slack.bot_user_id)
        broken = settings.model_copy(
            update={"slack_bot_token": SecretStr("xoxb-wrong"), "recruiters": ""}
        )
        checks = await diagnose(broken)
        fixes = [str(c) for c in checks if not c.ok]
        assert any("Slack refused the bot token (invalid_auth)" in f for f in fixes), fixes
        assert any("set HIREBOT_RECRUITERS" in f for f in fixes), fixes
        assert "xoxb-wrong" not in report(checks) and w.telegram.token not in report(checks)

        odd = settings.model_copy(update={"public_url": "hirebot.acme.example"})
        assert "HIREBOT_PUBLIC_URL must start with https://" in report(await diagnose(odd))

        checks = await diagnose(settings)
        assert any(
            "hirebot is not in <#C0REVIEW01>: type `/invite @hirebot` there." in str(c)
            for c in checks
        )
