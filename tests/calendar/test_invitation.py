"""The invitation a calendar receives, parsed back with icalendar and read field by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]  # an RRULE engine of its own
from icalendar import Calendar, Component, Event, vCalAddress, vRecur
from pydantic import ValidationError

from bot.calendar.invitation import NO_MAIL_ORGANIZER, PRODID, render
from bot.flows.meeting import JITSI_BASE_URL, Meeting, Person, meeting_link
from bot.flows.meeting import InvitationMethod as Method

NEW_YORK = ZoneInfo("America/New_York")
RITA = Person(name="Rita Recruiter", email="rita@acme.example")
TOM = Person(name="Tom Teammate", email="tom@acme.example")
JANE = Person(name="Jane Doe", email="jane@example.org")
SENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def meeting(**changes: object) -> Meeting:
    fields: dict[str, object] = {
        "uid": "booking-17@hirebot",
        "start": datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK),  # the Monday after the change
        "end": datetime(2026, 3, 9, 10, 45, tzinfo=NEW_YORK),
        "zone": "America/New_York",
        "title": "Live interview: Backend Engineer",
        "description": "A 45-minute conversation with the team.",
        "url": "https://meet.example/backend-17",
        "organizer": RITA,
        "attendees": (JANE, TOM),
    }
    return Meeting.model_validate({**fields, **changes})


def parsed(ics: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(ics)
    events = calendar.walk("VEVENT")
    assert len(events) == 1 and isinstance(events[0], Event)
    return calendar, events[0]


def test_an_invitation_carries_every_field_a_calendar_needs() -> None:
    calendar, event = parsed(render(meeting(), Method.REQUEST, SENT))
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "booking-17@hirebot"
    assert event.decoded("SEQUENCE") == 0
    assert event.decoded("DTSTAMP") == SENT
    assert str(event["SUMMARY"]) == "Live interview: Backend Engineer"
    assert str(event["DESCRIPTION"]) == (
        "A 45-minute conversation with the team.\n\nhttps://meet.example/backend-17"
    )
    assert str(event["LOCATION"]) == "https://meet.example/backend-17"
    assert str(event["URL"]) == "https://meet.example/backend-17"
    assert str(event["STATUS"]) == "CONFIRMED"

    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:rita@acme.example"
    assert organizer.params["CN"] == "Rita Recruiter"
    attendees = cast(list[vCalAddress], event["ATTENDEE"])
    assert [str(a) for a in attendees] == ["mailto:jane@example.org", "mailto:tom@acme.example"]
    for attendee, person in zip(attendees, (JANE, TOM), strict=True):
        assert attendee.params["CN"] == person.name
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["RSVP"] == "TRUE"


def test_times_are_written_in_the_organisers_zone_with_its_vtimezone_across_dst() -> None:
    # New York moves to daylight time on 8 March 2026: 10:00 on the 9th is 14:00 UTC, not 15:00.
    ics = render(meeting(), Method.REQUEST, SENT)
    assert b"DTSTART;TZID=America/New_York:20260309T100000" in ics
    assert b"DTEND;TZID=America/New_York:20260309T104500" in ics
    calendar, event = parsed(ics)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.astimezone(UTC) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(hours=-4)
    assert end - start == timedelta(minutes=45)
    # The same wall time a week earlier is still standard time (UTC-5).
    earlier = meeting(
        start=datetime(2026, 3, 2, 15, 0, tzinfo=UTC), end=datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    )
    _, event = parsed(render(earlier, Method.REQUEST, SENT))
    assert event.decoded("DTSTART").utcoffset() == timedelta(hours=-5)
    assert b"DTSTART;TZID=America/New_York:20260302T100000" in render(earlier, Method.REQUEST, SENT)


def test_a_time_given_in_another_zone_is_written_in_the_organisers() -> None:
    # A slot chosen by a candidate in Tokyo: 00:00 on 10 March there is 11:00 on the 9th in NY.
    tokyo = datetime(2026, 3, 10, 0, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    ics = render(meeting(start=tokyo, end=tokyo + timedelta(hours=1)), Method.REQUEST, SENT)
    assert b"DTSTART;TZID=America/New_York:20260309T110000" in ics
    _, event = parsed(ics)
    assert event.decoded("DTSTART") == tokyo


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence() -> None:
    moved = meeting(
        sequence=1,
        start=datetime(2026, 3, 10, 9, 0, tzinfo=NEW_YORK),
        end=datetime(2026, 3, 10, 9, 45, tzinfo=NEW_YORK),
    )
    calendar, event = parsed(render(moved, Method.REQUEST, SENT + timedelta(hours=1)))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "booking-17@hirebot"
    assert event.decoded("SEQUENCE") == 1
    assert event.decoded("DTSTAMP") == SENT + timedelta(hours=1)


def test_a_cancellation_is_method_cancel_with_status_cancelled() -> None:
    calendar, event = parsed(render(meeting(sequence=2), Method.CANCEL, SENT))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == "booking-17@hirebot"
    assert event.decoded("SEQUENCE") == 2


def test_hostile_names_and_titles_come_back_as_text_and_add_no_property() -> None:
    title = 'Interview, round 1; <script>alert("x")</script>\nMETHOD:CANCEL\\'
    name = 'Jane "Boss"; ROLE=CHAIR:mailto:evil@example.org\r\nATTENDEE:mailto:x@y.z'
    hostile = meeting(
        title=title,
        description="Line one\nBEGIN:VEVENT\nUID:other",
        attendees=(Person(name=name, email="jane@example.org"),),
    )
    ics = render(hostile, Method.REQUEST, SENT)
    assert b"SUMMARY:Interview\\, round 1\\; <script>" in ics  # escaped, not split
    calendar, event = parsed(ics)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["SUMMARY"]) == title
    assert str(event["DESCRIPTION"]).startswith("Line one\nBEGIN:VEVENT\nUID:other")
    assert str(event["UID"]) == "booking-17@hirebot"
    attendee = event["ATTENDEE"]  # one attendee, not two
    assert str(attendee) == "mailto:jane@example.org"
    assert attendee.params["CN"] == (
        "Jane 'Boss'; ROLE=CHAIR:mailto:evil@example.org ATTENDEE:mailto:x@y.z"
    )
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    # Unfolded, every content line is one property of ours.
    unfolded = ics.replace(b"\r\n ", b"").decode()
    names = {line.split(":")[0].split(";")[0] for line in unfolded.split("\r\n") if line}
    assert "ATTENDEE" in names and "UID" in names
    assert sum(line.startswith("ATTENDEE") for line in unfolded.split("\r\n")) == 1
    assert sum(line.startswith("BEGIN:VEVENT") for line in unfolded.split("\r\n")) == 1


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"start": datetime(2026, 3, 9, 10, 0)}, "timezone"),  # a naive time
        ({"end": datetime(2026, 3, 9, 9, 0, tzinfo=NEW_YORK)}, "ends after it starts"),
        ({"zone": "Mars/Olympus_Mons"}, "IANA"),
        ({"attendees": ()}, "attendees"),
        ({"organizer": {"name": "Rita", "email": "rita@acme.example\r\nBcc: x@y.z"}}, "email"),
    ],
)
def test_a_meeting_that_no_calendar_could_place_is_refused(
    change: dict[str, object], why: str
) -> None:
    with pytest.raises(ValidationError, match=why):
        meeting(**change)


def test_a_meeting_link_is_the_openings_url_or_an_unguessable_jitsi_room() -> None:
    assert meeting_link(" https://zoom.example/j/123 ") == "https://zoom.example/j/123"
    rooms = {meeting_link() for _ in range(50)}
    assert len(rooms) == 50
    for room in rooms:
        assert room.startswith(f"{JITSI_BASE_URL}hirebot-")
        name = room.removeprefix(f"{JITSI_BASE_URL}hirebot-")
        assert len(name) >= 22 and name.isalnum()
    assert meeting_link(None, jitsi_base_url="https://jitsi.acme.example/").startswith(
        "https://jitsi.acme.example/hirebot-"
    )


def zone_block(zone: str, when: datetime) -> Component:
    """The VTIMEZONE an invitation for a call at ``when`` (in ``zone``) carries."""
    local = when.replace(tzinfo=ZoneInfo(zone))
    ics = render(
        meeting(zone=zone, start=local, end=local + timedelta(hours=1)), Method.REQUEST, SENT
    )
    assert b"RDATE" not in ics or zone == "Africa/Casablanca"
    [block] = Calendar.from_ical(ics).walk("VTIMEZONE")
    assert str(block["TZID"]) == zone
    return block


def offset(observance: Component, name: str) -> timedelta:
    return cast(timedelta, observance.decoded(name))


def changes_by_rule(observance: Component, years: range) -> list[datetime]:
    """The wall times (before the change) at which ``observance``'s RRULE says it starts."""
    start = observance.decoded("DTSTART")
    text = cast(vRecur, observance["RRULE"]).to_ical()  # type: ignore[no-untyped-call]
    rule = rrulestr(text.decode(), dtstart=start)
    return [d for d in rule if d.year in years][: len(years)]


