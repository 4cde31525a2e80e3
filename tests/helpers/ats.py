"""What the ATS end-to-end tests share, whichever ATS drives them (Lever, Greenhouse): the
sample opening synced with it, the invitation it made hirebot email, the thread's note."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.slack import SlackMessage
from bot.sandbox.world import INVITE_LINK, OPENING_FILE, REVIEW_CHANNEL, World, eventually
from tests.helpers.slack import card


def synced_opening(tmp_path: Path, name: str, ats_block: str) -> Path:
    """The sample opening with ``ats_block`` (its ``ats:`` section) appended."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(OPENING_FILE.read_text() + ats_block)
    return path


async def emailed_token(w: World, address: str) -> str:
    """The token of the deep link in the first email hirebot sent, checked sent to ``address``."""
    mail = await eventually(lambda: w.mailbox.received, what="the invitation email")
    assert mail[0].rcpt_tos == (address,)
    plain = next(iter(mail[0].message.iter_parts())).get_content()
    link = INVITE_LINK.search(plain)
    assert link is not None
    return link.group(2)


async def invited_note(w: World, says: str, what: str) -> SlackMessage:
    """The candidate's card, once its thread holds the note (containing ``says``) that the
    ATS invited them."""
    parent = await card(w)
    await eventually(
        lambda: [m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if says in m.text],
        what=what,
    )
    return parent
