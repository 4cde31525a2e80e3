"""Email as a channel, end to end: the real Bolt `/hire` against the Slack emulator, the real
PTB against the Telegram emulator, and a real SMTP server (aiosmtpd): what the mailbox
received, the deep link in it that starts the interview, decisions by email, and a refusal
by the candidate's mail server told in their thread."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from bot.flows import outgoing
from bot.sandbox.mailbox import Received
from bot.sandbox.world import (
    INVITE_LINK,
    MAIL_FROM,
    RECRUITER,
    REVIEW_CHANNEL,
    World,
    eventually,
)
from storage.models import OutboxMessage, OutboxStatus
from tests.helpers.slack import card, hire

JANE = "jane.doe@example.org"
# As Slack delivers a typed address and markup: the address as a mailto link, <>& escaped.
AS_SLACK_SENDS = (
    f"invite backend-engineer &lt;b&gt;Jane&lt;/b&gt; Doe <mailto:{JANE}|{JANE}> lang=fr"
)


def email_row(world: World, status: str) -> OutboxMessage | None:
    def read(session: Session, _now: datetime) -> OutboxMessage | None:
        query = select(OutboxMessage).where(OutboxMessage.kind == outgoing.Kind.EMAIL)
        row = session.exec(query).one()
        return row if row.status == status else None

    return world.bot.uow.run_sync(read)


async def received(world: World, count: int = 1) -> list[Received]:
    return await eventually(
        lambda: world.mailbox.received if len(world.mailbox.received) >= count else None,
        what=f"{count} email(s) in the mailbox",
    )


async def test_the_emailed_invitation_carries_the_link_that_starts_the_interview(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        reply = await hire(w, RECRUITER, AS_SLACK_SENDS)
        assert (
            f"I'm also emailing them the invitation with this link at {JANE}; if it cannot be "
            "delivered, their thread will say why." in reply
        )
        in_reply = INVITE_LINK.search(reply)
        assert in_reply is not None

        (mail,) = await received(w)
        assert mail.rcpt_tos == (JANE,) and mail.mail_from == "hiring@acme.example"
        message = mail.message
        assert message["From"] == MAIL_FROM and message["To"] == JANE
        assert message["Subject"] == "Votre entretien pour le poste de Backend Engineer chez Acme"
        assert message.get_content_type() == "multipart/alternative"
        plain, html = message.iter_parts()
        # As received: lines end in CRLF on the wire.
        text, markup = plain.get_content().replace("\r\n", "\n"), html.get_content()
        assert text.startswith("Bonjour <b>Jane</b>,\n")
        assert "Bonjour &lt;b&gt;Jane&lt;/b&gt;," in markup and "<b>Jane" not in markup
        in_text = INVITE_LINK.search(text)
        assert in_text is not None and in_text.group(0) == in_reply.group(0)
        assert f"Commencer l'entretien sur Telegram:\n{in_text.group(0)}" in text
        assert f'href="{in_text.group(0)}"' in markup
        assert in_text.group(1) == w.telegram.bot_username

        # Once sent, hirebot keeps no copy of the link (the token is stored only as a hash).
        row = await eventually(lambda: email_row(w, OutboxStatus.SENT), what="the row sent")
        assert row.payload["text"] == row.payload["html"] == ""
        assert in_text.group(2) not in json.dumps(row.payload)

        # The candidate never saw the recruiter's message: the email's link is enough.
        jane = w.telegram.candidate(700_101, "Jane", "Doe", language_code="fr")
        await jane.send_command("/start", in_text.group(2))
        consent = await jane.wait_for_message("Bienvenue")
        assert "Backend Engineer" in (consent.text or "")


async def test_a_decision_for_a_candidate_who_never_opened_telegram_arrives_by_email(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        await hire(w, RECRUITER, f"invite backend-engineer Jane Doe <mailto:{JANE}|{JANE}>")
        await received(w)
        reply = await hire(w, RECRUITER, "advance Jane Doe")
        assert reply == (
            "Jane Doe advanced to Live interview. They haven't opened their invitation on "
            "Telegram, so they've been told by email. Jane Doe never opened their invitation, "
            "so Telegram can't offer them times yet: once they have, offer them with the card's "
            "📅 Book a call (or `/hire book`)."
        )
        _, decision = await received(w, 2)
        assert decision.message["Subject"] == "About your application for Backend Engineer at Acme"
        plain, _html = decision.message.iter_parts()
        assert "Live interview" in plain.get_content()

        parent = await card(w)
        note = await eventually(
            lambda: [m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "advanced" in m.text]
        )
        assert note[0].text == (
            f"➡️ <@{RECRUITER}> advanced the candidate to *Live interview*. "
            "They were told by email (they never opened Telegram)."
        )


async def test_a_mail_server_refusing_the_address_is_told_in_the_candidates_thread(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        w.mailbox.refuse = [f"550 5.1.1 <{JANE}>: Recipient address rejected: no such user"]
        reply = await hire(w, RECRUITER, f"invite backend-engineer Jane Doe {JANE}")
        assert "emailing them the invitation" in reply
        parent = await card(w)
        note = await eventually(
            lambda: [m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "email" in m.text],
            what="the refusal in Jane's thread",
        )
        assert note[0].text == (
            "The email to the candidate was refused by their mail server: 550 5.1.1 "
            "&lt;recipient&gt;: Recipient address rejected: no such user. "
            "Please check the address, or reach them another way."
        )
        assert w.mailbox.received == [] and w.mailbox.tries == 1
        row = await eventually(lambda: email_row(w, OutboxStatus.FAILED), what="the row failed")
        assert row.payload["text"] == row.payload["html"] == ""  # no link kept for nothing
        await w.wait_idle()
        assert len([m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "email" in m.text]) == 1
