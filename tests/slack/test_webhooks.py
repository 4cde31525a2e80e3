"""`/hire webhooks`: a recruiter adds an endpoint from Slack and the running bot signs and
delivers to it; teammates can neither list, add nor remove one."""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import select

from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, TEAMMATE, World, eventually, free_port
from storage.models import AuditEvent, WebhookEndpoint
from tests.helpers.slack import db
from tests.helpers.webhooks import receiver, schema_errors


async def test_recruiter_adds_a_webhook_that_receives_signed_invitations(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w, receiver(free_port()) as hook:
        rita = w.slack.teammate(RECRUITER)
        added = await rita.slash(
            "/hire", f"webhooks add {hook.url} interview.invited booking.*", REVIEW_CHANNEL
        )
        text = added.text or ""
        assert "Added webhook *#1* for interview.invited, booking.booked, booking.moved" in text
        secret = re.search(r"`(whsec_[A-Za-z0-9_-]+)`", text)
        assert secret is not None
        hook.secret = secret.group(1)
        stored = db(w, lambda s: s.exec(select(WebhookEndpoint)).one())
        assert stored.secret == hook.secret and stored.created_by == RECRUITER

        await rita.slash(
            "/hire", "invite backend-engineer Jane Doe jane@example.org", REVIEW_CHANNEL
        )
        (invited,) = await eventually(hook.accepted, what="the invitation event")
        assert hook.forged == 0
        assert schema_errors(invited) == []
        assert invited["data"]["candidate"]["email"] == "jane@example.org"

        tried = (await rita.slash("/hire", "webhooks test #1", REVIEW_CHANNEL)).text or ""
        assert tried.startswith("Sent a `webhook.test` event")
        _, test = await eventually(lambda: hook.accepted()[1:] and hook.accepted(), what="test")
        assert test["type"] == "webhook.test" and test["data"]["actor"] == RECRUITER
        assert schema_errors(test) == [] and hook.forged == 0

        listing = (await rita.slash("/hire", "webhooks", REVIEW_CHANNEL)).text or ""
        assert f"*#1* {hook.url}" in listing
        assert f"`{invited['id']}` interview.invited: delivered (HTTP 200, 1 attempt)" in listing
        assert hook.secret not in listing  # shown once, when added

        removed = await rita.slash("/hire", "webhooks remove #1", REVIEW_CHANNEL)
        assert removed.text == "Removed webhook #1: it gets nothing more, retries included."
        assert db(w, lambda s: s.exec(select(WebhookEndpoint)).all()) == []
        actions = db(w, lambda s: [e.action for e in s.exec(select(AuditEvent)).all()])
        assert actions[0] == "webhook.added" and actions[-1] == "webhook.removed"


async def test_teammate_cannot_list_add_or_remove_webhooks(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)
        await rita.slash("/hire", "webhooks add https://hooks.example.com/a review.voted")
        for text in (
            "webhooks",
            "webhooks add https://evil.example.com/x interview.invited",
            "webhooks remove 1",
        ):
            reply = await tom.slash("/hire", text, REVIEW_CHANNEL)
            assert "Only recruiters can use `/hire webhooks`" in (reply.text or ""), text
        (kept,) = db(w, lambda s: s.exec(select(WebhookEndpoint)).all())
        assert kept.url == "https://hooks.example.com/a"


async def test_bad_webhook_commands_get_a_reason_and_change_nothing(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        rita = w.slack.teammate(RECRUITER)
        for text, says in [
            ("webhooks add", "Usage: `/hire webhooks"),
            ("webhooks add https://hooks.example.com/a", "Usage: `/hire webhooks"),
            ("webhooks add https://hooks.example.com/a interview.hired", "is not an event"),
            ("webhooks add http://169.254.169.254/latest interview.invited", "private, local"),
            ("webhooks add ftp://hooks.example.com/a interview.invited", "`https://` address"),
            ("webhooks remove 9", "There is no webhook #9"),
            ("webhooks test #9", "There is no webhook #9"),
        ]:
            reply = await rita.slash("/hire", text, REVIEW_CHANNEL)
            assert says in (reply.text or ""), text
        assert db(w, lambda s: s.exec(select(WebhookEndpoint)).all()) == []
