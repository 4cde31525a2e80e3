"""The seam every ATS adapter implements (Lever, Greenhouse; Ashby later is one new module).

An adapter speaks one vendor's documented HTTP API and nothing else: no database, no Slack,
no business rules. It is handed the opening's ``ats`` settings (vendor ids, the stage
mapping) and the secrets from the environment, and it turns vendor errors into the three
exceptions below, which the outbox turns into retries (backoff, ``Retry-After`` honoured)
or a report in the candidate's review thread.

``ref`` is the adapter's own opaque handle on the candidate's record in the ATS (a Lever
opportunity id; a Greenhouse "candidate id:application id"): found or created once, stored
by the sync flow, and passed back on every later call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol


@dataclass(frozen=True)
class Person:
    """Who to find or create: the candidate as the ATS should see them."""

    email: str
    name: str


@dataclass(frozen=True)
class StageChange:
    """A verified inbound webhook: this ATS record moved to ``stage`` (the vendor's stage id).

    ``delivery_id`` identifies the delivery for "handled once" (a redelivery carries the same
    one); ``person`` is who to invite when the stage maps to an invitation.
    """

    delivery_id: str
    ref: str
    stage: str
    person: Person | None
    job: str | None = None


class AtsError(Exception):
    """Base of what an adapter raises; the message never holds personal data or secrets."""


class RateLimited(AtsError):
    """429: try again after ``retry_after`` seconds (the vendor's ``Retry-After``, or ours)."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(AtsError):
    """5xx, a timeout or a refused connection: worth retrying with backoff."""


class Refused(AtsError):
    """A 4xx other than 429 (bad key, missing permission, validation): retrying will not help,
    so the sync flow reports it in the thread at once."""


class Forged(AtsError):
    """An inbound webhook whose signature, token or age does not check out."""


class AtsClient(Protocol):
    kind: ClassVar[str]  # "lever", "greenhouse": the value of ``ats.kind`` in an opening

    async def find_or_create(self, person: Person) -> str:
        """The ``ref`` of this person's record for the opening's job, created if none."""
        ...

    async def add_note(self, ref: str, text: str) -> None: ...

    async def has_note(self, ref: str, marker: str) -> bool:
        """Whether a note containing ``marker`` is on the record already: a retry after an
        answer that was lost (a timeout, a crash) looks before posting again."""
        ...

    async def add_tags(self, ref: str, tags: Sequence[str]) -> None: ...

    async def move_to_stage(self, ref: str, stage: str) -> None:
        """``stage`` is the vendor's stage id, from the opening's stage mapping."""
        ...

    async def reject(self, ref: str, reason: str | None) -> None:
        """Reject / archive; ``reason`` is the vendor's reason id from the mapping, if any."""
        ...

    async def unknown_ids(self, stages: Sequence[str], reason: str | None) -> list[str]:
        """Which of the opening's vendor ids (its job, these stages, the rejection reason) the
        ATS does not know: ``hirebot doctor`` finds a typo before a decision trips on it."""
        ...

    def stage_change(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> StageChange | None:
        """Verify an inbound webhook (raises Forged) and read it: a StageChange, or None for
        an event we do not act on. Verifies against the raw body, never a re-serialised one."""
        ...

    async def filled_in(self, change: StageChange) -> StageChange:
        """``change`` with its ``person`` and ``job`` read from the ATS where the webhook did
        not carry them (Lever's carries ids only); as it is where it did."""
        ...

    async def close(self) -> None: ...
