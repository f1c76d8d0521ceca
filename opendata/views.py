"""The open-data API under /api/hsds/: our public data as Open Referral HSDS 3.1, read-only JSON.

Only what residents see on the public pages goes out: facilities that serve residents (open or
closed for a while), the courses of terms that have not ended with their classes in those
facilities, communities, categories. Nothing about people: no resident, enrolment, wish, staff
member, idle room or audit record is read here.

Query strings are validated by a form; a bad one answers 400 with the reasons as JSON, never 500.
Each view reads a fixed number of queries whatever the page size, and the database does the
counting, ordering and cutting of pages: a page reads its own rows only, so a city of 50,000
facilities answers as fast as a district of a few hundred. A document's id holds its keys
(``hsds.key_of``), so looking one up is one indexed query.
"""

import functools
import hashlib
import heapq
import json
import operator
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path

from django.apps import apps
from django.core.exceptions import TooManyFieldsSent
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Greatest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from communities.models import Community
from courses.models import Course, CourseClass
from facilities import matching
from facilities.models import Category, Facility
from facilities.views import upcoming_exceptions
from opendata import hsds, openapi
from opendata.query import Chained, Problem, paged, parse
from portal import caching

CACHE_SECONDS = 300
JSON = {"ensure_ascii": False}  # names as they are: UTF-8, not \u escapes
SCHEMA_DIR = Path(__file__).resolve().parent / "hsds_schema"


def api(view: Callable[..., dict]) -> Callable:
    """A JSON endpoint: GET (and HEAD) only, open to every origin, cached for a few minutes by
    whoever reads it; problems answer as JSON too.

    The server keeps each answer in the shared cache for the current minute, under the content
    version (``portal.caching``, which any edit of places, facilities or hours moves on), so a
    crawler paging through the city costs the database once a minute, not once a request. The
    address, host and scheme are in the key: documents hold absolute URLs. Only answers that
    succeeded are kept; class seats are at most a minute old, as on the course pages."""

    @csrf_exempt  # nothing here writes: a POST meets 405, not a CSRF page
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            if request.method not in ("GET", "HEAD"):
                raise Problem(405, _("This API is read-only: use GET."))
            address = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
            body = caching.this_minute(
                "api",
                request.scheme,
                request.get_host(),
                address,
                build=lambda: json.dumps(
                    view(request, *args, **kwargs), cls=DjangoJSONEncoder, **JSON
                ).encode(),
            )
            response = HttpResponse(body, content_type="application/json")
            patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
        except TooManyFieldsSent:
            response = _problem(Problem(400, _("Too many query parameters.")))
        except Problem as problem:
            response = _problem(problem)
        if response.status_code == 405:
            response["Allow"] = "GET, HEAD"
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapper


def _problem(problem: Problem) -> JsonResponse:
    body = {"error": problem.message}
    if problem.fields:
        body["fields"] = problem.fields
    return JsonResponse(body, status=problem.status, json_dumps_params=JSON)


def _category_of_term(id_: str) -> tuple[str, int] | None:
    """The code and key of the category whose taxonomy term has this id (there are a few
    dozen categories, and a term's id is made from the code, which outlives the key)."""
    categories = Category.objects.values_list("code", "pk")
    return next((c for c in categories if hsds.term_id(c[0]) == id_), None)


# ---- what is public, and what the rows show ----


def _last_event(label: str, column: str) -> Subquery:
    """When the audit trail (portal.audit) last recorded a change to a row that ``column`` ties
    to the outer row: the data's own clock, which sees every edit, import and deletion."""
    events = apps.get_model(label).objects.filter(**{column: OuterRef("pk")})
    return Subquery(events.order_by("-pgh_created_at").values("pgh_created_at")[:1])


def public_facilities() -> QuerySet[Facility]:
    return Facility.objects.operating()


def public_classes(today: date) -> QuerySet[CourseClass]:
    """Classes of terms that have not ended, meeting in a public facility."""
    return CourseClass.objects.filter(
        course__term__ends_on__gte=today, facility__in=public_facilities()
    )


def public_courses(today: date) -> QuerySet[Course]:
    return Course.objects.filter(Exists(public_classes(today).filter(course=OuterRef("pk"))))


