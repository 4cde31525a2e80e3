"""The hiring team's side of an interview: the card, answers in its thread, votes, scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from babel import Locale, UnknownLocaleError
from sqlmodel import Session, col, func, select

from bot.errors import IllegalTransition, InvalidRequest, NotFound
from bot.flows import audit, blind_review, escaping, outgoing, threads
from bot.flows.moments import recording_length
from bot.flows.ports import CandidateCard, Transcript
from bot.limits import ReviewLimit
from storage import interviews
from storage.models import (
    Answer,
    Candidate,
    Interview,
    InterviewStatus,
    Opening,
    Question,
    ReviewPost,
    Score,
    TranscriptStatus,
    Vote,
)


class VoteChoice(StrEnum):
    YES = "yes"
    MAYBE = "maybe"
    NO = "no"


ERASED_ANSWER = "🗑️ Answer erased on request."

VOTE_WORDS = {VoteChoice.YES: "Yes", VoteChoice.MAYBE: "Maybe", VoteChoice.NO: "No"}


def alias(interview: Interview) -> str:
    """What blind review calls the candidate: the number recruiters' commands accept too."""
    return f"Candidate #{interview.id}"


def tally(session: Session, interview_id: int) -> dict[str, int]:
    return tally_of(
        session.exec(select(Vote.choice).where(Vote.interview_id == interview_id)).all()
    )


def tally_of(choices: Sequence[str]) -> dict[str, int]:
    return {choice.value: sum(1 for c in choices if c == choice) for choice in VoteChoice}


def score_averages(session: Session, interview_id: int, rubric: list[str]) -> dict[str, float]:
    rows = session.exec(select(Score).where(Score.interview_id == interview_id)).all()
    return averages([row.scores for row in rows], rubric)


def averages(sheets: list[dict[str, int]], rubric: list[str]) -> dict[str, float]:
    """Each criterion's mean over the reviewers who scored it, in rubric order."""
    result: dict[str, float] = {}
    for criterion in rubric:
        values = [sheet[criterion] for sheet in sheets if criterion in sheet]
        if values:
            result[criterion] = sum(values) / len(values)
    return result


def has_voted(session: Session, interview_id: int, reviewer: str) -> bool:
    found = session.exec(
        select(Vote.id).where(Vote.interview_id == interview_id).where(Vote.reviewer == reviewer)
    ).first()
    return found is not None


def existing_interview(session: Session, interview_id: int) -> Interview:
    """The interview a button or form names; it may have been erased since."""
    interview = interviews.locked(session, interview_id)
    if interview is None:
        raise NotFound("That interview no longer exists.")
    return interview


def under_review(session: Session, interview_id: int, what: str) -> Interview:
    """The interview a vote or a score names, refused once the candidate's data was erased.

    The card stays in the channel, buttons and all; the person behind it is gone, so it takes
    no more ``what`` (votes, scores).
    """
    interview = existing_interview(session, interview_id)
    if interview.status == InterviewStatus.WITHDRAWN:
        raise IllegalTransition(
            f"{alias(interview)}'s data was erased: the interview takes no more {what}."
        )
    return interview


def card(session: Session, interview: Interview) -> CandidateCard:
    opening = session.get_one(Opening, interview.opening_id)
    candidate = session.get_one(Candidate, interview.candidate_id)
    questions = session.exec(
        select(func.count()).select_from(Question).where(Question.opening_id == opening.id)
    ).one()
    answered = session.exec(
        select(func.count())
        .select_from(Answer)
        .where(Answer.interview_id == interview.id)
        .where(col(Answer.submitted).is_(True))
    ).one()
    assert interview.id is not None
    votes = tally(session, interview.id)
    scored_by = session.exec(
        select(func.count()).select_from(Score).where(Score.interview_id == interview.id)
    ).one()
    blind = not blind_review.card_shows_name(opening)
    return CandidateCard(
        interview_id=interview.id,
        candidate=alias(interview) if blind else candidate.name,
        opening=opening.title,
        answered=answered,
        questions=questions,
        status=interview.status,
        stage=interview.stage,
        deadline=interview.deadline_at,
        tally={} if blind else votes,
        blind=blind,
        votes_cast=sum(votes.values()),
        rubric=tuple(opening.rubric),
        scores={} if blind else score_averages(session, interview.id, opening.rubric),
        scored_by=scored_by,
    )


