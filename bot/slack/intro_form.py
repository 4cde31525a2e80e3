"""The "Use as intro for opening…" form: which opening (and, optionally, which question)
a Slack clip introduces. ``private_metadata`` carries the clip's Slack file (its id, name,
size, kind and private address: what the download needs), never its bytes."""

from __future__ import annotations

import json
from typing import Any

SHORTCUT = "use_as_intro"  # the message shortcut's callback_id (slack-app-manifest.yaml)
CHOOSE = "intro_choose"
OPENING_BLOCK = "intro_opening"
QUESTION_BLOCK = "intro_question"
VALUE = "value"
_FILE_KEYS = ("id", "name", "size", "subtype", "mimetype", "url_private", "url_private_download")

Block = dict[str, Any]


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def choose(openings: list[tuple[str, str]], file: dict[str, Any]) -> Block:
    """The form: ``openings`` as (slug, title); ``file`` the clip's Slack file object."""
    options = [
        {"text": _plain(f"{title} ({slug})"[:75]), "value": slug} for slug, title in openings
    ]
    return {
        "type": "modal",
        "callback_id": CHOOSE,
        "title": _plain("Use as intro"),
        "submit": _plain("Use it"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({k: file.get(k) for k in _FILE_KEYS}),
        "blocks": [
            {
                "type": "input",
                "block_id": OPENING_BLOCK,
                "label": _plain("Opening"),
                "element": {
                    "type": "static_select",
                    "action_id": VALUE,
                    "options": options[:100],
                },
            },
            {
                "type": "input",
                "block_id": QUESTION_BLOCK,
                "optional": True,
                "label": _plain("Before question (leave empty: after consent, before question 1)"),
                "element": {
                    "type": "number_input",
                    "action_id": VALUE,
                    "is_decimal_allowed": False,
                },
            },
        ],
    }


def read(view: dict[str, Any]) -> tuple[str, int | None, dict[str, Any]]:
    """The opening's slug, the question's number (None: the opening's own clip), the file."""
    values = view["state"]["values"]
    slug = str(values[OPENING_BLOCK][VALUE]["selected_option"]["value"])
    number = (values.get(QUESTION_BLOCK) or {}).get(VALUE, {}).get("value")
    file = json.loads(view.get("private_metadata") or "{}")
    return slug, int(number) if number not in (None, "") else None, file
