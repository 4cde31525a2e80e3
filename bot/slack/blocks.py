"""Block Kit rendering of the candidate card and thread replies. Layout only; the numbers
come from flows. The card's values are plain text (a name, a title): each goes into mrkdwn
through ``escaping.mrkdwn``. A thread reply's text is mrkdwn already, escaped by its flow."""

from __future__ import annotations

from typing import Any

from bot.flows.buttons import ButtonData, OfferCall, OpenScore, OpenShare, Vote
from bot.flows.escaping import mrkdwn
from bot.flows.moments import format_deadline
from bot.flows.ports import CandidateCard, ThreadNote
from bot.flows.review import VoteChoice
from storage.models import Stage

_VOTE_LABELS = {VoteChoice.YES: "👍 Yes", VoteChoice.MAYBE: "🤔 Maybe", VoteChoice.NO: "👎 No"}
_STATUS = {
    "invited": "Invited",
    "consent_pending": "Opened the invitation",
    "answering": "Answering",
    "completed": "Completed ✅",
    "declined": "Declined",
    "expired": "Expired",
}
# Slack refuses a section text above 3,000 characters.
_SECTION_CHARS = 3000

Block = dict[str, Any]


def card_text(card: CandidateCard) -> str:
    """The fallback ``text`` (notifications, screen readers); Slack reads it as mrkdwn too."""
    return (
        f"{mrkdwn(card.candidate)} · {mrkdwn(card.opening)} · "
        f"{card.answered}/{card.questions} answered · "
        f"{_STATUS.get(card.status, card.status)}"
    )


def tally_text(card: CandidateCard) -> str:
    if card.blind:
        cast = f"{card.votes_cast} cast" if card.votes_cast != 1 else "1 cast"
        return f"hidden until you vote ({cast}, blind review)"
    return "  ".join(f"{_VOTE_LABELS[VoteChoice(k)]} {v}" for k, v in card.tally.items())


def scores_text(card: CandidateCard) -> str:
    if card.blind:
        return f"hidden until you vote ({card.scored_by} scored)"
    if not card.scores:
        return "none yet"
    averages = " · ".join(f"{mrkdwn(name)} *{value:.1f}*" for name, value in card.scores.items())
    return f"{averages} (by {card.scored_by})"


def card_blocks(card: CandidateCard) -> list[Block]:
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{mrkdwn(card.candidate)}* · {mrkdwn(card.opening)}",
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": (
                        f"Progress *{card.answered}/{card.questions}* · "
                        f"{_STATUS.get(card.status, card.status)} · Stage *{mrkdwn(card.stage)}* · "
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
    ]
    if card.rubric:
        blocks.append(
            {
                "type": "context",
                "block_id": "scores",
                "elements": [{"type": "mrkdwn", "text": f"Scores: {scores_text(card)}"}],
            }
        )
    elements = [
        _card_button(label, Vote(choice, card.interview_id))
        for choice, label in _VOTE_LABELS.items()
    ]
    if card.rubric:
        elements.append(_card_button("📝 Score", OpenScore(card.interview_id)))
    if card.stage == Stage.LIVE_INTERVIEW:
        elements.append(_card_button("📅 Book a call", OfferCall(card.interview_id)))
    elements.append(_card_button("🔗 Share", OpenShare(card.interview_id)))
    blocks.append(
        {"type": "actions", "block_id": f"vote-{card.interview_id}", "elements": elements}
    )
    return blocks


def note_blocks(note: ThreadNote) -> list[Block] | None:
    """A reply with buttons needs blocks; a plain reply is just its mrkdwn text."""
    if not note.choices:
        return None
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": note.text[:_SECTION_CHARS]}},
        {
            "type": "actions",
            "elements": [_button(c.data, c.label, c.data) for c in note.choices],
        },
    ]


def _card_button(label: str, button: ButtonData) -> Block:
    # The action id routes the press (unique within the card); the value is the packed data.
    return _button(button.action, label, button.pack())


def _button(action_id: str, label: str, value: str) -> Block:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": value,
    }
