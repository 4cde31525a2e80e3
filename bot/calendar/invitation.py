"""A meeting as an iTIP invitation (RFC 5545 + RFC 5546): the .ics that calendars accept.

``METHOD:REQUEST`` invites, and updates when sent again with the same UID and a higher
SEQUENCE; ``METHOD:CANCEL`` removes it. Every TZID used has its VTIMEZONE block, so a
calendar places the call right whatever zone it is in. Free text (names, titles) is escaped
by ``icalendar``; names are also made single-line, since some clients ignore RFC 6868.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

from bot.flows.meeting import InvitationMethod, Meeting, Person

PRODID = "-//hirebot//interview booking//EN"


def render(meeting: Meeting, method: InvitationMethod, now: datetime) -> bytes:
    """The .ics for ``meeting``; ``now`` becomes DTSTAMP (new on every send)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method.value)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", meeting.local_start)
    event.add("dtend", meeting.local_end)
    event.add("summary", meeting.title)
    description = f"{meeting.description}\n\n{meeting.url}" if meeting.description else meeting.url
    event.add("description", description)
    event.add("location", meeting.url)
    event.add("url", meeting.url)
    event.add("status", "CANCELLED" if method is InvitationMethod.CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(meeting.organizer, role=None))
    for person in meeting.attendees:
        event.add("attendee", _address(person, role="REQ-PARTICIPANT"))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def _address(person: Person, role: str | None) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(_one_line(person.name))
    if role is not None:
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = role
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
    return address


def _one_line(name: str) -> str:
    """A parameter value on one line, with no double quote (it ends a quoted value)."""
    flat = " ".join(name.split())
    return flat.replace('"', "'")
