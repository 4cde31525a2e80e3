"""How long to wait before trying again: the same doubling for every retried thing."""

from __future__ import annotations

from datetime import timedelta


def doubling(failures: int, *, first: float, most: float | None = None) -> timedelta:
    """``first`` after the first failure, twice that after the second, … at most ``most``.

    ``failures``: the failures before this one (0 for the first). Each limit class names its
    own ``first`` and ``most`` (see bot.limits).
    """
    if most is not None and failures >= 64:
        # A message is retried for as long as an outage lasts: past a thousand failures a
        # float ``first`` times 2**failures would overflow instead of being capped.
        return timedelta(seconds=most)
    seconds = first * 2**failures
    return timedelta(seconds=seconds if most is None else min(seconds, most))
