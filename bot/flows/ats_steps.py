"""What each ATS sync step does, read when it is sent (bot.integrations.sync runs it).

A step's outbox row holds ids only; its content (the candidate as the ATS should know them,
the completion note with transcripts and timing, the decision's vote tally) is read here, in
the delivery's transaction, so it is current and an erased candidate's step has nothing left
to say. The rules of the sync live here too: the completion note waits for transcripts
(within a bound), a decision's tally stays out while blind review still runs, and a step the
ATS will not take is told in the candidate's review thread.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.errors import NotFound
from bot.flows import ats_sync, audit, escaping, outgoing, review, threads
from bot.flows.ats_sync import Step
from bot.flows.moments import format_deadline, recording_length, waiting_time
from bot.integrations.ats import Person
from bot.limits import AtsLimit
from storage.models import (
    Answer,
    AtsLink,
    Candidate,
    DecisionKind,
    Interview,
    InterviewStatus,
    Opening,
    Question,
    Stage,
    TranscriptStatus,
)

# The decisions after which nobody votes any more: blind review is over.
_FINAL = (Stage.REJECTED.value, Stage.HIRED.value)


@dataclass(frozen=True)
class Work:
    """One step, ready to be sent: everything the adapter calls need, read in one go."""

    interview_id: int
    kind: str
    job: str
    person: Person
    ref: str | None
    # The marker of a note an earlier attempt may have posted (look before posting again).
    uncertain_note: str | None
    tags: tuple[str, ...] = ()
    note: str | None = None
    stage: str | None = None  # the vendor stage to move to
    reject: bool = False
    reason: str | None = None
    # Seconds to wait before the step can go (transcripts still running); None: go now.
    wait: float | None = None


def prepare(
    session: Session, message: outgoing.AtsSync, thread_link: str | None, now: datetime
) -> Work | None:
    """The step ``message`` asks for; None when there is nothing to do any more (the
    candidate was erased, the opening no longer has an ATS)."""
    link = session.get(AtsLink, message.interview_id)
    interview = session.get(Interview, message.interview_id)
    if link is None or interview is None or interview.status == InterviewStatus.WITHDRAWN:
        return None
    opening = session.get_one(Opening, interview.opening_id)
    spec = ats_sync.spec_of(opening)
    if spec is None or spec.kind != link.kind:
        return None
    candidate = session.get_one(Candidate, interview.candidate_id)
    base = Work(
        interview_id=message.interview_id,
        kind=link.kind,
        job=spec.job,
        person=Person(email=candidate.email or "", name=candidate.name),
        ref=link.ref,
        uncertain_note=link.posting_note,
    )
    marker = _marker(message.key)
    match message.step:
        case Step.INVITED:
            return replace(base, tags=(ats_sync.TAG_SENT,))
        case Step.COMPLETED:
            wait = _transcripts_wait(session, interview, now)
            if wait is not None:
                return replace(base, wait=wait)
            note = completion_note(session, interview, opening, thread_link) + marker
            return replace(base, tags=(ats_sync.TAG_COMPLETED,), note=note)
        case Step.DECIDED:
            reject = message.decision == DecisionKind.REJECT
            stage = None if reject or message.stage is None else spec.stages.get(message.stage)
            note = decision_note(session, interview, opening, message) + marker
            return replace(base, note=note, stage=stage, reject=reject, reason=spec.reject_reason)
    return None


def _marker(key: str) -> str:
    """The note's last line: how a retry recognises a note already posted."""
    return f"\n\n[hirebot:{key}]"


def marker_of(key: str) -> str:
    return _marker(key).strip()


def _transcripts_wait(session: Session, interview: Interview, now: datetime) -> float | None:
    """Seconds until the completion note should look again, while any final answer is still
    being transcribed and the bound after completion has not passed; else None."""
    assert interview.id is not None
    pending = session.exec(
        select(Answer.id)
        .where(Answer.interview_id == interview.id)
        .where(col(Answer.submitted).is_(True))
        .where(col(Answer.superseded).is_(False))
        .where(Answer.transcript_status == TranscriptStatus.PENDING)
        .limit(1)
    ).first()
    completed = interview.completed_at or now
    bound = completed + timedelta(seconds=AtsLimit.TRANSCRIPT_WAIT_SECONDS)
    if pending is None or now >= bound:
        return None
    return min(float(AtsLimit.TRANSCRIPT_POLL_SECONDS), (bound - now).total_seconds())


def completion_note(
    session: Session, interview: Interview, opening: Opening, thread_link: str | None
) -> str:
    """Transcripts, timing and the Slack thread, as plain text (an ATS note is not mrkdwn)."""
    assert interview.id is not None
    took = (
        interview.completed_at - interview.started_at
        if interview.completed_at and interview.started_at
        else None
    )
    lines = [
        f"hirebot: async interview completed ({opening.title}).",
        f"Invited {format_deadline(interview.created_at)}; "
        + (f"completed {format_deadline(interview.completed_at)}" if interview.completed_at else "")
        + (f", {waiting_time(took)} after starting." if took is not None else "."),
    ]
    if thread_link:
        lines.append(f"Recordings, votes and comments: {thread_link}")
    answers = session.exec(
        select(Answer, Question)
        .join(Question, col(Question.id) == Answer.question_id)
        .where(Answer.interview_id == interview.id)
        .where(col(Answer.submitted).is_(True))
        .where(col(Answer.superseded).is_(False))
        .order_by(col(Question.position), col(Answer.take))
    ).all()
    for answer, question in answers:
        lines += ["", f"Q{question.position + 1}. {question.text}", _answer_line(answer)]
    return "\n".join(lines)


