"""The opening-hours engine: pinned clocks, real 2026 holidays, and a minute-by-minute reference."""

import random
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

import chinese_calendar
import pytest
from chinese_calendar.constants import Holiday
from django.utils import translation

from facilities import hours
from facilities.hours import (
    TZ,
    DateException,
    Range,
    Schedule,
    calendar_day,
    describe,
    holiday_name,
    hours_on,
    schedule_from_rows,
    state_at,
    week,
)
from facilities.models import Facility

# Real calendar facts of 2026, checked against the library in the first tests below.
NATIONAL_DAY = date(2026, 10, 1)  # a Thursday
SWAPPED_SUNDAY = date(2026, 9, 20)  # worked to pay for the National Day week
SWAPPED_SATURDAY = date(2026, 2, 14)  # worked to pay for the Spring Festival


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def r(opens: str, closes: str) -> Range:
    return Range(time.fromisoformat(opens), time.fromisoformat(closes))


def every_day(*ranges: Range, **kwargs) -> Schedule:
    return Schedule(weekly=dict.fromkeys(range(7), ranges), **kwargs)


def closed_on(start: str, end: str | None = None, note: str = "") -> DateException:
    first = date.fromisoformat(start)
    return DateException(first, date.fromisoformat(end) if end else first, True, None, None, note)


def special(day: str, opens: str, closes: str, note: str = "") -> DateException:
    d = date.fromisoformat(day)
    return DateException(d, d, False, time.fromisoformat(opens), time.fromisoformat(closes), note)


OFFICE = Schedule(weekly={wd: (r("08:00", "17:00"),) for wd in range(5)})


def describe_en(schedule: Schedule, now: datetime) -> str:
    with translation.override("en"):
        return describe(state_at(schedule, now), now)


# --- The calendar --------------------------------------------------------------------------


def test_the_library_agrees_with_the_pinned_2026_dates():
    assert chinese_calendar.get_holiday_detail(NATIONAL_DAY) == (True, "National Day")
    assert SWAPPED_SUNDAY.weekday() == 6 and chinese_calendar.is_workday(SWAPPED_SUNDAY)
    assert SWAPPED_SATURDAY.weekday() == 5 and chinese_calendar.is_workday(SWAPPED_SATURDAY)


def test_calendar_day_names_holidays_and_swapped_working_days():
    assert calendar_day(NATIONAL_DAY) == ("holiday", "National Day")
    assert calendar_day(date(2026, 2, 17)) == ("holiday", "Spring Festival")
    assert calendar_day(SWAPPED_SUNDAY) == ("workday", "")
    assert calendar_day(SWAPPED_SATURDAY) == ("workday", "")


def test_calendar_day_treats_ordinary_weekends_and_weekdays_as_plain_days():
    assert calendar_day(date(2026, 3, 7)) == ("", "")  # a Saturday off, not a holiday
    assert calendar_day(date(2026, 3, 10)) == ("", "")


def test_calendar_day_treats_years_the_library_does_not_know_as_plain_days():
    with pytest.raises(NotImplementedError):
        chinese_calendar.get_holiday_detail(date(2027, 1, 1))
    assert calendar_day(date(2027, 1, 1)) == ("", "")
    assert calendar_day(date(2003, 10, 1)) == ("", "")


def test_every_holiday_the_library_knows_has_a_translatable_name():
    assert set(hours.HOLIDAY_NAMES) == {h.value for h in Holiday}
    with translation.override("en"):
        assert holiday_name("National Day") == "National Day"
        assert holiday_name("Something new") == "Something new"


def test_the_engine_spells_the_holiday_rules_as_the_model_does():
    assert set(hours.HOLIDAY_RULES) == set(Facility.HolidayRule.values)


def test_an_unknown_holiday_rule_is_refused():
    with pytest.raises(ValueError, match="holiday rule"):
        Schedule(weekly={}, holiday_rule="sometimes")


