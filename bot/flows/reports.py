"""What the hiring team reads about its candidates: status, export, stats, the App Home.

Each shows a person only the openings they review (``visibility``: the review channel's
members; recruiters see all) and respects blind review: a teammate who has not voted on a
candidate sees the alias and no tally or scores. The text is Slack mrkdwn: whatever a
person typed goes in through ``escaping.mrkdwn``; the export's cells through ``csv_cell``.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlmodel import Session, col, func, select

from bot.flows import audit, blind_review, escaping, lifecycle, review, visibility
from bot.flows.moments import format_deadline, waiting_time
from bot.flows.openings import opening_named
from bot.flows.visibility import Viewer
from bot.limits import ReviewLimit
from storage.models import (
    Answer,
    Booking,
    BookingOutcome,
    Candidate,
    Comment,
    Decision,
    DecisionKind,
    ExtensionRequest,
    ExtensionStatus,
    Interview,
    InterviewStatus,
    Opening,
    Question,
    Score,
    Stage,
    Vote,
)

# A status listing longer than this points to the export instead.
LISTING_ROWS = 40


@dataclass(frozen=True)
class CandidateRow:
    interview_id: int
    name: str  # or the blind-review alias
    email: str
    opening: str
    opening_slug: str
    status: str
    stage: str
    answered: int
    questions: int
    deadline: datetime
    invited_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    first_review_at: datetime | None
    hidden: bool  # blind review holds back votes and scores from this viewer
    votes: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    scored_by: int = 0
    notes: tuple[Comment, ...] = ()  # plain text: render with _note_line
    decisions: tuple[Decision, ...] = ()


@dataclass(frozen=True)
class Stats:
    invited: int
    started: int
    completed: int
    median_to_complete: timedelta | None  # opened the link → finished
    median_to_first_review: timedelta | None  # finished → first vote, score or note
    calls: LiveCalls = field(default_factory=lambda: LiveCalls(0, 0, 0, 0, None))

    @property
    def completion_rate(self) -> float:
        return self.completed / self.invited if self.invited else 0.0


@dataclass(frozen=True)
class LiveCalls:
    """The live interviews of the same candidates (issue 10).

    ``offered``: candidates offered slots (or who booked, which needs an offer); ``booked``:
    those who booked a call at least once, cancelled or not; ``held`` and ``no_show``: calls
    their interviewers marked after the call.
    """

    offered: int
    booked: int
    held: int
    no_show: int
    median_to_call: timedelta | None  # the invitation → the start of a call that was held

    @property
    def booking_rate(self) -> float | None:
        return self.booked / self.offered if self.offered else None

    @property
    def no_show_rate(self) -> float | None:
        marked = self.held + self.no_show
        return self.no_show / marked if marked else None


def candidate_rows(
    session: Session,
    interviews: Sequence[Interview],
    *,
    viewer: str,
    recruiter: bool,
) -> list[CandidateRow]:
    """One row per interview, read in a handful of queries whatever the number of rows."""
    ids = [i.id for i in interviews if i.id is not None]
    if not ids:
        return []
    facts = _Facts.load(session, interviews, ids)
    rows: list[CandidateRow] = []
    for interview in interviews:
        assert interview.id is not None
        opening = facts.openings[interview.opening_id]
        candidate = facts.candidates[interview.candidate_id]
        votes = facts.votes.get(interview.id, [])
        scores = facts.scores.get(interview.id, [])
        voted = any(v.reviewer == viewer for v in votes)
        sees = blind_review.sees_name(opening, recruiter=recruiter, voted=voted)
        reviewed = [v.created_at for v in votes] + [s.created_at for s in scores]
        reviewed += [c.created_at for c in facts.comments.get(interview.id, [])]
        rows.append(
            CandidateRow(
                interview_id=interview.id,
                name=candidate.name if sees else review.alias(interview),
                email=(candidate.email or "") if sees else "",
                opening=opening.title,
                opening_slug=opening.slug,
                status=interview.status,
                stage=interview.stage,
                answered=facts.answered.get(interview.id, 0),
                questions=facts.questions.get(interview.opening_id, 0),
                deadline=interview.deadline_at,
                invited_at=interview.created_at,
                started_at=interview.started_at,
                completed_at=interview.completed_at,
                first_review_at=min(reviewed) if reviewed else None,
                hidden=not sees,
                votes=review.tally_of([v.choice for v in votes]) if sees else {},
                scores=review.averages([s.scores for s in scores], opening.rubric) if sees else {},
                scored_by=len(scores),
                notes=tuple(
                    c for c in facts.comments.get(interview.id, []) if c.deleted_at is None
                ),
                decisions=tuple(facts.decisions.get(interview.id, [])),
            )
        )
    return rows


@dataclass
class _Facts:
    """Everything the rows need, fetched per table rather than per interview."""

    openings: dict[int, Opening]
    candidates: dict[int, Candidate]
    questions: dict[int, int]
    answered: dict[int, int]
    votes: dict[int, list[Vote]]
    scores: dict[int, list[Score]]
    comments: dict[int, list[Comment]]
    decisions: dict[int, list[Decision]]

    @classmethod
    def load(cls, session: Session, interviews: Sequence[Interview], ids: list[int]) -> _Facts:
        opening_ids = {i.opening_id for i in interviews}
        candidate_ids = {i.candidate_id for i in interviews}
        openings = session.exec(select(Opening).where(col(Opening.id).in_(opening_ids))).all()
        candidates = session.exec(
            select(Candidate).where(col(Candidate.id).in_(candidate_ids))
        ).all()
        questions = session.exec(
            select(Question.opening_id, func.count())
            .where(col(Question.opening_id).in_(opening_ids))
            .group_by(col(Question.opening_id))
        ).all()
        answered = session.exec(
            select(Answer.interview_id, func.count())
            .where(col(Answer.interview_id).in_(ids))
            .where(col(Answer.submitted).is_(True))
            .group_by(col(Answer.interview_id))
        ).all()
        return cls(
            openings={o.id: o for o in openings if o.id is not None},
            candidates={c.id: c for c in candidates if c.id is not None},
            questions=dict(questions),
            answered=dict(answered),
            votes=_by_interview(session.exec(select(Vote).where(col(Vote.interview_id).in_(ids)))),
            scores=_by_interview(
                session.exec(select(Score).where(col(Score.interview_id).in_(ids)))
            ),
            comments=_by_interview(
                session.exec(
                    select(Comment)
                    .where(col(Comment.interview_id).in_(ids))
                    .order_by(col(Comment.created_at), col(Comment.id))
                )
            ),
            decisions=_by_interview(
                session.exec(
                    select(Decision)
                    .where(col(Decision.interview_id).in_(ids))
                    .order_by(col(Decision.created_at), col(Decision.id))
                )
            ),
        )


_Row = TypeVar("_Row", Vote, Score, Comment, Decision)


def _by_interview(rows: Iterable[_Row]) -> dict[int, list[_Row]]:
    grouped: dict[int, list[_Row]] = {}
    for row in rows:
        grouped.setdefault(row.interview_id, []).append(row)
    return grouped


def interviews_of(session: Session, opening_slug: str | None) -> list[Interview]:
    """The opening's (or every) candidates' interviews: recruiters' previews never count."""
    query = select(Interview).where(col(Interview.preview).is_(False)).order_by(col(Interview.id))
    if opening_slug:
        opening = opening_named(session, opening_slug)
        query = query.where(Interview.opening_id == opening.id)
    return list(session.exec(query).all())


