"""Lever emulator: the documented v1 Data API and its webhook sender, on 127.0.0.1.

Why: the Lever adapter is tested with its real HTTP client against Lever's wire format, not a
mock. What it does as Lever documents it (hire.lever.co/developer/documentation, summarised
in shared/design/ats-and-scheduling-apis.md §0 and §3):

- Basic auth, the API key as username (or Bearer): none or unknown → 401, a read-only key
  writing → 403; error bodies ``{"code", "message"}``.
- Every answer ``{"data": ...}``; lists add ``hasNext`` and an opaque ``next`` offset token
  (``limit`` 1..100, default 100).
- A token bucket (10 a second, bursts of 20; both settable, so a test can force a storm of
  429s), and an outage switch answering 503.
- Opportunities (found by email, created with ``perform_as`` required, deduplicated onto the
  contact by email), notes, addTags/removeTags, stage, archived, stages, archive_reasons.
- The webhook sender: ``{id, event, triggeredAt, token, signature, data}`` with the signature
  in the body (HMAC-SHA256 of token + triggeredAt under the webhook's signature token); a
  non-2xx answer (3xx included) is retried up to 5 times with growing gaps.

Not documented by Lever, decided here: the bodies of addTags/stage/archived (the opportunity
in ``{data}``), no rate-limit headers (a bare 429), retry gaps (``retry_gaps``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.sandbox.serving import serve

JSON = dict[str, Any]

# Fixed ids, so an opening file in a test can name them.
POSTING = "posting-backend-0001"
OTHER_POSTING = "posting-frontend-0002"
STAGES = (
    ("lead-new", "New lead"),
    ("stage-screen", "Phone screen"),
    ("stage-async", "Async interview"),
    ("stage-onsite", "On-site interview"),
    ("stage-offer", "Offer"),
)
ARCHIVE_REASONS = (
    ("reason-underqualified", "Underqualified", "non-hired"),
    ("reason-withdrew", "Candidate withdrew", "non-hired"),
    ("reason-hired", "Hired", "hired"),
)
USER = "user-rita-0001"
API_KEY = "lever-sandbox-key"
READ_ONLY_KEY = "lever-sandbox-read-only"
SIGNATURE_TOKEN = "lever-sandbox-signature-token"


@dataclass
class Note:
    id: str
    value: str
    user: str | None
    created_at: int

    def public(self) -> JSON:
        return {
            "id": self.id,
            "text": self.value,
            "fields": [{"type": "note", "text": "", "value": self.value}],
            "user": self.user,
            "secret": False,
            "createdAt": self.created_at,
        }


@dataclass
class Opportunity:
    id: str
    name: str
    emails: list[str]
    contact: str
    stage: str
    postings: list[str]
    created_at: int
    tags: list[str] = field(default_factory=list)
    archived: JSON | None = None
    stage_changes: list[JSON] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def public(self, expand: set[str]) -> JSON:
        applications: list[Any] = [f"app-{self.id}-{i}" for i, _ in enumerate(self.postings)]
        if "applications" in expand:
            applications = [
                {"id": app, "opportunityId": self.id, "posting": posting, "type": "posting"}
                for app, posting in zip(applications, self.postings, strict=True)
            ]
        return {
            "id": self.id,
            "name": self.name,
            "emails": list(self.emails),
            "contact": self.contact,
            "stage": self.stage,
            "stageChanges": list(self.stage_changes),
            "tags": list(self.tags),
            "archived": dict(self.archived) if self.archived else None,
            "applications": applications,
            "createdAt": self.created_at,
            "urls": {"show": f"https://hire.lever.co/candidates/{self.id}"},
        }


@dataclass
class WebhookDelivery:
    """One POST the sender made: the body as sent and what the receiver answered."""

    body: bytes
    status: int | None  # None: the receiver could not be reached


@dataclass
class ApiCall:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


class LeverSandbox:
    def __init__(self) -> None:
        self.keys: dict[str, bool] = {API_KEY: True, READ_ONLY_KEY: False}  # key → may write
        self.users = {USER}
        self.stages = dict(STAGES)
        self.archive_reasons = {r: (text, kind) for r, text, kind in ARCHIVE_REASONS}
        self.postings = {POSTING: "Backend Engineer", OTHER_POSTING: "Frontend Engineer"}
        self.opportunities: dict[str, Opportunity] = {}
        self.calls: list[ApiCall] = []
        # The token bucket: ``rate`` tokens a second, up to ``burst``.
        self.rate = 10.0
        self.burst = 20.0
        self._tokens = self.burst
        self._refilled = time.monotonic()
        self.outage = False  # True: every API call answers 503
        # Writes that are made and then answered 503, as when Lever's answer is lost on the
        # way back (a timeout): the client cannot tell it from a write that never happened.
        self.lose_answers = 0
        # The webhook: where it posts, the signature token, the gaps between retries.
        self.webhook_url: str | None = None
        self.signature_token = SIGNATURE_TOKEN
        self.retry_gaps: tuple[float, ...] = (0.2, 0.4, 0.8, 1.6, 3.2)
        self.deliveries: list[WebhookDelivery] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self.api_url = ""

    async def __aenter__(self) -> LeverSandbox:
        app = web.Application()
        app.router.add_route("*", "/v1/{path:.*}", self._handle)
        self._runner, base_url = await serve(app)
        self.api_url = f"{base_url}/v1"
        self._client = ClientSession(timeout=ClientTimeout(total=10))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def settings(self) -> dict[str, Any]:
        """hirebot's settings (by field name) that point it at this emulator."""
        from pydantic import SecretStr

        return {
            "lever_api_key": SecretStr(API_KEY),
            "lever_api_url": self.api_url,
            "lever_perform_as": USER,
            "lever_webhook_token": SecretStr(self.signature_token),
        }

    # What a person does in Lever's own interface.

    def add_opportunity(
        self, name: str, email: str, posting: str = POSTING, stage: str = "lead-new"
    ) -> Opportunity:
        contact = self._contact_of(email) or f"contact-{secrets.token_hex(6)}"
        opportunity = Opportunity(
            id=f"opp-{secrets.token_hex(6)}",
            name=name,
            emails=[email],
            contact=contact,
            stage=stage,
            postings=[posting],
            created_at=_ms(),
        )
        self.opportunities[opportunity.id] = opportunity
        return opportunity

    async def move(self, opportunity_id: str, stage: str) -> None:
        """A recruiter drags the candidate to ``stage``: the webhook fires (and is retried)."""
        opportunity = self.opportunities[opportunity_id]
        before = opportunity.stage
        self._set_stage(opportunity, stage, USER)
        data = {
            "opportunityId": opportunity.id,
            "candidateId": opportunity.id,
            "contactId": opportunity.contact,
            "toStageId": stage,
            "fromStageId": before,
        }
        await self.fire("candidateStageChange", data)

    async def fire(self, event: str, data: JSON) -> bytes:
        """Send one event to the webhook, retried in the background; returns the body."""
        body = self.signed(event, data)
        task = asyncio.create_task(self._deliver(body))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        return body

    def signed(self, event: str, data: JSON, triggered_at: int | None = None) -> bytes:
        triggered = _ms() if triggered_at is None else triggered_at
        token = secrets.token_hex(24)  # 48 characters, as Lever's
        signature = hmac.new(
            self.signature_token.encode(), f"{token}{triggered}".encode(), hashlib.sha256
        ).hexdigest()
        envelope = {
            "id": f"event-{secrets.token_hex(8)}",
            "event": event,
            "triggeredAt": triggered,
            "token": token,
            "signature": signature,
            "data": data,
        }
        return json.dumps(envelope).encode()

    async def post_webhook(self, body: bytes) -> int | None:
        """One POST of ``body`` to the webhook (a replay, in a test); the status answered."""
        assert self.webhook_url is not None and self._client is not None
        try:
            async with self._client.post(
                self.webhook_url,
                data=body,
                headers={"Content-Type": "application/json", "User-Agent": "Lever-Webhooks"},
                allow_redirects=False,
            ) as response:
                status: int | None = response.status
        except (ClientError, TimeoutError):
            status = None
        self.deliveries.append(WebhookDelivery(body, status))
        return status

    async def wait_sent(self, seconds: float = 30.0) -> None:
        """Until every webhook delivery (retries included) is finished."""
        deadline = time.monotonic() + seconds
        while self._sending:
            assert time.monotonic() < deadline, "the webhook is still being delivered"
            await asyncio.sleep(0.05)

    async def _deliver(self, body: bytes) -> None:
        for gap in (0.0, *self.retry_gaps):
            await asyncio.sleep(gap)
            status = await self.post_webhook(body)
            if status is not None and 200 <= status < 300:
                return

    # What tests read.

    def opportunity(self, opportunity_id: str) -> Opportunity:
        return self.opportunities[opportunity_id]

    def with_email(self, email: str) -> list[Opportunity]:
        return [o for o in self.opportunities.values() if email.lower() in o.emails]

    def notes(self, opportunity_id: str) -> list[str]:
        return [n.value for n in self.opportunities[opportunity_id].notes]

    def refused(self, status: int) -> list[ApiCall]:
        return [c for c in self.calls if c.status == status]

    # The API.

    async def _handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"].strip("/")
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return self._logged(
                    request, path, None, _error(400, "BadRequestError", "invalid JSON")
                )
        response = self._answer(request, path, body)
        if self.lose_answers > 0 and request.method != "GET" and response.status < 300:
            self.lose_answers -= 1
            response = _error(503, "ServiceUnavailable", "Service temporarily unavailable")
        return self._logged(request, path, body, response)

    def _logged(
        self, request: web.Request, path: str, body: Any, response: web.Response
    ) -> web.Response:
        self.calls.append(ApiCall(request.method, path, dict(request.query), body, response.status))
        return response

    def _answer(self, request: web.Request, path: str, body: Any) -> web.Response:
        may_write = self._key_of(request)
        if may_write is None:
            return _error(401, "UnauthorizedError", "Invalid API key")
        if not self._take_token():
            return web.Response(status=429)
        if self.outage:
            return _error(503, "ServiceUnavailable", "Service temporarily unavailable")
        if request.method != "GET" and not may_write:
            return _error(403, "ForbiddenError", "This API key may not write")
        parts = path.strip("/").split("/")
        query = request.query
        match request.method, parts:
            case "GET", ["stages"]:
                return self._list(query, [{"id": i, "text": t} for i, t in self.stages.items()])
            case "GET", ["archive_reasons"]:
                reasons = [
                    {"id": i, "text": t, "type": k} for i, (t, k) in self.archive_reasons.items()
                ]
                return self._list(query, reasons)
            case "GET", ["opportunities"]:
                return self._find(query)
            case "GET", ["postings", posting] if posting in self.postings:
                text = self.postings[posting]
                return web.json_response(
                    {"data": {"id": posting, "text": text, "state": "published"}}
                )
            case "POST", ["opportunities"]:
                return self._create(query, body)
        if len(parts) < 2 or parts[0] != "opportunities":
            return _error(404, "ResourceNotFound", "No such route")
        opportunity = self.opportunities.get(parts[1])
        if opportunity is None:
            return _error(404, "ResourceNotFound", "Opportunity not found")
        expand = set(query.getall("expand", []))
        user = query.get("perform_as")
        if user is not None and user not in self.users:
            return _error(400, "BadRequestError", "perform_as is not a user")
        match request.method, parts[2:]:
            case "GET", []:
                return web.json_response({"data": opportunity.public(expand)})
            case "GET", ["notes"]:
                return self._list(query, [n.public() for n in opportunity.notes])
            case "POST", ["notes"]:
                value = body.get("value") if isinstance(body, dict) else None
                if not isinstance(value, str) or not value:
                    return _error(400, "BadRequestError", "value is required")
                note = Note(f"note-{secrets.token_hex(6)}", value, user, _ms())
                opportunity.notes.append(note)
                return web.json_response({"data": {"noteId": note.id}}, status=201)
            case "POST", ["addTags" | "removeTags" as action]:
                tags = body.get("tags") if isinstance(body, dict) else None
                if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                    return _error(400, "BadRequestError", "tags must be a list of strings")
                if action == "addTags":
                    opportunity.tags += [t for t in tags if t not in opportunity.tags]
                else:
                    opportunity.tags = [t for t in opportunity.tags if t not in tags]
                return web.json_response({"data": opportunity.public(expand)})
            case "PUT", ["stage"]:
                stage = body.get("stage") if isinstance(body, dict) else None
                if stage not in self.stages:
                    return _error(400, "BadRequestError", "stage is not a stage id")
                self._set_stage(opportunity, str(stage), user)
                return web.json_response({"data": opportunity.public(expand)})
            case "PUT", ["archived"]:
                reason = body.get("reason", "missing") if isinstance(body, dict) else "missing"
                if reason is None:
                    opportunity.archived = None  # unarchived
                elif reason not in self.archive_reasons:
                    return _error(400, "BadRequestError", "reason is not an archive reason id")
                else:
                    opportunity.archived = {"reason": reason, "archivedAt": _ms()}
                return web.json_response({"data": opportunity.public(expand)})
        return _error(404, "ResourceNotFound", "No such route")

    def _find(self, query: Any) -> web.Response:
        found = list(self.opportunities.values())
        if "email" in query:
            email = query["email"].strip().lower()
            found = [o for o in found if email in (e.lower() for e in o.emails)]
        if "tag" in query:
            found = [o for o in found if query["tag"] in o.tags]
        if "stage_id" in query:
            found = [o for o in found if o.stage == query["stage_id"]]
        if "posting_id" in query:
            found = [o for o in found if query["posting_id"] in o.postings]
        if "archived" in query:
            archived = query["archived"] == "true"
            found = [o for o in found if (o.archived is not None) == archived]
        expand = set(query.getall("expand", []))
        return self._list(query, [o.public(expand) for o in found])

    def _create(self, query: Any, body: Any) -> web.Response:
        user = query.get("perform_as")
        if user is None:
            return _error(400, "BadRequestError", "perform_as is required")
        if user not in self.users:
            return _error(400, "BadRequestError", "perform_as is not a user")
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return _error(400, "BadRequestError", "name is required")
        postings = body.get("postings") or []
        if len(postings) > 1 or any(p not in self.postings for p in postings):
            return _error(400, "BadRequestError", "postings takes one posting id")
        emails = [str(e).strip().lower() for e in body.get("emails") or []]
        contact = next((c for e in emails if (c := self._contact_of(e))), None)
        stage = body.get("stage") or "lead-new"
        if stage not in self.stages:
            return _error(400, "BadRequestError", "stage is not a stage id")
        opportunity = Opportunity(
            id=f"opp-{secrets.token_hex(6)}",
            name=body["name"],
            emails=emails,
            contact=contact or f"contact-{secrets.token_hex(6)}",
            stage=stage,
            postings=list(postings),
            created_at=_ms(),
            tags=[str(t) for t in body.get("tags") or []],
        )
        self.opportunities[opportunity.id] = opportunity
        return web.json_response({"data": opportunity.public(set())}, status=201)

    def _list(self, query: Any, items: list[JSON]) -> web.Response:
        try:
            limit = int(query.get("limit", "100"))
            start = (
                int(base64.urlsafe_b64decode(query["offset"]).decode()) if "offset" in query else 0
            )
        except (ValueError, UnicodeDecodeError):
            return _error(400, "BadRequestError", "limit or offset is not valid")
        if not 1 <= limit <= 100:
            return _error(400, "BadRequestError", "limit must be between 1 and 100")
        page = items[start : start + limit]
        more = start + limit < len(items)
        answer: JSON = {"data": page, "hasNext": more}
        if more:
            answer["next"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return web.json_response(answer)

    def _set_stage(self, opportunity: Opportunity, stage: str, user: str | None) -> None:
        opportunity.stage = stage
        opportunity.stage_changes.append(
            {
                "toStageId": stage,
                "toStageIndex": list(self.stages).index(stage),
                "userId": user,
                "updatedAt": _ms(),
            }
        )

    def _contact_of(self, email: str) -> str | None:
        return next(
            (o.contact for o in self.opportunities.values() if email.lower() in o.emails), None
        )

    def _key_of(self, request: web.Request) -> bool | None:
        """Whether the request's key may write; None when it has no known key."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        key = None
        if scheme == "Basic":
            try:
                key = base64.b64decode(value).decode().partition(":")[0]
            except ValueError:
                return None
        elif scheme == "Bearer":
            key = value
        return self.keys.get(key) if key else None

    def _take_token(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def storm(self, rate: float, burst: float = 1.0) -> None:
        """Throttle to ``rate`` requests a second (bursts of ``burst``): most calls get 429."""
        self.rate, self.burst, self._tokens = rate, burst, 0.0
        self._refilled = time.monotonic()

    def calm(self) -> None:
        self.rate, self.burst, self._tokens = 10.0, 20.0, 20.0


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


def _ms() -> int:
    return int(time.time() * 1000)
