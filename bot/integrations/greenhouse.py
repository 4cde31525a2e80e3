"""Greenhouse Harvest v1: the AtsClient for openings with ``ats: {kind: greenhouse, ...}``.

Harvest authenticates with HTTP Basic (the API key as user name, no password) and wants the
Greenhouse user every write is done for in ``On-Behalf-Of`` ("required for auditing
purposes"). Lists are paginated by the RFC 5988 ``Link`` header, which we follow as given
(never building page URLs, and never to another host: the key travels with each request).
Contracts and sources: shared/design/ats-and-scheduling-apis.md, sections 0 and 1.

``ref`` is "candidate id:application id": notes and tags belong to the candidate, stages
and rejections to the application on the opening's job.

Inbound webhooks are signed ``Signature: sha256 <hex HMAC-SHA256(secret, raw body)>``.
Greenhouse calls ``Greenhouse-Event-ID`` "unique ... with this delivery" and does not say
whether its retries (up to 7 attempts over about 15 h) keep it; and the header is not
signed, so whoever replays a captured delivery can change it. So a delivery is known by the
SHA-256 of its signed body (a retry sends the same body, whatever its event id), and one
whose application's ``last_activity_at`` is older than the retry window is refused as a
replay, which covers the keys forgotten after InboundLimit.KEEP_DAYS.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot.config import Settings
from bot.errors import ConfigError
from bot.integrations.ats import Forged, Person, RateLimited, Refused, StageChange, Unavailable
from bot.limits import AtsLimit, GreenhouseLimit

JSON = dict[str, Any]
_EMAILISH = re.compile(r"\S+@\S+")
_NO_KEY = (
    "HIREBOT_GREENHOUSE_API_KEY is not set. To get it: Greenhouse → Configure → Dev Center → "
    "API Credential Management → Create New API Key, type Harvest (see README, Integrations)."
)


@dataclass(frozen=True)
class GreenhouseAccount:
    """The organisation's Harvest access, from the environment (never from an opening)."""

    api_key: str = field(repr=False)
    user_id: int  # the Greenhouse user writes are made on behalf of
    webhook_secret: str = field(repr=False)
    api_url: str = "https://harvest.greenhouse.io/v1/"
    note_visibility: str = "private"
    webhook_max_age: timedelta = timedelta(seconds=AtsLimit.WEBHOOK_MAX_AGE_SECONDS)

    @classmethod
    def from_settings(cls, settings: Settings) -> GreenhouseAccount | None:
        """The account, None when Greenhouse is not set up, or a ConfigError that says
        which setting is missing or wrong."""
        key = _revealed(settings.greenhouse_api_key)
        user = (settings.greenhouse_user_id or "").strip()
        secret = _revealed(settings.greenhouse_webhook_secret)
        if not (key or user or secret):
            return None
        if not key:
            raise ConfigError(_NO_KEY)
        if not user.isdigit():
            raise ConfigError(
                "HIREBOT_GREENHOUSE_USER_ID must be the numeric id of the Greenhouse user "
                "hirebot writes on behalf of (Configure → Users → the user; the id is in the "
                "page's address)."
            )
        if not secret:
            raise ConfigError(
                "HIREBOT_GREENHOUSE_WEBHOOK_SECRET is not set: make one up, e.g. python -c "
                "'import secrets; print(secrets.token_urlsafe(32))', and paste it as the web "
                "hook's Secret Key in Greenhouse (Configure → Dev Center → Web Hooks)."
            )
        url = settings.greenhouse_api_url.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.path.rstrip("/").endswith("/v1"):
            # A base without /v1 would send every call to a path Harvest does not have.
            raise ConfigError(
                "HIREBOT_GREENHOUSE_API_URL must be Harvest v1's base, an http(s) URL ending "
                "in /v1/ (unset: https://harvest.greenhouse.io/v1/)."
            )
        return cls(
            api_key=key,
            user_id=int(user),
            webhook_secret=secret,
            api_url=url if url.endswith("/") else url + "/",
            note_visibility=settings.greenhouse_note_visibility,
        )

    @classmethod
    def required(cls, settings: Settings) -> GreenhouseAccount:
        """The account for an opening that syncs with Greenhouse: a ConfigError if unset."""
        account = cls.from_settings(settings)
        if account is None:
            raise ConfigError(_NO_KEY)
        return account


