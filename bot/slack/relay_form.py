"""The "Send to candidate" form: what will reach the candidate, for the recruiter to confirm.

Opened at once (Slack's trigger lasts 3 seconds) saying the recording is being prepared, then
updated with the preview: who receives it, what it is, and the words that go with it, which
the recruiter may still change. ``private_metadata`` carries the draft relay's id.
"""

from __future__ import annotations

from typing import Any

from bot.flows.escaping import mrkdwn
from bot.flows.relay import Draft, RelayKind

RELAY_CONFIRM = "relay_confirm"
SHORTCUT = "send_to_candidate"  # the message shortcut's callback_id (slack-app-manifest.yaml)
TEXT_BLOCK = "relay_text"
VALUE = "value"

Block = dict[str, Any]


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def preparing() -> Block:
    """Shown while the recording is downloaded and converted (a few seconds)."""
    return {
        "type": "modal",
        "title": _plain("Send to candidate"),
        "close": _plain("Close"),
        "blocks": [_section("⏳ Preparing the recording for Telegram…")],
    }


def problem(text: str) -> Block:
    """Why nothing can be sent (the form stays open until closed)."""
    return {
        "type": "modal",
        "title": _plain("Send to candidate"),
        "close": _plain("Close"),
        "blocks": [_section(f"⚠️ {text}")],
    }


def preview(draft: Draft) -> Block:
    """What goes to the candidate, with the words still editable."""
    blocks: list[Block] = [
        _section(f"To *{draft.candidate}* in Telegram: {draft.what}."),
    ]
    if draft.question is not None:
        quoted = "\n".join(f"> {mrkdwn(line)}" for line in draft.question.splitlines() or [""])
        blocks.append(_section(f"Their question:\n{quoted}"))
    text = draft.kind == RelayKind.TEXT
    element: Block = {
        "type": "plain_text_input",
        "action_id": VALUE,
        "multiline": True,
        "max_length": min(draft.text_limit, 3000),
    }
    if draft.text:
        element["initial_value"] = draft.text[: element["max_length"]]
    blocks.append(
        {
            "type": "input",
            "block_id": TEXT_BLOCK,
            "label": _plain("Message" if text else "Words under the recording"),
            "element": element,
            "optional": not text,
        }
    )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "They read it under a line saying it is from the hiring team. "
                    "It goes after anything hirebot is already sending them.",
                }
            ],
        }
    )
    return {
        "type": "modal",
        "callback_id": RELAY_CONFIRM,
        "private_metadata": str(draft.relay_id),
        "title": _plain("Send to candidate"),
        "submit": _plain("Send"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def read_text(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    return str((values.get(TEXT_BLOCK, {}).get(VALUE) or {}).get("value") or "")
