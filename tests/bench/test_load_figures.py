"""The load bench's own arithmetic: the busiest window's rate, what kind an update is, and
which repeated chat messages a kill -9 explains."""

from __future__ import annotations

from bot.bench.load_report import (
    PEAK_WINDOW_SECONDS,
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
