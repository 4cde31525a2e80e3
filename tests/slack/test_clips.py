"""Fetching a Slack clip for a candidate (bot.slack.clips) against the Slack sandbox: routing by
subtype, the bot token and files:read on the download, and the limits, each refused with the
number the recruiter needs."""

from __future__ import annotations

import io
from enum import IntEnum
from pathlib import Path
from typing import Any

import av
import pytest

from bot.errors import InvalidRequest
from bot.flows.relay import RelayKind
from bot.sandbox.slack import SlackSandbox
from bot.sandbox.slack_api import GENERAL_CHANNEL, UploadedFile
from bot.slack import clips
from bot.transcription.media import playable_copy
from storage.media import MediaFolder
from tests.candidate.media_files import silent_video
from tests.helpers.slack import human_message

USER = "U0RITA"


async def _posted(
    sandbox: SlackSandbox, data: bytes, name: str, subtype: str | None, mimetype: str | None
) -> dict[str, Any]:
    """A file Rita posted, as a message's ``files`` show it (no bot runs here to be told)."""
    uploaded = UploadedFile(
        sandbox.new_id("F"), name, name, data, GENERAL_CHANNEL, None, USER, subtype, mimetype
    )
    sandbox.files.append(uploaded)
    message = human_message(sandbox, GENERAL_CHANNEL, USER, "", [uploaded])
    file: dict[str, Any] = sandbox.message_json(message)["files"][0]
    return file


@pytest.mark.parametrize(
    ("subtype", "mimetype", "name", "kind", "note"),
    [
        ("slack_audio", "video/mp4", "audio_message.mp4", RelayKind.VOICE, False),
        ("slack_audio", "video/webm", "audio_message.webm", RelayKind.VOICE, False),
        ("slack_video", "video/mp4", "video_message.mp4", RelayKind.VIDEO, True),
        (None, "audio/webm", "memo.webm", RelayKind.VOICE, False),
        (None, "video/quicktime", "tour.mov", RelayKind.VIDEO, False),
    ],
)
def test_clips_go_by_subtype_and_uploads_by_mimetype(
    subtype: str | None, mimetype: str, name: str, kind: RelayKind, note: bool
) -> None:
    assert clips.route({"subtype": subtype, "mimetype": mimetype, "name": name}) == (kind, note)


def test_a_file_that_is_no_recording_is_refused() -> None:
    with pytest.raises(InvalidRequest, match=r"That file \(PDF\) is not a recording"):
        clips.route({"mimetype": "application/pdf", "pretty_type": "PDF"})


async def test_a_voice_clip_is_fetched_with_the_bot_token_and_stored_as_opus(
    tmp_path: Path,
) -> None:
    source = playable_copy(Path("bot/sandbox/samples/answer1.ogg"), tmp_path)
    assert source is not None
    media = MediaFolder(tmp_path / "media")
    async with SlackSandbox() as sandbox:
        file = await _posted(sandbox, source.read_bytes(), "a.mp4", "slack_audio", "video/mp4")
        with pytest.raises(InvalidRequest, match="files:read"):
            await clips.prepare("xoxb-someone-else", file, media)
        clip = await clips.prepare(sandbox.bot_token, file, media)
    assert clip.kind == RelayKind.VOICE and abs(clip.duration_seconds - 7.07) < 0.1
    with av.open(io.BytesIO(media.path(clip.media_path).read_bytes())) as stored:
        assert stored.format.name == "ogg"
        assert stored.streams.audio[0].codec_context.name == "opus"


class _Small(IntEnum):
    """RelayLimit with Telegram's upload limit at 1 kB, to see the refusal without 50 MB."""

    TELEGRAM_UPLOAD_BYTES = 1024
    SLACK_DOWNLOAD_BYTES = 200 * 1024 * 1024
    MAX_SECONDS = 600
    VIDEO_NOTE_SECONDS = 60


async def test_too_large_for_telegram_once_converted_names_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = silent_video(tmp_path / "silent.mp4", seconds=2).read_bytes()
    async with SlackSandbox() as sandbox:
        file = await _posted(sandbox, video, "v.mp4", None, "video/mp4")
        monkeypatch.setattr(clips, "RelayLimit", _Small)
        with pytest.raises(InvalidRequest, match=r"over the \d+ MB Telegram takes from a bot"):
            await clips.prepare(sandbox.bot_token, file, MediaFolder(tmp_path / "media"))
        # Over what hirebot downloads: refused from the size Slack gives, before any download.
        with pytest.raises(InvalidRequest, match="hirebot takes recordings of up to 200 MB"):
            await clips.prepare(
                sandbox.bot_token, {**file, "size": 300 * 1024 * 1024}, MediaFolder(tmp_path)
            )
