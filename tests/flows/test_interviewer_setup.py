"""An interviewer sets their hours: a good form is stored and summed up to them, a bad one
comes back with each problem next to its field and changes nothing; an opening names
interviewers, and those without hours can be named to the recruiter."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session

from bot.errors import OpeningFileError
from bot.flows import interviewer_setup, openings
from bot.flows.interviewer_hours import hours_row
from bot.flows.interviewer_setup import HoursEntry, HoursRefused
from storage.models import InterviewerHours
from tests.helpers.flows import NOTIFY_USER, FlowWorld

TOM = "U0TOM"
SECRET = "private-c0ffee"
GOOD = HoursEntry(
    time_zone="Europe/Berlin",
    weekdays=(0, 2, 4),
    start="09:30",
    end="12:00",
    slot_minutes=45,
    buffer_minutes=15,
    max_per_day=3,
    days_off="2026-12-24, 2026-12-31\n2026-01-01",  # the last one is gone by: dropped
    email="tom@acme.example",
    feed=f"webcal://calendar.example/{SECRET}/basic.ics",
)


def save(world: FlowWorld, entry: HoursEntry) -> interviewer_setup.Saved:
    return world.run(lambda s, now: interviewer_setup.save_hours(s, TOM, entry, now))


def stored(world: FlowWorld) -> InterviewerHours | None:
    return world.read(lambda s: hours_row(s, TOM))


def test_a_first_form_starts_from_the_slack_profile_and_a_saved_one_from_the_row(
    world: FlowWorld,
) -> None:
    def form(session: Session, zone: str | None, email: str | None) -> interviewer_setup.HoursForm:
        return interviewer_setup.form_for(
            session, TOM, now=world.now, slack_zone=zone, slack_email=email
        )

    first = world.read(lambda s: form(s, "America/New_York", "tom@slack.example"))
    assert (first.time_zone, first.email, first.saved_before) == (
        "America/New_York",
        "tom@slack.example",
        False,
    )
    assert first.weekdays == (0, 1, 2, 3, 4) and first.feed is None
    # A zone Slack names that the tz database lacks is not offered back.
    assert world.read(lambda s: form(s, "Mars/Olympus", None)).time_zone == "UTC"

    save(world, GOOD)
    again = world.read(lambda s: form(s, "America/New_York", "tom@slack.example"))
    assert again.saved_before and again.time_zone == "Europe/Berlin"
    assert again.weekdays == (0, 2, 4) and (again.start, again.end) == (time(9, 30), time(12))
    assert (again.slot_minutes, again.buffer_minutes, again.max_per_day) == (45, 15, 3)
    assert again.days_off == (date(2026, 12, 24), date(2026, 12, 31))
    assert again.email == "tom@acme.example"
    assert again.feed == "https://calendar.example/…"  # never the secret part


def test_good_hours_are_stored_and_summed_up_to_the_interviewer(world: FlowWorld) -> None:
    saved = save(world, GOOD)
    assert saved.read_feed  # a new address: read at once
    row = stored(world)
    assert row is not None
    assert row.time_zone == "Europe/Berlin"
    assert row.days == [[0, "09:30", "12:00"], [2, "09:30", "12:00"], [4, "09:30", "12:00"]]
    assert (row.slot_minutes, row.buffer_minutes, row.max_per_day) == (45, 15, 3)
    assert row.days_off == ["2026-12-24", "2026-12-31"]
    assert row.email == "tom@acme.example"
    assert row.feed_url == GOOD.feed
    [dm] = world.outbox(NOTIFY_USER)
    assert dm.payload["user"] == TOM
    assert dm.payload["text"] == (
        "Your interview hours are saved:\n"
        "• Mon, Wed, Fri 09:30–12:00 (Europe/Berlin)\n"
        "• 45-minute calls, 15 minutes between calls, at most 3 a day\n"
        "• Days off: 2026-12-24, 2026-12-31\n"
        "• Calendar invitations go to tom@acme.example\n"
        "• Your calendar at https://calendar.example/… is read every 15 minutes: times busy "
        "there are never offered"
    )
    assert SECRET not in dm.payload["text"]

    # Saving again with the address field empty keeps the address, and reads nothing anew.
    assert not save(world, replace(GOOD, feed="")).read_feed
    assert stored(world).feed_url == GOOD.feed  # type: ignore[union-attr]
    # Stopping forgets the address and what was read from it.
    save(world, replace(GOOD, feed="", stop_feed=True))
    row = stored(world)
    assert row is not None and row.feed_url is None and row.feed_busy == []


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "Pick a time zone"),
        ({"weekdays": ()}, "days", "at least one day"),
        ({"start": "12:00", "end": "09:00"}, "hours", "end before they start"),
        ({"end": ""}, "hours", "Pick both times"),
        ({"end": "25:00"}, "hours", "Pick both times"),
        ({"slot_minutes": 5}, "slot_minutes", "15 to 240 minutes"),
        ({"buffer_minutes": -1}, "buffer_minutes", "0 to 120 minutes"),
        ({"max_per_day": 99}, "max_per_day", "1 to 12"),
        ({"days_off": "24.12.2026"}, "days_off", "YYYY-MM-DD"),
        ({"email": "tom at acme"}, "email", "email address"),
        ({"email": "<script>@x.y"}, "email", "email address"),
        ({"feed": "file:///etc/passwd"}, "feed", "https:// or webcal://"),
        ({"feed": "https://calendar.example/" + "x" * 3000}, "feed", "at most 2000"),
    ],
)
def test_a_bad_form_is_refused_field_by_field_and_nothing_is_stored(
    world: FlowWorld, change: dict[str, object], field: str, says: str
) -> None:
    with pytest.raises(HoursRefused) as refused:
        save(world, replace(GOOD, **change))  # type: ignore[arg-type]
    assert list(refused.value.errors) == [field]
    assert says in refused.value.errors[field]
    assert stored(world) is None and world.outbox(NOTIFY_USER) == []


def test_every_problem_of_a_form_is_named_at_once(world: FlowWorld) -> None:
    bad = replace(GOOD, time_zone="Nowhere", email="nope", feed="ftp://x/y.ics", end="")
    with pytest.raises(HoursRefused) as refused:
        save(world, bad)
    assert set(refused.value.errors) == {"time_zone", "email", "feed", "hours"}


def test_an_opening_names_its_interviewers_and_who_has_no_hours_yet(world: FlowWorld) -> None:
    opening = world.opening(
        interviewers=[TOM, "U0ANA"], panel=True, meeting_url="https://meet.example/acme"
    )
    assert (opening.interviewers, opening.panel, opening.meeting_url) == (
        [TOM, "U0ANA"],
        True,
        "https://meet.example/acme",
    )
    missing = world.read(lambda s: interviewer_setup.missing_hours(s, opening))
    assert missing == [TOM, "U0ANA"]
    save(world, GOOD)
    missing = world.read(lambda s: interviewer_setup.missing_hours(s, opening))
    assert missing == ["U0ANA"]
    assert interviewer_setup.ask_to_set_hours(missing) == (
        "Ask <@U0ANA> to set their interview hours with `/hire availability`."
    )
    # Left out: anyone of none, and a Jitsi room per booking.
    plain = world.opening("plain")
    assert (plain.interviewers, plain.panel, plain.meeting_url) == ([], False, None)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"interviewers": ["@tom"]}, "not a Slack member id"),
        ({"interviewers": [TOM, TOM]}, "named once"),
        ({"meeting_url": "javascript:alert(1)"}, "https://"),
        ({"meeting_url": "http://meet.example/x"}, "https://"),
    ],
)
def test_an_opening_file_with_bad_interviewers_or_link_is_refused_with_its_line(
    tmp_path: Path, spec: dict[str, object], says: str
) -> None:
    data = {
        "slug": "x",
        "title": "X",
        "review_channel": "C0REVIEW01",
        "questions": [{"text": "Why?"}],
        **spec,
    }
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(OpeningFileError, match=says):
        openings.parse(path)
