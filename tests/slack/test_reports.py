"""Where things stand: status, stats, the CSV export, openings, and the App Home."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from pathlib import Path

from sqlmodel import select

from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, TEAMMATE, World, eventually
from storage.models import Answer, AuditEvent, Opening, Question
from tests.helpers.slack import (
    card,
    channel_value,
    checked,
    db,
    finish_interview,
    hire,
    number_value,
    opened_view,
    picked,
    text_value,
    users_value,
)
from tests.helpers.stories import invite


async def test_status_stats_and_export_tell_the_team_where_things_stand(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        tom = w.slack.teammate(TEAMMATE)
        jane = w.telegram.candidate(700_501, "Jane", "Doe")
        await finish_interview(w, jane, await invite(w, "Jane Doe"))
        await invite(w, "John Roe")
        await tom.click("vote_yes", message=await card(w, 0))
        await tom.reply_in_thread(REVIEW_CHANNEL, (await card(w, 0)).ts, "Great system design.")
        await eventually(lambda: "Yes 1" in str(w.slack.messages(REVIEW_CHANNEL)[0].blocks))

        overview = await hire(w, TEAMMATE, "status")
        assert "`backend-engineer` Backend Engineer: 2 invited" in overview
        assert "1 completed" in overview and "1 invited" in overview
        listing = await hire(w, TEAMMATE, "status backend-engineer")
        assert "• #1 *Jane Doe*: completed 2/2 · stage Async interview · yes 1" in listing
        assert "• #2 *John Roe*: invited 0/2" in listing
        detail = await hire(w, TEAMMATE, "status Jane Doe")
        assert f"<@{TEAMMATE}>: Great system design." in detail

        stats = await hire(w, TEAMMATE, "stats backend-engineer")
        assert "Invited 2 · started 1 · completed 1 (completion rate 50%)" in stats
        assert "Median time to complete: 0 min" in stats
        assert "Median time to first review: 0 min" in stats

        exported_line = await hire(w, RECRUITER, "export backend-engineer")
        assert exported_line == "Exported 2 candidates: check your DMs."
        dm = await eventually(lambda: [m for m in w.slack.direct_messages(RECRUITER) if m.files])
        exported = dm[0].files[0]
        assert exported.filename.startswith("hirebot-backend-engineer-")
        rows = list(csv.DictReader(io.StringIO(exported.data.decode())))
        assert [(r["candidate"], r["status"], r["votes_yes"]) for r in rows] == [
            ("Jane Doe", "completed", "1"),
            ("John Roe", "invited", "0"),
        ]
        assert rows[0]["notes"] == f"<@{TEAMMATE}>: Great system design."
        assert "score: Communication" in rows[0] and rows[0]["minutes_to_complete"] != ""

        # The same export as JSON: the same columns, plus language, answers and segments.
        await eventually(
            lambda: all(
                a.transcript_status == "done" for a in db(w, lambda s: s.exec(select(Answer)).all())
            ),
            what="both transcripts",
        )
        assert await hire(w, RECRUITER, "export backend-engineer json") == (
            "Exported 2 candidates: check your DMs."
        )
        files = await eventually(
            lambda: [f for m in w.slack.direct_messages(RECRUITER) for f in m.files][1:]
        )
        assert files[0].filename.endswith(".json")
        document = json.loads(files[0].data.decode())
        assert document["version"] == 1
        jane, john = document["candidates"]
        columns = [c for c in rows[0] if not c.startswith("score: ")]
        criteria = {c.removeprefix("score: ") for c in rows[0] if c.startswith("score: ")}
        assert [k for k in jane if k not in ("scores", "language", "answers")] == columns
        assert set(jane["scores"]) == criteria
        assert (jane["candidate"], jane["votes_yes"], jane["language"]) == ("Jane Doe", 1, "en")
        assert jane["notes"] == [f"<@{TEAMMATE}>: Great system design."]
        assert isinstance(jane["minutes_to_complete"], float)
        assert [a["question"] for a in jane["answers"]] == [1, 2]
        first = jane["answers"][0]
        assert first["transcript"] and first["segments"]
        assert set(first["segments"][0]) >= {"start", "end", "text"}
        assert john["answers"] == [] and john["started_at"] is None

        # `hirebot export` on the server writes the same document to stdout, and is audited.
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "export", "backend-engineer", "--format", "json",
            env={**os.environ, **w.environment()},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        assert json.loads(out) == document
        trail = db(w, lambda s: [(e.actor, e.detail) for e in s.exec(select(AuditEvent)).all()])
        exports = [(actor, d.get("format")) for actor, d in trail if "rows" in d]
        assert exports == [(RECRUITER, "csv"), (RECRUITER, "json"), ("operator", "json")]


async def test_recruiter_creates_an_opening_from_a_form(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        rita = w.slack.teammate(RECRUITER)
        reply = await rita.slash("/hire", "opening new", REVIEW_CHANNEL)
        assert reply.status == 200 and not reply.text
        form = await opened_view(w, "opening_new")

        await rita.submit_view(form, {"title": text_value("Data Engineer")})
        errors = w.slack.view_acks[-1]
        assert errors["response_action"] == "errors"
        assert errors["errors"]["questions"] == "Please write at least one question (one per line)."

        values = {
            "title": text_value("Data Engineer"),
            "channel": channel_value(REVIEW_CHANNEL),
            "deadline": number_value(10),
            "questions": text_value("Tell us about a pipeline.\nHow do you test data?"),
            "prep": number_value(20),
            "answer": number_value(90),
            "takes": number_value(2),
            "types": checked("voice", "video_note"),
            "rubric": text_value("SQL\nCommunication"),
            "blind": checked("blind"),
            "limits": picked("soft", "radio_buttons"),
            "interviewers": users_value(TEAMMATE),
        }
        assert await rita.submit_view(form, values) == 200
        assert w.slack.view_acks[-1] == {}
        opening = db(
            w, lambda s: s.exec(select(Opening).where(Opening.slug == "data-engineer")).one()
        )
        assert (opening.title, opening.review_channel, opening.deadline_days) == (
            "Data Engineer",
            REVIEW_CHANNEL,
            10,
        )
        assert opening.blind_review and not opening.strict_limits
        assert opening.rubric == ["SQL", "Communication"]
        assert opening.interviewers == [TEAMMATE] and not opening.panel
        questions = db(
            w, lambda s: s.exec(select(Question).where(Question.opening_id == opening.id)).all()
        )
        assert [(q.text, q.prep_seconds, q.answer_seconds, q.max_takes) for q in questions] == [
            ("Tell us about a pipeline.", 20, 90, 2),
            ("How do you test data?", 20, 90, 2),
        ]
        assert questions[0].answer_types == ["voice", "video_note"]
        dm = await eventually(lambda: w.slack.direct_messages(RECRUITER))
        assert "Created opening *Data Engineer* (`data-engineer`, 2 questions)" in dm[-1].text
        # Tom takes the live interviews and has set no hours yet: Rita is told to ask him.
        assert dm[-1].text.endswith(
            f"\nAsk <@{TEAMMATE}> to set their interview hours with `/hire availability`."
        )

        listing = await hire(w, TEAMMATE, "opening list")
        assert "• `data-engineer` — Data Engineer (reviews in <#C0REVIEW01>, blind review)" in (
            listing
        )
        # The same title again is refused next to the field.
        await rita.slash("/hire", "opening new", REVIEW_CHANNEL)
        await rita.submit_view(await opened_view(w, "opening_new", 2), values)
        assert "exists already" in w.slack.view_acks[-1]["errors"]["title"]


async def test_app_home_shows_openings_my_queue_and_recent_decisions(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        rita, tom = w.slack.teammate(RECRUITER), w.slack.teammate(TEAMMATE)
        jane = w.telegram.candidate(700_502, "Jane", "Doe")
        await finish_interview(w, jane, await invite(w, "Jane Doe"))
        await invite(w, "John Roe")
        await rita.slash("/hire", "advance John Roe", REVIEW_CHANNEL)

        await tom.open_home()
        home = await eventually(lambda: w.slack.home_views.get(TEAMMATE), what="Tom's home")
        text = "\n".join(
            str(b.get("text", {}).get("text", "")) for b in home["blocks"] if "text" in b
        )
        assert "*Backend Engineer* (`backend-engineer`, <#C0REVIEW01>)" in text
        assert "Async interview 1, Live interview 1" in text
        assert "*Jane Doe* · Backend Engineer · completed" in text  # waiting for Tom's vote
        assert f"<@{RECRUITER}> advanced to Live interview" in text

        # Reviewers are the review channel's members: someone outside it sees none of it.
        outsider = w.slack.teammate("U0OUTSIDER", "olga")
        await outsider.open_home()
        olga = await eventually(lambda: w.slack.home_views.get("U0OUTSIDER"), what="her home")
        assert "Nothing waits for you" in str(olga["blocks"])
        assert "None to show: you see the openings whose review channel" in str(olga["blocks"])
        assert "Backend Engineer" not in str(olga["blocks"])
        assert "No decisions yet." in str(olga["blocks"])

        await tom.click("vote_no", message=await card(w, 0))
        await eventually(lambda: "No 1" in str(w.slack.messages(REVIEW_CHANNEL)[0].blocks))
        await tom.open_home()
        await eventually(
            lambda: "Nothing waits for you" in str(w.slack.home_views[TEAMMATE]["blocks"]),
            what="an empty queue once Tom voted",
        )
