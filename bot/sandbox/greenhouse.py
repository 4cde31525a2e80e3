"""Local Greenhouse for tests and demos: Harvest v1 (the part hirebot uses) and its webhooks.

Why: the Greenhouse adapter must be tested against Greenhouse's documented behaviour, not a
mock: Basic auth with the key as user name, ``On-Behalf-Of`` on every write, ``Link``-header
pagination, the per-10-second rate limit with 429 and ``Retry-After``, 422 bodies, state
errors, and the webhook sender with its ``Signature`` header and retry schedule.
Contracts and sources: shared/design/ats-and-scheduling-apis.md, sections 0 and 1.

``async with GreenhouseSandbox() as gh:``; ``gh.api_url`` is the Harvest base, ``gh.api_key``
a valid key, ``gh.user_id`` a user a write may act on behalf of. ``subscribe(url, secret)``
makes it POST webhooks to hirebot; ``move_in_greenhouse`` plays a recruiter moving a
candidate in Greenhouse's own UI. ``notes``/``tags``/``application`` show what it holds.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.sandbox.serving import serve

JSON = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Greenhouse's documented retry gaps (webhooks/_introduction.md, RETRY_DELAY_MINUTES): the
# first attempt plus six retries over about 15 hours. Tests pass a compressed schedule.
RETRY_DELAYS_SECONDS: tuple[float, ...] = tuple(m * 60.0 for m in (1, 15, 60, 120, 240, 480))
PER_PAGE_DEFAULT = 100
PER_PAGE_MAX = 500
RATE_WINDOW_SECONDS = 10.0  # X-RateLimit-Limit is per 10 seconds
WEBHOOK_SECRET = "gh-sandbox-webhook-secret"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_VISIBILITIES = ("admin_only", "private", "public")


@dataclass
class Stage:
    id: int
    name: str
    priority: int


@dataclass
class Job:
    id: int
    name: str
    stages: list[Stage]


@dataclass
class Note:
    id: int
    body: str
    visibility: str
    user_id: int
    created_at: str


@dataclass
class Application:
    id: int
    candidate_id: int
    job_id: int
    stage_id: int | None
    prospect: bool = False
    status: str = "active"  # active | rejected | hired | converted
    rejection_reason_id: int | None = None
    rejection_notes: str | None = None
    applied_at: str = ""
    rejected_at: str | None = None
    last_activity_at: str = ""


@dataclass
class Candidate:
    id: int
    first_name: str
    last_name: str
    emails: list[str]
    tags: list[str] = field(default_factory=list)  # tag names, in the order applied
    application_ids: list[int] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class Request:
    """One Harvest request as hirebot sent it (the key left out)."""

    method: str
    path: str
    query: dict[str, str]
    on_behalf_of: str | None
    body: JSON | None
    status: int


@dataclass
class WebhookAttempt:
    """One POST of one webhook event to the subscriber, and what it answered."""

    event_id: str
    action: str
    attempt: int  # 1 for the first try
    body: bytes
    headers: dict[str, str]
    status: int | None  # None: no answer (refused connection, timeout)


class ApiFailure(Exception):
    """Raised inside a handler: answered with Greenhouse's error body and ``status``."""

    def __init__(self, status: int, message: str, errors: list[JSON] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSON = {"message": message}
        if errors is not None:
            self.body["errors"] = errors


def _validation(field_name: str, message: str) -> ApiFailure:
    """Greenhouse's 422 body: ``{"message": "Validation error", "errors": [...]}``."""
    return ApiFailure(422, "Validation error", [{"message": message, "field": field_name}])


def _state_error(message: str) -> ApiFailure:
    """Greenhouse's state errors carry only ``errors`` (e.g. moving a rejected application)."""
    failure = ApiFailure(422, message)
    failure.body = {"errors": [{"message": message}]}
    return failure


def ruby_json(value: Any) -> bytes:
    """JSON as Greenhouse's Rails serialises it: non-ASCII and ``<``, ``>``, ``&`` escaped
    as ``\\uXXXX``. Receivers must hash these exact bytes, not a re-serialisation."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def signature(secret: str, body: bytes) -> str:
    """The ``Signature`` header Greenhouse sends with ``body``."""
    return "sha256 " + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class GreenhouseSandbox:
    """One Greenhouse organisation on 127.0.0.1, with a job, its stages and one user."""

    job_id = 3001
    other_job_id = 3002
    user_id = 4001

    def __init__(self, *, api_key: str = "gh-sandbox-harvest-key") -> None:
        self.api_key = api_key
        self.users: dict[int, str] = {self.user_id: "Rita Recruiter"}
        self.jobs: dict[int, Job] = {}
        self.rejection_reasons: dict[int, str] = {
            5001: "Lacking skill(s)/qualification(s)",
            5002: "Other (add notes below)",
        }
        self.candidates: dict[int, Candidate] = {}
        self.applications: dict[int, Application] = {}
        self.tag_names: dict[int, str] = {}
        self.requests: list[Request] = []
        # Rate limit: requests allowed per window (X-RateLimit-Limit); tests lower it.
        self.rate_limit = 50
        self.rate_window = RATE_WINDOW_SECONDS
        self._window_start = 0.0
        self._window_used = 0
        # Outage: every Harvest request answers this 5xx status (None: Greenhouse is up).
        self.outage: int | None = None
        # The next this-many writes are carried out, but their answer is lost on the way
        # back (a gateway timing out after Greenhouse saved): the client sees a 504.
        self.lose_answers = 0
        # Greenhouse may answer a create with a truncated body (ids only) while it finishes
        # in the background (documented): True answers POST /candidates that way.
        self.truncate_creates = False
        # Webhooks: where they go, signed with what, and how retries are spaced.
        self.webhook_url: str | None = None
        self.webhook_secret = WEBHOOK_SECRET
        self.retry_delays: Sequence[float] = RETRY_DELAYS_SECONDS
        # The docs call Greenhouse-Event-ID "unique ... with this delivery" and do not say
        # whether a retry keeps it: True sends a fresh one on each attempt, False keeps it.
        self.new_event_id_per_attempt = False
        self.webhook_timeout = 5.0
        self.webhooks: list[WebhookAttempt] = []
        self._deliveries: set[asyncio.Task[None]] = set()
        self._ids = 10_000
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._base_url: str | None = None
        self._add_job(self.job_id, "Backend Engineer")
        self._add_job(self.other_job_id, "Designer")

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> GreenhouseSandbox:
        app = web.Application(middlewares=[self._middleware])
        routes = [
            ("GET", "/v1/candidates", self._list_candidates),
            ("POST", "/v1/candidates", self._create_candidate),
            ("GET", "/v1/candidates/{id}", self._get_candidate),
            ("PATCH", "/v1/candidates/{id}", self._patch_candidate),
            ("POST", "/v1/prospects", self._create_prospect),
            ("POST", "/v1/candidates/{id}/applications", self._add_application),
            ("GET", "/v1/candidates/{id}/activity_feed", self._activity_feed),
            ("POST", "/v1/candidates/{id}/activity_feed/notes", self._add_note),
            ("GET", "/v1/candidates/{id}/tags", self._candidate_tags),
            ("PUT", "/v1/candidates/{id}/tags/{tag}", self._apply_tag),
            ("DELETE", "/v1/candidates/{id}/tags/{tag}", self._remove_tag),
            ("GET", "/v1/tags/candidate", self._list_tags),
            ("POST", "/v1/tags/candidate", self._create_tag),
            ("GET", "/v1/applications/{id}", self._get_application),
            ("POST", "/v1/applications/{id}/move", self._move),
            ("POST", "/v1/applications/{id}/advance", self._advance),
            ("POST", "/v1/applications/{id}/reject", self._reject),
            ("GET", "/v1/jobs/{id}/stages", self._job_stages),
            ("GET", "/v1/rejection_reasons", self._list_rejection_reasons),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        self._runner, self._base_url = await serve(app)
        self._client = ClientSession(timeout=ClientTimeout(total=self.webhook_timeout))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._deliveries):
            task.cancel()
        for task in list(self._deliveries):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The Harvest v1 base (``https://harvest.greenhouse.io/v1/`` for real)."""
        if self._base_url is None:
            raise RuntimeError("use `async with GreenhouseSandbox() as gh:` first")
        return f"{self._base_url}/v1/"

    # ------------------------------------------------------------------ test-facing state

    def stage_id(self, name: str, job_id: int | None = None) -> int:
        """The id of the stage called ``name`` on ``job_id`` (the main job by default)."""
        job = self.jobs[job_id or self.job_id]
        return next(s.id for s in job.stages if s.name == name)

    def stage_name(self, stage_id: int | None) -> str | None:
        for job in self.jobs.values():
            for stage in job.stages:
                if stage.id == stage_id:
                    return stage.name
        return None

    def add_candidate(
        self, first_name: str, last_name: str, email: str, *, job_id: int | None = None
    ) -> Candidate:
        """A candidate created in Greenhouse by someone else (an application on ``job_id``
        if given), as a recruiter or a job board would."""
        candidate = self._new_candidate(first_name, last_name, [email])
        if job_id is not None:
            self._new_application(candidate, job_id, None)
        return candidate

    def candidates_with_email(self, email: str) -> list[Candidate]:
        return [c for c in self.candidates.values() if _has_email(c, email)]

    def notes(self, candidate_id: int) -> list[Note]:
        return list(self.candidates[candidate_id].notes)

    def tags(self, candidate_id: int) -> list[str]:
        return list(self.candidates[candidate_id].tags)

    def application(self, application_id: int) -> Application:
        return self.applications[application_id]

    def writes(self, path_suffix: str = "") -> list[Request]:
        """Write requests that reached the API (whatever it answered), optionally only those
        whose path ends with ``path_suffix``."""
        return [r for r in self.requests if r.method in _WRITES and r.path.endswith(path_suffix)]

    def settings(self) -> dict[str, Any]:
        """hirebot's settings (by field name) that point it at this emulator."""
        from pydantic import SecretStr

        return {
            "greenhouse_api_key": SecretStr(self.api_key),
            "greenhouse_api_url": self.api_url,
            "greenhouse_user_id": str(self.user_id),
            "greenhouse_webhook_secret": SecretStr(self.webhook_secret),
        }

    def refused(self, status: int) -> list[Request]:
        """Requests Greenhouse answered with ``status`` (429, 503…)."""
        return [r for r in self.requests if r.status == status]

    async def post_webhook(self, body: bytes, *, secret: str | None = None) -> int:
        """POST ``body`` to the subscriber as a delivery signed with ``secret`` (ours by
        default) and a fresh event id, once, no retries; the status it answered. A replay,
        or a forgery with another secret."""
        assert self._client is not None and self.webhook_url is not None
        headers = {
            "Content-Type": "application/json",
            "Greenhouse-Event-ID": str(uuid.uuid4()),
            "Signature": signature(secret or self.webhook_secret, body),
        }
        async with self._client.post(self.webhook_url, data=body, headers=headers) as response:
            return response.status

    def subscribe(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        """Send every webhook event to ``url``, signed with ``secret`` (Configure → Dev
        Center → Web Hooks in Greenhouse)."""
        self.webhook_url = url
        self.webhook_secret = secret

    def move_in_greenhouse(self, application_id: int, stage_name: str) -> None:
        """A recruiter moves the application in Greenhouse's UI: the stage changes and the
        ``candidate_stage_change`` webhook goes out."""
        application = self.applications[application_id]
        application.stage_id = self.stage_id(stage_name, application.job_id)
        self._touch(application)
        self._fire("candidate_stage_change", application)

    async def settled(self, seconds: float = 30.0) -> None:
        """Wait until every webhook delivery (with its retries) has finished."""
        deadline = time.monotonic() + seconds
        while self._deliveries:
            if time.monotonic() > deadline:
                raise AssertionError("Greenhouse webhook deliveries did not finish")
            await asyncio.sleep(0.02)

    def webhook_attempts(self, action: str | None = None) -> list[WebhookAttempt]:
        return [w for w in self.webhooks if action is None or w.action == action]

    # ------------------------------------------------------------------ middleware

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body: JSON | None = None
        if request.method in _WRITES and request.can_read_body:
            with contextlib.suppress(ValueError):
                loaded = json.loads(await request.read() or b"null")
                body = loaded if isinstance(loaded, dict) else None
        try:
            response = await self._answer(request, handler)
        except ApiFailure as failure:
            response = web.json_response(failure.body, status=failure.status)
        if self.lose_answers and request.method in _WRITES and response.status < 400:
            self.lose_answers -= 1
            response = web.Response(status=504, text="Gateway Timeout")
        self.requests.append(
            Request(
                request.method,
                request.path,
                dict(request.query),
                request.headers.get("On-Behalf-Of"),
                body,
                response.status,
            )
        )
        return response

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.outage is not None:
            # What a load balancer says when Greenhouse is down: not Greenhouse's JSON.
            return web.Response(
                status=self.outage,
                text="<html><body>Service Unavailable</body></html>",
                content_type="text/html",
            )
        if not self._authorised(request.headers.get("Authorization", "")):
            raise ApiFailure(401, "Invalid Basic Auth credentials")
        limited = self._rate_headers()
        if limited is not None:
            return web.json_response(
                {"message": "Rate limit exceeded"}, status=429, headers=limited
            )
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(0, self.rate_limit - self._window_used)),
        }
        try:
            if request.method in _WRITES:
                self._check_on_behalf_of(request.headers.get("On-Behalf-Of"))
            response = await handler(request)
        except ApiFailure as failure:
            response = web.json_response(failure.body, status=failure.status)
        response.headers.update(headers)
        return response

    def _authorised(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, _password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.api_key.encode())

    def _rate_headers(self) -> dict[str, str] | None:
        """Count this request in the current window; the 429 headers if it is over."""
        now = time.time()
        if now - self._window_start >= self.rate_window:
            self._window_start, self._window_used = now, 0
        reset = self._window_start + self.rate_window
        if self._window_used >= self.rate_limit:
            return {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(math.ceil(reset)),
                "Retry-After": str(max(1, math.ceil(reset - now))),
            }
        self._window_used += 1
        return None

    def _check_on_behalf_of(self, value: str | None) -> None:
        # "Required for auditing purposes" on every write. The exact status of a missing
        # header is not documented [U]; it is a refusal either way.
        if not value or not value.strip().isdigit() or int(value) not in self.users:
            raise _validation("On-Behalf-Of", "On-Behalf-Of must name a Greenhouse user")

    # ------------------------------------------------------------------ candidates

    async def _list_candidates(self, request: web.Request) -> web.Response:
        found = sorted(self.candidates.values(), key=lambda c: c.id)
        email = request.query.get("email")
        if email is not None:
            found = [c for c in found if _has_email(c, email)]
        job = request.query.get("job_id")
        if job is not None:
            found = [c for c in found if any(a.job_id == _int(job) for a in self._apps(c))]
        return self._page(request, [self._candidate_json(c) for c in found])

    async def _get_candidate(self, request: web.Request) -> web.Response:
        return web.json_response(self._candidate_json(self._candidate(request)))

    async def _create_candidate(self, request: web.Request) -> web.Response:
        body = await _body(request)
        first, last = _required_text(body, "first_name"), _required_text(body, "last_name")
        applications = body.get("applications")
        if not isinstance(applications, list) or not applications:
            raise _validation("applications", "applications must have at least one element")
        jobs = [
            self._job(_int(a.get("job_id") if isinstance(a, dict) else None)) for a in applications
        ]
        candidate = self._new_candidate(first, last, _emails(body))
        for job, spec in zip(jobs, applications, strict=True):
            self._new_application(candidate, job.id, _opt_int(spec.get("initial_stage_id")))
        for name in body.get("tags") or []:
            self._tag_candidate(candidate, str(name))
        self._fire_new(candidate)
        if self.truncate_creates:
            truncated = {"id": candidate.id, "application_ids": list(candidate.application_ids)}
            return web.json_response(truncated, status=201)
        return web.json_response(self._candidate_json(candidate), status=201)

    async def _create_prospect(self, request: web.Request) -> web.Response:
        body = await _body(request)
        first, last = _required_text(body, "first_name"), _required_text(body, "last_name")
        candidate = self._new_candidate(first, last, _emails(body))
        spec = body.get("application") or {}
        for job_id in spec.get("job_ids", []) if isinstance(spec, dict) else []:
            self._new_application(candidate, self._job(_int(job_id)).id, None, prospect=True)
        return web.json_response(self._candidate_json(candidate), status=201)

    async def _patch_candidate(self, request: web.Request) -> web.Response:
        candidate = self._candidate(request)
        body = await _body(request)
        if "tags" in body:
            if not isinstance(body["tags"], list):
                raise _validation("tags", "tags must be an array")
            candidate.tags = []  # the whole list is replaced
            for name in body["tags"]:
                self._tag_candidate(candidate, str(name))
        for name in ("first_name", "last_name"):
            if name in body:
                setattr(candidate, name, _required_text(body, name))
        candidate.updated_at = _iso(time.time())
        return web.json_response(self._candidate_json(candidate))

    async def _add_application(self, request: web.Request) -> web.Response:
        candidate = self._candidate(request)
        body = await _body(request)
        if "job_id" not in body:
            raise _validation("job_id", "job_id is required")
        job = self._job(_int(body["job_id"]))
        if any(a.job_id == job.id and not a.prospect for a in self._apps(candidate)):
            raise _validation("job_id", "Candidate already has an application for this job")
        application = self._new_application(
            candidate, job.id, _opt_int(body.get("initial_stage_id"))
        )
        self._fire("new_candidate_application", application)
        return web.json_response(self._application_json(application), status=201)

    # ------------------------------------------------------------------ notes and tags

    async def _add_note(self, request: web.Request) -> web.Response:
        candidate = self._candidate(request)
        body = await _body(request)
        user_id = _opt_int(body.get("user_id"))
        if user_id is None or user_id not in self.users:
            raise _validation("user_id", "user_id must be a valid user")
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            raise _validation("body", "body can't be blank")
        visibility = body.get("visibility")
        if visibility not in _VISIBILITIES:
            raise _validation("visibility", "visibility must be one of admin_only, private, public")
        note = Note(self._new_id(), text, str(visibility), user_id, _iso(time.time()))
        candidate.notes.append(note)
        return web.json_response(self._note_json(note), status=201)

    async def _activity_feed(self, request: web.Request) -> web.Response:
        candidate = self._candidate(request)
        return web.json_response(
            {
                "notes": [self._note_json(n) for n in candidate.notes],
                "emails": [],
                "activities": [],
            }
        )

    async def _list_tags(self, request: web.Request) -> web.Response:
        tags = [{"id": i, "name": n} for i, n in sorted(self.tag_names.items())]
        return self._page(request, tags)

    async def _create_tag(self, request: web.Request) -> web.Response:
        name = _required_text(await _body(request), "name")
        for tag_id, existing in self.tag_names.items():
            if existing.lower() == name.lower():
                return web.json_response({"id": tag_id, "name": existing}, status=200)
        tag_id = self._new_id()
        self.tag_names[tag_id] = name
        return web.json_response({"id": tag_id, "name": name}, status=201)

    async def _candidate_tags(self, request: web.Request) -> web.Response:
        candidate = self._candidate(request)
        ids = {n: i for i, n in self.tag_names.items()}
        return web.json_response([{"id": ids[n], "name": n} for n in candidate.tags])

    async def _apply_tag(self, request: web.Request) -> web.Response:
        candidate = self._candidate(request)
        tag_id = _int(request.match_info["tag"])
        if tag_id not in self.tag_names:
            raise ApiFailure(404, f"Tag {tag_id} not found")
        name = self.tag_names[tag_id]
        if name not in candidate.tags:
            candidate.tags.append(name)
        return web.json_response(
            {"message": f"Tag {tag_id}, '{name}', has been applied to candidate {candidate.id}"}
        )

    async def _remove_tag(self, request: web.Request) -> web.Response:
        candidate = self._candidate(request)
        name = self.tag_names.get(_int(request.match_info["tag"]))
        if name in candidate.tags:
            candidate.tags.remove(name)
        return web.json_response({"message": "Tag removed"})

    # ------------------------------------------------------------------ applications

    async def _get_application(self, request: web.Request) -> web.Response:
        return web.json_response(self._application_json(self._application(request)))

    async def _move(self, request: web.Request) -> web.Response:
        application = self._active(request)
        body = await _body(request)
        self._check_from(application, body)
        to_stage = _opt_int(body.get("to_stage_id"))
        job = self.jobs[application.job_id]
        if to_stage is None or all(s.id != to_stage for s in job.stages):
            raise _validation("to_stage_id", "to_stage_id must be a stage of the same job")
        application.stage_id = to_stage
        self._touch(application)
        self._fire("candidate_stage_change", application)
        return web.json_response(self._application_json(application))

    async def _advance(self, request: web.Request) -> web.Response:
        application = self._active(request)
        body = await _body(request)
        self._check_from(application, body)
        stages = sorted(self.jobs[application.job_id].stages, key=lambda s: s.priority)
        index = next(i for i, s in enumerate(stages) if s.id == application.stage_id)
        if index + 1 >= len(stages):
            raise _state_error("Application is in the last stage and cannot be advanced")
        application.stage_id = stages[index + 1].id
        self._touch(application)
        self._fire("candidate_stage_change", application)
        return web.json_response(self._application_json(application))

    async def _reject(self, request: web.Request) -> web.Response:
        application = self._active(request)
        body = await _body(request)
        reason = _opt_int(body.get("rejection_reason_id"))
        if reason is not None and reason not in self.rejection_reasons:
            raise _validation("rejection_reason_id", "rejection_reason_id is not valid")
        application.status = "rejected"
        application.rejection_reason_id = reason
        notes = body.get("notes")
        application.rejection_notes = notes if isinstance(notes, str) else None
        application.rejected_at = _iso(time.time())
        self._touch(application)
        self._fire("reject_candidate", application)
        return web.json_response(self._application_json(application))

    async def _job_stages(self, request: web.Request) -> web.Response:
        job = self.jobs.get(_int(request.match_info["id"]))
        if job is None:
            raise ApiFailure(404, "Resource not found")
        stages = sorted(job.stages, key=lambda s: s.priority)
        return web.json_response(
            [
                {
                    "id": s.id,
                    "name": s.name,
                    "job_id": job.id,
                    "priority": s.priority,
                    "active": True,
                    "interviews": [],
                }
                for s in stages
            ]
        )

    async def _list_rejection_reasons(self, request: web.Request) -> web.Response:
        reasons = [
            {"id": i, "name": n, "type": {"id": 1, "name": "We rejected them"}}
            for i, n in sorted(self.rejection_reasons.items())
        ]
        return self._page(request, reasons)

    def _active(self, request: web.Request) -> Application:
        application = self._application(request)
        if application.status != "active":
            raise _state_error(f"Application must be 'active', is currently '{application.status}'")
        return application

    def _check_from(self, application: Application, body: JSON) -> None:
        if _opt_int(body.get("from_stage_id")) != application.stage_id:
            raise _validation(
                "from_stage_id", "from_stage_id must be the application's current stage"
            )

    # ------------------------------------------------------------------ webhooks

    def _fire(self, action: str, application: Application) -> None:
        if self.webhook_url is None:
            return
        payload = {"application": self._webhook_application(application)}
        body = ruby_json({"action": action, "payload": payload})
        task = asyncio.get_running_loop().create_task(self._deliver(action, body))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    def _fire_new(self, candidate: Candidate) -> None:
        for application in self._apps(candidate):
            self._fire("new_candidate_application", application)

    async def _deliver(self, action: str, body: bytes) -> None:
        """POST one event; on timeout, a network error or any status but 200, retry after
        each gap of ``retry_delays`` (the documented schedule, compressed in tests)."""
        assert self._client is not None and self.webhook_url is not None
        event_id = str(uuid.uuid4())
        for attempt in range(1, len(self.retry_delays) + 2):
            if attempt > 1 and self.new_event_id_per_attempt:
                event_id = str(uuid.uuid4())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Greenhouse-Webhooks",
                "Greenhouse-Event-ID": event_id,
                "Signature": signature(self.webhook_secret, body),
            }
            record = WebhookAttempt(event_id, action, attempt, body, headers, None)
            self.webhooks.append(record)
            try:
                async with self._client.post(self.webhook_url, data=body, headers=headers) as r:
                    record.status = r.status
            except (ClientError, TimeoutError):
                record.status = None
            if record.status == 200:
                return
            if attempt <= len(self.retry_delays):
                await asyncio.sleep(self.retry_delays[attempt - 1])

    # ------------------------------------------------------------------ state helpers

    def _add_job(self, job_id: int, name: str) -> None:
        names = ("Application Review", "Async Interview", "Phone Screen", "Onsite", "Offer")
        base = job_id * 10
        self.jobs[job_id] = Job(job_id, name, [Stage(base + i, n, i) for i, n in enumerate(names)])

    def _new_id(self) -> int:
        self._ids += 1
        return self._ids

    def _new_candidate(self, first: str, last: str, emails: list[str]) -> Candidate:
        now = _iso(time.time())
        candidate = Candidate(self._new_id(), first, last, emails, created_at=now, updated_at=now)
        self.candidates[candidate.id] = candidate
        return candidate

    def _new_application(
        self, candidate: Candidate, job_id: int, stage_id: int | None, *, prospect: bool = False
    ) -> Application:
        job = self.jobs[job_id]
        if stage_id is not None and all(s.id != stage_id for s in job.stages):
            raise _validation("initial_stage_id", "initial_stage_id must be a stage of the job")
        # Unless initial_stage_id says otherwise, a new application starts in the job's first
        # stage (an assumption: the docs do not say). Prospects have no stage.
        first = min(job.stages, key=lambda s: s.priority).id
        now = _iso(time.time())
        application = Application(
            self._new_id(),
            candidate.id,
            job_id,
            None if prospect else stage_id or first,
            prospect=prospect,
            applied_at=now,
            last_activity_at=now,
        )
        self.applications[application.id] = application
        candidate.application_ids.append(application.id)
        return application

    def _tag_candidate(self, candidate: Candidate, name: str) -> None:
        existing = next((n for n in self.tag_names.values() if n.lower() == name.lower()), None)
        if existing is None:
            self.tag_names[self._new_id()] = existing = name
        if existing not in candidate.tags:
            candidate.tags.append(existing)

    def _touch(self, application: Application) -> None:
        application.last_activity_at = _iso(time.time())

    def _apps(self, candidate: Candidate) -> list[Application]:
        return [self.applications[i] for i in candidate.application_ids]

    def _candidate(self, request: web.Request) -> Candidate:
        candidate = self.candidates.get(_int(request.match_info["id"]))
        if candidate is None:
            raise ApiFailure(404, "Resource not found")
        return candidate

    def _application(self, request: web.Request) -> Application:
        application = self.applications.get(_int(request.match_info["id"]))
        if application is None:
            raise ApiFailure(404, "Resource not found")
        return application

    def _job(self, job_id: int | None) -> Job:
        if job_id is None or job_id not in self.jobs:
            raise _validation("job_id", "job_id must be a valid job")
        return self.jobs[job_id]

    def _page(self, request: web.Request, items: list[JSON]) -> web.Response:
        """One page of ``items`` with Greenhouse's RFC 5988 ``Link`` header (next, prev and
        last; no last with ``skip_count=true``; no header at all for a single page)."""
        per_page = _int(request.query.get("per_page", str(PER_PAGE_DEFAULT)))
        page = _int(request.query.get("page", "1"))
        if not 1 <= per_page <= PER_PAGE_MAX:
            raise _validation("per_page", f"per_page must be between 1 and {PER_PAGE_MAX}")
        if page < 1:
            raise _validation("page", "page must be 1 or more")
        pages = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        response = web.json_response(chunk)
        if pages > 1:
            links = []
            if page < pages:
                links.append(f'<{self._page_url(request, page + 1)}>; rel="next"')
            if page > 1:
                links.append(f'<{self._page_url(request, page - 1)}>; rel="prev"')
            if request.query.get("skip_count") != "true":
                links.append(f'<{self._page_url(request, pages)}>; rel="last"')
            response.headers["Link"] = ",".join(links)
        return response

    def _page_url(self, request: web.Request, page: int) -> str:
        query = {**request.query, "page": str(page)}
        return f"{self._base_url}{request.path}?{urlencode(query)}"

    # ------------------------------------------------------------------ JSON shapes

    def _candidate_json(self, c: Candidate) -> JSON:
        return {
            "id": c.id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "company": None,
            "title": None,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "last_activity": c.updated_at,
            "is_private": False,
            "photo_url": None,
            "attachments": [],
            "application_ids": list(c.application_ids),
            "phone_numbers": [],
            "addresses": [],
            "email_addresses": [{"value": e, "type": "personal"} for e in c.emails],
            "website_addresses": [],
            "social_media_addresses": [],
            "recruiter": None,
            "coordinator": None,
            "can_email": True,
            "tags": list(c.tags),
            "applications": [self._application_json(a) for a in self._apps(c)],
            "custom_fields": {},
        }

    def _application_json(self, a: Application) -> JSON:
        job = self.jobs[a.job_id]
        stage = self.stage_name(a.stage_id)
        reason = a.rejection_reason_id
        return {
            "id": a.id,
            "candidate_id": a.candidate_id,
            "prospect": a.prospect,
            "applied_at": a.applied_at,
            "rejected_at": a.rejected_at,
            "last_activity_at": a.last_activity_at,
            "source": None,
            "credited_to": None,
            "rejection_reason": None
            if reason is None
            else {
                "id": reason,
                "name": self.rejection_reasons[reason],
                "type": {"id": 1, "name": "We rejected them"},
            },
            "rejection_details": None,
            "jobs": [{"id": job.id, "name": job.name}],
            "status": a.status,
            "current_stage": None if stage is None else {"id": a.stage_id, "name": stage},
            "answers": [],
            "custom_fields": {},
        }

    def _note_json(self, note: Note) -> JSON:
        name = self.users[note.user_id]
        first, _, last = name.partition(" ")
        return {
            "id": note.id,
            "created_at": note.created_at,
            "body": note.body,
            "user": {
                "id": note.user_id,
                "first_name": first,
                "last_name": last,
                "name": name,
                "employee_id": None,
            },
            "private": note.visibility != "public",
            # Greenhouse echoes the field twice, once with its historical typo.
            "visiblity": note.visibility,
            "visibility": note.visibility,
        }

    def _webhook_application(self, a: Application) -> JSON:
        """``payload.application`` as in the documented candidate_stage_change example."""
        candidate = self.candidates[a.candidate_id]
        job = self.jobs[a.job_id]
        base = self._base_url or ""
        return {
            **self._application_json(a),
            "url": f"{base}/people/{candidate.id}?application_id={a.id}",
            "current_stage": None
            if a.stage_id is None
            else {"id": a.stage_id, "name": self.stage_name(a.stage_id), "interviews": []},
            "candidate": {
                "id": candidate.id,
                "first_name": candidate.first_name,
                "last_name": candidate.last_name,
                "url": f"{base}/people/{candidate.id}",
                "email_addresses": [{"value": e, "type": "personal"} for e in candidate.emails],
                "phone_numbers": [],
                "tags": list(candidate.tags),
                "attachments": [],
                "custom_fields": {},
            },
            "jobs": [{"id": job.id, "name": job.name, "requisition_id": None, "status": "open"}],
        }


# ---------------------------------------------------------------------- request parsing


async def _body(request: web.Request) -> JSON:
    try:
        loaded = json.loads(await request.read() or b"{}")
    except ValueError:
        raise ApiFailure(400, "Request body is not valid JSON") from None
    if not isinstance(loaded, dict):
        raise ApiFailure(400, "Request body must be a JSON object")
    return loaded


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise ApiFailure(404, "Resource not found") from None


def _opt_int(value: object) -> int | None:
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _required_text(body: JSON, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _validation(name, f"{name} can't be blank")
    return value


def _emails(body: JSON) -> list[str]:
    entries = body.get("email_addresses") or []
    if not isinstance(entries, list):
        raise _validation("email_addresses", "email_addresses must be an array")
    emails = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
            raise _validation("email_addresses", "each email address needs a value")
        if entry.get("type", "personal") not in ("personal", "work", "other"):
            raise _validation("email_addresses.type", "type must be personal, work or other")
        emails.append(entry["value"])
    return emails


def _has_email(candidate: Candidate, email: str) -> bool:
    return any(e.strip().lower() == email.strip().lower() for e in candidate.emails)
