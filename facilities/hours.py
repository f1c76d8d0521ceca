"""Opening hours: which ranges apply on a date, whether a facility is open at a moment, and the
sentence residents read ("Open now, closes 19:00").

The one place for the rules. Pure: plain functions and frozen dataclasses, no ORM, request or
template. ``schedule_from_rows`` is the thin loader the app feeds from the database;
``facilities.open_now`` states the "open at this moment" rule again in SQL and is tested against
``state_at``.

Rules on a date D, first match wins:

1. A dated exception covering D decides alone: closed, or its own opens–closes (which may run
   past midnight). When several cover D, the most specific wins: the latest start, then the
   earliest last day; exceptions with exactly the same dates combine (any closed one closes the
   day; otherwise all their ranges apply, so two rows give a day with a lunch break).
2. A statutory holiday (China's calendar, ``chinese_calendar``): rule "usual" keeps that
   weekday's weekly ranges, "closed" has none, "sunday" takes Sunday's.
3. A swapped working day (调休: a weekend day that is a working day): "usual" keeps that
   weekday's ranges, "closed" and "sunday" take Monday's, as offices and clinics do.
4. Otherwise the weekday's weekly ranges.

A range starting on D that closes at or before it opens ends on D+1 at its closing time (closes ==
opens is 24 hours). The rules only decide which ranges *start* on a date: an exception or holiday
on Tuesday does not cut short Monday's 22:00–02:00, which was announced under Monday's rules and
which people inside are using — and it keeps every range a single continuous interval.

``state_at`` is about the schedule only: a facility whose status is not "open" (planned, paused,
closed for good) is never open, and the caller checks the status, as ``open_at_q`` does in SQL.

For years ``chinese_calendar`` does not know yet (it raises NotImplementedError outside the years
it was published for), every date is an ordinary day of the week: no holidays, no swaps.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import chinese_calendar
from django.utils import formats
from django.utils.dates import WEEKDAYS
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

TZ = ZoneInfo("Asia/Shanghai")

# Facility.HolidayRule values; spelt out here so the engine stays free of the ORM.
USUAL = "usual"
CLOSED = "closed"
SUNDAY = "sunday"
HOLIDAY_RULES = (USUAL, CLOSED, SUNDAY)

MONDAY = 0
SUNDAY_WEEKDAY = 6

# How far state_at looks: a facility open without a break for longer is shown as "open now"
# with no closing time; a closed one with no opening in two weeks as having none.
CLOSES_HORIZON = timedelta(days=7)
OPENS_HORIZON = timedelta(days=14)

HOLIDAY = "holiday"
WORKDAY = "workday"


@dataclass(frozen=True)
class Range:
    """A weekly opening range. ``closes`` at or before ``opens`` runs past midnight; equal times
    mean 24 hours."""

    opens: time
    closes: time

    @property
    def overnight(self) -> bool:
        return self.closes <= self.opens

    def interval(self, d: date) -> tuple[datetime, datetime]:
        """The aware start and end of this range when it starts on ``d``."""
        start = datetime.combine(d, self.opens, tzinfo=TZ)
        end_date = d + timedelta(days=1) if self.overnight else d
        return start, datetime.combine(end_date, self.closes, tzinfo=TZ)

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}–{self.closes:%H:%M}"


@dataclass(frozen=True)
class DateException:
    """A HoursException as data; ``start`` and ``end`` are inclusive."""

    start: date
    end: date
    closed: bool
    opens: time | None = None
    closes: time | None = None
    note: str = ""

    def covers(self, d: date) -> bool:
        return self.start <= d <= self.end

    @property
    def range(self) -> Range | None:
        """Its own opening range, or None when it closes the day (or lacks a time)."""
        if self.closed or self.opens is None or self.closes is None:
            return None
        return Range(self.opens, self.closes)


@dataclass(frozen=True)
class Schedule:
    weekly: Mapping[int, tuple[Range, ...]]  # weekday 0 = Monday … 6 = Sunday; missing = closed
    exceptions: tuple[DateException, ...] = ()
    holiday_rule: str = USUAL

    def __post_init__(self) -> None:
        if self.holiday_rule not in HOLIDAY_RULES:
            raise ValueError(f"Unknown holiday rule {self.holiday_rule!r}")

    def on_weekday(self, weekday: int) -> tuple[Range, ...]:
        return tuple(sorted(self.weekly.get(weekday, ()), key=_range_key))


class HoursRow(Protocol):
    weekday: int
    opens: time
    closes: time


class ExceptionRow(Protocol):
    start_date: date
    end_date: date | None
    closed: bool
    opens: time | None
    closes: time | None
    note: str


def schedule_from_rows(
    hours_rows: Iterable[HoursRow], exception_rows: Iterable[ExceptionRow], holiday_rule: str
) -> Schedule:
    """A Schedule from OpeningHours and HoursException rows (model instances or anything with
    the same attributes). An exception without an end date is a single day."""
    weekly: dict[int, list[Range]] = {}
    for row in hours_rows:
        weekly.setdefault(row.weekday, []).append(Range(row.opens, row.closes))
    exceptions = tuple(
        DateException(
            start=row.start_date,
            end=row.end_date or row.start_date,
            closed=row.closed,
            opens=row.opens,
            closes=row.closes,
            note=row.note,
        )
        for row in exception_rows
    )
    return Schedule(
        weekly={wd: tuple(sorted(rs, key=_range_key)) for wd, rs in weekly.items()},
        exceptions=exceptions,
        holiday_rule=holiday_rule,
    )


@functools.lru_cache(maxsize=4096)
def calendar_day(d: date) -> tuple[str, str]:
    """("holiday", "<library English name>") on a statutory holiday, ("workday", "") on a swapped
    working day that falls on a weekend, ("", "") otherwise — and ("", "") for years the library
    does not know."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        return "", ""
    if is_holiday and name:
        return HOLIDAY, name
    # On a swapped working day the library gives the name of the holiday it pays for, and
    # is_holiday False; an ordinary weekend is (True, None).
    if not is_holiday and d.weekday() >= 5:
        return WORKDAY, ""
    return "", ""