# --- Ordinary days -------------------------------------------------------------------------


def test_it_is_open_inside_a_range_and_says_when_it_closes():
    state = state_at(OFFICE, at("2026-03-10 10:00"))
    assert state.is_open
    assert state.closes_at == at("2026-03-10 17:00")
    assert state.opens_at is None


def test_the_closing_minute_is_already_closed():
    state = state_at(OFFICE, at("2026-03-10 17:00"))
    assert not state.is_open
    assert state.opens_at == at("2026-03-11 08:00")


def test_before_opening_it_opens_later_the_same_day():
    state = state_at(OFFICE, at("2026-03-10 07:59"))
    assert not state.is_open
    assert state.opens_at == at("2026-03-10 08:00")


def test_after_friday_closing_it_opens_on_monday():
    assert state_at(OFFICE, at("2026-03-13 18:00")).opens_at == at("2026-03-16 08:00")


def test_a_canteen_is_closed_between_lunch_and_dinner():
    canteen = every_day(r("17:00", "19:00"), r("11:00", "13:00"))
    lunch = state_at(canteen, at("2026-03-10 12:00"))
    assert lunch.is_open and lunch.closes_at == at("2026-03-10 13:00")
    between = state_at(canteen, at("2026-03-10 14:00"))
    assert not between.is_open and between.opens_at == at("2026-03-10 17:00")
    assert [str(x) for x in hours_on(canteen, date(2026, 3, 10)).ranges] == [
        "11:00–13:00",
        "17:00–19:00",
    ]


def test_touching_and_overlapping_ranges_are_one_opening():
    schedule = every_day(r("08:00", "12:00"), r("12:00", "15:00"), r("14:00", "18:00"))
    assert state_at(schedule, at("2026-03-10 09:00")).closes_at == at("2026-03-10 18:00")


def test_week_lists_the_days_from_the_start():
    days = week(OFFICE, date(2026, 3, 9))
    assert [d.date for d in days] == [date(2026, 3, 9) + timedelta(days=i) for i in range(7)]
    assert [bool(d.ranges) for d in days] == [True] * 5 + [False] * 2


def test_state_at_reads_the_moment_in_shanghai_time():
    # 02:00 UTC is 10:00 in Shanghai: open, although 02:00 local would be closed.
    from zoneinfo import ZoneInfo

    now = datetime(2026, 3, 10, 2, 0, tzinfo=ZoneInfo("UTC"))
    state = state_at(OFFICE, now)
    assert state.is_open
    assert state.closes_at.tzinfo == TZ and state.closes_at == at("2026-03-10 17:00")


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        state_at(OFFICE, datetime(2026, 3, 10, 10, 0))


# --- Past midnight and around the clock ----------------------------------------------------

BAR = Schedule(weekly={0: (r("22:00", "02:00"),)})  # Monday night only


def test_at_one_in_the_morning_the_previous_evenings_range_is_open():
    state = state_at(BAR, at("2026-03-10 01:00"))  # a Tuesday
    assert state.is_open
    assert state.closes_at == at("2026-03-10 02:00")
    assert state.today.date == date(2026, 3, 10) and state.today.ranges == ()


def test_an_overnight_range_closes_tomorrow_and_is_over_at_its_closing_time():
    assert state_at(BAR, at("2026-03-09 23:00")).closes_at == at("2026-03-10 02:00")
    assert not state_at(BAR, at("2026-03-10 02:00")).is_open


def test_closes_at_follows_the_opening_across_midnight():
    schedule = Schedule(weekly={0: (r("18:00", "00:00"),), 1: (r("00:00", "03:00"),)})
    assert state_at(schedule, at("2026-03-09 20:00")).closes_at == at("2026-03-10 03:00")