class GreenhouseClient:
    """Harvest v1 for one opening's job (``job_id``); ``close`` when done."""

    kind: ClassVar[str] = "greenhouse"

    def __init__(
        self,
        account: GreenhouseAccount,
        job_id: str | int | None = None,
        *,
        page_size: int = GreenhouseLimit.PAGE_SIZE,
    ) -> None:
        self.account = account
        self.job_id = job_id
        self.page_size = page_size
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    # ------------------------------------------------------------------ outbound

    async def find_or_create(self, person: Person) -> str:
        """The candidate with this email and their application on the job: an existing one,
        a new application for an existing candidate, or a new candidate with one."""
        job = self._job()
        found = [
            c async for c in self._pages("candidates", {"email": person.email}, "find a candidate")
        ]
        found.sort(key=lambda c: _id(c, "a candidate"))  # the oldest is the one people use
        for candidate in found:
            application = _application_on(candidate, job)
            if application is not None:
                return f"{_id(candidate, 'a candidate')}:{_id(application, 'an application')}"
        if found:
            candidate_id = _id(found[0], "a candidate")
            application = await self._call(
                "POST",
                f"candidates/{candidate_id}/applications",
                "add an application",
                body={"job_id": job},
            )
            return f"{candidate_id}:{_id(application, 'the new application')}"
        first, last = _split_name(person.name)
        created = await self._call(
            "POST",
            "candidates",
            "create a candidate",
            body={
                "first_name": first,
                "last_name": last,
                "email_addresses": [{"value": person.email, "type": "personal"}],
                "applications": [{"job_id": job}],
            },
        )
        # Greenhouse may answer a create with a truncated body (ids only) while it finishes
        # in the background: take the application id from either field.
        applications = created.get("applications") or [
            {"id": i} for i in created.get("application_ids") or []
        ]
        if not applications or not isinstance(applications[0], dict):
            raise Unavailable("Greenhouse created the candidate but named no application")
        return f"{_id(created, 'the new candidate')}:{_id(applications[0], 'the new application')}"

    async def add_note(self, ref: str, text: str) -> None:
        """A note on the candidate's activity feed, as the configured user, with the
        configured visibility (private unless HIREBOT_GREENHOUSE_NOTE_VISIBILITY says)."""
        candidate_id, _ = _ref(ref)
        await self._call(
            "POST",
            f"candidates/{candidate_id}/activity_feed/notes",
            "add a note",
            body={
                "user_id": self.account.user_id,
                "body": text,
                "visibility": self.account.note_visibility,
            },
        )

    async def has_note(self, ref: str, marker: str) -> bool:
        """Whether a note containing ``marker`` is on the candidate's activity feed: Harvest
        has no idempotency key, so a retry after a lost answer looks before posting again."""
        candidate_id, _ = _ref(ref)
        feed = await self._call("GET", f"candidates/{candidate_id}/activity_feed", "read notes")
        return any(marker in str(note.get("body") or "") for note in feed.get("notes") or [])

    async def add_tags(self, ref: str, tags: Sequence[str]) -> None:
        """Each tag created if the organisation lacks it (Greenhouse answers an existing
        name, matched case-insensitively, with that tag), then applied (PUT: idempotent)."""
        candidate_id, _ = _ref(ref)
        for name in tags:
            tag = await self._call("POST", "tags/candidate", "create a tag", body={"name": name})
            tag_id = _id(tag, "a tag")
            await self._call("PUT", f"candidates/{candidate_id}/tags/{tag_id}", "apply a tag")

    async def move_to_stage(self, ref: str, stage: str) -> None:
        """Move the application from wherever it is now (Harvest wants the current stage as
        ``from_stage_id``); already there is done, so a retry changes nothing."""
        _, application_id = _ref(ref)
        target = _numeric(stage, "stage id")
        application = await self._call(
            "GET", f"applications/{application_id}", "read the application"
        )
        current = (application.get("current_stage") or {}).get("id")
        if current == target:
            return
        await self._call(
            "POST",
            f"applications/{application_id}/move",
            "move the application",
            body={"from_stage_id": current, "to_stage_id": target},
        )

    async def reject(self, ref: str, reason: str | None) -> None:
        """Reject the application (with the mapped rejection reason id, if any); an already
        rejected one is left as it is, so a retry changes nothing."""
        _, application_id = _ref(ref)
        body: JSON = {}
        if reason:
            body["rejection_reason_id"] = _numeric(reason, "rejection reason id")
        application = await self._call(
            "GET", f"applications/{application_id}", "read the application"
        )
        if application.get("status") == "rejected":
            return
        await self._call(
            "POST", f"applications/{application_id}/reject", "reject the application", body=body
        )

    async def unknown_ids(self, stages: Sequence[str], reason: str | None) -> list[str]:
        """Which of the opening's ids Greenhouse does not know (``hirebot doctor``): the job,
        a stage that is not the job's, a rejection reason it does not have."""
        job = self._job()
        try:
            listed, _ = await self._request(
                "GET", urljoin(self.account.api_url, f"jobs/{job}/stages"), "list the job's stages"
            )
        except _Missing:
            return [f"job {job}"]
        ids = {str(s.get("id")) for s in listed if isinstance(s, dict)}
        unknown = [f"stage {s}" for s in stages if s not in ids]
        if reason:
            reasons = self._pages("rejection_reasons", {}, "list the rejection reasons")
            if reason not in {str(r.get("id")) async for r in reasons}:
                unknown.append(f"rejection reason {reason}")
        return unknown

    # ------------------------------------------------------------------ inbound

    def stage_change(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> StageChange | None:
        """A verified ``candidate_stage_change``, None for any other event; Forged for a
        bad signature or a stale replay.

        The ping Greenhouse sends when the web hook is saved is answered as handled even
        unsigned (its signing is not documented, and a failed ping saves the web hook
        disabled); it changes nothing, so a forged ping gains nothing."""
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        try:
            self._verify(headers, body)
        except Forged:
            if isinstance(event, dict) and event.get("action") == "ping":
                return None
            raise
        if event is None:
            raise Forged("the Greenhouse webhook body is not JSON")
        if not isinstance(event, dict) or event.get("action") != "candidate_stage_change":
            return None
        application = (event.get("payload") or {}).get("application")
        if not isinstance(application, dict):
            return None
        self._check_fresh(application, now)
        candidate = application.get("candidate") or {}
        stage = (application.get("current_stage") or {}).get("id")
        if candidate.get("id") is None or application.get("id") is None or stage is None:
            return None
        jobs = application.get("jobs") or []
        return StageChange(
            delivery_id="sha256:" + hashlib.sha256(body).hexdigest(),
            ref=f"{candidate['id']}:{application['id']}",
            stage=str(stage),
            person=_person(candidate),
            job=str(jobs[0]["id"]) if jobs and isinstance(jobs[0], dict) else None,
        )

    async def filled_in(self, change: StageChange) -> StageChange:
        """Greenhouse's webhook carries the candidate and the job already; read them from
        Harvest only if a payload lacked them."""
        if change.person is not None and change.job is not None:
            return change
        candidate_id, application_id = _ref(change.ref)
        candidate = await self._call("GET", f"candidates/{candidate_id}", "read the candidate")
        jobs = [
            j.get("id")
            for a in candidate.get("applications") or []
            if a.get("id") == application_id
            for j in a.get("jobs") or []
        ]
        return replace(
            change,
            person=change.person or _person(candidate),
            job=change.job or (str(jobs[0]) if jobs else None),
        )

    def _verify(self, headers: Mapping[str, str], body: bytes) -> None:
        given = _header(headers, "Signature")
        algorithm, _, digest = given.strip().partition(" ")
        if algorithm.lower() != "sha256" or not digest:
            raise Forged("the Greenhouse webhook has no sha256 Signature header")
        expected = hmac.new(self.account.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(digest.strip().lower().encode(), expected.encode()):
            raise Forged("the Greenhouse webhook's signature does not match")

    def _check_fresh(self, application: JSON, now: datetime) -> None:
        stamp = application.get("last_activity_at")
        if not isinstance(stamp, str):
            return
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            return
        if moment.tzinfo is not None and now - moment > self.account.webhook_max_age:
            raise Forged("the Greenhouse webhook is older than any retry: a replay")

    # ------------------------------------------------------------------ HTTP

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=AtsLimit.REQUEST_SECONDS)
            )
        return self._http

    def _job(self) -> int:
        if self.job_id is None or not str(self.job_id).strip():
            raise Refused("the opening's Greenhouse settings name no job_id")
        return _numeric(str(self.job_id), "job id")

    async def _pages(self, path: str, query: dict[str, str], what: str) -> AsyncIterator[JSON]:
        """Every item of a list, following ``Link: <...>; rel="next"`` as Greenhouse gives it."""
        url: str | None = urljoin(self.account.api_url, path)
        params: dict[str, str] | None = {**query, "per_page": str(self.page_size)}
        for _ in range(AtsLimit.PAGES):
            if url is None:
                return
            items, url = await self._request("GET", url, what, params=params)
            params = None  # the next link carries the whole query
            if not isinstance(items, list):
                raise Unavailable(f"Greenhouse answered {what} with something not a list")
            for item in items:
                if isinstance(item, dict):
                    yield item
        raise Unavailable(f"Greenhouse's pages for {what} did not end")

    async def _call(self, method: str, path: str, what: str, *, body: JSON | None = None) -> JSON:
        result, _ = await self._request(method, urljoin(self.account.api_url, path), what, body)
        if not isinstance(result, dict):
            raise Unavailable(f"Greenhouse answered {what} with something not an object")
        return result

    async def _request(
        self,
        method: str,
        url: str,
        what: str,
        body: JSON | None = None,
        *,
        params: dict[str, str] | None = None,
    ) -> tuple[Any, str | None]:
        """The decoded answer and the next page's URL. ``what`` names the action in errors:
        never the URL, whose query can hold an email address."""
        if not _same_origin(url, self.account.api_url):
            raise Unavailable(f"Greenhouse's next page for {what} points to another host")
        # Basic auth: the key as user name, no password. Set here, after the origin check, so
        # the key only ever goes to the configured Harvest host.
        key = base64.b64encode(f"{self.account.api_key}:".encode()).decode()
        headers = {"Accept": "application/json", "Authorization": f"Basic {key}"}
        if method != "GET":
            headers["On-Behalf-Of"] = str(self.account.user_id)
        try:
            async with (
                asyncio.timeout(AtsLimit.REQUEST_SECONDS),
                self._client().request(
                    method, url, json=body, params=params, headers=headers
                ) as response,
            ):
                raw = await response.read()
                _raise_for(response.status, response.headers, raw, what)
                following = response.links.get("next")
                after = str(following["url"]) if following and "url" in following else None
                return _decoded(raw, what), after
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Unavailable(
                f"Greenhouse could not be reached to {what} ({type(error).__name__})"
            ) from None