@dataclass(frozen=True)
class DayHours:
    date: date
    ranges: tuple[Range, ...]  # the ranges that START on this date, after rules and exceptions
    holiday: str  # library English name of the statutory holiday, or ""
    swapped_workday: bool
    exception: DateException | None  # the exception that applies on this date, if any
    weekly: tuple[Range, ...] = field(default=())  # this weekday's usual ranges, for comparison

    @property
    def closure_reason(self) -> str:
        """Why a day that would have hours has none, as residents read it: the exception's note,
        or the holiday's name; "" when the day has ranges or is simply not an opening day."""
        if self.ranges:
            return ""
        if self.exception is not None:
            return self.exception.note
        if self.holiday and self.weekly:
            return holiday_name(self.holiday)
        return ""


def _range_key(r: Range) -> tuple[time, time]:
    return r.opens, r.closes


def _exceptions_on(schedule: Schedule, d: date) -> tuple[DateException, ...]:
    """The exceptions that decide ``d``: the most specific of those covering it (see the module
    docstring); several only when they share their dates exactly."""
    covering = [e for e in schedule.exceptions if e.covers(d)]
    if not covering:
        return ()
    latest_start = max(e.start for e in covering)
    covering = [e for e in covering if e.start == latest_start]
    earliest_end = min(e.end for e in covering)
    return tuple(e for e in covering if e.end == earliest_end)


def hours_on(schedule: Schedule, d: date) -> DayHours:
    kind, name = calendar_day(d)
    weekly = schedule.on_weekday(d.weekday())
    exceptions = _exceptions_on(schedule, d)
    if exceptions:
        closing = next((e for e in exceptions if e.range is None), None)
        if closing is not None:
            exception, ranges = closing, ()
        else:
            exception = exceptions[0]
            ranges = tuple(sorted({e.range for e in exceptions}, key=_range_key))
    else:
        exception = None
        if kind == HOLIDAY:
            ranges = {
                USUAL: weekly,
                CLOSED: (),
                SUNDAY: schedule.on_weekday(SUNDAY_WEEKDAY),
            }[schedule.holiday_rule]
        elif kind == WORKDAY and schedule.holiday_rule != USUAL:
            ranges = schedule.on_weekday(MONDAY)
        else:
            ranges = weekly
    return DayHours(
        date=d,
        ranges=ranges,
        holiday=name if kind == HOLIDAY else "",
        swapped_workday=kind == WORKDAY,
        exception=exception,
        weekly=weekly,
    )


def week(schedule: Schedule, start: date, days: int = 7) -> list[DayHours]:
    return [hours_on(schedule, start + timedelta(days=i)) for i in range(days)]