def test_an_exception_on_the_next_day_does_not_cut_off_an_overnight_range():
    schedule = Schedule(weekly=BAR.weekly, exceptions=(closed_on("2026-03-10"),))
    state = state_at(schedule, at("2026-03-10 01:00"))
    assert state.is_open and state.closes_at == at("2026-03-10 02:00")


def test_closing_equal_to_opening_means_twenty_four_hours():
    schedule = Schedule(weekly={0: (r("08:00", "08:00"),)})
    assert state_at(schedule, at("2026-03-09 08:00")).closes_at == at("2026-03-10 08:00")
    assert state_at(schedule, at("2026-03-10 07:59")).is_open
    assert not state_at(schedule, at("2026-03-10 08:00")).is_open


def test_open_around_the_clock_has_no_closing_time():
    state = state_at(every_day(r("00:00", "00:00")), at("2026-03-10 03:00"))
    assert state.is_open and state.closes_at is None


def test_open_around_the_clock_until_a_closure_within_a_week_closes_then():
    schedule = every_day(r("00:00", "00:00"), exceptions=(closed_on("2026-03-15"),))
    assert state_at(schedule, at("2026-03-10 03:00")).closes_at == at("2026-03-15 00:00")


# --- Exceptions ----------------------------------------------------------------------------


def test_a_closed_day_is_closed_and_says_why():
    schedule = every_day(
        r("08:00", "17:00"), exceptions=(closed_on("2026-03-11", note="设备检修"),)
    )
    state = state_at(schedule, at("2026-03-11 10:00"))
    assert not state.is_open
    assert state.opens_at == at("2026-03-12 08:00")
    assert state.today.exception.note == "设备检修"
    assert describe_en(schedule, at("2026-03-11 10:00")) == (
        "Closed today (设备检修), opens tomorrow 08:00"
    )


def test_special_hours_replace_the_weekly_ones():
    schedule = every_day(r("08:00", "17:00"), exceptions=(special("2026-03-11", "10:00", "12:00"),))
    early = state_at(schedule, at("2026-03-11 09:00"))
    assert not early.is_open and early.opens_at == at("2026-03-11 10:00")
    assert state_at(schedule, at("2026-03-11 11:00")).closes_at == at("2026-03-11 12:00")
    assert not state_at(schedule, at("2026-03-11 13:00")).is_open


def test_special_hours_may_run_past_midnight():
    schedule = Schedule(weekly={}, exceptions=(special("2026-12-31", "20:00", "02:00"),))
    state = state_at(schedule, at("2027-01-01 01:00"))
    assert state.is_open and state.closes_at == at("2027-01-01 02:00")


def test_a_closure_of_several_days_opens_after_its_last_day():
    schedule = every_day(
        r("08:00", "17:00"), exceptions=(closed_on("2026-03-09", "2026-03-15", note="装修"),)
    )
    assert [d.ranges for d in week(schedule, date(2026, 3, 9))] == [()] * 7
    assert (
        describe_en(schedule, at("2026-03-10 10:00")) == "Closed today (装修), opens Monday 08:00"
    )


def test_a_day_inside_a_longer_closure_can_have_its_own_hours():
    exceptions = (closed_on("2026-03-01", "2026-03-31"), special("2026-03-11", "09:00", "11:00"))
    schedule = every_day(r("08:00", "17:00"), exceptions=exceptions)
    assert hours_on(schedule, date(2026, 3, 11)).ranges == (r("09:00", "11:00"),)
    assert hours_on(schedule, date(2026, 3, 12)).ranges == ()


def test_exceptions_with_the_same_dates_give_a_day_with_a_break():
    exceptions = (special("2026-03-11", "14:00", "17:00"), special("2026-03-11", "09:00", "11:00"))
    schedule = every_day(r("08:00", "20:00"), exceptions=exceptions)
    assert hours_on(schedule, date(2026, 3, 11)).ranges == (
        r("09:00", "11:00"),
        r("14:00", "17:00"),
    )


