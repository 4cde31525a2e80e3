"""Recruiters decide; everyone else is told so, politely, and nothing changes."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, TEAMMATE, World
from storage.models import Candidate, Interview, OutboxMessage, Recruiter
from tests.helpers.slack import db, hire

RECRUITER_COMMANDS = [
    "invite backend-engineer Jane Doe",
    "advance Jane Doe",
    "reject Jane Doe",
    "extend Jane Doe 3",
    "erase Jane Doe",
    "export",
    "remind Jane Doe",
    "opening new",
    "recruiters add <@U0TEAMMATE1|tom>",
    "webhooks",
    "webhooks add https://hooks.example.com/a interview.invited",
]


async def test_teammate_is_refused_every_recruiter_command_and_nothing_changes(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        tom = w.slack.teammate(TEAMMATE)
        outbox_before = len(db(w, lambda s: s.exec(select(OutboxMessage)).all()))
        for text in RECRUITER_COMMANDS:
            reply = await tom.slash("/hire", text, REVIEW_CHANNEL)
            assert reply.status == 200
            assert "Only recruiters can use" in (reply.text or ""), text
            assert w.slack.ephemerals(TEAMMATE)[-1]["via"] == "ack"
        assert db(w, lambda s: s.exec(select(Interview)).all()) == []
        assert db(w, lambda s: s.exec(select(Recruiter)).all()) == []
        assert len(db(w, lambda s: s.exec(select(OutboxMessage)).all())) == outbox_before
        assert w.slack.views == []  # no form was opened for them

        # What every teammate may do still works for Tom.
        for text in ("help", "status", "stats", "opening list", "recruiters"):
            assert "Only recruiters" not in await hire(w, TEAMMATE, text), text


async def test_recruiter_adds_a_teammate_who_can_then_invite(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)
        reply = await rita.slash("/hire", f"recruiters add <@{TEAMMATE}|tom>", REVIEW_CHANNEL)
        assert (
            reply.text
            == f"<@{TEAMMATE}> is now a recruiter: they can invite candidates and decide."
        )
        stored = db(w, lambda s: s.exec(select(Recruiter)).one())
        assert (stored.user, stored.added_by) == (TEAMMATE, RECRUITER)

        reply = await tom.slash(
            "/hire",
            "invite backend-engineer Jane Doe <mailto:jane@example.com|jane@example.com> "
            "lang=de time=1.5",
            REVIEW_CHANNEL,
        )
        assert "Invited *Jane Doe*" in (reply.text or "")
        invited = db(w, lambda s: s.exec(select(Interview)).one())
        candidate = db(w, lambda s: s.exec(select(Candidate)).one())
        assert invited.time_multiplier == 1.5 and invited.invited_by == TEAMMATE
        assert (candidate.name, candidate.email, candidate.language) == (
            "Jane Doe",
            "jane@example.com",
            "de",
        )
        listing = await tom.slash("/hire", "recruiters list", REVIEW_CHANNEL)
        assert listing.text == f"Recruiters: <@{RECRUITER}>, <@{TEAMMATE}>"

        # The configured recruiter cannot be removed from Slack; an added one can.
        refused = await tom.slash("/hire", f"recruiters remove <@{RECRUITER}>", REVIEW_CHANNEL)
        assert "HIREBOT_RECRUITERS" in (refused.text or "")
        removed = await rita.slash("/hire", f"recruiters remove <@{TEAMMATE}>", REVIEW_CHANNEL)
        assert removed.text == f"<@{TEAMMATE}> is no longer a recruiter."
        again = await tom.slash("/hire", "invite backend-engineer John Roe", REVIEW_CHANNEL)
        assert "Only recruiters" in (again.text or "")


async def test_help_lists_every_command_and_bad_input_gets_usage(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        rita = w.slack.teammate(RECRUITER)
        help_text = (await rita.slash("/hire", "", REVIEW_CHANNEL)).text or ""
        for verb in (
            "invite", "status", "remind", "extend", "advance", "reject", "erase", "export",
            "stats", "opening list", "opening new", "recruiters", "webhooks", "help",
        ):  # fmt: skip
            assert f"/hire {verb}" in help_text, verb
        unknown = await rita.slash("/hire", "fire Jane", REVIEW_CHANNEL)
        assert (unknown.text or "").startswith("I don't know `/hire fire`")
        for text, usage in [
            ("invite", "Usage: `/hire invite"),
            ("invite backend-engineer Jane time=9", "Extra time goes from 1 to 3"),
            ("extend Jane", "Usage: `/hire extend"),
            ("extend Jane soon", "Usage: `/hire extend"),
            ("advance", "Usage: `/hire advance"),
            ("reject", "Usage: `/hire reject"),
            ("remind", "Usage: `/hire remind"),
            ("opening rename", "Usage: `/hire opening list`"),
            ("recruiters add", "Usage: `/hire recruiters"),
            ("recruiters add someone", "is not a Slack user"),
            ("status nobody", "I can't find a candidate called 'nobody'"),
            ("stats frontend", "There is no opening called 'frontend'"),
        ]:
            answer = await hire(w, RECRUITER, text)
            assert usage in answer, (text, answer)
