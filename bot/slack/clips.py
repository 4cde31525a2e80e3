"""A Slack clip or uploaded recording, fetched and made into what Telegram plays (issue 11).

Slack clips are routed by their ``subtype`` (``slack_audio``: a voice clip, ``slack_video``: a
video clip), never by their mimetype: Slack labels voice clips ``audio/mp4``, ``video/mp4`` or
``video/webm`` depending on the client. Other uploads go by their mimetype. The file is
downloaded from ``url_private_download`` with the bot token (scope ``files:read``), never
logged, bounded in size, converted in the media pool, and kept in the media store until
Telegram has it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout

from bot.errors import InvalidRequest, MediaError
from bot.flows.moments import recording_length
from bot.flows.relay import Clip, RelayKind
from bot.limits import RelayLimit
from bot.transcription.pool import run_media, run_storing
from bot.transcription.telegram_media import TooLong, convert_bytes
from storage.media import MediaStore

_MB = 1024 * 1024
_DOWNLOAD_SECONDS = 120
_CHUNK = 256 * 1024


def route(file: dict[str, Any]) -> tuple[RelayKind, bool]:
    """What a Slack file becomes in Telegram, and whether a short video may be a round
    video note (a clip someone recorded of themselves, not an uploaded film)."""
    subtype = str(file.get("subtype") or "")
    if subtype == "slack_audio":
        return RelayKind.VOICE, False
    if subtype == "slack_video":
        return RelayKind.VIDEO, True
    mimetype = str(file.get("mimetype") or "")
    if mimetype.startswith("audio/") or mimetype == "application/ogg":
        return RelayKind.VOICE, False
    if mimetype.startswith("video/"):
        return RelayKind.VIDEO, False
    what = str(file.get("pretty_type") or file.get("filetype") or "a file")
    raise InvalidRequest(
        f"That file ({what}) is not a recording. *Send to candidate* takes a voice or video "
        "clip, an audio or video file, or a message's text."
    )


async def prepare(token: str, file: dict[str, Any], media: MediaStore) -> Clip:
    """Download, convert and store ``file``; InvalidRequest says why it cannot be sent."""
    kind, note_if_fits = route(file)
    size = int(file.get("size") or 0)
    if size > RelayLimit.SLACK_DOWNLOAD_BYTES:
        raise InvalidRequest(
            f"That file is {size / _MB:.0f} MB; hirebot takes recordings of up to "
            f"{RelayLimit.SLACK_DOWNLOAD_BYTES // _MB} MB. Send a shorter one."
        )
    data = await _download(token, file)
    suffix = Path(str(file.get("name") or "clip")).suffix[:8] or ".bin"
    try:
        converted, out = await run_media(convert_bytes, data, suffix, kind, note_if_fits)
    except TooLong as err:
        raise InvalidRequest(
            f"That recording is {recording_length(err.seconds)} long; hirebot sends recordings "
            f"of up to {recording_length(RelayLimit.MAX_SECONDS)}. Record a shorter one."
        ) from None
    except MediaError as err:
        raise InvalidRequest(f"hirebot could not use that recording: {err}.") from None
    if len(out) > RelayLimit.TELEGRAM_UPLOAD_BYTES:
        raise InvalidRequest(
            f"Made ready for Telegram it is {len(out) / _MB:.0f} MB, over the "
            f"{RelayLimit.TELEGRAM_UPLOAD_BYTES // _MB} MB Telegram takes from a bot. "
            "Record a shorter one."
        )
    stored = await run_storing(media.put, out, converted.path.suffix)
    return Clip(RelayKind(converted.kind), stored.relpath, converted.duration_seconds)


async def _download(token: str, file: dict[str, Any]) -> bytes:
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    if not url:
        raise InvalidRequest("Slack gave no address for that file; post it again and retry.")
    limit = int(RelayLimit.SLACK_DOWNLOAD_BYTES)
    try:
        async with (
            ClientSession(timeout=ClientTimeout(total=_DOWNLOAD_SECONDS)) as http,
            http.get(url, headers={"Authorization": f"Bearer {token}"}) as response,
        ):
            # Slack answers a token without files:read with its sign-in page, not an error.
            html = response.content_type == "text/html"
            if response.status != 200 or html:
                raise InvalidRequest(
                    "Slack would not let hirebot download that file (it needs the files:read "
                    "scope: reinstall the app from slack-app-manifest.yaml)."
                )
            data = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                data += chunk
                if len(data) > limit:
                    raise InvalidRequest(
                        f"That file is over {limit // _MB} MB; hirebot takes recordings of up "
                        f"to {limit // _MB} MB."
                    )
            return bytes(data)
    except ClientError as err:
        # The error's type only: its text may hold the file's address.
        raise InvalidRequest(
            f"Slack did not hand over that file ({type(err).__name__}); try again."
        ) from None