# What makes a facility's or a course's data change, and the column that ties each to it.
FACILITY_EVENTS = [
    ("facilities.OpeningHoursEvent", "facility_id"),
    ("facilities.HoursExceptionEvent", "facility_id"),
    ("facilities.SeniorPriceEvent", "facility_id"),
]
COURSE_EVENTS = [("courses.CourseEvent", "pgh_obj_id"), ("courses.CourseClassEvent", "course_id")]


def _facilities_changed() -> Greatest:
    return Greatest("updated_at", *(_last_event(*event) for event in FACILITY_EVENTS))


def _courses_changed() -> Greatest:
    return Greatest(*(_last_event(*event) for event in COURSE_EVENTS))


def _changed_since(after, events: list[tuple[str, str]]) -> Q:
    """Rows that an event since ``after`` touched: one pass over each event table's recent rows,
    rather than every row's latest event worked out and compared."""
    return functools.reduce(
        operator.or_,
        (
            Q(pk__in=apps.get_model(label).objects.filter(pgh_created_at__gte=after).values(column))
            for label, column in events
        ),
    )


def _listed_facilities() -> QuerySet[Facility]:
    """Public facilities with what a service shows of them."""
    return (
        public_facilities()
        .select_related("community__subdistrict__district")
        .annotate(changed=_facilities_changed())
    )


def _listed_courses(today: date) -> QuerySet[Course]:
    return (
        public_courses(today)
        .select_related("term__community__subdistrict__district")
        .annotate(changed=_courses_changed())
    )


def _full_facility(pk: int, today: date) -> Facility | None:
    return (
        _listed_facilities()
        .select_related("category")
        .prefetch_related("other_categories", "hours", "senior_prices", upcoming_exceptions(today))
        .filter(pk=pk)
        .first()
    )


def _classes_of(course: Course, today: date) -> QuerySet[CourseClass]:
    return (
        public_classes(today)
        .filter(course=course)
        .select_related("facility__community__subdistrict__district")
        .order_by("weekday", "starts_at", "level", "pk")
    )


def _services(query: dict, today: date) -> tuple[QuerySet[Facility], QuerySet[Course]]:
    """The facilities and the courses that match the query, as services."""
    facilities, courses = public_facilities(), public_courses(today)
    if text := query["search"]:
        categories = list(Category.objects.all())
        terms = [
            matching.terms_for(c.code, c.name_zh, c.name_en, tuple(c.word_list)) for c in categories
        ]

        def category_ids(word: str) -> list[int]:
            codes = matching.matching_codes(word, terms)
            return [c.pk for c in categories if c.code in codes]

        facilities = facilities.search(text, category_ids)
        courses = courses.filter(
            Q(name__icontains=text) | Q(description__icontains=text) | Q(provider__icontains=text)
        )
    if query["taxonomy_term_id"]:
        term = str(query["taxonomy_term_id"])
        category = _category_of_term(term)
        facilities = facilities.in_category(category[1]) if category else facilities.none()
        field_value = hsds.course_term_of(term)
        courses = courses.filter(**dict([field_value])) if field_value else courses.none()
    if query["organization_id"]:
        community = hsds.key_of("organization", str(query["organization_id"]))
        facilities = facilities.filter(community_id=community)
        courses = courses.filter(term__community_id=community)
    if after := query["modified_after"]:
        facilities = facilities.filter(
            Q(updated_at__gte=after) | _changed_since(after, FACILITY_EVENTS)
        )
        courses = courses.filter(_changed_since(after, COURSE_EVENTS))
    return facilities, courses


# ---- endpoints ----


@api
def index(request: HttpRequest) -> dict:
    return {
        "version": hsds.VERSION,
        "profile": hsds.PROFILE,
        "openapi_url": request.build_absolute_uri(reverse("opendata:openapi")),
    }


@api
def openapi_document(request: HttpRequest) -> dict:
    return openapi.document(request.build_absolute_uri(reverse("opendata:index")).rstrip("/"))


