"""Turn a file someone chose into an intro clip in the media store (blocking: the CLI, a
worker thread)."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import datetime
from pathlib import Path

import av
from sqlmodel import Session

from bot.errors import MediaError, OpeningFileError
from bot.flows import intro_clips
from bot.flows.intro_clips import ConvertedClip
from bot.flows.openings import NO_INTRO, OpeningSpec, find_opening
from bot.limits import RelayLimit
from bot.transcription.telegram_media import TooLong, convert
from bot.unit_of_work import UnitOfWork
from storage.media import MediaStore
from storage.models import Opening


def source_digest(src: Path) -> str:
    digest = hashlib.sha256()
    with src.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def store_clip(store: MediaStore, src: Path) -> ConvertedClip:
    """Convert ``src`` for Telegram, as "Send to candidate" converts a clip, and keep the
    copy: a voice, a video, or a round video note for a square-enough video of a minute or
    less. MediaError says, with the numbers, why it cannot be an intro."""
    kind, note = _shape(src)
    with tempfile.TemporaryDirectory(prefix="hirebot-intro-") as folder:
        try:
            clip = convert(src, Path(folder), kind, note_if_fits=note)
        except TooLong as err:
            raise MediaError(
                f"it is {err.seconds:.0f} s long; a clip for Telegram may last at most "
                f"{RelayLimit.MAX_SECONDS} s"
            ) from None
        except MediaError as err:
            raise MediaError(f"this file is not a recording hirebot can use ({err})") from None
        data = clip.path.read_bytes()
        if len(data) > RelayLimit.TELEGRAM_UPLOAD_BYTES:
            raise MediaError(
                f"converted for Telegram it is over "
                f"{RelayLimit.TELEGRAM_UPLOAD_BYTES // (1024 * 1024)} MB, Telegram's upload limit"
            )
        stored = store.put(data, clip.path.suffix)
    side = RelayLimit.VIDEO_NOTE_SIDE if clip.kind == "video_note" else 0
    return ConvertedClip(
        kind=clip.kind,
        media_path=stored.relpath,
        duration_seconds=clip.duration_seconds,
        width=side,
        height=side,
        source_sha256=source_digest(src),
    )


def _shape(src: Path) -> tuple[str, bool]:
    """ "video" or "voice", and whether a video may be a round note (a square-enough one:
    a note is cropped to its middle square, which would lose most of a wide film)."""
    try:
        with av.open(str(src)) as container:
            if not container.streams.video:
                return "voice", False
            context = container.streams.video[0].codec_context
            width, height = int(context.width or 0), int(context.height or 0)
    except (av.FFmpegError, ValueError, UnicodeDecodeError):
        return "voice", False  # convert() says what is wrong with it
    square = min(width, height) > 0 and max(width, height) <= _SQUARE_ENOUGH * min(width, height)
    return "video", square


_SQUARE_ENOUGH = 1.1

Prepared = dict[int | None, ConvertedClip | None]  # position → the new clip, or None: remove


def prepare(uow: UnitOfWork, spec: OpeningSpec) -> Prepared:
    """Convert the intro files an openings file names, before anything is saved: a file
    that cannot be a clip refuses the import. A file already in use is not converted again."""
    prepared: Prepared = {}
    for position, file in spec.intro_files().items():
        if file == NO_INTRO:
            prepared[position] = None
            continue
        src = Path(file)
        digest = source_digest(src)

        def current(
            session: Session, _now: datetime, position: int | None = position, digest: str = digest
        ) -> bool:
            opening = find_opening(session, spec.slug)
            return opening is not None and intro_clips.is_current(
                session, opening, position, digest
            )

        if uow.run_sync(current):
            continue
        try:
            prepared[position] = store_clip(uow.media, src)
        except MediaError as err:
            raise OpeningFileError(f"{src}: {err}") from err
    return prepared


def apply(session: Session, opening: Opening, prepared: Prepared, now: datetime) -> list[str]:
    """Set or remove the prepared clips (in the import's transaction); a line for each."""
    lines = []
    for position, converted in prepared.items():
        label = "intro" if position is None else f"question {position + 1}'s intro"
        if converted is None:
            if intro_clips.remove(session, opening=opening, position=position, by=_BY, now=now):
                lines.append(f"removed {label}")
            continue
        clip = intro_clips.set_clip(
            session, opening=opening, position=position, converted=converted, by=_BY, now=now
        )
        lines.append(f"{label}: {intro_clips.described(clip)}")
    return lines


_BY = "hirebot"  # the audit actor of a change made from the command line
