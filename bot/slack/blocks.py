"""Block Kit rendering of the candidate card. Layout only; the numbers come from flows."""

from __future__ import annotations

from typing import Any

from bot.flows.interview import format_deadline
from bot.flows.ports import CandidateCard
from bot.flows.review import VoteChoice

VOTE_ACTION_PREFIX = "vote_"
_VOTE_LABELS = {VoteChoice.YES: "👍 Yes", VoteChoice.MAYBE: "🤔 Maybe", VoteChoice.NO: "👎 No"}
_STATUS = {
    "invited": "Invited",
    "consent_pending": "Opened the invitation",
    "answering": "Answering",
    "completed": "Completed",
    "declined": "Declined",
    "expired": "Expired",
}


def card_text(card: CandidateCard) -> str:
    """Plain-text fallback (notifications, screen readers)."""
    return (
        f"{card.candidate} · {card.opening} · {card.answered}/{card.questions} answered · "
        f"{_STATUS.get(card.status, card.status)}"
    )


def tally_text(card: CandidateCard) -> str:
    return "  ".join(f"{_VOTE_LABELS[VoteChoice(k)]} {v}" for k, v in card.tally.items())


def card_blocks(card: CandidateCard) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{card.candidate}* · {card.opening}"},
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        f"Progress *{card.answered}/{card.questions}* · "
                        f"{_STATUS.get(card.status, card.status)} · Stage *{card.stage}* · "
                        f"Deadline {format_deadline(card.deadline)}"
                    ),
                }
            ],
        },
        {
            "type": "section",
            "block_id": "tally",
            "text": {"type": "mrkdwn", "text": f"Votes: {tally_text(card)}"},
        },
        {
            "type": "actions",
            "block_id": f"vote-{card.interview_id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": f"{VOTE_ACTION_PREFIX}{choice.value}",
                    "text": {"type": "plain_text", "text": label, "emoji": True},
                    "value": str(card.interview_id),
                }
                for choice, label in _VOTE_LABELS.items()
            ],
        },
    ]
