"""Residents' facility pages: search (near a compound, open now), a facility's page and its poster.

Each view gathers what its template shows in a fixed number of queries; the templates loop over
prepared rows only.
"""

from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, Q, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from communities import access
from communities.models import Community, ResidentialCompound
from facilities import hours, maps, matching, walking, wording
from facilities.forms import FacilitySearchForm
from facilities.models import (
    Category,
    Facility,
    HoursException,
    Meal,
    MealKind,
    SeniorPrice,
    Weekday,
)
from facilities.open_now import open_at_q
from facilities.qr import qr_svg
from portal import audit, caching
from portal.lib import geo

PAGE_SIZE = 20
# Above this many compounds the "near" list shows only the chosen community's compounds.
COMPOUND_OPTION_LIMIT = 500
# Beyond this many communities the finder asks for the subdistrict (街道) first, then lists its
# communities: a city's 2,500 in one list are slow to draw and useless to scroll.
COMMUNITY_OPTION_LIMIT = 300
MAP_RADIUS_M = 600
MAP_NEIGHBOURS = 12


# ---- shared pieces ----


def upcoming_exceptions(today) -> Prefetch:
    """A facility's exceptions that still matter: from yesterday (an overnight range) on."""
    since = today - timedelta(days=1)
    return Prefetch(
        "exceptions",
        queryset=HoursException.objects.filter(
            Q(end_date__gte=since) | Q(end_date__isnull=True, start_date__gte=since)
        ),
    )


def schedule_of(facility: Facility) -> hours.Schedule:
    """The facility's schedule from its prefetched hours and exceptions."""
    return hours.schedule_from_rows(
        facility.hours.all(), facility.exceptions.all(), facility.holiday_rule
    )


@dataclass(frozen=True)
class Status:
    is_open: bool
    text: str
    tone: str  # "open" | "closed" | "planned": the badge's colour


def status_of(facility: Facility, schedule: hours.Schedule, now) -> Status:
    """What a resident needs to know first: can I go there now, and if not, when."""
    S = Facility.Status
    if facility.status == S.PLANNED:
        if facility.planned_opening:
            text = _("Planned, expected to open %(date)s") % {
                "date": _month_year(facility.planned_opening)
            }
        else:
            text = _("Planned")
        return Status(False, text, "planned")
    if facility.status == S.UNDER_CONSTRUCTION:
        if facility.planned_opening:
            text = _("Under construction, expected to open %(date)s") % {
                "date": _month_year(facility.planned_opening)
            }
        else:
            text = _("Under construction")
        return Status(False, text, "planned")
    if facility.status == S.TEMPORARILY_CLOSED:
        return Status(False, _("Temporarily closed"), "closed")
    if facility.status == S.CLOSED:
        return Status(False, _("Closed for good"), "closed")
    state = hours.state_at(schedule, now)
    return Status(state.is_open, hours.describe(state, now), "open" if state.is_open else "closed")


def _month_year(day) -> str:
    return _("%(month)s/%(year)s") % {"month": day.month, "year": day.year}


def _category_terms(categories: list[Category]) -> list[matching.Terms]:
    return [
        matching.terms_for(c.code, c.name_zh, c.name_en, tuple(c.word_list)) for c in categories
    ]


def _compound_choices(community_slug: str | None, near_id: int | None):
    """Grouped (community → compounds) choices for the "near" select, in one or two queries."""
    compounds = ResidentialCompound.objects.select_related("community").order_by(
        "community__subdistrict__code", "community__name", "name"
    )
    compounds = compounds.only("id", "name", "community__name")
    if community_slug:
        rows = list(compounds.filter(community__slug=community_slug))
    else:
        # Whether there are more than can be listed: one index entry read, not 500 rows.
        beyond = ResidentialCompound.objects.order_by("pk").values_list("pk", flat=True)
        many = beyond[COMPOUND_OPTION_LIMIT : COMPOUND_OPTION_LIMIT + 1].exists()
        rows = [] if many else list(compounds)
        if many:
            # Too many to list: offer the chosen compound's neighbours (or nothing) and ask for
            # the community first.
            if near_id is None:
                return [], True
            rows = list(
                compounds.filter(
                    community__in=ResidentialCompound.objects.filter(pk=near_id).values("community")
                )
            )
    choices = [
        (community, [(c.pk, c.name) for c in group])
        for community, group in groupby(rows, key=lambda c: c.community.name)
    ]
    return choices, False


