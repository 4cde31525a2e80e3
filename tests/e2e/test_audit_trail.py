"""The audit trail of the main story, through the real bot: a recruiter invites, the candidate
answers on Telegram, a teammate votes, the recruiter advances, looks, and erases. ``/hire
audit`` shows every step in order, to recruiters only, and after the erasure neither the
trail nor ``hirebot audit export`` names the candidate."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

from sqlmodel import col, select

from bot.sandbox.world import RECRUITER, TEAMMATE, World, eventually
from storage.models import Answer, AuditEvent
from tests.helpers.slack import card, db, finish_interview, hire
from tests.helpers.stories import invite

STORY = [
    (RECRUITER, "interview.invited"),
    ("candidate", "interview.started"),
    ("candidate", "interview.consented"),
    ("candidate", "interview.completed"),
    (TEAMMATE, "review.voted"),
    (RECRUITER, "decision.made"),
    (RECRUITER, "status.viewed"),
]
_LINE = re.compile(r"^• \d{4}-\d\d-\d\d \d\d:\d\d · (\S+) · `([a-z_.]+)`")


# Whisper finishes each answer when it does, before or after the candidate's next step: the
# stories below compare the rest, and count these apart.
TRANSCRIBED = ("hirebot", "answer.transcribed")


def _story(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [step for step in steps if step != TRANSCRIBED]


def _steps(text: str) -> list[tuple[str, str]]:
    """(actor, action) of each line of ``/hire audit``'s answer, mentions unwrapped."""
    found = [_LINE.match(line) for line in text.splitlines()[1:]]
    assert all(found), text
    return [(m.group(1).removeprefix("<@").removesuffix(">"), m.group(2)) for m in found if m]


async def _export(w: World, since: str) -> list[dict[str, object]]:
    """``hirebot audit export --since`` as its own process, against the bot's database."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "audit",
        "export",
        "--since",
        since,
        env={**os.environ, **w.environment()},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()]


async def test_the_trail_shows_the_story_in_order_and_survives_erasure_without_the_name(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        jane = w.telegram.candidate(700_901, "Jane", "Marchetti")
        await finish_interview(w, jane, await invite(w, "Jane Marchetti"))
        await eventually(
            lambda: all(
                a.transcript_status == "done" for a in db(w, lambda s: s.exec(select(Answer)).all())
            ),
            what="both transcripts",
        )
        await w.slack.teammate(TEAMMATE).click("vote_yes", message=await card(w))
        await hire(w, RECRUITER, "advance #1")
        assert "Jane Marchetti" in await hire(w, RECRUITER, "status Jane Marchetti")

        trail = await hire(w, RECRUITER, "audit Jane Marchetti")
        assert trail.splitlines()[0] == "*Audit trail of #1* (times in UTC, oldest first)"
        assert _story(_steps(trail))[: len(STORY)] == STORY
        assert _steps(trail).count(TRANSCRIBED) == 2
        assert "Jane" not in trail and "Marchetti" not in trail

        # A teammate who is no recruiter is refused, and nothing is recorded for them.
        refused = await hire(w, TEAMMATE, "audit #1")
        assert refused.startswith("Only recruiters can use `/hire audit`")
        actors = db(w, lambda s: s.exec(select(AuditEvent.actor)).all())
        assert actors.count(TEAMMATE) == 1  # the vote only

        erased = await hire(w, RECRUITER, "erase #1 confirm")
        assert erased.startswith("Erased Jane Marchetti's")
        after = await hire(w, RECRUITER, "audit #1")
        assert _story(_steps(after)) == [
            *STORY,
            (RECRUITER, "audit.viewed"),
            (RECRUITER, "candidate.erased"),
        ]
        assert "Jane" not in after and "Marchetti" not in after

        rows = db(w, lambda s: list(s.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()))
        assert {r.interview_id for r in rows} == {1}
        stored = json.dumps([r.model_dump(mode="json") for r in rows])
        assert "Jane" not in stored and "Marchetti" not in stored
        assert [r.detail for r in rows if r.action == "decision.made"] == [
            {"decision": "advance", "stage": "Live interview"}
        ]

        exported = await _export(w, "2000-01-01")
        assert _story([(str(e["actor"]), str(e["action"])) for e in exported]) == [
            *STORY,
            (RECRUITER, "audit.viewed"),
            (RECRUITER, "candidate.erased"),
            (RECRUITER, "audit.viewed"),
        ]
        assert all(str(e["at"]).endswith("+00:00") for e in exported)
        assert "Marchetti" not in json.dumps(exported)
        assert await _export(w, "2999-01-01") == []
