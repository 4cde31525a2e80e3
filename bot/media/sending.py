"""Sending an opening's intro clip: by Telegram's file id once it has one, else an upload.

The first candidate's send uploads the converted file from the media store and records the
file id Telegram gives back; every later candidate gets the clip by that id, so a clip is
uploaded once, not once per candidate.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from bot.errors import DeliveryDeferred, FileIdRefused
from bot.flows.ports import CandidateChannel, Clip
from bot.unit_of_work import UnitOfWork
from storage.media import MediaUnavailable, local_copy
from storage.models import IntroClip


async def send_intro_clip(
    uow: UnitOfWork, candidates: CandidateChannel, chat_id: int, clip_id: int
) -> None:
    row = await uow.run(lambda s, _now: s.get(IntroClip, clip_id))
    if row is None:
        return  # removed or replaced since: the candidate is not sent a clip nobody wants
    clip = Clip(row.kind, row.duration_seconds, row.width, row.height)
    if row.telegram_file_id:
        try:
            await candidates.send_recording(chat_id, clip, row.telegram_file_id)
            return
        except FileIdRefused:
            pass  # Telegram forgot it (another bot token): upload again, below
    try:
        async with local_copy(uow.media, row.media_path) as media:
            file_id = await candidates.send_recording(chat_id, clip, Path(media))
    except MediaUnavailable as err:
        raise DeliveryDeferred(str(err)) from None
    media_path = row.media_path

    def remember(session: Session, _now: datetime) -> None:
        current = session.get(IntroClip, clip_id)
        if current is not None and current.media_path == media_path:
            current.telegram_file_id = file_id

    await uow.run(remember)
