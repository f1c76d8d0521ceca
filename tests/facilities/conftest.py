"""Facilities around 地勘三院小区 (compound_b of 石油社区) for the page tests."""

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from facilities.models import (
    Category,
    Facility,
    HoursException,
    Meal,
    MealKind,
    OpeningHours,
    SeniorPrice,
)
from portal.lib import geo


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def place(compound, *, north: float = 0, east: float = 0, **fields) -> Facility:
    lat, lng = geo.offset(compound.point, north, east)
    return Facility.objects.create(latitude=lat, longitude=lng, **fields)


def weekly(facility: Facility, *ranges: tuple[time, time], days=range(7)) -> None:
    OpeningHours.objects.bulk_create(
        OpeningHours(facility=facility, weekday=d, opens=o, closes=c)
        for d in days
        for o, c in ranges
    )


# Wednesday 25 November 2026, 12:00 in Shanghai: an ordinary working day, lunchtime.
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def clock(monkeypatch):
    """Pins "now" for the views (they ask django.utils.timezone); returns a setter."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    set_now(NOON)
    return set_now


@pytest.fixture
def canteen(compound_b, clock) -> Facility:
    """Open at lunch and dinner every day, 200 m north of 地勘三院小区, with senior prices."""
    facility = place(
        compound_b,
        north=200,
        community=compound_b.community,
        category=category("canteen"),
        name="石油社区长者食堂",
        address="关林路1号",
        phone="0379-65550001",
        step_free_entrance=True,
        price_notes="午餐套餐，长者按年龄优惠。",
    )
    weekly(facility, (time(11), time(13)), (time(17), time(18, 30)))
    for lo, hi, price in [(60, 69, "12.00"), (70, 79, "10.00"), (80, None, "8.00")]:
        SeniorPrice.objects.create(
            facility=facility, kind=MealKind.LUNCH, min_age=lo, max_age=hi, price=Decimal(price)
        )
    Meal.objects.create(
        facility=facility,
        date=timezone.localdate(),
        kind=MealKind.LUNCH,
        dishes="红烧肉\n西红柿炒鸡蛋\n米饭",
        price=Decimal("15.00"),
    )
    return facility


@pytest.fixture
def far_canteen(compound_b, clock) -> Facility:
    """A canteen 800 m east: beyond a canteen's 500 m walking circle."""
    facility = place(
        compound_b,
        east=800,
        community=compound_b.community,
        category=category("canteen"),
        name="关林远处食堂",
    )
    weekly(facility, (time(6), time(20)))
    return facility


@pytest.fixture
def health_stations(compound_b, clock) -> list[Facility]:
    """Three health stations at 450, 150 and 300 m from 地勘三院小区; the middle one has a
    closed day with a note."""
    stations = [
        place(
            compound_b,
            north=metres,
            community=compound_b.community,
            category=category("health_station"),
            name=name,
        )
        for name, metres in [
            ("石油健康驿站三", 450),
            ("石油健康驿站一", 150),
            ("石油健康驿站二", 300),
        ]
    ]
    for station in stations:
        weekly(station, (time(8), time(17)), days=range(5))
    HoursException.objects.create(
        facility=stations[2],
        start_date=timezone.localdate(),
        closed=True,
        note="设备检修",
    )
    return stations


# The coverage reports' scene: 新竹社区 with 新竹一区 (1,200 residents, conftest) near its canteen
# and a compound of 700 beyond the canteen's walk.


@pytest.fixture
def far_compound(community_a):
    """A compound of 新竹社区 2 km north of 新竹一区: beyond its canteen's walk."""
    from communities.models import ResidentialCompound

    return ResidentialCompound.objects.create(
        community=community_a,
        name="新竹远郊小区",
        population=700,
        households=250,
        latitude=43.899,
        longitude=125.271,
    )


@pytest.fixture
def canteen_a(compound_a) -> Facility:
    """新竹社区's canteen, 200 m north of 新竹一区."""
    return place(
        compound_a,
        north=200,
        community=compound_a.community,
        category=category("canteen"),
        name="新竹长者食堂",
    )