@dataclass(frozen=True)
class CommunityChoice:
    """The finder's "which community" choice: the communities offered (slug, name, city,
    district rows), and at city scale the subdistricts to pick them from first."""

    rows: list
    areas: list  # (district, [(subdistrict code, name), …]); empty: one list is short enough
    area: str  # the subdistrict chosen ("" for none)
    community: str  # the community chosen, "" when it is not among those offered


def _community_choice(area: str, community: str) -> CommunityChoice:
    """What to offer: every community in one query where they are few; at city scale the
    subdistricts and the chosen one's communities, from the shared cache. A community asked for
    without its subdistrict (an old link) brings its subdistrict."""
    columns = ("slug", "name", "subdistrict__district__city", "subdistrict__district__name")
    order = ("subdistrict__district__code", "subdistrict__code", "name")

    def few() -> tuple[bool, list]:
        rows = list(
            Community.objects.order_by(*order).values_list(*columns)[: COMMUNITY_OPTION_LIMIT + 1]
        )
        return len(rows) <= COMMUNITY_OPTION_LIMIT, rows

    # Places only: kept until a place changes.
    listed, rows = caching.cached_places("finder-all-communities", build=few)
    if listed:
        return CommunityChoice(rows, [], "", community)
    areas = caching.cached_places("finder-areas", build=_areas)
    codes = {code for _district, subs in areas for code, _name in subs}
    if area not in codes:
        area = ""
    if not area and community:
        area = (
            Community.objects.filter(slug=community)
            .values_list("subdistrict__code", flat=True)
            .first()
        ) or ""
    rows = (
        caching.cached_places(
            "finder-communities",
            area,
            build=lambda: list(
                Community.objects.filter(subdistrict__code=area)
                .order_by(*order)
                .values_list(*columns)
            ),
        )
        if area
        else []
    )
    # A community of another subdistrict (the subdistrict was just changed) is let go.
    if community not in {r[0] for r in rows}:
        community = ""
    return CommunityChoice(rows, areas, area, community)


def _areas() -> list:
    from communities.models import Subdistrict

    rows = Subdistrict.objects.order_by("district__code", "code").values_list(
        "code", "name", "district__city", "district__name"
    )
    return [
        (district, [(code, name) for code, name, *_rest in group])
        for district, group in groupby(rows, key=lambda r: f"{r[2]}{r[3]}")
    ]


def _community_groups(rows, chosen: str):
    """(district, [(slug, name, selected), …]) for the community select."""
    return [
        (district, [(slug, name, slug == chosen) for slug, name, *_rest in group])
        for district, group in groupby(rows, key=lambda r: f"{r[2]}{r[3]}")
    ]


@dataclass(frozen=True)
class Result:
    facility: Facility
    status: Status
    distance_m: int | None
    minutes: int | None


# ---- views ----


