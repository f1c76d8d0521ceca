"""Staff copy this week's menus to next week in one step, for their own canteens only."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from facilities.menus import copy_week
from facilities.models import Facility, Meal, MealKind
from tests.conftest import client_for
from tests.facilities.conftest import category

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 25)


def canteen(community, name: str) -> Facility:
    facility = Facility.objects.create(
        community=community,
        category=category("canteen"),
        name=name,
        latitude=community.latitude,
        longitude=community.longitude,
    )
    for day in range(7):
        Meal.objects.create(
            facility=facility,
            date=TODAY + timedelta(days=day),
            kind=MealKind.LUNCH,
            dishes=f"第{day}天的菜",
            price=Decimal("15.00"),
        )
    return facility


def test_copying_fills_the_next_week_and_keeps_what_is_published(community_a):
    own = canteen(community_a, "新竹食堂")
    published = Meal.objects.create(
        facility=own,
        date=TODAY + timedelta(days=8),
        kind=MealKind.LUNCH,
        dishes="已经发布的菜",
        price=Decimal("12.00"),
    )
    assert copy_week(Facility.objects.filter(pk=own.pk), TODAY) == (6, 1)
    next_week = Meal.objects.filter(facility=own, date__gte=TODAY + timedelta(days=7))
    assert next_week.count() == 7
    assert next_week.get(date=TODAY + timedelta(days=7)).dishes == "第0天的菜"
    published.refresh_from_db()
    assert published.dishes == "已经发布的菜"
    assert copy_week(Facility.objects.filter(pk=own.pk), TODAY) == (0, 7)  # nothing twice


def test_the_admin_action_copies_only_the_staffs_own_canteens(
    staff_a, community_a, community_b, monkeypatch
):
    monkeypatch.setattr("facilities.admin.localdate", lambda: TODAY)
    own, other = canteen(community_a, "新竹食堂"), canteen(community_b, "石油食堂")
    response = client_for(staff_a).post(
        reverse("admin:facilities_facility_changelist"),
        {"action": "copy_menus_to_next_week", "_selected_action": [own.pk, other.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "已把 7 份餐复制到下周" in response.content.decode()
    assert Meal.objects.filter(facility=own).count() == 14
    assert Meal.objects.filter(facility=other).count() == 7  # another community's: untouched


def test_closing_for_a_while_asks_for_dates_then_residents_see_the_closure(
    client, staff_a, community_a, community_b
):
    from facilities.models import HoursException

    own, other = canteen(community_a, "新竹食堂"), canteen(community_b, "石油食堂")
    staff = client_for(staff_a)
    changelist = reverse("admin:facilities_facility_changelist")
    chosen = {"action": "close_for_a_while", "_selected_action": [own.pk, other.pk]}
    asked = staff.post(changelist, chosen).content.decode()
    assert 'name="start_date"' in asked and "新竹食堂" in asked and "石油食堂" not in asked

    today = date.today()
    bad = staff.post(
        changelist,
        {**chosen, "apply": "1", "start_date": today, "end_date": today - timedelta(days=1)},
    )
    assert "不能早于" in bad.content.decode() and not HoursException.objects.exists()

    done = staff.post(
        changelist,
        {
            **chosen,
            "apply": "1",
            "start_date": today,
            "end_date": today + timedelta(days=3),
            "note": "厨房改造",
        },
    )
    assert done.status_code == 302
    closure = HoursException.objects.get()
    assert closure.facility == own and closure.closed and closure.note == "厨房改造"
    html = client.get(own.get_absolute_url()).content.decode()
    assert "今天休息（厨房改造）" in html
