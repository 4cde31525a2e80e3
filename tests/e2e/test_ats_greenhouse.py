"""Greenhouse, end to end: the real bot (PTB, Bolt, the outbox, Whisper) against the Slack,
Telegram and Greenhouse emulators and a real SMTP server. A recruiter moves a candidate in
Greenhouse; its signed webhook makes hirebot invite them by email; they answer on Telegram;
Greenhouse holds the note, the tags, the stage and the rejection. An outage, an answer lost
after Greenhouse saved, and a 429 storm delay the sync but neither lose nor duplicate a note;
a forged or replayed webhook changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.sandbox.greenhouse import Candidate, GreenhouseSandbox, ruby_json
from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, World, eventually
from storage.models import AtsLink, Interview
from tests.helpers.ats import emailed_token, invited_note
from tests.helpers.greenhouse import greenhouse_world
from tests.helpers.slack import card, db, finish_interview, hire, reject_through_form

JANE = "jane.doe@example.org"


async def invited_from_greenhouse(w: World, gh: GreenhouseSandbox) -> tuple[Candidate, str]:
    """Rita moves Jane to "Async Interview" in Greenhouse; returns Jane's record and the
    token of the deep link hirebot emailed her."""
    jane = gh.add_candidate("Jane", "Doe", JANE, job_id=gh.job_id)
    gh.move_in_greenhouse(jane.application_ids[0], "Async Interview")
    await gh.settled()
    assert [a.status for a in gh.webhook_attempts()] == [200]
    return jane, await emailed_token(w, JANE)


def tagged(gh: GreenhouseSandbox, jane: Candidate, tag: str) -> bool:
    return tag in gh.tags(jane.id)


def bodies(gh: GreenhouseSandbox, jane: Candidate) -> list[str]:
    return [n.body for n in gh.notes(jane.id)]


async def test_a_greenhouse_stage_change_starts_an_interview_and_greenhouse_follows_it(
    tmp_path: Path,
) -> None:
    async with greenhouse_world(tmp_path) as (w, gh):
        jane, token = await invited_from_greenhouse(w, gh)
        (application_id,) = jane.application_ids

        parent = await invited_note(
            w, "Invited automatically: Greenhouse moved", "the note that Greenhouse invited them"
        )
        await eventually(lambda: tagged(gh, jane, "async interview sent"), what="the tag")
        assert len(gh.candidates) == 1 and gh.writes("/v1/candidates") == []  # found by ref
        link = db(w, lambda s: s.exec(select(AtsLink)).one())
        assert (link.ref, link.kind) == (f"{jane.id}:{application_id}", "greenhouse")

        await finish_interview(w, w.telegram.candidate(700_911, "Jane", "Doe"), token)
        await eventually(
            lambda: tagged(gh, jane, "async interview completed"), seconds=120, what="tag 2"
        )
        (note,) = gh.notes(jane.id)
        assert (note.visibility, note.user_id) == ("private", gh.user_id)
        assert note.body.startswith("hirebot: async interview completed (Backend Engineer).")
        assert "Q1. Tell us about a system you built" in note.body
        assert "no transcript" not in note.body
        assert f"/archives/{REVIEW_CHANNEL}/p{parent.ts.replace('.', '')}" in note.body

        # /hire advance moves the application from where it is; /hire reject rejects it
        # with the mapped reason.
        await hire(w, RECRUITER, "advance Jane Doe")
        await eventually(
            lambda: gh.application(application_id).stage_id == gh.stage_id("Phone Screen"),
            what="moved to Phone Screen",
        )
        await eventually(lambda: len(gh.notes(jane.id)) == 2, what="the decision's note")
        assert bodies(gh, jane)[1].startswith("hirebot: advanced to Live interview.")
        (move,) = gh.writes("/move")
        assert move.body == {
            "from_stage_id": gh.stage_id("Async Interview"),
            "to_stage_id": gh.stage_id("Phone Screen"),
        }
        await reject_through_form(w, "Jane Doe")
        await eventually(
            lambda: gh.application(application_id).status == "rejected", what="rejected"
        )
        assert gh.application(application_id).rejection_reason_id == 5001
        await eventually(lambda: len(gh.notes(jane.id)) == 3, what="the rejection's note")
        assert bodies(gh, jane)[2].startswith("hirebot: rejected after the async interview.")
        await w.wait_idle()
        assert len(gh.notes(jane.id)) == 3
        assert all(r.on_behalf_of == str(gh.user_id) for r in gh.writes())
        # Greenhouse told its own subscribers of the move and the rejection; hirebot took
        # them (200) and invited nobody again.
        assert {a.status for a in gh.webhook_attempts()} == {200}
        assert len(db(w, lambda s: s.exec(select(Interview)).all())) == 1


async def test_an_outage_a_lost_answer_and_a_429_storm_lose_and_repeat_no_note(
    tmp_path: Path,
) -> None:
    async with greenhouse_world(tmp_path) as (w, gh):
        jane, token = await invited_from_greenhouse(w, gh)
        await eventually(lambda: tagged(gh, jane, "async interview sent"), what="the tag")

        # Greenhouse is down while Jane finishes: the note waits and goes once it is back;
        # its first answer is then lost after Greenhouse saved the note: the retry finds
        # the note on the activity feed and does not post it again.
        gh.outage = 503
        await finish_interview(w, w.telegram.candidate(700_912, "Jane", "Doe"), token)
        await eventually(lambda: len(gh.refused(503)) >= 2, seconds=120, what="503s")
        assert gh.notes(jane.id) == []
        gh.lose_answers = 1
        gh.outage = None
        await eventually(
            lambda: tagged(gh, jane, "async interview completed"), seconds=60, what="tag 2"
        )
        assert gh.lose_answers == 0 and len(gh.notes(jane.id)) == 1

        # A 429 storm while the recruiter decides: the move and its note wait, then go.
        gh.rate_limit = 0
        await hire(w, RECRUITER, "advance Jane Doe")
        await eventually(lambda: len(gh.refused(429)) >= 2, what="429s")
        gh.rate_limit = 50
        await eventually(
            lambda: gh.application(jane.application_ids[0]).stage_id == gh.stage_id("Phone Screen"),
            what="moved",
        )
        await eventually(lambda: len(gh.notes(jane.id)) == 2, seconds=60, what="decision note")
        await w.wait_idle()
        notes = bodies(gh, jane)
        assert len(notes) == 2 and len(set(notes)) == 2
        assert notes[0].startswith("hirebot: async interview completed")
        assert notes[1].startswith("hirebot: advanced to Live interview.")
        parent = await card(w)
        assert not [
            m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "did not take" in m.text
        ]


async def test_forged_and_replayed_greenhouse_webhooks_change_nothing(tmp_path: Path) -> None:
    async with greenhouse_world(tmp_path) as (w, gh):
        jane = gh.add_candidate("Jane", "Doe", JANE, job_id=gh.job_id)
        (application_id,) = jane.application_ids

        # Forged: Greenhouse's sender signing with a secret that is not ours, retried the
        # documented 7 times, refused each time.
        gh.subscribe(gh.webhook_url or "", "someone-elses-secret")
        gh.move_in_greenhouse(application_id, "Async Interview")
        await gh.settled()
        attempts = gh.webhook_attempts("candidate_stage_change")
        assert [a.status for a in attempts] == [401] * 7
        genuine_body = attempts[0].body
        # Replayed: a genuine delivery captured two days ago, correctly signed.
        old = json.loads(genuine_body)
        stale = datetime.now(UTC) - timedelta(days=2)
        old["payload"]["application"]["last_activity_at"] = stale.strftime("%Y-%m-%dT%H:%M:%SZ")
        gh.subscribe(gh.webhook_url or "")
        assert await gh.post_webhook(ruby_json(old)) == 401
        assert await gh.post_webhook(b"not json") == 401
        await w.wait_idle()
        assert db(w, lambda s: s.exec(select(Interview)).all()) == []
        assert w.mailbox.received == [] and w.slack.messages(REVIEW_CHANNEL) == []

        # The genuine body, now signed with our secret, delivered twice with different
        # event ids (a retry, or someone replaying it within the day): one invitation.
        assert await gh.post_webhook(genuine_body) == 200
        assert await gh.post_webhook(genuine_body) == 200
        await w.wait_idle()
        assert len(db(w, lambda s: s.exec(select(Interview)).all())) == 1
        await eventually(lambda: w.mailbox.received, what="one invitation")
        assert len(w.mailbox.received) == 1
