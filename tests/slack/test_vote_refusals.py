"""A vote that cannot count tells the voter why, privately, and changes nothing."""

from __future__ import annotations

import asyncio
import copy
import time
from pathlib import Path

from sqlmodel import select

from bot.sandbox.slack import SandboxTeammate
from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, TEAMMATE, World, eventually, visible_text
from storage import outbox
from storage.models import Vote
from tests.helpers.slack import card, db
from tests.helpers.stories import invite

STALE = "That button is out of date or not one of mine: nothing changed."


async def _press_forged(w: World, voter: SandboxTeammate, action_id: str, value: str) -> None:
    """The voter's last click again, as a new press carrying ``action_id`` and ``value``."""
    assert voter.last_interaction is not None
    payload = copy.deepcopy(voter.last_interaction)
    payload["actions"][0].update(action_id=action_id, value=value, action_ts=f"{time.time():.6f}")
    assert (await w.slack.deliver("interactive", payload)).status == 200


async def _told(w: World, seen: int) -> dict[str, object]:
    """The ephemeral message the voter is shown next (after ``seen`` earlier ones)."""
    await asyncio.wait_for(w.slack.wait_for_ephemerals(TEAMMATE, seen), timeout=20)
    return w.slack.ephemerals(TEAMMATE)[-1]


def _votes(w: World) -> list[tuple[str, str]]:
    return [(v.reviewer, v.choice) for v in db(w, lambda s: s.exec(select(Vote)).all())]


async def test_a_forged_or_unknown_vote_is_refused_with_a_reason_and_old_cards_still_vote(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        await invite(w)
        tom = w.slack.teammate(TEAMMATE)
        await tom.click("vote_yes", message=await card(w))
        await eventually(lambda: "Yes 1" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))

        # A card posted before button values were packed carried the bare interview id.
        await _press_forged(w, tom, "vote_no", "1")
        await eventually(lambda: _votes(w) == [(TEAMMATE, "no")], what="the old card's vote")

        for action_id, value, reason in [
            ("vote_yes", "vote_yes@999", "That interview no longer exists."),
            ("vote_yes", "vote_yes@abc", STALE),
            ("vote_yes", "vote_maybe@1", STALE),  # a value taken from another button
            ("vote_never", "vote_never@1", STALE),
            ("vote_yes", "", STALE),
        ]:
            seen = w.slack.ephemeral_count(TEAMMATE)
            await _press_forged(w, tom, action_id, value)
            told = await _told(w, seen)
            assert (told["text"], told["channel"], told["via"]) == (reason, REVIEW_CHANNEL, "api")
        assert _votes(w) == [(TEAMMATE, "no")]


async def test_a_vote_or_score_on_an_erased_candidate_is_refused_with_a_reason(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        await invite(w)
        tom, rita = w.slack.teammate(TEAMMATE), w.slack.teammate(RECRUITER)
        await tom.click("vote_yes", message=await card(w))
        await eventually(lambda: _votes(w) == [(TEAMMATE, "yes")])
        await rita.slash("/hire", "erase #1 confirm", REVIEW_CHANNEL)
        await eventually(lambda: w.bot.uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 0)
        shown = await card(w)
        assert "Withdrawn candidate #1" in shown.text  # the card stays, buttons and all

        seen = w.slack.ephemeral_count(TEAMMATE)
        await tom.click("vote_no", message=shown)
        told = await _told(w, seen)
        assert told["text"] == "Candidate #1's data was erased: the interview takes no more votes."
        assert told["via"] == "api"
        assert _votes(w) == [(TEAMMATE, "yes")]

        # Nor does it open the score form (the form would name the candidate, or save scores).
        seen = w.slack.ephemeral_count(TEAMMATE)
        views = len(w.slack.views)
        await tom.click("score_open", message=shown)
        told = await _told(w, seen)
        assert told["text"] == "Candidate #1's data was erased: the interview takes no more scores."
        assert len(w.slack.views) == views
        assert (await card(w)).blocks == shown.blocks
