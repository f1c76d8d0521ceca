"""``load_demo`` loads facilities: the ones the news names, under their real names, and invented
ones over every category and community, with hours, exceptions, a week of menus and senior
prices; the same rows on every run."""

import io
from collections import Counter
from datetime import time, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from communities import demo_data as community_data
from communities.models import Community, ResidentialCompound
from courses.models import CourseClass
from facilities import demo_data
from facilities.demo import load_demo_facilities
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

pytestmark = pytest.mark.django_db

Status = Facility.Status

# name → (community, main category, further categories): what the news says each one is.
SEED_FACILITIES = {
    "林园社区老年大学": ("林园社区", "senior_university", set()),
    "“墨香林园”品牌工作站": ("林园社区", "library", set()),
    "连心驿站": ("林园社区", "service_centre", set()),
    "雷锋社区书画室": ("雷锋社区", "library", set()),
    "雷锋社区图书室": ("雷锋社区", "library", set()),
    "雷锋社区超市": ("雷锋社区", "supermarket", set()),
    "雷锋社区新时代文明实践站": ("雷锋社区", "service_centre", {"elderly_care", "children"}),
    "小暖超市": ("新竹社区", "supermarket", set()),
    "新竹社区便民食堂": ("新竹社区", "canteen", set()),
    "新竹社区医养综合体": ("新竹社区", "elderly_care", {"health_station"}),
    "新竹社区老年大学": ("新竹社区", "senior_university", set()),
    "新竹社区综合文化广场": ("新竹社区", "fitness", set()),
    "天元社区邻里中心": (
        "天元社区",
        "service_centre",
        {"health_station", "library", "children"},
    ),
    "翰林苑邻里中心": (
        "大学城社区",
        "service_centre",
        {"children", "elderly_care", "parcel", "laundry_repair", "library"},
    ),
    "安东社区邻里中心": ("安东社区", "service_centre", {"senior_university", "library"}),
    "安东社区儿童乐园": ("安东社区", "fitness", {"children"}),
    "安东社区全民健身广场": ("安东社区", "fitness", set()),
    "石油社区邻里中心健身馆": ("石油社区", "fitness", set()),
    "地勘三院理发店": ("石油社区", "barber", set()),
    "地勘三院水果店": ("石油社区", "convenience", set()),
    "地勘三院小超市": ("石油社区", "supermarket", set()),
    "“邻心园”政务服务室": ("石油社区", "service_centre", set()),
}
SHIYOU_SHOPS = ["石油社区邻里中心健身馆", "地勘三院理发店", "地勘三院水果店", "地勘三院小超市"]


def load(*args: str) -> str:
    out = io.StringIO()
    # No streets: these tests are about facilities (tests/streets has the generated ones).
    call_command("load_demo", "--no-accounts", "--no-streets", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[dict]]:
    """Every row the facility loader writes, with its id and (for facilities) its change time."""
    models = [Facility, Facility.other_categories.through, OpeningHours, HoursException]
    models += [Meal, SeniorPrice]
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}


def dikan_sanyuan() -> ResidentialCompound:
    return ResidentialCompound.objects.get(name="地勘三院小区")


def codes(facility: Facility) -> set[str]:
    return {facility.category.code, *(c.code for c in facility.other_categories.all())}


# ---- how much, and where ----


def test_it_loads_over_300_facilities_in_every_category_and_every_demo_community():
    call_command("load_demo", "--no-accounts", "--no-streets", verbosity=0)
    assert Facility.objects.count() >= 300
    for category in Category.objects.all():
        assert Facility.objects.in_category(category).exists(), category.code
    assert set(Facility.objects.values_list("community__name", flat=True)) == {
        c.name for c in community_data.COMMUNITIES
    }
    # Not a token facility each: the living circle of a community has many.
    per_community = Counter(Facility.objects.values_list("community__name", flat=True))
    assert min(per_community.values()) >= 8


def test_facilities_lie_a_short_walk_from_their_communitys_compounds_or_office():
    load()
    compounds = list(ResidentialCompound.objects.all())
    for facility in Facility.objects.select_related("community"):
        anchors = [c.point for c in compounds if c.community_id == facility.community_id]
        anchors.append(facility.community.point)
        nearest = min(geo.distance_m(facility.point, a) for a in anchors)
        assert nearest <= demo_data.DISTANCE_M[1] + 1, (facility.name, nearest)


