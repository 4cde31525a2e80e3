"""Which stored media files answers, the team's relays and openings' intro clips still use,
and which to delete once a change commits.

A file is deleted only after the transaction that stopped using it commits (so a rollback
never leaves a row pointing at nothing), and only if no other row holds the same bytes:
files are named by content.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import Answer, IntroClip, Relay

_DISCARD = "hirebot.discard_media"

# Every table whose rows name a file in the media store.
_MEDIA_COLUMNS = (Answer.media_path, Relay.media_path, IntroClip.media_path)


def media_in_use(session: Session) -> set[str]:
    """Answers' recordings, the team's recordings still waiting to reach a candidate, and
    openings' intro clips."""
    found: set[str] = set()
    for column in _MEDIA_COLUMNS:
        found |= {p for p in session.exec(select(column).where(col(column).is_not(None))) if p}
    return found


def discard_if_unused(session: Session, relpath: str | None) -> None:
    """Delete ``relpath`` after commit unless a row (still) refers to it."""
    if relpath is None:
        return
    session.flush()
    if all(session.exec(select(c).where(c == relpath)).first() is None for c in _MEDIA_COLUMNS):
        session.info.setdefault(_DISCARD, []).append(relpath)


def take_discarded(session: Session) -> list[str]:
    found: list[str] = session.info.pop(_DISCARD, [])
    return found
