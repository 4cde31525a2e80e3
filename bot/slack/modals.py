"""Modals: the Score form, the Reject form and the New opening form, and reading them back
(the interviewer's hours form is in ``bot.slack.hours_form``).

Each form's ``callback_id`` routes its submission; ``private_metadata`` carries the interview
id. Reading a submission returns either the values or ``{block_id: error}`` for Slack to show
next to the field (``response_action: errors``), so a bad form changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.flows.escaping import mrkdwn
from bot.flows.openings import ANSWER_TYPES, OpeningSpec
from bot.flows.pipeline import RejectionDraft
from bot.flows.review import ScoreForm
from bot.limits import InviteLimit, OpeningLimit, QuestionDefaults, ReviewLimit

SCORE = "score"
REJECT = "reject"
OPENING_NEW = "opening_new"
VALUE = "value"  # the action_id of every input element: block ids tell fields apart

Block = dict[str, Any]
Errors = dict[str, str]

_TYPE_LABELS = {
    "voice": "Voice note",
    "video_note": "Video note",
    "video": "Video",
    "audio": "Audio file",
    "text": "Text",
}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _modal(callback_id: str, title: str, submit: str, blocks: list[Block], meta: str = "") -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": meta,
        "title": _plain(title[:24]),
        "submit": _plain(submit),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def _input(block_id: str, label: str, element: Block, *, optional: bool = False) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label[:2000]),
        "element": {**element, "action_id": VALUE},
        "optional": optional,
    }


def _text_input(
    initial: str = "", *, multiline: bool = False, placeholder: str = "", max_length: int = 3000
) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    return element


def _number_input(initial: int, low: int, high: int) -> Block:
    return {
        "type": "number_input",
        "is_decimal_allowed": False,
        "initial_value": str(initial),
        "min_value": str(low),
        "max_value": str(high),
    }


def _option(value: str, label: str) -> Block:
    return {"text": _plain(label), "value": value}


# ---------------------------------------------------------------------- Score


def score_view(form: ScoreForm) -> Block:
    scale = range(ReviewLimit.SCORE_MIN, ReviewLimit.SCORE_MAX + 1)
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{mrkdwn(form.candidate)}* · {mrkdwn(form.opening)}",
            },
        }
    ]
    for index, criterion in enumerate(form.rubric):
        element: Block = {
            "type": "static_select",
            "placeholder": _plain("1 (weak) – 5 (strong)"),
            "options": [_option(str(n), str(n)) for n in scale],
        }
        if criterion in form.current:
            value = str(form.current[criterion])
            element["initial_option"] = _option(value, value)
        blocks.append(_input(f"criterion-{index}", criterion, element))
    blocks.append(
        _input(
            "note",
            "Note (for the team)",
            _text_input(form.note, multiline=True, placeholder="What stood out?"),
            optional=True,
        )
    )
    return _modal(SCORE, "Score", "Save scores", blocks, meta=str(form.interview_id))


def read_score(view: dict[str, Any], rubric: list[str]) -> tuple[dict[str, int], str] | Errors:
    values = _state(view)
    scores: dict[str, int] = {}
    errors: Errors = {}
    for index, criterion in enumerate(rubric):
        block_id = f"criterion-{index}"
        picked = _selected(values, block_id)
        if picked is None or not picked.isdigit():
            errors[block_id] = f"Please score {criterion}."
        else:
            scores[criterion] = int(picked)
    if errors:
        return errors
    return scores, _text(values, "note")


# ---------------------------------------------------------------------- Reject


def reject_view(draft: RejectionDraft) -> Block:
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"Reject *{mrkdwn(draft.candidate)}* for *{mrkdwn(draft.opening)}*.",
            },
        },
        _input(
            "reason",
            "Reason (for the team; the candidate doesn't see it)",
            _text_input(multiline=True),
            optional=True,
        ),
        _input(
            "message",
            "Message the candidate gets on Telegram",
            _text_input(draft.message, multiline=True),
        ),
    ]
    if not draft.reachable:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "⚠️ They never opened their invitation, so Telegram can't "
                        "reach them: tell them another way.",
                    }
                ],
            }
        )
    return _modal(REJECT, "Reject candidate", "Reject", blocks, meta=str(draft.interview_id))


@dataclass(frozen=True)
class Rejection:
    reason: str
    message: str


def read_reject(view: dict[str, Any]) -> Rejection | Errors:
    values = _state(view)
    message = _text(values, "message")
    if not message.strip():
        return {"message": "The candidate always hears: please write them a message."}
    return Rejection(reason=_text(values, "reason"), message=message)


# ---------------------------------------------------------------------- New opening


def opening_view() -> Block:
    blocks: list[Block] = [
        _input(
            "title",
            "Title",
            _text_input(max_length=OpeningLimit.TITLE_CHARS, placeholder="Backend Engineer"),
        ),
        _input(
            "channel",
            "Review channel (invite @hirebot there)",
            {
                "type": "conversations_select",
                "default_to_current_conversation": True,
                "filter": {"include": ["public", "private"], "exclude_bot_users": True},
            },
        ),
        _input(
            "deadline",
            "Days to answer",
            _number_input(
                InviteLimit.DEFAULT_DEADLINE_DAYS,
                OpeningLimit.DEADLINE_DAYS_MIN,
                OpeningLimit.DEADLINE_DAYS_MAX,
            ),
        ),
        _input(
            "questions",
            "Questions, one per line",
            _text_input(multiline=True, placeholder="Tell us about a system you built."),
        ),
        _input(
            "prep",
            "Preparation seconds per question",
            _number_input(QuestionDefaults.PREP_SECONDS, 0, OpeningLimit.PREP_SECONDS_MAX),
        ),
        _input(
            "answer",
            "Answer seconds per question",
            _number_input(
                QuestionDefaults.ANSWER_SECONDS,
                OpeningLimit.ANSWER_SECONDS_MIN,
                OpeningLimit.ANSWER_SECONDS_MAX,
            ),
        ),
        _input(
            "takes",
            "Takes allowed per question",
            _number_input(
                QuestionDefaults.MAX_TAKES, OpeningLimit.TAKES_MIN, OpeningLimit.TAKES_MAX
            ),
        ),
        _input(
            "types",
            "Answer types",
            {
                "type": "checkboxes",
                "options": [_option(t, _TYPE_LABELS[t]) for t in ANSWER_TYPES],
                "initial_options": [_option(t, _TYPE_LABELS[t]) for t in ANSWER_TYPES[:3]],
            },
        ),
        _input(
            "rubric",
            "Rubric criteria, one per line",
            _text_input(multiline=True, placeholder="Communication\nTechnical depth"),
            optional=True,
        ),
        _input(
            "blind",
            "Review",
            {
                "type": "checkboxes",
                "options": [_option("blind", "Blind review: hide names and tallies until I vote")],
            },
            optional=True,
        ),
        _input(
            "interviewers",
            "Live interview after the screen: who takes it (any one of them)",
            {"type": "multi_users_select", "max_selected_items": OpeningLimit.INTERVIEWERS_MAX},
            optional=True,
        ),
        _input(
            "limits",
            "Time limits",
            {
                "type": "radio_buttons",
                "options": [
                    _option("strict", "Strict: stop at the limit"),
                    _option("soft", "Soft: allow going over, flag it"),
                ],
                "initial_option": _option("strict", "Strict: stop at the limit"),
            },
        ),
    ]
    return _modal(OPENING_NEW, "New opening", "Create", blocks)


# Which form field each part of an OpeningSpec comes from, to put an error next to it.
_SPEC_FIELDS = {
    "slug": "title",
    "title": "title",
    "review_channel": "channel",
    "deadline_days": "deadline",
    "questions": "questions",
    "rubric": "rubric",
    "interviewers": "interviewers",
}
_QUESTION_FIELDS = {
    "prep_seconds": "prep",
    "answer_seconds": "answer",
    "max_takes": "takes",
    "answer_types": "types",
}


def read_opening(view: dict[str, Any]) -> OpeningSpec | Errors:
    values = _state(view)
    title = _text(values, "title").strip()
    questions = [q.strip() for q in _text(values, "questions").splitlines() if q.strip()]
    per_question = {
        "prep_seconds": _number(values, "prep", QuestionDefaults.PREP_SECONDS),
        "answer_seconds": _number(values, "answer", QuestionDefaults.ANSWER_SECONDS),
        "max_takes": _number(values, "takes", QuestionDefaults.MAX_TAKES),
        "answer_types": _checked(values, "types"),
    }
    data = {
        "slug": slugify(title),
        "title": title,
        "review_channel": _conversation(values, "channel"),
        "deadline_days": _number(values, "deadline", InviteLimit.DEFAULT_DEADLINE_DAYS),
        "strict_limits": _selected(values, "limits") != "soft",
        "blind_review": "blind" in _checked(values, "blind"),
        "questions": [{"text": q, **per_question} for q in questions],
        "rubric": [r.strip() for r in _text(values, "rubric").splitlines() if r.strip()],
        "interviewers": _users(values, "interviewers"),
    }
    try:
        return OpeningSpec.model_validate(data)
    except ValidationError as err:
        errors: Errors = {}
        for problem in err.errors():
            location = [str(p) for p in problem["loc"]]
            block = _SPEC_FIELDS.get(location[0], "title")
            if location[0] == "questions" and len(location) > 2:
                block = _QUESTION_FIELDS.get(location[2], "questions")
            errors.setdefault(block, _friendly(location[0], problem["msg"]))
        return errors


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:64]


def _friendly(field: str, message: str) -> str:
    if field == "questions":
        return "Please write at least one question (one per line)."
    if field == "review_channel":
        return "Please pick the channel where answers will be posted."
    if field == "slug":
        return "Please give a title with letters or digits."
    return message.removeprefix("Value error, ")


# ---------------------------------------------------------------------- reading state


def _state(view: dict[str, Any]) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    return values if isinstance(values, dict) else {}


def _element(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    element = (values.get(block_id) or {}).get(VALUE) or {}
    return element if isinstance(element, dict) else {}


def _text(values: dict[str, Any], block_id: str) -> str:
    return str(_element(values, block_id).get("value") or "")


def _number(values: dict[str, Any], block_id: str, default: int) -> int:
    raw = str(_element(values, block_id).get("value") or "").strip()
    return int(raw) if raw.lstrip("-").isdigit() else default


def _selected(values: dict[str, Any], block_id: str) -> str | None:
    option = _element(values, block_id).get("selected_option")
    return str(option["value"]) if isinstance(option, dict) else None


def _checked(values: dict[str, Any], block_id: str) -> list[str]:
    options = _element(values, block_id).get("selected_options") or []
    return [str(o["value"]) for o in options if isinstance(o, dict)]


def _users(values: dict[str, Any], block_id: str) -> list[str]:
    users = _element(values, block_id).get("selected_users") or []
    return [str(u) for u in users] if isinstance(users, list) else []


def _conversation(values: dict[str, Any], block_id: str) -> str:
    return str(_element(values, block_id).get("selected_conversation") or "")