def open_review(
    session: Session, interview: Interview, now: datetime, channel: str | None = None
) -> None:
    """Create the candidate's parent message in the opening's review channel (or in
    ``channel``: a recruiter's DM, for their preview)."""
    opening = session.get_one(Opening, interview.opening_id)
    assert interview.id is not None
    where = channel or opening.review_channel
    post = ReviewPost(interview_id=interview.id, channel=where, created_at=now)
    session.add(post)
    session.flush()
    assert post.id is not None
    outgoing.post_card(session, post.id, card(session, interview), now)


def refresh_card(session: Session, interview: Interview, now: datetime) -> None:
    assert interview.id is not None
    post = threads.parent(session, interview.id)
    assert post.id is not None
    outgoing.update_card(session, post.id, card(session, interview), now)


def note_in_thread(session: Session, interview: Interview, text: str, now: datetime) -> None:
    assert interview.id is not None
    post = threads.parent(session, interview.id)
    assert post.id is not None
    outgoing.to_thread(
        session, interview_id=interview.id, review_post_id=post.id, text=text, now=now
    )


def record_posted(session: Session, review_post_id: int, message_id: str) -> None:
    """The parent message exists in Slack: thread replies and updates can now find it."""
    post = session.get_one(ReviewPost, review_post_id)
    post.message_id = message_id


def vote(
    session: Session, *, interview_id: int, reviewer: str, choice: VoteChoice, now: datetime
) -> None:
    """One vote per reviewer per interview; voting again changes it.

    In blind review the card shows no tally, so the voter alone is shown the candidate's
    name, the tally and the scores, privately, right after voting.
    """
    interview = under_review(session, interview_id, "votes")
    existing = session.exec(
        select(Vote).where(Vote.interview_id == interview_id).where(Vote.reviewer == reviewer)
    ).first()
    if existing is None:
        session.add(
            Vote(
                interview_id=interview_id,
                reviewer=reviewer,
                choice=choice,
                created_at=now,
                updated_at=now,
            )
        )
    elif existing.choice == choice:
        return
    else:
        existing.choice = choice
        existing.updated_at = now
    audit.about(
        session,
        interview,
        actor=reviewer,
        action=audit.Action.VOTED,
        now=now,
        choice=choice,
        changed=existing is not None,
    )
    session.flush()
    refresh_card(session, interview, now)
    opening = session.get_one(Opening, interview.opening_id)
    if opening.blind_review:
        outgoing.privately(
            session,
            channel=threads.parent(session, interview_id).channel,
            user=reviewer,
            text=f"You voted *{VOTE_WORDS[choice]}*. " + reveal(session, interview),
            now=now,
        )


def reveal(session: Session, interview: Interview) -> str:
    """Everything blind review holds back, for someone who may now see it."""
    assert interview.id is not None
    candidate = session.get_one(Candidate, interview.candidate_id)
    opening = session.get_one(Opening, interview.opening_id)
    votes = tally(session, interview.id)
    line = (
        f"{alias(interview)} is *{escaping.mrkdwn(candidate.name)}*. Votes so far: "
        + " · ".join(f"{VOTE_WORDS[VoteChoice(k)]} {v}" for k, v in votes.items())
        + "."
    )
    averages = score_averages(session, interview.id, opening.rubric)
    if averages:
        scores = ", ".join(f"{escaping.mrkdwn(k)} {v:.1f}" for k, v in averages.items())
        line += f" Scores: {scores}."
    return line


def score(
    session: Session,
    *,
    interview_id: int,
    reviewer: str,
    scores: dict[str, int],
    note: str,
    now: datetime,
) -> None:
    """A reviewer's rubric scores (every criterion, 1-5) and note; scoring again replaces them."""
    interview = under_review(session, interview_id, "scores")
    opening = session.get_one(Opening, interview.opening_id)
    if not opening.rubric:
        raise InvalidRequest(f"{opening.title} has no rubric to score against.")
    missing = [c for c in opening.rubric if c not in scores]
    if missing:
        raise InvalidRequest(f"Please score every criterion: {', '.join(missing)} missing.")
    low, high = ReviewLimit.SCORE_MIN, ReviewLimit.SCORE_MAX
    if any(not low <= scores[c] <= high for c in opening.rubric):
        raise InvalidRequest(f"Scores go from {low} to {high}.")
    kept = {c: int(scores[c]) for c in opening.rubric}
    row = session.exec(
        select(Score).where(Score.interview_id == interview_id).where(Score.reviewer == reviewer)
    ).first()
    if row is None:
        session.add(
            Score(
                interview_id=interview_id,
                reviewer=reviewer,
                scores=kept,
                note=note.strip(),
                created_at=now,
                updated_at=now,
            )
        )
    else:
        row.scores = kept
        row.note = note.strip()
        row.updated_at = now
    # The criteria count and whether a note was written: never the note, nor the numbers.
    audit.about(
        session,
        interview,
        actor=reviewer,
        action=audit.Action.SCORED,
        now=now,
        criteria=len(kept),
        note=bool(note.strip()),
        changed=row is not None,
    )
    session.flush()
    refresh_card(session, interview, now)
    if opening.blind_review and has_voted(session, interview_id, reviewer):
        outgoing.privately(
            session,
            channel=threads.parent(session, interview_id).channel,
            user=reviewer,
            text="Thanks for scoring. " + reveal(session, interview),
            now=now,
        )