@require_GET
@vary_on_headers("HX-Request")  # the page and its fragment must not share a cache entry
@caching.public_page
def search(request: HttpRequest) -> HttpResponse:
    categories = list(Category.objects.all())
    by_code = {c.code: c for c in categories}
    asked = request.GET.copy()
    choice = _community_choice(asked.get("area", ""), asked.get("community", ""))
    asked["area"] = choice.area
    if choice.areas:
        asked["community"] = choice.community
    raw_near = asked.get("near", "")
    # An id, or nothing: past 18 digits it is no id (and past 4,300 Python will not read it).
    near_id = int(raw_near) if raw_near.isdigit() and len(raw_near) <= 18 else None
    compounds, must_pick_community = _compound_choices(asked.get("community") or None, near_id)
    form = FacilitySearchForm(
        asked,
        categories=[(c.code, c.name) for c in categories],
        community_slugs={slug for slug, *_rest in choice.rows},
        compounds=compounds,
    )
    now = timezone.localtime()
    results, page, origin, matched, within = [], None, None, [], None
    walked = walk = None
    if form.is_valid():
        data = form.cleaned_data
        facilities = Facility.objects.visible().select_related("category", "community")
        if data["q"]:
            terms = _category_terms(categories)
            per_word = {
                word: [by_code[code] for code in matching.matching_codes(word, terms)]
                for word in wording.words(data["q"])
            }
            matched = list({c.pk: c for found in per_word.values() for c in found}.values())
            facilities = facilities.search(
                data["q"], lambda word: [c.pk for c in per_word.get(word, ())]
            )
        category = by_code.get(data["category"])
        if category:
            facilities = facilities.in_category(category)
        if data["community"]:
            facilities = facilities.filter(community__slug=data["community"])
        elif data["area"]:
            facilities = facilities.filter(community__subdistrict__code=data["area"])
        if data["accessible"]:
            facilities = facilities.accessible()
        if data["open_now"]:
            facilities = facilities.filter(open_at_q(now))

        starts = []
        if data["near"]:
            compound = ResidentialCompound.objects.select_related("community__subdistrict").get(
                pk=data["near"]
            )
            origin = (compound.name, compound.point)
            starts = [g.point for g in compound.gates.all()] or [compound.point]
            walked = walking.for_district(compound.community.subdistrict.district_id)
        elif data["lat"] is not None:
            origin = (_("your location"), (data["lat"], data["lng"]))
            starts = [origin[1]]
            walked = walking.for_point(origin[1])
        if origin:
            if data["distance"]:
                within = data["distance"]
                facilities = facilities.near(origin[1], within)
            elif category:
                within = category.distance_m
                facilities = facilities.near(origin[1], within)
            else:
                # Each facility within its own category's walking circle.
                widest = max((c.distance_m for c in matched or categories), default=1000)
                facilities = facilities.near(origin[1], widest).filter(
                    distance__lte=F("category__distance_m")
                )
            if walked is not None:
                # A walk is never shorter than the straight line: the straight-line search
                # holds every facility the walk can reach. Walked, then ranked again.
                ranked = walking.rank(walked, starts, facilities, within)
                if ranked is not None:
                    facilities, walk = ranked
        else:
            facilities = facilities.order_by("category__sort_order", "name", "pk")

        if origin:
            page = Paginator(facilities, PAGE_SIZE).get_page(data["page"] or 1)
            rows = list(page.object_list)
        else:
            # The page's ids from narrow rows, then those rows whole: sorting thousands of
            # matches (看病 over a city) with every joined column cost ten times more.
            page = Paginator(facilities.values_list("pk", flat=True), PAGE_SIZE).get_page(
                data["page"] or 1
            )
            ids = list(page.object_list)
            found = facilities.order_by().in_bulk(ids)
            rows = [found[pk] for pk in ids]
        if walk is not None:
            rows = walking.rows(rows)
        today = now.date()
        prefetch_related_objects(rows, "hours", "photos", upcoming_exceptions(today))
        for facility in rows:
            distance = getattr(facility, "distance", None)
            results.append(
                Result(
                    facility,
                    status_of(facility, schedule_of(facility), now),
                    round(distance) if distance is not None else None,
                    geo.walking_minutes(distance) if distance is not None else None,
                )
            )

    template = "facilities/search.html"
    if request.htmx:
        template += "#results"
    query = asked.copy()
    query.pop("page", None)
    return render(
        request,
        template,
        {
            "form": form,
            "results": results,
            "page": page,
            "origin": origin,
            "within": within,
            "matched": _list(c.name for c in matched),
            "categories": categories,
            "must_pick_community": must_pick_community,
            "community_groups": _community_groups(choice.rows, asked.get("community", "")),
            "areas": [
                (district, [(code, name, code == choice.area) for code, name in subs])
                for district, subs in choice.areas
            ],
            "compound_groups": [
                (community, [(pk, name, str(pk) == raw_near) for pk, name in options])
                for community, options in compounds
            ],
            "page_query": query.urlencode(),
            "pace": geo.SENIOR_METRES_PER_MINUTE,
            "walked": walk,
        },
    )


