"""Who may read what through hirebot: no more than they could read in the review channel.

Reviewers of an opening are the members of its review channel; recruiters see every opening.
Blind review holds a candidate's name back from a reviewer until they have voted on them,
so a name is matched (``/hire status Jane Doe``) only for someone who may see it: to
anyone else the answer is the same whether the name exists or not. Which channels a person
is in is Slack's to say: the adapter asks it and hands the set over in a ``Viewer``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from bot.errors import NotFound
from bot.flows import blind_review, escaping, review
from bot.flows.openings import listed as every_opening
from bot.flows.pipeline import candidates_named, interview_number, one_named
from storage.models import Interview, Opening


@dataclass(frozen=True)
class Viewer:
    """The person asking, and the review channels they are a member of."""

    user: str
    recruiter: bool
    channels: frozenset[str] = field(default_factory=frozenset)

    def reviews(self, opening: Opening) -> bool:
        """May this person read about ``opening``'s candidates at all?"""
        return self.recruiter or opening.review_channel in self.channels

    def is_reviewer_of(self, opening: Opening) -> bool:
        """Is this person one of ``opening``'s reviewers (whose vote it waits for)?"""
        return opening.review_channel in self.channels


def sees_name(session: Session, viewer: Viewer, interview: Interview, opening: Opening) -> bool:
    """May ``viewer`` read this candidate's name (and their tally, scores, email)?"""
    if not viewer.reviews(opening):
        return False
    assert interview.id is not None
    voted = review.has_voted(session, interview.id, viewer.user)
    return blind_review.sees_name(opening, recruiter=viewer.recruiter, voted=voted)


def openings(session: Session, viewer: Viewer) -> list[Opening]:
    """The openings ``viewer`` may read about, by slug."""
    return [o for o in every_opening(session) if viewer.reviews(o)]


def opening(session: Session, viewer: Viewer, slug: str) -> Opening:
    """The opening called ``slug``; one the viewer may not read about does not exist for them."""
    found = next((o for o in openings(session, viewer) if o.slug == slug), None)
    if found is None:
        known = ", ".join(o.slug for o in openings(session, viewer))
        raise NotFound(
            f"There is no opening called '{escaping.mrkdwn(slug)}'. "
            f"Openings: {escaping.mrkdwn(known) or 'none you review'}."
        )
    return found


def find_interview(session: Session, viewer: Viewer, who: str) -> Interview:
    """The interview ``who`` (a name, ``#N`` or ``Candidate #N``) means to ``viewer``.

    ``#N`` of an opening they do not review reads as no interview at all; a name matches
    only the candidates whose name they may see.
    """
    number = interview_number(who)
    if number is not None:
        interview = session.get(Interview, number)
        if interview is None or not viewer.reviews(session.get_one(Opening, interview.opening_id)):
            raise NotFound(f"There is no interview #{number}.")
        return interview
    rows = [
        (i, c, o) for i, c, o in candidates_named(session, who) if sees_name(session, viewer, i, o)
    ]
    return one_named(who, rows)
