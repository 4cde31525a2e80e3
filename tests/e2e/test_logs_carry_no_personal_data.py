"""Nothing personal in the logs: failing paths log error types and ids, never what people
wrote, said or are called (a canary name and sentence go through each failure)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, World, eventually
from storage import outbox
from tests.helpers.slack import card
from tests.helpers.stories import invite

NAME = "Zanzibar Quetzalcoatl"
SENTENCE = "Purple elephants juggle quietly behind the lighthouse."
ADDRESS = "zanzibar.q@canary.example"
LOGGERS = ("bot", "storage", "sqlalchemy", "slack_bolt", "slack_sdk", "telegram")


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything captured, as a log file would hold it (messages and tracebacks)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    return "\n".join(handler.format(record) for record in caplog.records)


async def test_failing_paths_log_types_and_ids_not_names_or_words(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    async with World(data_dir=tmp_path) as w:
        # Telegram refuses the candidate's messages; Slack fails the card's first post; the
        # candidate's mail server refuses the emailed invitation, quoting the address.
        w.telegram.fail("sendMessage", status=403, description="Forbidden: bot was blocked")
        w.mailbox.refuse = [f"550 5.1.1 <{ADDRESS}>: Recipient address rejected"]
        w.slack.fail("chat.postMessage", status=500, error="internal_error")
        zq = w.telegram.candidate(700_901, "Zanzibar", "Quetzalcoatl")
        await zq.send_command("/start", await invite(w, f"{NAME} {SENTENCE} {ADDRESS}"))
        await card(w)
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
        # The database refuses the export (after the ack): the flow fails with an
        # IntegrityError whose statement carries the CSV, names included.
        with w.bot.db.engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_exports BEFORE INSERT ON outboxmessage "
                    "WHEN NEW.kind = 'review.user.file' "
                    "BEGIN SELECT RAISE(ABORT, 'exports are refused'); END"
                )
            )
        told = w.slack.ephemeral_count(RECRUITER)
        await w.slack.teammate(RECRUITER).slash("/hire", "export", REVIEW_CHANNEL)
        await eventually(
            lambda: any("IntegrityError" in r.getMessage() for r in caplog.records),
            what="the failed export logged",
        )
        # Acked (slash() waits for it), and the recruiter hears it failed, not a timeout.
        await w.slack.wait_for_ephemerals(RECRUITER, more_than=told)
        assert "nothing was changed" in str(w.slack.ephemerals(RECRUITER)[-1])

    logged = _logged(caplog)

    assert "IntegrityError" in logged  # the failure is there, by type
    assert "given up" in logged and "deferred" in logged  # Telegram refused, Slack failed
    assert NAME not in logged and "Zanzibar" not in logged
    assert SENTENCE not in logged and "elephants" not in logged
    assert w.mailbox.tries == 1 and "refused the recipient: 550" in logged
    assert ADDRESS not in logged and "canary.example" not in logged