def test_a_closed_exception_wins_over_hours_given_for_the_same_dates():
    exceptions = (special("2026-03-11", "09:00", "11:00"), closed_on("2026-03-11", note="停电"))
    day = hours_on(every_day(r("08:00", "20:00"), exceptions=exceptions), date(2026, 3, 11))
    assert day.ranges == () and day.exception.note == "停电"


def test_a_closure_beyond_two_weeks_leaves_no_next_opening():
    schedule = every_day(r("08:00", "17:00"), exceptions=(closed_on("2026-03-01", "2026-03-31"),))
    state = state_at(schedule, at("2026-03-10 10:00"))
    assert not state.is_open and state.opens_at is None


def test_schedule_from_rows_reads_model_like_rows():
    hours_rows = [
        SimpleNamespace(weekday=0, opens=time(14), closes=time(17)),
        SimpleNamespace(weekday=0, opens=time(8), closes=time(12)),
    ]
    exception_rows = [
        SimpleNamespace(
            start_date=date(2026, 3, 9),
            end_date=None,
            closed=True,
            opens=None,
            closes=None,
            note="盘点",
        )
    ]
    schedule = schedule_from_rows(hours_rows, exception_rows, "sunday")
    assert schedule.weekly == {0: (r("08:00", "12:00"), r("14:00", "17:00"))}
    assert schedule.exceptions == (closed_on("2026-03-09", note="盘点"),)
    assert schedule.holiday_rule == "sunday"


# --- Statutory holidays and swapped working days -------------------------------------------

# Thursday, Sunday and Monday differ so each rule shows which day's hours it took.
THU, SUN, MON = r("09:00", "17:00"), r("10:00", "16:00"), r("08:00", "12:00")
WEEKLY = {0: (MON,), 3: (THU,), 6: (SUN,)}


@pytest.mark.parametrize(
    ("rule", "expected"), [("usual", (THU,)), ("closed", ()), ("sunday", (SUN,))]
)
def test_national_day_follows_the_holiday_rule(rule, expected):
    day = hours_on(Schedule(weekly=WEEKLY, holiday_rule=rule), NATIONAL_DAY)
    assert day.holiday == "National Day"
    assert day.ranges == expected


@pytest.mark.parametrize(
    ("rule", "expected"), [("usual", (SUN,)), ("closed", (MON,)), ("sunday", (MON,))]
)
def test_a_swapped_working_sunday_follows_the_holiday_rule(rule, expected):
    day = hours_on(Schedule(weekly=WEEKLY, holiday_rule=rule), SWAPPED_SUNDAY)
    assert day.swapped_workday and day.holiday == ""
    assert day.ranges == expected


def test_a_swapped_working_saturday_takes_mondays_hours():
    schedule = Schedule(weekly=WEEKLY, holiday_rule="closed")
    state = state_at(schedule, at("2026-02-14 09:00"))
    assert state.is_open and state.closes_at == at("2026-02-14 12:00")


def test_an_exception_wins_over_the_holiday_rule():
    schedule = Schedule(
        weekly=WEEKLY, holiday_rule="closed", exceptions=(special("2026-10-01", "10:00", "11:00"),)
    )
    assert hours_on(schedule, NATIONAL_DAY).ranges == (r("10:00", "11:00"),)


def test_closed_for_national_day_says_so_and_opens_after_the_golden_week():
    schedule = Schedule(weekly=WEEKLY, holiday_rule="closed")
    state = state_at(schedule, at("2026-10-01 10:00"))
    assert not state.is_open
    assert state.opens_at == at("2026-10-08 09:00")  # the holidays run to Wednesday 7 October
    assert describe_en(schedule, at("2026-10-01 10:00")) == (
        "Closed today (National Day), opens October 8 09:00"
    )


