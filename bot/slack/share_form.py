"""The "Share" form on a candidate card, and the view that shows a new link once.

Share with people or channels in Slack (a compact summary each), or make a link for someone
who is not in Slack (their name, and how many days it lasts). The link's address is shown in
the form itself, once: hirebot keeps only its hash, so it is never in a message or the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.flows.escaping import mrkdwn
from bot.flows.moments import format_deadline
from bot.flows.sharing import NewLink
from bot.limits import ShareLimit
from bot.slack.modals import (
    Block,
    _element,
    _input,
    _modal,
    _number,
    _number_input,
    _plain,
    _state,
    _text,
    _text_input,
    _users,
)

SHARE = "share_candidate"


def share_view(interview_id: int, candidate: str) -> Block:
    """``candidate``: the name or alias as the card shows it (plain text)."""
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "plain_text",
                "text": f"Share {candidate}'s answers beyond the review channel.",
            },
        },
        _input(
            "people",
            "People in Slack (a DM with the transcripts)",
            {"type": "multi_users_select", "max_selected_items": ShareLimit.RECIPIENTS_MAX},
            optional=True,
        ),
        _input(
            "channels",
            "Channels (a post with the transcripts)",
            {
                "type": "multi_conversations_select",
                "max_selected_items": ShareLimit.RECIPIENTS_MAX,
                "filter": {"include": ["public", "private"], "exclude_bot_users": True},
            },
            optional=True,
        ),
        {"type": "divider"},
        _input(
            "holder",
            "Or a link for someone not in Slack: who is it for?",
            _text_input(
                placeholder="e.g. Dana Lee, Acme Recruiting", max_length=ShareLimit.HOLDER_CHARS
            ),
            optional=True,
        ),
        _input(
            "days",
            "The link works for (days)",
            _number_input(ShareLimit.DEFAULT_DAYS, 1, ShareLimit.MAX_DAYS),
            optional=True,
        ),
    ]
    return _modal(SHARE, "Share candidate", "Share", blocks, meta=str(interview_id))


@dataclass(frozen=True)
class ShareRequest:
    people: list[str]
    channels: list[str]
    holder: str
    days: int


def read_share(view: dict[str, Any]) -> ShareRequest | dict[str, str]:
    values = _state(view)
    channels = _element(values, "channels").get("selected_conversations") or []
    request = ShareRequest(
        people=_users(values, "people"),
        channels=[str(c) for c in channels] if isinstance(channels, list) else [],
        holder=_text(values, "holder").strip(),
        days=_number(values, "days", ShareLimit.DEFAULT_DAYS),
    )
    if not (request.people or request.channels or request.holder):
        return {"people": "Pick someone, a channel, or fill in who a link is for."}
    if not 1 <= request.days <= ShareLimit.MAX_DAYS:
        return {"days": f"From 1 to {ShareLimit.MAX_DAYS} days."}
    return request


def link_view(link: NewLink, address: str, shared: str | None) -> Block:
    """The form, replaced by the new link: copy it now, it is not shown again."""
    text = (
        f"Link for *{mrkdwn(link.holder)}*, valid until {format_deadline(link.expires_at)}:\n"
        f"```{address}```\n"
        "Copy it now: hirebot keeps no copy and cannot show it again. "
        "Revoke it any time from the candidate's thread."
    )
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if shared:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": shared}]})
    return {
        "type": "modal",
        "callback_id": f"{SHARE}_link",
        "title": _plain("Share link"),
        "close": _plain("Done"),
        "blocks": blocks,
    }
