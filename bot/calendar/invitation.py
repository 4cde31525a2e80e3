"""A meeting as an iTIP invitation (RFC 5545 + RFC 5546): the .ics that calendars accept.

``METHOD:REQUEST`` invites, and updates when sent again with the same UID and a higher
SEQUENCE; ``METHOD:CANCEL`` removes it. Every TZID used has its VTIMEZONE block, so a
calendar places the call right whatever zone it is in. Free text (names, titles) is escaped
by ``icalendar``; names are also made single-line, since some clients ignore RFC 6868.

The VTIMEZONE is written the way Outlook reads one: a STANDARD and a DAYLIGHT observance,
each with a yearly RRULE naming one weekday occurrence (``BYDAY=2SU``), or a lone STANDARD
for a zone without daylight time. Outlook imports a time zone into one yearly rule and does
not read RDATE lists ([MS-OXCICAL] 2.1.3.1.1.19.2: "Time zone recurrences MUST be of
frequency YEARLY and MUST specify either a BYDAY or a BYMONTHDAY"; ical4j publishes
RDATE-free definitions for Outlook for the same reason), and icalendar's
``add_missing_timezones`` writes every past change as RDATEs. The rule is the one in force
in the year of the call, checked against the next year; a zone whose changes no such rule
describes keeps icalendar's exact RDATE form.
"""

from __future__ import annotations

import calendar as months
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vText,
)

from bot.flows.meeting import InvitationMethod, Meeting, Person

PRODID = "-//hirebot//interview booking//EN"
# The organizer when no sender is set up (HIREBOT_MAIL_FROM unset): iTIP requires one, and
# with no email channel no reply could reach any address anyway (.invalid, RFC 2606).
NO_MAIL_ORGANIZER = Person(name="Hiring team", email="hiring@hirebot.invalid")


def render(
    meeting: Meeting, method: InvitationMethod, now: datetime, organizer: Person | None = None
) -> bytes:
    """The .ics for ``meeting``; ``now`` becomes DTSTAMP (new on every send).

    ``organizer``: who sends it, for a meeting that leaves it to the sender (the hiring
    team's address, known to the mail adapter only).
    """
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
    sender = meeting.organizer or organizer or NO_MAIL_ORGANIZER
    event.add("organizer", _address(sender, role=None))
    for person in meeting.attendees:
        event.add("attendee", _address(person, role="REQ-PARTICIPANT"))
    zone = vtimezone(ZoneInfo(meeting.zone), meeting.local_start.year)
    if zone is not None:
        calendar.add_component(zone)
    calendar.add_component(event)
    calendar.add_missing_timezones()  # only a zone vtimezone() could not write as rules
    return bytes(calendar.to_ical())


# Observance components first in the calendar: RFC 5545 lets VTIMEZONE come anywhere, but
# some clients resolve TZIDs in one pass, top to bottom.
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def vtimezone(zone: ZoneInfo, year: int) -> Timezone | None:
    """``zone`` as the yearly rules in force in ``year``; None when no such rule fits."""
    changes = _changes(zone, year)
    block = Timezone()
    block.add("tzid", zone.key)
    if not changes:
        # No daylight time: one STANDARD observance, no RRULE (Outlook needs a BYDAY in
        # any RRULE it reads, and there is no change to describe).
        offset = _offset(zone, datetime(year, 7, 1, tzinfo=UTC))
        block.add_component(_observance(zone, datetime(1970, 1, 1), offset, offset, None))
        return block
    if len(changes) != 2:
        return None
    for when in changes:
        rule = _yearly_rule(zone, when)
        if rule is None:
            return None
        before, after = _offset(zone, when - _MINUTE), _offset(zone, when)
        local = (when + before).replace(tzinfo=None)  # DTSTART: wall time before the change
        block.add_component(_observance(zone, local, before, after, rule, at=when))
    return block


_MINUTE = timedelta(minutes=1)
_YEARS_CHECKED = 3  # a rule must also name the changes of this many following years


def _observance(
    zone: ZoneInfo,
    start: datetime,
    before: timedelta,
    after: timedelta,
    rule: dict[str, object] | None,
    at: datetime | None = None,
) -> TimezoneStandard | TimezoneDaylight:
    # DAYLIGHT is the observance that moves clocks forward: Irish "winter time" counts as
    # daylight saving in tzdata (a negative DST), but a calendar expects summer's offset.
    part = TimezoneDaylight() if after > before else TimezoneStandard()
    part.add("dtstart", start)
    if rule is not None:
        part.add("rrule", rule)
    part.add("tzoffsetfrom", before)
    part.add("tzoffsetto", after)
    name = (at or start.replace(tzinfo=UTC)).astimezone(zone).tzname()
    if name:
        part.add("tzname", name)
    return part


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    # Not zone.utcoffset(instant): a tzinfo reads an aware datetime's fields as its own
    # wall time, whatever zone the datetime is in.
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


@cache
def _changes(zone: ZoneInfo, year: int) -> tuple[datetime, ...]:
    """The UTC instants in ``year`` at which ``zone``'s offset changes, to the minute."""
    found: list[datetime] = []
    day = timedelta(days=1)  # no zone changes its clocks twice in a day
    at = datetime(year, 1, 1, tzinfo=UTC) - day
    end = datetime(year + 1, 1, 1, tzinfo=UTC) + day
    offset = _offset(zone, at)
    while at < end:
        after = _offset(zone, at + day)
        if after != offset:
            low, high = at, at + day  # the change is in (low, high]: narrow it to a minute
            while high - low > _MINUTE:
                middle = low + (high - low) / 2
                if _offset(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            # Clocks change on a whole minute, the one in (low, high].
            high = high.replace(second=0, microsecond=0)
            if (high + offset).year == year:
                found.append(high)
            offset = after
        at += day
    return tuple(found)


def _yearly_rule(zone: ZoneInfo, when: datetime) -> dict[str, object] | None:
    """ "The 2nd Sunday of March" or "the last Sunday of October": the rule that names this
    change and the same change in the following years; None if none does."""
    before = _offset(zone, when - _MINUTE)
    local = when + before
    weekday, day, month = local.weekday(), local.day, local.month
    last = day + 7 > months.monthrange(local.year, month)[1]
    ordinals = [-1, (day - 1) // 7 + 1] if last else [(day - 1) // 7 + 1]
    for ordinal in ordinals:
        if all(
            _nth_weekday(year, month, weekday, ordinal) == (change + before).day
            for year in range(local.year + 1, local.year + 1 + _YEARS_CHECKED)
            for change in _changes(zone, year)
            if (change + before).month == month
        ):
            return {"freq": "yearly", "bymonth": month, "byday": f"{ordinal}{_DAYS[weekday]}"}
    return None


def _nth_weekday(year: int, month: int, weekday: int, ordinal: int) -> int:
    days = [
        d
        for d in range(1, months.monthrange(year, month)[1] + 1)
        if datetime(year, month, d).weekday() == weekday
    ]
    return days[ordinal - 1] if ordinal > 0 else days[-1]


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
