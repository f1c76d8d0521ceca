"""The open-data API under /api/hsds/: our public data as Open Referral HSDS 3.1, read-only JSON.

Only what residents see on the public pages goes out: facilities that serve residents (open or
closed for a while), the courses of terms that have not ended with their classes in those
facilities, communities, categories. Nothing about people: no resident, enrolment, wish, staff
member, idle room or audit record is read here.

Query strings are validated by a form; a bad one answers 400 with the reasons as JSON, never 500.
Each view reads a fixed number of queries whatever the page size: a list reads the keys of every
match first (a few hundred facilities at most: they are small), cuts the page out of them and
then reads the page's rows with what they show.
"""

import functools
import json
import uuid
from collections.abc import Callable, Iterable
from datetime import date
from functools import wraps
from pathlib import Path

from django.apps import apps
from django.core.exceptions import TooManyFieldsSent
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Greatest
from django.http import HttpRequest, JsonResponse
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
from opendata.query import Problem, paged, parse

CACHE_SECONDS = 300
JSON = {"ensure_ascii": False}  # names as they are: UTF-8, not \u escapes
SCHEMA_DIR = Path(__file__).resolve().parent / "hsds_schema"


def api(view: Callable[..., dict]) -> Callable:
    """A JSON endpoint: GET (and HEAD) only, open to every origin, cached for a few minutes;
    problems answer as JSON too."""

    @csrf_exempt  # nothing here writes: a POST meets 405, not a CSRF page
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> JsonResponse:
        try:
            if request.method not in ("GET", "HEAD"):
                raise Problem(405, _("This API is read-only: use GET."))
            response = JsonResponse(view(request, *args, **kwargs), json_dumps_params=JSON)
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


def _find(id_: str, pks: Iterable, make_id: Callable[..., str]):
    """The key whose HSDS id is ``id_`` (ids are one-way: we compare against each candidate's)."""
    for pk in pks:
        if make_id(*(pk if isinstance(pk, tuple) else (pk,))) == id_:
            return pk
    return None


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Problem(404, _("Nothing has this id.")) from None


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


def _facilities_changed() -> Greatest:
    return Greatest(
        "updated_at",
        _last_event("facilities.OpeningHoursEvent", "facility_id"),
        _last_event("facilities.HoursExceptionEvent", "facility_id"),
        _last_event("facilities.SeniorPriceEvent", "facility_id"),
    )


def _courses_changed() -> Greatest:
    return Greatest(
        _last_event("courses.CourseEvent", "pgh_obj_id"),
        _last_event("courses.CourseClassEvent", "course_id"),
    )


def _listed_facilities() -> QuerySet[Facility]:
    return Facility.objects.select_related("community__subdistrict__district").annotate(
        changed=_facilities_changed()
    )


def _listed_courses() -> QuerySet[Course]:
    return Course.objects.select_related("term__community__subdistrict__district").annotate(
        changed=_courses_changed()
    )