# ---------------------------------------------------------------------- helpers


class _Missing(Refused):
    """404: what was named does not exist in Greenhouse."""


def _raise_for(status: int, headers: Mapping[str, str], raw: bytes, what: str) -> None:
    if status < 400:
        return
    if status == 429:
        raise RateLimited(_retry_after(headers), f"Greenhouse rate-limited the call to {what}")
    if status >= 500:
        raise Unavailable(f"Greenhouse answered {status} to {what}")
    if status == 401:
        raise Refused(
            f"Greenhouse refused the API key (401) to {what}: check HIREBOT_GREENHOUSE_API_KEY"
        )
    if status == 403:
        raise Refused(f"the Harvest API key may not {what} (403): grant it that endpoint")
    refusal = _Missing if status == 404 else Refused
    raise refusal(f"Greenhouse refused to {what} ({status}{_explained(raw)})")


def _retry_after(headers: Mapping[str, str]) -> float:
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return float(GreenhouseLimit.RETRY_AFTER_SECONDS)


def _explained(raw: bytes) -> str:
    """Greenhouse's error message and the fields it names, with anything that looks like an
    email address taken out (a validation message can quote the value it refused)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body["message"])] if body.get("message") else []
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        if error.get("field"):
            parts.append(f"field {error['field']}")
        elif error.get("message"):
            parts.append(str(error["message"]))
    text = _EMAILISH.sub("…", "; ".join(parts))[:300]
    return f": {text}" if text else ""


def _decoded(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise Unavailable(f"Greenhouse answered {what} with something not JSON") from None


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _header(headers: Mapping[str, str], name: str) -> str:
    """A header whatever its case (aiohttp's headers ignore case, a plain dict does not)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), "")
    return value


def _id(record: JSON, what: str) -> int:
    """A record's numeric id from Greenhouse's answer (it goes into paths and refs)."""
    value = record.get("id")
    if isinstance(value, bool) or not str(value).isdigit():
        raise Unavailable(f"Greenhouse answered with {what} without a numeric id")
    return int(str(value))


def _ref(ref: str) -> tuple[int, int]:
    candidate, _, application = ref.partition(":")
    if not (candidate.isdigit() and application.isdigit()):
        raise Refused("not a Greenhouse reference (candidate id:application id)")
    return int(candidate), int(application)


def _numeric(value: str, what: str) -> int:
    if not str(value).strip().isdigit():
        raise Refused(f"the Greenhouse {what} must be a number")
    return int(str(value).strip())


def _application_on(candidate: JSON, job: int) -> JSON | None:
    """The candidate's application on ``job``: the active one, else the latest (prospect
    applications are not the candidate's application for the job)."""
    mine = [
        a
        for a in candidate.get("applications") or []
        if not a.get("prospect") and any(j.get("id") == job for j in a.get("jobs") or [])
    ]
    active = [a for a in mine if a.get("status") == "active"]
    chosen = active or mine
    return max(chosen, key=lambda a: _id(a, "an application")) if chosen else None


def _split_name(name: str) -> tuple[str, str]:
    """Greenhouse requires a first and a last name; a single name fills both, because a
    placeholder would show as if it were their surname."""
    words = name.split()
    if not words:
        return "Candidate", "Candidate"
    if len(words) == 1:
        return words[0], words[0]
    return " ".join(words[:-1]), words[-1]


def _person(candidate: JSON) -> Person | None:
    emails: list[str] = [
        str(e["value"])
        for e in candidate.get("email_addresses") or []
        if isinstance(e, dict) and isinstance(e.get("value"), str)
    ]
    if not emails:
        return None
    name = " ".join(
        str(candidate.get(part) or "").strip() for part in ("first_name", "last_name")
    ).strip()
    return Person(email=emails[0], name=name or emails[0].split("@")[0])


def _revealed(value: Any) -> str:
    return value.get_secret_value().strip() if value is not None else ""
