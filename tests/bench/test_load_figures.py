"""The load bench's own arithmetic: the busiest window's rate and what kind an update is."""

from __future__ import annotations

from bot.bench.load_report import PEAK_WINDOW_SECONDS, peak_rate, update_kind


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
