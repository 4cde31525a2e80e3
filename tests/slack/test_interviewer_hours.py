"""Interviewers set their hours in Slack: ``/hire availability`` (or the App Home button)
opens a form started from their Slack profile; a bad form is answered next to its fields and
saves nothing; a good one is stored and summed up by DM; a calendar address is read at once
and, when it cannot be read, its owner is told once and never shown the address back."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.world import RECRUITER, TEAMMATE, SimulatedClock, World, eventually
from bot.slack.home import SET_HOURS
from storage.models import InterviewerHours
from tests.helpers.calendar import SECRET, calendar_server
from tests.helpers.slack import checked, db, number_value, opened_view, text_value, time_value

HOURS = "interviewer_hours"


def field(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    element: dict[str, Any] = next(b for b in view["blocks"] if b.get("block_id") == block_id)[
        "element"
    ]
    return element


def values(**changes: dict[str, Any]) -> dict[str, Any]:
    """A filled-in form, as ``view.state.values``: Monday to Thursday, 09:00-13:00 Berlin."""
    filled = {
        "time_zone": text_value("Europe/Berlin"),
        "days": checked("0", "1", "2", "3"),
        "start": time_value("09:00"),
        "hours": time_value("13:00"),
        "slot_minutes": number_value(45),
        "buffer_minutes": number_value(15),
        "max_per_day": number_value(3),
        "days_off": text_value(""),
        "email": text_value("tom@acme.example"),
        "feed": text_value(""),
    }
    return {**filled, **changes}


def stored(w: World, user: str) -> InterviewerHours | None:
    return db(w, lambda s: s.get(InterviewerHours, user))


async def test_an_interviewer_sets_their_hours_and_a_broken_calendar_is_told_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = SimulatedClock()
    async with calendar_server() as calendar, World(data_dir=tmp_path, clock=clock) as w:
        tom = w.slack.teammate(TEAMMATE)  # not a recruiter: anyone may interview
        reply = await tom.slash("/hire", "availability")
        assert reply.status == 200 and not reply.text  # the answer is the form
        form = await opened_view(w, HOURS)
        # Started from Tom's Slack profile (users.info): his zone and his email.
        assert field(form, "time_zone")["initial_value"] == "Europe/Berlin"
        assert field(form, "email")["initial_value"] == "tom@sandbox.example"
        assert [o["value"] for o in field(form, "days")["initial_options"]] == [
            "0",
            "1",
            "2",
            "3",
            "4",
        ]
        assert field(form, "start")["initial_time"] == "09:00"

        # Bad values: each answered next to its field, nothing stored.
        bad = values(
            time_zone=text_value("Europe/Atlantis"),
            start=time_value("14:00"),
            email=text_value("tom at acme"),
            feed=text_value("file:///etc/passwd"),
        )
        assert await tom.submit_view(form, bad) == 200
        ack = w.slack.view_acks[-1]
        assert ack["response_action"] == "errors"
        assert set(ack["errors"]) == {"time_zone", "email", "feed"}
        assert ack["errors"]["time_zone"].startswith("Pick a time zone")
        assert stored(w, TEAMMATE) is None
        late = values(start=time_value("14:00"))
        assert await tom.submit_view(form, late) == 200
        assert w.slack.view_acks[-1]["errors"] == {
            "hours": "Hours end before they start: 14:00–13:00."
        }
        assert stored(w, TEAMMATE) is None

        # Good values, with a calendar address that answers with a login page.
        calendar.body = "<html>Sign in to see this calendar</html>"
        good = values(feed=text_value(calendar.url))
        assert await tom.submit_view(form, good) == 200
        assert w.slack.view_acks[-1] == {}
        row = stored(w, TEAMMATE)
        assert row is not None and row.days == [[d, "09:00", "13:00"] for d in range(4)]
        assert (row.slot_minutes, row.buffer_minutes, row.max_per_day) == (45, 15, 3)
        assert row.email == "tom@acme.example" and row.feed_url == calendar.url
        dms = await eventually(
            lambda: (lambda m: m if len(m) >= 2 else None)(w.slack.direct_messages(TEAMMATE)),
            what="the summary and the calendar warning",
        )
        assert dms[0].text.startswith("Your interview hours are saved:\n• Mon, Tue, Wed, Thu")
        assert dms[1].text.startswith(
            "⚠️ I couldn't read your calendar at http://127.0.0.1/…: the calendar address did "
            "not return a readable iCal feed."
        )
        assert calendar.hits == 1  # read at once, right after saving

        # The next scheduled read finds it still broken: not told again.
        clock.advance(minutes=16)
        await w.bot.read_calendar_feeds()
        await w.wait_idle()
        assert calendar.hits == 2
        assert len(w.slack.direct_messages(TEAMMATE)) == 2

        # The form again: what he saved, the address shown only by its host.
        await tom.slash("/hire", "availability")
        again = await opened_view(w, HOURS, count=2)
        assert field(again, "slot_minutes")["initial_value"] == "45"
        assert field(again, "email")["initial_value"] == "tom@acme.example"
        assert [o["value"] for o in field(again, "days")["initial_options"]] == ["0", "1", "2", "3"]
        assert "http://127.0.0.1/…" in json.dumps(again, ensure_ascii=False)
        assert SECRET not in json.dumps(again)
        assert all(SECRET not in m.text for m in w.slack.direct_messages(TEAMMATE))
    # Nor is it logged, even at DEBUG: the form's payload, the fetch, the failed read.
    assert caplog.records and SECRET not in caplog.text


async def test_without_the_email_scope_the_form_starts_with_no_email_and_home_opens_it(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        # Installed before users:read.email was asked for: Slack leaves the email out.
        w.slack.granted_scopes.discard("users:read.email")
        rita = w.slack.teammate(RECRUITER)
        assert await rita.open_home() == 200
        await eventually(lambda: RECRUITER in w.slack.home_views, what="the Home tab")
        assert await rita.click_in_home(SET_HOURS) == 200
        form = await opened_view(w, HOURS)
        assert "initial_value" not in field(form, "email")
        assert field(form, "time_zone")["initial_value"] == "Europe/Berlin"
        assert [c.params for c in w.slack.calls if c.method == "users.info"] == [
            {"user": RECRUITER}
        ]
        assert await rita.submit_view(form, values(email=text_value(""))) == 200
        row = stored(w, RECRUITER)
        assert row is not None and row.email is None and row.feed_url is None
        dm = await eventually(lambda: w.slack.direct_messages(RECRUITER))
        assert "No email: you won't get calendar invitations" in dm[-1].text

        # The same submission again (Slack retrying, or replayed) changes nothing.
        tom = w.slack.teammate(TEAMMATE)
        assert await tom.submit_view(form, values(max_per_day=number_value(1))) == 200
        assert stored(w, RECRUITER).max_per_day == 3  # type: ignore[union-attr]
        assert stored(w, TEAMMATE) is None
        # Tom submits a copy of the form Rita opened (a forged payload): it saves his hours,
        # never hers.
        forged = {**form, "id": "V0FORGED"}
        assert await tom.submit_view(forged, values(max_per_day=number_value(1))) == 200
        assert stored(w, RECRUITER).max_per_day == 3  # type: ignore[union-attr]
        assert stored(w, TEAMMATE).max_per_day == 1  # type: ignore[union-attr]
