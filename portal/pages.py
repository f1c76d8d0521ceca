"""The project's composite pages: those that show several apps at once, so they stand above them
all, next to the URL conf (portal/urls.py puts them in their apps' URL namespaces, so their
names stay ``communities:home``, ``communities:detail``, ``communities:account`` and
``facilities:detail``).

- the home page: the place tree and search (communities), the category grid, "near me" and
  today's canteen menus (facilities), classes with seats left (courses);
- a community's page: its profile and compounds, its facilities by category, which required
  services its compounds reach within walking distance (the coverage engine, reports.coverage),
  its classes;
- a facility's page: the facility (facilities.views.detail_context) and the classes meeting
  there;
- "my account": memberships and scope (communities), the resident's own profile (residents).

Each gathers what its template shows in a fixed number of queries, like every page.
"""

from collections import defaultdict
from dataclasses import dataclass
from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET

from communities import access
from communities.forms import SearchForm
from communities.models import Community, CompoundGate, Membership, ResidentialCompound
from communities.views import place_tree
from courses import listing
from facilities import walking
from facilities.models import Category, Facility
from facilities.views import detail_context, home_panels
from portal import caching
from portal.lib import geo
from reports import coverage
from residents.models import Resident


@require_GET
@caching.public_page
def home(request: HttpRequest) -> HttpResponse:
    def totals() -> dict:
        values = Community.objects.aggregate(communities=Count("id"), population=Sum("population"))
        values["compounds"] = ResidentialCompound.objects.count()
        return values

    return render(
        request,
        "communities/home.html",
        {
            # Built only when the cached tree fragment is missing (home.html's {% cache %}).
            "districts": SimpleLazyObject(place_tree),
            "totals": caching.cached_places("home-totals", build=totals),
            "form": SearchForm(),
            **home_panels(),
            # Outside every content-version cache: enrolments move the seat counts.
            "open_classes": listing.for_home(timezone.now()),
        },
    )


@require_GET
@caching.public_page
def community_detail(request: HttpRequest, slug: str) -> HttpResponse:
    community = get_object_or_404(
        Community.objects.select_related("subdistrict__district"), slug=slug
    )
    compounds = list(community.compounds.order_by("-population", "name"))
    return render(
        request,
        "communities/community_detail.html",
        {
            "community": community,
            "compounds": compounds,
            "compound_population": sum(c.population for c in compounds),
            "compound_households": sum(c.households for c in compounds),
            **community_panels(community, compounds),
            "open_classes": listing.for_community(community, timezone.now()),
        },
    )


@require_GET
@caching.public_page
def facility_detail(request: HttpRequest, slug: str) -> HttpResponse:
    now = timezone.localtime()
    context = detail_context(slug, now)
    # The classes meeting here, with their seats (one query; never in a content-version cache).
    classes_here, more_classes = listing.for_facility(context["facility"], now)
    return render(
        request,
        "facilities/detail.html",
        {**context, "classes_here": classes_here, "more_classes": more_classes},
    )


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    """Who I am here: my memberships and the communities they let me keep or read."""
    memberships = Membership.objects.filter(user=request.user).select_related(
        "community", "subdistrict__district", "district"
    )
    scope = access.scope_for(request.user)
    area = (
        Community.objects.readable_by(request.user)
        .select_related("subdistrict__district")
        .annotate(compound_count=Count("compounds"))
        .order_by("subdistrict__district__code", "subdistrict__code", "name")
    )
    # A resident's profile (residents.models), when this account has one.
    resident = (
        Resident.objects.filter(user=request.user).select_related("compound__community").first()
    )
    return render(
        request,
        "communities/account.html",
        {
            "memberships": memberships,
            "scope": scope,
            "area": area,
            "resident": resident,
            "two_step_on": request.user.is_verified(),
            "two_step_required": bool(memberships) or request.user.is_staff,
        },
    )


@dataclass(frozen=True)
class CoverageRow:
    category: Category
    total: int
    covered: int
    uncovered: list[coverage.Nearest]
    farthest: coverage.Nearest | None
    share: int  # % of the compounds' residents within walking distance


def community_panels(community: Community, compounds: list[ResidentialCompound]) -> dict:
    """The community's facilities by category, and for each required category whether its
    compounds lie within walking distance of one — in four queries."""
    categories = list(Category.objects.all())
    own = list(
        community.facilities.visible()
        .select_related("category")
        .order_by("category__sort_order", "name")
    )
    by_category = [
        (category, list(group)) for category, group in groupby(own, key=lambda f: f.category)
    ]
    required = [c for c in categories if c.required]
    rows = []
    walked = None
    # Facilities up to twice the widest walk away are loaded, so an uncovered compound can be
    # told how far its nearest one is.
    search_m = 2 * max((c.distance_m for c in required), default=0)
    if compounds and required:
        widest = search_m
        lats = [c.latitude for c in compounds]
        lngs = [c.longitude for c in compounds]
        south, _n, west, _e = geo.bounding_box((min(lats), min(lngs)), widest)
        _s, north, _w, east = geo.bounding_box((max(lats), max(lngs)), widest)
        # Plain rows, not model instances: a city community has some 300 facilities around.
        nearby = list(
            Facility.objects.operating()
            .filter(latitude__range=(south, north), longitude__range=(west, east))
            .order_by()
            .values_list("id", "name", "latitude", "longitude", "category_id")
        )
        codes = {c.pk: c.code for c in categories}
        further = defaultdict(list)
        if nearby:
            through = Facility.other_categories.through.objects.filter(
                facility_id__in=[row[0] for row in nearby]
            )
            for facility_id, category_id in through.values_list("facility_id", "category_id"):
                further[facility_id].append(codes[category_id])
        supplies = [
            coverage.Supply(pk, name, (lat, lng), frozenset([codes[category], *further[pk]]))
            for pk, name, lat, lng, category in nearby
        ]
        demands = [coverage.Demand(c.pk, c.name, c.point, c.population) for c in compounds]
        walked = walking.for_district(community.subdistrict.district_id)
        streets = walked.streets if walked is not None else None
        if streets is not None:
            gates = CompoundGate.objects.filter(compound__in=compounds).values_list(
                "compound_id", "latitude", "longitude"
            )
        result = coverage.coverage(
            demands,
            supplies,
            [(c.code, c.distance_m) for c in required],
            streets,
            list(gates) if streets is not None else (),
        )
        for category, cat_coverage in zip(required, result, strict=True):
            rows.append(
                CoverageRow(
                    category,
                    len(cat_coverage.nearest),
                    len(cat_coverage.covered),
                    sorted(
                        cat_coverage.uncovered,
                        key=lambda n: -(n.distance_m or float("inf")),
                    ),
                    cat_coverage.farthest,
                    round(100 * cat_coverage.covered_population / cat_coverage.population)
                    if cat_coverage.population
                    else 0,
                )
            )
    return {
        "facilities_by_category": by_category,
        "coverage_rows": rows,
        "search_m": search_m,
        "walked": walked,
    }