def named_in_export(session: Session, opening_slug: str | None) -> list[int]:
    """The interviews whose candidates an export names (erased ones are only a number)."""
    return [
        i.id
        for i in interviews_of(session, opening_slug)
        if i.id is not None and i.status != InterviewStatus.WITHDRAWN
    ]


# ---------------------------------------------------------------------- /hire status


def status(session: Session, target: str, *, viewer: Viewer, now: datetime) -> str:
    """``/hire status [opening|candidate]`` as a message for the person who asked.

    Looking at one candidate is recorded in the audit trail: who read which interview."""
    target = target.strip()
    if not target:
        return _overview(session, viewer)
    if any(o.slug == target for o in visibility.openings(session, viewer)):
        return _opening_status(session, target, viewer)
    interview = visibility.find_interview(session, viewer, target)
    (row,) = candidate_rows(session, [interview], viewer=viewer.user, recruiter=viewer.recruiter)
    audit.about(session, interview, actor=viewer.user, action=audit.Action.STATUS_VIEWED, now=now)
    return _candidate_status(session, row)


NOTHING_TO_REVIEW = (
    "You are not in the review channel of any opening, so there is nothing to show you. "
    "Reviewers are the members of an opening's review channel."
)


def opening_list(session: Session, viewer: Viewer) -> str:
    """``/hire opening list``: the openings ``viewer`` reviews (every one, for a recruiter).

    A title can say more than the team wants said ("replace the CTO"), like the channel the
    opening's candidates are discussed in, so it is listed only to who may read that channel.
    """
    rows = visibility.openings(session, viewer)
    if not rows:
        if viewer.recruiter:
            return "No openings yet. Create one with `/hire opening new`."
        return NOTHING_TO_REVIEW
    return "Openings:\n" + "\n".join(
        f"• `{o.slug}` — {escaping.mrkdwn(o.title)} (reviews in <#{o.review_channel}>"
        f"{', blind review' if o.blind_review else ''})"
        for o in rows
    )


