"""The demo facilities ``load_demo`` loads: a plan drawn from fixed seeds, and its loader.

``build_plan(sites, today)`` is pure: from the communities' points and ``facilities.demo_data``
it draws every facility with its point, hours, exceptions, menus and senior prices. Each community
draws from its own ``random.Random``, so editing one community's facilities moves nothing
elsewhere, and each canteen's menu for a date from one of its own, so a day's menu is the same
whichever day the demo is loaded. Only dates move with ``today``: the week of menus, exceptions,
planned openings.

``load_demo_facilities(communities)`` writes the plan in a fixed number of queries, updating the
same rows by the natural key (community, name), so a second run on the same day changes nothing.
It never deletes a facility; the hours, exceptions and senior prices of the facilities it defines
are rewritten where they differ from the plan; menus are added or updated by (date, meal), and
earlier days are kept.
"""

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.db import models
from django.utils import timezone

from communities import demo_data as community_data
from communities.demo_data import DemoCommunity, DemoDistrict
from communities.models import Community, ResidentialCompound
from facilities import demo_data as data
from facilities import taxonomy
from facilities.demo_data import DemoException, DemoFacility, Kind
from facilities.models import (
    Category,
    Facility,
    HoursException,
    IdleRoom,
    Meal,
    MealKind,
    OpeningHours,
    SeniorPrice,
)
from portal.lib import geo
from portal.lib.slugs import pinyin_slug, unique_slug

BUILT = (Facility.Status.OPEN, Facility.Status.TEMPORARILY_CLOSED)
# The days of menus from today on.
MENU_DAYS = 7
NOON = time(12)
OPENED_SINCE = date(2012, 1, 1)
OPENED_BEFORE = date(2025, 1, 1)
PLANNED_MONTHS = {Facility.Status.PLANNED: (5, 18), Facility.Status.UNDER_CONSTRUCTION: (1, 6)}
FACILITY_FIELDS = (
    "category_id",
    "address",
    "phone",
    "status",
    "planned_opening",
    "opened_on",
    "floor_area",
    "seats",
    "operator",
    *data.ACCESS_FIELDS,
    "price_notes",
    "description",
    "holiday_rule",
    "is_demo",
    "latitude",
    "longitude",
)


# ---- the plan ----


@dataclass(frozen=True)
class Site:
    """Where a community's facilities go: its office and its compounds."""

    community: DemoCommunity
    office: geo.Point
    compounds: tuple[tuple[str, geo.Point], ...]


@dataclass(frozen=True, order=True)
class HoursPlan:
    weekday: int
    opens: time
    closes: time

    @property
    def overnight(self) -> bool:
        return self.closes <= self.opens


@dataclass(frozen=True)
class ExceptionPlan:
    start_date: date
    end_date: date | None
    closed: bool
    opens: time | None
    closes: time | None
    note: str


@dataclass(frozen=True)
class MealPlan:
    date: date
    kind: str
    dishes: str
    price: Decimal


@dataclass(frozen=True)
class SeniorPricePlan:
    kind: str
    min_age: int
    max_age: int | None
    price: Decimal


@dataclass(frozen=True)
class FacilityPlan:
    community: str
    name: str
    category: str
    other_categories: tuple[str, ...]
    status: str
    latitude: float
    longitude: float
    address: str
    phone: str
    operator: str
    floor_area: int | None
    seats: int | None
    step_free_entrance: bool
    lift: bool
    accessible_toilet: bool
    seating: bool
    hearing_loop: bool
    price_notes: str
    description: str
    holiday_rule: str
    is_demo: bool
    planned_opening: date | None
    opened_on: date | None
    hours: tuple[HoursPlan, ...]
    exceptions: tuple[ExceptionPlan, ...]
    meals: tuple[MealPlan, ...]
    senior_prices: tuple[SeniorPricePlan, ...]


def build_plan(sites: Sequence[Site], today: date, seed: int = data.SEED) -> list[FacilityPlan]:
    """Every demo facility of ``sites``' communities, the same on every call for the same day."""
    written: dict[str, list[DemoFacility]] = defaultdict(list)
    for spec in (*data.SEED_FACILITIES, *data.FEATURED_FACILITIES):
        written[spec.community].append(spec)
    plans = []
    for site in sites:
        rng = random.Random(f"{seed}:{site.community.name}")
        drawer = _Drawer(site, rng, today, seed)
        specs = [*written[site.community.name]]
        specs += drawer.invent(specs)
        plans += [drawer.realise(spec) for spec in specs]
    return plans


