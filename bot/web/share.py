"""The share page: one candidate's answers for someone outside Slack (bot.flows.sharing).

An adapter like bot/slack: it reads the request, calls one flow, and renders what the flow
returns as HTML. Server-rendered, no script at all: the Content-Security-Policy forbids
scripts, every style but its own and framing, and every value (names full of markup included) goes
through ``html.escape``. The token is in the path, so the page sends no referrer (it would
carry the token to whatever a link opens) and asks not to be indexed or cached.

An unknown, expired, revoked or erased link gets the same "not available" page with the same
status (404): nobody learns whether a token ever existed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from html import escape
from pathlib import Path

from aiohttp import web

from bot.errors import InvalidRequest
from bot.flows import sharing
from bot.flows.moments import format_deadline
from bot.flows.review import VoteChoice
from bot.limits import ShareLimit
from bot.unit_of_work import UnitOfWork
from storage.media import MediaUnavailable, local_copy

STYLESHEET = """
:root { color-scheme: light dark; --ink: #1d1c1d; --muted: #616061; --line: #dddddd;
  --card: #ffffff; --page: #f6f6f4; --accent: #1264a3; --warn: #8a5a00; }
@media (prefers-color-scheme: dark) {
  :root { --ink: #e8e8e8; --muted: #a8a8a8; --line: #3a3a3a; --card: #1f2022;
    --page: #161718; --accent: #5aa8e6; --warn: #e0b050; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 46rem; margin: 0 auto; padding: 2rem 1rem 4rem; }
header { margin-bottom: 1.5rem; }
h1 { font-size: 1.8rem; margin: 0.2rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 0 0 0.4rem; overflow-wrap: anywhere; }
.kicker, .meta, .facts, .fineprint { color: var(--muted); font-size: 0.9rem; margin: 0; }
.number { display: inline-block; min-width: 2.2rem; color: var(--accent); }
.answer, .vote { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 1.1rem 1.2rem; margin: 1rem 0; }
audio, video { display: block; width: 100%; margin: 0.8rem 0; max-height: 26rem; }
.transcript { margin: 0.6rem 0 0; padding: 0.2rem 0 0.2rem 1rem;
  border-left: 3px solid var(--line); overflow-wrap: anywhere; }
.transcript p { margin: 0.3rem 0; }
.flags { color: var(--warn); margin: 0.4rem 0; padding-left: 1.2rem; }
.state { color: var(--muted); font-style: italic; }
.notice { background: var(--card); border-left: 4px solid var(--accent); padding: 0.7rem 1rem; }
fieldset { border: 0; padding: 0; margin: 0 0 1rem; display: flex; gap: 1.2rem;
  flex-wrap: wrap; }
legend { font-weight: 600; margin-bottom: 0.5rem; }
.choice { cursor: pointer; }
textarea { width: 100%; font: inherit; padding: 0.5rem; border-radius: 6px;
  border: 1px solid var(--line); background: var(--page); color: var(--ink);
  margin: 0.3rem 0 1rem; }
button { font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0;
  border-radius: 6px; padding: 0.6rem 1.2rem; cursor: pointer; }
"""
# The one stylesheet, inline: allowed by its hash alone (no inline style or script of
# anyone else's runs), and the page needs no second request or path (it works behind a
# proxy that serves it under any prefix).
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLESHEET.encode()).digest()).decode()

PREFIX = "/share/"
_TOKEN = r"{token:[A-Za-z0-9_-]{20,64}}"
_CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; media-src 'self'; "
        "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow, noarchive",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}

_MEDIA_TYPES = {
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".mov": "video/quicktime",
}
_VIDEO_KINDS = frozenset({"video", "video_note"})
_KIND_LABELS = {
    "voice": "Voice note",
    "video_note": "Video note",
    "video": "Video",
    "audio": "Audio",
    "text": "Typed answer",
}
# Words, no emoji: a reader's machine may have no emoji font (the page must read anyway).
_VOTES = ((VoteChoice.YES, "Yes"), (VoteChoice.MAYBE, "Maybe"), (VoteChoice.NO, "No"))


def address(base: str, token: str) -> str:
    """The address of ``token``'s page under ``base`` (HIREBOT_PUBLIC_URL)."""
    return f"{base.rstrip('/')}{PREFIX}{token}"


def routes(app: web.Application, uow: UnitOfWork) -> None:
    """Add the share page's routes to hirebot's web app."""
    pages = SharePages(uow)
    app.router.add_get(f"{PREFIX}{_TOKEN}", pages.page)
    app.router.add_post(f"{PREFIX}{_TOKEN}/vote", pages.vote)
    app.router.add_get(f"{PREFIX}{_TOKEN}/answers/{{answer:[0-9]{{1,18}}}}", pages.recording)
    # Anything else under /share/ reads as a link that is not available.
    app.router.add_route("*", f"{PREFIX}{{rest:.*}}", pages.unavailable)


class SharePages:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def page(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        try:
            shown = await self._uow.run(lambda s, now: sharing.page(s, token, now))
        except sharing.Unavailable:
            return _unavailable()
        voted = request.query.get("voted", "")
        notice = ""
        if voted in {c.value for c in VoteChoice}:
            word = dict(_VOTES)[VoteChoice(voted)]
            notice = f"Thank you: your vote ({word}) is in the hiring team's thread."
        return _html(render_page(shown, token, notice))

    async def vote(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        form = await request.post()
        choice, note = str(form.get("choice") or ""), str(form.get("note") or "")
        try:
            picked = await self._uow.run(lambda s, now: sharing.vote(s, token, choice, note, now))
        except sharing.Unavailable:
            return _unavailable()
        except sharing.TooManyVotes as err:
            return _html(render_message("Please wait a while", str(err), back=token), 429)
        except InvalidRequest as err:
            return _html(render_message("Nothing was sent", str(err), back=token), 400)
        # Post/Redirect/Get: reloading the page does not vote again.
        raise web.HTTPSeeOther(f"../{token}?voted={picked.value}", headers=HEADERS)

    async def recording(self, request: web.Request) -> web.StreamResponse:
        token, answer_id = request.match_info["token"], int(request.match_info["answer"])
        try:
            found = await self._uow.run(lambda s, now: sharing.recording(s, token, answer_id, now))
        except sharing.Unavailable:
            return _unavailable()
        try:
            async with local_copy(self._uow.media, found.media_path) as file:
                return await _send_range(request, file)
        except (FileNotFoundError, MediaUnavailable):
            return _unavailable()

    async def unavailable(self, request: web.Request) -> web.Response:
        return _unavailable()


async def _send_range(request: web.Request, file: Path) -> web.StreamResponse:
    """``file``, or the byte range asked for (RFC 9110 §14): players seek with ranges."""
    size = (await asyncio.to_thread(file.stat)).st_size
    start, end, status = 0, size - 1, 200
    asked = request.headers.get("Range", "")
    match = _RANGE.match(asked.strip())
    if match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:  # the last N bytes
            start = max(size - int(last), 0)
        if start >= size or start > end:
            return web.Response(status=416, headers={**HEADERS, "Content-Range": f"bytes */{size}"})
        status = 206
    headers = {
        **HEADERS,
        "Accept-Ranges": "bytes",
        "Content-Type": _MEDIA_TYPES.get(file.suffix.lower(), "application/octet-stream"),
    }
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = end - start + 1
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    with file.open("rb") as handle:
        handle.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(_CHUNK, left))
            if not chunk:
                break
            await response.write(chunk)
            left -= len(chunk)
    await response.write_eof()
    return response


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", headers=HEADERS)


def _unavailable() -> web.Response:
    return _html(
        render_message(
            "This link is not available",
            "It may have expired or been withdrawn. Ask the person who sent it for a new one.",
        ),
        404,
    )


# ---------------------------------------------------------------------- rendering


def render_page(shown: sharing.SharePage, token: str, notice: str = "") -> str:
    e = escape
    where = " · ".join(e(p) for p in (shown.company, shown.opening) if p)
    parts = [
        "<header>",
        f'<p class="kicker">{where}</p>',
        f"<h1>{e(shown.candidate)}</h1>",
        f'<p class="meta">Stage: {e(shown.stage)} · Shared with {e(shown.holder)} · '
        f"this link works until {e(format_deadline(shown.expires_at))}</p>",
        "</header>",
    ]
    if notice:
        parts.append(f'<p class="notice" role="status">{e(notice)}</p>')
    if not shown.answers:
        parts.append('<p class="state">No answers yet.</p>')
    for answer in shown.answers:
        parts.extend(_answer(answer, token))
    parts.extend(_vote_form(shown, token))
    return _document(f"{shown.candidate} · {shown.opening}", parts)


def _answer(answer: sharing.SharedAnswer, token: str) -> Iterable[str]:
    e = escape
    kind = _KIND_LABELS.get(answer.kind, answer.kind)
    yield f'<section class="answer" id="q{answer.number}">'
    yield f'<h2><span class="number">Q{answer.number}</span> {e(answer.question)}</h2>'
    yield (
        f'<p class="facts">{e(kind)} · {e(answer.facts)} · '
        f"received {e(_moment(answer.received_at))}</p>"
    )
    if answer.flags:
        yield '<ul class="flags">' + "".join(f"<li>{e(f)}</li>" for f in answer.flags) + "</ul>"
    if answer.has_recording:
        source = f"{e(token)}/answers/{answer.answer_id}"
        tag = "video" if answer.kind in _VIDEO_KINDS else "audio"
        yield (
            f'<{tag} controls preload="metadata" src="{source}">'
            f'<a href="{source}">Download the recording</a></{tag}>'
        )
    if answer.transcript:
        said = "".join(f"<p>{e(line)}</p>" for line in answer.transcript.splitlines() if line)
        label = "What they typed" if not answer.has_recording else "Transcript"
        yield f'<blockquote class="transcript" aria-label="{label}">{said}</blockquote>'
    if answer.transcript_state:
        yield f'<p class="state">{e(answer.transcript_state)}</p>'
    yield "</section>"


def _vote_form(shown: sharing.SharePage, token: str) -> Iterable[str]:
    yield '<section class="vote">'
    yield "<h2>Your view</h2>"
    yield f'<form method="post" action="{escape(token)}/vote">'
    yield "<fieldset><legend>Should the team move forward?</legend>"
    for choice, label in _VOTES:
        yield (
            f'<label class="choice"><input type="radio" name="choice" value="{choice.value}"'
            f" required> {label}</label>"
        )
    yield "</fieldset>"
    yield '<label for="note">A note for the team (optional)</label>'
    limit = ShareLimit.NOTE_CHARS
    yield f'<textarea id="note" name="note" rows="4" maxlength="{limit}"></textarea>'
    yield '<button type="submit">Send to the hiring team</button>'
    yield "</form>"
    yield (
        f'<p class="fineprint">Your vote and note appear in the hiring team\'s Slack thread as '
        f"from {escape(shown.holder)}. Please do not share this link: it shows a person's "
        "interview.</p>"
    )
    yield "</section>"


def render_message(title: str, text: str, back: str | None = None) -> str:
    parts = [f"<h1>{escape(title)}</h1>", f'<p class="state">{escape(text)}</p>']
    if back:
        parts.append(f'<p><a href="../{escape(back)}">Back to the answers</a></p>')
    return _document(title, parts)


def _document(title: str, body: Iterable[str]) -> str:
    inner = "\n".join(body)
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow, noarchive">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>{STYLESHEET}</style>\n"
        f"</head>\n<body>\n<main>\n{inner}\n</main>\n</body>\n</html>\n"
    )


def _moment(moment: datetime) -> str:
    return format_deadline(moment)