def _overview(session: Session, viewer: Viewer) -> str:
    openings = visibility.openings(session, viewer)
    if not openings:
        if viewer.recruiter:
            return "No openings yet. Create one with `/hire opening new`."
        return NOTHING_TO_REVIEW
    lines = ["*Openings*"]
    for opening in openings:
        interviews = interviews_of(session, opening.slug)
        statuses = Counter(i.status for i in interviews)
        stages = Counter(i.stage for i in interviews)
        lines.append(
            f"• `{opening.slug}` {escaping.mrkdwn(opening.title)}: {len(interviews)} invited · "
            + " · ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(statuses.items()))
            + ("\n    stages: " if stages else "")
            + ", ".join(f"{s} {n}" for s, n in _stage_order(stages))
        )
    lines.append("`/hire status <opening>` lists its candidates.")
    return "\n".join(lines)


def _opening_status(session: Session, slug: str, viewer: Viewer) -> str:
    opening = visibility.opening(session, viewer, slug)
    title = escaping.mrkdwn(opening.title)
    interviews = interviews_of(session, slug)
    if not interviews:
        return f"*{title}*: nobody invited yet. `/hire invite {slug} <name>`"
    rows = candidate_rows(
        session, interviews[:LISTING_ROWS], viewer=viewer.user, recruiter=viewer.recruiter
    )
    lines = [f"*{title}* ({len(interviews)} candidates)"]
    lines += [f"• #{r.interview_id} *{escaping.mrkdwn(r.name)}*: {_row_summary(r)}" for r in rows]
    if len(interviews) > LISTING_ROWS:
        lines.append(f"…and {len(interviews) - LISTING_ROWS} more: `/hire export {slug}`.")
    return "\n".join(lines)


def _candidate_status(session: Session, row: CandidateRow) -> str:
    lines = [
        f"*{escaping.mrkdwn(row.name)}* (#{row.interview_id}) · {escaping.mrkdwn(row.opening)}",
        _row_summary(row),
        f"Deadline {format_deadline(row.deadline)}",
    ]
    pending = session.exec(
        select(ExtensionRequest.id)
        .where(ExtensionRequest.interview_id == row.interview_id)
        .where(ExtensionRequest.status == ExtensionStatus.PENDING)
    ).first()
    if pending is not None:
        lines.append("🙋 Asked for more time: decide in the thread or `/hire extend`.")
    if row.notes:
        lines.append("*Notes*")
        lines += [f"• {_note_line(n)}" for n in row.notes]
    if row.decisions:
        lines.append("*Decisions*")
        lines += [f"• {_decision_line(d)}" for d in row.decisions]
    return "\n".join(lines)


def _row_summary(row: CandidateRow) -> str:
    parts = [
        f"{row.status.replace('_', ' ')} {row.answered}/{row.questions}",
        f"stage {escaping.mrkdwn(row.stage)}",
    ]
    if row.hidden:
        parts.append("votes hidden until you vote")
    else:
        parts.append(" ".join(f"{k} {v}" for k, v in row.votes.items()))
        if row.scores:
            parts.append(", ".join(f"{escaping.mrkdwn(k)} {v:.1f}" for k, v in row.scores.items()))
    if row.notes:
        parts.append(f"{len(row.notes)} note{'s' if len(row.notes) != 1 else ''}")
    return " · ".join(parts)


# ---------------------------------------------------------------------- /hire export


EXPORT_FORMATS = ("csv", "json")


def export(session: Session, opening_slug: str | None, fmt: str = "csv") -> tuple[str, int]:
    """Every candidate (of one opening, or all) as ``fmt``; the text and the row count."""
    return (
        export_json(session, opening_slug) if fmt == "json" else export_csv(session, opening_slug)
    )


