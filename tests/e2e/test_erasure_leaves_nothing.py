"""Erasure leaves nothing behind: a canary name, email and sentence go through the whole
product (answers, a teammate's note, a score note, a blind-review reveal, a rejection, an
export) and, once erased, are found in no table, no file of the data folder (database, WAL
and media included) and nothing the bot posted in Slack."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

from bot.flows.webhook_events import EVENTS
from bot.sandbox.share_link import make_share_link
from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import (
    RECRUITER,
    REVIEW_CHANNEL,
    SAMPLES,
    TEAMMATE,
    World,
    answer_question,
    eventually,
    free_port,
)
from storage import outbox
from storage.models import (
    Answer,
    Candidate,
    Comment,
    Interview,
    InterviewStatus,
    Score,
    TranscriptStatus,
)
from tests.helpers.slack import card, db, hire, opened_view, picked, text_value, users_value
from tests.helpers.stories import start_answering
from tests.helpers.webhooks import receiver

# Whole interviews with real transcription, then a search of every table, file and message.
pytestmark = pytest.mark.slow

NAME = "Zanzibar Quetzalcoatl"
EMAIL = "zq.canary@example.org"
SENTENCE = "Purple elephants juggle quietly behind the lighthouse."

CANARY_OPENING = """\
slug: {slug}
title: {title}
review_channel: C0REVIEW01
blind_review: true
rubric: [Communication]
questions:
  - text: Tell us about a system you built.
    answer_types: [voice]
  - text: What would you change about it?
    answer_types: [text]
"""


def _in(database_url: str) -> str | None:
    """PostgreSQL by its URL; SQLite in the data folder (the default), whose bytes we read."""
    return None if database_url.startswith("sqlite") else database_url


def _opening(tmp_path: Path, slug: str = "backend-engineer", title: str = "Backend") -> Path:
    path = tmp_path / f"{slug}.yaml"
    path.write_text(CANARY_OPENING.format(slug=slug, title=title))
    return path


async def _invite(w: World, slug: str = "backend-engineer") -> str:
    from bot.sandbox.world import INVITE_LINK

    reply = await w.slack.teammate(RECRUITER).slash(
        "/hire", f"invite {slug} {NAME} {EMAIL}", REVIEW_CHANNEL
    )
    link = INVITE_LINK.search(reply.text or "")
    assert link is not None, reply.text
    return link.group(2)


async def _answer_both(w: World, zq: SandboxCandidate, token: str) -> None:
    await start_answering(w, zq, token)
    await answer_question(zq, 1, 2, lambda: zq.send_voice(SAMPLES / "answer1.ogg"))
    await answer_question(zq, 2, 2, lambda: zq.send_text(SENTENCE))
    await zq.wait_for_message("submitted all 2 answers")


async def _transcribed(w: World) -> None:
    def voice_done() -> bool:
        status = select(Answer.transcript_status).where(Answer.media_kind == "voice")
        return db(w, lambda s: s.exec(status).all()) == [TranscriptStatus.DONE]

    await eventually(voice_done, seconds=90, what="the transcript")
    await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)


def _spoken(w: World) -> str:
    """A stretch of what Whisper heard in the voice answer: a canary of its own."""
    heard = db(
        w, lambda s: s.exec(select(Answer.transcript_text).where(Answer.media_kind == "voice"))
    ).all()
    text = max((t or "" for t in heard), key=len).strip()
    assert len(text) > 20, text
    return text[: len(text) // 2].strip()


def _in_tables(w: World, canaries: Iterable[str]) -> list[str]:
    """Each (table, canary) where a canary appears in any column of any row."""

    def scan(session: object, _now: object) -> list[str]:
        found: list[str] = []
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(sa_select(table)).all():  # type: ignore[attr-defined]
                cells = json.dumps([str(v) for v in row], ensure_ascii=False)
                found += [f"{table.name}: {c}" for c in canaries if c in cells]
        return found

    return w.bot.uow.run_sync(scan)


def _in_files(folder: Path, canaries: Iterable[str]) -> list[str]:
    """Each (file, canary) where a canary's bytes appear anywhere in a file of ``folder``."""
    found: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path.name}: {c}" for c in canaries if c.encode() in data]
    return found