def detail_context(slug: str, now) -> dict:
    """What a facility's page shows of the facility itself (the page, which adds the classes
    meeting there, is ``portal.pages.facility_detail``): in a fixed number of queries."""
    today = now.date()
    facility = get_object_or_404(
        Facility.objects.select_related(
            "category", "community__subdistrict__district"
        ).prefetch_related("other_categories", "hours", "photos", upcoming_exceptions(today)),
        slug=slug,
    )
    schedule = schedule_of(facility)
    week = hours.week(schedule, today, 7)
    meals = list(
        Meal.objects.filter(facility=facility, date__gte=today, date__lt=today + timedelta(days=7))
    )
    senior = list(SeniorPrice.objects.filter(facility=facility))
    neighbours = list(
        Facility.objects.visible()
        .exclude(pk=facility.pk)
        .select_related("category")
        .near(facility.point, MAP_RADIUS_M)[:MAP_NEIGHBOURS]
    )
    south, north, west, east = geo.bounding_box(facility.point, MAP_RADIUS_M)
    compounds = [
        c
        for c in ResidentialCompound.objects.filter(
            latitude__range=(south, north), longitude__range=(west, east)
        ).only("id", "name", "latitude", "longitude", "community_id")
        if geo.distance_m(c.point, facility.point) <= MAP_RADIUS_M
    ]
    return {
        "facility": facility,
        "status": status_of(facility, schedule, now),
        "week": _week_rows(week, today),
        "exceptions": [e for e in facility.exceptions.all() if e.last_date >= today],
        "today_meals": [m for m in meals if m.date == today],
        "menu_days": _menu_days(meals, today),
        "prices": _price_table(senior),
        "map": _map(facility, neighbours, compounds),
    }


@require_GET
@caching.public_page
def poster(request: HttpRequest, slug: str) -> HttpResponse:
    """One A4 sheet for the community notice board, with a QR code that opens the page."""
    facility = get_object_or_404(
        Facility.objects.select_related("category", "community").prefetch_related("hours"),
        slug=slug,
    )
    url = request.build_absolute_uri(facility.get_absolute_url())
    return render(
        request,
        "facilities/poster.html",
        {
            "facility": facility,
            "weekly": _weekly_summary(facility),
            "prices": _price_table(list(SeniorPrice.objects.filter(facility=facility))),
            "qr": qr_svg(url, title=_("QR code: opens %(url)s") % {"url": url}),
            "url": url,
        },
    )


# ---- presentation helpers: rows the templates loop over ----


def _list(items) -> str:
    """Items run together with the language's list separator (", " or "、")."""
    return pgettext("list separator", ", ").join(str(i) for i in items)


def _range_text(r: hours.Range) -> str:
    if r.opens == r.closes:
        return _("open 24 hours")
    text = f"{r.opens:%H:%M}–{r.closes:%H:%M}"
    if r.closes < r.opens:
        text += " " + _("(next day)")
    return text


@dataclass(frozen=True)
class DayRow:
    date: object
    label: str
    is_today: bool
    ranges: list[str]
    note: str


def _week_rows(week: list[hours.DayHours], today) -> list[DayRow]:
    rows = []
    for day in week:
        notes = []
        if day.holiday:
            notes.append(hours.holiday_name(day.holiday))
        if day.swapped_workday:
            notes.append(_("swapped working day"))
        if day.exception is not None:
            notes.append(day.exception.note or _("special hours"))
        rows.append(
            DayRow(
                date=day.date,
                label=_weekday(day.date.weekday()),
                is_today=day.date == today,
                ranges=[_range_text(r) for r in day.ranges],
                note=_list(notes),
            )
        )
    return rows


def _weekday(n: int) -> str:
    return str(Weekday(n).label)


def _weekly_summary(facility: Facility) -> list[tuple[str, str]]:
    """Ordinary weekly hours with equal days run together: ("Monday – Friday", "08:00–17:00")."""
    by_day = {d: [] for d in range(7)}
    for row in facility.hours.all():
        by_day[row.weekday].append(_range_text(hours.Range(row.opens, row.closes)))
    summary, start = [], 0
    for day in range(1, 8):
        if day == 7 or by_day[day] != by_day[start]:
            label = _weekday(start)
            if start == 0 and day == 7:
                label = _("Every day")
            elif day - 1 != start:
                label = _("%(first)s – %(last)s") % {
                    "first": _weekday(start),
                    "last": _weekday(day - 1),
                }
            summary.append((label, _list(by_day[start]) or pgettext("day", "closed")))
            start = day
    return summary