def export_csv(session: Session, opening_slug: str | None) -> tuple[str, int]:
    """Every candidate (of one opening, or all) as CSV; returns the text and the row count."""
    rows, rubric = _export_rows(session, opening_slug)
    out = io.StringIO()
    writer = csv.writer(out)
    header = [name for name, _ in _columns(_BLANK, rubric)]
    writer.writerow(escaping.csv_cell(cell) for cell in header)
    for r in rows:
        cells = [_csv_value(name, value) for name, value in _columns(r, rubric)]
        writer.writerow(escaping.csv_cell(cell) for cell in cells)
    return out.getvalue(), len(rows)


def export_json(session: Session, opening_slug: str | None) -> tuple[str, int]:
    """The CSV's columns as one JSON object per candidate (numbers as numbers, scores as an
    object, notes and decisions as lists), plus the candidate's language and every submitted
    answer with its transcript, its language and its timed segments."""
    rows, rubric = _export_rows(session, opening_slug)
    ids = [r.interview_id for r in rows]
    answers = _answers(session, ids)
    languages = dict(
        session.exec(
            select(Interview.id, Candidate.language)
            .join(Candidate, col(Candidate.id) == Interview.candidate_id)
            .where(col(Interview.id).in_(ids))
        ).all()
    )
    candidates: list[dict[str, object]] = []
    for r in rows:
        record: dict[str, object] = {}
        scores: dict[str, _Cell] = {}
        for name, value in _columns(r, rubric):
            if name.startswith(_SCORE):
                scores[name.removeprefix(_SCORE)] = (
                    round(value, 2) if isinstance(value, float) else value
                )
            elif name == "minutes_to_complete" and isinstance(value, float):
                record[name] = round(value, 1)
            else:
                record[name] = value
            if name == "votes_no":
                record["scores"] = scores  # where the score columns are in the CSV
        record["language"] = languages.get(r.interview_id)
        record["answers"] = answers.get(r.interview_id, [])
        candidates.append(record)
    document = {"version": 1, "candidates": candidates}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n", len(rows)


def _export_rows(
    session: Session, opening_slug: str | None
) -> tuple[list[CandidateRow], list[str]]:
    interviews = interviews_of(session, opening_slug)
    rows = candidate_rows(session, interviews, viewer="", recruiter=True)
    rubric: list[str] = []
    for opening in session.exec(select(Opening).order_by(col(Opening.id))).all():
        if opening_slug in (None, opening.slug):
            rubric += [c for c in opening.rubric if c not in rubric]
    return rows, rubric


_Cell = str | int | float | list[str] | None
_SCORE = "score: "


def _columns(r: CandidateRow, rubric: list[str]) -> list[tuple[str, _Cell]]:
    """The export's columns, named, with ``r``'s values (unformatted: see ``_csv_value``)."""
    return [
        ("interview", r.interview_id),
        ("candidate", r.name),
        ("email", r.email),
        ("opening", r.opening_slug),
        ("status", r.status),
        ("stage", r.stage),
        ("answered", r.answered),
        ("questions", r.questions),
        ("invited_at", _iso(r.invited_at) or None),
        ("started_at", _iso(r.started_at) or None),
        ("completed_at", _iso(r.completed_at) or None),
        ("minutes_to_complete", _minutes_between(r.started_at, r.completed_at)),
        ("first_review_at", _iso(r.first_review_at) or None),
        ("votes_yes", r.votes.get("yes", 0)),
        ("votes_maybe", r.votes.get("maybe", 0)),
        ("votes_no", r.votes.get("no", 0)),
        *[(f"{_SCORE}{c}", r.scores.get(c)) for c in rubric],
        ("scored_by", r.scored_by),
        ("notes", [_note_line(n, escape=_as_is) for n in r.notes]),
        ("decisions", [_decision_line(d, escape=_as_is) for d in r.decisions]),
    ]


