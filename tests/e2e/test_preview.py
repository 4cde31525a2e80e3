"""/hire preview: a recruiter takes the real interview; it stays in their DM and counts nowhere."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bot.flows.webhook_events import EVENTS
from bot.sandbox.world import (
    INVITE_LINK,
    RECRUITER,
    REVIEW_CHANNEL,
    SAMPLES,
    TEAMMATE,
    SimulatedClock,
    World,
    eventually,
)
from storage.models import (
    Answer,
    AuditEvent,
    Interview,
    OutboxMessage,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.helpers.slack import db, finish_interview, hire

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RITAS_DM = "D" + RECRUITER[1:]  # the sandbox's id of the app's DM with Rita


async def _preview(w: World) -> str:
    reply = await hire(w, RECRUITER, "preview backend-engineer")
    link = INVITE_LINK.search(reply)
    assert link is not None, reply
    assert "your own* Telegram" in reply and "deleted after 24 hours" in reply
    return link.group(2)


async def test_a_preview_answers_in_the_recruiters_dm_and_counts_nowhere(
    tmp_path: Path, database_url: str
) -> None:
    clock = SimulatedClock(NOW)
    async with World(data_dir=tmp_path, database_url=database_url, clock=clock) as w:
        # A webhook subscribed to every event: a preview fires none of them.
        hook = WebhookEndpoint(
            url="https://hooks.example.com/hirebot",
            secret="s" * 32,
            events=list(EVENTS),
            created_by=RECRUITER,
            created_at=NOW,
        )
        w.bot.uow.run_sync(lambda s, _now: s.add(hook))
        rita_on_telegram = w.telegram.candidate(720_001, "Rita", "Recruiter")
        await finish_interview(w, rita_on_telegram, await _preview(w))

        # The card and both answers, transcribed, are in Rita's DM; the channel saw nothing.
        card = await eventually(lambda: next(iter(w.slack.messages(RITAS_DM)), None))
        assert "Rita Recruiter" in card.text

        def transcribed() -> list[str]:
            thread = [m.text for m in w.slack.thread(RITAS_DM, card.ts)]
            answers = [t for t in thread if t.startswith("*Q")]
            return thread if len(answers) == 2 and all("pending" not in t for t in answers) else []

        thread = await eventually(transcribed, seconds=120, what="the transcribed answers")
        assert "preview" in thread[0] and "deleted 24 hours from now" in thread[0]
        assert len([f for f in w.slack.files if f.channel == RITAS_DM]) == 2
        await w.wait_idle()
        assert w.slack.messages(REVIEW_CHANNEL) == []
        assert not [f for f in w.slack.files if f.channel == REVIEW_CHANNEL]

        # Stats, status and the export do not count it; the audit trail marks it.
        stats = await hire(w, RECRUITER, "stats backend-engineer")
        assert "Invited 0 · started 0 · completed 0" in stats
        assert "nobody invited yet" in await hire(w, RECRUITER, "status backend-engineer")
        assert await hire(w, RECRUITER, "export") == "Exported 0 candidates: check your DMs."
        assert "Rita Recruiter" in await hire(w, RECRUITER, "status #1")  # by number it is found
        events = db(w, lambda s: s.exec(select(AuditEvent)).all())
        interview_events = [e for e in events if e.interview_id is not None]
        assert interview_events and all(e.detail.get("preview") for e in interview_events)
        assert db(w, lambda s: s.exec(select(WebhookDelivery)).all()) == []
        assert not db(
            w, lambda s: s.exec(select(OutboxMessage).where(OutboxMessage.kind == "webhook")).all()
        )

        # A day later the periodic tick erases it: answers, files and the DM thread's replies.
        files = [a.media_path for a in db(w, lambda s: s.exec(select(Answer)).all())]
        assert len(files) == 2 and all((w.settings().media_dir / f).is_file() for f in files if f)
        clock.advance(hours=23)
        await w.bot.tick()
        assert db(w, lambda s: s.exec(select(Answer)).all())
        clock.advance(hours=1, minutes=1)
        await w.bot.tick()
        await w.wait_idle()
        assert db(w, lambda s: s.exec(select(Answer)).all()) == []
        assert db(w, lambda s: s.exec(select(Interview)).one()).status == "withdrawn"
        assert not any((w.settings().media_dir / f).exists() for f in files if f)
        left = [m.text for m in w.slack.thread(RITAS_DM, card.ts)]
        assert len(left) == 1 and "This preview is 24 hours old" in left[0], left
        assert db(w, lambda s: s.exec(select(WebhookDelivery)).all()) == []

        # The same endpoint does hear of a real candidate.
        await hire(w, RECRUITER, "invite backend-engineer Jane Doe")
        delivered = db(w, lambda s: s.exec(select(WebhookDelivery)).all())
        assert [d.event_type for d in delivered] == ["interview.invited"]


async def test_only_recruiters_preview_and_a_preview_leaves_a_real_candidacy_alone(
    tmp_path: Path, database_url: str
) -> None:
    clock = SimulatedClock(NOW)
    async with World(data_dir=tmp_path, database_url=database_url, clock=clock) as w:
        refused = await hire(w, TEAMMATE, "preview backend-engineer")
        assert "Only recruiters can use `/hire preview`" in refused
        assert "There is no opening called 'nope'" in await hire(w, RECRUITER, "preview nope")
        assert "Usage: `/hire preview <opening>`" in await hire(w, RECRUITER, "preview")
        w.slack.fail("conversations.open", status=200, retry_after=None, error="missing_scope")
        refused = await hire(w, RECRUITER, "preview backend-engineer")
        assert "could not open our DM" in refused and "missing_scope" in refused

        # The same Telegram account is also a real candidate: erasing the preview a day
        # later leaves the candidacy (and erasing a candidate would leave the preview).
        account = w.telegram.candidate(720_002, "Rita", "Recruiter")
        reply = await w.slack.teammate(RECRUITER).slash(
            "/hire", "invite backend-engineer Rita Candidate", REVIEW_CHANNEL
        )
        link = INVITE_LINK.search(reply.text or "")
        assert link is not None
        await account.send_command("/start", link.group(2))
        await account.wait_for_message("Do you agree?")
        preview_token = await _preview(w)
        mark = len(account.inbox())
        await account.send_command("/start", preview_token)
        await account.wait_for_message("Do you agree?", after=mark)
        await account.send_voice(SAMPLES / "answer1.ogg")
        await w.wait_idle()
        clock.advance(hours=25)
        await w.bot.tick()
        await w.wait_idle()
        rows = db(w, lambda s: s.exec(select(Interview).order_by(Interview.id)).all())  # type: ignore[arg-type]
        assert [(i.preview, i.status) for i in rows] == [
            (False, "consent_pending"),
            (True, "withdrawn"),
        ]