@dataclass(frozen=True)
class ScoreForm:
    """What the Score form shows one reviewer: the rubric and their own earlier scores."""

    interview_id: int
    candidate: str  # the alias, in blind review, until they have voted
    opening: str
    rubric: list[str]
    current: dict[str, int]
    note: str


def score_form(session: Session, interview_id: int, reviewer: str, *, recruiter: bool) -> ScoreForm:
    interview = under_review(session, interview_id, "scores")
    opening = session.get_one(Opening, interview.opening_id)
    if not opening.rubric:
        raise InvalidRequest(f"{opening.title} has no rubric to score against.")
    mine = session.exec(
        select(Score).where(Score.interview_id == interview_id).where(Score.reviewer == reviewer)
    ).first()
    sees = blind_review.sees_name(
        opening, recruiter=recruiter, voted=has_voted(session, interview_id, reviewer)
    )
    return ScoreForm(
        interview_id=interview_id,
        candidate=session.get_one(Candidate, interview.candidate_id).name
        if sees
        else alias(interview),
        opening=opening.title,
        rubric=list(opening.rubric),
        current=dict(mine.scores) if mine else {},
        note=mine.note if mine else "",
    )


def answer_submitted(session: Session, answer_id: int, now: datetime) -> None:
    """A final answer: post it in the thread at once (transcript pending) with its recording.

    The transcript never holds the post back: ``answer_transcribed`` edits the same message
    when Whisper is done (or has given up). The last answer also posts "completed", once.
    """
    answer = session.get_one(Answer, answer_id)
    interview = session.get_one(Interview, answer.interview_id)
    question = session.get_one(Question, answer.question_id)
    assert interview.id is not None
    text = answer_text(answer, question, interview, expected_language(session, interview))
    posted = threads.post(session, interview.id, _answer_key(answer_id), text, now)
    if posted and answer.media_path is not None:
        post = threads.parent(session, interview.id)
        message = threads.find(session, interview.id, _answer_key(answer_id))
        assert post.id is not None and message is not None and message.id is not None
        outgoing.upload_to_thread(
            session,
            interview_id=interview.id,
            review_post_id=post.id,
            media_path=answer.media_path,
            media_title=f"Q{question.position + 1} answer, take {answer.take}",
            thread_message_id=message.id,
            now=now,
        )
    if interview.completed_at is not None:
        total = session.exec(
            select(func.count())
            .select_from(Answer)
            .where(Answer.interview_id == interview.id)
            .where(col(Answer.submitted).is_(True))
        ).one()
        threads.post(
            session,
            interview.id,
            "completed",
            f"✅ Interview completed: all {total} answers are in. Vote on the card above.",
            now,
        )


def answer_transcribed(
    session: Session,
    answer_id: int,
    transcript: Transcript | None,
    error: str | None,
    now: datetime,
) -> None:
    """The transcription worker is done with an answer: show the transcript in its post."""
    answer = session.get_one(Answer, answer_id)
    if transcript is not None:
        answer.transcript_status = TranscriptStatus.DONE
        answer.transcript_text = transcript.text
        answer.transcript_language = transcript.language
        answer.transcript_language_probability = transcript.language_probability
        answer.transcript_low_confidence = transcript.low_confidence
        answer.duration_seconds = transcript.duration_seconds
    else:
        answer.transcript_status = TranscriptStatus.FAILED
        answer.transcript_error = (error or "unknown error")[:500]
    answer.transcript_locked_until = None
    interview = session.get_one(Interview, answer.interview_id)
    question = session.get_one(Question, answer.question_id)
    assert interview.id is not None
    if transcript is not None:
        audit.about(
            session,
            interview,
            actor="hirebot",
            action=audit.Action.TRANSCRIBED,
            now=now,
            answer=answer_id,
            question=question.position + 1,
            language=transcript.language,
        )
    text = answer_text(answer, question, interview, expected_language(session, interview))
    if not threads.edit(session, interview.id, _answer_key(answer_id), text, now):
        # Not posted on submission (a flow that predates answer_submitted): post it now.
        answer_submitted(session, answer_id, now)