def test_a_holiday_on_a_day_without_hours_is_not_given_as_the_reason():
    # Usual hours and no Thursday opening: closed because it is Thursday, not for the holiday;
    # and Monday 5 October, a holiday too, keeps its usual hours.
    schedule = Schedule(weekly={0: (MON,)})
    assert describe_en(schedule, at("2026-10-01 10:00")) == "Closed, opens Monday 08:00"


def test_sunday_hours_on_national_day():
    schedule = Schedule(weekly=WEEKLY, holiday_rule="sunday")
    state = state_at(schedule, at("2026-10-01 12:00"))
    assert state.is_open and state.closes_at == at("2026-10-01 16:00")


def test_after_2026_the_ordinary_week_applies():
    # 元旦 2027 is not yet in the library: Friday 1 January 2027 is a plain Friday, so even a
    # facility closed on holidays opens with its Friday hours.
    schedule = every_day(r("07:00", "22:00"), holiday_rule="closed")
    assert not state_at(schedule, at("2026-01-01 10:00")).is_open  # 元旦 2026 is known
    state = state_at(schedule, at("2026-12-31 22:00"))
    assert not state.is_open
    assert state.opens_at == at("2027-01-01 07:00")
    day = hours_on(schedule, date(2027, 1, 1))
    assert day.holiday == "" and not day.swapped_workday and day.ranges == (r("07:00", "22:00"),)
    assert describe_en(schedule, at("2026-12-31 22:00")) == "Closed, opens tomorrow 07:00"


# --- What residents read -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        (OFFICE, "2026-03-10 10:00", "Open now, closes 17:00"),
        (BAR, "2026-03-09 23:00", "Open now, closes tomorrow 02:00"),
        (every_day(r("18:00", "00:00")), "2026-03-10 19:00", "Open now, closes 24:00"),
        (every_day(r("00:00", "00:00")), "2026-03-10 19:00", "Open now"),
        (every_day(r("14:00", "18:00")), "2026-03-10 10:00", "Closed, opens today 14:00"),
        (every_day(r("07:00", "22:00")), "2026-03-10 23:00", "Closed, opens tomorrow 07:00"),
        (OFFICE, "2026-03-13 18:00", "Closed, opens Monday 08:00"),
        (Schedule(weekly={0: (MON,)}), "2026-03-09 13:00", "Closed, opens March 16 08:00"),
        (Schedule(weekly={}), "2026-03-10 10:00", "Closed, no opening hours in the next two weeks"),
    ],
)
def test_describe_says_it_in_a_sentence(schedule, now, expected):
    assert describe_en(schedule, at(now)) == expected


def test_describe_names_the_weekday_up_to_six_days_ahead():
    schedule = Schedule(weekly={1: (r("08:00", "09:00"),)})  # Tuesdays only
    assert describe_en(schedule, at("2026-03-11 10:00")) == "Closed, opens Tuesday 08:00"
    assert describe_en(schedule, at("2026-03-10 10:00")) == "Closed, opens March 17 08:00"


def test_describe_gives_the_reason_when_nothing_opens_for_two_weeks():
    schedule = every_day(
        r("08:00", "17:00"), exceptions=(closed_on("2026-03-01", "2026-04-30", note="装修"),)
    )
    assert describe_en(schedule, at("2026-03-10 10:00")) == (
        "Closed today (装修), no opening hours in the next two weeks"
    )


def test_every_closed_day_of_the_golden_week_gives_the_holiday_as_the_reason():
    schedule = every_day(r("09:00", "17:00"), holiday_rule="closed")
    for day in range(1, 8):
        now = at(f"2026-10-0{day} 10:00")
        assert describe_en(schedule, now).startswith("Closed today (National Day), opens "), now
    assert describe_en(schedule, at("2026-10-08 10:00")) == "Open now, closes 17:00"


# --- Against a brute-force reference -------------------------------------------------------


def _random_time(rng: random.Random) -> time:
    # Mostly whole and half hours, so ranges often touch or overlap, as real ones do.
    return time(rng.randrange(24), rng.choice([0, 0, 0, 30, rng.randrange(60)]))


