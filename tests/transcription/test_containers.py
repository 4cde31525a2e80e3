"""Every way a candidate's recording can arrive is heard, timed, and playable in Slack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from bot.flows.ports import Transcriber
from bot.transcription.media import decode_audio, playable_copy, probe
from tests.helpers.media import CONTAINERS, Container, encode

# Encodes the answer in nine containers and transcribes each.
pytestmark = pytest.mark.slow

# Slack plays these inline; everything else gets an M4A or MP4 copy.
PLAYS_AS_IS = {"mp4 h264-aac video note", "mp3", "m4a aac"}
# AAC adds encoder priming and padding (about 0.1 s here); the other codecs keep the exact
# length.
DURATION_TOLERANCE = 0.15


@pytest.fixture(params=CONTAINERS, ids=str)
def recording(
    request: pytest.FixtureRequest, tmp_path: Path, answer1_samples: npt.NDArray[np.float32]
) -> tuple[Container, Path]:
    container: Container = request.param
    return container, encode(answer1_samples, tmp_path / f"answer{container.suffix}", container)


def test_candidate_answer_is_heard_in_every_container(
    recording: tuple[Container, Path],
    transcriber: Transcriber,
    answer1_samples: npt.NDArray[np.float32],
) -> None:
    container, path = recording
    spoken = len(answer1_samples) / 16_000
    info = probe(path)
    assert info.has_audio
    assert info.has_video == (container.video_codec is not None)
    assert info.duration_seconds == pytest.approx(spoken, abs=DURATION_TOLERANCE)
    assert len(decode_audio(path)) / 16_000 == pytest.approx(spoken, abs=DURATION_TOLERANCE)
    transcript = transcriber.transcribe(path)
    words = transcript.text.lower()
    assert "payment service" in words and "python" in words and "monitoring" in words
    assert transcript.duration_seconds == pytest.approx(spoken, abs=DURATION_TOLERANCE)
    assert not transcript.no_speech


def test_reviewers_get_a_copy_slack_can_play(
    recording: tuple[Container, Path], tmp_path: Path, answer1_samples: npt.NDArray[np.float32]
) -> None:
    container, path = recording
    copies = tmp_path / "playable"
    copy = playable_copy(path, copies)
    if container.name in PLAYS_AS_IS:
        assert copy is None
        return
    assert copy is not None and copy.parent == copies
    info = probe(copy)
    assert info.format_name.startswith("mov,mp4")
    assert info.audio_codec == "aac"
    if container.video_codec:
        assert copy.suffix == ".mp4" and info.video_codec == "h264"
    else:
        assert copy.suffix == ".m4a" and not info.has_video
    spoken = len(answer1_samples) / 16_000
    assert info.duration_seconds == pytest.approx(spoken, abs=DURATION_TOLERANCE)
    # Asked again (a re-delivered post), the same file comes back without transcoding.
    made = copy.stat().st_mtime_ns
    assert playable_copy(path, copies) == copy
    assert copy.stat().st_mtime_ns == made
