"""A candidate's button: the action it asks for and the interview it belongs to.

A person may hold several interviews (two openings, or a re-invitation), so every button names
its interview: a press acts on that interview only, and only for the Telegram account the
interview is bound to. Packed and parsed here only; the adapter passes the data through.

Format: ``<action>@<interview id>``, e.g. ``submit:2:1@17``. Buttons sent before interviews
were named carry the action alone and still work where the person has one interview.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.limits import ButtonLimit

_OWNER = "@"


@dataclass(frozen=True)
class Press:
    action: str  # ready:<index> | submit:<index>:<take> | consent:agree | lang:<code> | …
    interview_id: int | None  # None: an old button that names no interview


def pack(action: str, interview_id: int) -> str:
    data = f"{action}{_OWNER}{interview_id}"
    if len(data.encode()) > ButtonLimit.CALLBACK_DATA_BYTES:
        raise ValueError(f"button data over {ButtonLimit.CALLBACK_DATA_BYTES} bytes: {data!r}")
    return data


def parse(data: str) -> Press:
    action, owner, interview = data.rpartition(_OWNER)
    if not owner:
        return Press(data, None)
    if not interview.isdigit():
        # Not one of ours; an action no step knows, answered as a stale button.
        return Press("", None)
    return Press(action, int(interview))
