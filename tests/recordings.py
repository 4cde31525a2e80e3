"""What reviewers get in Slack: the candidate's recording, in a form Slack plays inline."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.transcription.media import probe


def assert_uploaded_recording(uploaded: bytes, sample: Path) -> None:
    """``uploaded`` is ``sample`` itself, or a playable AAC copy of the same length."""
    if uploaded == sample.read_bytes():
        assert sample.suffix in (".mp4", ".m4a", ".mp3"), f"{sample.name} should be converted"
        return
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "uploaded"
        copy.write_bytes(uploaded)
        got, want = probe(copy), probe(sample)
    assert got.audio_codec == "aac", got
    assert abs(got.duration_seconds - want.duration_seconds) < 0.2, (got, want)