def changes_by_zoneinfo(zone: ZoneInfo, years: range, offset_after: timedelta) -> list[datetime]:
    """The wall times (before the change) at which the zone moves to ``offset_after``."""
    found = []
    day, step = timedelta(days=1), timedelta(minutes=15)
    at = datetime(years.start, 1, 1, tzinfo=UTC)
    while at.year < years.stop:
        if at.astimezone(zone).utcoffset() != (at + day).astimezone(zone).utcoffset():
            moment = at  # the change is within this day: find its quarter hour
            while moment.astimezone(zone).utcoffset() == at.astimezone(zone).utcoffset():
                moment += step
            if moment.astimezone(zone).utcoffset() == offset_after:
                before = cast(timedelta, at.astimezone(zone).utcoffset())
                found.append((moment + before).replace(tzinfo=None))
        at += day
    return found


@pytest.mark.parametrize(
    ("zone", "summer", "winter"),
    [
        ("America/New_York", "2SU", "1SU"),  # 2nd Sunday of March, 1st of November
        ("Europe/Berlin", "-1SU", "-1SU"),  # the last Sundays of March and October
        ("Australia/Sydney", "1SU", "1SU"),  # summer starts in October
        ("Europe/Dublin", "-1SU", "-1SU"),  # tzdata's negative DST: summer is still DAYLIGHT
    ],
)
def test_a_zone_with_daylight_time_is_two_yearly_rules_outlook_reads(
    zone: str, summer: str, winter: str
) -> None:
    # [MS-OXCICAL] 2.1.3.1.1.19.2.2: a YEARLY RRULE with one BYDAY occurrence; no RDATE.
    block = zone_block(zone, datetime(2027, 3, 15, 10, 0))
    [daylight] = block.walk("DAYLIGHT")
    [standard] = block.walk("STANDARD")
    tz = ZoneInfo(zone)
    years = range(2027, 2032)
    for observance, byday in ((daylight, summer), (standard, winter)):
        rule = cast(vRecur, observance["RRULE"])
        assert rule["FREQ"] == ["YEARLY"] and rule["BYDAY"] == [byday]
        assert len(rule["BYMONTH"]) == 1 and "RDATE" not in observance
        after = offset(observance, "TZOFFSETTO")
        # Read as Outlook reads it, the rule moves the clocks when the zone does, every year.
        assert changes_by_rule(observance, years) == changes_by_zoneinfo(tz, years, after)
    assert offset(daylight, "TZOFFSETTO") > offset(daylight, "TZOFFSETFROM")
    assert offset(standard, "TZOFFSETTO") < offset(standard, "TZOFFSETFROM")
    assert offset(daylight, "TZOFFSETFROM") == offset(standard, "TZOFFSETTO")