def test_some_communities_lack_required_categories_so_coverage_has_gaps():
    load()
    required = list(Category.objects.filter(required=True))
    missing = [
        (community.name, category.code)
        for community in Community.objects.all()
        for category in required
        if not Facility.objects.operating()
        .in_category(category)
        .filter(community=community)
        .exists()
    ]
    assert len(missing) >= 5
    assert len({name for name, _ in missing}) >= 5
    # Within the walk: some compounds have an open canteen within 500 m, some do not.
    canteens = list(Facility.objects.filter(status=Status.OPEN, category__code="canteen"))
    reached = [
        any(geo.distance_m(compound.point, c.point) <= 500 for c in canteens)
        for compound in ResidentialCompound.objects.all()
    ]
    assert any(reached) and not all(reached)


def test_some_gaps_have_a_facility_planned_to_fill_them():
    load()
    planned = Facility.objects.filter(status__in=[Status.PLANNED, Status.UNDER_CONSTRUCTION])
    assert planned.filter(is_demo=True).count() >= 5
    for facility in planned.filter(is_demo=True).select_related("category"):
        open_ones = Facility.objects.filter(
            community=facility.community, status=Status.OPEN
        ).in_category(facility.category)
        assert not open_ones.exists(), facility.name


# ---- the facilities of the news ----


def test_the_seed_facilities_exist_under_their_real_names_in_their_communities():
    load()
    for name, (community, category, further) in SEED_FACILITIES.items():
        facility = Facility.objects.get(name=name)
        assert facility.community.name == community
        assert facility.category.code == category, name
        assert codes(facility) == {category, *further}, name
        assert facility.is_demo is False
        # The news gives names; hours, phones and points are ours, and the page says so.
        assert "演示数据" in facility.description


def test_only_facilities_the_news_names_are_not_marked_as_demo_data():
    load()
    real = set(Facility.objects.filter(is_demo=False).values_list("name", flat=True))
    assert real == set(SEED_FACILITIES)


def test_seed_facilities_have_the_status_the_news_describes():
    load()
    status = dict(Facility.objects.values_list("name", "status"))
    assert status["林园社区老年大学"] in (Status.PLANNED, Status.UNDER_CONSTRUCTION)
    assert status["雷锋社区超市"] == Status.PLANNED
    assert status["新竹社区医养综合体"] in (Status.PLANNED, Status.UNDER_CONSTRUCTION)
    assert status["新竹社区综合文化广场"] == Status.PLANNED
    for name in ["小暖超市", "新竹社区便民食堂", "翰林苑邻里中心", *SHIYOU_SHOPS]:
        assert status[name] == Status.OPEN, name
    centre = Facility.objects.get(name="翰林苑邻里中心")
    assert (centre.opened_on.year, centre.opened_on.month) == (2023, 5)
    assert centre.floor_area == 1500
    university = Facility.objects.get(name="林园社区老年大学")
    assert university.floor_area >= 100
    for word in ("投影仪", "黑板", "摄影", "烹饪", "视频剪辑"):
        assert word in university.description


def test_shiyous_shops_and_office_lie_within_250_m_of_dikan_sanyuan():
    load()
    compound = dikan_sanyuan()
    for name in [*SHIYOU_SHOPS, "“邻心园”政务服务室"]:
        facility = Facility.objects.get(name=name)
        assert 50 <= geo.distance_m(compound.point, facility.point) <= 250, name


def test_an_open_canteen_within_500_m_of_dikan_sanyuan_serves_lunch_at_a_price_for_age_75():
    load()
    compound = dikan_sanyuan()
    today = timezone.localdate()
    nearby = [
        canteen
        for canteen in Facility.objects.filter(status=Status.OPEN, category__code="canteen")
        if geo.distance_m(compound.point, canteen.point) <= 500
    ]
    serving = [
        canteen
        for canteen in nearby
        if canteen.hours.filter(weekday=today.weekday(), opens__lte=time(12), closes__gt=time(12))
        and any(
            p.kind == MealKind.LUNCH and p.covers(75) and p.min_age == 70 and p.max_age == 79
            for p in canteen.senior_prices.all()
        )
        and canteen.meals.filter(date=today, kind=MealKind.LUNCH).exists()
    ]
    assert serving


def test_several_health_facilities_lie_within_a_kilometre_of_dikan_sanyuan():
    load()
    health = Q(category__code__in=["health_station", "health_centre"]) | Q(
        other_categories__code__in=["health_station", "health_centre"]
    )
    nearby = Facility.objects.operating().filter(health).near(dikan_sanyuan().point, 1000)
    distances = [f.distance for f in nearby.distinct()]
    assert len(distances) >= 3
    assert min(distances) <= 500


