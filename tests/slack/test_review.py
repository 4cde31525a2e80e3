"""Reviewers vote (and change their minds), score the rubric, and review blind when asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, TEAMMATE, World, eventually, visible_text
from storage.models import Score, Vote
from tests.helpers.slack import (
    blind_opening,
    card,
    db,
    hire,
    opened_view,
    picked,
    text_value,
)
from tests.helpers.stories import invite


@pytest.mark.parametrize("slack_mode", ["socket", "http"])
async def test_reviewers_vote_and_one_changes_their_mind(tmp_path: Path, slack_mode: str) -> None:
    async with World(data_dir=tmp_path, slack_mode=slack_mode) as w:
        await invite(w)
        rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)
        await tom.click("vote_yes", message=await card(w))
        await rita.click("vote_no", message=await card(w))
        await eventually(lambda: "Yes 1" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))
        await eventually(lambda: "No 1" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))

        await tom.click("vote_maybe", message=await card(w))
        await eventually(lambda: "Maybe 1" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))
        shown = visible_text(await card(w))
        assert "Yes 0" in shown and "No 1" in shown
        votes = db(w, lambda s: s.exec(select(Vote).order_by(Vote.reviewer)).all())
        assert [(v.reviewer, v.choice) for v in votes] == [(RECRUITER, "no"), (TEAMMATE, "maybe")]
        assert len(w.slack.messages(REVIEW_CHANNEL)) == 1  # one card, updated in place


async def test_reviewer_scores_every_criterion_and_the_card_shows_averages(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        await invite(w)
        rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)

        await tom.click("score_open", message=await card(w))
        form = await opened_view(w, "score")
        labels = [b["label"]["text"] for b in form["blocks"] if b["type"] == "input"]
        assert labels == ["Communication", "Technical depth", "Ownership", "Note (for the team)"]

        # Leaving a criterion out is refused next to the field; nothing is saved.
        partial = {"criterion-0": picked("4"), "criterion-1": picked("3")}
        assert await tom.submit_view(form, partial) == 200
        assert w.slack.view_acks[-1] == {
            "response_action": "errors",
            "errors": {"criterion-2": "Please score Ownership."},
        }
        assert db(w, lambda s: s.exec(select(Score)).all()) == []

        full = {**partial, "criterion-2": picked("5"), "note": text_value("Clear on trade-offs.")}
        assert await tom.submit_view(form, full) == 200
        assert w.slack.view_acks[-1] == {}
        await rita.click("score_open", message=await card(w))
        rita_form = await opened_view(w, "score", 2)
        await rita.submit_view(
            rita_form,
            {"criterion-0": picked("2"), "criterion-1": picked("4"), "criterion-2": picked("4")},
        )
        await eventually(
            lambda: "Communication *3.0*" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]),
            what="averages on the card",
        )
        shown = visible_text(await card(w))
        assert "Technical depth *3.5*" in shown and "Ownership *4.5*" in shown
        assert "(by 2)" in shown

        # Scoring again replaces one's own scores; the form opens with them filled in.
        await tom.click("score_open", message=await card(w))
        again = await opened_view(w, "score", 3)
        first_select = again["blocks"][1]["element"]
        assert first_select["initial_option"]["value"] == "4"
        scores = db(w, lambda s: s.exec(select(Score).where(Score.reviewer == TEAMMATE)).one())
        assert scores.scores == {"Communication": 4, "Technical depth": 3, "Ownership": 5}
        assert scores.note == "Clear on trade-offs."


async def test_blind_review_hides_name_and_tally_until_the_reviewer_votes(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        blind_opening(w, tmp_path)
        rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)
        await invite(w, "Jane Doe")
        parent = await card(w)
        shown = visible_text(parent)
        assert "Jane" not in shown and "Candidate #1" in shown
        assert "hidden until you vote" in shown

        await rita.click("vote_yes", message=parent)
        reveal = await eventually(
            lambda: [e for e in w.slack.ephemerals(RECRUITER) if e["via"] == "api"],
            what="the reveal, shown to Rita alone",
        )
        assert "Candidate #1 is *Jane Doe*" in reveal[0]["text"]
        assert "Yes 1 · Maybe 0 · No 0" in reveal[0]["text"]
        await eventually(lambda: "1 cast" in visible_text(w.slack.messages(REVIEW_CHANNEL)[0]))
        shown = visible_text(await card(w))
        assert "Jane" not in shown and "Yes 1" not in shown  # the channel still sees no tally

        # Tom has not voted: status shows him the alias and no tally.
        status = await hire(w, TEAMMATE, "status backend-engineer")
        assert "Candidate #1" in status and "Jane" not in status
        assert "votes hidden until you vote" in status
        assert [e for e in w.slack.ephemerals(TEAMMATE) if e["via"] == "api"] == []

        await tom.click("vote_no", message=await card(w))
        tom_reveal = await eventually(
            lambda: [e for e in w.slack.ephemerals(TEAMMATE) if e["via"] == "api"],
            what="Tom's reveal",
        )
        assert "Jane Doe" in tom_reveal[0]["text"] and "No 1" in tom_reveal[0]["text"]
        status = await hire(w, TEAMMATE, "status backend-engineer")
        assert "Jane Doe" in status and "yes 1" in status