def _menu_days(meals: list[Meal], today) -> list[tuple[object, str, list[Meal]]]:
    order = {k: i for i, k in enumerate(MealKind.values)}
    days = []
    for day, group in groupby(
        sorted(meals, key=lambda m: (m.date, order[m.kind])), lambda m: m.date
    ):
        label = _("Today") if day == today else _weekday(day.weekday())
        days.append((day, label, list(group)))
    return days


@dataclass(frozen=True)
class PriceTable:
    bands: list[str]
    rows: list[tuple[str, list[object]]]  # (meal, price per band or None)


def _price_table(prices: list[SeniorPrice]) -> PriceTable | None:
    if not prices:
        return None
    bands = sorted({(p.min_age, p.max_age) for p in prices}, key=lambda b: b[0])
    labels = [
        _("Age %(low)s–%(high)s") % {"low": lo, "high": hi}
        if hi
        else _("Age %(low)s and over") % {"low": lo}
        for lo, hi in bands
    ]
    rows = []
    for kind in MealKind:
        of_kind = {(p.min_age, p.max_age): p.price for p in prices if p.kind == kind}
        if of_kind:
            rows.append((str(kind.label), [of_kind.get(b) for b in bands]))
    return PriceTable(labels, rows)


def _map(facility: Facility, neighbours: list[Facility], compounds: list[ResidentialCompound]):
    subject = maps.Place("facility", facility.name, facility.latitude, facility.longitude)
    others = [maps.Place("compound", c.name, c.latitude, c.longitude) for c in compounds] + [
        maps.Place(
            "neighbour",
            f.name,
            f.latitude,
            f.longitude,
            url=f.get_absolute_url(),
            icon=f.category.icon,
        )
        for f in neighbours
    ]
    walked = walking.for_district(facility.community.subdistrict.district_id)
    if walked is None:
        return maps.layout(subject, others, radius_m=MAP_RADIUS_M)
    walks = walking.from_facility(walked, facility, compounds, neighbours, 3 * MAP_RADIUS_M)
    others = [replace(p, walk_m=m) for p, m in zip(others, walks, strict=True)]
    return maps.layout(
        subject,
        others,
        radius_m=MAP_RADIUS_M,
        streets=walking.segments(walked, facility.point, MAP_RADIUS_M * 1.5),
    )


def category_counts() -> dict[int, int]:
    """Open facilities per primary category (the home page's grid)."""
    # COUNT(*) over the (category, status) index: read from the index alone.
    return dict(
        Facility.objects.operating()
        .order_by()
        .values_list("category_id")
        .annotate(n=Count("*"))
        .values_list("category_id", "n")
    )


# ---- panels on the communities app's pages ----

HOME_CANTEENS = 8


@dataclass(frozen=True)
class CanteenToday:
    facility: Facility
    meals: list[Meal]


def home_panels() -> dict:
    """The category grid, the compounds to start "near me" from and today's canteen menus for
    the home page: five queries when the content or the date has changed, else one cache read."""
    today = timezone.localdate()
    return caching.cached("home-panels", today, build=lambda: _home_panels(today))


def _home_panels(today) -> dict:
    categories = list(Category.objects.all())
    counts = category_counts()
    meals = list(
        Meal.objects.filter(date=today, facility__status=Facility.Status.OPEN)
        .select_related("facility__community")
        .order_by("facility__name", "facility_id", "kind")
    )
    canteens = []
    for _facility_id, group in groupby(meals, key=lambda m: m.facility_id):
        group = sorted(group, key=lambda m: MealKind.values.index(m.kind))
        canteens.append(CanteenToday(group[0].facility, group))
    near_groups, _too_many = _compound_choices(None, None)
    return {
        "near_groups": near_groups,
        "category_grid": [(c, counts.get(c.pk, 0)) for c in categories],
        "canteens_today": canteens[:HOME_CANTEENS],
        "more_canteens": len(canteens) > HOME_CANTEENS,
    }


@login_required
@require_GET
def history(request: HttpRequest, slug: str) -> HttpResponse:
    """Every recorded change to a facility and its hours, exceptions, menus, prices and photos:
    for the staff who keep it and the officials whose area it is in."""
    facility = get_object_or_404(access.readable(Facility.objects.all(), request.user), slug=slug)
    return render(
        request,
        "facilities/history.html",
        {"facility": facility, "entries": audit.for_facility(facility)},
    )
