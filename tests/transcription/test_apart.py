"""`HIREBOT_WHISPER_APART=true`: the bot transcribes in processes of its own, one per answer
at once, replaced when one dies, gone the moment the bot is (even after kill -9)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.bench.load_fleet import children_of, read_cpu
from bot.sandbox.processes import start_bot_process
from bot.sandbox.world import (
    REVIEW_CHANNEL,
    SAMPLES,
    World,
    answer_question,
    eventually,
    free_port,
)
from bot.transcription.apart import PROCESS_NAME, ApartTranscriber, TranscriptionStopped
from bot.transcription.jobs import pool_size
from bot.transcription.pool import pool_workers
from tests.helpers.media import ANSWER1_OGG, ANSWER2_MP4
from tests.helpers.processes import alive
from tests.helpers.stories import invite, start_answering


def _transcription_children(bot: int) -> set[int]:
    """The bot's child processes that name themselves for transcription."""
    return {
        child
        for child in children_of(bot)
        for _, name, _, _ in read_cpu(f"/proc/{child}/stat")
        if name == PROCESS_NAME
    }


@pytest.mark.slow
def test_a_dead_process_fails_the_answer_in_hand_and_new_ones_take_the_next() -> None:
    transcriber = ApartTranscriber("faster-whisper", "tiny.en", workers=2)
    try:
        assert "payment" in transcriber.transcribe(ANSWER1_OGG, "en").text.lower()
        victims = pool_workers(transcriber._pool)
        assert len(victims) == 2
        for victim in victims:
            os.kill(victim, signal.SIGKILL)  # a decoder crash, the OOM killer
        with pytest.raises(TranscriptionStopped):
            transcriber.transcribe(ANSWER2_MP4, "en")
        assert transcriber.restarts == 1
        assert "mentoring" in transcriber.transcribe(ANSWER2_MP4, "en").text.lower()
        assert not set(pool_workers(transcriber._pool)) & set(victims)
    finally:
        transcriber.close()


@pytest.mark.slow  # boots the bot as its own process
async def test_the_bot_transcribes_apart_and_its_processes_die_with_it(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path / "data", autostart=False) as w:
        port = free_port()
        bot = await start_bot_process(
            w, tmp_path / "bot.log", {"HIREBOT_WHISPER_APART": "true"}, http_port=port
        )
        try:
            helpers = await eventually(
                lambda: _transcription_children(bot.pid), what="the transcription processes"
            )
            jane = w.telegram.candidate(700_011, "Jane", "Doe")
            await start_answering(w, jane, await invite(w))
            await answer_question(
                jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg", duration=7)
            )
            parent = w.slack.messages(REVIEW_CHANNEL)[0]
            await eventually(
                lambda: (
                    "payment"
                    in " ".join(m.text.lower() for m in w.slack.thread(REVIEW_CHANNEL, parent.ts))
                ),
                seconds=60,
                what="the transcript",
            )
            async with ClientSession() as http, http.get(f"http://127.0.0.1:{port}/health") as got:
                health = await got.json()
            assert health["transcription_processes"] == {"processes": pool_size(), "restarts": 0}
        finally:
            bot.send_signal(signal.SIGKILL)
            await bot.wait()
        # The kernel takes them with the bot: no Whisper left running for nobody.
        await eventually(
            lambda: not any(alive(pid) for pid in helpers), seconds=5, what="them gone"
        )
