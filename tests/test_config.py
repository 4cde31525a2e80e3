"""Settings refuse missing or placeholder secrets with a sentence saying how to get them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.cli import main
from bot.config import Settings, smtp_server
from bot.errors import ConfigError


def test_placeholder_token_is_refused_with_where_to_get_it() -> None:
    settings = Settings(telegram_token=SecretStr("changeme"), _env_file=None)
    with pytest.raises(ConfigError, match=r"HIREBOT_TELEGRAM_TOKEN is not set.*@BotFather"):
        settings.check_for_run()


def test_http_mode_needs_the_signing_secret() -> None:
    settings = Settings(
        telegram_token=SecretStr("123:abc"),
        slack_bot_token=SecretStr("xoxb-1-2"),
        _env_file=None,
    )
    assert not settings.slack_socket_mode
    with pytest.raises(ConfigError, match=r"HIREBOT_SLACK_SIGNING_SECRET.*Signing Secret"):
        settings.check_for_run()


def test_run_without_tokens_exits_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("TELEGRAM_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(f"HIREBOT_{name}", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main(["run"]) == 2
    assert "HIREBOT_TELEGRAM_TOKEN is not set" in capsys.readouterr().err


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert settings.db_url == f"sqlite:///{tmp_path}/hirebot.db"
    assert Settings(recruiters=" U1, U2 ,", _env_file=None).recruiter_ids == {
        "U1",
        "U2",
    }


def test_a_webhook_needs_its_secret() -> None:
    settings = Settings(
        telegram_token=SecretStr("123:abc"),
        telegram_webhook_url="https://hire.example.com/telegram/webhook",
        _env_file=None,
    )
    with pytest.raises(ConfigError, match=r"HIREBOT_TELEGRAM_WEBHOOK_SECRET is not set"):
        settings.check_for_run()


def test_an_smtp_url_names_the_server_its_tls_and_its_credentials() -> None:
    starttls = Settings(
        smtp_url=SecretStr("smtp://hiring%40acme.example:p%3Ass@mail.acme.example"),
        mail_from="Acme hiring <hiring@acme.example>",
        _env_file=None,
    ).smtp
    assert starttls is not None
    assert (starttls.host, starttls.port, starttls.implicit_tls) == (
        "mail.acme.example",
        587,
        False,
    )
    assert (starttls.username, starttls.password) == ("hiring@acme.example", "p:ss")
    assert "p:ss" not in repr(starttls)  # a logged setting shows no password
    tls = smtp_server("smtps://u:p@mail.acme.example:2465")
    assert (tls.port, tls.implicit_tls) == (2465, True)
    assert smtp_server("smtps://mail.acme.example").port == 465
    assert Settings(_env_file=None).smtp is None  # email not set up: no server, no error


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("http://u:hunter2@mail.acme.example", "scheme"),
        ("smtp://u:hunter2@", "host"),
        ("smtp://u:hunter2@mail.acme.example:notaport", "cannot be read"),
        ("smtp://u:hunter2@mail.acme.example/inbox", "follow the port"),
        ("smtp://:hunter2@mail.acme.example", "user name"),
    ],
)
def test_a_malformed_smtp_url_is_a_clear_error_that_does_not_repeat_the_password(
    url: str, what: str
) -> None:
    settings = Settings(smtp_url=SecretStr(url), mail_from="h@acme.example", _env_file=None)
    with pytest.raises(ConfigError, match=what) as refused:
        _ = settings.smtp
    assert "HIREBOT_SMTP_URL" in str(refused.value)
    assert "hunter2" not in str(refused.value)
    assert "hunter2" not in repr(settings)


def test_an_smtp_server_needs_a_sender() -> None:
    settings = Settings(smtp_url=SecretStr("smtp://mail.acme.example"), _env_file=None)
    with pytest.raises(ConfigError, match="HIREBOT_MAIL_FROM"):
        _ = settings.smtp


def test_run_refuses_a_malformed_smtp_url_before_starting() -> None:
    settings = Settings(
        telegram_token=SecretStr("123:abc"),
        slack_bot_token=SecretStr("xoxb-1-2"),
        slack_app_token=SecretStr("xapp-1-2"),
        smtp_url=SecretStr("smtp//hiring:hunter2@mail.acme.example"),
        mail_from="hiring@acme.example",
        _env_file=None,
    )
    with pytest.raises(ConfigError, match="HIREBOT_SMTP_URL") as refused:
        settings.check_for_run()
    assert "hunter2" not in str(refused.value)
