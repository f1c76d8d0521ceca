"""A resident's classes as an iCalendar feed (RFC 5545): plain data in, bytes out.

One weekly event per class, from its first meeting to its last, in the classes' own time zone
(with its VTIMEZONE, so calendar apps elsewhere still show Beijing time). The view gathers the
rows (``courses.views.calendar_feed``); nothing here touches the database or a request.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

ZONE = ZoneInfo("Asia/Shanghai")
# How often calendar apps should fetch the feed again (they mostly choose for themselves).
REFRESH = timedelta(hours=12)  # also X-PUBLISHED-TTL below


@dataclass(frozen=True)
class Meeting:
    """A class someone is enrolled in, meeting every week on ``weekday`` (0 = Monday)."""

    uid: str
    summary: str
    location: str
    weekday: int
    starts_at: time
    ends_at: time
    first_date: date
    last_date: date
    description: str = ""


def first_meeting(meeting: Meeting) -> date:
    """The first day on or after ``first_date`` that falls on the class's weekday: iCalendar
    counts DTSTART as an occurrence even when the rule would not."""
    return meeting.first_date + timedelta(days=(meeting.weekday - meeting.first_date.weekday()) % 7)


def event(meeting: Meeting, stamp: datetime) -> Event:
    day = first_meeting(meeting)
    ev = Event()
    ev.add("uid", meeting.uid)
    ev.add("dtstamp", stamp.astimezone(UTC))
    ev.add("summary", meeting.summary)
    if meeting.location:
        ev.add("location", meeting.location)
    if meeting.description:
        ev.add("description", meeting.description)
    ev.add("dtstart", datetime.combine(day, meeting.starts_at, tzinfo=ZONE))
    ev.add("dtend", datetime.combine(day, meeting.ends_at, tzinfo=ZONE))
    # With a zoned DTSTART, UNTIL must be in UTC (RFC 5545 §3.3.10); the end of the last day
    # keeps the last meeting in.
    until = datetime.combine(meeting.last_date, time(23, 59, 59), tzinfo=ZONE).astimezone(UTC)
    ev.add("rrule", {"freq": "weekly", "until": until})
    return ev


def feed(meetings: list[Meeting], *, name: str, now: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Complete Community Portal//Courses//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("name", name)
    cal.add("x-wr-timezone", str(ZONE))
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT12H")
    for meeting in meetings:
        cal.add_component(event(meeting, now))
    cal.add_missing_timezones()
    return cal.to_ical()