def _answer_key(answer_id: int) -> str:
    return f"answer:{answer_id}"


def expected_language(session: Session, interview: Interview) -> str:
    """The language an answer should be in: the opening's, else the candidate's own."""
    opening = session.get_one(Opening, interview.opening_id)
    return opening.language or session.get_one(Candidate, interview.candidate_id).language


def answer_text(
    answer: Answer, question: Question, interview: Interview, expected_language: str
) -> str:
    """The answer's post: question, facts and flags, then the transcript or its state."""
    seconds = answer.duration_seconds or answer.telegram_duration or 0
    facts = [
        _KIND_LABELS.get(answer.media_kind, answer.media_kind.replace("_", " ")),
        recording_length(seconds) if answer.media_path else "",
        f"take {answer.take} of {question.max_takes}",
    ]
    if answer.prep_seconds_used is not None:
        facts.append(f"prep {answer.prep_seconds_used:.0f} s")
    heading = f"*Q{question.position + 1}. {escaping.mrkdwn(question.text)}*"
    lines = [heading, " · ".join(f for f in facts if f)]
    if answer.over_limit:
        lines.append(f"⚠️ over the time limit ({seconds:.0f} s of {question.answer_seconds} s)")
    if answer.cut_at_seconds is not None:
        kept = recording_length(answer.cut_at_seconds)
        lines.append(
            f"✂️ cut: the recording is longer; only its first {kept} is kept and transcribed"
        )
    if answer.late:
        lines.append(f"⏱️ took longer than the {question.prep_seconds} s preparation time")
    if answer.received_at > interview.deadline_at:
        lines.append("⌛ sent after the deadline")
    status = TranscriptStatus(answer.transcript_status)
    if answer.media_path is None:
        lines.append(quote(answer.text or answer.transcript_text or ""))
    elif status == TranscriptStatus.PENDING:
        lines.append("_Transcript pending…_ the recording is below.")
    elif status == TranscriptStatus.DONE:
        lines.append(quote(answer.transcript_text or "(no speech heard)"))
        heard_in = language_note(answer, expected_language)
        if heard_in:
            lines.append(heard_in)
        if answer.transcript_low_confidence:
            lines.append("_⚠️ Low confidence transcript: listen to check._")
    else:
        lines.append("_Transcript unavailable: please listen to the recording._")
    return "\n".join(lines)[: ReviewLimit.THREAD_TEXT_CHARS]


# Whisper's probability for the language it chose: below one half, the other languages
# together were likelier than its pick, so the text may well be in the wrong one.
UNSURE_LANGUAGE_PROBABILITY = 0.5


def language_note(answer: Answer, expected_language: str) -> str | None:
    """What reviewers should know about the transcript's language, if anything: that it is
    not the one expected (the opening's, or the candidate's), or that Whisper was unsure."""
    language = answer.transcript_language
    if not language or not answer.transcript_text:  # nothing heard, no language to judge
        return None
    probability = answer.transcript_language_probability
    unsure = probability is not None and probability < UNSURE_LANGUAGE_PROBABILITY
    if language == expected_language and not unsure:
        return None
    note = f"🌐 Transcribed as {language_name(language)}"
    if unsure:
        note += f", but Whisper was only {probability:.0%} sure of the language"
    return f"_{note}._"


def language_name(code: str) -> str:
    """``"es"`` → ``"Spanish"``: reviewers read names, not ISO codes."""
    try:
        return str(Locale.parse(code).get_language_name("en"))
    except (ValueError, UnknownLocaleError):
        return code  # a code Whisper knows but CLDR does not: still better than nothing


_KIND_LABELS = {
    "voice": "🎙️ voice note",
    "video_note": "📹 video note",
    "video": "📹 video",
    "audio": "🎧 audio",
    "text": "⌨️ typed answer",
}


def quote(text: str) -> str:
    """What a candidate said or typed, quoted, and escaped: it must read as itself."""
    return "\n".join(f"> {escaping.mrkdwn(line)}" for line in text.splitlines() or [""])


def transcript_language(session: Session, answer_id: int) -> str | None:
    """The language to transcribe an answer in: its opening's, or None to detect it."""
    answer = session.get_one(Answer, answer_id)
    interview = session.get_one(Interview, answer.interview_id)
    return session.get_one(Opening, interview.opening_id).language
