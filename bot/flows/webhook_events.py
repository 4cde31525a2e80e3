"""Signed webhooks (issue 12): the events recruiters' endpoints get, and their delivery log.

Every domain event passes through ``bot.flows.audit.record``, inside its action's
transaction; ``on_event`` turns those an endpoint subscribes to into one outbox row per
endpoint (``outgoing.Webhook``, ordered per endpoint), so an event is sent only if its action
committed, and once it has, it is sent even across a crash or restart. The body is fixed
then: a retry sends the same bytes, signed afresh (bot.integrations.webhooks).

What leaves hirebot: ids (the interview id is the pseudonym a receiver joins on), the
opening's slug, stages, vote choices, counts and times. Personal data goes out in one event
only, ``interview.invited``: the candidate's name, email and language, which is what a
receiver needs to find or create the person on its side. Transcripts, notes and reasons
never go out. Erasing a candidate drops their events still undelivered (the rows carry
``about``) and sends ``candidate.erased``, so receivers can delete what they hold.

Body (version 1, the JSON Schemas in docs/webhooks/v1 are the contract)::

    {"version": 1, "id": "evt_…", "type": "review.voted",
     "occurred_at": "2026-11-26T12:00:00.000Z", "data": {"interview_id": 12, …}}
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, select

from bot import backoff
from bot.flows import outgoing
from bot.limits import WebhookLimit
from storage.models import (
    AuditEvent,
    Booking,
    Candidate,
    Interview,
    Opening,
    WebhookDelivery,
    WebhookEndpoint,
)

VERSION = 1

# The events an endpoint may subscribe to: the audit trail's action names.
EVENTS = (
    "interview.invited",
    "interview.started",
    "interview.completed",
    "answer.transcribed",
    "review.voted",
    "decision.made",
    "booking.booked",
    "booking.moved",
    "booking.cancelled",
    "candidate.erased",
)
# Events that name nobody; every other one is dropped, undelivered, when its candidate is
# erased.
_ABOUT_NOBODY = frozenset({"candidate.erased"})

PENDING, DELIVERED, FAILED, DROPPED = "pending", "delivered", "failed", "dropped"


@dataclass(frozen=True)
class Target:
    """Where and how to send one row: read just before each attempt."""

    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    """What becomes of an attempt: delivered, retried in ``retry_in`` seconds, or given up."""

    delivered: bool = False
    retry_in: float | None = None
    reason: str = ""


def on_event(session: Session, event: AuditEvent) -> None:
    """Queue ``event`` for every endpoint subscribed to it (in the event's transaction)."""
    if event.action not in EVENTS:
        return
    endpoints = [
        e
        for e in session.exec(select(WebhookEndpoint).order_by(col(WebhookEndpoint.id))).all()
        if event.action in e.events
    ]
    if event.action == "candidate.erased" and event.interview_id is not None:
        _drop_logged(session, event.interview_id)
    if not endpoints:
        return
    event_id = _new_id()
    body = payload(session, event, event_id)
    about = (
        () if event.action in _ABOUT_NOBODY or event.interview_id is None else (event.interview_id,)
    )
    for endpoint in endpoints:
        assert endpoint.id is not None
        _queue(session, endpoint.id, body, event.at, about=about, interview_id=event.interview_id)


TEST = "webhook.test"


def queue_test(session: Session, endpoint_id: int, *, by: str, now: datetime) -> str:
    """A ``webhook.test`` event for one endpoint (`/hire webhooks test`); its event id."""
    event_id = _new_id()
    body = {
        "version": VERSION,
        "id": event_id,
        "type": TEST,
        "occurred_at": _time(now),
        "data": {"endpoint_id": endpoint_id, "actor": by},
    }
    _queue(session, endpoint_id, body, now, about=(), interview_id=None)
    return event_id


def _new_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def _queue(
    session: Session,
    endpoint_id: int,
    body: dict[str, Any],
    at: datetime,
    *,
    about: tuple[int, ...],
    interview_id: int | None,
) -> None:
    """One outbox row (the body as the exact JSON to sign) and its delivery log entry."""
    message = outgoing.Webhook(
        endpoint_id=endpoint_id,
        event_id=body["id"],
        event_type=body["type"],
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        about=about,
    )
    outgoing.enqueue(session, message, at)
    session.add(
        WebhookDelivery(
            endpoint_id=endpoint_id,
            interview_id=interview_id,
            event_id=body["id"],
            event_type=body["type"],
            created_at=at,
        )
    )


def payload(session: Session, event: AuditEvent, event_id: str) -> dict[str, Any]:
    """The versioned body of ``event`` (see the module's docstring and docs/webhooks/v1)."""
    return {
        "version": VERSION,
        "id": event_id,
        "type": event.action,
        "occurred_at": _time(event.at),
        "data": _data(session, event),
    }


def _data(session: Session, event: AuditEvent) -> dict[str, Any]:
    opening = session.get(Opening, event.opening_id) if event.opening_id is not None else None
    data: dict[str, Any] = {
        "interview_id": event.interview_id,
        "opening": opening.slug if opening is not None else None,
        "actor": event.actor,
    }
    detail = event.detail
    interview = session.get(Interview, event.interview_id) if event.interview_id else None
    match event.action:
        case "interview.invited" if interview is not None:
            candidate = session.get_one(Candidate, interview.candidate_id)
            data["candidate"] = {
                "name": candidate.name,
                "email": candidate.email,
                "language": candidate.language,
            }
            data["deadline_at"] = _time(interview.deadline_at)
        case "interview.completed":
            data["answers"] = detail.get("answers")
            data["questions"] = detail.get("questions")
        case "answer.transcribed":
            data["answer_id"] = detail.get("answer")
            data["question"] = detail.get("question")
            data["language"] = detail.get("language")
        case "review.voted":
            data["choice"] = detail.get("choice")
            data["changed"] = bool(detail.get("changed"))
        case "decision.made":
            data["decision"] = detail.get("decision")
            data["stage"] = detail.get("stage")
        case "booking.booked" | "booking.moved" | "booking.cancelled":
            booking = session.get(Booking, detail.get("booking"))
            data["booking_id"] = detail.get("booking")
            data["sequence"] = detail.get("sequence")
            data["starts_at"] = _time(booking.starts_at) if booking is not None else None
            data["ends_at"] = _time(booking.ends_at) if booking is not None else None
    return data


def _time(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _drop_logged(session: Session, interview_id: int) -> None:
    """The log says which undelivered events the erasure dropped (their rows go with it)."""
    for row in session.exec(
        select(WebhookDelivery)
        .where(WebhookDelivery.interview_id == interview_id)
        .where(WebhookDelivery.status == PENDING)
    ).all():
        row.status = DROPPED


# ---------------------------------------------------------------------- delivery


def target(session: Session, endpoint_id: int) -> Target | None:
    """Where to send an event now; None once the endpoint was removed."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    return None if endpoint is None else Target(endpoint.url, endpoint.secret)


def attempted(
    session: Session,
    *,
    endpoint_id: int,
    event_id: str,
    status_code: int | None,
    error: str | None,
    retry_after: float | None,
    now: datetime,
) -> Outcome:
    """Log one attempt (the status code or why there was none, never the body) and decide:
    a 2xx is delivered; anything else is retried with backoff, or exactly after a 429's
    Retry-After, until ``WebhookLimit.MAX_ATTEMPTS``, then given up."""
    row = session.exec(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .where(WebhookDelivery.event_id == event_id)
    ).first()
    if row is None:  # the endpoint was removed while this attempt was on its way
        return Outcome(reason="the webhook was removed")
    row.attempts += 1
    row.last_attempt_at = now
    row.last_status_code = status_code
    row.last_error = (error or "")[:200] or None
    if status_code is not None and 200 <= status_code < 300:
        row.status = DELIVERED
        return Outcome(delivered=True)
    answer = f"HTTP {status_code}" if status_code is not None else (error or "no answer")
    if row.attempts >= WebhookLimit.MAX_ATTEMPTS:
        row.status = FAILED
        return Outcome(reason=f"{answer}; given up after {row.attempts} attempts")
    if status_code == 429 and retry_after is not None:
        delay = min(max(retry_after, 0.0), float(WebhookLimit.MAX_RETRY_AFTER_SECONDS))
    else:
        delay = backoff.doubling(
            row.attempts - 1,
            first=WebhookLimit.FIRST_BACKOFF_SECONDS,
            most=WebhookLimit.MAX_BACKOFF_SECONDS,
        ).total_seconds()
    return Outcome(retry_in=delay, reason=answer)


def prune_log(session: Session, now: datetime) -> int:
    """Delete log rows older than ``WebhookLimit.KEEP_LOG_DAYS`` that are settled."""
    older_than = now - timedelta(days=WebhookLimit.KEEP_LOG_DAYS)
    result = session.execute(
        delete(WebhookDelivery)
        .where(col(WebhookDelivery.created_at) < older_than)
        .where(col(WebhookDelivery.status) != PENDING)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
