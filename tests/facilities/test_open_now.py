"""The database's "open now" agrees with the engine's, facility by facility, moment by moment."""

from datetime import date, datetime, time, timedelta

import pytest

from facilities.hours import TZ, schedule_from_rows, state_at
from facilities.models import Category, Facility, HoursException, OpeningHours
from facilities.open_now import open_at_q

pytestmark = pytest.mark.django_db

EVERY_DAY = range(7)
WEEKDAYS = range(5)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def t(text: str) -> time:
    return time.fromisoformat(text)


@pytest.fixture
def make(community_a):
    category = Category.objects.get(code="canteen")

    def make(name, weekly=(), exceptions=(), **fields) -> Facility:
        facility = Facility.objects.create(
            community=community_a,
            category=category,
            name=name,
            latitude=43.88,
            longitude=125.27,
            **fields,
        )
        for days, opens, closes in weekly:
            for weekday in days:
                OpeningHours.objects.create(
                    facility=facility, weekday=weekday, opens=t(opens), closes=t(closes)
                )
        for start, end, opens, closes in exceptions:
            HoursException.objects.create(
                facility=facility,
                start_date=date.fromisoformat(start),
                end_date=date.fromisoformat(end) if end else None,
                closed=opens is None,
                opens=t(opens) if opens else None,
                closes=t(closes) if closes else None,
            )
        return facility

    return make


@pytest.fixture
def facilities(make) -> dict[str, Facility]:
    office = [(WEEKDAYS, "08:00", "17:00"), ([0], "07:00", "09:00"), ([6], "10:00", "16:00")]
    made = [
        make("office", office),
        make("canteen", [(EVERY_DAY, "11:00", "13:00"), (EVERY_DAY, "17:00", "19:00")]),
        make("night market", [(EVERY_DAY, "22:00", "02:00")]),
        make("weekend bar", [([4, 5], "20:00", "03:00")]),
        make("round the clock", [(EVERY_DAY, "00:00", "00:00")]),
        make("24 hours from eight", [([3], "08:00", "08:00")]),
        make("holiday closed", office, holiday_rule="closed"),
        make("holiday sunday", office, holiday_rule="sunday"),
        make("holiday closed overnight", [(EVERY_DAY, "21:00", "01:00")], holiday_rule="closed"),
        make(
            "closed days",
            [(EVERY_DAY, "08:00", "20:00")],
            [("2026-10-01", None, None, None), ("2026-12-28", "2027-01-03", None, None)],
        ),
        make(
            "special hours",
            [(EVERY_DAY, "08:00", "20:00")],
            [
                ("2026-10-01", "2026-10-03", "10:00", "12:00"),
                ("2026-12-31", None, "20:00", "02:00"),
                ("2026-09-20", None, "06:00", "06:00"),
            ],
            holiday_rule="closed",
        ),
        make(
            "nested and paired",
            [(EVERY_DAY, "08:00", "20:00")],
            [
                ("2026-09-15", "2026-10-15", None, None),
                ("2026-10-01", None, "09:00", "11:00"),
                ("2026-10-01", None, "14:00", "16:00"),
                ("2026-10-02", None, "09:00", "11:00"),
                ("2026-10-02", None, None, None),
                ("2026-10-05", "2026-10-06", "23:00", "01:00"),
            ],
        ),
        make(
            "overnight into a closure",
            [(EVERY_DAY, "22:00", "04:00")],
            [("2026-10-01", None, None, None), ("2027-01-01", None, None, None)],
        ),
        make("no hours"),
        make("paused", [(EVERY_DAY, "00:00", "00:00")], status=Facility.Status.TEMPORARILY_CLOSED),
        make("planned", [(EVERY_DAY, "00:00", "00:00")], status=Facility.Status.PLANNED),
        make("closed for good", [(EVERY_DAY, "00:00", "00:00")], status=Facility.Status.CLOSED),
    ]
    return {f.name: f for f in made}