def _answer_line(answer: Answer) -> str:
    if answer.text is not None and answer.media_path is None:
        return f"Answer (typed): {answer.text}"
    seconds = answer.duration_seconds or answer.telegram_duration or 0
    head = f"Answer ({answer.media_kind.replace('_', ' ')}, {recording_length(seconds)}"
    head += f", take {answer.take}"
    if answer.late:
        head += ", started late"
    if answer.over_limit:
        head += ", over the time limit"
    head += ")"
    if answer.transcript_status == TranscriptStatus.DONE and answer.transcript_text:
        return f"{head}: {answer.transcript_text}"
    if answer.transcript_status == TranscriptStatus.FAILED:
        return f"{head}: no transcript (transcription failed; listen in Slack)."
    return f"{head}: no transcript yet (listen in Slack)."


def decision_note(
    session: Session, interview: Interview, opening: Opening, message: outgoing.AtsSync
) -> str:
    """The decision, with the vote tally and rubric averages unless blind review still runs:
    under blind review a reviewer sees no tally before voting, and anyone who reads the ATS
    could; once the decision is final (rejected, hired) nobody votes any more."""
    assert interview.id is not None
    if message.decision == DecisionKind.REJECT:
        head = "hirebot: rejected after the async interview."
    else:
        head = f"hirebot: advanced to {message.stage}."
    if opening.blind_review and message.stage not in _FINAL:
        return f"{head}\nVotes and scores stay in Slack while blind review runs."
    votes = review.tally(session, interview.id)
    tally = " · ".join(
        f"{review.VOTE_WORDS[choice]} {votes[choice.value]}" for choice in review.VOTE_WORDS
    )
    lines = [head, f"Votes: {tally}."]
    averages = review.score_averages(session, interview.id, opening.rubric)
    if averages:
        scored = " · ".join(f"{criterion} {value:.1f}" for criterion, value in averages.items())
        lines.append(f"Rubric averages (1-5): {scored}.")
    return "\n".join(lines)


# Recording what happened, each in the delivery's transaction.


def record_ref(session: Session, interview_id: int, ref: str) -> None:
    """The candidate's record in the ATS, found or created (kept for every later step)."""
    link = session.get(AtsLink, interview_id)
    if link is not None:
        link.ref = ref


def posting_note(session: Session, interview_id: int, key: str | None) -> None:
    """A note is being posted (``key``), or none is any more (None)."""
    link = session.get(AtsLink, interview_id)
    if link is not None:
        link.posting_note = key


def succeeded(session: Session, interview_id: int, step: str, now: datetime) -> None:
    """The step reached the ATS: the trail records it; the next step starts afresh."""
    link = session.get(AtsLink, interview_id)
    interview = session.get(Interview, interview_id)
    if link is None or interview is None:
        return  # erased while it was on its way
    link.failures = 0
    link.posting_note = None
    audit.about(
        session,
        interview,
        actor="hirebot",
        action=audit.Action.ATS_SYNCED,
        now=now,
        step=Step(step),
        ats=link.kind,
    )


def failed(
    session: Session,
    *,
    interview_id: int,
    step: str,
    reason: str,
    refused: bool,
    now: datetime,
    max_failures: int = AtsLimit.MAX_FAILURES,
) -> bool:
    """Count a failed attempt; True when the step is given up (refused by the ATS, or failed
    ``max_failures`` times in a row): the candidate's thread then says what did not reach it.

    ``reason`` is the adapter's, which never holds personal data.
    """
    link = session.get(AtsLink, interview_id)
    if link is None:
        return True  # erased meanwhile: nothing to retry, nobody to tell
    link.failures += 1
    if not refused and link.failures < max_failures:
        return False
    link.failures = 0  # the next step starts afresh
    interview = session.get(Interview, interview_id)
    if interview is None:
        return True
    audit.about(
        session,
        interview,
        actor="hirebot",
        action=audit.Action.ATS_GAVE_UP,
        now=now,
        step=Step(step),
        ats=link.kind,
        refused=refused,
    )
    try:
        post = threads.parent(session, interview_id)
    except NotFound:
        return True
    assert post.id is not None
    vendor = link.kind.title()
    why = "" if refused else f"it failed {max_failures} times in a row: "
    outgoing.to_thread(
        session,
        interview_id=interview_id,
        review_post_id=post.id,
        text=f"⚠️ {vendor} did not take {_WHAT[Step(step)]}: {why}{escaping.mrkdwn(reason)}. "
        f"I gave up on it; please update the candidate in {vendor} by hand. "
        "Later updates still go.",
        now=now,
    )
    return True


_WHAT = {
    Step.INVITED: "the invitation (finding the candidate and tagging them)",
    Step.COMPLETED: "the completed interview's note and tag",
    Step.DECIDED: "the decision (its stage and note)",
}
