"""`hirebot run` on SQLite transcribes in a process of its own: started by the bot, started
again when it dies, and gone the moment the bot is (even after kill -9)."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import pytest

from bot.sandbox.processes import start_bot_process
from bot.sandbox.world import REVIEW_CHANNEL, SAMPLES, World, answer_question, eventually
from bot.transcription.apart import PROCESS_NAME
from tests.helpers.stories import invite, start_answering

# Boots the bot as its own process, with Whisper in a child of its own.
pytestmark = pytest.mark.slow


def _transcription_child(bot: int) -> int | None:
    """The bot's child process that names itself "transcription" (bot.transcription.apart)."""
    for children in Path(f"/proc/{bot}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in children.read_text().split():
                with contextlib.suppress(OSError):
                    if Path(f"/proc/{child}/comm").read_text().strip() == PROCESS_NAME:
                        return int(child)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped by a parent that is gone too) is not alive either.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    return False


async def test_whisper_runs_apart_is_restarted_when_it_dies_and_dies_with_the_bot(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path / "data", autostart=False) as w:
        bot = await start_bot_process(w, tmp_path / "bot.log")
        try:
            await eventually(lambda: _transcription_child(bot.pid) is not None, what="the child")
            first = _transcription_child(bot.pid)
            assert first is not None
            jane = w.telegram.candidate(700_011, "Jane", "Doe")
            await start_answering(w, jane, await invite(w))
            await answer_question(
                jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg", duration=7)
            )
            parent = w.slack.messages(REVIEW_CHANNEL)[0]

            def thread() -> str:
                return " ".join(m.text.lower() for m in w.slack.thread(REVIEW_CHANNEL, parent.ts))

            await eventually(
                lambda: "payment" in thread(),
                seconds=60,
                what="the first transcript, from the child",
            )

            os.kill(first, signal.SIGKILL)  # a decoder crash, the OOM killer
            await eventually(
                lambda: _transcription_child(bot.pid) not in (None, first),
                seconds=30,
                what="a new transcription process",
            )
            await answer_question(
                jane, 2, 2, lambda: jane.send_video_note(SAMPLES / "answer2.mp4", duration=6)
            )
            await eventually(
                lambda: "mentoring" in thread(),
                seconds=60,
                what="the second transcript, from the new child",
            )
            second = _transcription_child(bot.pid)
            assert second is not None
        finally:
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
        # The kernel takes the child with the bot: no Whisper left holding answers.
        await eventually(lambda: not _alive(second), seconds=5, what="the child gone")
        assert "transcription process exited" in (tmp_path / "bot.log").read_text()
