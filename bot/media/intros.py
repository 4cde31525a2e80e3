"""Turn a file someone chose into an intro clip in the media store (blocking: the CLI, a
worker thread)."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from bot.errors import MediaError, OpeningFileError
from bot.flows import intro_clips
from bot.flows.intro_clips import ConvertedClip
from bot.flows.openings import NO_INTRO, OpeningSpec, find_opening
from bot.media.telegram_formats import Shape, convert
from bot.unit_of_work import UnitOfWork
from storage.media import MediaStore
from storage.models import Opening


def source_digest(src: Path) -> str:
    digest = hashlib.sha256()
    with src.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def store_clip(store: MediaStore, src: Path, shape: Shape = Shape.AUTO) -> ConvertedClip:
    """Convert ``src`` for Telegram and keep the copy (MediaError says why it cannot be)."""
    with tempfile.TemporaryDirectory(prefix="hirebot-intro-") as folder:
        clip = convert(src, Path(folder), shape=shape)
        stored = store.put(clip.path.read_bytes(), clip.suffix)
    return ConvertedClip(
        kind=clip.kind.value,
        media_path=stored.relpath,
        duration_seconds=clip.duration_seconds,
        width=clip.width,
        height=clip.height,
        source_sha256=source_digest(src),
    )


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