@api
def services(request: HttpRequest) -> dict:
    """Facilities (by name) and then courses (by name), in the list form."""
    query, today, absolute = parse(request), timezone.localdate(), request.build_absolute_uri
    facilities, courses = _services(query, today)
    # The page's keys first (the database orders and cuts only names and keys), then its rows.
    found = Chained(
        facilities.order_by("name", "pk").values_list("pk", flat=True),
        courses.order_by("name", "pk").values_list("pk", flat=True),
        shape=[lambda pk: ("facility", pk), lambda pk: ("course", pk)],
    )

    def render(page: list[tuple[str, int]]) -> list[dict]:
        rows = {
            "facility": _listed_facilities().in_bulk([pk for k, pk in page if k == "facility"]),
            "course": _listed_courses(today).in_bulk([pk for k, pk in page if k == "course"]),
        }
        make = {"facility": hsds.facility_service, "course": hsds.course_service}
        return [make[kind](rows[kind][pk], absolute) for kind, pk in page]

    return paged(query, found, render)


@api
def service(request: HttpRequest, id: str) -> dict:
    today, absolute = timezone.localdate(), request.build_absolute_uri
    if (pk := hsds.key_of("facility_service", id)) is not None:
        if facility := _full_facility(pk, today):
            return hsds.facility_service(facility, absolute, full=True)
    elif (pk := hsds.key_of("course_service", id)) is not None and (
        course := _listed_courses(today).filter(pk=pk).first()
    ):
        return hsds.course_service(course, absolute, classes=_classes_of(course, today))
    raise Problem(404, _("No service has this id."))


class _Nearest:
    """Facilities and course venues within reach, nearest first, as a sequence ``paged`` can
    count and cut: the database counts the facilities and hands over only as many of the
    nearest as the page reaches; the course venues (a few dozen) are merged in."""

    def __init__(self, facilities: QuerySet, venues: list[tuple[int, int, float]]) -> None:
        self.facilities, self.venues = facilities, venues

    def __len__(self) -> int:
        return self.facilities.count() + len(self.venues)

    def __getitem__(self, page: slice) -> list[tuple[int, int | None, float]]:
        nearest = ((pk, None, d) for pk, d in self.facilities[: page.stop])
        # Stable: a facility comes before a course at the same distance.
        merged = heapq.merge(nearest, self.venues, key=lambda key: key[2])
        return list(merged)[page]


@api
def services_at_locations(request: HttpRequest) -> dict:
    """Each facility's service in its place, then each course in each facility where its
    classes meet; with ``proximity``, those within that many metres of the point, nearest first,
    each with its ``distance`` in metres."""
    query, today = parse(request), timezone.localdate()
    facilities, courses = _services(query, today)
    pairs = (
        public_classes(today)
        .filter(course__in=courses)
        .order_by("course__name", "course_id", "facility__name", "facility_id")
        .values_list("facility_id", "course_id")
        .distinct()
    )
    if point := query["point"]:
        metres = query["proximity"]
        pairs = list(pairs)
        venues = dict(
            Facility.objects.filter(pk__in={f for f, _c in pairs})
            .near(point, metres)
            .values_list("pk", "distance")
        )
        found = _Nearest(
            facilities.near(point, metres).values_list("pk", "distance"),
            sorted(((f, c, venues[f]) for f, c in pairs if f in venues), key=lambda v: v[2]),
        )
    else:
        found = Chained(
            facilities.order_by("name", "pk").values_list("pk", flat=True),
            pairs,
            shape=[lambda pk: (pk, None, None), lambda pair: (*pair, None)],
        )

    def render(page: list[tuple[int, int | None, float | None]]) -> list[dict]:
        absolute = request.build_absolute_uri
        places = _listed_facilities().in_bulk({f for f, _c, _d in page})
        taught = _listed_courses(today).in_bulk({c for _f, c, _d in page if c})
        contents = []
        for f, c, distance in page:
            place = places[f]
            if c is None:
                item = hsds.facility_service_at_location(
                    place, absolute, service=hsds.facility_service(place, absolute)
                )
            else:
                item = hsds.course_service_at_location(
                    taught[c], place, absolute, service=hsds.course_service(taught[c], absolute)
                )
            if distance is not None:
                item["distance"] = round(distance)
            contents.append(item)
        return contents

    return paged(query, found, render)


