"""The load bench's own arithmetic: the busiest window's rate, what kind an update is, which
repeated chat messages a kill -9 explains, the transcription speed once the candidates are
done, and where a process's CPU time went."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

from bot.bench.load_fleet import LOOP, WHISPER, Member, read_cpu
from bot.bench.load_report import (
    PEAK_WINDOW_SECONDS,
    QUIET_MIN_ANSWERS,
    Check,
    Figures,
    extra_copies,
    peak_rate,
    update_kind,
)


def test_the_peak_rate_is_the_busiest_window_not_the_average() -> None:
    quiet = [float(t) for t in range(0, 100, 10)]  # one every 10 s
    burst = [200.0 + i * 0.1 for i in range(50)]  # fifty in five seconds
    assert peak_rate(quiet + burst) == 50 / PEAK_WINDOW_SECONDS
    assert peak_rate([]) == 0


def test_updates_are_told_apart_by_what_the_candidate_sent() -> None:
    assert update_kind({"update_id": 1, "callback_query": {"id": "q"}}) == "button"
    assert update_kind({"update_id": 2, "message": {"voice": {"file_id": "f"}}}) == "recording"
    assert update_kind({"update_id": 3, "message": {"video_note": {"file_id": "f"}}}) == "recording"
    assert update_kind({"update_id": 4, "message": {"text": "/start abc"}}) == "text"


def test_a_repeat_counts_as_a_crash_resend_only_for_one_row_with_a_kill_between() -> None:
    assert extra_copies([10.0], queued=1, kills=[10.5]) == (0, 0)
    # Sent, the process killed 0.3 s later, the same row sent again by the one that took over.
    assert extra_copies([10.0, 14.0], queued=1, kills=[10.3]) == (1, 0)
    # The same row twice with no kill between the copies: a delivery bug.
    assert extra_copies([10.0, 14.0], queued=1, kills=[]) == (0, 1)
    assert extra_copies([10.0, 14.0], queued=1, kills=[9.0, 15.0]) == (0, 1)
    # Queued twice by a flow: a bug whatever was killed meanwhile.
    assert extra_copies([10.0, 14.0], queued=2, kills=[10.3]) == (0, 1)
    # Three copies of one row, one kill: only the copy after the kill is explained by it.
    assert extra_copies([30.0, 10.0, 11.0], queued=1, kills=[10.2]) == (1, 1)
    # Written by a process killed moments before the emulator got round to stamping it.
    assert extra_copies([10.0, 25.0], queued=1, kills=[9.8]) == (1, 0)
    # A kill seconds before the first copy does not explain the second.
    assert extra_copies([10.0, 25.0], queued=1, kills=[8.0]) == (0, 1)


def test_the_quiet_throughput_counts_only_answers_transcribed_after_the_last_update() -> None:
    figures = Figures([], {}, 0.0, [], [], 0.0, 0.0, Check())
    figures.last_update_at = 100.0
    # Busy time: transcripts before the last update are not counted.
    figures.transcribed = [(50.0, 30.0), (90.0, 30.0)]
    # Quiet time: one every 4 s, 20 s of audio each. The first one after the quiet began was
    # mostly done before it: it starts the window, its audio is not counted.
    figures.transcribed += [(101.0 + 4 * i, 20.0) for i in range(QUIET_MIN_ANSWERS + 1)]
    speed, answers, window = figures.quiet_throughput or (0.0, 0, 0.0)
    assert (answers, window) == (QUIET_MIN_ANSWERS, 4.0 * QUIET_MIN_ANSWERS)
    assert speed == 5.0
    figures.transcribed = figures.transcribed[: QUIET_MIN_ANSWERS + 1]  # too few after 100 s
    assert figures.quiet_throughput is None


_BUSY_CHILD = """
import sys, time
from bot.transcription.jobs import transcription_pool

def spin(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass

pool = transcription_pool(1)  # kept: its thread (and its CPU time) lives as long as the pool
pool.submit(spin, 0.6).result()
print("done", flush=True)
sys.stdin.read()
"""


async def test_cpu_time_is_told_apart_by_the_thread_that_spent_it(tmp_path: Path) -> None:
    """A real process: its whisper-named thread's CPU shows as "whisper", not as the loop."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _BUSY_CHILD, stdin=PIPE, stdout=PIPE
    )
    try:
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), 60) == b"done\n"
        member = Member("bot-1", ("run",), 0, tmp_path / "log", process=child)
        member.sample()
        parts = member.cpu_seconds()
        # The spin, and nothing of the imports the main thread did; together, all of it.
        assert 0.55 <= parts[WHISPER] < 0.9
        assert parts[LOOP] > 0
        (_, _, _, whole), *_ = read_cpu(f"/proc/{child.pid}/stat")
        assert abs(sum(parts.values()) - whole) < 0.05
    finally:
        child.kill()
        await child.wait()
    member.sample()  # gone: the figures stay as last read
    assert member.cpu_seconds() == parts