def _random_range(rng: random.Random) -> Range:
    opens = _random_time(rng)
    roll = rng.random()
    if roll < 0.1:
        return Range(opens, opens)  # 24 hours
    return Range(opens, _random_time(rng))  # overnight whenever it closes before it opens


def _random_schedule(rng: random.Random, first: date) -> Schedule:
    weekly = {
        wd: tuple(_random_range(rng) for _ in range(rng.choice([0, 1, 1, 2, 3]))) for wd in range(7)
    }
    exceptions = []
    for _ in range(rng.randrange(5)):
        start = first + timedelta(days=rng.randrange(-3, 20))
        end = start + timedelta(days=rng.choice([0, 0, 1, 3, 10]))
        if rng.random() < 0.4:
            exceptions.append(DateException(start, end, True, None, None, "x"))
        else:
            rng_range = _random_range(rng)
            exceptions.append(
                DateException(start, end, False, rng_range.opens, rng_range.closes, "")
            )
    if exceptions and rng.random() < 0.5:
        # Same dates as another one: exercises the combining rule.
        twin = rng.choice(exceptions)
        extra = _random_range(rng)
        exceptions.append(DateException(twin.start, twin.end, False, extra.opens, extra.closes, ""))
    return Schedule(
        weekly=weekly,
        exceptions=tuple(exceptions),
        holiday_rule=rng.choice(hours.HOLIDAY_RULES),
    )


def _reference(schedule: Schedule, first: date, days: int):
    """Minute-by-minute openness from ``first`` 00:00 over ``days`` days, with for each minute
    the next minute at which it closes and the next at which it opens (None past the end)."""
    origin = datetime.combine(first, time(0), tzinfo=TZ)
    size = days * 1440
    minutes = bytearray(size + 1441)
    for i in range(days):
        d = first + timedelta(days=i)
        for rng_range in hours_on(schedule, d).ranges:
            start, end = rng_range.interval(d)
            a = int((start - origin).total_seconds() // 60)
            b = int((end - origin).total_seconds() // 60)
            minutes[a:b] = b"\x01" * (b - a)
    next_closed: list[int | None] = [None] * (size + 1)
    next_open: list[int | None] = [None] * (size + 1)
    for m in range(size - 1, -1, -1):
        next_closed[m] = m if not minutes[m] else next_closed[m + 1]
        next_open[m] = m if minutes[m] else next_open[m + 1]
    return origin, minutes, next_closed, next_open


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("first", [date(2026, 9, 27), date(2026, 2, 8), date(2026, 12, 27)])
def test_state_at_agrees_with_a_minute_by_minute_scan(seed, first):
    rng = random.Random(seed * 1000 + first.toordinal())
    schedule = _random_schedule(rng, first)
    # The week checked starts a day in, so yesterday's overnight ranges are in the reference;
    # the reference reaches three weeks further, beyond both horizons.
    origin, minutes, next_closed, next_open = _reference(schedule, first, 24)
    checked = set(range(1440, 8 * 1440, 7))
    for m in range(1440, 8 * 1440):
        # Every minute at which openness changes, and the one before it.
        if minutes[m] != minutes[m - 1]:
            checked.update({m - 1, m})
    for m in sorted(checked):
        now = origin + timedelta(minutes=m)
        state = state_at(schedule, now)
        assert state.is_open == bool(minutes[m]), now
        if minutes[m]:
            close = next_closed[m]
            expected = (
                origin + timedelta(minutes=close)
                if close is not None and close - m <= 7 * 1440
                else None
            )
            assert state.closes_at == expected, now
            assert state.opens_at is None
        else:
            opening = next_open[m]
            expected = (
                origin + timedelta(minutes=opening)
                if opening is not None and opening - m <= 14 * 1440
                else None
            )
            assert state.opens_at == expected, now
            assert state.closes_at is None
