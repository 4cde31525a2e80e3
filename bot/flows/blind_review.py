"""The blind-review rule, in one place: who may read a candidate's name, tally and scores.

An opening under blind review shows reviewers an alias until they have voted on the
candidate; recruiters always see the name. The review card in the channel is read by
everyone, so under blind review it shows the alias and no tally or scores.
"""

from __future__ import annotations

from storage.models import Opening


def sees_name(opening: Opening, *, recruiter: bool, voted: bool) -> bool:
    """May someone read this opening's candidate's name (and tally, scores, email)?"""
    return not opening.blind_review or recruiter or voted


def card_shows_name(opening: Opening) -> bool:
    """Does the card in the review channel, read by every member, show the name?"""
    return sees_name(opening, recruiter=False, voted=False)