# ---- statuses, hours and exceptions ----


def test_at_least_ten_facilities_are_planned_or_under_construction_with_a_future_opening():
    load()
    today = timezone.localdate()
    coming = Facility.objects.filter(status__in=[Status.PLANNED, Status.UNDER_CONSTRUCTION])
    assert coming.count() >= 10
    assert coming.filter(status=Status.UNDER_CONSTRUCTION).exists()
    for facility in coming:
        assert facility.planned_opening > today, facility.name
        assert facility.opened_on is None
        assert not facility.hours.exists()


def test_most_facilities_are_open_a_few_temporarily_closed_and_a_couple_closed_for_good():
    load()
    statuses = Counter(Facility.objects.values_list("status", flat=True))
    assert statuses[Status.OPEN] >= 0.8 * sum(statuses.values())
    assert statuses[Status.TEMPORARILY_CLOSED] >= 2
    assert statuses[Status.CLOSED] >= 2


def test_every_open_facility_has_weekly_hours():
    load()
    without = Facility.objects.filter(status=Status.OPEN, hours__isnull=True)
    assert list(without.values_list("name", flat=True)) == []


def test_hours_look_like_each_categorys():
    load()
    canteen = Facility.objects.get(name="新竹社区便民食堂")
    monday = [(h.opens, h.closes) for h in canteen.hours.filter(weekday=0)]
    assert monday == [
        (time(6, 30), time(8, 30)),
        (time(11), time(13)),
        (time(17), time(18, 30)),
    ]
    supermarket = Facility.objects.get(name="小暖超市")
    assert {(h.weekday, h.opens, h.closes) for h in supermarket.hours.all()} == {
        (d, time(7), time(21)) for d in range(7)
    }
    for library in Facility.objects.filter(category__code="library", status=Status.OPEN):
        assert not library.hours.filter(weekday=0).exists(), library.name
    offices = Facility.objects.filter(category__code="service_centre", status=Status.OPEN)
    assert set(offices.values_list("holiday_rule", flat=True)) == {Facility.HolidayRule.CLOSED}
    # Community offices keep office hours; neighbourhood centres also open at weekends.
    party_offices = offices.filter(name__endswith="党群服务中心")
    assert party_offices.count() >= 10
    assert not OpeningHours.objects.filter(facility__in=party_offices, weekday=6).exists()
    station = Facility.objects.get(name="石油社区健康驿站")
    assert station.hours.filter(weekday=5, opens=time(8), closes=time(12)).exists()
    assert Facility.objects.filter(holiday_rule=Facility.HolidayRule.SUNDAY).exists()


def test_there_are_overnight_and_round_the_clock_hours():
    load()
    hours = list(OpeningHours.objects.filter(facility__status=Status.OPEN))
    assert any(h.closes < h.opens for h in hours)  # 20:00–02:00
    assert any(h.opens == h.closes == time(0) for h in hours)  # 24 hours


def test_exceptions_lie_ahead_a_closed_day_special_hours_and_a_closure():
    load()
    today = timezone.localdate()
    next_monday = today + timedelta(days=7 - today.weekday())
    ahead = HoursException.objects.filter(
        Q(start_date__gte=today) | Q(end_date__gte=today)
    ).select_related("facility")
    closed_days = [e for e in ahead if e.closed and e.end_date is None]
    assert any(
        e.note == "设备检修" and next_monday <= e.start_date < next_monday + timedelta(7)
        for e in closed_days
    )
    assert any(not e.closed and e.opens and e.closes and e.note for e in ahead)
    closures = [e for e in ahead if e.facility.status == Status.TEMPORARILY_CLOSED]
    assert closures
    for closure in closures:
        assert closure.closed and closure.start_date <= today < closure.end_date
        assert closure.note


# ---- canteens ----