MOMENTS = [
    # An ordinary Tuesday and the night after it.
    "2026-03-10 10:00",
    "2026-03-10 12:30",
    "2026-03-10 23:00",
    "2026-03-11 01:30",
    "2026-03-11 03:00",
    "2026-03-11 08:00",
    # The swapped working Sunday before National Day, and its eve.
    "2026-09-19 23:30",
    "2026-09-20 00:30",
    "2026-09-20 05:59",
    "2026-09-20 07:30",
    "2026-09-20 10:30",
    "2026-09-20 17:30",
    "2026-09-21 05:00",
    # National Day and the days around it.
    "2026-09-30 21:30",
    "2026-09-30 23:59",
    "2026-10-01 00:30",
    "2026-10-01 03:00",
    "2026-10-01 07:30",
    "2026-10-01 08:00",
    "2026-10-01 09:30",
    "2026-10-01 11:00",
    "2026-10-01 12:00",
    "2026-10-01 15:00",
    "2026-10-01 21:30",
    "2026-10-02 00:30",
    "2026-10-02 10:00",
    "2026-10-04 12:00",
    "2026-10-05 23:30",
    "2026-10-06 00:30",
    "2026-10-07 00:30",
    "2026-10-07 23:30",
    "2026-10-08 00:30",
    "2026-10-08 07:59",
    "2026-10-10 08:30",
    "2026-10-10 23:00",
    # The swapped working Saturday of the Spring Festival.
    "2026-02-14 08:30",
    "2026-02-15 00:30",
    # Out of the library's years: 2027 is an ordinary week.
    "2026-12-31 19:00",
    "2026-12-31 23:30",
    "2027-01-01 00:30",
    "2027-01-01 01:30",
    "2027-01-01 10:00",
    "2027-01-01 23:00",
    "2027-01-02 02:00",
]


def _expected(facilities: dict[str, Facility], now: datetime) -> set[Facility]:
    return {
        f
        for f in facilities.values()
        if f.status == Facility.Status.OPEN
        and state_at(
            schedule_from_rows(f.hours.all(), f.exceptions.all(), f.holiday_rule), now
        ).is_open
    }


def _open_in_db(now: datetime) -> set[Facility]:
    return set(Facility.objects.filter(open_at_q(now)))


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_database_and_the_engine_agree(facilities, moment, django_assert_num_queries):
    now = at(moment)
    with django_assert_num_queries(1):
        found = _open_in_db(now)
    assert found == _expected(facilities, now)


def test_they_agree_every_half_hour_over_the_holiday_and_the_new_year(facilities):
    for start in (at("2026-09-29 00:15"), at("2026-12-30 00:15")):
        for step in range(4 * 48):
            now = start + timedelta(minutes=30 * step)
            assert _open_in_db(now) == _expected(facilities, now), now


def test_the_comparison_sees_both_open_and_closed_facilities(facilities):
    # Guards the agreement tests against passing on empty or full sets.
    names = {f.name for f in _open_in_db(at("2026-10-01 00:30"))}
    assert names == {
        "night market",
        "round the clock",
        "overnight into a closure",
        "holiday closed overnight",
    }
    names = {f.name for f in _open_in_db(at("2026-10-01 15:00"))}
    assert names == {
        "office",
        "round the clock",
        "24 hours from eight",
        "holiday sunday",
        "nested and paired",
    }


def test_a_closed_exception_does_not_cut_off_last_nights_range(facilities):
    names = {f.name for f in _open_in_db(at("2026-10-01 03:00"))}
    assert "overnight into a closure" in names
    assert "night market" not in names


def test_2027_dates_use_the_ordinary_week(facilities):
    # Friday 1 January 2027: the library does not know 元旦 2027, so "holiday closed" keeps its
    # Friday hours where it was closed on 元旦 2026.
    assert facilities["holiday closed"] in _open_in_db(at("2027-01-01 10:00"))
    assert facilities["holiday closed"] not in _open_in_db(at("2026-01-01 10:00"))


def test_a_paused_or_planned_facility_is_never_open(facilities):
    names = {f.name for f in _open_in_db(at("2026-03-10 10:00"))}
    assert "round the clock" in names
    assert not names & {"paused", "planned", "closed for good"}


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        open_at_q(datetime(2026, 3, 10, 10, 0))
