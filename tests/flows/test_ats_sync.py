"""The ATS sync's rules, on the rows the flows write: which events queue a step, in what
order, with nothing personal in the row; what each step says when it is sent (the note waits
for transcripts, blind review keeps the tally out); failures told once; erasure."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.errors import OpeningFileError
from bot.flows import ats_steps, erasure, extensions, openings, outgoing, pipeline, review
from bot.flows.ats_sync import AtsSpec
from bot.flows.review import VoteChoice
from bot.limits import AtsLimit
from storage.models import Answer, AtsLink, AuditEvent, Interview, TranscriptStatus
from tests.helpers.flows import RECRUITER, FlowWorld

ATS_SYNC = "ats.sync"
JANE = "jane.doe@example.org"
LEVER: dict[str, Any] = {
    "kind": "lever",
    "job": "posting-1",
    "invite_stage": "stage-async",
    "stages": {"Live interview": "stage-onsite"},
    "reject_reason": "reason-1",
}


def steps(world: FlowWorld) -> list[tuple[str, str | None, str | None]]:
    return [
        (r.payload["step"], r.payload.get("decision"), r.payload.get("stage"))
        for r in world.outbox(ATS_SYNC)
    ]


def prepared(world: FlowWorld, index: int = -1, link: str | None = None) -> ats_steps.Work:
    row = world.outbox(ATS_SYNC)[index]
    message = outgoing.read(row.kind, row.ordering_key, row.payload)
    assert isinstance(message, outgoing.AtsSync)
    work = world.run(lambda s, now: ats_steps.prepare(s, message, link, now))
    assert work is not None
    return work


def finished(world: FlowWorld, email: str | None = JANE) -> int:
    jane = world.invite(email=email)
    world.agree(jane)
    world.answer(jane, "I like payments.")
    world.answer(jane, "The ledger I rebuilt.")
    return jane.interview_id


def test_invite_completion_and_decisions_queue_their_steps_in_order(world: FlowWorld) -> None:
    world.opening(ats=LEVER)
    jane = world.invite(email=JANE)
    world.run(lambda s, now: extensions.extend(s, who="Jane Doe", days=3, by=RECRUITER, now=now))
    world.agree(jane)
    world.answer(jane)
    world.answer(jane)
    world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    world.run(lambda s, now: pipeline.reject(s, who="Jane Doe", by=RECRUITER, now=now))
    interview_id = jane.interview_id

    assert steps(world) == [
        ("invited", None, None),
        ("completed", None, None),
        ("decided", "advance", "Live interview"),
        ("decided", "reject", "Rejected"),  # the extension is ours alone
    ]
    rows = world.outbox(ATS_SYNC)
    assert {r.ordering_key for r in rows} == {f"ats:{interview_id}"}
    assert len({r.payload["key"] for r in rows}) == 4
    # Ids and our own values only: what the ATS is told is read when it is sent.
    assert not any("Jane" in str(r.payload) or "example.org" in str(r.payload) for r in rows)
    link = world.read(lambda s: s.get_one(AtsLink, interview_id))
    assert link.kind == "lever" and link.ref is None


def test_an_opening_without_an_ats_queues_nothing(world: FlowWorld) -> None:
    world.opening()
    finished(world)
    world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    assert (
        world.outbox(ATS_SYNC) == [] and world.read(lambda s: s.exec(select(AtsLink)).all()) == []
    )


def test_a_candidate_without_an_email_is_not_synced_and_the_thread_says_why(
    world: FlowWorld,
) -> None:
    world.opening(ats=LEVER)
    finished(world, email=None)
    world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    assert world.outbox(ATS_SYNC) == []
    assert (
        "ℹ️ Not added to Lever: the invitation has no email address to find the candidate by "
        "there." in world.thread_notes()
    )


def test_the_invitation_finds_the_person_and_tags_them(world: FlowWorld) -> None:
    world.opening(ats=LEVER)
    world.invite(email=JANE)
    work = prepared(world)
    assert work.person.email == JANE and work.person.name == "Jane Doe"
    assert work.job == "posting-1" and work.tags == ("async interview sent",)
    assert work.note is None and work.ref is None


def test_the_completion_note_has_transcripts_timing_and_the_thread(world: FlowWorld) -> None:
    world.opening(ats=LEVER)
    finished(world)
    work = prepared(world, link="https://acme.slack.com/archives/C0REVIEW01/p1")
    assert work.tags == ("async interview completed",) and work.wait is None
    assert work.note is not None
    lines = work.note.splitlines()
    assert lines[0] == "hirebot: async interview completed (Backend Engineer)."
    assert lines[1].startswith("Invited Thu 26 Nov 2026, 12:00 UTC; completed ")
    assert (
        lines[2] == "Recordings, votes and comments: https://acme.slack.com/archives/C0REVIEW01/p1"
    )
    assert lines[4:9] == [
        "Q1. Why this role?",
        "Answer (typed): I like payments.",
        "",
        "Q2. What are you proud of?",
        "Answer (typed): The ledger I rebuilt.",
    ]
    assert lines[-1] == f"[hirebot:{world.outbox(ATS_SYNC)[-1].payload['key']}]"


def test_the_completion_note_waits_for_transcripts_but_not_for_ever(world: FlowWorld) -> None:
    world.opening(ats=LEVER)
    interview_id = finished(world)

    def still_transcribing(session: Session) -> None:
        answer = session.exec(select(Answer).where(Answer.interview_id == interview_id)).first()
        assert answer is not None
        answer.media_kind, answer.media_path = "voice", "ab/cd.ogg"
        answer.transcript_status = TranscriptStatus.PENDING
        answer.telegram_duration = 42

    world.run(lambda s, _now: still_transcribing(s))
    assert prepared(world).wait == AtsLimit.TRANSCRIPT_POLL_SECONDS
    world.advance(seconds=AtsLimit.TRANSCRIPT_WAIT_SECONDS - 2)
    assert prepared(world).wait == pytest.approx(2)
    world.advance(seconds=2)
    late = prepared(world)
    assert late.wait is None and late.note is not None
    assert "Answer (voice, 0:42, take 1): no transcript yet (listen in Slack)." in late.note


def test_a_decision_moves_the_mapped_stage_and_notes_the_votes_and_scores(
    world: FlowWorld,
) -> None:
    world.opening(ats=LEVER, rubric=["Communication"])
    interview_id = finished(world)
    world.vote(interview_id, "U0TOM", VoteChoice.YES)
    world.run(
        lambda s, now: review.score(
            s,
            interview_id=interview_id,
            reviewer="U0TOM",
            scores={"Communication": 4},
            note="",
            now=now,
        )
    )
    world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    work = prepared(world)
    assert work.stage == "stage-onsite" and not work.reject
    assert work.note is not None
    assert work.note.splitlines()[:3] == [
        "hirebot: advanced to Live interview.",
        "Votes: Yes 1 · Maybe 0 · No 0.",
        "Rubric averages (1-5): Communication 4.0.",
    ]
    # A stage the opening does not map is not moved; the note still goes.
    world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    assert prepared(world).stage is None
    world.run(lambda s, now: pipeline.reject(s, who="Jane Doe", by=RECRUITER, now=now))
    rejected = prepared(world)
    assert rejected.reject and rejected.reason == "reason-1" and rejected.stage is None


def test_blind_review_keeps_the_tally_out_of_the_ats_until_the_decision_is_final(
    world: FlowWorld,
) -> None:
    world.opening(ats=LEVER, blind_review=True)
    finished(world)
    world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    advanced = prepared(world).note
    assert advanced is not None and "Votes:" not in advanced
    assert "Votes and scores stay in Slack while blind review runs." in advanced
    world.run(lambda s, now: pipeline.reject(s, who="Jane Doe", by=RECRUITER, now=now))
    rejected = prepared(world).note
    assert rejected is not None and "Votes: Yes 0 · Maybe 0 · No 0." in rejected


def test_a_step_failing_is_told_once_after_the_last_retry_or_at_once_when_refused(
    world: FlowWorld,
) -> None:
    world.opening(ats=LEVER)
    interview_id = world.invite(email=JANE).interview_id

    def fail(refused: bool) -> bool:
        return world.run(
            lambda s, now: ats_steps.failed(
                s,
                interview_id=interview_id,
                step="invited",
                reason="Lever answered 503",
                refused=refused,
                now=now,
                max_failures=3,
            )
        )

    before = len(world.thread_notes())
    assert [fail(False), fail(False)] == [False, False]
    assert len(world.thread_notes()) == before
    assert fail(False)  # the third in a row: given up, and told
    assert world.thread_notes()[-1] == (
        "⚠️ Lever did not take the invitation (finding the candidate and tagging them): it "
        "failed 3 times in a row: Lever answered 503. I gave up on it; please update the "
        "candidate in Lever by hand. Later updates still go."
    )
    assert fail(True)  # refused: at once
    assert world.thread_notes()[-1].startswith(
        "⚠️ Lever did not take the invitation (finding the candidate and tagging them): "
        "Lever answered 503. I gave up"
    )
    fail(False)
    world.run(lambda s, now: ats_steps.succeeded(s, interview_id, "invited", now))
    assert world.read(lambda s: s.get_one(AtsLink, interview_id)).failures == 0
    trail = world.read(
        lambda s: [
            (e.action, e.detail)
            for e in s.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
            if e.action.startswith("ats.")
        ]
    )
    assert trail == [
        ("ats.gave_up", {"step": "invited", "ats": "lever", "refused": False}),
        ("ats.gave_up", {"step": "invited", "ats": "lever", "refused": True}),
        ("ats.synced", {"step": "invited", "ats": "lever"}),
    ]


def test_erasure_drops_the_queued_steps_and_the_link(world: FlowWorld) -> None:
    world.opening(ats=LEVER)
    interview_id = finished(world)
    world.run(lambda s, _now: ats_steps.record_ref(s, interview_id, "opp-1"))
    world.run(
        lambda s, now: erasure.erase_person(
            s, s.get_one(Interview, interview_id), by="the candidate", now=now
        )
    )
    assert world.outbox(ATS_SYNC) == []
    assert world.read(lambda s: s.get(AtsLink, interview_id)) is None
    # A step already on its way finds nothing left to say.
    message = outgoing.AtsSync(interview_id=interview_id, step="completed", key="k")
    assert world.run(lambda s, now: ats_steps.prepare(s, message, None, now)) is None


def test_the_opening_file_refuses_an_unknown_ats_or_stage(world: FlowWorld, tmp_path: Any) -> None:
    AtsSpec.model_validate(LEVER)
    for wrong, said in (
        ({"kind": "workday"}, "ats.kind must be one of lever, greenhouse"),
        ({"stages": {"Interview": "s"}}, "ats.stages maps our stages"),
        ({"job": ""}, "at least 1 character"),
    ):
        path = tmp_path / "opening.yaml"
        block = "\n".join(f"  {k}: {v!r}" for k, v in {**LEVER, **wrong}.items())
        path.write_text(
            "slug: x\ntitle: X\nreview_channel: C0REVIEW01\n"
            "questions:\n  - text: Why?\n" + "ats:\n" + block.replace("'", '"') + "\n"
        )
        with pytest.raises(OpeningFileError, match=said):
            openings.parse(path)


def test_erasure_tells_the_inviter_the_ats_record_stays_without_naming_anyone(
    world: FlowWorld,
) -> None:
    world.opening(ats=LEVER)
    interview_id = world.invite(email=JANE).interview_id
    world.run(lambda s, _now: ats_steps.record_ref(s, interview_id, "opp-1"))
    world.run(
        lambda s, now: erasure.erase_for_recruiter(
            s, who=f"#{interview_id}", confirmed=True, by=RECRUITER, now=now
        )
    )
    (told,) = [
        r.payload["text"]
        for r in world.outbox("review.notify")
        if "system of record" in r.payload["text"]
    ]
    assert told == (
        f"ℹ️ Candidate #{interview_id} was erased from hirebot. Their record in Lever stays, "
        "with the notes hirebot added to it (their transcripts): Lever is your system of "
        "record, so please erase or anonymise them there too if the request covers it."
    )