def test_open_canteens_have_this_weeks_menus_and_senior_prices():
    load()
    today = timezone.localdate()
    week = {today + timedelta(days=n) for n in range(7)}
    canteens = Facility.objects.filter(category__code="canteen", status=Status.OPEN)
    assert canteens.count() >= 10
    prices = {"breakfast": (5, 8), "lunch": (12, 18), "dinner": (10, 15)}
    for canteen in canteens:
        meals = list(canteen.meals.all())
        assert {m.date for m in meals} == week, canteen.name
        assert any(m.kind == MealKind.LUNCH for m in meals)
        for meal in meals:
            assert 3 <= len(meal.dish_list) <= 5
            low, high = prices[meal.kind]
            assert low <= meal.price <= high
        lunch_prices = [p for p in canteen.senior_prices.all() if p.kind == MealKind.LUNCH]
        assert lunch_prices, canteen.name
        normal = next(m.price for m in meals if m.kind == MealKind.LUNCH)
        by_age = sorted(lunch_prices, key=lambda p: p.min_age)
        # Senior prices fall with age, and every band is below the normal price.
        assert [p.price for p in by_age] == sorted((p.price for p in by_age), reverse=True)
        assert all(p.price < normal for p in by_age)
        assert by_age[-1].max_age is None


def test_canteens_set_their_own_senior_age_bands():
    load()
    bands = {
        tuple(
            canteen.senior_prices.filter(kind=MealKind.LUNCH)
            .order_by("min_age")
            .values_list("min_age", "max_age")
        )
        for canteen in Facility.objects.filter(category__code="canteen", status=Status.OPEN)
    }
    assert len(bands) >= 3
    assert ((60, 79), (80, None)) in bands


# ---- the same rows on every run ----


def test_a_second_run_changes_no_row_and_keeps_every_id():
    load()
    first = snapshot()
    load()
    assert snapshot() == first


def test_a_run_on_a_later_day_adds_that_days_menus_and_keeps_the_earlier_ones(monkeypatch):
    load()
    today = timezone.localdate()
    facilities = dict(Facility.objects.values_list("slug", "pk"))
    todays = dict(Meal.objects.filter(date=today).values_list("pk", "dishes"))
    new_day = today + timedelta(days=7)
    assert not Meal.objects.filter(date=new_day).exists()

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today + timedelta(days=1))
    load()
    assert dict(Facility.objects.values_list("slug", "pk")) == facilities
    assert dict(Meal.objects.filter(date=today).values_list("pk", "dishes")) == todays
    # The new day has as many meals as any other day of the week.
    assert Meal.objects.filter(date=new_day).count() == len(todays)


def test_a_fresh_load_gives_the_same_facilities_at_the_same_points():
    load()

    def values():
        return list(
            Facility.objects.order_by("community__name", "name").values_list(
                "community__name", "name", "slug", "latitude", "longitude", "phone", "status"
            )
        )

    first = values()
    CourseClass.objects.all().delete()  # the demo's classes meet in its facilities
    Facility.objects.all().delete()
    load()
    assert values() == first


def test_staff_added_facilities_survive_a_reload_and_demo_hours_are_restored():
    load()
    community = Community.objects.get(name="新竹社区")
    own = Facility.objects.create(
        community=community,
        category=Category.objects.get(code="barber"),
        name="员工新增理发店",
        latitude=community.latitude,
        longitude=community.longitude,
    )
    OpeningHours.objects.create(facility=own, weekday=0, opens=time(9), closes=time(17))
    supermarket = Facility.objects.get(name="小暖超市")
    supermarket.hours.all().delete()
    load()
    assert own.hours.count() == 1
    assert Facility.objects.get(pk=own.pk).name == "员工新增理发店"
    assert supermarket.hours.count() == 7


def test_no_two_facilities_share_a_slug_and_slugs_come_from_the_pinyin():
    load()
    slugs = list(Facility.objects.values_list("slug", flat=True))
    assert len(slugs) == len(set(slugs))
    assert all(slugs)
    assert Facility.objects.get(name="小暖超市").slug == "xiaonuanchaoshi"


def test_the_loader_needs_a_fixed_number_of_queries(django_assert_max_num_queries):
    load()
    communities = {c.name: c for c in Community.objects.all()}
    CourseClass.objects.all().delete()  # the demo's classes meet in its facilities
    Facility.objects.all().delete()
    # Creating over 300 facilities with their rows, then finding them all unchanged: the count
    # of queries does not grow with the number of facilities.
    with django_assert_max_num_queries(30):
        load_demo_facilities(communities)
    with django_assert_max_num_queries(30):
        load_demo_facilities(communities)
    assert Facility.objects.count() >= 300


def test_the_summary_counts_facilities_by_status():
    output = load()
    line = next(line for line in output.splitlines() if "Facilities:" in line)
    assert f"Facilities: {Facility.objects.count()}" in line
    planned = Facility.objects.filter(status=Status.PLANNED).count()
    assert f"{planned} {Status.PLANNED.label}" in line
