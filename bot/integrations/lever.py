"""The Lever adapter (v1 Data API): the AtsClient seam spoken in Lever's documented HTTP.

Basic auth with the API key as the username; every write ``perform_as`` the configured Lever
user (hirebot's actions show as theirs in Lever's history). Responses are ``{"data": ...}``;
lists are paged by an opaque ``next`` token that is followed, never built. Errors become the
seam's three: 429 → RateLimited, 5xx / timeouts / refused connections → Unavailable, any other
4xx → Refused, named by Lever's error ``code`` only (its message may quote what we sent).

Inbound: Lever signs a webhook inside its body, ``signature = HMAC-SHA256(signature token,
token + triggeredAt)``; a bad signature, or one triggered too long ago (a replay), is Forged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import aiohttp

from bot.integrations.ats import (
    Forged,
    Person,
    RateLimited,
    Refused,
    StageChange,
    Unavailable,
)
from bot.limits import AtsLimit

API_URL = "https://api.lever.co/v1"
STAGE_CHANGE = "candidateStageChange"
# Lever documents no Retry-After: the bucket refills 10 tokens a second, so one second.
DEFAULT_RETRY_AFTER = 1.0
PAGE_SIZE = 100


class LeverClient:
    kind: ClassVar[str] = "lever"

    def __init__(
        self,
        *,
        api_key: str,
        perform_as: str | None = None,
        posting: str | None = None,
        api_url: str = API_URL,
        webhook_token: str | None = None,
    ) -> None:
        self._headers = {"Authorization": aiohttp.encode_basic_auth(api_key, "")}
        self._perform_as = perform_as
        self._posting = posting
        self._url = api_url.rstrip("/")
        self._webhook_token = webhook_token
        self._http: aiohttp.ClientSession | None = None

    # Outbound: the seam's calls.

    async def find_or_create(self, person: Person) -> str:
        """The candidate's opportunity on our posting (by email, every page looked at),
        created there if none: Lever files it under their existing contact by email."""
        email = person.email.strip().lower()
        query = {"email": email, "expand": "applications"}
        async for opportunity in self._pages("/opportunities", query):
            if opportunity.get("archived") is None and self._on_posting(opportunity):
                return str(opportunity["id"])
        body: dict[str, Any] = {"name": person.name, "emails": [email], "origin": "sourced"}
        if self._posting:
            body["postings"] = [self._posting]
        created = await self._call("POST", "/opportunities", body=body, perform_as=True)
        return str(created["id"])

    async def add_note(self, ref: str, text: str) -> None:
        await self._call(
            "POST", f"/opportunities/{_segment(ref)}/notes", body={"value": text}, perform_as=True
        )

    async def has_note(self, ref: str, marker: str) -> bool:
        async for note in self._pages(f"/opportunities/{_segment(ref)}/notes", {}):
            values = [str(note.get("text") or "")]
            values += [str(f.get("value") or "") for f in note.get("fields") or []]
            if any(marker in value for value in values):
                return True
        return False

    async def add_tags(self, ref: str, tags: Sequence[str]) -> None:
        await self._call(
            "POST",
            f"/opportunities/{_segment(ref)}/addTags",
            body={"tags": list(tags)},
            perform_as=True,
        )

    async def move_to_stage(self, ref: str, stage: str) -> None:
        await self._call(
            "PUT", f"/opportunities/{_segment(ref)}/stage", body={"stage": stage}, perform_as=True
        )

    async def reject(self, ref: str, reason: str | None) -> None:
        if reason is None:
            # Lever archives only with a reason (``reason: null`` unarchives).
            raise Refused("no archive reason is set (ats.reject_reason in the opening)")
        await self._call(
            "PUT",
            f"/opportunities/{_segment(ref)}/archived",
            body={"reason": reason},
            perform_as=True,
        )

    async def unknown_ids(self, stages: Sequence[str], reason: str | None) -> list[str]:
        known_stages = {str(s.get("id")) async for s in self._pages("/stages", {})}
        unknown = [f"stage {s}" for s in stages if s not in known_stages]
        if reason is not None:
            reasons = {str(r.get("id")) async for r in self._pages("/archive_reasons", {})}
            unknown += [] if reason in reasons else [f"archive reason {reason}"]
        if self._posting is not None:
            try:
                await self._call("GET", f"/postings/{_segment(self._posting)}")
            except Refused:
                unknown.append(f"posting {self._posting}")
        return unknown

    # Inbound.

    def stage_change(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> StageChange | None:
        if not self._webhook_token:
            raise Forged("no Lever webhook signature token is set")
        try:
            event = json.loads(body)
            token, triggered = str(event["token"]), int(event["triggeredAt"])
            signature = str(event["signature"])
        except (ValueError, KeyError, TypeError):
            raise Forged("not a Lever webhook") from None
        expected = hmac.new(
            self._webhook_token.encode(), f"{token}{triggered}".encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise Forged("the signature does not match")
        at = datetime.fromtimestamp(triggered / 1000, tz=UTC)
        if now - at > timedelta(seconds=AtsLimit.WEBHOOK_MAX_AGE_SECONDS):
            raise Forged("triggered too long ago (a replay)")
        if at - now > timedelta(seconds=AtsLimit.WEBHOOK_CLOCK_SKEW_SECONDS):
            raise Forged("triggered in the future")
        if event.get("event") != STAGE_CHANGE:
            return None
        data = event.get("data") or {}
        ref, stage = data.get("opportunityId"), data.get("toStageId")
        if not isinstance(ref, str) or not isinstance(stage, str):
            return None
        # Handled once per token, as Lever advises: only the token and triggeredAt are signed,
        # so a captured delivery with other data (another opportunity, another id) but the
        # same token is a replay, and changes nothing.
        return StageChange(delivery_id=token, ref=ref, stage=stage, person=None)

    async def filled_in(self, change: StageChange) -> StageChange:
        opportunity = await self._call(
            "GET", f"/opportunities/{_segment(change.ref)}", query={"expand": "applications"}
        )
        emails = [str(e) for e in opportunity.get("emails") or [] if e]
        person = (
            Person(email=emails[0], name=str(opportunity.get("name") or "")) if emails else None
        )
        postings = [
            str(a["posting"])
            for a in opportunity.get("applications") or []
            if isinstance(a, dict) and a.get("posting")
        ]
        return replace(change, person=person, job=postings[0] if postings else None)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    # HTTP.

    def _on_posting(self, opportunity: Mapping[str, Any]) -> bool:
        if self._posting is None:
            return True
        return any(
            isinstance(a, dict) and a.get("posting") == self._posting
            for a in opportunity.get("applications") or []
        )

    async def _pages(self, path: str, query: Mapping[str, str]) -> AsyncIterator[dict[str, Any]]:
        """Every item of a list, page after page, following Lever's ``next`` token."""
        offset: str | None = None
        for _ in range(AtsLimit.PAGES):
            page_query = {**query, "limit": str(PAGE_SIZE)}
            if offset is not None:
                page_query["offset"] = offset
            body = await self._request("GET", path, query=page_query)
            for item in body.get("data") or []:
                yield item
            offset = body.get("next")
            if not body.get("hasNext") or not offset:
                return

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        perform_as: bool = False,
    ) -> dict[str, Any]:
        params = dict(query or {})
        if perform_as and self._perform_as:
            params["perform_as"] = self._perform_as
        answer = await self._request(method, path, query=params, body=body)
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            async with self._client().request(
                method, self._url + path, params=query, json=body, headers=self._headers
            ) as response:
                if response.status == 429:
                    raise RateLimited(_retry_after(response.headers.get("Retry-After")))
                if response.status >= 500:
                    raise Unavailable(f"Lever answered {response.status}")
                payload = await response.json(content_type=None)
                if response.status >= 400:
                    code = payload.get("code") if isinstance(payload, dict) else None
                    raise Refused(f"Lever answered {response.status} {code or ''}".strip())
                return payload if isinstance(payload, dict) else {}
        except (TimeoutError, aiohttp.ClientError, ValueError) as err:
            raise Unavailable(f"Lever could not be reached ({type(err).__name__})") from None

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=AtsLimit.REQUEST_SECONDS),
                raise_for_status=False,
            )
        return self._http


def _segment(ref: str) -> str:
    """An id as one path segment: a ref read from a webhook never reaches another route."""
    return quote(ref, safe="")


def _retry_after(header: str | None) -> float:
    try:
        return max(float(header), 0.0) if header else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
