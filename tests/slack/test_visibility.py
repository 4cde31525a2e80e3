"""Who may read what: a review channel's members read its candidates, recruiters read all,
and blind review never lets a name through to someone who has not voted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.flows.roles import refusal
from bot.sandbox.slack_api import GENERAL_CHANNEL
from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, TEAMMATE, World, eventually
from storage.models import Decision, Interview, OutboxMessage
from tests.helpers.slack import blind_opening, card, db, hire, opened_view, text_value
from tests.helpers.stories import invite, start_answering

OUTSIDER = "U0OUTSIDER"
NOTHING_TO_REVIEW = (
    "You are not in the review channel of any opening, so there is nothing to show you. "
    "Reviewers are the members of an opening's review channel."
)


async def _reject_with_reason(w: World, who: str, reason: str) -> None:
    await w.slack.teammate(RECRUITER).slash("/hire", f"reject {who}", REVIEW_CHANNEL)
    form = await opened_view(w, "reject")
    values = {"reason": text_value(reason), "message": text_value("Thank you, and good luck.")}
    assert await w.slack.teammate(RECRUITER).submit_view(form, values) == 200
    assert w.slack.view_acks[-1] == {}


async def ask(w: World, text: str) -> str:
    """``/hire text`` typed by Olga, who is in #general only."""
    return await hire(w, OUTSIDER, text, GENERAL_CHANNEL)


def _home_text(w: World, user: str) -> str:
    blocks = w.slack.home_views[user]["blocks"]
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in blocks if "text" in b)


async def test_someone_outside_the_review_channel_reads_nothing_about_its_candidates(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        await invite(w, "Jane Doe")
        await invite(w, "John Roe")
        await _reject_with_reason(w, "John Roe", "Salary far above our band.")
        olga, tom = w.slack.teammate(OUTSIDER, "olga"), w.slack.teammate(TEAMMATE)

        # Olga is in the workspace, not in #backend-reviews: every way in answers alike.
        assert await ask(w, "status") == NOTHING_TO_REVIEW
        assert (
            await ask(w, "status backend-engineer")
            == "I can't find a candidate called 'backend-engineer'."
        )
        assert await ask(w, "status Jane Doe") == "I can't find a candidate called 'Jane Doe'."
        assert await ask(w, "status #1") == "There is no interview #1."
        assert await ask(w, "status #99") == "There is no interview #99."
        assert await ask(w, "stats") == NOTHING_TO_REVIEW
        assert await ask(w, "stats backend-engineer") == (
            "There is no opening called 'backend-engineer'. Openings: none you review."
        )
        assert await ask(w, "export") == refusal("export")
        assert await ask(w, "opening list") == NOTHING_TO_REVIEW
        await olga.open_home()
        await eventually(lambda: w.slack.home_views.get(OUTSIDER), what="Olga's home")
        home = _home_text(w, OUTSIDER)
        for secret in ("Jane", "John", "Salary", "Backend Engineer", "rejected"):
            assert secret not in home, home

        # Tom is in the channel: he reads the candidates, the decision and its reason.
        detail = await hire(w, TEAMMATE, "status John Roe")
        assert f"<@{RECRUITER}> rejected (Salary far above our band.)" in detail
        assert "*Jane Doe*" in await hire(w, TEAMMATE, "status backend-engineer")
        assert "Invited 2" in await hire(w, TEAMMATE, "stats")
        assert "• `backend-engineer` — Backend Engineer" in await hire(w, TEAMMATE, "opening list")
        await tom.open_home()
        await eventually(lambda: w.slack.home_views.get(TEAMMATE), what="Tom's home")
        assert "rejected (Salary far above our band.)" in _home_text(w, TEAMMATE)

        # Recruiters see everything, wherever they are.
        assert "*Jane Doe*" in await hire(w, RECRUITER, "status backend-engineer")


async def test_blind_review_neither_confirms_nor_denies_a_name_to_who_has_not_voted(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        blind_opening(w, tmp_path)
        await invite(w, "Jane Doe")
        tom = w.slack.teammate(TEAMMATE)

        real = await hire(w, TEAMMATE, "status Jane Doe")
        made_up = await hire(w, TEAMMATE, "status Zed Nobody")
        assert real == "I can't find a candidate called 'Jane Doe'."
        assert real.replace("Jane Doe", "Zed Nobody") == made_up
        by_number = await hire(w, TEAMMATE, "status #1")
        assert "Candidate #1" in by_number and "Jane" not in by_number

        await tom.click("vote_yes", message=await card(w))
        await eventually(lambda: "1 cast" in str(w.slack.messages(REVIEW_CHANNEL)[0].blocks))
        assert "*Jane Doe* (#1)" in await hire(w, TEAMMATE, "status Jane Doe")
        assert "*Jane Doe* (#1)" in await hire(w, RECRUITER, "status Jane Doe")


@pytest.mark.parametrize("slack_mode", ["socket", "http"])
async def test_a_teammate_submitting_a_kept_reject_form_is_refused_and_nothing_changes(
    tmp_path: Path, slack_mode: str
) -> None:
    async with World(data_dir=tmp_path, slack_mode=slack_mode) as w:
        jane = w.telegram.candidate(700_801, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        await w.slack.teammate(RECRUITER).slash("/hire", "reject Jane Doe", REVIEW_CHANNEL)
        form = await opened_view(w, "reject")
        told_before, outbox_before = len(jane.inbox()), db(w, _outbox)
        thread_before = len(w.slack.thread(REVIEW_CHANNEL, (await card(w)).ts))

        # Tom got hold of the form (a forwarded payload, a forged view id): Slack delivers it
        # as his submission, signed (HTTP) or over the socket, like any other.
        values = {"reason": text_value("Tom says no."), "message": text_value("Go away.")}
        assert await w.slack.teammate(TEAMMATE).submit_view(form, values) == 200
        assert w.slack.view_acks[-1] == {
            "response_action": "errors",
            "errors": {"message": refusal("reject")},
        }
        assert db(w, lambda s: s.exec(select(Interview)).one()).stage == "Async interview"
        assert db(w, lambda s: s.exec(select(Decision)).all()) == []
        assert db(w, _outbox) == outbox_before  # nothing to say to anyone
        assert len(jane.inbox()) == told_before
        assert len(w.slack.thread(REVIEW_CHANNEL, (await card(w)).ts)) == thread_before
        assert w.slack.direct_messages(TEAMMATE) == []


def _outbox(session: Session) -> list[tuple[int | None, str]]:
    return [(m.id, m.kind) for m in session.exec(select(OutboxMessage)).all()]