def _full_facility(pk: int, today: date) -> Facility:
    return (
        _listed_facilities()
        .select_related("category")
        .prefetch_related("other_categories", "hours", "senior_prices", upcoming_exceptions(today))
        .get(pk=pk)
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
        codes = matching.matching_codes(
            text,
            [
                matching.terms_for(c.code, c.name_zh, c.name_en, tuple(c.word_list))
                for c in categories
            ],
        )
        facilities = facilities.search(text, [c.pk for c in categories if c.code in codes])
        courses = courses.filter(
            Q(name__icontains=text) | Q(description__icontains=text) | Q(provider__icontains=text)
        )
    if query["taxonomy_term_id"]:
        categories = dict(Category.objects.values_list("code", "pk"))
        code = _find(str(query["taxonomy_term_id"]), categories, hsds.term_id)
        facilities = facilities.in_category(categories[code]) if code else facilities.none()
        courses = courses.none()  # courses carry no category
    if query["organization_id"]:
        community = _find(
            str(query["organization_id"]),
            Community.objects.values_list("pk", flat=True),
            hsds.organization_id,
        )
        facilities = facilities.filter(community_id=community)
        courses = courses.filter(term__community_id=community)
    if after := query["modified_after"]:
        facilities = facilities.alias(changed=_facilities_changed()).filter(changed__gte=after)
        courses = courses.alias(changed=_courses_changed()).filter(changed__gte=after)
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
    query, today = parse(request), timezone.localdate()
    facilities, courses = _services(query, today)
    keys = [
        ("facility", pk) for pk in facilities.order_by("name", "pk").values_list("pk", flat=True)
    ]
    keys += [("course", pk) for pk in courses.order_by("name", "pk").values_list("pk", flat=True)]

    def render(page: list[tuple[str, int]]) -> list[dict]:
        rows = {
            "facility": _listed_facilities().in_bulk(
                [pk for kind, pk in page if kind == "facility"]
            ),
            "course": _listed_courses().in_bulk([pk for kind, pk in page if kind == "course"]),
        }
        make = {"facility": hsds.facility_service, "course": hsds.course_service}
        return [make[kind](rows[kind][pk], request.build_absolute_uri) for kind, pk in page]

    return paged(query, keys, render)


@api
def service(request: HttpRequest, id: str) -> dict:
    id_, today, absolute = _uuid(id), timezone.localdate(), request.build_absolute_uri
    pk = _find(id_, public_facilities().values_list("pk", flat=True), hsds.facility_service_id)
    if pk is not None:
        return hsds.facility_service(_full_facility(pk, today), absolute, full=True)
    pk = _find(id_, public_courses(today).values_list("pk", flat=True), hsds.course_service_id)
    if pk is not None:
        course = _listed_courses().get(pk=pk)
        return hsds.course_service(course, absolute, classes=_classes_of(course, today))
    raise Problem(404, _("No service has this id."))


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
        .values_list("course__name", "course_id", "facility__name", "facility_id")
        .distinct()
    )
    if point := query["point"]:
        metres = query["proximity"]
        near = dict(facilities.near(point, metres).values_list("pk", "distance"))
        keys = [(pk, None, d) for pk, d in near.items()]
        pairs = list(pairs)
        venues = dict(
            Facility.objects.filter(pk__in={f for *_, f in pairs})
            .near(point, metres)
            .values_list("pk", "distance")
        )
        keys += [(f, c, venues[f]) for _n, c, _v, f in pairs if f in venues]
        keys.sort(key=lambda key: key[2])  # stable: facilities before courses at one distance
    else:
        keys = [
            (pk, None, None)
            for pk in facilities.order_by("name", "pk").values_list("pk", flat=True)
        ]
        keys += [(f, c, None) for _n, c, _v, f in pairs]

    def render(page: list[tuple[int, int | None, float | None]]) -> list[dict]:
        absolute = request.build_absolute_uri
        places = _listed_facilities().in_bulk({f for f, _c, _d in page})
        taught = _listed_courses().in_bulk({c for _f, c, _d in page if c})
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

    return paged(query, keys, render)


@api
def service_at_location(request: HttpRequest, id: str) -> dict:
    id_, today, absolute = _uuid(id), timezone.localdate(), request.build_absolute_uri
    pk = _find(id_, public_facilities().values_list("pk", flat=True), hsds.facility_sal_id)
    if pk is not None:
        place = _full_facility(pk, today)
        offered = hsds.facility_service(place, absolute)
        return hsds.facility_service_at_location(place, absolute, full=True, service=offered)
    pairs = public_classes(today).values_list("course_id", "facility_id").distinct()
    pair = _find(id_, pairs, hsds.course_sal_id)
    if pair is not None:
        course = _listed_courses().get(pk=pair[0])
        classes = [c for c in _classes_of(course, today) if c.facility_id == pair[1]]
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
    pk = _find(_uuid(id), Community.objects.values_list("pk", flat=True), hsds.organization_id)
    if pk is None:
        raise Problem(404, _("No organization has this id."))
    community = Community.objects.select_related("subdistrict__district").get(pk=pk)
    return hsds.organization(community, request.build_absolute_uri, full=True)


@api
def taxonomies(request: HttpRequest) -> dict:
    query = parse(request)
    found = [hsds.taxonomy()]
    if text := query["search"]:
        found = [t for t in found if text.lower() in (t["name"] + t["description"]).lower()]
    return paged(query, found, lambda page: page)


@api
def taxonomy(request: HttpRequest, id: str) -> dict:
    if _uuid(id) != hsds.TAXONOMY_ID:
        raise Problem(404, _("No taxonomy has this id."))
    return hsds.taxonomy()


@api
def taxonomy_terms(request: HttpRequest) -> dict:
    query = parse(request)
    categories = Category.objects.all()
    if query["taxonomy_id"] and str(query["taxonomy_id"]) != hsds.TAXONOMY_ID:
        categories = categories.none()
    if text := query["search"]:
        categories = categories.filter(
            Q(name_zh__icontains=text)
            | Q(name_en__icontains=text)
            | Q(code__icontains=text)
            | Q(words__icontains=text)
        )
    return paged(query, categories, lambda page: [hsds.taxonomy_term(c) for c in page])


@api
def taxonomy_term(request: HttpRequest, id: str) -> dict:
    code = _find(_uuid(id), Category.objects.values_list("code", flat=True), hsds.term_id)
    if code is None:
        raise Problem(404, _("No taxonomy term has this id."))
    return hsds.taxonomy_term(Category.objects.get(code=code), full=True)


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
