"""Who may do what. Recruiters invite and decide; every teammate may review."""

from __future__ import annotations

from collections.abc import Iterable

RECRUITER_ONLY = frozenset({"invite", "advance", "reject"})


def may(command: str, user: str, recruiters: Iterable[str]) -> bool:
    return command not in RECRUITER_ONLY or user in set(recruiters)
