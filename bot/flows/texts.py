"""Everything a candidate reads, by message id and language.

English is complete; another language falls back to English per message until translated.
"""

from __future__ import annotations

from typing import Any

CONSENT_VERSION = "2026-11-v1"

_EN: dict[str, str] = {
    "welcome": (
        "Hi {name}! Welcome to your async interview for {opening}{company}.\n"
        "There {are_questions}. Please finish by {deadline}."
    ),
    "consent": (
        "Before we start, please read this:\n"
        "• Your answers are recorded as voice or video and stored by the hiring team.\n"
        "• They are transcribed automatically on the team's own machine and read and watched by "
        "the people hiring for this role.\n"
        "• No automated scoring is used: people make every decision.\n"
        "• Your recordings are kept for the hiring process only and deleted on request: send "
        "/delete_my_data at any time.\n"
        "Do you agree?"
    ),
    "consent.agree": "I agree",
    "consent.decline": "No, thanks",
    "declined": (
        "No problem — nothing was recorded. We've let the hiring team know. "
        "Thank you for your interest."
    ),
    "question": (
        "Question {number} of {total}:\n{text}\n\nAnswer with a {types} of up to {seconds} seconds."
    ),
    "received": "Received your answer to question {number} ({seconds} s). Thank you!",
    "completed": (
        "That's all — you've answered all {total} questions. Your answers are with the hiring "
        "team now; you'll hear back from them. Thank you for your time!"
    ),
    "resume": "Welcome back! Let's continue where you left off.",
    "already_completed": "You've already finished this interview — thank you! "
    "The hiring team will be in touch.",
    "unknown_invite": (
        "I don't recognise this invitation link. Please open the exact link the recruiter sent "
        "you, or ask them for a new one."
    ),
    "no_invite": (
        "Hi! I run async interviews for hiring teams. To start, open the invitation link your "
        "recruiter sent you."
    ),
    "invite_taken": (
        "This invitation link has already been used from another Telegram account. "
        "If that wasn't you, please ask the recruiter for a new link."
    ),
    "invite_expired": (
        "This interview's deadline ({deadline}) has passed. If you need more time, please ask "
        "the recruiter who invited you."
    ),
    "not_answering": "There's no question waiting for an answer right now.",
    "wrong_type": "This question needs a {types}. Please answer again that way.",
    "too_big": (
        "That file is too big for me to receive (the limit is {limit_mb} MB). "
        "Please record a shorter answer."
    ),
    "not_media": ("I can only take answers as a {types}. Please record your answer that way."),
    "consent_first": "Please answer the question above first: do you agree?",
    "advanced": (
        "Good news, {name}! The hiring team for {opening} would like to move you forward to "
        "the next stage: {stage}. They'll contact you with the details."
    ),
    "rejected": (
        "Hi {name}, thank you for interviewing for {opening}. After careful review the team has "
        "decided not to move forward. We appreciate your time and wish you the best."
    ),
    "type.voice": "voice note",
    "type.video_note": "video note",
    "type.video": "video",
    "type.audio": "audio file",
    "type.text": "text message",
    "or": "or",
    "extension_approved": (
        "Hi {name}, good news: the hiring team for {opening} has given you more time. "
        "Your new deadline is {deadline}."
    ),
    "extension_denied": (
        "Hi {name}, the hiring team for {opening} can't extend your deadline this time. "
        "It stays {deadline}."
    ),
    "team_reminder": (
        "Hi {name}, a friendly reminder from the hiring team for {opening}: your async "
        "interview is waiting for you. Please finish by {deadline}."
    ),
}

_CATALOGUE: dict[str, dict[str, str]] = {"en": _EN}


def text(language: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``language`` (English where missing), filled with ``values``."""
    template = _CATALOGUE.get(language, _EN).get(key) or _EN[key]
    return template.format(**values)


def list_types(language: str, types: list[str]) -> str:
    names = [text(language, f"type.{t}") for t in types]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {text(language, 'or')} " + names[-1]