def _in_slack(w: World, canaries: Iterable[str], *, people_too: bool) -> list[str]:
    """Each canary in what the workspace keeps: messages (channels, threads, DMs) and files.

    ``people_too=False`` leaves out messages people wrote themselves, which a bot cannot
    delete (erasure lists them instead). Ephemeral messages are not kept by Slack at all.
    """
    found: list[str] = []
    for message in w.slack.all_messages_newest_first():
        if message.bot or people_too:
            shown = json.dumps([message.text, message.blocks, message.metadata], ensure_ascii=False)
            shown += " ".join(
                f.filename + f.title + f.data.decode(errors="replace") for f in message.files
            )
            found += [
                f"message {message.channel}/{message.ts}: {c}" for c in canaries if c in shown
            ]
    for shared in w.slack.files:
        data = shared.filename + shared.title + shared.data.decode(errors="replace")
        found += [f"file {shared.id}: {c}" for c in canaries if c in data]
    for user, view in w.slack.home_views.items():
        found += [f"home of {user}: {c}" for c in canaries if c in json.dumps(view)]
    return found


async def _review(w: World) -> str:
    """A teammate's note in the thread, a blind vote (the reveal), scores with a note, a
    rejection with a reason, an export in the recruiter's DMs, and a share: the summary in a
    DM and a link, whose note lands in the thread. The link's address."""
    rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)
    parent = await card(w)
    await tom.reply_in_thread(REVIEW_CHANNEL, parent.ts, f"{NAME} said: {SENTENCE}")
    await eventually(lambda: db(w, lambda s: s.exec(select(Comment)).all()), what="the note")
    await tom.click("vote_yes", message=await card(w))
    await eventually(
        lambda: [e for e in w.slack.ephemerals(TEAMMATE) if NAME in str(e["text"])],
        what="the blind-review reveal",
    )
    await tom.click("score_open", message=await card(w))
    form = await opened_view(w, "score")
    note = text_value(f"{NAME} ({EMAIL}): {SENTENCE}")
    assert await tom.submit_view(form, {"criterion-0": picked("4"), "note": note}) == 200
    await eventually(lambda: db(w, lambda s: s.exec(select(Score)).all()), what="the score")

    await rita.slash("/hire", f"reject {NAME}", REVIEW_CHANNEL)
    form = await opened_view(w, "reject")
    values = {"reason": text_value(f"{NAME} wrote: {SENTENCE}"), "message": text_value("Sorry.")}
    assert await rita.submit_view(form, values) == 200
    assert await hire(w, RECRUITER, "export") == "Exported 1 candidate: check your DMs."
    await eventually(lambda: any(NAME.encode() in f.data for f in w.slack.files), what="the export")
    # The JSON export carries the transcripts too.
    assert await hire(w, RECRUITER, "export json") == "Exported 1 candidate: check your DMs."
    spoken = _spoken(w).encode()
    await eventually(lambda: any(spoken in f.data for f in w.slack.files), what="the JSON export")
    # Shared with Tom by DM (the transcripts) and by a link, through which a note is left.
    address = await make_share_link(w, "Dana Lee", people=users_value(TEAMMATE))
    async with aiohttp.ClientSession() as http:
        vote = {"choice": "yes", "note": f"{NAME} ({EMAIL}): {SENTENCE}"}
        async with http.post(f"{address}/vote", data=vote) as voted:
            assert voted.status == 200
    await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
    return address