def _csv_value(name: str, value: _Cell) -> str | int:
    """A value as the CSV writes it: scores to 2 places, minutes to 1, lists joined."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " | ".join(value)
    if isinstance(value, float):
        return f"{value:.2f}" if name.startswith(_SCORE) else f"{value:.1f}"
    return value


# A row with nothing in it: the CSV's header is the names of its columns.
_BLANK = CandidateRow(
    interview_id=0,
    name="",
    email="",
    opening="",
    opening_slug="",
    status="",
    stage="",
    answered=0,
    questions=0,
    deadline=datetime.min,
    invited_at=datetime.min,
    started_at=None,
    completed_at=None,
    first_review_at=None,
    hidden=False,
)


def _answers(session: Session, ids: list[int]) -> dict[int, list[dict[str, object]]]:
    """Each interview's submitted answers in question order, with transcript and segments."""
    found: dict[int, list[dict[str, object]]] = {}
    rows = session.exec(
        select(Answer, Question)
        .join(Question, col(Question.id) == Answer.question_id)
        .where(col(Answer.interview_id).in_(ids))
        .where(col(Answer.submitted).is_(True))
        .where(col(Answer.superseded).is_(False))
        .order_by(col(Answer.interview_id), col(Question.position))
    ).all()
    for answer, question in rows:
        found.setdefault(answer.interview_id, []).append(
            {
                "question": question.position + 1,
                "question_text": question.text,
                "kind": answer.media_kind,
                "duration_seconds": answer.duration_seconds or answer.telegram_duration,
                "text": answer.text,
                "transcript": answer.transcript_text,
                "transcript_status": answer.transcript_status,
                "language": answer.transcript_language,
                "segments": list(answer.transcript_segments or []),
            }
        )
    return found


# ---------------------------------------------------------------------- /hire stats


def stats(session: Session, opening_slug: str | None, viewer: Viewer) -> Stats:
    if opening_slug:
        interviews = interviews_of(session, visibility.opening(session, viewer, opening_slug).slug)
    else:
        visible = {o.id for o in visibility.openings(session, viewer)}
        interviews = [i for i in interviews_of(session, None) if i.opening_id in visible]
    rows = candidate_rows(session, interviews, viewer="", recruiter=True)
    to_complete = [
        (r.completed_at - r.started_at).total_seconds()
        for r in rows
        if r.completed_at and r.started_at
    ]
    to_review = [
        max((r.first_review_at - r.completed_at).total_seconds(), 0.0)
        for r in rows
        if r.completed_at and r.first_review_at
    ]
    return Stats(
        invited=len(rows),
        started=sum(1 for r in rows if r.started_at is not None),
        completed=sum(1 for r in rows if r.completed_at is not None),
        median_to_complete=_median(to_complete),
        median_to_first_review=_median(to_review),
        calls=live_calls(session, interviews),
    )


def live_calls(session: Session, interviews: Sequence[Interview]) -> LiveCalls:
    """The live-call numbers of ``interviews``, read in one query."""
    invited = {i.id: i.created_at for i in interviews if i.id is not None}
    bookings = session.exec(
        select(Booking).where(col(Booking.interview_id).in_(list(invited)))
    ).all()
    booked = {b.interview_id for b in bookings}
    held = [b for b in bookings if b.outcome == BookingOutcome.HELD]
    return LiveCalls(
        offered=sum(1 for i in interviews if i.slots_offered_at is not None or i.id in booked),
        booked=len(booked),
        held=len(held),
        no_show=sum(1 for b in bookings if b.outcome == BookingOutcome.NO_SHOW),
        median_to_call=_median(
            [max((b.starts_at - invited[b.interview_id]).total_seconds(), 0.0) for b in held]
        ),
    )


def stats_text(session: Session, opening_slug: str | None, viewer: Viewer) -> str:
    s = stats(session, opening_slug, viewer)
    if opening_slug:
        scope = escaping.mrkdwn(visibility.opening(session, viewer, opening_slug).title)
    elif viewer.recruiter:
        scope = "All openings"
    elif not visibility.openings(session, viewer):
        return NOTHING_TO_REVIEW
    else:
        scope = "All the openings you review"
    return "\n".join(
        [
            f"*{scope}*",
            f"Invited {s.invited} · started {s.started} · completed {s.completed} "
            f"(completion rate {s.completion_rate:.0%})",
            f"Median time to complete: {waiting_time(s.median_to_complete)} "
            "(from opening the link to the last answer)",
            f"Median time to first review: {waiting_time(s.median_to_first_review)} "
            "(from completion to the first vote, score or note)",
            f"Live calls: offered {s.calls.offered} · booked {s.calls.booked} "
            f"(booking rate {_rate(s.calls.booking_rate)}) · held {s.calls.held} · "
            f"no-show {s.calls.no_show} (no-show rate {_rate(s.calls.no_show_rate)})",
            f"Median time from invite to live call: {waiting_time(s.calls.median_to_call)} "
            "(calls marked held)",
        ]
    )


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


# ---------------------------------------------------------------------- App Home


@dataclass(frozen=True)
class OpeningSummary:
    slug: str
    title: str
    channel: str
    by_stage: dict[str, int]
    in_progress: int


@dataclass(frozen=True)
class Waiting:
    interview_id: int
    label: str
    opening: str
    completed_at: datetime