@api
def service_at_location(request: HttpRequest, id: str) -> dict:
    today, absolute = timezone.localdate(), request.build_absolute_uri
    if (pk := hsds.key_of("facility_sal", id)) is not None:
        if place := _full_facility(pk, today):
            offered = hsds.facility_service(place, absolute)
            return hsds.facility_service_at_location(place, absolute, full=True, service=offered)
    elif (pair := hsds.key_of("course_sal", id)) is not None:
        course_id, facility_id = pair
        course = _listed_courses(today).filter(pk=course_id).first()
        classes = (
            [c for c in _classes_of(course, today) if c.facility_id == facility_id]
            if course
            else []
        )
        if classes:
            return hsds.course_service_at_location(
                course,
                classes[0].facility,
                absolute,
                classes=classes,
                service=hsds.course_service(course, absolute),
            )
    raise Problem(404, _("No service at a location has this id."))


def _communities(query: dict) -> QuerySet[Community]:
    communities = Community.objects.select_related("subdistrict__district")
    if text := query["search"]:
        communities = communities.search(text)
    return communities.order_by("subdistrict__district__code", "subdistrict__code", "name", "pk")


@api
def organizations(request: HttpRequest) -> dict:
    query, absolute = parse(request), request.build_absolute_uri
    return paged(
        query, _communities(query), lambda page: [hsds.organization(c, absolute) for c in page]
    )


@api
def organization(request: HttpRequest, id: str) -> dict:
    pk = hsds.key_of("organization", id)
    communities = Community.objects.select_related("subdistrict__district")
    community = communities.filter(pk=pk).first() if pk is not None else None
    if community is None:
        raise Problem(404, _("No organization has this id."))
    return hsds.organization(community, request.build_absolute_uri, full=True)


@api
def taxonomies(request: HttpRequest) -> dict:
    query = parse(request)
    found = hsds.taxonomies()
    if text := query["search"]:
        found = [t for t in found if text.lower() in (t["name"] + t["description"]).lower()]
    return paged(query, found, lambda page: page)


@api
def taxonomy(request: HttpRequest, id: str) -> dict:
    found = [t for t in hsds.taxonomies() if t["id"] == hsds.normal_id(id)]
    if not found:
        raise Problem(404, _("No taxonomy has this id."))
    return found[0]


@api
def taxonomy_terms(request: HttpRequest) -> dict:
    """The categories (a few dozen), then the courses' subjects and audiences."""
    query = parse(request)
    categories = Category.objects.all()
    if text := query["search"]:
        categories = categories.filter(
            Q(name_zh__icontains=text)
            | Q(name_en__icontains=text)
            | Q(code__icontains=text)
            | Q(words__icontains=text)
        )
    courses = hsds.course_terms()
    if text:
        courses = [t for t in courses if text.lower() in f"{t['name']} {t['description']}".lower()]
    terms = [hsds.taxonomy_term(c) for c in categories] + courses
    if taxonomy := query["taxonomy_id"]:
        terms = [t for t in terms if t["taxonomy_id"] == str(taxonomy)]
    return paged(query, terms, lambda page: page)


@api
def taxonomy_term(request: HttpRequest, id: str) -> dict:
    id_ = hsds.normal_id(id)
    if field_value := hsds.course_term_of(id_):
        return hsds.course_term(*field_value, full=True)
    category = _category_of_term(id_)
    if category is None:
        raise Problem(404, _("No taxonomy term has this id."))
    return hsds.taxonomy_term(Category.objects.get(pk=category[1]), full=True)


@functools.cache
def _schemas() -> dict[str, Path]:
    """The standard's schemas this API's description refers to, by their path in hsds_schema/
    (the standard's own OpenAPI template there is not one of them)."""
    return {
        p.relative_to(SCHEMA_DIR).as_posix(): p
        for p in SCHEMA_DIR.rglob("*.json")
        if p.name != "openapi.json"
    }


@api
def schema(request: HttpRequest, name: str) -> dict:
    path = _schemas().get(name)
    if path is None:
        raise Problem(404, _("No schema has this name."))
    return json.loads(path.read_text(encoding="utf-8"))
