"""Which stored media files answers (and openings' intro clips) still use, and which to
delete once a change commits.

A file is deleted only after the transaction that stopped using it commits (so a rollback
never leaves a row pointing at nothing), and only if no other answer holds the same bytes:
files are named by content.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import Answer, IntroClip

_DISCARD = "hirebot.discard_media"


def media_in_use(session: Session) -> set[str]:
    answers = session.exec(select(Answer.media_path).where(col(Answer.media_path).is_not(None)))
    intros = session.exec(select(IntroClip.media_path))
    return {path for path in [*answers.all(), *intros.all()] if path is not None}


def discard_if_unused(session: Session, relpath: str | None) -> None:
    """Delete ``relpath`` after commit unless an answer or an intro clip (still) refers to it."""
    if relpath is None:
        return
    session.flush()
    if session.exec(select(Answer.id).where(Answer.media_path == relpath)).first() is not None:
        return
    if session.exec(select(IntroClip.id).where(IntroClip.media_path == relpath)).first() is None:
        session.info.setdefault(_DISCARD, []).append(relpath)


def take_discarded(session: Session) -> list[str]:
    found: list[str] = session.info.pop(_DISCARD, [])
    return found
