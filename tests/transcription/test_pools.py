"""The threads media work runs in: a candidate's recording apart from Slack's copies."""

from __future__ import annotations

import threading

from bot.transcription.pool import run_intake, run_media


def _thread_name() -> str:
    return threading.current_thread().name


async def test_a_recording_is_measured_in_threads_no_conversion_occupies() -> None:
    intake = await run_intake(_thread_name)
    conversion = await run_media(_thread_name)
    assert intake.startswith("intake") and conversion.startswith("media")