async def test_recruiter_erasure_leaves_no_canary_in_tables_files_or_slack(
    tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "data"
    async with (
        World(data_dir=data, database_url=_in(database_url), opening_file=_opening(tmp_path)) as w,
        receiver(free_port()) as hook,
    ):
        # A webhook gets every event: the invitation's body names the candidate.
        everything = " ".join(EVENTS)
        assert "Added webhook" in await hire(w, RECRUITER, f"webhooks add {hook.url} {everything}")
        zq = w.telegram.candidate(700_801, "Zanzibar", "Quetzalcoatl")
        await _answer_both(w, zq, await _invite(w))
        await _transcribed(w)
        shared = await _review(w)
        assert NAME in json.dumps(hook.accepted()[0])
        canaries = [NAME, EMAIL, SENTENCE, _spoken(w)]
        # The search finds every canary while the data is there.
        assert {c for c in canaries if any(c in f for f in _in_tables(w, canaries))} == set(
            canaries
        )
        assert _in_slack(w, [NAME, EMAIL, SENTENCE], people_too=False)
        if database_url.startswith("sqlite"):
            assert _in_files(data, [NAME, SENTENCE])  # in the database file or its WAL

        done = await hire(w, RECRUITER, "erase #1 confirm")
        assert done == (
            f"Erased {NAME}'s recordings, transcripts and details (#1). Teammates' replies in "
            f"the review thread stay (1 by <@{TEAMMATE}>): a bot cannot delete them, so please "
            "delete them yourselves if they identify the candidate."
        )
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
        await eventually(lambda: not _in_slack(w, canaries, people_too=False), what="Slack clean")
        # A teammate's later reply in the erased thread is not kept as a note either.
        parent = await card(w)
        await w.slack.teammate(TEAMMATE).reply_in_thread(
            REVIEW_CHANNEL, parent.ts, f"Wait, was that {NAME}?"
        )

        assert _in_tables(w, canaries) == []
        assert _in_files(data, canaries) == []
        async with aiohttp.ClientSession() as http, http.get(shared) as page:
            assert page.status == 404
        assert _in_slack(w, canaries, people_too=False) == []
        await eventually(
            lambda: [b for b in hook.accepted() if b["type"] == "candidate.erased"],
            what="the erasure event",
        )
        # What is left is Tom's own replies: a bot cannot delete them (the recruiter was told).
        left = [m.user for m in w.slack.all_messages_newest_first() if NAME in m.text]
        assert left == [TEAMMATE, TEAMMATE]


async def test_delete_my_data_erases_both_interviews_of_one_person(
    tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "data"
    async with World(
        data_dir=data, database_url=_in(database_url), opening_file=_opening(tmp_path)
    ) as w:
        w.import_opening(_opening(tmp_path, "platform-engineer", "Platform"))
        zq = w.telegram.candidate(700_802, "Zanzibar", "Quetzalcoatl")
        await _answer_both(w, zq, await _invite(w))
        await _transcribed(w)
        # The surname alone too: Telegram sends first and last name apart (the inbox keeps
        # each update until it is handled).
        canaries = [NAME, EMAIL, SENTENCE, _spoken(w), NAME.split()[1]]
        # Invited again, to another opening: the newer interview is the one they are in.
        mark = len(zq.inbox())
        await zq.send_command("/start", await _invite(w, "platform-engineer"))
        await zq.press("I agree", await zq.wait_for_message("Do you agree?", after=mark))
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
        assert len(_in_tables(w, canaries)) > len(canaries)

        await zq.send_command("/delete_my_data")
        await zq.press("Yes, delete everything", await zq.wait_for_message("can't be undone"))
        await zq.wait_for_message("Done: your recordings")
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
        await eventually(lambda: not _in_slack(w, canaries, people_too=True), what="Slack clean")

        statuses = db(w, lambda s: s.exec(select(Interview.status)).all())
        assert statuses == [InterviewStatus.WITHDRAWN, InterviewStatus.WITHDRAWN]
        assert db(w, lambda s: s.exec(select(Candidate.email)).all()) == [None, None]
        assert _in_tables(w, canaries) == []
        assert _in_files(data, canaries) == []
        assert _in_slack(w, canaries, people_too=True) == []