@dataclass(frozen=True)
class RecentDecision:
    label: str
    opening: str
    line: str
    at: datetime


@dataclass(frozen=True)
class Home:
    openings: list[OpeningSummary]
    waiting_for_me: list[Waiting]
    recent: list[RecentDecision]
    recruiter: bool = False


def review_channels(session: Session) -> list[str]:
    return sorted(set(session.exec(select(Opening.review_channel)).all()))


def home(session: Session, viewer: Viewer) -> Home:
    """The viewer's Home: the openings they review (recruiters: all), what waits for their
    vote (only openings whose review channel they are in), recent decisions on those."""
    openings: list[OpeningSummary] = []
    waiting: list[Waiting] = []
    visible = visibility.openings(session, viewer)
    for opening in visible:
        interviews = interviews_of(session, opening.slug)
        openings.append(
            OpeningSummary(
                slug=opening.slug,
                title=opening.title,
                channel=opening.review_channel,
                by_stage=dict(_stage_order(Counter(i.stage for i in interviews))),
                in_progress=sum(1 for i in interviews if i.status in lifecycle.ACTIVE),
            )
        )
        for i in interviews:
            assert i.id is not None
            if (
                viewer.is_reviewer_of(opening)
                and i.status == InterviewStatus.COMPLETED
                and i.stage != Stage.REJECTED
                and i.completed_at is not None
                and not review.has_voted(session, i.id, viewer.user)
            ):
                name = session.get_one(Candidate, i.candidate_id).name
                # Waiting for this viewer's vote: they have not voted yet.
                sees = blind_review.sees_name(opening, recruiter=viewer.recruiter, voted=False)
                label = name if sees else review.alias(i)
                waiting.append(Waiting(i.id, label, opening.title, i.completed_at))
    decisions = session.exec(
        select(Decision)
        .join(Interview, col(Interview.id) == Decision.interview_id)
        .where(col(Interview.opening_id).in_([o.id for o in visible]))
        .where(col(Interview.preview).is_(False))
        .order_by(col(Decision.created_at).desc(), col(Decision.id).desc())
        .limit(ReviewLimit.RECENT_DECISIONS)
    ).all()
    decided = session.exec(
        select(Interview).where(col(Interview.id).in_({d.interview_id for d in decisions}))
    ).all()
    rows = {
        r.interview_id: r
        for r in candidate_rows(session, decided, viewer=viewer.user, recruiter=viewer.recruiter)
    }
    recent = [
        RecentDecision(
            rows[d.interview_id].name,
            rows[d.interview_id].opening,
            _decision_line(d),
            d.created_at,
        )
        for d in decisions
    ]
    waiting.sort(key=lambda w: w.completed_at)
    return Home(openings, waiting, recent, recruiter=viewer.recruiter)


# ---------------------------------------------------------------------- helpers


_DECISION_WORDS: dict[str, str] = {
    DecisionKind.ADVANCE: "advanced to {stage}",
    DecisionKind.REJECT: "rejected",
    DecisionKind.EXTEND: "gave more time ({reason})",
    DecisionKind.DENY_EXTENSION: "denied more time",
}


def _decision_line(decision: Decision, escape: Callable[[str], str] = escaping.mrkdwn) -> str:
    """One decision, as mrkdwn (or, with ``escape=_as_is``, as plain text for the export)."""
    stage, reason = escape(decision.stage or ""), escape(decision.reason or "")
    what = _DECISION_WORDS.get(decision.kind, decision.kind).format(stage=stage, reason=reason)
    if decision.kind == DecisionKind.REJECT and decision.reason:
        what += f" ({reason})"
    return f"{format_deadline(decision.created_at)}: <@{decision.by}> {what}"


def _note_line(comment: Comment, escape: Callable[[str], str] = escaping.mrkdwn) -> str:
    edited = " (edited)" if comment.edited_at else ""
    return f"<@{comment.author}>: {escape(comment.text)}{edited}"


def _as_is(text: str) -> str:
    return text


def _stage_order(stages: Counter[str]) -> list[tuple[str, int]]:
    known = list(Stage)  # the pipeline's order, then Rejected
    ordered = [(s, stages[s]) for s in known if stages.get(s)]
    return ordered + sorted((s, n) for s, n in stages.items() if s not in known)


def _median(seconds: list[float]) -> timedelta | None:
    return timedelta(seconds=statistics.median(seconds)) if seconds else None


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def _minutes_between(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() / 60 if start and end else None
