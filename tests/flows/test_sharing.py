"""Sharing a candidate beyond the review channel: the Slack summary, and links for people
outside Slack (unguessable, hashed, expiring, revocable, one candidate, gone with erasure,
every view recorded, blind review held, votes rate-limited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.errors import InvalidRequest, NotAllowed, NotFound
from bot.flows import erasure, sharing
from bot.flows.buttons import RevokeShare
from bot.flows.interview import hash_token
from bot.limits import ShareLimit
from storage.models import Answer, AuditEvent, Interview, ShareLink
from tests.helpers.flows import NOTIFY_USER, RECRUITER, FlowWorld

HOSTILE = '<script>alert(1)</script> *Dana* <@U0ALL> & "co"'


def make_link(
    world: FlowWorld, interview_id: int, holder: str = "Dana Lee", days: int = 7
) -> sharing.NewLink:
    return world.run(
        lambda s, now: sharing.create_link(
            s,
            interview_id=interview_id,
            by=RECRUITER,
            recruiter=True,
            holder=holder,
            days=days,
            now=now,
        )
    )


def answered_candidate(world: FlowWorld, name: str = "Jane Doe", **opening: Any) -> int:
    world.opening(**opening)
    jane = world.invite(name)
    world.agree(jane)
    world.answer(jane, "I like payments.\nAnd ledgers.")
    world.answer(jane, "The outbox.")
    return jane.interview_id


def answer_ids(world: FlowWorld, interview_id: int) -> list[int]:
    found = world.read(
        lambda s: s.exec(select(Answer.id).where(Answer.interview_id == interview_id)).all()
    )
    return [a for a in found if a is not None]


def erase(world: FlowWorld, interview_id: int) -> None:
    world.run(
        lambda s, now: erasure.erase_person(
            s, s.get_one(Interview, interview_id), by="the candidate", now=now
        )
    )


def actions(world: FlowWorld, interview_id: int) -> list[tuple[str, dict[str, Any]]]:
    found = world.read(
        lambda s: s.exec(
            select(AuditEvent)
            .where(AuditEvent.interview_id == interview_id)
            .where(col(AuditEvent.action).startswith("share."))
            .order_by(col(AuditEvent.id))
        ).all()
    )
    return [(e.action, e.detail) for e in found]


def test_a_link_shows_the_answers_and_keeps_only_the_tokens_hash(world: FlowWorld) -> None:
    interview_id = answered_candidate(world)
    link = make_link(world, interview_id)

    assert len(link.token) >= 43
    stored = world.read(lambda s: s.get_one(ShareLink, link.link_id))
    assert stored.token_hash == hash_token(link.token) and link.token not in stored.token_hash
    page = world.run(lambda s, now: sharing.page(s, link.token, now))
    assert page.candidate == "Jane Doe" and page.holder == "Dana Lee"
    assert [a.question for a in page.answers] == ["Why this role?", "What are you proud of?"]
    assert page.answers[0].transcript == "I like payments.\nAnd ledgers."
    assert "take 1 of 3" in page.answers[0].facts
    # The thread hears of the link, with a button to revoke it.
    note = world.outbox("review.thread.post")[-1].payload
    assert "made a share link for *Dana Lee*" in note["text"]
    assert note["choices"] == [{"label": "Revoke link", "data": RevokeShare(link.link_id).pack()}]


def test_every_view_is_recorded_without_the_holder_or_token(world: FlowWorld) -> None:
    interview_id = answered_candidate(world)
    link = make_link(world, interview_id)
    world.run(lambda s, now: sharing.page(s, link.token, now))
    world.run(lambda s, now: sharing.page(s, link.token, now))

    assert actions(world, interview_id) == [
        ("share.link_created", {"link": link.link_id, "days": 7}),
        ("share.viewed", {"link": link.link_id}),
        ("share.viewed", {"link": link.link_id}),
    ]
    assert world.read(lambda s: s.get_one(ShareLink, link.link_id)).views == 2


@pytest.mark.parametrize("ending", ["expired", "revoked", "erased", "unknown", "other"])
def test_a_link_that_ended_shows_nothing_whatever_the_reason(world: FlowWorld, ending: str) -> None:
    interview_id = answered_candidate(world)
    link = make_link(world, interview_id, days=1)
    token = link.token
    recordings = answer_ids(world, interview_id)
    if ending == "expired":
        world.advance(days=1)
    elif ending == "revoked":
        line = world.run(
            lambda s, now: sharing.revoke(
                s, link_id=link.link_id, by=RECRUITER, recruiter=True, now=now
            )
        )
        assert line.startswith("Revoked")
        assert "revoked the share link" in world.thread_notes()[-1]
    elif ending == "erased":
        erase(world, interview_id)
        assert world.read(lambda s: s.exec(select(ShareLink)).all()) == []
    elif ending == "unknown":
        token = "A" * 43
    else:
        token = token[:-1] + ("B" if token[-1] != "B" else "C")

    with pytest.raises(sharing.Unavailable):
        world.run(lambda s, now: sharing.page(s, token, now))
    with pytest.raises(sharing.Unavailable):
        world.run(lambda s, now: sharing.vote(s, token, "yes", "", now))
    for answer_id in recordings:

        def fetch(session: Session, now: datetime, answer: int = answer_id) -> None:
            sharing.recording(session, token, answer, now)

        with pytest.raises(sharing.Unavailable):
            world.run(fetch)


def test_a_link_is_scoped_to_its_candidate(world: FlowWorld) -> None:
    world.opening()
    jane, john = world.invite("Jane Doe"), world.invite("John Roe")
    for who in (jane, john):
        world.agree(who)
        world.answer(who)
        world.answer(who)
    link = make_link(world, jane.interview_id)
    johns = answer_ids(world, john.interview_id)

    page = world.run(lambda s, now: sharing.page(s, link.token, now))
    assert page.candidate == "Jane Doe"
    with pytest.raises(sharing.Unavailable):  # John's answer, through Jane's link
        world.run(lambda s, now: sharing.recording(s, link.token, johns[0], now))


def test_blind_review_shows_the_alias_on_the_page_and_in_the_summary(world: FlowWorld) -> None:
    interview_id = answered_candidate(world, blind_review=True)
    link = make_link(world, interview_id)

    page = world.run(lambda s, now: sharing.page(s, link.token, now))
    assert page.candidate == f"Candidate #{interview_id}"
    world.run(
        lambda s, now: sharing.share_in_slack(
            s,
            interview_id=interview_id,
            by=RECRUITER,
            recruiter=True,
            people=["U0DANA"],
            channels=[],
            members=frozenset(),
            now=now,
        )
    )
    summary = world.outbox(NOTIFY_USER)[-1].payload["text"]
    assert f"Candidate #{interview_id}" in summary and "Jane" not in summary


def test_a_vote_through_the_link_reaches_the_thread_marked_as_the_holders(
    world: FlowWorld,
) -> None:
    interview_id = answered_candidate(world)
    link = make_link(world, interview_id, holder=HOSTILE)

    world.run(lambda s, now: sharing.vote(s, link.token, "yes", "Strong *yes*\n<!channel>", now))

    note = world.thread_notes()[-1]
    assert note.startswith("🔗 *&lt;script&gt;alert(1)&lt;/script&gt; *Dana* &lt;@U0ALL&gt;")
    assert f"(share link from <@{RECRUITER}>) voted *Yes*." in note
    assert "> Strong *yes*\n> &lt;!channel&gt;" in note
    assert actions(world, interview_id)[-1] == (
        "share.voted",
        {"link": link.link_id, "choice": "yes", "note": True},
    )
    # It does not count in the card's tally: that is for the review channel's members.
    assert world.last_card()["tally"] == {"yes": 0, "maybe": 0, "no": 0}


def test_votes_through_a_link_are_rate_limited(world: FlowWorld) -> None:
    interview_id = answered_candidate(world)
    link = make_link(world, interview_id)
    for _ in range(ShareLimit.VOTES_PER_WINDOW):
        world.run(lambda s, now: sharing.vote(s, link.token, "maybe", "", now))
    with pytest.raises(sharing.TooManyVotes):
        world.run(lambda s, now: sharing.vote(s, link.token, "no", "", now))
    world.advance(minutes=ShareLimit.VOTE_WINDOW_MINUTES)
    world.run(lambda s, now: sharing.vote(s, link.token, "no", "", now))
    assert sum("voted *" in n for n in world.thread_notes()) == ShareLimit.VOTES_PER_WINDOW + 1


def test_a_vote_must_be_one_of_ours(world: FlowWorld) -> None:
    interview_id = answered_candidate(world)
    link = make_link(world, interview_id)
    with pytest.raises(InvalidRequest):
        world.run(lambda s, now: sharing.vote(s, link.token, "strong-yes", "", now))


def test_only_recruiters_share_and_revoke(world: FlowWorld) -> None:
    interview_id = answered_candidate(world)
    with pytest.raises(NotAllowed):
        world.run(
            lambda s, now: sharing.create_link(
                s,
                interview_id=interview_id,
                by="U0TOM",
                recruiter=False,
                holder="Dana",
                days=7,
                now=now,
            )
        )
    link = make_link(world, interview_id)
    with pytest.raises(NotAllowed):
        world.run(
            lambda s, now: sharing.revoke(
                s, link_id=link.link_id, by="U0TOM", recruiter=False, now=now
            )
        )


@pytest.mark.parametrize(("holder", "days"), [("   ", 7), ("Dana", 0), ("Dana", 31)])
def test_a_bad_link_request_is_refused(world: FlowWorld, holder: str, days: int) -> None:
    interview_id = answered_candidate(world)
    with pytest.raises(InvalidRequest):
        make_link(world, interview_id, holder=holder, days=days)


def test_sharing_in_slack_sends_the_summary_and_links_the_thread_for_its_members(
    world: FlowWorld,
) -> None:
    interview_id = answered_candidate(world, "<b>Jane</b> & *Doe*")
    line = world.run(
        lambda s, now: sharing.share_in_slack(
            s,
            interview_id=interview_id,
            by=RECRUITER,
            recruiter=True,
            people=["U0TOM", "U0DANA"],
            channels=["C0HIRING"],
            members=frozenset({"U0TOM"}),
            now=now,
        )
    )

    assert line == "Shared with <@U0TOM>, <@U0DANA>, <#C0HIRING>."
    sent = {row.payload["user"]: row.payload for row in world.outbox(NOTIFY_USER)}
    assert set(sent) == {"U0TOM", "U0DANA", "C0HIRING"}
    assert sent["U0TOM"]["thread_link"] == {
        "interview_id": interview_id,
        "label": "Open the review thread",
    }
    assert sent["U0DANA"]["thread_link"] is None and sent["C0HIRING"]["thread_link"] is None
    text = sent["U0DANA"]["text"]
    assert "*&lt;b&gt;Jane&lt;/b&gt; &amp; *Doe**" in text
    assert "*Q1. Why this role?*" in text and "> I like payments.\n> And ledgers." in text
    assert all(p["about"] == [interview_id] for p in sent.values())  # erased with them
    assert actions(world, interview_id) == [("share.slack", {"people": 2, "channels": 1})]


def test_nothing_is_shared_of_an_erased_candidate(world: FlowWorld) -> None:
    interview_id = answered_candidate(world)
    erase(world, interview_id)
    with pytest.raises(NotFound):
        make_link(world, interview_id)
