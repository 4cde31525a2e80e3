"""One doubling backoff for every retried thing (outbox, transcription, Telegram updates)."""

from __future__ import annotations

from datetime import timedelta

from bot import backoff


def test_it_doubles_from_the_first_wait_up_to_the_cap() -> None:
    waits = [backoff.doubling(n, first=5, most=300) for n in range(8)]
    assert [w.total_seconds() for w in waits] == [5, 10, 20, 40, 80, 160, 300, 300]


def test_without_a_cap_it_keeps_doubling() -> None:
    assert backoff.doubling(3, first=1) == timedelta(seconds=8)


def test_a_row_retried_for_days_waits_the_cap_rather_than_overflowing() -> None:
    assert backoff.doubling(5000, first=1.0, most=300) == timedelta(seconds=300)
