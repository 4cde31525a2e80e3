"""Lever, end to end: the real bot (PTB, Bolt, the outbox, Whisper) against the Slack, Telegram
and Lever emulators and a real SMTP server. A recruiter moves a candidate in Lever; hirebot
invites them by email; they answer on Telegram; Lever holds the note, the tags, the stage and
the archive. Outages and 429 storms delay the sync but neither lose nor duplicate a note, and
a forged or replayed webhook changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import ClientSession
from sqlmodel import select

from bot.sandbox import lever as emulator
from bot.sandbox.lever import LeverSandbox, Opportunity
from bot.sandbox.world import (
    RECRUITER,
    REVIEW_CHANNEL,
    World,
    eventually,
)
from storage.models import AtsLink, Interview
from tests.helpers.ats import emailed_token, invited_note
from tests.helpers.lever import lever_world
from tests.helpers.slack import card, db, finish_interview, hire, reject_through_form

JANE = "jane.doe@example.org"


async def invited_from_lever(w: World, lever: LeverSandbox) -> tuple[Opportunity, str]:
    """Rita drags Jane to "Async interview" in Lever; returns her opportunity and the token
    of the deep link hirebot emailed her."""
    jane = lever.add_opportunity("Jane Doe", JANE)
    await lever.move(jane.id, "stage-async")
    await lever.wait_sent()
    assert [d.status for d in lever.deliveries] == [200]
    return jane, await emailed_token(w, JANE)


def has_tag(lever: LeverSandbox, ref: str, tag: str) -> bool:
    return tag in lever.opportunity(ref).tags


async def test_a_lever_stage_change_starts_an_interview_and_lever_follows_it(
    tmp_path: Path,
) -> None:
    async with lever_world(tmp_path) as (w, lever):
        opportunity, token = await invited_from_lever(w, lever)
        ref = opportunity.id

        # The team sees where the invitation came from; Lever is tagged, on the same record.
        parent = await invited_note(w, "Invited automatically", "the note that Lever invited them")
        await eventually(lambda: has_tag(lever, ref, "async interview sent"), what="the tag")
        assert len(lever.with_email(JANE)) == 1  # found by its ref, nothing created
        link = db(w, lambda s: s.exec(select(AtsLink)).one())
        assert link.ref == ref and link.kind == "lever"

        # Jane answers both questions by voice; the note waits for the transcripts.
        candidate = w.telegram.candidate(700_901, "Jane", "Doe")
        await finish_interview(w, candidate, token)
        await eventually(
            lambda: has_tag(lever, ref, "async interview completed"), seconds=120, what="tag 2"
        )
        (note,) = lever.notes(ref)
        assert note.startswith("hirebot: async interview completed (Backend Engineer).")
        assert "Q1. Tell us about a system you built" in note
        assert "Q2. How do you work with the people on your team?" in note
        assert "no transcript" not in note  # both transcripts were waited for
        thread = f"/archives/{REVIEW_CHANNEL}/p{parent.ts.replace('.', '')}"
        assert "Recordings, votes and comments: https://" in note and thread in note
        assert note.rstrip().endswith("]") and "[hirebot:" in note

        # /hire advance moves her in Lever; /hire reject archives her with the reason.
        await hire(w, RECRUITER, "advance Jane Doe")
        await eventually(lambda: lever.opportunity(ref).stage == "stage-onsite", what="moved")
        await eventually(lambda: len(lever.notes(ref)) == 2, what="the decision's note")
        decided = lever.notes(ref)[1]
        assert decided.startswith("hirebot: advanced to Live interview.\nVotes: Yes 0")
        await reject_through_form(w, "Jane Doe")
        await eventually(lambda: lever.opportunity(ref).archived is not None, what="archived")
        archived = lever.opportunity(ref).archived
        assert archived is not None and archived["reason"] == "reason-underqualified"
        await eventually(lambda: len(lever.notes(ref)) == 3, what="the rejection's note")
        assert lever.notes(ref)[2].startswith("hirebot: rejected after the async interview.")
        writes = [c for c in lever.calls if c.method != "GET"]
        assert all(c.query.get("perform_as") == emulator.USER for c in writes)
        await w.wait_idle()
        assert len(lever.notes(ref)) == 3


async def test_outages_storms_and_lost_answers_delay_the_sync_but_lose_and_repeat_nothing(
    tmp_path: Path,
) -> None:
    async with lever_world(tmp_path) as (w, lever):
        opportunity, token = await invited_from_lever(w, lever)
        ref = opportunity.id
        await eventually(lambda: has_tag(lever, ref, "async interview sent"), what="the tag")

        # Lever is down while Jane finishes: the note waits, and goes once Lever is back;
        # then Lever takes the note but its answer is lost on the way back (a timeout): the
        # retry finds the note there and does not post it again.
        lever.outage = True
        await finish_interview(w, w.telegram.candidate(700_902, "Jane", "Doe"), token)
        await eventually(lambda: len(lever.refused(503)) >= 2, seconds=120, what="503s")
        assert lever.notes(ref) == []
        lever.lose_answers = 1
        lever.outage = False
        await eventually(
            lambda: has_tag(lever, ref, "async interview completed"), seconds=60, what="tag 2"
        )
        assert lever.lose_answers == 0 and len(lever.notes(ref)) == 1

        # A 429 storm while the recruiter decides, one request every two seconds at most:
        # the move and its note are paced through it, without starting over.
        lever.storm(rate=0.5)
        await hire(w, RECRUITER, "advance Jane Doe")
        await eventually(lambda: lever.opportunity(ref).stage == "stage-onsite", what="moved")
        await eventually(lambda: len(lever.notes(ref)) == 2, seconds=60, what="decision note")
        assert len(lever.refused(429)) >= 2
        lever.calm()
        await w.wait_idle()
        notes = lever.notes(ref)
        assert len(notes) == 2 and len(set(notes)) == 2
        assert notes[0].startswith("hirebot: async interview completed")
        assert notes[1].startswith("hirebot: advanced to Live interview.")
        assert has_tag(lever, ref, "async interview completed")
        # Nothing was reported in the thread: every step got through in the end.
        parent = await card(w)
        assert not [
            m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "did not take" in m.text
        ]


async def test_a_forged_or_replayed_webhook_is_refused_and_a_redelivery_handled_once(
    tmp_path: Path,
) -> None:
    async with lever_world(tmp_path) as (w, lever):
        jane = lever.add_opportunity("Jane Doe", JANE)
        data = {"opportunityId": jane.id, "toStageId": "stage-async", "fromStageId": "lead-new"}

        # Forged: signed with another token. Replayed: a genuine delivery from two days ago.
        signed_by_us = lever.signature_token
        lever.signature_token = "someone-elses-token"
        forged = lever.signed("candidateStageChange", data)
        lever.signature_token = signed_by_us
        old = int((datetime.now(UTC) - timedelta(days=2)).timestamp() * 1000)
        replayed = lever.signed("candidateStageChange", data, triggered_at=old)
        tampered = json.dumps(json.loads(forged) | {"signature": "f" * 64}).encode()
        for body in (forged, replayed, tampered, b"{}", b"not json"):
            assert await lever.post_webhook(body) == 401
        await w.wait_idle()
        assert db(w, lambda s: s.exec(select(Interview)).all()) == []
        assert w.mailbox.received == [] and w.slack.messages(REVIEW_CHANNEL) == []

        # A genuine delivery, delivered twice (Lever retries when our 200 is lost): one
        # invitation. A stage change to another stage invites nobody.
        genuine = lever.signed("candidateStageChange", data)
        assert await lever.post_webhook(genuine) == 200
        assert await lever.post_webhook(genuine) == 200
        other = {**data, "toStageId": "stage-screen"}
        assert await lever.post_webhook(lever.signed("candidateStageChange", other)) == 200
        # The genuine delivery captured and replayed with another candidate in its (unsigned)
        # data: its token was handled, so nothing happens.
        john = lever.add_opportunity("John Roe", "john.roe@example.org")
        swapped = json.loads(genuine)
        swapped["data"]["opportunityId"], swapped["id"] = john.id, "event-new"
        assert await lever.post_webhook(json.dumps(swapped).encode()) == 200
        # Moved out and back into the stage: the same record is not invited twice.
        assert await lever.post_webhook(lever.signed("candidateStageChange", data)) == 200
        await w.wait_idle()
        assert len(db(w, lambda s: s.exec(select(Interview)).all())) == 1
        await eventually(lambda: w.mailbox.received, what="one invitation")
        assert len(w.mailbox.received) == 1
        # An ATS hirebot does not speak (or one not set up) is not there at all.
        async with ClientSession() as http:
            url = f"http://127.0.0.1:{w.bot.http_port}/ats/ashby"
            async with http.post(url, data=genuine) as response:
                assert response.status == 404


async def test_lever_refusing_a_step_is_told_in_the_candidates_thread(tmp_path: Path) -> None:
    async with lever_world(tmp_path) as (w, lever):
        lever.keys[emulator.API_KEY] = False  # the key lost its write permission
        await hire(w, RECRUITER, f"invite backend-engineer Jane Doe {JANE}")
        parent = await card(w)
        (told,) = await eventually(
            lambda: [
                m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "did not take" in m.text
            ],
            what="the refusal in the thread",
        )
        assert told.text == (
            "⚠️ Lever did not take the invitation (finding the candidate and tagging them): "
            "Lever answered 403 ForbiddenError. I gave up on it; please update "
            "the candidate in Lever by hand. Later updates still go."
        )
        assert lever.opportunities == {}


async def test_erasure_forgets_the_sync_and_says_the_lever_record_stays(tmp_path: Path) -> None:
    async with lever_world(tmp_path) as (w, lever):
        opportunity, _token = await invited_from_lever(w, lever)
        await eventually(lambda: has_tag(lever, opportunity.id, "async interview sent"))
        await w.wait_idle()
        calls = len(lever.calls)
        erased = await hire(w, RECRUITER, "erase #1 confirm")
        assert erased.startswith("Erased Jane Doe's recordings")
        told = await eventually(
            lambda: [m for m in w.slack.direct_messages(RECRUITER) if "system of record" in m.text],
            what="the DM saying the Lever record stays",
        )
        assert told[0].text.startswith("ℹ️ Candidate #1 was erased from hirebot.")
        assert "Jane" not in told[0].text
        await w.wait_idle()
        assert db(w, lambda s: s.exec(select(AtsLink)).all()) == []
        assert len(lever.calls) == calls  # nothing more reaches Lever about her
        assert lever.opportunity(opportunity.id).tags == ["async interview sent"]