_DISTRICTS = {d.code: d for d in community_data.DISTRICTS}
_SUBDISTRICTS = dict(community_data.SUBDISTRICTS)


def hhmm(text: str) -> time:
    """``"07:30"`` → ``time(7, 30)``."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def first_of_month(today: date, months_ahead: int) -> date:
    """The first day of the month ``months_ahead`` months after today's."""
    month = today.month - 1 + months_ahead
    return date(today.year + month // 12, month % 12 + 1, 1)


def _half_yuan(amount: float) -> Decimal:
    """Prices in steps of half a yuan, rounded down, as canteens post them."""
    return Decimal(math.floor(amount * 2)) / 2


def _meal_kind(opens: time) -> str:
    if opens < time(10):
        return MealKind.BREAKFAST
    return MealKind.LUNCH if opens < time(15) else MealKind.DINNER


class _Drawer:
    """Draws one community's facilities from its random generator, in a fixed order."""

    def __init__(self, site: Site, rng: random.Random, today: date, seed: int) -> None:
        self.site, self.rng, self.today, self.seed = site, rng, today, seed
        self.community = site.community
        self.district: DemoDistrict = _DISTRICTS[self.community.district_code]
        self.stem = self.community.name.removesuffix("社区")
        self.compounds = dict(site.compounds)
        self.names: set[str] = set()

    def _fill(self, template: str, brand: str = "", compound: str = "") -> str:
        return template.format(
            stem=self.stem,
            community=self.community.name,
            compound=compound,
            brand=brand,
            district=self.district.name,
            subdistrict=_SUBDISTRICTS[self.community.subdistrict_code],
        )

    # -- which facilities --

    def invent(self, written: list[DemoFacility]) -> list[DemoFacility]:
        """The catalogue's facilities for the categories ``written`` leaves open, less a few
        required ones (gaps), some of which get a facility planned to fill them."""
        rng = self.rng
        self.names.update(spec.name for spec in written)
        covered = {c for spec in written for c in (spec.category, *spec.other_categories)}
        candidates = [c for c in data.GAP_CANDIDATES if c not in covered]
        n_gaps = rng.choices(range(len(data.GAP_COUNTS)), weights=data.GAP_COUNTS)[0]
        gaps = set(rng.sample(candidates, min(n_gaps, len(candidates))))
        invented = []
        for code, kind in data.CATALOGUE.items():
            if code in covered:
                continue
            if code in gaps:
                if rng.random() < data.GAP_PLANNED:
                    status = rng.choice(
                        [Facility.Status.PLANNED, Facility.Status.UNDER_CONSTRUCTION]
                    )
                    invented.append(self._invent_one(code, kind, status, planned=True))
                continue
            for _ in range(rng.randint(*kind.count)):
                invented.append(self._invent_one(code, kind, self._status(code)))
        return invented

    def _status(self, code: str) -> str:
        # Canteens stay open (their menus fill the week) and so does the community office.
        draw = self.rng.random()
        if code in ("canteen", "service_centre"):
            return Facility.Status.OPEN
        if draw < data.PAUSED_ODDS:
            return Facility.Status.TEMPORARILY_CLOSED
        if draw < data.PAUSED_ODDS + data.CLOSED_ODDS:
            return Facility.Status.CLOSED
        return Facility.Status.OPEN

    def _invent_one(
        self, code: str, kind: Kind, status: str, planned: bool = False
    ) -> DemoFacility:
        rng = self.rng
        compound = rng.choice(list(self.compounds)) if self.compounds else ""
        brand = rng.choice(kind.brands) if kind.brands else ""
        if planned and kind.planned_name:
            name = self._fill(kind.planned_name)
        else:
            name = self._fill(rng.choice(kind.names), brand, compound)
        for _ in range(20):
            if name not in self.names:
                break
            brand = rng.choice(kind.brands) if kind.brands else ""
            name = self._fill(rng.choice(kind.names), brand, compound)
        base, n = name, 2
        while name in self.names:  # the catalogue ran out of names: number the branch
            name, n = f"{base}（{n}）", n + 1
        self.names.add(name)
        return DemoFacility(
            community=self.community.name,
            name=name,
            category=code,
            status=status,
            near=None if kind.at_office or not compound else compound,
            metres=(50, 80) if kind.at_office else data.DISTANCE_M,
            hours=rng.choice(kind.hours),
            operator=self._fill(rng.choice(kind.operators), brand, compound),
            phone=kind.phone,
        )

    # -- what each is like --

    def realise(self, spec: DemoFacility) -> FacilityPlan:
        rng, kind = self.rng, data.CATALOGUE[spec.category]
        status = Facility.Status(spec.status)
        for code in (spec.category, *spec.other_categories):
            if code not in data.CATALOGUE:
                raise ValueError(f"{spec.name}: unknown category {code!r}")
        if spec.near is not None and spec.near not in self.compounds:
            raise ValueError(f"{spec.name}: {spec.near} is not a compound of {spec.community}")

        anchor = self.site.office if spec.near is None else self.compounds[spec.near]
        metres, bearing = rng.uniform(*spec.metres), rng.uniform(0, 2 * math.pi)
        if spec.bearing is not None:  # drawn all the same: the draws after it stay as they were
            bearing = math.radians(spec.bearing)
        lat, lng = geo.offset(anchor, metres * math.cos(bearing), metres * math.sin(bearing))
        label = f"{self.district.city}{self.district.name}"
        streets = data.STREETS.get(self.community.name, data.DISTRICT_STREETS[self.district.code])
        if spec.near is not None and rng.random() < 0.5:
            building, where = rng.randint(1, 12), rng.choice(data.ADDRESS_SUFFIXES)
            address = f"{label}{spec.near}{building}号楼{where}"
        else:
            address = f"{label}{rng.choice(streets)}{rng.randint(1, 399)}号"
        number = rng.randint(0, 9_999_999)
        phone = f"{self.district.phone_prefix}{number:07d}" if spec.phone and kind.phone else ""
        operator = spec.operator or self._fill(
            rng.choice(kind.operators), rng.choice(kind.brands or ("",))
        )
        floor_area = spec.floor_area or self._size(kind.floor_area, 10)
        seats = spec.seats or self._size(kind.seats, 5)
        if spec.access is not None:
            access = set(spec.access)
        else:
            access = {f for f, odds in data.ACCESS_ODDS.items() if rng.random() < odds}
        price_notes = rng.choice(kind.price_notes) if spec.price_notes is None else spec.price_notes
        holiday_rule = Facility.HolidayRule(spec.holiday_rule or rng.choice(kind.holiday_rules))

        planned_opening = opened_on = None
        if status in PLANNED_MONTHS:
            months = spec.opens_in_months or rng.randint(*PLANNED_MONTHS[status])
            planned_opening = first_of_month(self.today, months)
        else:
            drawn = OPENED_SINCE + timedelta(rng.randrange((OPENED_BEFORE - OPENED_SINCE).days))
            opened_on = min(spec.opened_on or drawn, self.today)

        description = spec.description or rng.choice(kind.descriptions)
        if status in PLANNED_MONTHS and not spec.description:
            description = data.PLANNED_DESCRIPTIONS[status]
        elif status == Facility.Status.CLOSED:
            description = data.CLOSED_DESCRIPTION
        if not spec.is_demo:
            description += data.SEED_NOTE

        hours = self._hours(spec.hours or kind.hours[0]) if status in BUILT else ()
        exceptions = self._exceptions(spec, status, hours)
        meals, senior_prices = (), ()
        if spec.category == "canteen" and status == Facility.Status.OPEN:
            meals, senior_prices = self._menus(spec, hours)

        return FacilityPlan(
            community=self.community.name,
            name=spec.name,
            category=spec.category,
            other_categories=spec.other_categories,
            status=status,
            latitude=round(lat, 6),
            longitude=round(lng, 6),
            address=address,
            phone=phone,
            operator=operator,
            floor_area=floor_area,
            seats=seats,
            **{f: f in access for f in data.ACCESS_FIELDS},
            price_notes=price_notes,
            description=description,
            holiday_rule=holiday_rule,
            is_demo=spec.is_demo,
            planned_opening=planned_opening,
            opened_on=opened_on,
            hours=hours,
            exceptions=exceptions,
            meals=meals,
            senior_prices=senior_prices,
        )

    def _size(self, bounds: tuple[int, int] | None, step: int) -> int | None:
        if bounds is None:
            return None
        return round(self.rng.randint(*bounds) / step) * step or step

    def _hours(self, profile: str) -> tuple[HoursPlan, ...]:
        return tuple(
            sorted(
                HoursPlan(weekday, hhmm(opens), hhmm(closes))
                for weekdays, opens, closes in data.HOURS[profile]
                for weekday in weekdays
            )
        )

    def _exceptions(
        self, spec: DemoFacility, status: str, hours: tuple[HoursPlan, ...]
    ) -> tuple[ExceptionPlan, ...]:
        rng, today = self.rng, self.today
        next_monday = today + timedelta(days=7 - today.weekday())
        plans = [self._exception(e, next_monday) for e in spec.exceptions]
        maintenance, short_day, day = rng.random(), rng.random(), rng.randint(0, 6)
        if spec.category in data.STOCKTAKING and rng.random() < 0.5:
            note = data.STOCKTAKING_NOTE
        else:
            note = rng.choice(data.MAINTENANCE_NOTES)
        if status == Facility.Status.TEMPORARILY_CLOSED and not spec.exceptions:
            start, length = today - timedelta(rng.randint(1, 10)), rng.randint(14, 45)
            note = rng.choice(data.CLOSURE_NOTES)
            plans.append(ExceptionPlan(start, start + timedelta(length), True, None, None, note))
        # Canteens keep their week of menus; the seed facilities keep what is written for them.
        if status != Facility.Status.OPEN or spec.category == "canteen" or not spec.is_demo:
            return tuple(plans)
        by_day: dict[int, list[HoursPlan]] = defaultdict(list)
        for h in hours:
            by_day[h.weekday].append(h)
        open_days = sorted(by_day)
        if maintenance < data.MAINTENANCE_ODDS and open_days:
            # A day it would otherwise open, or the closure would tell residents nothing.
            closed_on = next_monday + timedelta(open_days[day % len(open_days)])
            plans.append(ExceptionPlan(closed_on, None, True, None, None, note))
        elif short_day < data.SHORT_DAY_ODDS and spec.category != "fitness":
            # The first day from two days on with a morning that runs past noon: open until then.
            for ahead in range(2 + day, 9 + day):
                on = today + timedelta(ahead)
                first = min(by_day.get(on.weekday(), []), default=None)
                if first and first.opens < time(11) and (first.overnight or first.closes > NOON):
                    note = data.SHORT_DAY_NOTES[day % len(data.SHORT_DAY_NOTES)]
                    plans.append(ExceptionPlan(on, None, False, first.opens, NOON, note))
                    break
        return tuple(plans)

    def _exception(self, e: DemoException, next_monday: date) -> ExceptionPlan:
        start = (next_monday if e.next_week else self.today) + timedelta(e.first_day)
        end = start + timedelta(e.days - 1) if e.days > 1 else None
        if e.opens:
            return ExceptionPlan(start, end, False, hhmm(e.opens), hhmm(e.closes), e.note)
        return ExceptionPlan(start, end, True, None, None, e.note)

    def _menus(
        self, spec: DemoFacility, hours: tuple[HoursPlan, ...]
    ) -> tuple[tuple[MealPlan, ...], tuple[SeniorPricePlan, ...]]:
        kinds = [k for k in MealKind.values if k in {_meal_kind(h.opens) for h in hours}]
        prices = {k: self.rng.randint(*data.MEAL_PRICES[k]) for k in kinds}
        bands = spec.senior_prices or self.rng.choice(sorted(data.SENIOR_BANDS))
        senior = tuple(
            SeniorPricePlan(kind, low, high, _half_yuan(prices[kind] * share))
            for kind in kinds
            if kind != MealKind.BREAKFAST
            for low, high, share in data.SENIOR_BANDS[bands]
        )
        meals = []
        for offset in range(MENU_DAYS):
            day = self.today + timedelta(offset)
            for kind in kinds:
                # Its own generator: a date's menu does not depend on the day the demo runs.
                rng = random.Random(f"{self.seed}:{spec.community}:{spec.name}:{day}:{kind}")
                meals.append(MealPlan(day, kind, self._dishes(rng, kind), Decimal(prices[kind])))
        return tuple(meals), senior

    def _dishes(self, rng: random.Random, kind: str) -> str:
        regional = data.REGIONAL_DISHES.get(self.district.code, {}).get(kind, {})
        dishes = []
        for course, low, high in data.MEAL_COURSES[kind]:
            choices = data.DISHES[kind][course] + regional.get(course, ())
            dishes += rng.sample(choices, rng.randint(low, high))
        return "\n".join(dishes)


# ---- the loader ----


def load_demo_facilities(communities: dict[str, Community], today: date | None = None) -> None:
    """Write the demo facilities of ``communities`` (keyed by name, as ``load_demo`` loads them).

    Call inside the caller's transaction: a failure leaves nothing half-written.
    """
    today = today or timezone.localdate()
    # A test database flushed between browser tests has lost the migration's categories.
    taxonomy.add_missing(Category)
    categories = {c.code: c.pk for c in Category.objects.all()}
    missing = {c for c in data.CATALOGUE if c not in categories}
    if missing:
        raise ValueError(f"Categories missing: {', '.join(sorted(missing))}")
    plans = build_plan(_sites(communities), today)
    facilities = _load_facilities(plans, communities, categories)
    pairs = [(facilities[(p.community, p.name)], p) for p in plans]
    _load_other_categories(pairs, categories)
    _replace_differing(OpeningHours, pairs, ("weekday", "opens", "closes"), lambda p: p.hours)
    _replace_differing(
        HoursException,
        pairs,
        ("start_date", "end_date", "closed", "opens", "closes", "note"),
        lambda p: p.exceptions,
    )
    _replace_differing(
        SeniorPrice, pairs, ("kind", "min_age", "max_age", "price"), lambda p: p.senior_prices
    )
    _load_meals(pairs)
    _load_idle_rooms(_sites(communities), communities, today)


def _load_idle_rooms(sites: Sequence[Site], communities: dict[str, Community], today: date) -> None:
    """Each demo community's idle rooms, beside its compounds in turn, updated by (community,
    name) like the facilities; rooms staff added are left alone."""
    table = data.IDLE_ROOMS
    existing = {(r.community_id, r.name): r for r in IdleRoom.objects.all()}
    start = 0
    to_create, to_update = [], []
    fields = ("latitude", "longitude", "floor_area", "owner", "notes", "available_from")
    for site in sites:
        community_id = communities[site.community.name].pk
        for n in range(min(data.IDLE_ROOMS_PER_COMMUNITY, len(site.compounds))):
            template, area, owner, notes, months = table[(start + n) % len(table)]
            compound, point = site.compounds[n]
            north, east = data.IDLE_ROOM_OFFSETS[n]
            lat, lng = geo.offset(point, north_m=north, east_m=east)
            values = {
                "latitude": round(lat, 6),
                "longitude": round(lng, 6),
                "floor_area": area,
                "owner": owner,
                "notes": notes,
                "available_from": None if months is None else first_of_month(today, months),
            }
            key = (community_id, template.format(compound=compound))
            room = existing.get(key)
            if room is None:
                to_create.append(IdleRoom(community_id=key[0], name=key[1], **values))
            elif any(getattr(room, f) != v for f, v in values.items()):
                for f, v in values.items():
                    setattr(room, f, v)
                to_update.append(room)
        start += data.IDLE_ROOMS_PER_COMMUNITY
    IdleRoom.objects.bulk_create(to_create)
    IdleRoom.objects.bulk_update(to_update, fields)


def _sites(communities: dict[str, Community]) -> list[Site]:
    """The demo communities among ``communities`` with their office and demo compounds, in
    ``COMMUNITIES`` order (staff-added compounds attract no demo facilities)."""
    points: dict[int, dict[str, geo.Point]] = defaultdict(dict)
    rows = ResidentialCompound.objects.filter(community__in=communities.values()).values_list(
        "community_id", "name", "latitude", "longitude"
    )
    for community_id, name, lat, lng in rows:
        points[community_id][name] = (lat, lng)
    sites = []
    for spec in community_data.COMMUNITIES:
        community = communities.get(spec.name)
        if community is None:
            continue
        own = points[community.pk]
        compounds = tuple((name, own[name]) for name in spec.compounds if name in own)
        sites.append(Site(spec, community.point, compounds))
    return sites


def _load_facilities(
    plans: list[FacilityPlan], communities: dict[str, Community], categories: dict[str, int]
) -> dict[tuple[str, str], Facility]:
    """Like update_or_create by (community, name) for every plan, in four queries."""
    existing = {
        (f.community_id, f.name): f
        for f in Facility.objects.filter(community__in=communities.values())
    }
    # New slugs are made here, as Facility.save would, but against one set rather than a query
    # per candidate; existing facilities keep theirs (they are in URLs and on posters).
    slugs = set(Facility.objects.values_list("slug", flat=True))
    now = timezone.now()
    result, to_create, to_update = {}, [], []
    for plan in plans:
        community = communities[plan.community]
        values = {f: getattr(plan, f) for f in FACILITY_FIELDS if f != "category_id"}
        values["category_id"] = categories[plan.category]
        facility = existing.get((community.pk, plan.name))
        if facility is None:
            slug = unique_slug(pinyin_slug(plan.name), slugs.__contains__)
            slugs.add(slug)
            facility = Facility(community=community, name=plan.name, slug=slug, **values)
            to_create.append(facility)
        elif any(getattr(facility, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(facility, f, v)
            facility.updated_at = now
            to_update.append(facility)
        result[(plan.community, plan.name)] = facility
    Facility.objects.bulk_create(to_create)
    Facility.objects.bulk_update(to_update, [*FACILITY_FIELDS, "updated_at"])
    return result


def _load_other_categories(
    pairs: list[tuple[Facility, FacilityPlan]], categories: dict[str, int]
) -> None:
    through = Facility.other_categories.through
    wanted = {(f.pk, categories[c]) for f, plan in pairs for c in plan.other_categories}
    rows = through.objects.filter(facility__in=[f.pk for f, _ in pairs]).values_list(
        "pk", "facility_id", "category_id"
    )
    have = {(facility_id, category_id): pk for pk, facility_id, category_id in rows}
    through.objects.filter(pk__in=[pk for key, pk in have.items() if key not in wanted]).delete()
    through.objects.bulk_create(
        [through(facility_id=f, category_id=c) for f, c in sorted(wanted - have.keys())]
    )


def _replace_differing(
    model: type[models.Model],
    pairs: list[tuple[Facility, FacilityPlan]],
    fields: tuple[str, ...],
    planned_rows,
) -> None:
    """Give each facility exactly the ``model`` rows its plan lists. Only facilities whose rows
    differ are rewritten, so an unchanged plan keeps every row and its id."""
    current: dict[int, Counter] = defaultdict(Counter)
    rows = model.objects.filter(facility__in=[f.pk for f, _ in pairs]).values_list(
        "facility_id", *fields
    )
    for facility_id, *values in rows:
        current[facility_id][tuple(values)] += 1
    stale = []
    for facility, plan in pairs:
        wanted = Counter(tuple(getattr(row, f) for f in fields) for row in planned_rows(plan))
        if wanted != current[facility.pk]:
            stale.append((facility, plan))
    model.objects.filter(facility__in=[f.pk for f, _ in stale]).delete()
    model.objects.bulk_create(
        [
            model(facility=facility, **{f: getattr(row, f) for f in fields})
            for facility, plan in stale
            for row in planned_rows(plan)
        ]
    )


def _load_meals(pairs: Iterable[tuple[Facility, FacilityPlan]]) -> None:
    """Menus by (canteen, date, meal): this week's are added or corrected, earlier ones kept."""
    canteens = [(f, p) for f, p in pairs if p.meals]
    dates = {m.date for _, p in canteens for m in p.meals}
    existing = {
        (m.facility_id, m.date, m.kind): m
        for m in Meal.objects.filter(facility__in=[f.pk for f, _ in canteens], date__in=dates)
    }
    to_create, to_update = [], []
    for facility, plan in canteens:
        for meal in plan.meals:
            row = existing.get((facility.pk, meal.date, meal.kind))
            if row is None:
                to_create.append(
                    Meal(
                        facility=facility,
                        date=meal.date,
                        kind=meal.kind,
                        dishes=meal.dishes,
                        price=meal.price,
                    )
                )
            elif (row.dishes, row.price) != (meal.dishes, meal.price):
                row.dishes, row.price = meal.dishes, meal.price
                to_update.append(row)
    Meal.objects.bulk_create(to_create)
    Meal.objects.bulk_update(to_update, ["dishes", "price"])