def test_a_zone_without_daylight_time_is_one_standard_observance() -> None:
    block = zone_block("Asia/Tokyo", datetime(2027, 3, 15, 10, 0))
    assert block.walk("DAYLIGHT") == []
    [standard] = block.walk("STANDARD")
    assert offset(standard, "TZOFFSETFROM") == offset(standard, "TZOFFSETTO") == timedelta(hours=9)
    assert "RRULE" not in standard and str(standard["TZNAME"]) == "JST"


def test_a_zone_no_yearly_rule_describes_still_gets_its_exact_vtimezone() -> None:
    # Morocco leaves summer time for Ramadan: no "nth Sunday" rule; the RDATE form stays.
    block = zone_block("Africa/Casablanca", datetime(2027, 3, 15, 10, 0))
    assert block.walk("STANDARD") or block.walk("DAYLIGHT")


def test_names_with_quotes_commas_semicolons_newlines_and_accents_stay_one_parameter() -> None:
    name = 'Zoë Ødegård, "Z";\nOps: Lead'
    ics = render(
        meeting(attendees=(Person(name=name, email="zoe@example.org"),)), Method.REQUEST, SENT
    )
    unfolded = ics.replace(b"\r\n ", b"").decode()
    assert "ATTENDEE;CN=\"Zoë Ødegård, 'Z'; Ops: Lead\";" in unfolded  # quoted, one line
    _, event = parsed(ics)
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:zoe@example.org"
    assert attendee.params["CN"] == "Zoë Ødegård, 'Z'; Ops: Lead"


def test_a_meeting_left_to_the_sender_takes_the_organizer_delivery_gives() -> None:
    open_meeting = meeting(organizer=None)
    _, event = parsed(render(open_meeting, Method.REQUEST, SENT, RITA))
    assert str(event["ORGANIZER"]) == "mailto:rita@acme.example"
    assert event["ORGANIZER"].params["CN"] == "Rita Recruiter"
    # No sender set up (no email channel): iTIP still needs an organizer.
    _, event = parsed(render(open_meeting, Method.REQUEST, SENT))
    assert str(event["ORGANIZER"]) == f"mailto:{NO_MAIL_ORGANIZER.email}"