@dataclass(frozen=True)
class State:
    is_open: bool
    # When open: the end of the current continuous opening (touching or overlapping ranges
    # merged, across midnight too); None if it stays open for more than CLOSES_HORIZON.
    closes_at: datetime | None
    opens_at: datetime | None  # when closed: the next opening within OPENS_HORIZON, or None
    today: DayHours  # the calendar day of `now`, for "closed today (National Day)"


def _intervals(schedule: Schedule, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
    """Every opening interval starting from ``first`` to ``last`` inclusive, by start time.

    Ranges of one date all start before those of the next, so walking dates in order and each
    date's ranges by opening time yields them sorted."""
    d = first
    while d <= last:
        for r in hours_on(schedule, d).ranges:
            yield r.interval(d)
        d += timedelta(days=1)


def state_at(schedule: Schedule, now: datetime) -> State:
    """Open or closed at ``now`` (timezone-aware), and until or from when, in Asia/Shanghai.

    About the schedule only: the caller checks that the facility's status is "open"."""
    if now.tzinfo is None:
        raise ValueError("state_at needs a timezone-aware datetime")
    local = now.astimezone(TZ)
    today = local.date()
    # Ranges last at most 24 hours, so only yesterday's can still be running today; none starting
    # after today + 14 days can open within OPENS_HORIZON.
    intervals = _intervals(schedule, today - timedelta(days=1), today + OPENS_HORIZON)
    block_end: datetime | None = None
    for start, end in intervals:
        if block_end is not None:
            if start > block_end:
                break
            block_end = max(block_end, end)
        elif start <= local < end:
            block_end = end
        elif start > local:
            opens_at = start if start - local <= OPENS_HORIZON else None
            return State(False, None, opens_at, hours_on(schedule, today))
        if block_end is not None and block_end - local > CLOSES_HORIZON:
            return State(True, None, None, hours_on(schedule, today))
    if block_end is not None:
        return State(True, block_end, None, hours_on(schedule, today))
    return State(False, None, None, hours_on(schedule, today))


# --- What residents read -------------------------------------------------------------------

HOLIDAY_NAMES: dict[str, Promise] = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival": _("Spring Festival"),
    "Tomb-sweeping Day": _("Tomb-sweeping Day"),
    "Labour Day": _("Labour Day"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "National Day": _("National Day"),
    "Mid-autumn Festival": _("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": _("Anti-Fascist 70th Day"),
}


def holiday_name(key: str) -> str:
    """The holiday's name in the active language (the library's English name if unknown)."""
    return str(HOLIDAY_NAMES.get(key, key))


def _when(at: datetime, now: datetime, *, say_today: bool, closing: bool = False) -> str:
    """``at`` relative to ``now``: "14:00" or "today 14:00", "tomorrow 07:00", "Monday 08:00"
    within six days, "October 8 08:00" later (month and day in the locale's format). A closing
    at midnight reads as 24:00 of the day before, as notices write it."""
    at = at.astimezone(TZ)
    day, clock = at.date(), f"{at:%H:%M}"
    if closing and at.time() == time(0):
        day, clock = day - timedelta(days=1), "24:00"
    days = (day - now.astimezone(TZ).date()).days
    if days == 0:
        return pgettext("opening time", "today %(time)s") % {"time": clock} if say_today else clock
    if days == 1:
        return pgettext("opening time", "tomorrow %(time)s") % {"time": clock}
    if days <= 6:
        return pgettext("opening time", "%(weekday)s %(time)s") % {
            "weekday": WEEKDAYS[day.weekday()],
            "time": clock,
        }
    return pgettext("opening time", "%(date)s %(time)s") % {
        "date": formats.date_format(day, "MONTH_DAY_FORMAT"),
        "time": clock,
    }


def describe(state: State, now: datetime) -> str:
    """One plain sentence for residents: "Open now, closes 19:00", "Closed today (National
    Day), opens tomorrow 08:00" …"""
    if state.is_open:
        if state.closes_at is None:
            return gettext("Open now")
        when = _when(state.closes_at, now, say_today=False, closing=True)
        return gettext("Open now, closes %(time)s") % {"time": when}
    reason = state.today.closure_reason
    if state.opens_at is None:
        if reason:
            return gettext("Closed today (%(reason)s), no opening hours in the next two weeks") % {
                "reason": reason
            }
        return gettext("Closed, no opening hours in the next two weeks")
    when = _when(state.opens_at, now, say_today=True)
    if reason:
        return gettext("Closed today (%(reason)s), opens %(time)s") % {
            "reason": reason,
            "time": when,
        }
    return gettext("Closed, opens %(time)s") % {"time": when}
